"""Érudit Article XML (schema 3.0.0, with or without its namespace) to a Record.

Pure: bytes in, a Record or a Reject out. Reads the article's front matter (`liminaire`)
and its `admin` block; the body is not needed for a CLIR collection of metadata.
"""

from __future__ import annotations

import re

from lxml import etree

from clirdata.extractors.text import clean_text
from clirdata.extractors.xmlsafe import DEFAULT_MAX_BYTES, UnsafeXml, parse_untrusted_xml
from clirdata.schemas import LangText, RawItem, Record, Reject

EXTRACTOR_VERSION = "erudit-1"
STAGE = "extract"

# Elements whose text is not part of the running text they sit in.
_DROPPED = {"renvoi", "no"}
_CC_URL = re.compile(r"creativecommons\.org/licen[cs]es/([a-z-]+)/(\d\.\d)", re.I)


def parse_article(item: RawItem, max_bytes: int = DEFAULT_MAX_BYTES) -> Record | Reject:
    """Parse one Érudit article; every problem becomes a Reject with a reason code."""
    uri = item.origin.uri

    def reject(reason: str, detail: str, source_id: str = "") -> Reject:
        return Reject(item.origin.source, uri, STAGE, reason, detail, source_id)

    if not item.data.strip():
        return reject("empty-file", "the file has no content")
    try:
        root = parse_untrusted_xml(item.data, max_bytes)
    except UnsafeXml as error:
        return reject(error.reason, str(error))
    except etree.XMLSyntaxError as error:
        reason = "truncated-xml" if _looks_truncated(error, item.data) else "malformed-xml"
        return reject(reason, str(error))
    if root.tag != "article":
        return reject("not-erudit-article", f"root element is <{root.tag}>, not <article>")
    source_id = root.get("idproprio", "").strip()
    if not source_id:
        return reject("no-id", "the article has no idproprio attribute")

    languages = _languages(root.get("lang", ""))
    main_lang = languages[0] if languages else ""
    texts = _texts(root, main_lang)
    if not any(text.title for text in texts.values()):
        return reject("empty-title", "no title in any language", source_id)
    doi = _first_text(root, "admin/infoarticle/idpublic[@scheme='doi']")
    return Record(
        source=item.origin.source,
        source_id=source_id,
        source_uri=uri,
        sha256=item.sha256,
        extractor_version=EXTRACTOR_VERSION,
        main_lang=main_lang,
        texts=texts,
        kind=root.get("typeart", "article"),
        doi=doi,
        journal=_first_text(root, "admin/revue/titrerev"),
        year=_year(_first_text(root, "admin/numero/pub/annee")),
        license=_license(root),
        url=f"https://doi.org/{doi}" if doi else f"https://id.erudit.org/iderudit/{source_id}",
    )


def _looks_truncated(error: etree.XMLSyntaxError, raw: bytes) -> bool:
    """True when the parser failed because the data ran out, not on a bad tag mid-file."""
    if "Premature end of data" in str(error):
        return True
    lines = raw.rstrip().split(b"\n")
    line, column = error.position
    last = lines[-1].decode("utf-8", "replace")
    return line == len(lines) and column >= len(last) - 1


def _languages(attribute: str) -> list[str]:
    return [_lang_code(code) for code in attribute.split() if code.strip()]


def _lang_code(code: str) -> str:
    return code.strip().lower().replace("_", "-").split("-")[0]


def flatten(element: etree._Element) -> str:
    """The clean text of an element: inline markup kept, footnote calls (`renvoi`) dropped."""
    parts: list[str] = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and child.tag not in _DROPPED:
            parts.append(flatten(child))
        parts.append(child.tail or "")
    return clean_text("".join(parts))


def _first_text(root: etree._Element, path: str) -> str:
    found = root.find(path)
    return flatten(found) if found is not None else ""


def _texts(root: etree._Element, main_lang: str) -> dict[str, LangText]:
    """Title, subtitle, abstract and keywords per language, from `liminaire`."""
    fields: dict[str, dict] = {}

    def put(lang: str, name: str, value: str | tuple) -> None:
        if value and not fields.setdefault(lang, {}).get(name):
            fields[lang][name] = value

    title_group = root.find("liminaire/grtitre")
    if title_group is not None:
        put(main_lang, "title", _first_text(title_group, "titre") or _first_text(title_group, "trefbiblio"))
        put(main_lang, "subtitle", _first_text(title_group, "sstitre"))
        for element in title_group.findall("titreparal"):
            put(_lang_code(element.get("lang", "")), "title", flatten(element))
        for element in title_group.findall("sstitreparal"):
            put(_lang_code(element.get("lang", "")), "subtitle", flatten(element))
    for element in root.findall("liminaire/resume"):
        paragraphs = [flatten(alinea) for alinea in element.iter("alinea")]
        put(_lang_code(element.get("lang", main_lang)), "abstract", " ".join(p for p in paragraphs if p))
    for element in root.findall("liminaire/grmotcle"):
        keywords = tuple(k for k in (flatten(m) for m in element.findall("motcle")) if k)
        put(_lang_code(element.get("lang", main_lang)), "keywords", keywords)
    texts = {lang: LangText(**values) for lang, values in fields.items() if lang}
    return {lang: text for lang, text in sorted(texts.items()) if not text.is_empty()}


def _year(text: str) -> int | None:
    match = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", text)
    return int(match.group(1)) if match else None


def _license(root: etree._Element) -> str:
    """A Creative Commons licence as `CC BY-NC 4.0` when linked, else the rights statement."""
    statements: list[str] = []
    for rights in root.findall("admin/droitsauteur"):
        for link in rights.iter("liensimple"):
            href = next((v for k, v in link.attrib.items() if k.endswith("href")), "")
            match = _CC_URL.search(href)
            if match:
                return f"CC {match.group(1).upper()} {match.group(2)}"
        statement = flatten(rights)
        if statement:
            statements.append(statement)
    return "; ".join(statements)
