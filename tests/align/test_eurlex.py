"""EUR-Lex pairing on hand-made acts: units per mode, title queries, qrels per language pair."""

from __future__ import annotations

import pytest

from clirdata.align.eurlex import CheckedAct, EurlexPairing, act_units, pair_acts
from clirdata.schemas.legal import ActText, FidelityReport, Unit

UNITS = (Unit("rct_1", "recital", "(1) Whereas one."), Unit("art_1", "article", "", "Article 1 Scope"),
         Unit("001.001", "paragraph", "1. First."), Unit("001.002", "paragraph", "2. Second."),
         Unit("art_5a", "article", "", "Article 5a"), Unit("005a.001", "paragraph", "1. Inserted."),
         Unit("anx_I", "annex", "List.", "ANNEX I"))


def act(celex: str, lang: str, title: str = "A title") -> ActText:
    return ActText(celex, lang, "html", title, UNITS, "", f"mem://{celex}_{lang}", "0" * 64, "test")


def test_article_mode_merges_paragraphs_into_their_article():
    units = {u.id: u for u in act_units(act("X", "en"), "article")}
    assert list(units) == ["rct_1", "art_1", "art_5a", "anx_I"]
    assert units["art_1"].text == "1. First.\n2. Second." and units["art_1"].heading == "Article 1 Scope"
    assert units["art_5a"].text == "1. Inserted."  # 005a.001 belongs to art_5a, not to art_5


def test_document_mode_is_one_unit_with_every_heading_and_text():
    (doc,) = act_units(act("X", "en"), "document")
    assert doc.id == "doc" and doc.text.startswith("(1) Whereas one.\nArticle 1 Scope\n1. First.")


def test_title_queries_and_qrels_per_language_pair():
    report = FidelityReport(lcs=0.99, overlap_f1=1.0, order=1.0, fidelity=1.0)
    checked = [CheckedAct(act("A", "en"), report, 2, (("doc", 0.99, 1.0),)), CheckedAct(act("A", "fr")),
               CheckedAct(act("A", "de")), CheckedAct(act("B", "fr")),              # B: no English version
               CheckedAct(act("C", "en", title="")), CheckedAct(act("C", "fr"))]    # C: no title to ask
    collection = pair_acts(checked, EurlexPairing(langs=("en", "fr", "de"), query_lang="en"))
    assert [q["_id"] for q in collection.queries["en"]] == ["A:title:en"]
    assert collection.qrels == {"en_fr": [{"query-id": "A:title:en", "corpus-id": "A:doc:fr", "score": 1}],
                                "en_de": [{"query-id": "A:title:en", "corpus-id": "A:doc:de", "score": 1}]}
    assert [row["_id"] for row in collection.corpus["fr"]] == ["A:doc:fr", "B:doc:fr", "C:doc:fr"]
    english = collection.corpus["en"][0]
    assert (english["lcs"], english["fidelity"], english["unit_lcs"]) == (0.99, 1.0, 0.99)
    assert collection.corpus["fr"][0]["lcs"] is None  # no PDF: no score
    assert [(r.source_id, r.stage, r.reason) for r in collection.rejects] == [("C", "title-queries", "no-title")]
    assert collection.stats["acts"] == 2 and collection.stats["queries"] == 1


def test_query_language_must_be_a_collection_language():
    with pytest.raises(ValueError, match="query language"):
        EurlexPairing(langs=("fr", "de"), query_lang="en")
    with pytest.raises(ValueError, match="unit"):
        EurlexPairing(unit="paragraph")


def test_chapter_headings_are_in_the_document_row_and_signatures_in_no_row():
    whole = (Unit("cpt_I", "section", "", "CHAPTER I General provisions"), *UNITS[1:6],
             Unit("fnp_1", "final", "Done at Brussels. For the Council The President X. NAME"), UNITS[6])
    acted = ActText("X", "en", "html", "T", whole, "", "mem://X_en", "0" * 64, "test")
    (doc,) = act_units(acted, "document")
    assert doc.text.startswith("CHAPTER I General provisions\nArticle 1 Scope\n1. First.")
    assert "NAME" not in doc.text and doc.text.endswith("ANNEX I List.")
    assert [u.id for u in act_units(acted, "article")] == ["art_1", "art_5a", "anx_I"]
