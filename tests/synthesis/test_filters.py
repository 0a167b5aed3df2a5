"""Query filters on hand-written cases; these cases are also what the thresholds were calibrated on."""

from __future__ import annotations

import pytest

from clirdata.synthesis.filters import (
    bad_length,
    copied,
    copied_fraction,
    copies_exemplar,
    near_duplicate,
    wrong_language,
)
from clirdata.synthesis.prompts import load_templates

TIKAL_TITLE = "Gestión del agua en Tikal"
TIKAL = (
    "Las excavaciones en Tikal han revelado un sistema de embalses que permitía almacenar el agua de "
    "lluvia durante la larga estación seca. Los mayas revestían el fondo de los depósitos con arcilla "
    "para limitar las filtraciones y utilizaban filtros de arena de cuarzo y zeolita para purificar el "
    "agua destinada al consumo."
)
GDPR_TITLE = "The right to erasure and search engines"
GDPR = (
    "Article 17 of the General Data Protection Regulation gives individuals the right to obtain from a "
    "controller the erasure of personal data concerning them without undue delay. The right is not "
    "absolute: it yields where processing is necessary for exercising freedom of expression."
)


@pytest.mark.parametrize(
    "query, lang",
    [
        ("How did the ancient Maya of Tikal keep their drinking water clean?", "en"),
        ("Comment les Mayas de Tikal purifiaient-ils leur eau potable ?", "fr"),
        ("Wie reinigten die Maya in Tikal ihr Trinkwasser?", "de"),
        ("¿Qué técnicas empleaban los mayas de Tikal para potabilizar el agua?", "es"),
        ("Como os maias de Tikal tornavam potável a água armazenada?", "pt"),
        ("Come purificavano l'acqua potabile i Maya di Tikal?", "it"),
        ("Tikal Maya?", "fr"),  # too short for langid to judge: passes this filter
    ],
)
def test_query_in_the_target_language_passes(query, lang):
    assert wrong_language(query, lang) is None


@pytest.mark.parametrize(
    "query, lang",
    [
        ("How did the ancient Maya of Tikal keep their drinking water clean?", "fr"),
        ("Comment les Mayas de Tikal purifiaient-ils leur eau potable ?", "en"),
        ("¿Qué técnicas empleaban los mayas de Tikal para potabilizar el agua?", "pt"),
    ],
)
def test_query_in_another_language_is_dropped(query, lang):
    assert wrong_language(query, lang) == "wrong-language"


@pytest.mark.parametrize(
    "query, reason",
    [
        ("Tikal water?", "too-short"),
        ("", "too-short"),
        ("Why did Tikal fall?", None),
        (" ".join(["word"] * 40) + "?", None),
        (" ".join(["word"] * 41) + "?", "too-long"),
    ],
)
def test_length_in_words(query, reason):
    assert bad_length(query) == reason


@pytest.mark.parametrize(
    "query",
    [
        "Los mayas revestían el fondo de los depósitos con arcilla para limitar las filtraciones?",
        "¿Gestión del agua en Tikal?",  # the title as a query
        "gestion del agua en TIKAL",  # case and accents do not hide a copy
        "¿Los mayas utilizaban filtros de arena de cuarzo y zeolita para purificar el agua?",
    ],
)
def test_copied_from_passage_or_title_is_dropped(query):
    assert copied(query, TIKAL, TIKAL_TITLE) == "copied"


def test_a_question_wrapped_around_a_copied_clause_is_dropped():
    query = "When does the right to obtain from a controller the erasure of personal data not apply?"
    assert copied_fraction(query, GDPR) == pytest.approx(12 / 16)
    assert copied(query, GDPR, GDPR_TITLE) == "copied"


@pytest.mark.parametrize(
    "query, passage, title",
    [
        ("¿Qué técnicas empleaban los mayas de Tikal para potabilizar el agua de sus reservas?", TIKAL, TIKAL_TITLE),
        ("How did the Maya of Tikal keep their stored drinking water clean?", TIKAL, TIKAL_TITLE),
        ("When can a request to have one's personal data deleted under the GDPR be refused?", GDPR, GDPR_TITLE),
        # borderline: reuses a phrase but asks its own question (7 of 12 words in one run, 0.58)
        ("When may a controller refuse the erasure of personal data concerning them?", GDPR, GDPR_TITLE),
    ],
)
def test_own_wording_is_kept(query, passage, title):
    assert copied(query, passage, title) is None


def test_copied_fraction_measures_the_longest_shared_run():
    assert copied_fraction("What is the right to erasure and search engines?", GDPR_TITLE) == pytest.approx(7 / 9)
    assert copied_fraction("anything", "") == 0.0


@pytest.mark.parametrize(
    "query, kept, reason",
    [
        ("How did the Maya of Tikal purify water?", ["How did the Maya in Tikal purify their water?"], "near-duplicate"),
        ("How did the Maya of Tikal purify water?", ["how did the maya of tikal purify water"], "near-duplicate"),
        ("Why was Tikal abandoned?", ["How did the Maya of Tikal purify water?"], None),
        ("What methods did the Maya use to clean water in Tikal?", ["How did the Maya of Tikal purify water?"], None),
        ("How did the Maya of Tikal purify water?", [], None),
    ],
)
def test_near_duplicate_of_a_kept_query(query, kept, reason):
    assert near_duplicate(query, kept) == reason


def test_a_query_repeating_an_exemplar_is_dropped():
    shown = [ex.queries["fr"] for ex in load_templates().exemplars]
    # SmolLM2-135M's answer to a passage on Roman aqueducts, under an earlier prompt
    repeated = "Quelle place l'anglaise occupe-t-il encore dans les milieux de travail de Montréal ?"
    assert copies_exemplar(repeated, shown) == "copied-exemplar"
    assert copies_exemplar("Comment les Romains acheminaient-ils l'eau sans pompe ?", shown) is None


def test_every_exemplar_query_passes_every_filter():
    """The exemplars teach what a good query is: the filters must agree with them."""
    for ex in load_templates().exemplars:
        for lang, query in ex.queries.items():
            assert bad_length(query) is None, query
            assert copied(query, ex.text, ex.title) is None, query
            assert wrong_language(query, lang) is None, (lang, query)
        assert all(near_duplicate(q, [o for o in ex.queries.values() if o != q]) is None for q in ex.queries.values())
