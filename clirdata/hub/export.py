"""A built collection in the layouts other tools read: BEIR (per language pair), TREC (topics and qrels), and
MTEB (a dataset folder of MTEB's configs with a ready task; see `clirdata.hub.mteb`).

BEIR: `DEST/{q}_{d}/corpus.jsonl`, `queries.jsonl` and `qrels/test.tsv` (with its header), what
`GenericDataLoader(DEST/{q}_{d}).load(split="test")` reads. TREC: `DEST/topics.{q}_{d}.txt` (classic
`<top>` topics: the queries judged in that pair) and `DEST/qrels.{q}_{d}.txt` (`query-id 0 doc-id relevance`,
what trec_eval, ir-measures and ranx read).
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from clirdata.hub.beir import export_beir, require_splits
from clirdata.hub.card import config_splits
from clirdata.hub.mteb import export_mteb
from clirdata.readers.splits import read_manifest, read_split
from clirdata.schemas.tables import sorted_rows

FORMATS = ("beir", "trec", "mteb")


def language_pairs(files: dict[str, int] | list[str], qrels_config: str = "qrels") -> list[tuple[str, str]]:
    """The (query language, document language) pairs that have qrels, from the manifest's file list."""
    pairs = config_splits(dict.fromkeys(files, 0)).get(qrels_config, {})
    return sorted(tuple(pair.partition("_")[::2]) for pair in pairs)


def export_trec(out_dir: str | Path, query_lang: str, doc_lang: str, target: str | Path,
                queries_config: str = "queries", qrels_config: str = "qrels") -> dict[str, int]:
    """Write `topics.{q}_{d}.txt` and `qrels.{q}_{d}.txt` for one pair; returns row counts.

    Topics are the queries with at least one qrel, in id order; every qrel line is `qid 0 docid score`.
    """
    out, target = str(out_dir), Path(target)
    queries_split, qrels_split = require_splits(out, [f"{queries_config}/{query_lang}",
                                                      f"{qrels_config}/{query_lang}_{doc_lang}"])
    queries = sorted_rows(queries_config, read_split(out, queries_split, columns=["_id", "text"]).to_pylist())
    qrels = sorted_rows(qrels_config, read_split(out, qrels_split).to_pylist())
    judged = {row["query-id"] for row in qrels}
    topics = [row for row in queries if row["_id"] in judged]
    target.mkdir(parents=True, exist_ok=True)
    with open(target / f"topics.{query_lang}_{doc_lang}.txt", "w", encoding="utf-8") as handle:
        for row in topics:
            num, title = escape(row["_id"]), escape(row["text"])
            handle.write(f"<top>\n<num> {num} </num>\n<title> {title} </title>\n</top>\n\n")
    with open(target / f"qrels.{query_lang}_{doc_lang}.txt", "w", encoding="utf-8") as handle:
        for row in qrels:
            handle.write(f"{row['query-id']} 0 {row['corpus-id']} {row['score']}\n")
    return {"queries": len(topics), "qrels": len(qrels)}


def export_collection(out_dir: str | Path, fmt: str, target: str | Path, pairs: list[tuple[str, str]],
                      synthetic: bool = False) -> dict[str, dict[str, int]]:
    """Export every pair in `fmt` under `target`; returns {"{q}_{d}": row counts}."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    if fmt == "mteb":
        return export_mteb(str(out_dir), read_manifest(str(out_dir)), target, pairs, synthetic)
    prefix = "synthetic_" if synthetic else ""
    counts = {}
    for query_lang, doc_lang in pairs:
        name = f"{query_lang}_{doc_lang}"
        if fmt == "beir":
            counts[name] = export_beir(out_dir, query_lang, doc_lang, Path(target) / name,
                                       f"{prefix}queries", f"{prefix}qrels")
        else:
            counts[name] = export_trec(out_dir, query_lang, doc_lang, target, f"{prefix}queries", f"{prefix}qrels")
    return counts
