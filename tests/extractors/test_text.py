"""Text normalisation: white space, matching keys, and the mojibake repair."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clirdata.extractors.text import cc_licence, clean_text, fix_mojibake, fold_key, language_code, licence_of


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


# --------------------------------------------------------------------------- language codes


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("fre", "fr"), ("fra", "fr"), ("eng", "en"), ("spa", "es"), ("por", "pt"),
        ("ger", "de"), ("deu", "de"), ("ita", "it"), ("FRE", "fr"), ("fr", "fr"),
        ("fr-CA", "fr"), ("en_US", "en"), (" pt-BR ", "pt"), ("chi", "zh"), ("wel", "cy"),
        ("xyz", ""), ("und", ""), ("f", ""), ("12", ""), ("français", ""), ("", ""), (None, ""),
    ],
)
def test_language_code(code, expected):
    """ISO 639-2 (both forms) and BCP 47-ish tags become ISO 639-1; anything unknown becomes ""."""
    assert language_code(code) == expected


# --------------------------------------------------------------------------- licences


@pytest.mark.parametrize(
    ("text", "licence"),
    [
        ("CC BY 4.0", "CC BY 4.0"),
        ("cc by-nc 4.0", "CC BY-NC 4.0"),
        ("CC-BY-SA-4.0", "CC BY-SA 4.0"),
        ("CC BY NC ND 3.0", "CC BY-NC-ND 3.0"),
        ("http://creativecommons.org/licenses/by-nc-nd/4.0/", "CC BY-NC-ND 4.0"),
        ("https://creativecommons.org/licences/by/2.5/ca/deed.fr", "CC BY 2.5 CA"),  # a port keeps its country
        ("https://creativecommons.org/licenses/by-nc/4.0/deed.fr", "CC BY-NC 4.0"),  # `deed.fr` is no country
        ("Licence : https://creativecommons.org/licenses/by-sa/4.0/", "CC BY-SA 4.0"),
        ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0 1.0"),
        ("CC BY 4.0; © Les auteurs", "CC BY 4.0"),  # a name is found as a token anywhere in a statement
        ("ACC BY 4.0", ""),  # ... a whole token, not part of a word
        ("CC BY 4.0.1", ""),
        ("info:eu-repo/semantics/openAccess", ""),
        ("© Les auteurs", ""),
        ("CC BY", ""),  # no version: not a licence we can name
        ("", ""),
    ],
)
def test_cc_licence(text, licence):
    assert cc_licence(text) == licence


@pytest.mark.parametrize(
    ("statements", "licence"),
    [
        (["CC BY 4.0", "© Les auteurs"], "CC BY 4.0"),  # was "CC BY 4.0; © Les auteurs"
        (["© Les auteurs", "http://creativecommons.org/licenses/by-nc-nd/4.0/"], "CC BY-NC-ND 4.0"),
        (["https://creativecommons.org/publicdomain/zero/1.0/"], "CC0 1.0"),
        (["CC-BY-SA-4.0"], "CC BY-SA 4.0"),
        (["CC BY-NC 4.0", "CC BY 4.0"], "CC BY-NC 4.0"),  # the first licence wins
        (["info:eu-repo/semantics/openAccess"], "info:eu-repo/semantics/openAccess"),
        (["© Les auteurs", "Tous droits réservés"], "© Les auteurs; Tous droits réservés"),
        (["© Les auteurs", "", "© Les auteurs"], "© Les auteurs"),  # distinct, non-empty statements
        ([], ""),
    ],
)
def test_licence_of(statements, licence):
    assert licence_of(statements) == licence
