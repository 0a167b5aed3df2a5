"""Text normalisation shared by every extractor and by the pairing code."""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")


def clean_text(text: str | None) -> str:
    """NFC-normalise and fold every run of white space (incl. NBSP) to one space."""
    if not text:
        return ""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text).replace("\u00a0", " ")).strip()


def fold_key(text: str) -> str:
    """A matching key: clean, case-folded, without accents or punctuation.

    Two keywords that differ only in case, accents, spacing or punctuation get the same
    key ("Apprentissage  en-ligne" and "apprentissage en ligne").
    """
    decomposed = unicodedata.normalize("NFKD", clean_text(text).casefold())
    no_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = re.sub(r"[\W_]+", " ", no_marks)
    return _SPACE.sub(" ", words).strip()
