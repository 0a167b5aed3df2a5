"""Writing OUT/: each table split in shards with the Hub's names, rows sorted, written atomically; and reading it.

Rows arrive as (relpath, row) pairs (`corpus/fr.parquet`) from anywhere in the pipeline. A split's
shard count comes from its row count (ceil(rows / rows_per_shard), counted in the pipeline) and a
row's shard from a stable hash of its key: a worker holds one shard's rows while it writes them, never
a whole split, and the same input gives the same bytes on every runner and worker count. One shard
keeps the plain name (`corpus/fr.parquet`); more are `corpus/fr-00000-of-00004.parquet` ... Each file
is written under a temporary name and renamed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import uuid
from collections.abc import Iterator
from dataclasses import asdict

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystem import BeamIOError
from apache_beam.io.filesystems import FileSystems

from clirdata.hub.card import MAX_SHARDS, parse_split_file, shard_relpath
from clirdata.pipelines.manifest import PRIVATE_DIR, LedgerError, read_ledger, write_text_atomic
from clirdata.readers.splits import files_of_split
from clirdata.schemas import SCHEMAS, Reject
from clirdata.schemas.tables import row_key, sorted_rows

# Rows per shard, from a measurement (corpus rows with 1,200-character abstracts, like Érudit's; in-process
# runner, 2-core machine shared with other jobs): a shard costs the worker that writes it 5-7 kB a row at its
# peak (peak RSS of one shard against many small ones, at 20k and 40k rows); a row is 1.7 kB in Arrow and
# 0.66 kB in zstd Parquet. 100,000 rows: ~0.6 GB on the writing worker, a ~170 MB Arrow table (datasets
# pushes 500 MB shards to the Hub) and a ~66 MB file.
ROWS_PER_SHARD = 100_000
# Rows per Parquet row group: the Hub's viewer reads whole row groups and refuses those over ~286 MiB in
# memory (it advises 100-300 MB); 10,000 rows stays far below that even for long EUR-Lex units.
ROW_GROUP_ROWS = 10_000
_LOG = logging.getLogger("clirdata")


@functools.lru_cache(maxsize=4096)
def table_of(relpath: str) -> str:
    """The table a file belongs to: `corpus/fr.parquet` -> corpus, `rejects-00000-of-00002.parquet` -> rejects."""
    parsed = parse_split_file(relpath)
    stem = parsed.stem if parsed else relpath.removesuffix(".parquet")
    return stem.split("/", 1)[0]


def reject_row(reject: Reject) -> tuple[str, dict]:
    return "rejects.parquet", asdict(reject)


# --- Which shard a row goes to -------------------------------------------------------------------------

def shard_of(key: tuple[str, ...], count: int) -> int:
    """The shard (0 <= shard < count) of a key: BLAKE2b of its JSON, the same in every process and Python."""
    if count == 1:
        return 0
    encoded = json.dumps(list(key), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(encoded, digest_size=8).digest(), "big") % count


def shard_count(rows: int, rows_per_shard: int) -> int:
    """Shards of a split of `rows` rows: ceil(rows / rows_per_shard), at least one (an empty split is a file)."""
    count = max(1, math.ceil(rows / rows_per_shard))
    if count > MAX_SHARDS:
        raise ValueError(f"{rows} rows at {rows_per_shard} a shard need {count} shards, more than the "
                         f"{MAX_SHARDS} that shard names can number: raise rows_per_shard")
    return count


@functools.lru_cache(maxsize=4096)
def split_stem(relpath: str) -> str:
    """`corpus/fr.parquet` -> `corpus/fr`: the split a pipeline row is addressed to, by its plain file name."""
    parsed = parse_split_file(relpath)
    if parsed is None or parsed.count != 1:
        raise ValueError(f"{relpath!r} is not the plain file name of a split (`corpus/fr.parquet`)")
    return parsed.stem


def _with_shard(element: tuple[str, dict], counts: dict[str, int]) -> tuple[tuple[str, int, int], dict]:
    relpath, row = element
    stem = split_stem(relpath)
    count = counts[stem]
    return (stem, shard_of(row_key(table_of(relpath), row), count), count), row


def _every_shard(element: tuple[str, int]) -> Iterator[tuple[tuple[str, int, int], None]]:
    stem, count = element
    for index in range(count):
        yield (stem, index, count), None


class AssignShards(beam.PTransform):
    """(relpath, row) -> ((split, shard, shards), row), plus ((split, shard, shards), None) for every shard.

    The shard count of each split is its row count (a CombinePerKey, used as a side input) divided by
    `rows_per_shard`; the placeholders make every shard, and every `expected` split, a file even when empty.
    """

    def __init__(self, expected: list[str], rows_per_shard: int = ROWS_PER_SHARD):
        super().__init__()
        if rows_per_shard < 1:
            raise ValueError(f"rows_per_shard must be at least 1, not {rows_per_shard}")
        self._expected = sorted({split_stem(relpath) for relpath in expected})
        self._rows_per_shard = rows_per_shard

    def expand(self, rows):
        rows_per_shard = self._rows_per_shard
        expected = rows.pipeline | "expected splits" >> beam.Create([(stem, 0) for stem in self._expected])
        counted = (rows
                   | "rows per file" >> beam.combiners.Count.PerKey()
                   | "by split" >> beam.MapTuple(lambda relpath, n: (split_stem(relpath), n)))
        counts = ((counted, expected)
                  | "with expected" >> beam.Flatten()
                  | "rows per split" >> beam.CombinePerKey(sum)
                  | "shards per split" >> beam.MapTuple(lambda stem, n: (stem, shard_count(n, rows_per_shard))))
        keyed = rows | "shard of row" >> beam.Map(_with_shard, counts=beam.pvalue.AsDict(counts))
        placeholders = counts | "every shard" >> beam.FlatMap(_every_shard)
        return (keyed, placeholders) | "rows and shards" >> beam.Flatten()


# --- Writing a shard -----------------------------------------------------------------------------------

def ensure_directory(directory: str) -> None:
    """Create `directory` unless it exists; another worker writing a shard there may create it first."""
    if not directory or FileSystems.exists(directory):
        return
    try:
        FileSystems.mkdirs(directory)
    except (OSError, BeamIOError):
        if not FileSystems.exists(directory):
            raise


def write_parquet(path: str, table: str, rows: list[dict]) -> int:
    """Write `rows` sorted by the table's key to `path` atomically; returns the row count."""
    arrow_table = pa.Table.from_pylist(sorted_rows(table, rows), schema=SCHEMAS[table])
    temporary = f"{path}.tmp-{uuid.uuid4().hex}"
    ensure_directory(FileSystems.split(path)[0])
    with FileSystems.create(temporary) as handle:
        pq.write_table(arrow_table, handle, compression="zstd", row_group_size=ROW_GROUP_ROWS)
    FileSystems.rename([temporary], [path])
    return arrow_table.num_rows


