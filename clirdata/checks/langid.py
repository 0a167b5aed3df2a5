"""Language identification of titles and abstracts, to catch metadata whose declared language is wrong.

A cascade of two offline, deterministic detectors restricted to a candidate set: py3langid (fast, ~35 µs a
title) answers when it is sure, lingua-language-detector (careful, ~250 µs) where py3langid is unsure or
disagrees with the declared language. Libraries and thresholds were chosen by measurement:
bench/langid_compare.py, results in bench/LANGID.md.
"""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from clirdata.extractors.text import language_code

DEFAULT_LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "pt", "it", "de", "nl", "ca", "ja", "zh", "ru", "ar")
MIN_WORDS = 3  # fewer words than this (in alphabetic scripts) is too short to judge
MIN_LETTERS = 15  # fewer letters than this is too short to judge
MIN_CJK_CHARS = 4  # Chinese/Japanese/Korean text has no spaces: count its characters instead
FAST_CONFIDENCE = 0.7  # py3langid's answer is taken without asking lingua when it is at least this sure
MISMATCH_CONFIDENCE = 0.85  # lingua alone contradicts a declared language only when at least this sure
AGREED_MISMATCH_CONFIDENCE = 0.75  # ... or this sure when py3langid's top language is the same one
CONFIDENCE_DIGITS = 6  # confidences are rounded so that every call and process agrees
MAX_CHARS = 1000  # enough for any abstract (they decide at confidence 1.0); bounds the cost of a stray full text
FAST_MAX_CHARS = 200  # py3langid reads this much (its cost grows with every character; 200 decide as well as 1000)


@dataclass(frozen=True)
class LanguageGuess:
    """The most likely candidate language; `lang` is None when the text is undecidable."""

    lang: str | None  # ISO 639-1 code
    confidence: float  # in [0, 1], relative to the other candidates


UNDECIDABLE = LanguageGuess(None, 0.0)


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")  # kana, hanzi, hangul


_LETTER = r"[^\W\d_]"  # a word character that is neither a decimal digit nor '_' (see _numerals)
_ENOUGH_LETTERS = re.compile(rf"(?:[\W\d_]*{_LETTER}){{{MIN_LETTERS}}}")  # `match`: stops at the last one needed
_ENOUGH_WORDS = re.compile(rf"(?:[\W\d_]*{_LETTER}\S*(?!\S)){{{MIN_WORDS}}}")  # (?!\S): a word is read to its end


@lru_cache(maxsize=1)
def _numerals() -> re.Pattern[str]:
    """The ~1,100 numerals that regexes take for word characters but `str.isalpha` rejects (², ½, Ⅻ).

    Listed from this Python's Unicode tables once per process (~0.1 s). A class within the Basic Multilingual
    Plane compiles to a bitmap (one look-up a character); the class of the others is a list of ranges, so it
    is tried only on a character outside that plane.
    """
    codes = [c for c in range(sys.maxunicode + 1) if chr(c).isalnum() and not chr(c).isalpha()
             and not chr(c).isdecimal()]
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))

    def char_class(pieces: list[tuple[int, int]]) -> str:
        return "[" + "".join(f"{re.escape(chr(first))}-{re.escape(chr(last))}" for first, last in pieces) + "]"

    basic = [r for r in ranges if r[1] <= 0xFFFF]
    astral = [r for r in ranges if r[0] > 0xFFFF]
    assert len(basic) + len(astral) == len(ranges)  # no range straddles the plane's end
    return re.compile(rf"{char_class(basic)}|(?=[\U00010000-\U0010FFFF]){char_class(astral)}")


def too_short_to_judge(text: str) -> bool:
    """True when `text` has too few words or letters for a reliable guess (thresholds measured).

    A word is a whitespace-separated token with a letter in it; a letter is what `str.isalpha` accepts.
    Regexes do the counting, each stopping at its threshold.
    """
    cjk = sum(1 for _ in islice(_CJK.finditer(text), MIN_CJK_CHARS))
    if cjk:
        return cjk < MIN_CJK_CHARS
    for enough in (_ENOUGH_WORDS, _ENOUGH_LETTERS):
        found = enough.match(text)
        if found is None:
            return True
        if _numerals().search(text, 0, found.end()):  # rare: a numeral was counted as a letter, so count again
            text = _numerals().sub("0", text)  # a digit: still no letter, still part of its word
            return _ENOUGH_WORDS.match(text) is None or _ENOUGH_LETTERS.match(text) is None
    return False


def iso639_3(code: str) -> str:
    """The ISO 639-3 code of a language the detector knows (`fr` -> `fra`), as MTEB names languages."""
    return Language.from_iso_code_639_1(IsoCode639_1.from_str(language_code(code))).iso_code_639_3.name.lower()


def language_name(code: str) -> str:
    """The English name of a language the detector knows, lower case (`fr` -> `french`), as Snowball names them."""
    return Language.from_iso_code_639_1(IsoCode639_1.from_str(language_code(code))).name.lower()


