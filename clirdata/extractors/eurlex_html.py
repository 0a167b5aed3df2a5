"""EUR-Lex HTML, every generation, to an ActText whose unit ids are the same in every language.

Pure: bytes in, an ActText or a Reject out. Handles the current Official Journal XHTML
(``oj-`` classes, ``div.eli-subdivision`` ids), the same act inside a full EUR-Lex web page,
older pages (classes without ``oj-``), consolidated texts and legacy ``div#TexteOnly`` pages.
The document is flattened into blocks (paragraph-like elements with a role) and a small
state machine turns the blocks into units, using the explicit ids where the HTML has them
and the headings' numbers ("Article 7", "1.") where it does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count

from lxml import etree

from clirdata.extractors.text import clean_text
from clirdata.extractors.xmlsafe import UnsafeXml, parse_untrusted_xml
from clirdata.schemas.legal import ActText, Unit
from clirdata.schemas.records import Reject, sha256_hex

EXTRACTOR_VERSION = "eurlex-html-1"
SOURCE = "eurlex"
STAGE = "extract"
MAX_HTML_BYTES = 30_000_000

# Class names (without the "oj-" prefix) that give a block its role.
_ROLES = {
    "doc-ti": "title",
    "title-doc-first": "title",
    "title-doc-last": "title",
    "title-annex-2": "title",
    "ti-art": "article",
    "title-article-norm": "article",
    "sti-art": "subtitle",
    "stitle-article-norm": "subtitle",
    "title-annex-1": "annex",
    "ti-section-1": "section",
    "ti-section-2": "section",
    "title-division-1": "section",
    "title-division-2": "section",
}
# Page furniture, notes, signatures and consolidation markers: not part of any unit.
_SKIP_CLASSES = {
    "note", "footnote", "signatory", "final", "separator", "doc-sep", "doc-end", "arrow",
    "modref", "reference", "disclaimer", "hd-date", "hd-lg", "hd-ti", "hd-oj", "hd-modifiers",
    "hd-toc-1", "hd-toc-2", "hd-toc-3", "toc-1", "toc-2", "title-doc-oj-reference",
    "title-fam-member-star",
}
_SKIP_TAGS = {"script", "style", "head", "title", "noscript", "nav", "button", "form", "select", "img"}
_BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "caption"}
_CONTAINER_TAGS = {"p", "div", "table", "tr", "td", "th", "li", "ul", "ol", "dl", "h1", "h2", "h3", "h4", "h5", "h6"}
_BREAK_TAGS = {"p", "div", "td", "th", "tr", "li", "br", "table", "dt", "dd"}
_MARKER_ROLES = {"title", "article", "annex"}

_UNIT_ID = re.compile(r"^(?:rct_\d+|art_\w+|\d{3}\.\d{3}|anx_\w+|pbl_\d+)$")
_PARAGRAPH_ID = re.compile(r"^\d{3}\.\d{3}$")
_FINAL_ID = re.compile(r"^fnp_\d+$")
_PARAGRAPH_START = re.compile(r"^(\d{1,3})\.\s")
_RECITAL_START = re.compile(r"^\((\d+)\)(?:\s|$)")
_CONSOLIDATION_MARKER = re.compile(r"[►▼▲]\s*[A-Z]\d*|◄")  # ►M2 … ◄ in consolidated texts
_NUMBER = re.compile(r"\b(\d+[a-z]?)\b")
_ANNEX_NUMBER = re.compile(r"\b([IVXLC]+|\d+[a-z]?)\s*$")
_ARTICLE_WORDS = (
    "article|artikel|articolo|artículo|artigo|άρθρο|член|článek|článok|artykuł|articolul|člen|"
    "članak|artikla|artikkel|artiklu|airteagal"
)
_LEGACY_ARTICLE = re.compile(
    rf"^(?:(?:{_ARTICLE_WORDS})\s+(?:\d+[a-z]?|premier|first)|\d+[a-z]?\.?\s+(?:cikk|straipsnis|pants))$",
    re.IGNORECASE,
)
_ANNEX_WORDS = (
    "annex|annexe|anhang|allegato|anexo|anexa|bijlage|bilag|bilaga|liite|lisa|παράρτημα|приложение|"
    "příloha|príloha|melléklet|załącznik|priloga|prilog|priedas|pielikums|anness|iarscríbhinn"
)
_LEGACY_ANNEX = re.compile(rf"^(?:{_ANNEX_WORDS})(?:\s+[IVXLC\d]+[a-z]?)?$", re.IGNORECASE)


@dataclass(frozen=True)
class _Block:
    """One paragraph-like element: its role, text, explicit unit id and outermost table."""

    role: str
    text: str
    unit_id: str = ""
    table: int = 0


def parse_act_html(
    raw: bytes, celex: str, lang: str, uri: str, *, max_bytes: int = MAX_HTML_BYTES
) -> ActText | Reject:
    """Parse one language version of an act; every problem becomes a Reject with a reason."""

    def reject(reason: str, detail: str) -> Reject:
        return Reject(SOURCE, uri, STAGE, reason, detail, celex)

    if len(raw) > max_bytes:
        return reject("too-large", f"{len(raw)} bytes > limit of {max_bytes}")
    try:
        root = _parse(raw, max_bytes)
    except UnsafeXml as error:
        return reject(error.reason, str(error))
    except (etree.ParserError, ValueError) as error:
        return reject("malformed-html", str(error) or "the document could not be parsed")
    container, legacy = _act_container(root)
    builder = _ActBuilder()
    for block in _blocks(container, legacy):
        builder.add(block)
    units = builder.units()
    if not any(unit.kind in ("article", "annex") for unit in units):
        return reject("no-act-text", "no article or annex found in the document")
    return ActText(
        celex=celex,
        lang=lang,
        fmt="html",
        title=builder.title() or _page_title(root),
        units=units,
        text="\n".join(unit.text for unit in units if unit.text),
        source_uri=uri,
        sha256=sha256_hex(raw),
        extractor_version=EXTRACTOR_VERSION,
    )


def _parse(raw: bytes, max_bytes: int) -> etree._Element:
    """XHTML through the hardened XML parser when it is well-formed, else lxml's HTML parser.

    Neither resolves entities or touches the network; the HTML parser never reads a DTD.
    """
    if raw.lstrip()[:5] == b"<?xml" or b"http://www.w3.org/1999/xhtml" in raw[:4096]:
        try:
            return parse_untrusted_xml(raw, max_bytes)
        except etree.XMLSyntaxError:
            pass  # XHTML with HTML entities or sloppy markup: read it as HTML
    parser = etree.HTMLParser(
        encoding=_utf8_or_none(raw), no_network=True, remove_comments=True, remove_pis=True, huge_tree=False
    )
    root = etree.fromstring(raw, parser) if raw.strip() else None
    if root is None:
        raise etree.ParserError("the document is empty")
    return root


def _utf8_or_none(raw: bytes) -> str | None:
    """UTF-8 when the bytes are valid UTF-8; otherwise let libxml2 read the declared charset."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "utf-8"


