"""Record and table shapes: the one place where they are defined."""

from clirdata.schemas.records import LangText, Origin, Outcome, RawItem, Record, Reject, sha256_hex
from clirdata.schemas.tables import CONFIG_TABLES, CORPUS, QRELS, QUERIES, REJECTS, SCHEMAS, SORT_KEYS, empty_row

__all__ = [
    "CONFIG_TABLES", "CORPUS", "QRELS", "QUERIES", "REJECTS", "SCHEMAS", "SORT_KEYS",
    "LangText", "Origin", "Outcome", "RawItem", "Record", "Reject", "empty_row", "sha256_hex",
]
