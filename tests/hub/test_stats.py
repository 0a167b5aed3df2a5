"""`clirdata stats`: figures worked out by hand on a tiny collection, and the command on a real build."""

from __future__ import annotations

import json

import apache_beam as beam
import pytest
from click.testing import CliRunner

from clirdata.cli import cli
from clirdata.hub.stats import collection_stats, distribution, query_overlap, words
from clirdata.pipelines.runner import make_options, written_files
from clirdata.pipelines.writers import WriteTables
from clirdata.schemas import empty_row
from tests.sources.test_erudit import write_inputs


def test_words_are_lower_cased_tokens_of_any_script():
    assert words("L'Évaluation des élèves, 2024!") == ["l", "évaluation", "des", "élèves", "2024"]
    assert words(None) == [] and words("") == []


def test_distribution_by_hand():
    assert distribution([5, 1, 3, 2, 4]) == {"count": 5, "min": 1, "median": 3, "mean": 3.0, "p90": 5, "max": 5}
    # ten values: the 90th percentile by nearest rank is the 9th
    assert distribution(list(range(1, 11)))["p90"] == 9
    assert distribution([7]) == {"count": 1, "min": 7, "median": 7, "mean": 7.0, "p90": 7, "max": 7}
    assert distribution([]) == {}


@pytest.mark.parametrize(("query", "document", "share"), [
    ("machine learning, assessment", "Machine learning for the assessment of students", 1.0),
    ("machine learning, assessment", "L'apprentissage automatique pour l'évaluation", 0.0),
    ("machine learning, education", "machine learning in schools", 2 / 3),
    ("learning, learning", "learning", 1.0),  # distinct words
    ("", "anything", 0.0),
])
def test_query_overlap_is_the_share_of_distinct_query_words_in_the_document(query, document, share):
    assert query_overlap(query, document) == pytest.approx(share)


def test_collection_stats_of_a_tiny_collection(tmp_path):
    out = tmp_path / "out"

    def doc(doc_id, lang, title, text):
        return (f"corpus/{lang}.parquet", {**empty_row("corpus"), "_id": doc_id, "title": title, "text": text,
                                           "lang": lang})

    rows = [doc("a:fr", "fr", "Titre un", "le texte un"), doc("b:fr", "fr", "Titre deux", "texte"),
            doc("a:en", "en", "Title one", "text one"),
            ("queries/en.parquet", {**empty_row("queries"), "_id": "q1", "text": "title one", "lang": "en"}),
            ("queries/en.parquet", {**empty_row("queries"), "_id": "q2", "text": "text two words", "lang": "en"})]
    rows += [("qrels/en_fr.parquet", {"query-id": q, "corpus-id": d, "score": 1})
             for q, d in (("q1", "a:fr"), ("q1", "b:fr"), ("q2", "b:fr"))]
    rows += [("qrels/en_en.parquet", {"query-id": "q1", "corpus-id": "a:en", "score": 1})]
    with beam.Pipeline(options=make_options()) as pipeline:
        _ = pipeline | beam.Create(rows) | WriteTables(str(out), ["rejects.parquet"])
    stats = collection_stats(str(out), written_files(str(out)))
    # words of title + text: a:fr "titre un le texte un" 5, b:fr "titre deux texte" 3
    assert stats["corpus"]["fr"] == {"rows": 2, "words": {"count": 2, "min": 3, "median": 4.0, "mean": 4.0, "p90": 5,
                                                          "max": 5}}
    assert stats["queries"]["en"]["words"]["max"] == 3
    en_fr = stats["qrels"]["en_fr"]
    assert (en_fr["rows"], en_fr["queries"], en_fr["documents"]) == (3, 2, 2)
    assert en_fr["relevant_per_query"]["max"] == 2 and en_fr["queries_per_document"]["max"] == 2
    assert en_fr["overlap"] == {"mean": 0.0, "queries_fully_in_a_relevant_document": 0}  # no English word in French
    # en_en: q1 "title one" against a:en "Title one text one": both words found
    assert stats["qrels"]["en_en"]["overlap"] == {"mean": 1.0, "queries_fully_in_a_relevant_document": 1}


def test_stats_command_prints_and_puts_the_figures_in_the_card(tmp_path):
    out = tmp_path / "out"
    runner = CliRunner()
    built = runner.invoke(cli, ["build", "erudit", str(write_inputs(tmp_path / "in", with_bad=False)),
                                "--out", str(out)], obj={"beam_args": []})
    assert built.exit_code == 0, built.output
    result = runner.invoke(cli, ["stats", str(out), "--json"], obj={"beam_args": []})
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stats"] == figures
    assert figures["qrels"]["en_en"]["overlap"]["mean"] > figures["qrels"]["en_fr"]["overlap"]["mean"]
    assert figures["qrels"]["en_fr"]["rows"] == manifest["files"]["qrels/en_fr.parquet"]
    card = (out / "README.md").read_text()
    assert "## Statistics" in card and "| en_fr | 10 |" in card
    assert not (out / ".clirdata" / "lock").exists()


def test_stats_of_an_unfinished_build_is_refused(tmp_path):
    result = CliRunner().invoke(cli, ["stats", str(tmp_path)], obj={"beam_args": []})
    assert result.exit_code == 2 and "manifest.json not found" in result.output
