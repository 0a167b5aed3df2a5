"""Baseline retrieval on a built collection: BM25 (bm25s) or a dense model on every qrels split, scored with
ir-measures.

Each split `{q}_{d}` ranks the `d` corpus (title + text) for the queries judged in it, so the cross-lingual
split and its `{q}_{q}` upper bound sit side by side. Retrievers:
- `bm25`: queries and documents stemmed with the document language's Snowball stemmer (PyStemmer), no stop list;
- `bm25-plain`: bm25s's defaults (no stemming, its English stop list): the figures other tools quote;
- `dense:PATH`: a sentence-transformers model from a local folder, cosine similarity, exact search.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from clirdata.hub.card import config_splits
from clirdata.readers.splits import read_split

BM25_RETRIEVERS = ("bm25", "bm25-plain")
DENSE = "dense:"  # dense:PATH, a sentence-transformers model in a local folder
DEPTH = 100  # documents ranked per query
RECALL_CUTOFFS = (10, 20, 50, 100)
ENCODE_BATCH = 256  # texts a progress step; the model batches within it
OnRun = Callable[[str, int, int], None]      # (what runs now, runs done, runs in all)
OnEncode = Callable[[str, int, int], None]   # (what is encoded, texts done, texts in all)


def require_libraries(retrievers: tuple[str, ...]) -> None:
    """ImportError naming the first library the retrievers need that is not installed, and the extra that has it."""
    try:
        import ir_measures  # noqa: F401
        if any(r in BM25_RETRIEVERS for r in retrievers):
            import bm25s  # noqa: F401
            import Stemmer  # noqa: F401
    except ImportError as error:
        raise ImportError(f"{error}: pip install 'clirdata[eval]'") from error
    if any(r.startswith(DENSE) for r in retrievers):
        try:
            import sentence_transformers  # noqa: F401
        except ImportError as error:
            raise ImportError(f"{error}: pip install 'clirdata[dense]' (on a machine without a GPU, install "
                              "torch's CPU wheel first)") from error


def retriever_name(retriever: str) -> str:
    """The name results are kept under: `dense:` and the model folder's name, never the whole local path."""
    if retriever.startswith(DENSE):
        return DENSE + os.path.basename(os.path.normpath(retriever.removeprefix(DENSE)))
    return retriever


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


@dataclass(frozen=True)
class SplitTexts:
    """What a run of split `{q}_{d}` reads: the `d` corpus (ids, title + text), the judged queries, the qrels."""

    pair: str
    doc_ids: list[str]
    documents: list[str]
    query_ids: list[str]
    queries: list[str]
    qrels: list[tuple[str, str, int]]

    @property
    def doc_lang(self) -> str:
        return self.pair.partition("_")[2]


def read_split_texts(out_dir: str, pair: str) -> SplitTexts:
    """The texts and judgements of qrels split `pair` of OUT; queries in id order, a missing query text empty."""
    query_lang, _, doc_lang = pair.partition("_")
    corpus = read_split(out_dir, f"corpus/{doc_lang}", columns=["_id", "title", "text"]).to_pylist()
    qrels = [(row["query-id"], row["corpus-id"], int(row["score"]))
             for row in read_split(out_dir, f"qrels/{pair}").to_pylist()]
    judged = sorted({query_id for query_id, _, _ in qrels})
    texts = {row["_id"]: row["text"] for row in read_split(out_dir, f"queries/{query_lang}",
                                                            columns=["_id", "text"]).to_pylist()}
    return SplitTexts(pair, [row["_id"] for row in corpus],
                      [f"{row['title'] or ''} {row['text'] or ''}" for row in corpus],
                      judged, [texts.get(q, "") for q in judged], qrels)


