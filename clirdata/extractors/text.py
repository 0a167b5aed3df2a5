"""Text normalisation shared by every extractor and by the pairing code."""

from __future__ import annotations

import re
import unicodedata

import ftfy
from ftfy.badness import is_bad

_SPACE = re.compile(r"\s+")
# A Creative Commons licence named by its deed URL or by its short name ("CC BY-NC 4.0", "CC-BY-4.0").
# A deed URL keeps its jurisdiction port (`licenses/by/2.5/ca/` is CC BY 2.5 CA, not the international 2.5);
# a name is found as a whole token anywhere in a statement ("CC BY 4.0; © Les auteurs").
_CC_URL = re.compile(r"creativecommons\.org/licen[cs]es/([a-z-]+)/(\d\.\d)(?:/([a-z]{2})(?![\w.]))?", re.IGNORECASE)
_CC_ZERO_URL = re.compile(r"creativecommons\.org/publicdomain/zero/(\d\.\d)", re.IGNORECASE)
_CC_NAME = re.compile(r"(?<![\w-])CC[\s-]+(BY(?:[\s-]+(?:NC|ND|SA))*)[\s-]+(\d\.\d)(?![\w.])", re.IGNORECASE)

# ISO 639-2 (bibliographic and terminologic) codes of the languages scholarly OAI
# repositories serve, mapped to ISO 639-1. An unknown code maps to "" (no language).
_ISO639_2_TO_1 = {
    "ara": "ar", "bul": "bg", "cat": "ca", "ces": "cs", "cze": "cs", "chi": "zh",
    "zho": "zh", "dan": "da", "deu": "de", "ger": "de", "ell": "el", "gre": "el",
    "eng": "en", "epo": "eo", "est": "et", "eus": "eu", "baq": "eu", "fas": "fa",
    "per": "fa", "fin": "fi", "fra": "fr", "fre": "fr", "gle": "ga", "glg": "gl",
    "heb": "he", "hin": "hi", "hrv": "hr", "hun": "hu", "ind": "id", "isl": "is",
    "ice": "is", "ita": "it", "jpn": "ja", "kor": "ko", "lat": "la", "lav": "lv",
    "lit": "lt", "msa": "ms", "may": "ms", "nld": "nl", "dut": "nl", "nor": "no",
    "nob": "nb", "nno": "nn", "pol": "pl", "por": "pt", "ron": "ro", "rum": "ro",
    "rus": "ru", "slk": "sk", "slo": "sk", "slv": "sl", "spa": "es", "srp": "sr",
    "swe": "sv", "tur": "tr", "ukr": "uk", "vie": "vi", "cym": "cy", "wel": "cy",
}


def language_code(tag: str | None) -> str:
    """The ISO 639-1 code of a language tag ("fr-CA", "en_US", "fre", "FRA"), or "" when unknown.

    The one normaliser of language codes: Érudit's @lang, oai_dc's xml:lang and dc:language, the
    detector's candidates and the command line all go through it.
    """
    base = re.split(r"[-_]", (tag or "").strip().lower(), maxsplit=1)[0]
    if len(base) == 2 and base.isalpha():
        return base
    return _ISO639_2_TO_1.get(base, "")


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


def cc_licence(text: str) -> str:
    """The Creative Commons licence that `text` links or names, as `CC BY-NC 4.0` (or `CC0 1.0`), else ""."""
    if match := _CC_URL.search(text):
        port = f" {match.group(3).upper()}" if match.group(3) else ""
        return f"CC {match.group(1).upper()} {match.group(2)}{port}"
    if match := _CC_ZERO_URL.search(text):
        return f"CC0 {match.group(1)}"
    if match := _CC_NAME.search(text):
        elements = re.split(r"[\s-]+", match.group(1).upper())
        return f"CC {'-'.join(elements)} {match.group(2)}"
    return ""


def licence_of(statements: list[str]) -> str:
    """One licence from rights statements (dc:rights, droitsauteur): the first Creative Commons licence
    linked or named, else the distinct statements joined with "; " (a copyright notice, say)."""
    for statement in statements:
        if licence := cc_licence(statement):
            return licence
    return "; ".join(dict.fromkeys(s for s in statements if s))

