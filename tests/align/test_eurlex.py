"""EUR-Lex pairing on hand-made acts: units per mode, title queries, qrels per language pair."""

from __future__ import annotations

from dataclasses import replace

import pytest

from clirdata.align.eurlex import CheckedAct, EurlexPairing, act_units, pair_act, pair_acts
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


def test_pair_act_keeps_one_version_per_language_whatever_the_order():
    first, again = act("A", "en"), replace(act("A", "en", title="Another title"), source_uri="mem://zz")
    pairing = EurlexPairing(langs=("en", "fr"), query_lang="en")
    for order in ([first, again], [again, first]):
        paired = pair_act([CheckedAct(a) for a in (*order, act("A", "fr"))], pairing)
        assert [q["text"] for q in paired.queries["en"]] == ["A title"]  # mem://A_en sorts before mem://zz
        assert [row["_id"] for row in paired.corpus["en"]] == ["A:doc:en"]
        assert [(r.source_uri, r.stage, r.reason) for r in paired.rejects] == [("mem://zz", "pair", "duplicate-version")]
        assert paired.stats == {"versions": 2, "acts": 1, "queries": 1}


def test_pair_act_without_a_query_language_version_is_distractors_only():
    paired = pair_act([CheckedAct(act("B", "fr")), CheckedAct(act("B", "de"))], EurlexPairing())
    assert paired.queries == {} and paired.qrels == {} and paired.rejects == []
    assert {lang: [row["_id"] for row in rows] for lang, rows in paired.corpus.items()} == {
        "de": ["B:doc:de"], "fr": ["B:doc:fr"]}
    assert paired.stats == {"versions": 2, "acts": 0, "queries": 0}


def test_pair_acts_is_the_same_in_any_order():
    checked = [CheckedAct(act(celex, lang)) for celex in ("B", "A", "C") for lang in ("fr", "en", "de")]
    pairing = EurlexPairing()
    forward, backward = pair_acts(checked, pairing), pair_acts(list(reversed(checked)), pairing)
    assert (forward.corpus, forward.queries, forward.qrels) == (backward.corpus, backward.queries, backward.qrels)
    assert [row["_id"] for row in forward.corpus["de"]] == ["A:doc:de", "B:doc:de", "C:doc:de"]
    assert [q["corpus-id"] for q in forward.qrels["en_fr"]] == ["A:doc:fr", "B:doc:fr", "C:doc:fr"]
