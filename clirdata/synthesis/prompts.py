"""Summarize-then-ask (SAP) prompts: render chat messages from the packaged templates, parse answers.

The instruction and the exemplars depend only on the query language and the number of shots, and the
passage comes last, so every prompt of a run shares one long prefix (vLLM and llama.cpp reuse it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

MAX_SHOTS = 5
TEMPLATE_FILE = "sap.json"
JUNK_TOLERANCE = 16  # characters after the query line that are still accepted (e.g. a stray "</s>")
_SENTENCE_END = ("?", "？", "؟", ".", "!", "。")
_QUOTES = "\"'`“”„«»‘’‹›"
_SUMMARY, _QUERY = "Summary:", "Query:"

Message = dict[str, str]


@dataclass(frozen=True)
class Exemplar:
    """One hand-written shot: a passage, its extractive summary, and a query per target language."""

    lang: str
    title: str
    text: str
    summary: str
    queries: dict[str, str]


@dataclass(frozen=True)
class Templates:
    """The SAP prompt data of one version: instruction, message templates and exemplars."""

    version: str
    languages: dict[str, str]
    system: str
    user: str
    title_suffix: str
    assistant: str
    exemplars: tuple[Exemplar, ...]

    def language_name(self, code: str) -> str:
        """English name of an ISO 639-1 code, as the instruction names it to the model."""
        if code not in self.languages:
            raise ValueError(f"no SAP prompt for language {code!r}; known: {sorted(self.languages)}")
        return self.languages[code]


@dataclass(frozen=True)
class Parsed:
    """A well-formed model answer."""

    summary: str
    query: str


@dataclass(frozen=True)
class ParseError:
    """A model answer that does not follow the `Summary:` / `Query:` form; `reason` is a stable code."""

    reason: str
    detail: str = ""


@lru_cache(maxsize=4)
def load_templates(name: str = TEMPLATE_FILE) -> Templates:
    """Load a template file shipped in clirdata/prompts/ (package data)."""
    raw = json.loads(resources.files("clirdata").joinpath("prompts").joinpath(name).read_text(encoding="utf-8"))
    exemplars = tuple(Exemplar(**item) for item in raw.pop("exemplars"))
    return Templates(exemplars=exemplars, **raw)


def _user_message(t: Templates, text: str, title: str, passage_lang: str, query_lang: str) -> Message:
    title = " ".join(title.split())
    title_suffix = t.title_suffix.format(title=title) if title else ""
    content = t.user.format(
        passage_language=t.language_name(passage_lang),
        query_language=t.language_name(query_lang),
        title_suffix=title_suffix,
        text=text,
    )
    return {"role": "user", "content": content}


def _shot(t: Templates, ex: Exemplar, query_lang: str) -> list[Message]:
    answer = t.assistant.format(summary=ex.summary, query=ex.queries[query_lang])
    return [_user_message(t, ex.text, ex.title, ex.lang, query_lang), {"role": "assistant", "content": answer}]


def render_prompt(
    passage: str,
    title: str,
    passage_lang: str,
    query_lang: str,
    shots: int,
    templates: Templates | None = None,
) -> list[Message]:
    """Chat messages: the instruction, `shots` exemplars (user/assistant pairs), then the passage."""
    t = templates or load_templates()
    if not 0 <= shots <= min(MAX_SHOTS, len(t.exemplars)):
        raise ValueError(f"shots must be between 0 and {MAX_SHOTS}, got {shots}")
    messages = [{"role": "system", "content": t.system.format(query_language=t.language_name(query_lang))}]
    for ex in t.exemplars[:shots]:
        messages.extend(_shot(t, ex, query_lang))
    messages.append(_user_message(t, passage, title, passage_lang, query_lang))
    return messages


def flatten(messages: list[Message]) -> str:
    """One canonical string for a conversation: the prompt text that cache keys hash."""
    return json.dumps(messages, ensure_ascii=False, separators=(",", ":"))


def _strip_quotes(text: str) -> str:
    return text.strip().strip(_QUOTES).strip()


def parse_output(text: str) -> Parsed | ParseError:
    """Strictly read `Summary: ...` then `Query: ...` (one line each); anything else is a ParseError.

    Reasons: empty, no-summary, no-query (also an answer cut inside the summary), malformed (lines
    between the two), empty-query, truncated (the query does not end as a sentence does: cut at
    max_tokens), extra-text.
    """
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ParseError("empty")
    if not lines[0].startswith(_SUMMARY) or not lines[0][len(_SUMMARY) :].strip():
        return ParseError("no-summary", lines[0][:80])
    query_at = next((i for i, line in enumerate(lines) if line.startswith(_QUERY)), None)
    if query_at is None:
        return ParseError("no-query", lines[-1][:80])
    if query_at != 1:
        return ParseError("malformed", lines[1][:80])
    query = _strip_quotes(lines[1][len(_QUERY) :])
    if not query:
        return ParseError("empty-query")
    if not query.endswith(_SENTENCE_END):
        return ParseError("truncated", query[-80:])
    junk = " ".join(lines[2:])
    if len(junk) > JUNK_TOLERANCE:
        return ParseError("extra-text", junk[:80])
    return Parsed(summary=_strip_quotes(lines[0][len(_SUMMARY) :]), query=query)
