"""Language identification: detection, declared-language checks, minimum length, determinism."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clirdata.extractors.langid import (
    DEFAULT_LANGUAGES,
    MISMATCH_CONFIDENCE,
    LanguageGuess,
    check_declared_language,
    detect_language,
    too_short_to_judge,
)

REPO = Path(__file__).resolve().parents[2]

SENTENCES = {
    "fr": "Cette étude examine les pratiques de lecture des étudiants universitaires et leurs effets sur la réussite.",
    "en": "This study examines the reading practices of university students and their effects on academic achievement.",
    "es": "Este estudio examina las prácticas de lectura de los estudiantes universitarios y sus efectos en el rendimiento.",
    "pt": "Este estudo examina as práticas de leitura dos estudantes universitários e os seus efeitos no desempenho.",
    "it": "Questo studio esamina le pratiche di lettura degli studenti universitari e i loro effetti sul rendimento.",
    "de": "Diese Studie untersucht die Lesegewohnheiten von Studierenden und ihre Auswirkungen auf den Studienerfolg.",
}
FRENCH_ABSTRACT = (
    "Dans cet article, nous nous intéressons à la perception des technologies de l'information par les "
    "enseignants universitaires. Un questionnaire a été administré à l'ensemble des enseignants d'une "
    "université française afin d'identifier les facteurs qui expliquent leurs usages pédagogiques."
)
SPANISH_TITLE = "La desigualdad educativa en las escuelas rurales de México"
JAPANESE_TITLE = "日本の大学における英語教育の現状と課題について考察する"
CHINESE_TITLE = "本研究调查了大学生的阅读习惯与学业成绩之间的关系"


@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_detects_clear_sentences(lang):
    guess = detect_language(SENTENCES[lang])
    assert guess.lang == lang
    assert MISMATCH_CONFIDENCE <= guess.confidence <= 1.0


@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_declared_language_that_agrees_is_not_a_mismatch(lang):
    assert check_declared_language(SENTENCES[lang], lang) is None


def test_flags_french_abstract_declared_english():
    assert check_declared_language(FRENCH_ABSTRACT, "en") == "fr"


def test_flags_spanish_title_declared_english():
    assert check_declared_language(SPANISH_TITLE, "en") == "es"


def test_flags_japanese_declared_chinese_and_the_converse():
    assert check_declared_language(JAPANESE_TITLE, "zh", candidates=["ja", "zh"]) == "ja"
    assert check_declared_language(JAPANESE_TITLE, "zh") == "ja"
    assert check_declared_language(CHINESE_TITLE, "ja", candidates=["ja", "zh", "en"]) == "zh"
    assert check_declared_language(CHINESE_TITLE, "zh") is None


def test_declared_language_is_added_to_the_candidates():
    # Among en and de alone, the French abstract is confidently "en" ...
    assert detect_language(FRENCH_ABSTRACT, candidates=["en", "de"]).lang == "en"
    # ... so "fr" must be added to the candidates for the declaration to be confirmed.
    assert check_declared_language(FRENCH_ABSTRACT, "fr", candidates=["en", "de"]) is None


def test_english_title_with_french_proper_nouns_is_kept():
    # The detector leans French here, but not confidently enough to overrule the declared language.
    title = "Rethinking Montréal's Plateau: gentrification and the francophone working class"
    assert detect_language(title).confidence < MISMATCH_CONFIDENCE
    assert check_declared_language(title, "en") is None


def test_two_words_are_too_short_to_judge():
    # Two German words: confidently German for lingua, but below the minimum length.
    assert too_short_to_judge("Künstliche Intelligenz")
    assert check_declared_language("Künstliche Intelligenz", "en") is None
    assert detect_language("Künstliche Intelligenz") == LanguageGuess(None, 0.0)
    # One more word and the mismatch is reported.
    assert check_declared_language("Künstliche Intelligenz und Ethik", "en") == "de"


def test_text_without_letters_is_undecidable():
    assert detect_language("2019 — 123-456 (p. 17)").lang is None


def test_declared_codes_are_normalised_and_unknown_ones_never_contradicted():
    assert check_declared_language(FRENCH_ABSTRACT, "FR-ca") is None
    assert check_declared_language(FRENCH_ABSTRACT, "en_GB") == "fr"
    assert check_declared_language(FRENCH_ABSTRACT, "xx") is None


def test_unknown_candidate_is_rejected():
    with pytest.raises(ValueError, match="xx"):
        detect_language(SENTENCES["en"], candidates=["en", "xx"])


def test_defaults_cover_scholarly_languages():
    assert {"en", "fr", "es", "pt", "it", "de", "nl", "ca", "ja", "zh", "ru", "ar"} <= set(DEFAULT_LANGUAGES)


TEXTS = [*SENTENCES.values(), SPANISH_TITLE, JAPANESE_TITLE, "Jacques Cartier and the Saint-Laurent Iroquoians"]
SCRIPT = (
    "import json, sys\n"
    "from clirdata.extractors.langid import detect_language, check_declared_language\n"
    "texts = json.loads(sys.stdin.read())\n"
    "print(json.dumps([[detect_language(t).lang, detect_language(t).confidence,\n"
    "                   check_declared_language(t, 'en')] for t in texts]))\n"
)


def _results() -> list[list]:
    return [[detect_language(t).lang, detect_language(t).confidence, check_declared_language(t, "en")] for t in TEXTS]


def test_deterministic_within_and_across_processes():
    here = _results()
    assert here == _results()
    assert [r[0] for r in here[:6]] == list(SENTENCES)  # the results compared are real detections
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)}
        out = subprocess.run(
            [sys.executable, "-c", SCRIPT], input=json.dumps(TEXTS), capture_output=True,
            text=True, check=True, env=env, cwd=REPO, timeout=120,
        )
        assert json.loads(out.stdout) == here
