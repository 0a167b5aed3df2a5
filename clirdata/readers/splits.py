"""Reading a built collection back: its manifest, and every shard of a split (`corpus/fr`) as one Arrow table.

The one reader of OUT's data files for the steps that come after a build (synthesis, export, statistics,
the CLI's summary), from any storage `readers.storage` reaches; a local file is read by Arrow from its path.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from clirdata.hub.card import SplitFile, complete_set, parse_split_file
from clirdata.readers import storage


def files_of_split(out_dir: str, stem: str) -> list[str]:
    """Relpaths of the files in OUT named like a file of split `stem` (plain or sharded), any set."""
    base = storage.join(out_dir, stem)
    directory = stem.rsplit("/", 1)[0] + "/" if "/" in stem else ""
    found = set()
    for pattern in (f"{base}.parquet", f"{base}-?????-of-?????.parquet"):
        for info in storage.match(pattern):
            relpath = directory + storage.basename(info.path)
            parsed = parse_split_file(relpath)
            if parsed is not None and parsed.stem == stem:
                found.add(relpath)
    return sorted(found)


def split_files(out_dir: str, split: str) -> list[str]:
    """The paths of the files of `split` (`corpus/fr`, `rejects`) in OUT, in shard order; [] when it has none.

    Raises IncompleteSplit (a FileNotFoundError) when they are not one complete set of shards.
    """
    stem = split.removesuffix(".parquet")
    return [storage.join(out_dir, relpath) for relpath in complete_set(stem, files_of_split(out_dir, stem))]


def read_split(out_dir: str, split: str, columns: list[str] | None = None) -> pa.Table:
    """All rows of `split` in OUT (every shard, in shard order) as one Arrow table.

    Raises FileNotFoundError when OUT has no file of that split, IncompleteSplit when a shard is missing.
    """
    paths = split_files(out_dir, split)
    if not paths:
        plain = storage.join(out_dir, SplitFile(split.removesuffix(".parquet")).relpath)
        raise FileNotFoundError(f"{plain} not found")
    return pa.concat_tables([_read_parquet(path, columns) for path in paths])


def _read_parquet(path: str, columns: list[str] | None) -> pa.Table:
    """One Parquet file; a local one by its path, for Arrow's own reader (Arrow reading through Beam's file
    objects, even from memory, made the process abort now and then at exit: "terminate called without an
    active exception", 2 runs in 16 of the sample build)."""
    if storage.is_local(path):
        return pq.read_table(storage.local_path(path), columns=columns)
    with storage.open_stored(path) as handle:
        return pq.read_table(handle, columns=columns)


def read_manifest(out_dir: str) -> dict:
    """The manifest of a finished build; raises FileNotFoundError when the build did not finish."""
    path = storage.join(out_dir, "manifest.json")
    if not storage.exists(path):
        raise FileNotFoundError(f"{path} not found: not a finished clirdata build")
    with storage.open_stored(path) as handle:
        return json.loads(handle.read().decode("utf-8"))