def _tag(element: etree._Element) -> str:
    return element.tag.rpartition("}")[2].lower() if isinstance(element.tag, str) else ""


def _classes(element: etree._Element) -> set[str]:
    """The element's classes, with the current Official Journal's "oj-" prefix removed."""
    return {name.removeprefix("oj-") for name in (element.get("class") or "").split()}


def _role(classes: set[str]) -> str:
    return next((_ROLES[name] for name in classes if name in _ROLES), "")


def _act_container(root: etree._Element) -> tuple[etree._Element, bool]:
    """The element that holds the act (not the site's chrome), and whether it is a legacy page."""
    legacy = root.xpath("//*[@id='TexteOnly']")
    if legacy:
        return legacy[0], True
    containers = root.xpath("//*[contains(concat(' ', normalize-space(@class), ' '), ' eli-container ')]")
    if not containers:  # the parents of the headings, so that the text beside them is inside
        markers = [el for el in root.iter() if isinstance(el.tag, str) and _role(_classes(el)) in _MARKER_ROLES]
        containers = [marker.getparent() for marker in markers if marker.getparent() is not None]
    if not containers:
        bodies = root.xpath("//*[local-name()='body']")
        return (bodies[0] if bodies else root), False
    return _common_ancestor(containers), False


def _common_ancestor(elements: list[etree._Element]) -> etree._Element:
    """The deepest element that contains all of `elements`."""
    common = list(reversed([elements[0], *elements[0].iterancestors()]))
    for element in elements[1:]:
        chain = list(reversed([element, *element.iterancestors()]))
        size = 0
        while size < min(len(common), len(chain)) and common[size] is chain[size]:
            size += 1
        common = common[:size]
    return common[-1]


