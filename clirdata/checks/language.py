"""The language check: every field must be written in the language it is declared in.

Sources mislabel languages (a `resume lang="en"` that is French, a `titreparal lang="zh"`
that is Japanese). A field that fails the check is dropped with a Reject; a record left
with no title at all is rejected whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from clirdata.checks.langid import DEFAULT_LANGUAGES, check_declared_language
from clirdata.schemas import LangText, Outcome, Record, Reject

STAGE = "check"
FIELD_STAGE = "check-fields"
LANGUAGE_TALLY = "language_check"  # "declared field read-as": fields, e.g. "fr abstract fr" (kept), "en title fr"
_FIELDS = ("title", "subtitle", "abstract", "keywords")


def check_record(record: Record, candidates: Iterable[str] = DEFAULT_LANGUAGES) -> Outcome:
    """Drop each field whose text is not in its declared language; count fields checked, and tally each
    field by declared language, name and the language it reads as (the card's language-check table)."""
    candidates = tuple(candidates)
    kept_texts: dict[str, LangText] = {}
    dropped: list[Reject] = []
    tallies: dict[str, int] = {}
    checked = 0
    for lang, text in record.texts.items():
        kept: dict[str, object] = {}
        for name in _FIELDS:
            value = getattr(text, name)
            if not value:
                continue
            checked += 1
            sample = ", ".join(value) if name == "keywords" else value
            detected = check_declared_language(sample, lang, candidates)
            verdict = f"{lang} {name} {detected or lang}"
            tallies[verdict] = tallies.get(verdict, 0) + 1
            if detected is None:
                kept[name] = value
            else:
                detail = f"{name} declared '{lang}' reads as '{detected}': {sample[:80]}"
                dropped.append(record.reject(FIELD_STAGE, "language-mismatch", detail))
        kept_text = LangText(**kept)
        if not kept_text.is_empty():
            kept_texts[lang] = kept_text
    counts = ((FIELD_STAGE, "in", checked), (FIELD_STAGE, "out", checked - len(dropped)),
              (FIELD_STAGE, "rejected", len(dropped)))
    if not any(text.title for text in kept_texts.values()):
        value = record.reject(STAGE, "no-title-after-check", "no title is left in its declared language")
    else:
        value = replace(record, texts=kept_texts)
    return Outcome(value, tuple(dropped), counts, tuple((LANGUAGE_TALLY, key, n) for key, n in sorted(tallies.items())))