def bm25_run(split: SplitTexts, retriever: str = "bm25", depth: int = DEPTH) -> SplitRun:
    """Rank the document-language corpus for every query judged in the split, by BM25."""
    bm25s = _bm25s()
    index = bm25s.BM25()
    index.index(_tokenize(split.documents, retriever, split.doc_lang), show_progress=False)
    found, scores = index.retrieve(_tokenize(split.queries, retriever, split.doc_lang),
                                   k=min(depth, len(split.doc_ids)), show_progress=False)
    ranking = {query_id: [(split.doc_ids[i], float(s)) for i, s in zip(ids, values, strict=True)]
               for query_id, ids, values in zip(split.query_ids, found, scores, strict=True)}
    return SplitRun(split.pair, ranking, split.qrels, len(split.doc_ids))


@dataclass
class DenseModel:
    """A sentence-transformers model from a local folder, and the corpus embeddings it has made (by language)."""

    path: str
    on_encode: OnEncode = lambda what, done, total: None
    corpora: dict = field(default_factory=dict)
    _model: object = None

    def encode(self, texts: list[str], what: str):
        """Unit-length embeddings of `texts`, a row each (float32), reported every ENCODE_BATCH texts."""
        import numpy as np

        if self._model is None:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # its weight-loading bar would cut through ours
            self._model = SentenceTransformer(self.path, local_files_only=True)
        parts = []
        for start in range(0, len(texts), ENCODE_BATCH):
            self.on_encode(what, start, len(texts))
            parts.append(self._model.encode(texts[start:start + ENCODE_BATCH], normalize_embeddings=True,
                                            convert_to_numpy=True, show_progress_bar=False))
        self.on_encode(what, len(texts), len(texts))
        if not parts:
            return np.zeros((0, self._model.get_embedding_dimension()), np.float32)
        return np.concatenate(parts).astype(np.float32)

    def corpus(self, split: SplitTexts):
        """The corpus embeddings of the split's document language, encoded once for every split that shares it."""
        if split.doc_lang not in self.corpora:
            self.corpora[split.doc_lang] = self.encode(split.documents, f"corpus/{split.doc_lang}")
        return self.corpora[split.doc_lang]


def dense_run(split: SplitTexts, model: DenseModel, depth: int = DEPTH) -> SplitRun:
    """Rank the corpus by cosine similarity to each query (exact search); ties go to the earlier document."""
    import numpy as np

    documents = model.corpus(split)
    queries = model.encode(split.queries, f"queries of {split.pair}")
    k = min(depth, len(split.doc_ids))
    ranking = {}
    for start in range(0, len(split.query_ids), ENCODE_BATCH):  # a block of queries x the corpus at a time
        scores = queries[start:start + ENCODE_BATCH] @ documents.T
        for query_id, row in zip(split.query_ids[start:start + ENCODE_BATCH], scores, strict=True):
            best = np.argsort(-row, kind="stable")[:k]
            ranking[query_id] = [(split.doc_ids[i], float(row[i])) for i in best]
    return SplitRun(split.pair, ranking, split.qrels, len(split.doc_ids))


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
             on_run: OnRun = lambda what, done, total: None, on_encode: OnEncode = lambda what, done, total: None,
             ) -> dict[str, dict[str, dict[str, float]]]:
    """{pair: {retriever name: {metric: value}}} for every qrels split (or `pairs`) of OUT."""
    pairs = pairs or sorted(config_splits(files).get("qrels", {}))
    models = {r: DenseModel(r.removeprefix(DENSE), on_encode) for r in retrievers if r.startswith(DENSE)}
    results: dict[str, dict[str, dict[str, float]]] = {}
    done, total = 0, len(pairs) * len(retrievers)
    for pair in pairs:
        split = read_split_texts(out_dir, pair)
        for retriever in retrievers:
            on_run(f"{retriever_name(retriever)} on {pair}", done, total)
            run = dense_run(split, models[retriever]) if retriever in models else bm25_run(split, retriever)
            results.setdefault(pair, {})[retriever_name(retriever)] = metrics_of(run)
            done += 1
    on_run("done", done, total)
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
                  "`bm25-plain`: bm25s's defaults; `dense:MODEL`: a sentence-transformers model, cosine similarity, "
                  "exact search). Metrics by ir-measures; RR@10 is MRR@10."]
    return "\n".join(lines)