class _WriteShardFn(beam.DoFn):
    def __init__(self, out_dir: str):
        self._out_dir = out_dir

    def process(self, element):
        (stem, index, count), rows = element
        relpath = shard_relpath(stem, index, count)
        present = [row for row in rows if row is not None]
        written = write_parquet(FileSystems.join(self._out_dir, relpath), table_of(relpath), present)
        yield stem, relpath, written


class _RemoveStaleFn(beam.DoFn):
    """After every shard of a split is written: delete that split's other files (another shard count) that
    the ledger says clirdata wrote, so OUT holds one set per split. Yields the relpaths removed."""

    def __init__(self, out_dir: str):
        self._out_dir = out_dir

    def process(self, element):
        stem, written = element
        stale = sorted(set(files_of_split(self._out_dir, stem)) - set(written))
        if not stale:
            return
        owned = _owned_files(self._out_dir)
        removable = [relpath for relpath in stale if relpath in owned]
        for relpath in sorted(set(stale) - set(removable)):
            _LOG.warning("%s is not in clirdata's ledger of %s: kept, but split %s now has two sets of files",
                         relpath, self._out_dir, stem)
        if removable:
            FileSystems.delete([FileSystems.join(self._out_dir, relpath) for relpath in removable])
        yield from removable


def _owned_files(out_dir: str) -> frozenset[str]:
    try:
        ledger = read_ledger(out_dir)
    except LedgerError as error:
        _LOG.warning("the ledger of %s is unreadable (%s): no stale shard is deleted", out_dir, error)
        return frozenset()
    return ledger.files if ledger else frozenset()


class WriteTables(beam.PTransform):
    """(relpath, row) pairs -> Parquet shards under `out_dir`; emits (relpath, rows written) for every file.

    `expected` files are written even when no row reaches them (an empty split or no rejects). A split's
    files from an earlier build with another shard count are removed once its new shards are all written.
    """

    def __init__(self, out_dir: str, expected: list[str], rows_per_shard: int = ROWS_PER_SHARD):
        super().__init__()
        self._out_dir = out_dir
        self._assign = AssignShards(expected, rows_per_shard)

    def expand(self, rows):
        written = (rows
                   | "assign shards" >> self._assign
                   | "by shard" >> beam.GroupByKey()
                   | "write" >> beam.ParDo(_WriteShardFn(self._out_dir)))
        _ = (written
             | "shard of split" >> beam.MapTuple(lambda stem, relpath, _rows: (stem, relpath))
             | "shards by split" >> beam.GroupByKey()
             | "remove stale shards" >> beam.ParDo(_RemoveStaleFn(self._out_dir)))
        return written | "files written" >> beam.MapTuple(lambda _stem, relpath, n: (relpath, n))


TALLIES_FILE = f"{PRIVATE_DIR}/tallies.json"


def _tallies_json(pairs: list[tuple[tuple[str, str], int]]) -> str:
    tallies: dict[str, dict[str, int]] = {}
    for (kind, name), n in sorted(pairs):
        tallies.setdefault(kind, {})[name] = n
    return json.dumps(tallies, sort_keys=True)


class WriteTallies(beam.PTransform):
    """((kind, name), n) -> summed per key in the workers -> OUT/.clirdata/tallies.json (one small file:
    a few hundred keys at most, licences and repair kinds, never a row per input)."""

    def __init__(self, out_dir: str):
        super().__init__()
        self._path = FileSystems.join(out_dir, TALLIES_FILE)

    def expand(self, tallies):
        return (tallies
                | "sum" >> beam.CombinePerKey(sum)
                | "all keys" >> beam.combiners.ToList()
                | "write" >> beam.Map(_write_tallies, self._path))


def _write_tallies(pairs: list[tuple[tuple[str, str], int]], path: str) -> None:
    write_text_atomic(path, _tallies_json(pairs))


def take_tallies(out_dir: str) -> dict[str, dict[str, int]]:
    """{kind: {name: n}} as the build's workers wrote them to OUT/.clirdata/tallies.json; the file is then
    deleted: it only carries them to the manifest, which keeps them."""
    path = FileSystems.join(out_dir, TALLIES_FILE)
    with FileSystems.open(path, compression_type="uncompressed") as handle:
        tallies = json.loads(handle.read().decode("utf-8"))
    FileSystems.delete([path])
    return tallies