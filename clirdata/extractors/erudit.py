"""Érudit Article XML (schema 3.0.0, with or without its namespace) to a Record.

Pure: bytes in, a Record or a Reject out. Reads the article's front matter (`liminaire`)
and its `admin` block; the body is not needed for a CLIR collection of metadata.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from clirdata.extractors.text import cc_licence, clean_text, fix_mojibake, language_code, licence_of
from clirdata.extractors.xmlsafe import DEFAULT_MAX_BYTES, UnsafeXml, parse_untrusted
from clirdata.schemas import LangText, RawItem, Record, Reject

EXTRACTOR_VERSION = "erudit-2"
STAGE = "extract"

# Elements whose text is not part of the running text they sit in: footnote calls, numbers.
_DROPPED = {"renvoi", "no"}
# Elements whose children are words of their own: the parts of a person's name carry no spaces.
_SPACED_CHILDREN = {"nompers"}
# Block elements: their text never runs into the text around them.
_BLOCKS = {"alinea", "bloccitation", "elemliste", "ligne", "para", "verbatim"}
# The heading of an abstract, which is not part of its text.
_HEADINGS = {"titre", "sstitre"}


def parse_article(item: RawItem, max_bytes: int = DEFAULT_MAX_BYTES) -> Record | Reject:
    """Parse one Érudit article; every problem becomes a Reject with a reason code."""
    uri = item.origin.uri

    def reject(reason: str, detail: str, source_id: str = "") -> Reject:
        return Reject(item.origin.source, uri, STAGE, reason, detail, source_id)

    if not item.data.strip():
        return reject("empty-file", "the file has no content")
    try:
        parsed = parse_untrusted(item.data, max_bytes)
    except UnsafeXml as error:
        return reject(error.reason, str(error))
    except etree.XMLSyntaxError as error:
        reason = "truncated-xml" if _looks_truncated(error, item.data) else "malformed-xml"
        return reject(reason, str(error))
    root = parsed.root
    if root.tag != "article":
        return reject("not-erudit-article", f"root element is <{root.tag}>, not <article>")
    source_id = root.get("idproprio", "").strip()
    if not source_id:
        return reject("no-id", "the article has no idproprio attribute")

    languages = _languages(root.get("lang", ""))
    main_lang = languages[0] if languages else ""
    fields = _Fields(list(parsed.repairs))
    texts = _texts(root, languages, fields)
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
        journal=fields.repaired("journal", "", _first_text(root, "admin/revue/titrerev")),
        year=_year(_first_text(root, "admin/numero/pub/annee")),
        license=_license(root),
        url=f"https://doi.org/{doi}" if doi else f"https://id.erudit.org/iderudit/{source_id}",
        repairs=tuple(fields.repairs),
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
    return [code for code in map(language_code, attribute.split()) if code]


def flatten(element: etree._Element) -> str:
    """The text of an element as a reader sees it, white space folded once for the whole field.

    Inline markup (`marquage`, `exposant`, `liensimple`...) gives its text as it stands, with
    the spaces inside its edges; footnote calls (`renvoi`) are dropped; the parts of a person's
    name (`prenom`, `nomfamille`) and block elements (`alinea`) are kept apart by a space.
    """
    return clean_text("".join(_text_parts(element)))


def _text_parts(element: etree._Element) -> Iterator[str]:
    """The raw text pieces of `element` in reading order (the tree is at most 256 deep: libxml2's limit)."""
    spaced = element.tag in _SPACED_CHILDREN  # its white space between parts is layout: one space stands for it

    def own(text: str | None) -> str:
        return "" if not text or (spaced and text.isspace()) else text

    yield own(element.text)
    for index, child in enumerate(element):
        if isinstance(child.tag, str) and child.tag not in _DROPPED:
            block = child.tag in _BLOCKS
            yield " " if block or (spaced and index > 0) else ""
            yield from _text_parts(child)
            yield " " if block else ""
        yield own(child.tail)


def _first_text(root: etree._Element, path: str) -> str:
    found = root.find(path)
    return flatten(found) if found is not None else ""


class _Fields:
    """The fields of an article per language, first value wins, with the mojibake repairs made."""

    def __init__(self, repairs: list[str]):
        self.values: dict[str, dict[str, str | tuple[str, ...]]] = {}
        self.repairs = repairs

    def repaired(self, name: str, lang: str, text: str) -> str:
        """`text` with mojibake undone; a repair is recorded as `mojibake:{name}[:{lang}]`."""
        fixed = fix_mojibake(text)
        if fixed != text:
            fixed = clean_text(fixed)
            label = f"mojibake:{name}:{lang}" if lang else f"mojibake:{name}"
            if label not in self.repairs:
                self.repairs.append(label)
        return fixed

    def put(self, lang: str, name: str, value: str | tuple[str, ...]) -> None:
        """Keep `value` as `lang`'s `name` unless the field is taken (or has no language)."""
        if not lang or self.values.get(lang, {}).get(name):
            return
        if isinstance(value, str):
            value = self.repaired(name, lang, value)
        else:
            value = tuple(k for k in (self.repaired(name, lang, v) for v in value) if k)
        if value:
            self.values.setdefault(lang, {})[name] = value


def title_language(languages: list[str], title_group: etree._Element) -> str:
    """The language of `titre`: the first of the article's languages that no `titreparal` claims.

    With `lang="fr en"`, an English `titre` and a `titreparal lang="fr"`, the titre is English.
    When every listed language is claimed (or none is listed), it is the main (first) language.
    """
    claimed = {language_code(element.get("lang", "")) for element in title_group.findall("titreparal")}
    return next((lang for lang in languages if lang not in claimed), languages[0] if languages else "")


def _texts(root: etree._Element, languages: list[str], fields: _Fields) -> dict[str, LangText]:
    """Title, subtitle, abstract and keywords per language, from `liminaire`."""
    main_lang = languages[0] if languages else ""
    title_group = root.find("liminaire/grtitre")
    if title_group is not None:
        lang = title_language(languages, title_group)
        fields.put(lang, "title", _first_text(title_group, "titre") or _first_text(title_group, "trefbiblio"))
        fields.put(lang, "subtitle", _first_text(title_group, "sstitre"))
        for element in title_group.findall("titreparal"):
            fields.put(language_code(element.get("lang", "")), "title", flatten(element))
        for element in title_group.findall("sstitreparal"):
            fields.put(language_code(element.get("lang", "")), "subtitle", flatten(element))
    for element in root.findall("liminaire/resume"):
        fields.put(language_code(element.get("lang", main_lang)), "abstract", _abstract(element))
    for element in root.findall("liminaire/grmotcle"):
        keywords = tuple(flatten(motcle) for motcle in element.findall("motcle"))
        fields.put(language_code(element.get("lang", main_lang)), "keywords", keywords)
    texts = {lang: LangText(**values) for lang, values in fields.values.items()}
    return {lang: text for lang, text in sorted(texts.items()) if not text.is_empty()}


def _abstract(resume: etree._Element) -> str:
    """The text of a `resume` without its own heading ("Résumé", "Abstract")."""
    parts = [resume.text or ""]
    for child in resume:
        if isinstance(child.tag, str) and child.tag not in _HEADINGS and child.tag not in _DROPPED:
            parts += [" ", *_text_parts(child), " "]
        parts.append(child.tail or "")
    return clean_text("".join(parts))


def _year(text: str) -> int | None:
    match = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", text)
    return int(match.group(1)) if match else None


def _license(root: etree._Element) -> str:
    """A Creative Commons licence as `CC BY-NC 4.0` when linked, else the rights statement."""
    links: list[str] = []
    statements: list[str] = []
    for rights in root.findall("admin/droitsauteur"):
        links += [v for link in rights.iter("liensimple") for k, v in link.attrib.items() if k.endswith("href")]
        statements.append(flatten(rights))
    return cc_licence(" ".join(links)) or licence_of(statements)
