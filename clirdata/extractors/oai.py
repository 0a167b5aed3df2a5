"""OAI-PMH ListRecords harvester and oai_dc mapper, for any repository (Érudit, SciELO, HAL).

`parse_list_records` is pure (page bytes in, Records and Rejects out); `harvest` adds the
network: resumption-token paging, polite delays, tenacity retries, bounds that make every harvest
end, and a page store that lets a killed harvest resume. Every failure is a Reject, never an
exception, so a build can count what it lost.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote, urlencode

import requests
from lxml import etree

from clirdata.extractors.http import (
    DEADLINE_S,
    RETRY_AFTER_CAP_S,
    FetchFailed,
    RetryableBody,
    fetch,
    http_session,
    wait_strategy,
)
from clirdata.extractors.text import clean_text, fix_mojibake, fold_key
from clirdata.schemas.records import LangText, Record, Reject, sha256_hex

EXTRACTOR_VERSION = "oai-1"
USER_AGENT = "clirdata-oai/1 (OAI-PMH harvester for CLIR test collections)"

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
DC_NS = "http://purl.org/dc/elements/1.1/"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_OAI = f"{{{OAI_NS}}}"
_DC = f"{{{DC_NS}}}"

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

_DOI = re.compile(
    r"^(?:(?:https?://)?(?:dx\.|www\.)?doi\.org/|doi\s*:\s*|info:doi/|urn:doi:)?"
    r"(10\.\d{4,9}/\S+)$",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<!\d)([12]\d{3})(?!\d)")
_COUNT = re.compile(r"[0-9]{1,15}")  # ASCII only: "²".isdigit() is True but int("²") fails
_LOG = logging.getLogger("clirdata")


@dataclass(frozen=True)
class OaiRequest:
    """What to harvest: a repository endpoint, a metadata format and optional set and dates."""

    base_url: str
    metadata_prefix: str = "oai_dc"
    set_spec: str | None = None
    from_date: str | None = None  # YYYY-MM-DD
    until_date: str | None = None
    source: str = "oai"  # the Record.source / Reject.source name

    def state_key(self) -> str:
        """A name for this request's saved pages: the same for the same server request, else different.

        `source` is left out: it names the output, not what the server is asked.
        """
        asked = [self.base_url, self.metadata_prefix, self.set_spec, self.from_date, self.until_date]
        return hashlib.sha256(json.dumps(asked).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class OaiPage:
    """One parsed ListRecords response: its items, the token to the next page, any OAI error.

    `error` is ``(code, message)`` of an OAI-PMH ``<error>``; every error except
    ``noRecordsMatch`` is also in `records` as one ``oai-error`` Reject. `malformed` is True when
    the bytes are not a ListRecords response at all (then `records` is one ``malformed-xml`` Reject):
    a truncated page, worth fetching again.
    """

    records: list[Record | Reject] = field(default_factory=list)
    resumption_token: str | None = None
    error: tuple[str, str] | None = None
    complete_list_size: int | None = None
    malformed: bool = False


# --------------------------------------------------------------------------- pure helpers


def normalize_lang(code: str | None) -> str:
    """An ISO 639-1 code from a language tag ("fr-CA", "en_US", "fre", "FRA"), or "" if unknown."""
    base = re.split(r"[-_]", (code or "").strip().lower(), maxsplit=1)[0]
    if len(base) == 2 and base.isalpha():
        return base
    return _ISO639_2_TO_1.get(base, "")


def extract_doi(value: str | None) -> str:
    """The bare DOI ("10.xxxx/...") in a doi.org link, "doi:", "info:doi/" or bare form, else ""."""
    match = _DOI.match(unquote((value or "").strip()))
    if not match:
        return ""
    return match.group(1).rstrip(".,;")


def first_year(values: list[str]) -> int | None:
    """The first four-digit year (1000–2999) found in the dc:date values, in order."""
    for value in values:
        match = _YEAR.search(value)
        if match:
            return int(match.group(1))
    return None


def split_subject(value: str) -> list[str]:
    """A dc:subject as keywords: split on ";" (repositories pack several in one element)."""
    return [kw for kw in (clean_text(part) for part in value.split(";")) if kw]


def _element_text(element: etree._Element) -> str:
    """Text of an element and its child elements, skipping entity, comment and PI nodes.

    Unlike ``itertext()``, an unresolved entity contributes nothing (not "&xxe;").
    """
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str):
            parts.append(_element_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _declared_lang(element: etree._Element, stop: etree._Element) -> str:
    """The normalised xml:lang of an element or of its ancestors up to `stop`, or ""."""
    node: etree._Element | None = element
    while node is not None:
        lang = node.get(_XML_LANG)
        if lang is not None:
            return normalize_lang(lang)
        if node is stop:
            break
        node = node.getparent()
    return ""


def _secure_parser() -> etree.XMLParser:
    """A parser that resolves no entity and fetches nothing (no XXE, no billion laughs)."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )


