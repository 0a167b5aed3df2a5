"""CLIRudit keyword pairing against the hand-made collection in tests/handmade.py."""

from __future__ import annotations

import math
import time
import tracemalloc
from dataclasses import replace
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clirdata.align.keywords import (
    DEFAULT_MAX_KEYWORDS,
    DEFAULT_MAX_QUERIES_PER_ARTICLE,
    Holder,
    PairingOptions,
    combinations_exceed,
    first_of_id,
    keyword_combinations,
    keyword_query,
    pair_article,
    pair_records,
)
from clirdata.extractors.erudit import parse_article
from clirdata.extractors.text import fold_key
from clirdata.schemas import LangText, Origin, RawItem, Record
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


def assert_balanced(collection) -> None:
    """The stages' counts as pipelines/erudit.py reports them: in == out + rejected, for each."""
    by_stage = {stage: sum(r.stage == stage for r in collection.rejects) for stage in ("pair", "title-queries")}
    assert by_stage["pair"] + by_stage["title-queries"] == len(collection.rejects)
    assert collection.stats["records"] == collection.stats["documents"] + by_stage["pair"]
    if by_stage["title-queries"]:
        assert collection.stats["documents"] == collection.stats["queries"] + by_stage["title-queries"]
    assert collection.stats["documents"] == sum(len(rows) for lang, rows in collection.corpus.items()
                                                if lang == "fr")


def test_title_mode_one_relevant_document_per_query():
    collection = pair_records(handmade.records(), PairingOptions("en", "fr", "title"))
    qrels = {(q["query-id"], q["corpus-id"]) for q in collection.qrels["en_fr"]}
    assert qrels == {(f"title:en:{a}", f"{a}:fr") for a in ("a1", "a2", "a3", "a5")}
    texts = {q["text"] for q in collection.queries["en"]}
    assert "Forest fires in a changing climate" in texts
    assert "en" not in collection.corpus  # no query-language documents in title mode


def test_title_mode_rejects_an_article_without_a_query_language_title():
    collection = pair_records(handmade.records(), PairingOptions("en", "fr", "title"))
    # a6 has no English text: counted, named, with the language; a4 has no French abstract, as in keyword mode.
    assert sorted((r.source_id, r.stage, r.reason) for r in collection.rejects) == [
        ("a4", "pair", "no-fr-document"), ("a6", "title-queries", "no-title")]
    assert next(r.detail for r in collection.rejects if r.source_id == "a6") == "no title in 'en' to ask as its query"
    # a6's French document stays in the corpus as a distractor: it is relevant to no query.
    assert {row["source_id"] for row in collection.corpus["fr"]} == {"a1", "a2", "a3", "a5", "a6"}
    assert collection.stats == {"records": 6, "documents": 5, "queries": 4, "qrels": 4}
    assert_balanced(collection)


def test_keyword_mode_keeps_balance_with_every_kind_of_reject():
    records = handmade.records()
    collection = pair_records(records + [records[0]], PairingOptions(max_keywords=3))
    # a1 (4 keywords) and a6 (4) go over 3 keywords; a4 has no French abstract; a1 again is a duplicate.
    assert sorted((r.source_id, r.reason) for r in collection.rejects) == [
        ("a1", "duplicate-id"), ("a1", "too-many-keywords"), ("a4", "no-fr-document"), ("a6", "too-many-keywords")]
    assert {row["source_id"] for row in collection.corpus["fr"]} == {"a2", "a3", "a5"}
    # Only a2 and a3 give queries now, one combination each.
    assert {q["text"] for q in collection.queries["en"]} == {"Climate, policy, QUEBEC", "climate, fire, forests"}
    assert collection.stats["records"] == 7
    assert_balanced(collection)


def article_with_keywords(n: int, source_id: str = "k1") -> Record:
    texts = {"fr": LangText(title="Titre", abstract="Résumé."),
             "en": LangText(title="Title", keywords=tuple(f"keyword {i}" for i in range(n)))}
    return Record("erudit", source_id, f"mem://{source_id}.xml", "0" * 64, "test", "fr", texts)


@pytest.mark.parametrize("n, max_keywords, rejected", [(5, 5, False), (6, 5, True), (1, 1, False), (2, 1, True)])
def test_keyword_cap_is_inclusive(n, max_keywords, rejected):
    collection = pair_records([article_with_keywords(n)], PairingOptions(k=1, max_keywords=max_keywords))
    assert [r.reason for r in collection.rejects] == (["too-many-keywords"] if rejected else [])
    assert len(collection.queries["en"]) == (0 if rejected else n)
    assert_balanced(collection)


@pytest.mark.parametrize("n, k, limit, rejected", [
    (6, 3, 20, False),   # C(6, 3) = 20: exactly at the limit
    (6, 3, 19, True),
    (6, 6, 1, False),    # C(6, 6) = 1
    (2, 3, 1, False),    # fewer keywords than k: no combination at all, nothing to refuse
])
def test_query_cap_is_inclusive(n, k, limit, rejected):
    collection = pair_records([article_with_keywords(n)], PairingOptions(k=k, max_queries_per_article=limit))
    assert [r.reason for r in collection.rejects] == (["too-many-queries"] if rejected else [])
    assert len(collection.queries["en"]) == (0 if rejected else math.comb(n, k))
    assert_balanced(collection)


