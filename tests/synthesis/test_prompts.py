"""SAP prompt data, rendering (shared prefix) and strict parsing of hand-written model answers."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from clirdata.synthesis.prompts import (
    MAX_SHOTS,
    Parsed,
    ParseError,
    flatten,
    load_templates,
    parse_output,
    render_prompt,
)

TARGETS = ("en", "fr", "de", "es", "pt", "it")


def test_template_file_is_package_data():
    assert resources.files("clirdata").joinpath("prompts").joinpath("sap.json").is_file()


def test_templates_have_version_and_five_exemplars_per_target_language():
    t = load_templates()
    assert t.version == "sap-v1"
    for lang in TARGETS:
        assert sum(lang in ex.queries for ex in t.exemplars) >= 5
    assert {ex.lang for ex in t.exemplars} == set(TARGETS)


@pytest.mark.parametrize("ex", load_templates().exemplars, ids=lambda ex: ex.lang)
def test_exemplars_are_short_passages_with_extractive_summaries(ex):
    assert 60 <= len(ex.text.split()) <= 120
    for sentence in re.split(r"(?<=[.!?])\s+", ex.summary):
        assert sentence.rstrip(".!?:") in ex.text  # extractive: copied from the passage
    assert all(q.rstrip().endswith("?") for q in ex.queries.values())


def test_first_two_shots_cover_french_to_english_and_english_to_french():
    first_two = load_templates().exemplars[:2]
    assert [ex.lang for ex in first_two] == ["en", "fr"]
    assert all("en" in ex.queries and "fr" in ex.queries for ex in first_two)


@pytest.mark.parametrize("shots", range(MAX_SHOTS + 1))
def test_render_puts_instruction_then_exemplars_then_passage(shots):
    messages = render_prompt("Un passage sur la dengue.", "Dengue", "fr", "en", shots)
    assert [m["role"] for m in messages] == ["system"] + ["user", "assistant"] * shots + ["user"]
    assert "English" in messages[0]["content"]
    last = messages[-1]["content"]
    assert last.startswith('Passage (French), titled "Dengue":\nUn passage sur la dengue.')
    assert last.endswith('a line "Summary:" in French, then a line "Query:" in English.')
    for answer in messages[2:-1:2]:
        assert answer["content"].startswith("Summary: ") and "\nQuery: " in answer["content"]
        assert isinstance(parse_output(answer["content"]), Parsed)


@pytest.mark.parametrize("shots", range(MAX_SHOTS + 1))
def test_prompts_of_one_run_differ_only_in_the_last_message(shots):
    a = render_prompt("First passage, in English.", "A title", "en", "fr", shots)
    b = render_prompt("Deuxième passage, en français.", "", "fr", "fr", shots)
    assert a[:-1] == b[:-1]
    assert a[-1] != b[-1]
    assert flatten(b).startswith(flatten(b[:-1])[:-1])  # the flat text shares the prefix too


def test_render_without_title_names_no_title():
    assert render_prompt("Texto.", "  ", "es", "en", 0)[-1]["content"].startswith("Passage (Spanish):\nTexto.")
    assert 'titled "A multi-line title"' in render_prompt("x", "A multi-line\n title", "es", "en", 0)[-1]["content"]


def test_exemplar_query_is_in_the_target_language():
    messages = render_prompt("x", "", "en", "de", 1)
    assert messages[2]["content"].endswith("nach der DSGVO abgelehnt werden?")


def test_render_rejects_bad_shots_and_unknown_languages():
    with pytest.raises(ValueError):
        render_prompt("x", "", "en", "fr", MAX_SHOTS + 1)
    with pytest.raises(ValueError):
        render_prompt("x", "", "en", "fr", -1)
    with pytest.raises(ValueError):
        render_prompt("x", "", "en", "xx", 1)


def test_flatten_is_canonical():
    m = render_prompt("Texte.", "", "fr", "en", 2)
    assert flatten(m) == flatten([dict(x) for x in m])
    assert flatten(m) != flatten(render_prompt("Texte!", "", "fr", "en", 2))


# Hand-written model answers.
GOOD = "Summary: Les Mayas filtraient l'eau avec du sable.\nQuery: How did the Maya filter their water?"


@pytest.mark.parametrize(
    "answer, query",
    [
        (GOOD, "How did the Maya filter their water?"),
        ("  \n" + GOOD + "\n\n", "How did the Maya filter their water?"),
        ("Summary: X est défini.\n\nQuery: « Comment définir X ? »", "Comment définir X ?"),
        ('Summary: a b c.\nQuery: "Why is the sky blue?"', "Why is the sky blue?"),
        (GOOD + "\n</s>", "How did the Maya filter their water?"),  # small junk tolerated
    ],
)
def test_parse_accepts_the_fixed_form(answer, query):
    parsed = parse_output(answer)
    assert isinstance(parsed, Parsed)
    assert parsed.query == query
    assert parsed.summary


@pytest.mark.parametrize(
    "answer, reason",
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("Query: Why?", "no-summary"),
        ("Summary:\nQuery: Why is it so?", "no-summary"),
        ("The Maya filtered water with sand.", "no-summary"),
        ("Summary: Les Mayas filtraient l'eau avec du sable et du", "no-query"),  # cut in the summary
        ("Summary: Les Mayas filtraient l'eau.\nQuery: How did the Maya filter", "truncated"),  # cut in the query
        ("Summary: Les Mayas filtraient l'eau.\nQuery:", "empty-query"),
        ('Summary: Les Mayas filtraient l\'eau.\nQuery: ""', "empty-query"),
        ("Summary: Les Mayas filtraient l'eau.\nQuestion: How?", "no-query"),
        ("Summary: Les Mayas.\nfiltraient l'eau.\nQuery: How did they filter water?", "malformed"),
        (GOOD + "\nNote: this query is in English as requested.", "extra-text"),
        (GOOD + "\nQuery: What else did they do?", "extra-text"),
    ],
)
def test_parse_rejects_anything_else(answer, reason):
    parsed = parse_output(answer)
    assert isinstance(parsed, ParseError)
    assert parsed.reason == reason
