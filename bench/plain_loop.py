#!/usr/bin/env python3
"""The baseline of issue 8: a plain loop that parses Érudit XML with hardened lxml, pairs and writes Parquet.

No Beam and no language check: each file is read (bounded), parsed by `parse_article` (the hardened
parse the pipeline uses), all records are paired by `pair_records` (the single-process reference of the
pipeline's pairing) and every table is written as one zstd Parquet file, rows sorted by the table's key,
with the pipeline's schemas. What `clirdata build erudit` costs beyond this is the price of the language
check, Beam and the output contract (card, manifest, ledger, shards).

    python bench/plain_loop.py DIR OUT     # prints one JSON object: counts, files, seconds per phase
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from clirdata.align.keywords import Collection, PairingOptions, pair_records
from clirdata.extractors.erudit import parse_article
from clirdata.extractors.xmlsafe import DEFAULT_MAX_BYTES
from clirdata.schemas import SCHEMAS, SORT_KEYS, Origin, RawItem, Record, Reject

SOURCE = "erudit"
# The same row groups as the pipeline's writer (clirdata.pipelines.writers.ROW_GROUP_ROWS), not imported
# from there because that module imports Beam, which the baseline must not pay for.
ROW_GROUP_ROWS = 10_000


@dataclass
class LoopResult:
    """What one run of the loop read, made and wrote, and the seconds each phase took."""

    articles: int = 0
    records: int = 0
    rejects: int = 0
    files: dict[str, int] = field(default_factory=dict)  # relpath -> rows
    seconds: dict[str, float] = field(default_factory=dict)  # phase -> seconds


def article_paths(folder: str) -> list[Path]:
    """Every `*.xml` under `folder` (recursively, as the pipeline lists a directory), sorted."""
    return sorted(Path(folder).rglob("*.xml"))


def read_item(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> RawItem | Reject:
    """The bytes of one file, read with a bound: a file over `max_bytes` is a Reject, its excess never read."""
    uri = str(path.resolve())
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as error:
        return Reject(SOURCE, uri, "read", "unreadable", f"{type(error).__name__}: {error.strerror or error}")
    if len(data) > max_bytes:
        return Reject(SOURCE, uri, "read", "too-large", f"more than {max_bytes} bytes (the limit)")
    return RawItem(Origin(SOURCE, uri), data)


def parsed_records(paths: list[Path], rejects: list[Reject]) -> list[Record]:
    """Read and parse every path; Rejects (unreadable, too large, bad XML) are appended to `rejects`."""
    records = []
    for path in paths:
        item = read_item(path)
        outcome = parse_article(item) if isinstance(item, RawItem) else item
        (rejects if isinstance(outcome, Reject) else records).append(outcome)
    return records


def table_rows(collection: Collection, rejects: list[Reject]) -> Iterator[tuple[str, str, list[dict]]]:
    """(relpath, table, rows) of every split, shaped as `clirdata.align.keywords.Collection.rows` makes them."""
    for table, splits in (("corpus", collection.corpus), ("queries", collection.queries),
                          ("qrels", collection.qrels)):
        for split, rows in splits.items():
            yield f"{table}/{split}.parquet", table, rows
    yield "rejects.parquet", "rejects", [asdict(reject) for reject in rejects]


def sort_key(table: str, row: dict) -> tuple[str, ...]:
    """The table's key columns as strings (None as ''), the order the pipeline's writer sorts rows in."""
    return tuple("" if row.get(column) is None else str(row[column]) for column in SORT_KEYS[table])


def write_table(path: Path, table: str, rows: list[dict]) -> int:
    """Write `rows` sorted by the table's key as one zstd Parquet file with the pipeline's schema."""
    ordered = sorted(rows, key=lambda row: sort_key(table, row))
    arrow_table = pa.Table.from_pylist(ordered, schema=SCHEMAS[table])
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(arrow_table, path, compression="zstd", row_group_size=ROW_GROUP_ROWS)
    return arrow_table.num_rows


def plain_loop(folder: str, out: str, options: PairingOptions | None = None) -> LoopResult:
    """Parse every article under `folder`, pair them, write the tables under `out`; no language check."""
    result = LoopResult()
    rejects: list[Reject] = []
    start = time.perf_counter()
    paths = article_paths(folder)
    records = parsed_records(paths, rejects)
    parsed = time.perf_counter()
    collection = pair_records(records, options or PairingOptions())
    rejects += collection.rejects
    paired = time.perf_counter()
    for relpath, table, rows in table_rows(collection, rejects):
        result.files[relpath] = write_table(Path(out) / relpath, table, rows)
    written = time.perf_counter()
    result.articles, result.records, result.rejects = len(paths), len(records), len(rejects)
    result.seconds = {"read+parse": round(parsed - start, 3), "pair": round(paired - parsed, 3),
                      "write": round(written - paired, 3), "total": round(written - start, 3)}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="a folder of Érudit Article XML files (bench/generate_erudit.py makes some)")
    parser.add_argument("out", help="the folder to write corpus/, queries/, qrels/ and rejects.parquet into")
    args = parser.parse_args(argv)
    if not Path(args.folder).is_dir():
        parser.error(f"{args.folder} is not a folder")
    print(json.dumps(asdict(plain_loop(args.folder, args.out))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
