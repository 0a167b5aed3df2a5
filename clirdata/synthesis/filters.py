"""Quality filters for synthetic queries: each returns a drop reason (a stable code) or None to keep.

Thresholds were calibrated on the hand-written cases in tests/synthesis/test_filters.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher

from rapidfuzz import fuzz

from clirdata.checks.langid import check_declared_language
from clirdata.extractors.text import fold_key

MIN_WORDS = 3  # "Tikal water?" says too little to be a retrieval query
MAX_WORDS = 40  # longer is a paragraph, not a query (SAP queries are one question)
COPY_FRACTION = 0.75  # share of the query's words in one run copied from the passage or title
DUPLICATE_RATIO = 85.0  # rapidfuzz ratio (0-100) of folded texts from which two queries are one


def wrong_language(query: str, query_lang: str) -> str | None:
    """'wrong-language' when langid is sure the query is not in `query_lang`; too short to judge passes."""
    return "wrong-language" if check_declared_language(query, query_lang) else None


def bad_length(query: str, min_words: int = MIN_WORDS, max_words: int = MAX_WORDS) -> str | None:
    """'too-short' or 'too-long' by whitespace-separated words."""
    words = len(query.split())
    if words < min_words:
        return "too-short"
    return "too-long" if words > max_words else None


def copied_fraction(query: str, source: str) -> float:
    """Length of the longest word run shared with `source`, over the query's length in words.

    Words are compared case-, accent- and punctuation-folded.
    """
    q, s = fold_key(query).split(), fold_key(source).split()
    if not q or not s:
        return 0.0
    match = SequenceMatcher(None, q, s, autojunk=False).find_longest_match(0, len(q), 0, len(s))
    return match.size / len(q)


def copied(query: str, passage: str, title: str = "", max_fraction: float = COPY_FRACTION) -> str | None:
    """'copied' when most of the query is one run of words taken from the passage or the title."""
    worst = max(copied_fraction(query, passage), copied_fraction(query, title))
    return "copied" if worst >= max_fraction else None


def near_duplicate(query: str, kept: Sequence[str], min_ratio: float = DUPLICATE_RATIO) -> str | None:
    """'near-duplicate' when the query is almost the same text as one already kept for the passage."""
    key = fold_key(query)
    return "near-duplicate" if any(fuzz.ratio(key, fold_key(k)) >= min_ratio for k in kept) else None


def copies_exemplar(query: str, exemplar_queries: Sequence[str], min_ratio: float = DUPLICATE_RATIO) -> str | None:
    """'copied-exemplar' when the query is (almost) one of the prompt's exemplar queries.

    Small models repeat their shots: SmolLM2-135M answered a passage on Rome with the Montreal exemplar's query.
    """
    return "copied-exemplar" if near_duplicate(query, exemplar_queries, min_ratio) else None