# --------------------------------------------------------------------------- oai_dc mapping


@dataclass
class _LangFields:
    """Fields of one language while a record is read; becomes a LangText."""

    title: str = ""
    abstracts: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)

    def to_lang_text(self) -> LangText:
        """The LangText, keeping the longest abstract and the first of equal keywords."""
        seen: set[str] = set()
        keywords = []
        for keyword in self.keywords:
            key = fold_key(keyword)
            if key and key not in seen:
                seen.add(key)
                keywords.append(keyword)
        abstract = max(self.abstracts, key=len, default="")
        return LangText(title=self.title, abstract=abstract, keywords=tuple(keywords))


@dataclass
class _DcValues:
    """The dc:* elements of one record, grouped by local name, in document order."""

    by_name: dict[str, list[etree._Element]] = field(default_factory=dict)

    def elements(self, name: str) -> list[etree._Element]:
        """The dc:<name> elements, in document order."""
        return self.by_name.get(name, [])

    def texts(self, name: str) -> list[str]:
        """The cleaned, non-empty texts of the dc:<name> elements."""
        return [t for t in (clean_text(_element_text(e)) for e in self.elements(name)) if t]


def _collect_dc(metadata: etree._Element) -> _DcValues:
    """Every Dublin Core element under <metadata>, whatever wraps it (oai_dc:dc or none)."""
    values = _DcValues()
    for element in metadata.iter():
        if isinstance(element.tag, str) and element.tag.startswith(_DC):
            values.by_name.setdefault(element.tag[len(_DC):], []).append(element)
    return values


def _languages(dc: _DcValues) -> list[str]:
    """Declared languages in order, from "en fr" lists or several dc:language elements."""
    langs: list[str] = []
    for value in dc.texts("language"):
        for token in re.split(r"[\s,;]+", value):
            lang = normalize_lang(token)
            if lang and lang not in langs:
                langs.append(lang)
    return langs


def _texts_by_language(
    dc: _DcValues, metadata: etree._Element, main_lang: str
) -> tuple[dict[str, LangText], tuple[str, ...]]:
    """Titles, abstracts and keywords per language (untagged ones go to the main language), and
    the mojibake repairs made, as `mojibake:{field}:{lang}`.

    Rules: the first title of a language wins; of several descriptions in one language the
    longest is the abstract (the others are usually notes such as "Includes references");
    subjects are split on ";". With no main language, untagged text goes under "und".
    """
    fallback = main_lang or "und"
    fields: dict[str, _LangFields] = {}
    repairs: list[str] = []

    def lang_of(element: etree._Element) -> str:
        return _declared_lang(element, metadata) or fallback

    def text_of(element: etree._Element, name: str) -> str:
        text = clean_text(_element_text(element))
        fixed = fix_mojibake(text)
        if fixed != text and (label := f"mojibake:{name}:{lang_of(element)}") not in repairs:
            repairs.append(label)
        return fixed

    def slot(element: etree._Element) -> _LangFields:
        return fields.setdefault(lang_of(element), _LangFields())

    for element in dc.elements("title"):
        text, target = text_of(element, "title"), slot(element)
        if text and not target.title:
            target.title = text
    for element in dc.elements("description"):
        text = text_of(element, "abstract")
        if text:
            slot(element).abstracts.append(text)
    for element in dc.elements("subject"):
        slot(element).keywords.extend(split_subject(text_of(element, "keywords")))

    texts = {lang: f.to_lang_text() for lang, f in fields.items()}
    ordered = sorted(texts, key=lambda lang: lang != main_lang)  # main language first
    return {lang: texts[lang] for lang in ordered if not texts[lang].is_empty()}, tuple(repairs)


