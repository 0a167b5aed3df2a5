"""BEIR's on-disk layout from a built collection: corpus.jsonl, queries.jsonl, qrels/test.tsv.

BEIR's `GenericDataLoader(folder).load(split="test")` reads exactly these three files, so any
BEIR-based evaluation runs on one language pair of a clirdata build without conversion code.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq


def export_beir(out_dir: str | Path, query_lang: str, doc_lang: str, target: str | Path,
                queries_config: str = "queries", qrels_config: str = "qrels") -> dict[str, int]:
    """Write the `{query_lang}_{doc_lang}` pair of a build in BEIR's layout; returns row counts.

    Only queries with at least one qrel are written, as BEIR expects.
    """
    out_dir, target = Path(out_dir), Path(target)
    corpus_path, queries_path, qrels_path = _require(out_dir, [
        Path("corpus") / f"{doc_lang}.parquet", Path(queries_config) / f"{query_lang}.parquet",
        Path(qrels_config) / f"{query_lang}_{doc_lang}.parquet"])
    corpus = pq.read_table(corpus_path, columns=["_id", "title", "text"]).to_pylist()
    queries = pq.read_table(queries_path, columns=["_id", "text"]).to_pylist()
    qrels = pq.read_table(qrels_path).to_pylist()
    judged = {row["query-id"] for row in qrels}
    (target / "qrels").mkdir(parents=True, exist_ok=True)
    _write_jsonl(target / "corpus.jsonl", ({"_id": r["_id"], "title": r["title"] or "", "text": r["text"] or ""}
                                           for r in corpus))
    kept = [{"_id": r["_id"], "text": r["text"]} for r in queries if r["_id"] in judged]
    _write_jsonl(target / "queries.jsonl", kept)
    with open(target / "qrels" / "test.tsv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["query-id", "corpus-id", "score"])
        writer.writerows((row["query-id"], row["corpus-id"], row["score"]) for row in qrels)
    return {"corpus": len(corpus), "queries": len(kept), "qrels": len(qrels)}


def _require(out_dir: Path, relpaths: list[Path]) -> list[Path]:
    """The files of a finished build; FileNotFoundError says which is missing and why it may be.

    Without manifest.json (written last) the build did not finish: its files may be a partial set.
    """
    paths = [out_dir / relpath for relpath in relpaths]
    missing = next((path for path in paths if not path.is_file()), None)
    if not (out_dir / "manifest.json").is_file():
        also = f"; {missing} is missing too" if missing else ""
        raise FileNotFoundError(f"{out_dir / 'manifest.json'} not found: the build in {out_dir} did not finish "
                                f"(or is still running, or this is not a clirdata build), rerun it{also}")
    if missing is not None:
        raise FileNotFoundError(f"{missing} not found: the build in {out_dir} has no such language pair or "
                                f"config (its manifest.json lists the files it has)")
    return paths


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
