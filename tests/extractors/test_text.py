"""Text normalisation: white space, matching keys, and the mojibake repair."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clirdata.extractors.text import clean_text, fix_mojibake, fold_key


def mojibake(text: str, encoding: str = "latin-1") -> str:
    """What a reader that trusts a wrong declaration makes of UTF-8 text."""
    return text.encode("utf-8").decode(encoding)


@pytest.mark.parametrize("raw, clean", [
    ("  Les\u00a0 étudiants\n\tdu  Québec ", "Les étudiants du Québec"),
    ("e\u0301tude", "étude"),  # NFC: e + combining acute is one letter
    ("", ""),
    (None, ""),
    (" \u00a0\n", ""),
])
def test_clean_text_folds_white_space_and_composes(raw, clean):
    assert clean_text(raw) == clean


def test_fold_key_ignores_case_accents_spacing_and_punctuation():
    assert fold_key("Apprentissage  en-ligne") == fold_key("apprentissage en ligne") == "apprentissage en ligne"
    assert fold_key("Écologie urbaine") == "ecologie urbaine"
    assert fold_key("« TIC »") == "tic"


@pytest.mark.parametrize("broken, fixed", [
    ("Les Ã©tudiants", "Les étudiants"),                        # UTF-8 read as Latin-1
    ("lâ€™Ã©cole", "l’école"),                                 # ... as windows-1252, with a curly apostrophe
    ("ÃƒÂ©tudiants", "étudiants"),                             # twice
    (mojibake("Forêt, île, garçon, déjà"), "Forêt, île, garçon, déjà"),  # C1 controls of Latin-1
])
def test_fix_mojibake_undoes_utf8_read_as_latin1(broken, fixed):
    assert fix_mojibake(broken) == fixed


@pytest.mark.parametrize("text", [
    "Les étudiants du Québec",
    "São Paulo e a Ação",
    "ȻENTOL TŦE TEṈEW̱ (together with the land)",   # real title of 1070671ar: SENĆOŦEN letters
    "“Et in Utopia ego”: Sir Thomas More",          # curly quotes stay curly (only the encoding fix runs)
    "ﬁnancement",                                    # a ligature stays (ftfy.fix_text would undo it)
    "Ã",                                             # one odd letter is not mojibake
    "plain ASCII text",
    "",
])
def test_fix_mojibake_leaves_good_text_alone(text):
    assert fix_mojibake(text) == text


FRENCH_WORDS = st.sampled_from(["étudiants", "élève", "à", "où", "garçon", "être", "forêt", "Québec", "île",
                                "déjà", "l’école", "«", "»", "naïve", "Noël", "the", "and", "de", "le"])


@given(st.lists(FRENCH_WORDS, min_size=1, max_size=12).map(" ".join), st.sampled_from(["latin-1", "cp1252"]))
def test_fix_mojibake_round_trips_french_text(text, encoding):
    assert fix_mojibake(text) == text
    assert fix_mojibake(mojibake(text, encoding)) == text


def test_fix_mojibake_is_linear_on_a_long_field():
    broken = "Les Ã©tudiants de lâ€™UQAM " * 20_000  # ~540 KB, longer than any real abstract
    start = time.perf_counter()
    fixed = fix_mojibake(broken)
    assert time.perf_counter() - start < 5
    assert fixed == "Les étudiants de l’UQAM " * 20_000
