"""The oai_dc mapper and the ListRecords page parser: pure, page bytes in, Records and Rejects out.

Any OAI-PMH repository serving `oai_dc` (Érudit, SciELO, HAL, OJS journals): titles, abstracts and
keywords per `xml:lang`, DOI, year, journal, licence. The page is parsed by `xmlsafe`, the one policy
for untrusted XML (no entity is expanded or kept: a page that declares any is refused). The network
side (paging, retries, resume) is `clirdata.readers.oai`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from lxml import etree

from clirdata.extractors.text import clean_text, fix_mojibake, fold_key, language_code, licence_of
from clirdata.extractors.xmlsafe import UnsafeXml, parse_untrusted
from clirdata.schemas.records import LangText, Record, Reject, sha256_hex

EXTRACTOR_VERSION = "oai-1"
MAX_PAGE_BYTES = 50_000_000  # one ListRecords page

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
DC_NS = "http://purl.org/dc/elements/1.1/"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_OAI = f"{{{OAI_NS}}}"
_DC = f"{{{DC_NS}}}"

_DOI = re.compile(
    r"^(?:(?:https?://)?(?:dx\.|www\.)?doi\.org/|doi\s*:\s*|info:doi/|urn:doi:)?"
    r"(10\.\d{4,9}/\S+)$",
    re.IGNORECASE,
)
# A subject that is a classification code: HAL's domains ("[INFO.INFO-AI]Computer Science [cs]/...", upper-case
# codes, so a keyword such as "[18F]FDG" stays), or a scheme-prefixed notation ("ddc:370", "JEL: I21",
# "msc:68T50", "PACS 42.65"), as OJS and DSpace write them.
_CLASSIFICATION = re.compile(r"^(?:\[[A-Z]{2,5}(?:\.[A-Z0-9-]+)*\]\s*[A-Za-z]"
                             r"|(?i:ddc|udc|jel|msc|pacs)\s*:\s*\S|(?i:ddc|msc|pacs)\s+\d+\.\d)")
_YEAR = re.compile(r"(?<!\d)([12]\d{3})(?!\d)")
_COUNT = re.compile(r"[0-9]{1,15}")  # ASCII only: "²".isdigit() is True but int("²") fails


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
    """A dc:subject as keywords: split on ";" (repositories pack several in one element), classification
    codes left out (HAL's `[SHS.EDU]Humanities and Social Sciences/Education`, `ddc:370`): they are
    subject headings of a scheme, in no one language, not an author's keywords."""
    parts = (clean_text(part) for part in value.split(";"))
    return [kw for kw in parts if kw and not _CLASSIFICATION.match(kw)]


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
            return language_code(lang)
        if node is stop:
            break
        node = node.getparent()
    return ""


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
            lang = language_code(token)
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


def parse_record(
    record: etree._Element, source: str, page_uri: str
) -> Record | Reject:
    """One OAI <record> as a Record, or a Reject if it is deleted or has no metadata."""
    header = record.find(f"{_OAI}header")
    identifier = clean_text(header.findtext(f"{_OAI}identifier")) if header is not None else ""
    uri = f"{page_uri}#{identifier}"
    if not identifier:
        detail = "record without header identifier"
        return Reject(source, uri, "extract", "no-identifier", detail)
    if header.get("status") == "deleted":
        return Reject(source, uri, "extract", "deleted", "header status=deleted", identifier)
    metadata = record.find(f"{_OAI}metadata")
    if metadata is None or len(metadata) == 0:
        detail = "record without metadata"
        return Reject(source, uri, "extract", "no-metadata", detail, identifier)

    dc = _collect_dc(metadata)
    languages = _languages(dc)
    main_lang = languages[0] if languages else ""
    doi, url = _doi_and_url(dc.texts("identifier"))
    texts, repairs = _texts_by_language(dc, metadata, main_lang)
    # dc:source names the journal; Érudit puts it in dc:relation as "Journal ; vol. 6 no. 2 (2015)".
    journals = dc.texts("source") or [relation.split(" ; ")[0] for relation in dc.texts("relation")]
    return Record(
        source=source,
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
        license=licence_of(dc.texts("rights")),
        url=url,
    )


def page_reject(source: str, page_uri: str, reason: str, detail: str) -> Reject:
    """A Reject for a whole page (stage "read")."""
    return Reject(source, page_uri, "read", reason, detail)


def _malformed(source: str, page_uri: str, detail: str) -> OaiPage:
    return OaiPage([page_reject(source, page_uri, "malformed-xml", detail)], malformed=True)


def _count(value: str | None) -> int | None:
    """An attribute such as completeListSize as a number, or None unless it is plain ASCII digits."""
    value = (value or "").strip()
    return int(value) if _COUNT.fullmatch(value) else None


def parse_list_records(page: bytes, source: str, page_uri: str, max_bytes: int = MAX_PAGE_BYTES) -> OaiPage:
    """Parse one ListRecords response into Records and Rejects, plus the resumption token.

    A malformed page or one that is not OAI-PMH gives one ``malformed-xml`` Reject; an OAI
    error other than ``noRecordsMatch`` gives one ``oai-error`` Reject. Never raises.
    """
    try:
        root = parse_untrusted(page, max_bytes, keep_namespaces=True).root
    except UnsafeXml as err:
        return OaiPage([page_reject(source, page_uri, err.reason, str(err))], error=(err.reason, str(err)))
    except etree.XMLSyntaxError as err:
        return _malformed(source, page_uri, str(err) or "not XML")
    if root.tag != f"{_OAI}OAI-PMH":
        return _malformed(source, page_uri, f"not an OAI-PMH response: root element {root.tag!r}")

    error = root.find(f"{_OAI}error")
    if error is not None:
        code = error.get("code", "") or "unknown"
        message = clean_text(_element_text(error))
        rejects = [] if code == "noRecordsMatch" else [
            page_reject(source, page_uri, "oai-error", f"{code}: {message}")
        ]
        return OaiPage(rejects, error=(code, message))

    list_records = root.find(f"{_OAI}ListRecords")
    if list_records is None:
        return _malformed(source, page_uri, "OAI-PMH response without ListRecords or error")
    records = [parse_record(r, source, page_uri) for r in list_records.findall(f"{_OAI}record")]
    token_el = list_records.find(f"{_OAI}resumptionToken")
    token, size = None, None
    if token_el is not None:
        token = (token_el.text or "").strip() or None
        size = _count(token_el.get("completeListSize"))
    return OaiPage(records, token, None, size)


def parse_identify(page: bytes, max_bytes: int = MAX_PAGE_BYTES) -> str:
    """The repositoryName of an OAI-PMH Identify response ("" when there is none). Raises UnsafeXml (a
    ValueError) for bytes that declare entities, ValueError when they are not an Identify response."""
    try:
        root = parse_untrusted(page, max_bytes, keep_namespaces=True).root
    except etree.XMLSyntaxError as err:
        raise ValueError(f"not a usable Identify response: {err}") from err
    identify = root.find(f"{_OAI}Identify") if root.tag == f"{_OAI}OAI-PMH" else None
    if identify is None:
        raise ValueError(f"not an OAI-PMH Identify response: root element {root.tag!r}")
    return clean_text(identify.findtext(f"{_OAI}repositoryName"))

