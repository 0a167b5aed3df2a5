"""Language identification of titles and abstracts, to catch metadata whose declared language is wrong.

Uses lingua-language-detector restricted to a candidate set (offline, deterministic); the library and
the thresholds below were chosen by measurement: bench/langid_compare.py, results in bench/LANGID.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

DEFAULT_LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "pt", "it", "de", "nl", "ca", "ja", "zh", "ru", "ar")
MIN_WORDS = 3  # fewer words than this (in alphabetic scripts) is too short to judge
MIN_LETTERS = 15  # fewer letters than this is too short to judge
MIN_CJK_CHARS = 4  # Chinese/Japanese/Korean text has no spaces: count its characters instead
MISMATCH_CONFIDENCE = 0.85  # a declared language is contradicted only by a detection at least this sure
CONFIDENCE_DIGITS = 6  # confidences are rounded so that every call and process agrees
MAX_CHARS = 1000  # enough for any abstract (they decide at confidence 1.0); bounds the cost of a stray full text


@dataclass(frozen=True)
class LanguageGuess:
    """The most likely candidate language; `lang` is None when the text is undecidable."""

    lang: str | None  # ISO 639-1 code
    confidence: float  # in [0, 1], relative to the other candidates


UNDECIDABLE = LanguageGuess(None, 0.0)


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")  # kana, hanzi, hangul


def too_short_to_judge(text: str) -> bool:
    """True when `text` has too few words or letters for a reliable guess (thresholds measured)."""
    cjk = len(_CJK.findall(text))
    if cjk:
        return cjk < MIN_CJK_CHARS
    words = sum(1 for w in text.split() if any(ch.isalpha() for ch in w))
    return words < MIN_WORDS or sum(ch.isalpha() for ch in text) < MIN_LETTERS


def _code(code: str) -> str:
    """'fr', 'FR' or 'fr-CA' -> 'fr'."""
    return code.strip().lower().replace("_", "-").split("-")[0]


def is_supported(code: str) -> bool:
    """Whether the detector knows the ISO 639-1 `code`."""
    try:
        IsoCode639_1.from_str(_code(code))
    except ValueError:
        return False
    return True


@lru_cache(maxsize=16)
def _detector(codes: frozenset[str]) -> LanguageDetector:
    """One detector per candidate set, built on first use (its models load lazily: ~1.5 s, ~200 MiB for 12)."""
    languages = [Language.from_iso_code_639_1(IsoCode639_1.from_str(c)) for c in sorted(codes)]
    return LanguageDetectorBuilder.from_languages(*languages).build()


def _codes(candidates: Iterable[str]) -> frozenset[str]:
    return _checked_codes(tuple(candidates))


@lru_cache(maxsize=64)
def _checked_codes(candidates: tuple[str, ...]) -> frozenset[str]:
    codes = frozenset(_code(c) for c in candidates)
    unknown = sorted(c for c in codes if not is_supported(c))
    if unknown or not codes:
        raise ValueError(f"unsupported candidate languages: {unknown or 'none given'}")
    return codes


def detect_language(text: str, candidates: Iterable[str] = DEFAULT_LANGUAGES) -> LanguageGuess:
    """The most likely of `candidates` for `text`, or UNDECIDABLE when it is too short or has no letters."""
    codes = _codes(candidates)
    if too_short_to_judge(text):
        return UNDECIDABLE
    values = _detector(codes).compute_language_confidence_values(text[:MAX_CHARS])
    # lingua's sums vary in the last bits from call to call: round, and break ties by code.
    scored = [(round(v.value, CONFIDENCE_DIGITS), v.language.iso_code_639_1.name.lower()) for v in values]
    confidence, lang = min(scored, key=lambda s: (-s[0], s[1]), default=(0.0, None))
    return LanguageGuess(lang, confidence) if confidence > 0 else UNDECIDABLE


def check_declared_language(
    text: str, declared: str, candidates: Iterable[str] = DEFAULT_LANGUAGES
) -> str | None:
    """None when the text agrees with `declared` or is too short to judge; else the detected code (a mismatch).

    Only a detection at least MISMATCH_CONFIDENCE sure counts, so that a short title full of
    foreign proper nouns keeps its declared language; an unsupported `declared` is never contradicted.
    """
    code = _code(declared)
    if not is_supported(code):
        return None
    guess = detect_language(text, tuple(sorted(_codes(candidates) | {code})))
    if guess.lang is None or guess.lang == code or guess.confidence < MISMATCH_CONFIDENCE:
        return None
    return guess.lang
