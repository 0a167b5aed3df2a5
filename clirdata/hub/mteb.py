"""MTEB's layout: a dataset folder whose configs are MTEB's own (`{subset}-corpus|queries|qrels`, split `test`),
with only the columns MTEB reads, and `task.py`, an `AbsTaskRetrieval` over that folder for `mteb.evaluate`.

A build's OUT already loads in MTEB through the same config names, but MTEB's batching refuses a null in any
column (the empty `model` of keyword queries, say), so evaluating OUT needs a `dataset_transform` that keeps
`id`, `title` and `text`. This export writes what MTEB takes as it is.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from clirdata.hub.beir import pair_rows
from clirdata.hub.card import citation_bibtex, mteb_language, mteb_subset, task_class

_SCHEMAS = {
    "corpus": pa.schema([("_id", pa.string()), ("title", pa.string()), ("text", pa.string())]),
    "queries": pa.schema([("_id", pa.string()), ("text", pa.string())]),
    "qrels": pa.schema([("query-id", pa.string()), ("corpus-id", pa.string()), ("score", pa.int64())]),
}
_DOMAINS = {"eurlex": ["Legal", "Government", "Written"]}  # article sources: Academic


def export_mteb(out_dir: str, manifest: dict, target: str | Path, pairs: list[tuple[str, str]],
                synthetic: bool = False) -> dict[str, dict[str, int]]:
    """Write `target/{subset}/{corpus,queries,qrels}.parquet` per pair, the card and `task.py`; row counts by pair."""
    target = Path(target)
    prefix = "synthetic_" if synthetic else ""
    counts, subsets = {}, {}
    for query_lang, doc_lang in pairs:
        pair = f"{query_lang}_{doc_lang}"
        subset = subsets[pair] = mteb_subset(pair)
        corpus, queries, qrels = pair_rows(out_dir, query_lang, doc_lang, f"{prefix}queries", f"{prefix}qrels")
        (target / subset).mkdir(parents=True, exist_ok=True)
        for name, rows in (("corpus", corpus), ("queries", queries), ("qrels", qrels)):
            pq.write_table(pa.Table.from_pylist(rows, schema=_SCHEMAS[name]), target / subset / f"{name}.parquet")
        counts[pair] = {"corpus": len(corpus), "queries": len(queries), "qrels": len(qrels)}
    (target / "README.md").write_text(_card(manifest, subsets), encoding="utf-8")
    (target / "task.py").write_text(task_source(manifest, subsets), encoding="utf-8")
    return counts


def _card(manifest: dict, subsets: dict[str, str]) -> str:
    lines = ["---", "configs:"]
    for subset in sorted(subsets.values()):
        for name in ("corpus", "queries", "qrels"):
            lines += [f"- config_name: {subset}-{name}", "  data_files:", "  - split: test",
                      f"    path: {subset}/{name}.parquet"]
    lines += ["---", "", f"# {manifest['card']['title']} (MTEB layout)", "",
              "Written by `clirdata export --format mteb` from a clirdata build; the build's own card has the "
              "provenance, licences and statistics.", "", "```python", "import sys",
              "import mteb", "", 'sys.path.insert(0, "PATH_TO_THIS_FOLDER")',
              f"from task import {task_class(manifest)}", "",
              'model = mteb.get_model("sentence-transformers/all-MiniLM-L6-v2")',
              f"results = mteb.evaluate(model, {task_class(manifest)}())", "```", ""]
    return "\n".join(lines)


def task_source(manifest: dict, subsets: dict[str, str]) -> str:
    """`task.py`: an AbsTaskRetrieval whose metadata points at the folder the file is in."""
    eval_langs = {subset: [mteb_language(lang) for lang in pair.split("_")] for pair, subset in sorted(subsets.items())}
    license_id = manifest["card"]["license_id"]
    metadata = {
        "name": task_class(manifest),
        "description": manifest["card"]["title"],
        "type": "Retrieval", "category": "t2t", "modalities": ["text"], "eval_splits": ["test"],
        "eval_langs": eval_langs, "main_score": "ndcg_at_10",
        "domains": _DOMAINS.get(manifest.get("source", ""), ["Academic", "Written"]),
        "license": license_id if re.fullmatch(r"cc[-0-9a-z.]*", license_id) else "not specified",
        "annotations_creators": "derived", "sample_creation": "found", "dialect": [],
        "bibtex_citation": citation_bibtex(manifest),
    }
    fields = "\n".join(f"        {key}={json.dumps(value, ensure_ascii=False)}," for key, value in metadata.items())
    return f'''"""MTEB task over the folder this file is in (written by `clirdata export --format mteb`).

    sys.path.insert(0, "THIS_FOLDER"); from task import {task_class(manifest)}
    mteb.evaluate(model, {task_class(manifest)}())
"""

from pathlib import Path

from mteb.abstasks.retrieval import AbsTaskRetrieval
from mteb.abstasks.task_metadata import TaskMetadata

HERE = str(Path(__file__).resolve().parent)


class {task_class(manifest)}(AbsTaskRetrieval):
    metadata = TaskMetadata(
        dataset={{"path": HERE, "revision": "{manifest.get("inputs", {}).get("digest", "local")[:12]}"}},
        reference=None,
        date=None,
        task_subtypes=None,
{fields}
    )
'''
