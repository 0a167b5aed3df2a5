"""Column names and Arrow types of every table clirdata writes (the output contract).

Every split of a config shares one schema, so `datasets` can load any split from the
card's `configs:` alone. IDs are strings and qrels scores int64 (BEIR and MTEB take any integer; ranx wants int64).
"""

from __future__ import annotations

import itertools
import json

import pyarrow as pa

CORPUS = pa.schema(
    [
        ("_id", pa.string()),
        ("title", pa.string()),
        ("text", pa.string()),
        ("lang", pa.string()),
        ("source", pa.string()),
        ("source_id", pa.string()),
        ("unit", pa.string()),
        ("doi", pa.string()),
        ("url", pa.string()),
        ("license", pa.string()),
        ("journal", pa.string()),
        ("year", pa.int32()),
        ("keywords", pa.list_(pa.string())),
        # EUR-Lex: the scores of the language version's PDF against its HTML, and of this row's own
        # stretch of PDF text (LEMUR's LCS per unit); null where there was no PDF.
        ("lcs", pa.float64()),
        ("fidelity", pa.float64()),
        ("unit_lcs", pa.float64()),
        ("unit_fidelity", pa.float64()),
    ]
)

QUERIES = pa.schema(
    [
        ("_id", pa.string()),
        ("text", pa.string()),
        ("lang", pa.string()),
        ("kind", pa.string()),
        ("source_id", pa.string()),
        ("model", pa.string()),
        ("prompt_version", pa.string()),
    ]
)

QRELS = pa.schema(
    [
        ("query-id", pa.string()),
        ("corpus-id", pa.string()),
        ("score", pa.int64()),
    ]
)

REJECTS = pa.schema(
    [
        ("source", pa.string()),
        ("source_uri", pa.string()),
        ("source_id", pa.string()),
        ("stage", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
    ]
)

# The key that orders each table's rows, so that the same input gives the same bytes.
SORT_KEYS: dict[str, tuple[str, ...]] = {
    "corpus": ("_id",),
    "queries": ("_id",),
    "qrels": ("query-id", "corpus-id"),
    "rejects": ("stage", "source_uri", "reason", "source_id", "detail"),
    "synthetic_queries": ("_id",),
    "synthetic_qrels": ("query-id", "corpus-id"),
}

SCHEMAS: dict[str, pa.Schema] = {
    "corpus": CORPUS,
    "queries": QUERIES,
    "qrels": QRELS,
    "rejects": REJECTS,
    # LLM-written queries live in configs of their own, apart from the test queries.
    "synthetic_queries": QUERIES,
    "synthetic_qrels": QRELS,
}


# The tables written as `{table}/{split}.parquet`, each a config of the dataset card.
CONFIG_TABLES: tuple[str, ...] = ("corpus", "queries", "qrels", "synthetic_queries", "synthetic_qrels")

_COLUMNS: dict[str, tuple[str, ...]] = {table: tuple(schema.names) for table, schema in SCHEMAS.items()}


def empty_row(table: str) -> dict:
    """A row of `table` with every column set to None: callers fill what they know."""
    return dict.fromkeys(_COLUMNS[table])


# The order of rows in a data file, part of the output contract (same input -> same bytes).

def row_key(table: str, row: dict) -> tuple[str, ...]:
    """A row's key: the table's sort columns (`_id`; query-id, corpus-id; ...) as strings, None as ''."""
    return tuple("" if row.get(column) is None else str(row.get(column)) for column in SORT_KEYS[table])


def _content(row: dict) -> str:
    return json.dumps(row, sort_keys=True, default=str)


def sorted_rows(table: str, rows: list[dict]) -> list[dict]:
    """Rows by the table's key; rows that share a key (never expected) by their full content, for stable bytes."""
    keyed = sorted(((row_key(table, row), row) for row in rows), key=lambda pair: pair[0])
    ordered: list[dict] = []
    for _, group in itertools.groupby(keyed, key=lambda pair: pair[0]):
        same_key = [row for _, row in group]
        ordered += sorted(same_key, key=_content) if len(same_key) > 1 else same_key
    return ordered
