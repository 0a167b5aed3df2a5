"""Record and table shapes: the one place where they are defined."""

from clirdata.schemas.records import LangText, Origin, Outcome, RawItem, Record, Reject, sha256_hex
from clirdata.schemas.tables import CORPUS, QRELS, QUERIES, REJECTS, SCHEMAS, SORT_KEYS, empty_row

__all__ = [
    "CORPUS", "QRELS", "QUERIES", "REJECTS", "SCHEMAS", "SORT_KEYS",
    "LangText", "Origin", "Outcome", "RawItem", "Record", "Reject", "empty_row", "sha256_hex",
]