def test_query_cap_counts_distinct_keywords():
    record = article_with_keywords(0)
    record.texts["en"] = LangText(keywords=("Forêts", "forets", "FORÊTS ", "climat", "feu"))  # 3 distinct
    collection = pair_records([record], PairingOptions(k=3, max_queries_per_article=1))
    assert collection.rejects == [] and [q["text"] for q in collection.queries["en"]] == ["climat, feu, Forêts"]


@pytest.mark.parametrize("n, k", [(0, 1), (1, 1), (5, 0), (15, 3), (50, 3), (50, 4), (200, 3), (10, 5), (10, 10)])
def test_combinations_exceed_agrees_with_math_comb(n, k):
    for limit in (0, 1, 454, 455, 19_600, 20_000, 1_313_400, 10**9):
        assert combinations_exceed(n, k, limit) == (math.comb(n, k) > limit), (n, k, limit)


def test_combinations_exceed_stops_early_on_huge_inputs():
    start = time.perf_counter()
    assert combinations_exceed(10**9, 10**8, DEFAULT_MAX_QUERIES_PER_ARTICLE)  # C(n, k) has ~10^8 digits
    assert time.perf_counter() - start < 0.1


def test_defaults_leave_real_articles_alone():
    # Real Érudit articles have at most ~15 keywords a language: C(15, 3) = 455 queries.
    assert DEFAULT_MAX_KEYWORDS >= 15 and math.comb(15, 3) == 455
    assert math.comb(DEFAULT_MAX_KEYWORDS, 3) <= DEFAULT_MAX_QUERIES_PER_ARTICLE
    assert not combinations_exceed(15, 5, DEFAULT_MAX_QUERIES_PER_ARTICLE)
    collection = pair_records([article_with_keywords(15)], PairingOptions())
    assert collection.rejects == [] and len(collection.queries["en"]) == 455


def hostile_article(keywords: int) -> bytes:
    """An Érudit article as the extractor meets it, with thousands of English keywords."""
    motcles = "".join(f"<motcle>mot {i}</motcle>" for i in range(keywords))
    return (f'<article idproprio="h1" lang="fr"><liminaire><grtitre><titre>Titre</titre>'
            f'<titreparal lang="en">Title</titreparal></grtitre><resume lang="fr"><alinea>Résumé.</alinea></resume>'
            f'<grmotcle lang="en">{motcles}</grmotcle></liminaire></article>').encode()


@pytest.mark.parametrize("options, reason", [
    (PairingOptions(), "too-many-keywords"),
    (PairingOptions(max_keywords=5_000), "too-many-queries"),  # keyword cap lifted: the query cap still holds
])
def test_an_article_with_2000_keywords_is_a_quick_small_reject(options, reason):
    record = parse_article(RawItem(Origin("erudit", "mem://h1.xml"), hostile_article(2_000)))
    assert isinstance(record, Record) and len(record.texts["en"].keywords) == 2_000
    tracemalloc.start()
    start = time.perf_counter()
    collection = pair_records([record], options)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [(r.source_id, r.stage, r.reason) for r in collection.rejects] == [("h1", "pair", reason)]
    assert "2000" in collection.rejects[0].detail
    assert collection.queries["en"] == [] and collection.corpus["fr"] == []
    assert seconds < 0.5  # C(2000, 3) = 1.3 billion combinations were never made
    assert peak < 5_000_000
    assert_balanced(collection)


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


@pytest.mark.parametrize("bad", [dict(mode="abstract"), dict(k=0), dict(max_keywords=0),
                                 dict(max_queries_per_article=0)])
def test_bad_options_are_refused(bad):
    with pytest.raises(ValueError):
        PairingOptions(**bad)


def test_duplicate_ids_are_rejected_not_merged():
    records = handmade.records()
    collection = pair_records(records + [records[0]], PairingOptions())
    assert [(r.source_id, r.reason) for r in collection.rejects if r.reason == "duplicate-id"] == [("a1", "duplicate-id")]


# --- the per-group functions that Beam runs on each id and each combination ----------------------------

def test_first_of_id_keeps_the_first_by_uri_whatever_the_order():
    first = replace(handmade.records()[0], source_uri="mem://a0.xml")
    second = handmade.records()[0]  # mem://a1.xml
    for order in ([first, second], [second, first]):
        winner, rejects = first_of_id(order)
        assert winner is first
        assert [(r.source_uri, r.stage, r.reason, r.detail) for r in rejects] == [
            ("mem://a1.xml", "pair", "duplicate-id", "a1 seen before")]


