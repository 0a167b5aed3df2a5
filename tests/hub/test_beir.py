"""BEIR export: the three files GenericDataLoader reads, from a real build of the hand-made collection."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
from click.testing import CliRunner

from clirdata.cli import cli
from tests import handmade
from tests.pipelines.test_erudit import write_inputs


def test_export_writes_beir_layout(tmp_path):
    out, beir = tmp_path / "out", tmp_path / "beir"
    runner = CliRunner()
    built = runner.invoke(cli, ["build", "erudit", str(write_inputs(tmp_path / "in", with_bad=False)),
                                "--out", str(out)], obj={"beam_args": []})
    assert built.exit_code == 0, built.output
    result = runner.invoke(cli, ["export-beir", str(out), "--to", str(beir)], obj={"beam_args": []})
    assert result.exit_code == 0, result.output
    corpus = [json.loads(line) for line in (beir / "corpus.jsonl").read_text().splitlines()]
    queries = [json.loads(line) for line in (beir / "queries.jsonl").read_text().splitlines()]
    with open(beir / "qrels" / "test.tsv", newline="") as handle:
        qrels = list(csv.reader(handle, delimiter="\t"))
    assert {doc["_id"] for doc in corpus} == {f"{a}:fr" for a in handmade.EXPECTED_FR_DOCS}
    assert set(corpus[0]) == {"_id", "title", "text"}
    assert {q["text"] for q in queries} == set(handmade.EXPECTED_QUERIES)
    assert qrels[0] == ["query-id", "corpus-id", "score"] and len(qrels) == 1 + 10
    assert all(score == "1" for _, _, score in qrels[1:])


def test_an_empty_folder_is_not_a_finished_build(tmp_path):
    result = CliRunner().invoke(cli, ["export-beir", str(tmp_path), "--to", str(tmp_path / "b")],
                                obj={"beam_args": []})
    assert result.exit_code == 2
    assert f"{tmp_path / 'manifest.json'} not found" in result.output and "did not finish" in result.output
    assert "None" not in result.output
    assert not (tmp_path / "b").exists()


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    base = tmp_path_factory.mktemp("beir")
    out = base / "out"
    built = CliRunner().invoke(cli, ["build", "erudit", str(write_inputs(base / "in", with_bad=False)),
                                     "--out", str(out)], obj={"beam_args": []})
    assert built.exit_code == 0, built.output
    return out


def test_a_build_whose_manifest_is_missing_did_not_finish(finished, tmp_path):
    crashed = tmp_path / "crashed"
    shutil.copytree(finished, crashed)
    (crashed / "manifest.json").unlink()  # every data file is there, but the seal is not: a partial set
    result = CliRunner().invoke(cli, ["export-beir", str(crashed), "--to", str(tmp_path / "b")], obj={"beam_args": []})
    assert result.exit_code == 2 and "did not finish" in result.output and "missing too" not in result.output
    assert not (tmp_path / "b").exists()


def test_a_pair_the_build_does_not_have_is_named(finished, tmp_path):
    result = CliRunner().invoke(cli, ["export-beir", str(finished), "--to", str(tmp_path / "b"), "--doc-lang", "de"],
                                obj={"beam_args": []})
    assert result.exit_code == 2
    assert f"{finished / 'corpus' / 'de.parquet'} not found" in result.output and "no such language pair" in result.output
    synthetic = CliRunner().invoke(cli, ["export-beir", str(finished), "--to", str(tmp_path / "b"), "--synthetic"],
                                   obj={"beam_args": []})
    assert synthetic.exit_code == 2 and "synthetic_queries" in synthetic.output
