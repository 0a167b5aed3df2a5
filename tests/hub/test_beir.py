"""BEIR export: the three files GenericDataLoader reads, from a real build of the hand-made collection."""

from __future__ import annotations

import csv
import json

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


def test_missing_pair_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["export-beir", str(tmp_path), "--to", str(tmp_path / "b")],
                                obj={"beam_args": []})
    assert result.exit_code == 2 and "not found" in result.output
