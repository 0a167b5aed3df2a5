"""Shapes of the items that travel through a build: raw inputs, records, rejects."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of raw bytes: the fingerprint that ties every row to its input."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Origin:
    """Where a raw item came from: the source name and a URI (path, archive member or URL)."""

    source: str
    uri: str


@dataclass(frozen=True)
class RawItem:
    """The bytes of one input file or HTTP response, with its origin."""

    origin: Origin
    data: bytes

    @property
    def sha256(self) -> str:
        return sha256_hex(self.data)


@dataclass(frozen=True)
class Reject:
    """An input (or a field of one) that did not make it into the output, and why.

    `reason` is a short stable code (``malformed-xml``, ``language-mismatch``); `detail`
    says what exactly was wrong, for a human.
    """

    source: str
    source_uri: str
    stage: str
    reason: str
    detail: str = ""
    source_id: str = ""


@dataclass(frozen=True)
class LangText:
    """One language's metadata of an article: title, subtitle, abstract, keywords."""

    title: str = ""
    subtitle: str = ""
    abstract: str = ""
    keywords: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (self.title or self.subtitle or self.abstract or self.keywords)


@dataclass(frozen=True)
class Record:
    """One article (or other bibliographic item) with its text per language.

    `texts` maps an ISO 639-1 code to that language's fields; `main_lang` is the
    language the item was written in, as declared by the source. `repairs` names what the
    extractor had to mend to read it (``mojibake:title:fr``), for the build's tally.
    """

    source: str
    source_id: str
    source_uri: str
    sha256: str
    extractor_version: str
    main_lang: str
    texts: dict[str, LangText] = field(default_factory=dict)
    kind: str = "article"
    doi: str = ""
    journal: str = ""
    year: int | None = None
    license: str = ""
    url: str = ""
    repairs: tuple[str, ...] = ()

    def reject(self, stage: str, reason: str, detail: str = "") -> Reject:
        """A Reject that points back at this record."""
        return Reject(self.source, self.source_uri, stage, reason, detail, self.source_id)


@dataclass(frozen=True)
class Outcome:
    """What a step made of one input when a plain `value | Reject` is not enough.

    `value` goes on (or is itself a Reject); `rejects` are side rejects (e.g. dropped
    fields); `counts` are extra stage counters, as ``(stage, "in"|"out"|"rejected", n)``; `tallies`
    are other figures for the manifest (licences, repairs), as ``(kind, name, n)``: they travel as
    data, summed per (kind, name) in the workers, never through the counters.
    """

    value: Any
    rejects: tuple[Reject, ...] = ()
    counts: tuple[tuple[str, str, int], ...] = ()
    tallies: tuple[tuple[str, str, int], ...] = ()
