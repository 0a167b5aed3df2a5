"""Reading a split of a built collection back: every shard of `corpus/fr`, in order, as one Arrow table.

The one reader of OUT's data files for the steps that come after a build (synthesis, export, statistics,
the CLI's summary). Any Beam filesystem; a local file is read by Arrow from its path.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from clirdata.hub.card import SplitFile, complete_set, parse_split_file


def files_of_split(out_dir: str, stem: str) -> list[str]:
    """Relpaths of the files in OUT named like a file of split `stem` (plain or sharded), any set."""
    base = FileSystems.join(out_dir, stem)
    directory = stem.rsplit("/", 1)[0] + "/" if "/" in stem else ""
    found = set()
    for result in FileSystems.match([f"{base}.parquet", f"{base}-?????-of-?????.parquet"]):
        for metadata in result.metadata_list:
            relpath = directory + FileSystems.split(metadata.path)[1]
            parsed = parse_split_file(relpath)
            if parsed is not None and parsed.stem == stem:
                found.add(relpath)
    return sorted(found)


def split_files(out_dir: str, split: str) -> list[str]:
    """The paths of the files of `split` (`corpus/fr`, `rejects`) in OUT, in shard order; [] when it has none.

    Raises IncompleteSplit (a FileNotFoundError) when they are not one complete set of shards.
    """
    stem = split.removesuffix(".parquet")
    return [FileSystems.join(out_dir, relpath) for relpath in complete_set(stem, files_of_split(out_dir, stem))]


def read_split(out_dir: str, split: str, columns: list[str] | None = None) -> pa.Table:
    """All rows of `split` in OUT (every shard, in shard order) as one Arrow table.

    Raises FileNotFoundError when OUT has no file of that split, IncompleteSplit when a shard is missing.
    """
    paths = split_files(out_dir, split)
    if not paths:
        plain = FileSystems.join(out_dir, SplitFile(split.removesuffix(".parquet")).relpath)
        raise FileNotFoundError(f"{plain} not found")
    return pa.concat_tables([_read_parquet(path, columns) for path in paths])


def _read_parquet(path: str, columns: list[str] | None) -> pa.Table:
    """One Parquet file; a local one by its path, for Arrow's own reader (Arrow reading through Beam's file
    objects, even from memory, made the process abort now and then at exit: "terminate called without an
    active exception", 2 runs in 16 of the sample build)."""
    if FileSystems.get_scheme(path) is None:
        return pq.read_table(path, columns=columns)
    with FileSystems.open(path, compression_type="uncompressed") as handle:
        return pq.read_table(handle, columns=columns)
