"""Baseline retrieval on a built collection: BM25 (bm25s) on every qrels split, scored with ir-measures.

Each split `{q}_{d}` ranks the `d` corpus (title + text) for the queries judged in it, so the cross-lingual
split and its `{q}_{q}` upper bound sit side by side. Two BM25 variants:
- `bm25`: queries and documents stemmed with the document language's Snowball stemmer (PyStemmer), no stop list;
- `bm25-plain`: bm25s's defaults (no stemming, its English stop list): the figures other tools quote.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from clirdata.hub.card import config_splits
from clirdata.readers.splits import read_split

RETRIEVERS = ("bm25", "bm25-plain")
DEPTH = 100  # documents ranked per query
RECALL_CUTOFFS = (10, 20, 50, 100)


def require_libraries() -> None:
    """ImportError naming the first of bm25s, PyStemmer, ir-measures that is not installed."""
    import bm25s  # noqa: F401
    import ir_measures  # noqa: F401
    import Stemmer  # noqa: F401


def _bm25s():
    """bm25s, quiet: on import it sets its logger to DEBUG, which logs every index it builds."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


@dataclass(frozen=True)
class SplitRun:
    """One retriever's ranking of one qrels split: query id -> [(doc id, score)] best first, and the judgements."""

    pair: str
    ranking: dict[str, list[tuple[str, float]]]
    qrels: list[tuple[str, str, int]]
    corpus_size: int


def _stemmer(lang: str):
    import Stemmer

    from clirdata.checks.langid import language_name

    name = language_name(lang)
    return Stemmer.Stemmer(name) if name in Stemmer.algorithms() else None


def _tokenize(texts: list[str], retriever: str, lang: str):
    bm25s = _bm25s()
    if retriever == "bm25-plain":
        return bm25s.tokenize(texts, show_progress=False)
    return bm25s.tokenize(texts, stopwords=None, stemmer=_stemmer(lang), show_progress=False)


def bm25_run(out_dir: str, pair: str, retriever: str = "bm25", depth: int = DEPTH) -> SplitRun:
    """Rank the document-language corpus for every query judged in `qrels/{pair}`."""
    bm25s = _bm25s()
    query_lang, _, doc_lang = pair.partition("_")
    corpus = read_split(out_dir, f"corpus/{doc_lang}", columns=["_id", "title", "text"]).to_pylist()
    qrels = [(row["query-id"], row["corpus-id"], int(row["score"]))
             for row in read_split(out_dir, f"qrels/{pair}").to_pylist()]
    judged = sorted({query_id for query_id, _, _ in qrels})
    texts = {row["_id"]: row["text"] for row in read_split(out_dir, f"queries/{query_lang}",
                                                            columns=["_id", "text"]).to_pylist()}
    index = bm25s.BM25()
    index.index(_tokenize([f"{row['title'] or ''} {row['text'] or ''}" for row in corpus], retriever, doc_lang),
                show_progress=False)
    k = min(depth, len(corpus))
    found, scores = index.retrieve(_tokenize([texts.get(q, "") for q in judged], retriever, doc_lang), k=k,
                                   show_progress=False)
    ranking = {query_id: [(corpus[i]["_id"], float(s)) for i, s in zip(ids, values, strict=True)]
               for query_id, ids, values in zip(judged, found, scores, strict=True)}
    return SplitRun(pair, ranking, qrels, len(corpus))


def metrics_of(run: SplitRun) -> dict[str, float]:
    """nDCG@10, MRR@10 and Recall@k (k below the corpus size, and 100) by ir-measures, averaged over queries."""
    import ir_measures
    from ir_measures import RR, R, nDCG

    cutoffs = [k for k in RECALL_CUTOFFS if k < run.corpus_size] or [min(RECALL_CUTOFFS)]
    measures = [nDCG @ 10, RR @ 10, *(R @ k for k in cutoffs)]
    qrels = [ir_measures.Qrel(q, d, rel) for q, d, rel in run.qrels]
    scored = [ir_measures.ScoredDoc(q, d, s) for q, docs in run.ranking.items() for d, s in docs]
    values = ir_measures.calc_aggregate(measures, qrels, scored)
    return {str(measure): round(float(values[measure]), 4) for measure in measures}


def evaluate(out_dir: str, files: dict[str, int], retrievers: tuple[str, ...], pairs: list[str] | None = None,
             progress: Callable[[str], None] = lambda _: None) -> dict[str, dict[str, dict[str, float]]]:
    """{pair: {retriever: {metric: value}}} for every qrels split (or `pairs`) whose corpus and queries exist."""
    configs = config_splits(files)
    results: dict[str, dict[str, dict[str, float]]] = {}
    for pair in pairs or sorted(configs.get("qrels", {})):
        for retriever in retrievers:
            progress(f"{retriever} on {pair}")
            results.setdefault(pair, {})[retriever] = metrics_of(bm25_run(out_dir, pair, retriever))
    return results


def baselines_section(results: dict[str, dict[str, dict[str, float]]]) -> str:
    """The card's "Baselines" table: one row per split and retriever."""
    names = sorted({metric for by_retriever in results.values() for values in by_retriever.values()
                    for metric in values}, key=lambda m: (not m.startswith("nDCG"), not m.startswith("RR"), m))
    lines = ["| split | retriever | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for pair, by_retriever in results.items():
        for retriever, values in by_retriever.items():
            lines.append(f"| {pair} | {retriever} | " + " | ".join(str(values.get(m, "")) for m in names) + " |")
    lines += ["", "`clirdata eval` (bm25s; `bm25`: Snowball stemming in the document language, no stop list; "
                  "`bm25-plain`: bm25s's defaults). Metrics by ir-measures; RR@10 is MRR@10."]
    return "\n".join(lines)
