"""CLIRudit keyword pairing against the hand-made collection in tests/handmade.py."""

from __future__ import annotations

import pytest

from clirdata.align.keywords import PairingOptions, keyword_combinations, pair_records
from tests import handmade


def relevant(collection, split: str) -> dict[str, set[str]]:
    """{query text: {article ids}} for one qrels split."""
    text_of = {q["_id"]: q["text"] for q in collection.queries["en"]}
    result: dict[str, set[str]] = {text: set() for text in text_of.values()}
    for qrel in collection.qrels[split]:
        assert qrel["score"] == 1
        result[text_of[qrel["query-id"]]].add(qrel["corpus-id"].split(":")[0])
    return result


def test_keyword_queries_match_the_hand_worked_collection():
    collection = pair_records(handmade.records(), PairingOptions("en", "fr", "keywords", 3))
    assert relevant(collection, "en_fr") == {t: fr for t, (fr, _) in handmade.EXPECTED_QUERIES.items()}
    assert relevant(collection, "en_en") == {t: en for t, (_, en) in handmade.EXPECTED_QUERIES.items()}
    assert {row["source_id"] for row in collection.corpus["fr"]} == handmade.EXPECTED_FR_DOCS
    assert {row["source_id"] for row in collection.corpus["en"]} == handmade.EXPECTED_EN_DOCS
    assert {(r.source_id, r.stage, r.reason) for r in collection.rejects} == handmade.EXPECTED_REJECTS
    assert len(collection.qrels["en_fr"]) == 10
    assert len(collection.qrels["en_en"]) == 6


def test_ids_are_stable_and_order_independent():
    options = PairingOptions("en", "fr", "keywords", 3)
    forward = pair_records(handmade.records(), options)
    backward = pair_records(list(reversed(handmade.records())), options)
    assert forward.queries == backward.queries
    assert forward.qrels == backward.qrels
    assert forward.corpus == backward.corpus
    assert all(q["_id"].startswith("kw:en:") and len(q["_id"]) == 22 for q in forward.queries["en"])
    assert forward.corpus["fr"][0]["_id"] == "a1:fr"


def test_title_mode_one_relevant_document_per_query():
    collection = pair_records(handmade.records(), PairingOptions("en", "fr", "title"))
    qrels = {(q["query-id"], q["corpus-id"]) for q in collection.qrels["en_fr"]}
    assert qrels == {(f"title:en:{a}", f"{a}:fr") for a in ("a1", "a2", "a3", "a5")}
    texts = {q["text"] for q in collection.queries["en"]}
    assert "Forest fires in a changing climate" in texts
    assert "en" not in collection.corpus  # no query-language documents in title mode


def test_two_keywords_per_query():
    collection = pair_records(handmade.records(), PairingOptions("en", "fr", "keywords", 2))
    texts = {q["text"] for q in collection.queries["en"]}
    assert "education, policy" in texts  # a5 has exactly two keywords
    # By hand: a1 gives the 6 pairs of {climate, forests, policy, quebec}; a3 and a6 add fire+climate,
    # fire+forests and fire+policy; a5 adds education+policy: 6 + 3 + 1 = 10.
    assert len(texts) == 10


def test_keyword_normalisation_folds_case_accents_spacing():
    record = handmade.records()[0]
    record.texts["en"] = type(record.texts["en"])(keywords=("Écologie  urbaine", "ecologie urbaine", "Ville", "eau"))
    combos = keyword_combinations(record, "en", 3)
    assert [keys for keys, _ in combos] == [("eau", "ecologie urbaine", "ville")]
    assert combos[0][1] == ("eau", "Écologie  urbaine", "Ville")


def test_bad_options_are_refused():
    with pytest.raises(ValueError):
        PairingOptions(mode="abstract")
    with pytest.raises(ValueError):
        PairingOptions(k=0)


def test_duplicate_ids_are_rejected_not_merged():
    records = handmade.records()
    collection = pair_records(records + [records[0]], PairingOptions())
    assert [(r.source_id, r.reason) for r in collection.rejects if r.reason == "duplicate-id"] == [("a1", "duplicate-id")]
