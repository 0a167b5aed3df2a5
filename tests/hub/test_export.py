"""`clirdata export OUT --format beir|trec DEST`: every language pair of a real build of the hand-made collection."""

from __future__ import annotations

import csv
import json

from click.testing import CliRunner

from clirdata.cli import cli
from clirdata.hub.export import language_pairs
from tests import handmade


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), obj={"beam_args": []})


def test_language_pairs_are_read_from_the_qrels_files():
    files = {"corpus/fr.parquet": 3, "qrels/en_fr.parquet": 5, "qrels/en_en-00000-of-00002.parquet": 1,
             "qrels/en_en-00001-of-00002.parquet": 1, "synthetic_qrels/fr_fr.parquet": 2, "rejects.parquet": 0}
    assert language_pairs(files) == [("en", "en"), ("en", "fr")]
    assert language_pairs(files, "synthetic_qrels") == [("fr", "fr")]


def test_beir_export_writes_one_folder_per_pair(finished, tmp_path):
    result = invoke("export", str(finished), "--format", "beir", str(tmp_path / "beir"))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "beir").iterdir()) == ["en_en", "en_fr"]
    fr = tmp_path / "beir" / "en_fr"
    corpus = [json.loads(line) for line in (fr / "corpus.jsonl").read_text().splitlines()]
    assert {doc["_id"] for doc in corpus} == {f"{a}:fr" for a in handmade.EXPECTED_FR_DOCS}
    with open(fr / "qrels" / "test.tsv", newline="") as handle:
        qrels = list(csv.reader(handle, delimiter="\t"))
    assert qrels[0] == ["query-id", "corpus-id", "score"] and len(qrels) == 1 + 10
    en_corpus = (tmp_path / "beir" / "en_en" / "corpus.jsonl").read_text().splitlines()
    assert all(json.loads(line)["_id"].endswith(":en") for line in en_corpus)


def test_beir_export_of_one_pair_equals_export_beir(finished, tmp_path):
    assert invoke("export", str(finished), "--format", "beir", "--pairs", "en_fr", str(tmp_path / "new")).exit_code == 0
    assert invoke("export-beir", str(finished), "--to", str(tmp_path / "old")).exit_code == 0
    new, old = tmp_path / "new" / "en_fr", tmp_path / "old"
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["en_fr"]
    for name in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv"):
        assert (new / name).read_bytes() == (old / name).read_bytes()


def test_trec_export_writes_topics_and_four_column_qrels(finished, tmp_path):
    result = invoke("export", str(finished), "--format", "trec", str(tmp_path / "trec"))
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "trec" / "qrels.en_fr.txt").read_text().splitlines()
    assert len(lines) == 10
    assert all(len(line.split(" ")) == 4 and line.split(" ")[1] == "0" and line.split(" ")[3] == "1"
               for line in lines)
    assert {line.split(" ")[2] for line in lines} <= {f"{a}:fr" for a in handmade.EXPECTED_FR_DOCS}
    topics = (tmp_path / "trec" / "topics.en_fr.txt").read_text()
    assert topics.count("<top>") == topics.count("</top>") == len({line.split(" ")[0] for line in lines})
    for text in handmade.EXPECTED_QUERIES:
        assert f"<title> {text} </title>" in topics


def test_an_unknown_pair_is_named(finished, tmp_path):
    result = invoke("export", str(finished), "--format", "trec", "--pairs", "en_de", str(tmp_path / "t"))
    assert result.exit_code == 2
    assert "en_de" in result.output and "has" in result.output
    assert not (tmp_path / "t").exists()


def test_export_of_an_unfinished_build_is_refused(tmp_path):
    result = invoke("export", str(tmp_path), "--format", "beir", str(tmp_path / "b"))
    assert result.exit_code == 2 and "manifest.json not found" in result.output