def _doi_and_url(identifiers: list[str]) -> tuple[str, str]:
    """The first DOI among the identifiers, and the first http(s) one that is not a DOI link."""
    doi = next((d for d in map(extract_doi, identifiers) if d), "")
    url = next(
        (
            value
            for value in identifiers
            if value.lower().startswith(("http://", "https://")) and not extract_doi(value)
        ),
        "",
    )
    return doi, url


def _join_unique(values: list[str]) -> str:
    """Distinct values joined with "; ", in order."""
    return "; ".join(dict.fromkeys(values))


def parse_record(
    record: etree._Element, request: OaiRequest, page_uri: str
) -> Record | Reject:
    """One OAI <record> as a Record, or a Reject if it is deleted or has no metadata."""
    header = record.find(f"{_OAI}header")
    identifier = clean_text(header.findtext(f"{_OAI}identifier")) if header is not None else ""
    uri = f"{page_uri}#{identifier}"
    if not identifier:
        detail = "record without header identifier"
        return Reject(request.source, uri, "extract", "no-identifier", detail)
    if header.get("status") == "deleted":
        return Reject(request.source, uri, "extract", "deleted", "header status=deleted", identifier)
    metadata = record.find(f"{_OAI}metadata")
    if metadata is None or len(metadata) == 0:
        detail = "record without metadata"
        return Reject(request.source, uri, "extract", "no-metadata", detail, identifier)

    dc = _collect_dc(metadata)
    languages = _languages(dc)
    main_lang = languages[0] if languages else ""
    doi, url = _doi_and_url(dc.texts("identifier"))
    texts, repairs = _texts_by_language(dc, metadata, main_lang)
    # dc:source names the journal; Érudit puts it in dc:relation as "Journal ; vol. 6 no. 2 (2015)".
    journals = dc.texts("source") or [relation.split(" ; ")[0] for relation in dc.texts("relation")]
    return Record(
        source=request.source,
        source_id=identifier,
        source_uri=uri,
        sha256=sha256_hex(etree.tostring(record, with_tail=False)),
        extractor_version=EXTRACTOR_VERSION,
        main_lang=main_lang,
        texts=texts,
        repairs=repairs,
        doi=doi,
        journal=journals[0] if journals else "",
        year=first_year(dc.texts("date")),
        license=_join_unique(dc.texts("rights")),
        url=url,
    )


def _page_reject(request: OaiRequest, page_uri: str, reason: str, detail: str) -> Reject:
    """A Reject for a whole page (stage "read")."""
    return Reject(request.source, page_uri, "read", reason, detail)


def _malformed(request: OaiRequest, page_uri: str, detail: str) -> OaiPage:
    return OaiPage([_page_reject(request, page_uri, "malformed-xml", detail)], malformed=True)


def _count(value: str | None) -> int | None:
    """An attribute such as completeListSize as a number, or None unless it is plain ASCII digits."""
    value = (value or "").strip()
    return int(value) if _COUNT.fullmatch(value) else None