def is_supported(code: str) -> bool:
    """Whether the detector knows the ISO 639-1 `code`."""
    try:
        IsoCode639_1.from_str(language_code(code))
    except ValueError:
        return False
    return True


@lru_cache(maxsize=16)
def _detector(codes: frozenset[str]) -> LanguageDetector:
    """One lingua detector per candidate set, built on first use (models load lazily: ~1.5 s, ~200 MiB for 12)."""
    languages = [Language.from_iso_code_639_1(IsoCode639_1.from_str(c)) for c in sorted(codes)]
    return LanguageDetectorBuilder.from_languages(*languages).build()


@lru_cache(maxsize=1)
def _fast_model() -> LanguageIdentifier:
    """py3langid's model, loaded once per process from the file inside its wheel (~1 s); it never downloads."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=16)
def _fast_detector(codes: frozenset[str]) -> LanguageIdentifier | None:
    """py3langid restricted to `codes`, or None when it does not know one of them (then lingua decides alone)."""
    model = _fast_model()
    if not codes <= set(model.labels):
        return None
    restricted = copy.copy(model)  # shares the model's arrays; set_languages slices new ones for this copy
    restricted.set_languages(sorted(codes))
    return restricted


def _codes(candidates: Iterable[str]) -> frozenset[str]:
    return _checked_codes(tuple(candidates))


@lru_cache(maxsize=64)
def _checked_codes(candidates: tuple[str, ...]) -> frozenset[str]:
    codes = frozenset(language_code(c) for c in candidates)
    unknown = sorted(c for c in codes if not is_supported(c))
    if unknown or not codes:
        raise ValueError(f"unsupported candidate languages: {unknown or 'none given'}")
    return codes


def _best(scored: Iterable[tuple[float, str]]) -> LanguageGuess:
    """The highest rounded confidence, ties broken by code, so that every call and process agrees."""
    rounded = [(round(value, CONFIDENCE_DIGITS), lang) for value, lang in scored]
    confidence, lang = min(rounded, key=lambda s: (-s[0], s[1]), default=(0.0, None))
    return LanguageGuess(lang, confidence) if confidence > 0 else UNDECIDABLE


def _fast_guess(text: str, codes: frozenset[str]) -> LanguageGuess | None:
    """py3langid's guess among `codes`, or None when it does not cover them all."""
    detector = _fast_detector(codes)
    if detector is None:
        return None
    return _best((value, lang) for lang, value in detector.rank(text[:FAST_MAX_CHARS]))


def _careful_guess(text: str, codes: frozenset[str]) -> LanguageGuess:
    """lingua's guess among `codes` (its sums vary in the last bits from call to call: rounded)."""
    values = _detector(codes).compute_language_confidence_values(text)
    return _best((v.value, v.language.iso_code_639_1.name.lower()) for v in values)


def detect_language(text: str, candidates: Iterable[str] = DEFAULT_LANGUAGES) -> LanguageGuess:
    """The most likely of `candidates` for `text`, or UNDECIDABLE when it is too short or has no letters.

    py3langid's guess when it is at least FAST_CONFIDENCE sure, else lingua's. Only the first MAX_CHARS
    characters are read, so a field's cost is bounded whatever its length.
    """
    codes = _codes(candidates)
    sample = text[:MAX_CHARS]
    if too_short_to_judge(sample):
        return UNDECIDABLE
    fast = _fast_guess(sample, codes)
    if fast is not None and fast.lang is not None and fast.confidence >= FAST_CONFIDENCE:
        return fast
    return _careful_guess(sample, codes)


def check_declared_language(
    text: str, declared: str, candidates: Iterable[str] = DEFAULT_LANGUAGES
) -> str | None:
    """None when the text agrees with `declared` or is too short to judge; else the detected code (a mismatch).

    py3langid alone may confirm a declaration (when FAST_CONFIDENCE sure), never contradict one: only lingua
    does, when at least MISMATCH_CONFIDENCE sure, or AGREED_MISMATCH_CONFIDENCE sure of the language py3langid
    also ranks first. So a short title full of foreign proper nouns keeps its declared language; an
    unsupported `declared` is never contradicted. Only the first MAX_CHARS characters are read.
    """
    code = language_code(declared)
    if not is_supported(code):
        return None
    codes = _codes(candidates) | {code}
    sample = text[:MAX_CHARS]
    if too_short_to_judge(sample):
        return None
    fast = _fast_guess(sample, codes)
    if fast is not None and fast.lang == code and fast.confidence >= FAST_CONFIDENCE:
        return None
    careful = _careful_guess(sample, codes)
    if careful.lang is None or careful.lang == code:
        return None
    agreed = fast is not None and fast.lang == careful.lang
    threshold = AGREED_MISMATCH_CONFIDENCE if agreed else MISMATCH_CONFIDENCE
    return careful.lang if careful.confidence >= threshold else None
