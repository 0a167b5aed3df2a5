"""Text normalisation shared by every extractor and by the pairing code."""

from __future__ import annotations

import re
import unicodedata

import ftfy
from ftfy.badness import is_bad

_SPACE = re.compile(r"\s+")


def clean_text(text: str | None) -> str:
    """NFC-normalise and fold every run of white space (incl. NBSP) to one space."""
    if not text:
        return ""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text).replace("\u00a0", " ")).strip()


def fix_mojibake(text: str) -> str:
    """`text` with UTF-8-read-as-Latin-1 mojibake undone ("Ã©tudiants" -> "étudiants"), else unchanged.

    Only text that ftfy's badness heuristic flags is touched, and only by its encoding fix:
    quotes, ligatures, width and the rest of ftfy's fixes are left alone.
    """
    if not text or text.isascii() or not is_bad(text):
        return text
    return ftfy.fix_encoding(text)


def fold_key(text: str) -> str:
    """A matching key: clean, case-folded, without accents or punctuation.

    Two keywords that differ only in case, accents, spacing or punctuation get the same
    key ("Apprentissage  en-ligne" and "apprentissage en ligne").
    """
    decomposed = unicodedata.normalize("NFKD", clean_text(text).casefold())
    no_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = re.sub(r"[\W_]+", " ", no_marks)
    return _SPACE.sub(" ", words).strip()
