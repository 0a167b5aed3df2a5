"""EUR-Lex HTML, every generation, to an ActText whose unit ids are the same in every language.

Pure: bytes in, an ActText or a Reject out. Handles the current Official Journal XHTML
(``oj-`` classes, ``div.eli-subdivision`` ids, the act-by-act format since October 2023),
the same act inside a full EUR-Lex web page, older pages (classes without ``oj-``),
consolidated texts and legacy ``div#TexteOnly`` pages.

The document is flattened into blocks (paragraph-like runs of text with a role) and a small
state machine turns the blocks into units, using the explicit ids where the HTML has them
and the headings' numbers ("Article 7", "1.") where it does not. Every word of the act
between its title and its end belongs to one unit: chapter headings to a section unit,
the concluding formula and signatures to the final unit, annex headings, tables and
lists to their annex. Only the page header, footnotes and the site's chrome are left out.

Bounded: the input's size is checked before parsing, parsing is linear in the size of the
page (every element is visited a fixed number of times, every state change is O(1)), and a
deadline is checked while the units are built. No recursion: nesting cannot exhaust the stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import count
from time import monotonic
from typing import NamedTuple

from lxml import etree

from clirdata.extractors.text import clean_text
from clirdata.extractors.xmlsafe import UnsafeXml, parse_untrusted_xml
from clirdata.schemas.legal import ActText, Unit
from clirdata.schemas.records import Reject, sha256_hex

EXTRACTOR_VERSION = "eurlex-html-2"
SOURCE = "eurlex"
STAGE = "extract"
MAX_HTML_BYTES = 30_000_000
TIMEOUT_S = 60.0  # a 30 MB page takes well under this: 8 MB of dense generated act parse in ~5 s
_CLOCK_EVERY = 1024  # blocks between two looks at the clock

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
    "ti-section-2": "section-title",
    "title-division-1": "section",
    "title-division-2": "section-title",
}
_MARKER_ROLES = {"title", "article", "annex"}  # the roles that say where the act is on a page
# Footnotes, separators and consolidation furniture: no part of any unit. Any class that starts
# with "hd-" is the Official Journal's page header ("L series", the date, "2024/1689") and is skipped too.
_SKIP_CLASSES = {
    "note", "footnote", "separator", "doc-sep", "doc-end", "arrow", "modref", "reference", "disclaimer",
    "toc-1", "toc-2", "title-doc-oj-reference", "title-fam-member-star",
}
_HEADER_PREFIX = "hd-"
_FINAL_CLASSES = {"final", "signatory"}  # the concluding formula and signatures (old pages have no fnp_ id)
_SKIP_TAGS = {"script", "style", "head", "title", "noscript", "nav", "button", "form", "select", "img", "template"}
# Elements that start a new line: they hold paragraphs, or are one, and split running text.
_BLOCK_LEVEL = {
    "p", "div", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "ul", "ol", "li", "dl", "dt",
    "dd", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "section", "article", "aside", "header", "footer",
    "main", "figure", "figcaption", "address", "center", "pre", "fieldset", "details", "summary", "hr",
}
_GAP_TAGS = _BLOCK_LEVEL | {"br"}  # a space wherever one of these starts or ends

_RECITAL_ID = re.compile(r"^rct_\d+$")
_ARTICLE_ID = re.compile(r"^art_\w+$")
_PARAGRAPH_ID = re.compile(r"^\d{3}\.\d{3}$")
_ANNEX_ID = re.compile(r"^anx_\w+$")
_PREAMBLE_ID = re.compile(r"^pbl_\d+$")
_FINAL_ID = re.compile(r"^fnp_\d+$")
_SECTION_ID = re.compile(r"^(?:prt|tis|cpt|sct|sbs)_\w+(?:\.(?:prt|tis|cpt|sct|sbs)_\w+)*$")
_ID_KINDS = (
    (_RECITAL_ID, "recital"), (_ARTICLE_ID, "article"), (_PARAGRAPH_ID, "paragraph"), (_ANNEX_ID, "annex"),
    (_PREAMBLE_ID, "preamble"), (_FINAL_ID, "final"), (_SECTION_ID, "section"),
)
_FINAL_UNIT = "fnp_1"
_PARAGRAPH_START = re.compile(r"^(\d{1,3})\.\s")
_RECITAL_START = re.compile(r"^\((\d+)\)(?:\s|$)")
_CONSOLIDATION_MARKER = re.compile(r"[►▼▲]\s*[A-Z]\d*|◄")  # ►M2 … ◄ in consolidated texts
_NUMBER = re.compile(r"\b(\d+)([a-z]?)\b")  # "Article 14a" → (14, "a")
_ARTICLE_ID_NUMBER = re.compile(r"^art_(\d+)([a-z]?)")
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
    """One paragraph-like run of text: its role, text, explicit unit id and outermost table."""

    role: str
    text: str
    unit_id: str = ""
    table: int = 0


def parse_act_html(
    raw: bytes, celex: str, lang: str, uri: str, *, max_bytes: int = MAX_HTML_BYTES, timeout_s: float = TIMEOUT_S
) -> ActText | Reject:
    """Parse one language version of an act; every problem becomes a Reject with a reason.

    `max_bytes` is checked before any byte is parsed; `timeout_s` between blocks while the units
    are built (lxml's own parse, linear and in C, is not interrupted).
    """

    def reject(reason: str, detail: str) -> Reject:
        return Reject(SOURCE, uri, STAGE, reason, detail, celex)

    if len(raw) > max_bytes:
        return reject("too-large", f"{len(raw)} bytes > limit of {max_bytes}")
    deadline = monotonic() + timeout_s
    try:
        root = _parse(raw, max_bytes)
    except UnsafeXml as error:
        return reject(error.reason, str(error))
    except (etree.LxmlError, ValueError) as error:
        return reject("malformed-html", str(error) or "the document could not be parsed")
    roots, legacy = _act_roots(root)
    builder = _ActBuilder()
    for index, block in enumerate(_blocks(roots, legacy)):
        if index % _CLOCK_EVERY == 0 and monotonic() >= deadline:
            return reject("timeout", f"over {timeout_s:g} s, after {index} blocks")
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


def _act_roots(root: etree._Element) -> tuple[list[etree._Element], bool]:
    """The elements that hold the act (not the site's chrome), in order, and whether it is a legacy page.

    The act-by-act Official Journal puts the act and each annex in an ``eli-container`` and the
    page header and the ELI/ISSN trailer outside them: the containers are walked, nothing else,
    unless a heading lies outside them, in which case their common ancestor is walked.
    """
    legacy = root.xpath("//*[@id='TexteOnly']")
    if legacy:
        return [legacy[0]], True
    containers = root.xpath("//*[contains(concat(' ', normalize-space(@class), ' '), ' eli-container ')]")
    container_set = set(containers)
    outermost = [c for c in containers if not any(a in container_set for a in c.iterancestors())]
    inside = {element for container in outermost for element in container.iter()}
    markers = [element for element in root.iter() if element not in inside and isinstance(element.tag, str)
               and _role(_classes(element)) in _MARKER_ROLES]
    if outermost and not markers:
        return outermost, False
    if not outermost:  # the parents of the headings, so that the text beside them is inside
        markers = [marker.getparent() for marker in markers if marker.getparent() is not None]
    if not outermost and not markers:
        bodies = root.xpath("//*[local-name()='body']")
        return [bodies[0] if bodies else root], False
    anchors = set(outermost + markers)
    in_order = [element for element in root.iter() if element in anchors]
    return [_common_ancestor(in_order[0], in_order[-1])], False


def _common_ancestor(first: etree._Element, last: etree._Element) -> etree._Element:
    """The deepest element that contains both; for the first and last of many elements in
    document order, it contains all of them."""
    chain = {first, *first.iterancestors()}
    return next(element for element in (last, *last.iterancestors()) if element in chain)


class _Facts(NamedTuple):
    """What the walk needs to know of one element, worked out once."""

    tag: str
    role: str
    block_level: bool  # it starts a new line (consolidated texts mark inline <div>s "inline-element")
    opens: str  # the unit its text belongs to: its explicit id, the final formula, or "" (its parent's)


class _Page:
    """The elements under one root that are not furniture, with their facts, and the ones that hold a
    block-level element (worked out in one pass, children before parents)."""

    def __init__(self, root: etree._Element) -> None:
        self.facts: dict[etree._Element, _Facts] = {root: _facts(root) or _Facts("div", "", True, "")}
        visited = [root]
        stack = [root]
        while stack:
            element = stack.pop()
            for child in element:
                facts = _facts(child)
                if facts is not None:
                    self.facts[child] = facts
                    visited.append(child)
                    stack.append(child)
        self.holders: set[etree._Element] = set()
        for element in reversed(visited):  # a child is visited after its parent
            if any(child in self.holders or self.facts[child].block_level for child in self.kept(element)):
                self.holders.add(element)

    def kept(self, element: etree._Element) -> Iterator[etree._Element]:
        return (child for child in element if child in self.facts)


def _facts(element: etree._Element) -> _Facts | None:
    """The element's facts, or None for furniture: comments, scripts, the site's menus, the OJ
    page header (any class "hd-…"), footnotes, separators."""
    tag = _tag(element)
    if not tag or tag in _SKIP_TAGS:
        return None
    classes = _classes(element)
    if classes & _SKIP_CLASSES or any(name.startswith(_HEADER_PREFIX) for name in classes):
        return None
    element_id = element.get("id")
    opens = element_id if element_id and _id_kind(element_id) else _FINAL_UNIT if classes & _FINAL_CLASSES else ""
    return _Facts(tag, _role(classes), tag in _BLOCK_LEVEL and "inline-element" not in classes, opens)


def _blocks(roots: Iterable[etree._Element], legacy: bool) -> Iterator[_Block]:
    """The act's blocks in document order, with roles from classes (or, in legacy pages, text).

    A block is an element with a role, a block-level element that holds no other, or a run of
    text between block-level elements (a <span> beside a nested <table> in a table cell): every
    text node of the act lands in exactly one block. An explicit stack replaces recursion.
    """
    tables = count(1)
    for root in roots:
        page = _Page(root)
        stack: list[_Block | tuple[etree._Element, str, int]] = [(root, "", 0)]
        while stack:
            item = stack.pop()
            if isinstance(item, _Block):
                yield item
                continue
            element, unit_id, table = item
            facts = page.facts[element]
            if facts.opens and not (facts.opens == _FINAL_UNIT and _FINAL_ID.match(unit_id)):
                unit_id = facts.opens
            table = next(tables) if facts.tag == "table" and not table else table
            if facts.role or element not in page.holders:
                block = _block(facts.role, _text(element, page), unit_id, table, legacy)
                if block is not None:
                    yield block
                continue
            stack.extend(reversed(list(_pieces(element, page, unit_id, table, legacy))))


def _pieces(
    element: etree._Element, page: _Page, unit_id: str, table: int, legacy: bool
) -> Iterator[_Block | tuple[etree._Element, str, int]]:
    """The children of a holder in order: runs of inline text as blocks, block-level children to visit."""
    run = [element.text or ""]
    for child in element:
        tail = child.tail or ""
        facts = page.facts.get(child)
        if facts is None:
            run.append(tail)
        elif facts.block_level or facts.role or child in page.holders:
            block = _block("", "".join(run), unit_id, table, legacy)
            if block is not None:
                yield block
            yield child, unit_id, table
            run = [tail]
        else:
            gap = " " if facts.tag in _GAP_TAGS else ""
            run += [gap, _text(child, page), gap, tail]
    block = _block("", "".join(run), unit_id, table, legacy)
    if block is not None:
        yield block


def _block(role: str, raw_text: str, unit_id: str, table: int, legacy: bool) -> _Block | None:
    if raw_text.isspace() or not raw_text:  # the white space between tags: most runs
        return None
    text = clean_text(_CONSOLIDATION_MARKER.sub(" ", raw_text))
    if not text:
        return None
    if not role:
        role = _legacy_role(text) if legacy and not table else "text"
    return _Block(role, text, unit_id, table)


def _text(element: etree._Element, page: _Page) -> str:
    """All text under `element`, with a space wherever a block-level element starts or ends."""
    parts: list[str] = []
    stack: list[etree._Element | str] = [element]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
            continue
        parts.append(item.text or "")
        for child in reversed(item):
            tail = child.tail or ""
            facts = page.facts.get(child)
            if facts is None:
                stack.append(tail)
            else:
                gap = " " if facts.tag in _GAP_TAGS else ""
                stack += [tail, gap, child, gap]
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


def _id_kind(unit_id: str) -> str:
    """The kind of unit an explicit id names ("" for none)."""
    return next((kind for pattern, kind in _ID_KINDS if pattern.match(unit_id)), "")


@dataclass
class _Draft:
    """A unit being built."""

    id: str
    kind: str
    heading: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def unit(self) -> Unit:
        return Unit(self.id, self.kind, " ".join(self.text), " ".join(self.heading))


# Where the builder is in the act: before anything, in the title, in the preamble, in the body
# (from the first article, chapter heading or annex on).
_START, _TITLE, _PREAMBLE, _BODY = range(4)


class _ActBuilder:
    """Turns blocks into units: the state machine that knows where each block belongs.

    Every step is O(1) (no look over the units made so far), so building is linear.
    """

    def __init__(self) -> None:
        self._title: list[str] = []
        self._drafts: dict[str, _Draft] = {}
        self._current: _Draft | None = None
        self._article: _Draft | None = None
        self._heading: _Draft | None = None  # the unit whose heading the last block was part of
        self._phase = _START
        self._paragraph_no = 0
        self._explicit_paragraphs = False
        self._recital_table = -1
        self._preambles = 0
        self._sections = 0
        self._annexes = 0
        self._last_article_number = (0, "")

    def title(self) -> str:
        return clean_text(" ".join(self._title))

    def units(self) -> tuple[Unit, ...]:
        return tuple(draft.unit() for draft in self._drafts.values())

    def add(self, block: _Block) -> None:
        heading, self._heading = self._heading, None
        if block.role == "title":
            self._title_block(block, heading)
        elif block.role == "article":
            self._article_heading(block)
        elif block.role == "annex":
            self._annex_heading(block)
        elif block.role in ("section", "section-title"):
            self._section_heading(block, heading)
        elif block.role == "subtitle" and heading is not None and heading.kind == "article":
            heading.heading.append(block.text)
            self._heading = heading
        else:
            self._text_block(block)

    def _open(self, unit_id: str, kind: str) -> _Draft:
        """The draft with this id (created if new), made current."""
        draft = self._drafts.get(unit_id)
        if draft is None:
            draft = self._drafts[unit_id] = _Draft(unit_id, kind)
            self._annexes += kind == "annex"
        self._current = draft
        return draft

    def _in_other_unit(self, block: _Block) -> bool:
        """A heading inside an article, paragraph, recital, annex or the final formula (quoted text,
        a correlation table): it is text of that unit, not the start of a new one."""
        return _id_kind(block.unit_id) in ("article", "paragraph", "recital", "annex", "final", "preamble")

    def _title_block(self, block: _Block, heading: _Draft | None) -> None:
        current = self._current
        if self._phase in (_START, _TITLE):
            if self._phase == _START:
                self._drop_page_furniture()
            self._title.append(block.text)
            self._phase = _TITLE
        elif self._phase == _PREAMBLE or (self._in_other_unit(block) and _id_kind(block.unit_id) != "annex"):
            self._text_block(block)
        elif current is not None and current.kind == "annex" and block.unit_id in (current.id, ""):
            if heading is current:
                current.heading.append(block.text)  # the annex's title lines
                self._heading = current
            elif block.unit_id or not _LEGACY_ANNEX.match(block.text):
                current.text.append(block.text)  # a title line inside the annex: its text, in order
            else:
                self._start_annex(block)
        else:
            self._start_annex(block)

    def _drop_page_furniture(self) -> None:
        """Text before the act's title is page furniture (an unmarked header), not the preamble."""
        if all(draft.kind == "preamble" for draft in self._drafts.values()):
            self._drafts.clear()
            self._current = None
            self._preambles = 0

    def _article_heading(self, block: _Block) -> None:
        article = self._article
        if (self._in_other_unit(block) and not _ARTICLE_ID.match(block.unit_id)) or (
            article is not None and block.unit_id == article.id
        ):
            self._text_block(block)  # an article quoted inside a unit (amending acts, correlation tables)
            return
        if _ARTICLE_ID.match(block.unit_id):
            article_id = block.unit_id
        else:
            number = _NUMBER.search(block.text)
            key = (int(number.group(1)), number.group(2)) if number else (self._last_article_number[0] + 1, "")
            if key <= self._last_article_number:
                self._text_block(block)  # "Article 3" again, or back: quoted, not a new article
                return
            article_id = f"art_{key[0]}{key[1]}"
        number = _ARTICLE_ID_NUMBER.match(article_id)
        if number:
            self._last_article_number = max(self._last_article_number, (int(number.group(1)), number.group(2)))
        self._article = self._open(article_id, "article")
        self._article.heading.append(block.text)
        self._heading = self._article
        self._paragraph_no = 0
        self._explicit_paragraphs = False
        self._phase = _BODY

    def _annex_heading(self, block: _Block) -> None:
        if self._in_other_unit(block) and not _ANNEX_ID.match(block.unit_id):
            self._text_block(block)
        else:
            self._start_annex(block)

    def _start_annex(self, block: _Block) -> None:
        if _ANNEX_ID.match(block.unit_id):
            annex_id = block.unit_id
        else:
            number = _ANNEX_NUMBER.search(block.text)
            annex_id = f"anx_{number.group(1) if number else self._annexes + 1}"
        annex = self._open(annex_id, "annex")
        annex.heading.append(block.text)
        self._heading = annex
        self._article = None
        self._phase = _BODY

    def _section_heading(self, block: _Block, heading: _Draft | None) -> None:
        """Chapter, part, title and section headings of the enacting terms: a unit of their own.

        Inside an annex, an article or the preamble they are that unit's text.
        """
        current = self._current
        in_annex = current is not None and current.kind == "annex" and not block.unit_id
        if in_annex or self._in_other_unit(block):
            self._text_block(block)
            return
        if _SECTION_ID.match(block.unit_id):
            section = self._open(block.unit_id, "section")
        elif block.role == "section-title" and heading is not None and heading.kind == "section":
            section = heading
        else:
            self._sections += 1
            section = self._open(f"sec_{self._sections}", "section")
        section.heading.append(block.text)
        self._current = self._heading = section
        self._article = None
        self._phase = _BODY

    def _text_block(self, block: _Block) -> None:
        unit_id, current = block.unit_id, self._current
        kind = _id_kind(unit_id)
        if kind == "paragraph":
            self._explicit_paragraphs = True
            self._open(unit_id, "paragraph").text.append(block.text)
        elif kind in ("recital", "annex", "final", "section"):
            self._open(unit_id, kind).text.append(block.text)
        elif kind == "article" or (self._phase == _BODY and current is not None and current.kind
                                   in ("article", "paragraph")):
            self._article_text(block)
        elif self._phase == _BODY and current is not None:
            current.text.append(block.text)
        else:
            self._preamble_text(block)

    def _article_text(self, block: _Block) -> None:
        """Article text: a new numbered paragraph ("2. ..."), the current paragraph, or the article."""
        article, current = self._article, self._current
        if _ARTICLE_ID.match(block.unit_id) and (article is None or block.unit_id != article.id):
            article = current = self._article = self._open(block.unit_id, "article")  # its heading was not seen
            self._paragraph_no, self._explicit_paragraphs = 0, False
        elif article is None:  # a paragraph whose article heading was not seen
            if current is not None:
                current.text.append(block.text)
            return
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
        if self._phase == _TITLE:
            self._phase = _PREAMBLE
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
