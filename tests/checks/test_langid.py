"""Language identification: the cascade (py3langid, then lingua), minimum length, bounds, offline, determinism."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import py3langid.langid
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clirdata.checks.langid import (
    _CJK,
    _LETTER,
    AGREED_MISMATCH_CONFIDENCE,
    DEFAULT_LANGUAGES,
    FAST_CONFIDENCE,
    MAX_CHARS,
    MISMATCH_CONFIDENCE,
    LanguageGuess,
    _careful_guess,
    _detector,
    _fast_detector,
    _fast_guess,
    _numerals,
    check_declared_language,
    detect_language,
    too_short_to_judge,
)

REPO = Path(__file__).resolve().parents[2]
DEFAULTS = frozenset(DEFAULT_LANGUAGES)

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
MONTREAL_TITLE = "Rethinking Montréal's Plateau: gentrification and the francophone working class"


def lingua_calls() -> int:
    """How many times the cascade has asked for a lingua detector so far (the lru_cache counts every call)."""
    info = _detector.cache_info()
    return info.hits + info.misses


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


# ---------------------------------------------------------------- the cascade

def test_a_sure_agreement_of_the_fast_detector_skips_lingua():
    fast = _fast_guess(SENTENCES["en"], DEFAULTS)
    assert fast.lang == "en" and fast.confidence >= FAST_CONFIDENCE
    before = lingua_calls()
    assert check_declared_language(SENTENCES["en"], "en") is None
    assert lingua_calls() == before


def test_the_fast_detector_alone_never_contradicts_a_declaration():
    # py3langid is sure the abstract is French; the mismatch is reported only once lingua has confirmed it.
    assert _fast_guess(FRENCH_ABSTRACT, DEFAULTS).lang == "fr"
    before = lingua_calls()
    assert check_declared_language(FRENCH_ABSTRACT, "en") == "fr"
    assert lingua_calls() == before + 1


def test_english_title_with_french_proper_nouns_is_kept():
    # lingua alone leans French, not surely enough to overrule the declaration; py3langid is sure it is English.
    careful = _careful_guess(MONTREAL_TITLE, DEFAULTS)
    assert careful.lang == "fr" and careful.confidence < AGREED_MISMATCH_CONFIDENCE
    assert detect_language(MONTREAL_TITLE).lang == "en"
    assert check_declared_language(MONTREAL_TITLE, "en") is None


def test_lingua_between_the_two_thresholds_flags_only_when_py3langid_agrees():
    # lingua is 0.76 sure this is French: too little alone (0.85), enough with py3langid ranking French first.
    title = "Le bilinguisme chez les jeunes enfants"
    careful = _careful_guess(title, DEFAULTS)
    assert careful.lang == "fr" and AGREED_MISMATCH_CONFIDENCE <= careful.confidence < MISMATCH_CONFIDENCE
    assert _fast_guess(title, DEFAULTS).lang == "fr"
    assert check_declared_language(title, "en") == "fr"
    # lingua is 0.76 sure this is German, but py3langid ranks English first: the declaration stands.
    title = "On the origins of the Gesamtkunstwerk"
    careful = _careful_guess(title, DEFAULTS)
    assert careful.lang == "de" and AGREED_MISMATCH_CONFIDENCE <= careful.confidence < MISMATCH_CONFIDENCE
    assert _fast_guess(title, DEFAULTS).lang == "en"
    assert check_declared_language(title, "en") is None


def test_a_language_the_fast_detector_does_not_know_goes_to_lingua_alone():
    # Norwegian Bokmål: lingua knows it, py3langid does not, so the cascade cannot restrict py3langid to it.
    assert _fast_detector(DEFAULTS | {"nb"}) is None
    before = lingua_calls()
    assert check_declared_language(SENTENCES["en"], "nb") == "en"
    assert lingua_calls() == before + 1
    assert detect_language(SENTENCES["de"], candidates=["de", "nb"]) == _careful_guess(SENTENCES["de"],
                                                                                      frozenset({"de", "nb"}))


def test_detection_takes_the_fast_guess_only_when_it_is_sure():
    sure = _fast_guess(SENTENCES["it"], DEFAULTS)
    assert sure.confidence >= FAST_CONFIDENCE and detect_language(SENTENCES["it"]) == sure
    unsure_title = "On the origins of the Gesamtkunstwerk"  # py3langid: en at 0.60
    assert _fast_guess(unsure_title, DEFAULTS).confidence < FAST_CONFIDENCE
    assert detect_language(unsure_title) == _careful_guess(unsure_title, DEFAULTS)


# ---------------------------------------------------------------- minimum length

def test_two_words_are_too_short_to_judge():
    # Two German words: confidently German for lingua, but below the minimum length.
    assert too_short_to_judge("Künstliche Intelligenz")
    assert check_declared_language("Künstliche Intelligenz", "en") is None
    assert detect_language("Künstliche Intelligenz") == LanguageGuess(None, 0.0)
    # One more word and the mismatch is reported.
    assert check_declared_language("Künstliche Intelligenz und Ethik", "en") == "de"


@pytest.mark.parametrize(("text", "short"), [
    ("abcde fghij klmn", True),  # 3 words, 14 letters
    ("abcde fghij klmno", False),  # 3 words, 15 letters
    ("abcdefghijklmnopqrst uvwxyz", True),  # 2 words
    ("abcdefghij 1234 klmnopqrst", True),  # the middle token has no letter: 2 words
    ("abcdefghij x1234 klmnopqrst", False),  # one letter makes a word
    ("abcdefghij² ½ Ⅻ klmnopqrst", True),  # numerals (², ½, Ⅻ) are not letters
    ("ab² cd½ efghijklⅫ", True),  # ... inside words too: 3 words, 12 letters (15 if numerals counted)
    ("ab² cd½ efghijklmnoⅫ", False),  # 3 words, 15 letters
    ("abcde\u00a0fghij\u2003klmno", False),  # no-break and em spaces separate words
    ("日本語", True),  # 3 CJK characters
    ("日本語です", False),  # 4
    ("abc def 日本語", True),  # any CJK: counted as CJK
])
def test_minimum_length_worked_out_by_hand(text, short):
    assert too_short_to_judge(text) is short


def reference_too_short(text: str) -> bool:
    """The definition, one Python step per character (what too_short_to_judge computed before it was a regex)."""
    cjk = len(_CJK.findall(text))
    if cjk:
        return cjk < 4
    words = sum(1 for w in text.split() if any(ch.isalpha() for ch in w))
    return words < 3 or sum(ch.isalpha() for ch in text) < 15


PIECES = st.sampled_from(["a", "é", "Z", "ß", "ab", "word", "1", "42", "٣", "²", "½", "Ⅻ", "\U00010107", "\U0001d400",
                          "_", "-", "'", " ", "\u00a0", "\u2003", "\n", "\t", "日", "カ", "한", "\u0301"])
TEXTS = st.one_of(st.lists(PIECES, max_size=40).map("".join), st.text(max_size=60))


@given(TEXTS)
def test_minimum_length_matches_its_definition(text):
    assert too_short_to_judge(text) is reference_too_short(text)


def test_a_letter_is_exactly_what_str_isalpha_accepts():
    # Regexes take the numerals for word characters; once each is replaced by a digit, a letter is exactly isalpha.
    every_character = "".join(map(chr, range(sys.maxunicode + 1)))
    numerals = [m.start() for m in _numerals().finditer(every_character)]
    assert numerals == [i for i, ch in enumerate(every_character)
                        if ch.isalnum() and not ch.isalpha() and not ch.isdecimal()]
    assert 1000 < len(numerals) < 1500 and max(numerals) > 0xFFFF  # some live outside the Basic Multilingual Plane
    as_digits = _numerals().sub("0", every_character)
    assert [m.start() for m in re.finditer(_LETTER, as_digits)] == [
        i for i, ch in enumerate(every_character) if ch.isalpha()
    ]


def test_length_check_stops_once_it_has_enough_and_stays_linear_without_letters():
    # The former loop read every character in Python (~1 s for these); now regexes run in C and stop early.
    letters_first = "Les résultats de cette étude " + "1" * 5_000_000
    no_letters = "1 " * 1_000_000
    too_short_to_judge("²")  # builds the numeral table (once per process) before the clock starts
    started = time.perf_counter()
    assert not too_short_to_judge(letters_first)
    assert too_short_to_judge(no_letters)
    assert time.perf_counter() - started < 0.5


def test_a_huge_field_costs_what_its_first_max_chars_cost():
    # Only text[:MAX_CHARS] is read: a 5 MB field is judged on its first characters, in milliseconds.
    huge = SENTENCES["fr"] + " " + "x " * 2_500_000
    assert len(huge) > 1000 * MAX_CHARS
    assert check_declared_language(SENTENCES["fr"], "en") == "fr"  # both detectors loaded before the clock starts
    started = time.perf_counter()
    assert check_declared_language(huge, "en") == "fr"
    assert detect_language(huge).lang == "fr"
    assert time.perf_counter() - started < 0.5
    # A field whose letters all come after MAX_CHARS is too short to judge.
    assert check_declared_language("1 " * MAX_CHARS + SENTENCES["fr"], "en") is None


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


DECLARED = st.sampled_from(["en", "fr", "de", "ja", "zh", "ar", "xx", "FR-ca", ""])


@settings(max_examples=max(10, settings().max_examples // 2))
@given(st.one_of(TEXTS, st.sampled_from(list(SENTENCES.values()))), DECLARED)
def test_any_text_gets_an_answer_never_an_error(text, declared):
    found = check_declared_language(text, declared)
    assert found is None or (found in DEFAULTS and found != declared.lower()[:2])
    assert check_declared_language(text, declared) == found
    guess = detect_language(text)
    assert (guess.lang is None) == (guess.confidence == 0.0)
    assert guess.lang is None or (guess.lang in DEFAULTS and 0.0 < guess.confidence <= 1.0)


# ---------------------------------------------------------------- offline, loaded once, deterministic

NO_NETWORK = (
    "import socket\n"
    "def refuse(*args, **kwargs):\n"
    "    raise OSError('network use refused by the test')\n"
    "socket.socket.connect = socket.socket.connect_ex = refuse\n"
    "socket.create_connection = socket.getaddrinfo = refuse\n"
)


def test_first_use_needs_no_network_and_reads_the_model_inside_the_wheel(tmp_path):
    model = py3langid.langid.MODEL_DIR / py3langid.langid.MODEL_FILE
    assert model.is_file() and Path(py3langid.__file__).parent in model.parents
    script = NO_NETWORK + (
        "import json, sys\n"
        "from clirdata.checks.langid import check_declared_language, detect_language, _fast_model\n"
        "texts = json.loads(sys.stdin.read())\n"
        "print(json.dumps([[detect_language(t).lang, check_declared_language(t, 'en')] for t in texts]\n"
        "                 + [_fast_model.cache_info().misses]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(tmp_path), "TMPDIR": str(tmp_path),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    texts = [SENTENCES["fr"], SENTENCES["en"], JAPANESE_TITLE, MONTREAL_TITLE]
    out = subprocess.run([sys.executable, "-c", script], input=json.dumps(texts), capture_output=True,
                         text=True, env=env, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    *results, model_loads = json.loads(out.stdout)
    assert results == [["fr", "fr"], ["en", None], ["ja", "ja"], ["en", None]]
    assert model_loads == 1  # loaded once for the whole process, however many texts and candidate sets
    assert list(tmp_path.iterdir()) == []  # nothing cached or downloaded on the side


TEXTS_FOR_DETERMINISM = [*SENTENCES.values(), SPANISH_TITLE, JAPANESE_TITLE, MONTREAL_TITLE,
                         "Jacques Cartier and the Saint-Laurent Iroquoians", "On the origins of the Gesamtkunstwerk"]
SCRIPT = (
    "import json, sys\n"
    "from clirdata.checks.langid import detect_language, check_declared_language\n"
    "texts = json.loads(sys.stdin.read())\n"
    "print(json.dumps([[detect_language(t).lang, detect_language(t).confidence,\n"
    "                   check_declared_language(t, 'en')] for t in texts]))\n"
)


def _results() -> list[list]:
    return [[detect_language(t).lang, detect_language(t).confidence, check_declared_language(t, "en")]
            for t in TEXTS_FOR_DETERMINISM]


def test_deterministic_within_and_across_processes():
    here = _results()
    assert here == _results()
    assert [r[0] for r in here[:6]] == list(SENTENCES)  # the results compared are real detections
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)}
        out = subprocess.run(
            [sys.executable, "-c", SCRIPT], input=json.dumps(TEXTS_FOR_DETERMINISM), capture_output=True,
            text=True, check=True, env=env, cwd=REPO, timeout=120,
        )
        assert json.loads(out.stdout) == here
