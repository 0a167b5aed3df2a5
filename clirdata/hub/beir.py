"""BEIR's on-disk layout from a built collection: corpus.jsonl, queries.jsonl, qrels/test.tsv.

BEIR's `GenericDataLoader(folder).load(split="test")` reads exactly these three files, so any
BEIR-based evaluation runs on one language pair of a clirdata build without conversion code.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from clirdata.readers import storage
from clirdata.readers.splits import read_split, split_files
from clirdata.schemas.tables import sorted_rows


def export_beir(out_dir: str | Path, query_lang: str, doc_lang: str, target: str | Path,
                queries_config: str = "queries", qrels_config: str = "qrels") -> dict[str, int]:
    """Write the `{query_lang}_{doc_lang}` pair of a build in BEIR's layout; returns row counts.

    Only queries with at least one qrel are written, as BEIR expects. Each split is read whole (every
    shard) and its rows sorted by key, so the files are the same whether the build was sharded or not.
    """
    target = Path(target)
    corpus, kept, qrels = pair_rows(str(out_dir), query_lang, doc_lang, queries_config, qrels_config)
    (target / "qrels").mkdir(parents=True, exist_ok=True)
    _write_jsonl(target / "corpus.jsonl", corpus)
    _write_jsonl(target / "queries.jsonl", kept)
    with open(target / "qrels" / "test.tsv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["query-id", "corpus-id", "score"])
        writer.writerows((row["query-id"], row["corpus-id"], row["score"]) for row in qrels)
    return {"corpus": len(corpus), "queries": len(kept), "qrels": len(qrels)}


def pair_rows(out: str, query_lang: str, doc_lang: str, queries_config: str = "queries",
              qrels_config: str = "qrels") -> tuple[list[dict], list[dict], list[dict]]:
    """The rows of one pair as retrieval tools take them, sorted by key: the corpus (`_id`, `title`, `text`; a
    missing title or text is ""), the queries judged at least once (`_id`, `text`), and the qrels."""
    corpus_split, queries_split, qrels_split = require_splits(out, [
        f"corpus/{doc_lang}", f"{queries_config}/{query_lang}", f"{qrels_config}/{query_lang}_{doc_lang}"])
    corpus = sorted_rows("corpus", read_split(out, corpus_split, columns=["_id", "title", "text"]).to_pylist())
    queries = sorted_rows(queries_config, read_split(out, queries_split, columns=["_id", "text"]).to_pylist())
    qrels = sorted_rows(qrels_config, read_split(out, qrels_split, columns=["query-id", "corpus-id", "score"])
                        .to_pylist())
    judged = {row["query-id"] for row in qrels}
    return ([{"_id": r["_id"], "title": r["title"] or "", "text": r["text"] or ""} for r in corpus],
            [{"_id": r["_id"], "text": r["text"]} for r in queries if r["_id"] in judged], qrels)


def require_splits(out_dir: str, splits: list[str]) -> list[str]:
    """The splits, when OUT is a finished build that has them all; FileNotFoundError says which is missing and why.

    Without manifest.json (written last) the build did not finish: its files may be a partial set. A split
    whose shards are not one complete set raises IncompleteSplit (a FileNotFoundError) naming the shard.
    """
    missing = next((storage.join(out_dir, f"{split}.parquet") for split in splits
                    if not split_files(out_dir, split)), None)
    manifest = storage.join(out_dir, "manifest.json")
    if not storage.exists(manifest):
        also = f"; {missing} is missing too" if missing else ""
        raise FileNotFoundError(f"{manifest} not found: the build in {out_dir} did not finish "
                                f"(or is still running, or this is not a clirdata build), rerun it{also}")
    if missing is not None:
        raise FileNotFoundError(f"{missing} not found: the build in {out_dir} has no such language pair or "
                                f"config (its manifest.json lists the files it has)")
    return splits


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