def _blocks(container: etree._Element, legacy: bool) -> Iterator[_Block]:
    """The act's blocks in document order, with roles from classes (or, in legacy pages, text)."""
    tables = count(1)

    def walk(element: etree._Element, unit_id: str, table: int) -> Iterator[_Block]:
        tag, classes = _tag(element), _classes(element)
        element_id = element.get("id") or ""
        if not tag or tag in _SKIP_TAGS or classes & _SKIP_CLASSES or _FINAL_ID.match(element_id):
            return
        unit_id = element_id if _UNIT_ID.match(element_id) else unit_id
        table = next(tables) if tag == "table" and not table else table
        role = _role(classes)
        if role or _is_block(element, tag):
            text = clean_text(_CONSOLIDATION_MARKER.sub(" ", _text(element)))
            if text:
                yield _Block(role or (_legacy_role(text) if legacy else "text"), text, unit_id, table)
            return
        for child in element:
            yield from walk(child, unit_id, table)

    return walk(container, "", 0)


def _is_block(element: etree._Element, tag: str) -> bool:
    """A paragraph-like element: running text of its own, or a <p> (or a bare inline wrapper)
    that holds no other paragraphs."""
    if (element.text or "").strip() or any((child.tail or "").strip() for child in element):
        return True
    if any(_is_container(descendant) for descendant in element.iterdescendants()):
        return False
    return tag in _BLOCK_TAGS or any("".join(child.itertext()).strip() for child in element)


def _is_container(element: etree._Element) -> bool:
    """An element that holds paragraphs (consolidated texts mark inline <div>s "inline-element")."""
    return _tag(element) in _CONTAINER_TAGS and "inline-element" not in _classes(element)


def _text(element: etree._Element) -> str:
    """All text under `element`, with a space wherever a block-level element starts or ends."""
    parts = [element.text or ""]
    for child in element:
        tag = _tag(child)
        if tag and tag not in _SKIP_TAGS and not _classes(child) & _SKIP_CLASSES:
            gap = " " if tag in _BREAK_TAGS else ""
            parts += [gap, _text(child), gap]
        parts.append(child.tail or "")
    return "".join(parts)


def _legacy_role(text: str) -> str:
    """Legacy pages have bare <p>s: "Article 7" and "ANNEX II" lines are the only headings."""
    if _LEGACY_ARTICLE.match(text):
        return "article"
    if _LEGACY_ANNEX.match(text):
        return "annex"
    return "text"


def _page_title(root: etree._Element) -> str:
    """The page's <title>, unless it is a file name (`L_2016119EN.01000101.xml`) and not a title."""
    titles = root.xpath("//*[local-name()='title']")
    title = clean_text("".join(titles[0].itertext())) if titles else ""
    return title if " " in title else ""


@dataclass
class _Draft:
    """A unit being built."""

    id: str
    kind: str
    heading: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def unit(self) -> Unit:
        return Unit(self.id, self.kind, " ".join(self.text), " ".join(self.heading))