def parse_list_records(page: bytes, request: OaiRequest, page_uri: str) -> OaiPage:
    """Parse one ListRecords response into Records and Rejects, plus the resumption token.

    A malformed page or one that is not OAI-PMH gives one ``malformed-xml`` Reject; an OAI
    error other than ``noRecordsMatch`` gives one ``oai-error`` Reject. Never raises.
    """
    try:
        root = etree.fromstring(page, _secure_parser())
    except etree.XMLSyntaxError as err:
        return _malformed(request, page_uri, str(err) or "not XML")
    if root.tag != f"{_OAI}OAI-PMH":
        return _malformed(request, page_uri, f"not an OAI-PMH response: root element {root.tag!r}")

    error = root.find(f"{_OAI}error")
    if error is not None:
        code = error.get("code", "") or "unknown"
        message = clean_text(_element_text(error))
        rejects = [] if code == "noRecordsMatch" else [
            _page_reject(request, page_uri, "oai-error", f"{code}: {message}")
        ]
        return OaiPage(rejects, error=(code, message))

    list_records = root.find(f"{_OAI}ListRecords")
    if list_records is None:
        return _malformed(request, page_uri, "OAI-PMH response without ListRecords or error")
    records = [parse_record(r, request, page_uri) for r in list_records.findall(f"{_OAI}record")]
    token_el = list_records.find(f"{_OAI}resumptionToken")
    token, size = None, None
    if token_el is not None:
        token = (token_el.text or "").strip() or None
        size = _count(token_el.get("completeListSize"))
    return OaiPage(records, token, None, size)


# --------------------------------------------------------------------------- network


def list_records_url(request: OaiRequest, resumption_token: str | None = None) -> str:
    """The ListRecords URL: all arguments first, then only the token (as OAI-PMH requires)."""
    if resumption_token is not None:
        params = [("verb", "ListRecords"), ("resumptionToken", resumption_token)]
    else:
        params = [("verb", "ListRecords"), ("metadataPrefix", request.metadata_prefix)]
        optional = (("set", request.set_spec), ("from", request.from_date), ("until", request.until_date))
        params += [(name, value) for name, value in optional if value]
    separator = "&" if "?" in request.base_url else "?"
    return f"{request.base_url}{separator}{urlencode(params)}"


@dataclass(frozen=True)
class HarvestOptions:
    """How patient and how polite a harvest is, and the bounds that make it end on its own.

    delay_s: pause between two requests. max_retries: retries of one page (5xx, 429, timeouts,
    truncated pages). timeout_s: longest silence between two bytes. deadline_s: longest time for one
    whole response. max_page_bytes: largest page. backoff_s / backoff_max_s: exponential backoff when
    the server gives no Retry-After. retry_after_cap_s: longest Retry-After honoured (longer ones are
    capped and logged). max_empty_pages: pages in a row without a record, yet with a resumptionToken,
    after which the harvest ends with a reject.
    """

    delay_s: float = 1.0
    max_retries: int = 5
    timeout_s: float = 60.0
    deadline_s: float = DEADLINE_S
    max_page_bytes: int = 50_000_000
    backoff_s: float = 2.0
    backoff_max_s: float = 120.0
    retry_after_cap_s: float = RETRY_AFTER_CAP_S
    max_empty_pages: int = 10

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.max_empty_pages < 1 or self.max_page_bytes < 1:
            raise ValueError("max_retries must be at least 0, max_empty_pages and max_page_bytes at least 1")
        if min(self.timeout_s, self.deadline_s) <= 0 or min(self.delay_s, self.retry_after_cap_s) < 0:
            raise ValueError("timeout_s and deadline_s must be positive, delay_s and retry_after_cap_s not negative")


class PageStore(Protocol):
    """Where a harvest keeps the raw bytes of each page it fetched, numbered from 0, to resume later."""

    def load(self, index: int) -> bytes | None:
        """The stored page `index`, or None when there is none (or it cannot be read)."""

    def save(self, index: int, body: bytes) -> None:
        """Keep page `index`, atomically: a page is either whole or absent."""


class NoStore:
    """A harvest that keeps nothing: every run fetches every page."""

    def load(self, index: int) -> bytes | None:
        return None

    def save(self, index: int, body: bytes) -> None:
        pass


class _EndlessGuard:
    """Ends a harvest that would never end: a token seen before, or too many empty pages in a row."""

    def __init__(self, max_empty_pages: int):
        self._max_empty = max_empty_pages
        self._empty_in_a_row = 0
        self._seen: set[bytes] = set()  # 16-byte digests: a long harvest's tokens stay small

    def reason_to_stop(self, page: OaiPage) -> tuple[str, str] | None:
        """(reason, detail) when this page's token must not be followed, else None."""
        token = page.resumption_token
        if token is None:
            return None
        self._empty_in_a_row = 0 if page.records else self._empty_in_a_row + 1
        if self._empty_in_a_row >= self._max_empty:
            return "empty-pages", f"{self._empty_in_a_row} pages in a row without a record, each with a new token"
        digest = hashlib.blake2b(token.encode(), digest_size=16).digest()
        if digest in self._seen:
            return "repeated-resumption-token", f"resumptionToken {token[:200]!r} was already followed"
        self._seen.add(digest)
        return None


