"""Writing OUT/: one Parquet file per table split, rows sorted, written atomically.

Rows arrive as (relative path, row) pairs from anywhere in the pipeline; each file is
written once by one worker, sorted by the table's key, so the same input gives the same
bytes. A file is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import asdict

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from clirdata.align.keywords import Collection
from clirdata.schemas import SCHEMAS, SORT_KEYS, Reject


def table_of(relpath: str) -> str:
    """The table a file belongs to: `corpus/fr.parquet` -> corpus, `rejects.parquet` -> rejects."""
    return relpath.split("/", 1)[0].removesuffix(".parquet")


def reject_row(reject: Reject) -> tuple[str, dict]:
    return "rejects.parquet", asdict(reject)


def collection_rows(collection: Collection) -> Iterator[tuple[str, dict]]:
    """(relpath, row) for every row of every table of a collection."""
    for config, tables in (("corpus", collection.corpus), ("queries", collection.queries),
                           ("qrels", collection.qrels)):
        for split, rows in tables.items():
            for row in rows:
                yield f"{config}/{split}.parquet", row


def _sort_key(table: str):
    keys = SORT_KEYS[table]
    return lambda row: tuple("" if row.get(k) is None else str(row.get(k)) for k in keys)


def write_parquet(path: str, table: str, rows: list[dict]) -> int:
    """Write `rows` sorted by the table's key to `path` atomically; returns the row count."""
    rows = sorted(rows, key=_sort_key(table))
    arrow_table = pa.Table.from_pylist(rows, schema=SCHEMAS[table])
    temporary = f"{path}.tmp-{uuid.uuid4().hex}"
    directory = path.rsplit("/", 1)[0]
    if directory and not FileSystems.exists(directory):
        FileSystems.mkdirs(directory)
    with FileSystems.create(temporary) as handle:
        pq.write_table(arrow_table, handle, compression="zstd")
    FileSystems.rename([temporary], [path])
    return len(rows)


class _WriteFileFn(beam.DoFn):
    def __init__(self, out_dir: str):
        self._out_dir = out_dir

    def process(self, element):
        relpath, rows = element
        present = [row for row in rows if row is not None]
        count = write_parquet(FileSystems.join(self._out_dir, relpath), table_of(relpath), present)
        yield relpath, count


class WriteTables(beam.PTransform):
    """(relpath, row) pairs -> Parquet files under `out_dir`; emits (relpath, rows written).

    `expected` files are written even when no row reaches them (an empty split or no rejects).
    """

    def __init__(self, out_dir: str, expected: list[str]):
        super().__init__()
        self._out_dir = out_dir
        self._expected = sorted(expected)

    def expand(self, rows):
        placeholders = rows.pipeline | "expected files" >> beam.Create([(path, None) for path in self._expected])
        return (
            (rows, placeholders)
            | "merge" >> beam.Flatten()
            | "by file" >> beam.GroupByKey()
            | "write" >> beam.ParDo(_WriteFileFn(self._out_dir))
        )