class _ActBuilder:
    """Turns blocks into units: the state machine that knows where each block belongs."""

    def __init__(self) -> None:
        self._title: list[str] = []
        self._drafts: dict[str, _Draft] = {}
        self._current: _Draft | None = None
        self._article: _Draft | None = None
        self._paragraph_no = 0
        self._explicit_paragraphs = False
        self._recital_table = -1
        self._preambles = 0
        self._in_body = False

    def title(self) -> str:
        return clean_text(" ".join(self._title))

    def units(self) -> tuple[Unit, ...]:
        return tuple(draft.unit() for draft in self._drafts.values())

    def add(self, block: _Block) -> None:
        if block.role == "title":
            self._title_block(block)
        elif block.role == "article":
            self._article_heading(block)
        elif block.role == "subtitle" and self._article is not None:
            self._article.heading.append(block.text)
        elif block.role == "annex":
            self._start_annex(block)
        elif block.role in ("text", "subtitle"):
            self._text_block(block)

    def _open(self, unit_id: str, kind: str) -> _Draft:
        """The draft with this id (created if new), made current."""
        draft = self._drafts.setdefault(unit_id, _Draft(unit_id, kind))
        self._current = draft
        return draft

    def _title_block(self, block: _Block) -> None:
        current = self._current
        if not self._drafts:
            self._title.append(block.text)
        elif not self._in_body:
            self._text_block(block)
        elif current is not None and current.kind == "annex" and (block.unit_id == current.id or not current.text):
            current.heading.append(block.text)
        else:
            self._start_annex(block)

    def _article_heading(self, block: _Block) -> None:
        if self._article is not None and block.unit_id in (self._article.id, *self._paragraph_ids()):
            self._text_block(block)  # an article quoted inside this one (amending acts)
            return
        if block.unit_id.startswith("art_"):
            article_id = block.unit_id
        else:
            number = _NUMBER.search(block.text)
            article_id = f"art_{number.group(1) if number else self._next_article_number()}"
        self._article = self._open(article_id, "article")
        self._article.heading.append(block.text)
        self._paragraph_no = 0
        self._explicit_paragraphs = False
        self._in_body = True

    def _paragraph_ids(self) -> tuple[str, ...]:
        prefix = paragraph_prefix(self._article.id) if self._article else ""
        return tuple(unit_id for unit_id in self._drafts if unit_id.startswith(prefix + "."))

    def _next_article_number(self) -> int:
        numbers = [int(m.group(1)) for d in self._drafts.values() if (m := re.match(r"art_(\d+)", d.id))]
        return max(numbers, default=0) + 1

    def _start_annex(self, block: _Block) -> None:
        if block.unit_id.startswith("anx_"):
            annex_id = block.unit_id
        else:
            number = _ANNEX_NUMBER.search(block.text)
            annex_id = f"anx_{number.group(1) if number else sum(d.kind == 'annex' for d in self._drafts.values()) + 1}"
        self._open(annex_id, "annex").heading.append(block.text)
        self._article = None
        self._in_body = True

    def _text_block(self, block: _Block) -> None:
        unit_id, current = block.unit_id, self._current
        if unit_id.startswith("rct_"):
            self._open(unit_id, "recital").text.append(block.text)
        elif _PARAGRAPH_ID.match(unit_id):
            self._explicit_paragraphs = True
            self._open(unit_id, "paragraph").text.append(block.text)
        elif unit_id.startswith("anx_"):
            self._open(unit_id, "annex").text.append(block.text)
        elif unit_id.startswith("art_") or (self._in_body and self._article is not None):
            self._article_text(block)
        elif self._in_body and current is not None:
            current.text.append(block.text)
        else:
            self._preamble_text(block)

    def _article_text(self, block: _Block) -> None:
        """Article text: a new numbered paragraph ("2. ..."), the current paragraph, or the article."""
        article, current = self._article, self._current
        if article is None:
            article = self._article = self._open(block.unit_id, "article")
        start = _PARAGRAPH_START.match(block.text)
        numbered = start is not None and int(start.group(1)) == self._paragraph_no + 1
        if numbered and not self._explicit_paragraphs and not block.table:
            self._paragraph_no += 1
            paragraph_id = f"{paragraph_prefix(article.id)}.{self._paragraph_no:03d}"
            self._open(paragraph_id, "paragraph").text.append(block.text)
        elif current is not None and current.kind == "paragraph":
            current.text.append(block.text)
        else:
            self._current = article
            article.text.append(block.text)

    def _preamble_text(self, block: _Block) -> None:
        """Preamble text, or a recital where the HTML has no recital ids ("(12)" labels)."""
        current = self._current
        start = _RECITAL_START.match(block.text)
        if current is not None and current.kind == "recital" and block.table and block.table == self._recital_table:
            current.text.append(block.text)
        elif start:
            self._recital_table = block.table
            self._open(f"rct_{start.group(1)}", "recital").text.append(block.text)
        elif current is not None and current.kind == "preamble":
            current.text.append(block.text)
        else:
            self._preambles += 1
            self._open(f"pbl_{self._preambles}", "preamble").text.append(block.text)


def paragraph_prefix(article_id: str) -> str:
    """``art_7`` → ``007``, ``art_5a`` → ``005a``: the article part of a paragraph id."""
    number = article_id.removeprefix("art_")
    digits = re.match(r"\d+", number)
    return f"{int(digits.group(0)):03d}{number[digits.end():]}" if digits else number