def test_pair_article_keyword_mode_gives_documents_and_held_combinations():
    a1, _, _, a4, _, a6 = handmade.records()
    paired = pair_article(a1, PairingOptions())
    assert {lang: [row["_id"] for row in rows] for lang, rows in paired.collection.corpus.items()} == {
        "fr": ["a1:fr"], "en": ["a1:en"]}
    # C(4, 3) = 4 combinations of climate, policy, Quebec, forests; keys sorted, surface forms kept.
    assert [keys for keys, _ in paired.combinations] == [
        ("climate", "forests", "policy"), ("climate", "forests", "quebec"), ("climate", "policy", "quebec"),
        ("forests", "policy", "quebec")]
    assert paired.combinations[2][1] == Holder("a1", ("climate", "policy", "Quebec"), "a1:fr", "a1:en")
    assert pair_article(a6, PairingOptions()).combinations[0][1].query_doc_id == ""  # a6 has no English text
    assert (pair_article(a4, PairingOptions()).reason, pair_article(a4, PairingOptions()).stage) == (
        "no-fr-document", "pair")


def test_pair_article_title_mode_keeps_the_document_of_an_article_without_a_title():
    a1, a6 = handmade.records()[0], handmade.records()[5]
    asked = pair_article(a1, PairingOptions(mode="title")).collection
    assert asked.queries == {"en": [{**asked.queries["en"][0], "_id": "title:en:a1",
                                     "text": "Climate policies and the Quebec forest", "kind": "title"}]}
    assert asked.qrels == {"en_fr": [{"query-id": "title:en:a1", "corpus-id": "a1:fr", "score": 1}]}
    unasked = pair_article(a6, PairingOptions(mode="title"))
    assert [row["_id"] for row in unasked.collection.corpus["fr"]] == ["a6:fr"] and unasked.combinations == ()
    assert [(r.stage, r.reason) for r in unasked.collection.rejects] == [("title-queries", "no-title")]


def test_keyword_query_is_the_first_holders_words_and_every_holder_is_relevant():
    keys = ("climate", "forests", "policy")
    a6 = Holder("a6", ("climate", "forests", "policy"), "a6:fr", "")
    a1 = Holder("a1", ("Climate", "Forests", "Policy"), "a1:fr", "a1:en")
    collection = keyword_query(keys, [a6, a1], PairingOptions())
    (query,) = collection.queries["en"]
    assert (query["text"], query["source_id"], query["kind"]) == ("Climate, Forests, Policy", "a1", "keywords")
    assert [q["corpus-id"] for q in collection.qrels["en_fr"]] == ["a1:fr", "a6:fr"]
    assert [q["corpus-id"] for q in collection.qrels["en_en"]] == ["a1:en"]  # a6 has no English document
    same_language = keyword_query(keys, [a1], PairingOptions("en", "en"))
    assert list(same_language.qrels) == ["en_en"]


VOCABULARY = ("climate", "Climate", "CLIMATE ", "forêts", "forets", "policy", "fire", "water", "a, b")


@st.composite
def articles(draw) -> list[Record]:
    """A few articles, ids and uris drawn from small sets so that duplicates happen, keywords folding together."""
    result = []
    for _ in range(draw(st.integers(0, 8))):
        source_id = draw(st.sampled_from(["a", "b", "c", "d", "e"]))
        keywords = tuple(draw(st.lists(st.sampled_from(VOCABULARY), max_size=6)))
        fr = LangText(title=draw(st.sampled_from(["", "Titre"])), abstract=draw(st.sampled_from(["", "Résumé."])))
        en = LangText(title=draw(st.sampled_from(["", "Title"])), abstract="Abstract.", keywords=keywords)
        uri = f"mem://{source_id}-{draw(st.integers(0, 2))}.xml"
        result.append(Record("erudit", source_id, uri, draw(st.sampled_from(["0", "1"])), "test", "fr",
                             {"fr": fr, "en": en}))
    return result


@given(articles(), st.randoms(use_true_random=False), st.integers(1, 3))
def test_pairing_is_order_free_balanced_and_relevance_is_keyword_containment(records, rng, k):
    options = PairingOptions(k=k, max_keywords=5)
    collection = pair_records(records, options)
    shuffled = list(records)
    rng.shuffle(shuffled)
    again = pair_records(shuffled, options)
    assert (again.corpus, again.queries, again.qrels) == (collection.corpus, collection.queries, collection.qrels)
    assert sorted(map(repr, again.rejects)) == sorted(map(repr, collection.rejects))
    assert_balanced(collection)
    # Relevance worked out independently: each document's k-sets of folded keywords, inverted.
    kept = {row["source_id"] for row in collection.corpus["fr"]}
    holders: dict[frozenset, set] = {}
    for source_id in kept:
        winner = min((r for r in records if r.source_id == source_id),
                     key=lambda r: (r.source_uri, r.sha256, repr(r)))
        folded = {fold_key(word) for word in winner.texts["en"].keywords} - {""}
        for combo in combinations(sorted(folded), k):
            holders.setdefault(frozenset(combo), set()).add(f"{source_id}:fr")
    relevant: dict[str, set] = {}
    for qrel in collection.qrels["en_fr"]:
        relevant.setdefault(qrel["query-id"], set()).add(qrel["corpus-id"])
    assert len(collection.queries["en"]) == len(holders) == len(relevant)
    assert sorted(map(sorted, relevant.values())) == sorted(map(sorted, holders.values()))