def _stored_page(store: PageStore, index: int, request: OaiRequest, url: str) -> OaiPage | None:
    """Page `index` from the store, parsed; None when absent or unusable (it is fetched again)."""
    body = store.load(index)
    if body is None:
        return None
    page = parse_list_records(body, request, url)
    if page.malformed or page.error:
        _LOG.warning("harvest: stored page %d is unusable, fetching it again: %s", index, url)
        return None
    return page


def _fetch_page(session: requests.Session, url: str, request: OaiRequest,
                options: HarvestOptions) -> tuple[bytes, OaiPage]:
    """Fetch and parse one page; a truncated or non-OAI page is fetched again like a 503."""
    def parse(body: bytes) -> tuple[bytes, OaiPage]:
        page = parse_list_records(body, request, url)
        if page.malformed:
            raise RetryableBody("malformed-xml", page.records[0].detail)
        return body, page

    wait = wait_strategy(options.backoff_s, options.backoff_max_s, options.retry_after_cap_s)
    return fetch(session, url, max_retries=options.max_retries, timeout_s=options.timeout_s,
                 max_bytes=options.max_page_bytes, wait=wait, deadline_s=options.deadline_s, parse=parse)


def _pages(request: OaiRequest, options: HarvestOptions, store: PageStore,
           session: requests.Session) -> Iterator[tuple[str, OaiPage] | Reject]:
    """Every page in order, replayed from the store while it has them, then fetched (and stored).

    Ends after a page without a token, an OAI error, a page that cannot be fetched (one Reject),
    or a page whose token must not be followed (one Reject).
    """
    guard = _EndlessGuard(options.max_empty_pages)
    token: str | None = None
    index, replaying, fetched = 0, True, 0
    while True:
        url = list_records_url(request, token)
        page = _stored_page(store, index, request, url) if replaying else None
        if page is None:
            if replaying and index:
                _LOG.info("harvest: %d pages replayed from the saved state; resuming at %s", index, url)
            replaying = False
            if fetched and options.delay_s > 0:
                time.sleep(options.delay_s)
            fetched += 1
            try:
                body, page = _fetch_page(session, url, request, options)
            except FetchFailed as err:
                yield _page_reject(request, url, err.reason, err.detail)
                return
            if page.error is None:
                store.save(index, body)
        yield url, page
        stop = None if page.error else guard.reason_to_stop(page)
        if stop:
            yield _page_reject(request, url, *stop)
        if stop or page.error or not page.resumption_token:
            if replaying:
                _LOG.info("harvest: all %d pages replayed from the saved state, no request made", index + 1)
            return
        token, index = page.resumption_token, index + 1


def harvest(
    request: OaiRequest,
    options: HarvestOptions | None = None,
    *,
    store: PageStore | None = None,
    progress: Callable[[int, int], None] | None = None,
    user_agent: str = USER_AGENT,
) -> Iterator[Record | Reject]:
    """Yield every Record (and Reject) of a ListRecords harvest, page after page.

    With a `store`, each fetched page is kept, and a later harvest of the same request replays
    the kept pages without a request and goes on from the last token. Every failure ends the
    harvest with one Reject (stage "read"): a page that stays unfetchable or malformed after the
    retries, an OAI error, a repeated resumptionToken, too many empty pages in a row.
    `progress(done, total)` is called after each page; total is completeListSize or 0.
    """
    options = options or HarvestOptions()
    done = 0
    with http_session(user_agent) as session:
        for item in _pages(request, options, store or NoStore(), session):
            if isinstance(item, Reject):
                yield item
                continue
            _, page = item
            yield from page.records
            done += len(page.records)
            if progress is not None:
                progress(done, page.complete_list_size or 0)
