"""Real PDFs made from an ActText with fpdf2, faithful or damaged in known ways (a test helper).

Each builder lays the act out like an Official Journal page (running head with the OJ
reference, page number at the foot, wrapped lines) and returns the PDF's bytes. The damaged
variants are the failures a fidelity check must catch: interleaved columns, lost lines, a
truncated text; hyphenated line ends are a damage the extractor must repair. `page_pdf`
renders a whole HTML page instead (every paragraph a reader sees, read here with lxml alone,
not through the parser under test): what the units must cover.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from math import ceil
from pathlib import Path

from fpdf import FPDF
from lxml import etree

from clirdata.extractors.text import clean_text
from clirdata.schemas.legal import ActText

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_NAME = "DejaVu"
RUNNING_HEAD = "L 119/{page}  Official Journal of the European Union  4.5.2016"
FONT_SIZE = 10.0
LINE_HEIGHT = 4.6  # mm
MARGIN = 20.0  # mm
GUTTER = 0.8  # mm: so narrow that pdfminer reads the two columns' lines as one line
PARAGRAPH_GAP = ""  # a blank line between paragraphs
CREATED = datetime(2016, 5, 4, tzinfo=timezone.utc)
MIN_HYPHENATED = 8  # letters: the words that may be broken at a line end

# What a PDF of the page leaves out: the Official Journal's page header (it is the PDF's running head)
# and the footnotes (set at the page feet, apart from the text: FIDELITY.md calibrates them separately).
PAGE_HEADER = "hd-"  # a class prefix, as in oj-hd-date
FOOTNOTES = {"note", "footnote"}
_NOT_TEXT = {"script", "style", "head", "title", "noscript"}
_LINE_BREAKS = {"p", "div", "td", "th", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "br", "dt", "dd",
                "caption", "hr", "ul", "ol", "dl", "tbody", "thead", "blockquote", "section"}

Wrap = Callable[[str, float], list[str]]


class _OjPdf(FPDF):
    """A4 pages with the running head and the page number of an Official Journal."""

    def __init__(self) -> None:
        super().__init__(format="A4", unit="mm")
        self.set_creation_date(CREATED)  # fixed: the same act gives the same bytes
        self.set_auto_page_break(False)
        self.set_margins(MARGIN, MARGIN)
        self.add_font(FONT_NAME, fname=str(FONT))
        self.set_font(FONT_NAME, size=FONT_SIZE)
        self._widths: dict[str, float] = {}

    def header(self) -> None:
        self.set_font(FONT_NAME, size=8)
        self.set_xy(MARGIN, 8)
        self.cell(self.epw, 5, RUNNING_HEAD.format(page=self.page_no()), align="C")
        self.set_font(FONT_NAME, size=FONT_SIZE)

    def footer(self) -> None:
        self.set_font(FONT_NAME, size=8)
        self.set_xy(MARGIN, self.h - 12)
        self.cell(self.epw, 5, str(self.page_no()), align="C")
        self.set_font(FONT_NAME, size=FONT_SIZE)

    def width(self, text: str) -> float:
        if text not in self._widths:
            self._widths[text] = self.get_string_width(text)
        return self._widths[text]


def act_paragraphs(act: ActText) -> list[str]:
    """What the PDF shows, in order: the title, then each unit's heading and text."""
    paragraphs = [act.title]
    for unit in act.units:
        paragraphs += [part for part in (unit.heading, unit.text) if part]
    return [paragraph for paragraph in paragraphs if paragraph]


def page_paragraphs(raw: bytes) -> list[str]:
    """Every paragraph of an HTML page's body a reader sees, in order, but the page header and footnotes.

    Titles, chapter headings, table cells, lists, the concluding formula and signatures are all
    there: a line wherever a block-level element starts or ends.
    """
    root = etree.fromstring(raw, etree.HTMLParser(encoding="utf-8", remove_comments=True))
    parts: list[str] = []

    def furniture(element: etree._Element) -> bool:
        classes = [name.removeprefix("oj-") for name in (element.get("class") or "").split()]
        return any(name.startswith(PAGE_HEADER) or name in FOOTNOTES for name in classes)

    def walk(element: etree._Element) -> None:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if tag and tag not in _NOT_TEXT and not furniture(element):
            line = "\n" if tag in _LINE_BREAKS else ""
            parts.extend((line, element.text or ""))
            for child in element:
                walk(child)
                parts.append(child.tail or "")
            parts.append(line)

    walk(root.find(".//body"))
    return [line for line in (clean_text(text) for text in "".join(parts).split("\n")) if line]


def page_pdf(raw: bytes) -> bytes:
    """An HTML page's `page_paragraphs` as a one-column Official Journal PDF."""
    pdf = _OjPdf()
    return _render(pdf, _wrapped(page_paragraphs(raw), pdf.epw, _wrapper(pdf)), columns=1)


def faithful_pdf(act: ActText) -> bytes:
    """The act as a one-column Official Journal PDF."""
    pdf = _OjPdf()
    return _render(pdf, _lines(pdf, act, pdf.epw, _wrapper(pdf)), columns=1)


def interleaved_columns_pdf(act: ActText) -> bytes:
    """Two columns so close together that text extraction interleaves their lines."""
    pdf = _OjPdf()
    width = (pdf.epw - GUTTER) / 2
    return _render(pdf, _lines(pdf, act, width, _wrapper(pdf)), columns=2, justify=True)


def hyphenated_pdf(act: ActText, share: float = 0.3, seed: int = 7) -> bytes:
    """`share` of the long words that fall at a line end are broken there with a hyphen."""
    pdf = _OjPdf()
    wrap = _wrapper(pdf, hyphenate=random.Random(seed), share=share)
    return _render(pdf, _lines(pdf, act, pdf.epw, wrap), columns=1)


def lost_lines_pdf(act: ActText, share: float = 0.1, seed: int = 7) -> bytes:
    """`share` of the text lines are dropped, as a broken extraction or print would lose them."""
    pdf = _OjPdf()
    rng = random.Random(seed)
    lines = [line for line in _lines(pdf, act, pdf.epw, _wrapper(pdf)) if not line or rng.random() >= share]
    return _render(pdf, lines, columns=1)


def truncated_pdf(act: ActText) -> bytes:
    """Only the first half of the lines."""
    pdf = _OjPdf()
    lines = _lines(pdf, act, pdf.epw, _wrapper(pdf))
    return _render(pdf, lines[: len(lines) // 2], columns=1)


def encrypted_pdf(act: ActText) -> bytes:
    """A faithful PDF that opens only with a user password."""
    pdf = _OjPdf()
    pdf.set_encryption(owner_password="owner-secret", user_password="user-secret")
    return _render(pdf, _lines(pdf, act, pdf.epw, _wrapper(pdf)), columns=1)


def image_only_pdf() -> bytes:
    """A page with a drawn rectangle and no text at all (as a scan without OCR would be)."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_creation_date(CREATED)
    pdf.add_page()
    pdf.set_fill_color(120, 120, 120)
    pdf.rect(30, 40, 150, 200, style="F")
    return bytes(pdf.output())


def corrupt_pdf(act: ActText, keep: float = 0.5) -> bytes:
    """A faithful PDF cut after `keep` of its bytes, as an interrupted download leaves it."""
    raw = faithful_pdf(act)
    return raw[: int(len(raw) * keep)]


def lines_pdf(pages: Sequence[Sequence[str]], owner_password: str = "") -> bytes:
    """One page per item of `pages`, its lines drawn as given, under the running head
    (encrypted with only an owner password, which anyone may open, if one is given)."""
    pdf = _OjPdf()
    if owner_password:
        pdf.set_encryption(owner_password=owner_password)
    for lines in pages:
        pdf.add_page()
        for row, line in enumerate(lines):
            pdf.set_xy(MARGIN, MARGIN + row * LINE_HEIGHT)
            pdf.cell(pdf.epw, LINE_HEIGHT, line)
    return bytes(pdf.output())


def _wrapper(pdf: _OjPdf, hyphenate: random.Random | None = None, share: float = 0.0) -> Wrap:
    """Greedy line breaking by glyph widths; optionally breaks long words at line ends."""

    def wrap(paragraph: str, width: float) -> list[str]:
        lines: list[str] = []
        line = ""
        words = deque(paragraph.split())
        while words:
            word = words.popleft()
            candidate = f"{line} {word}" if line else word
            if pdf.width(candidate) <= width or not line:
                line = candidate
                continue
            head = _hyphen_head(pdf, line, word, width) if hyphenate and hyphenate.random() < share else ""
            if head:
                lines.append(f"{line} {head}-")
                words.appendleft(word[len(head):])
            else:
                lines.append(line)
                words.appendleft(word)
            line = ""
        return [*lines, line] if line else lines

    return wrap


def _hyphen_head(pdf: _OjPdf, line: str, word: str, width: float) -> str:
    """The longest head (3+ letters, leaving 3+) of a long word that fits on the line with a hyphen."""
    if len(word) < MIN_HYPHENATED or not word.isalpha():
        return ""
    for cut in range(len(word) - 3, 2, -1):
        if pdf.width(f"{line} {word[:cut]}-") <= width:
            return word[:cut]
    return ""


def _lines(pdf: _OjPdf, act: ActText, width: float, wrap: Wrap) -> list[str]:
    """The act's paragraphs wrapped to `width`, a blank line between paragraphs."""
    return _wrapped(act_paragraphs(act), width, wrap)


def _wrapped(paragraphs: Sequence[str], width: float, wrap: Wrap) -> list[str]:
    """Paragraphs wrapped to `width`, a blank line between paragraphs."""
    lines: list[str] = []
    for paragraph in paragraphs:
        lines += [*wrap(paragraph, width), PARAGRAPH_GAP]
    return lines


def _render(pdf: _OjPdf, lines: Sequence[str], columns: int, justify: bool = False) -> bytes:
    """Lines laid out column by column, page by page, and drawn row by row.

    Drawing row by row (left line, then right line) is what makes a two-column page's
    text extraction interleave; `justify` stretches all but a paragraph's last line.
    """
    column_width = (pdf.epw - GUTTER * (columns - 1)) / columns
    for page in _pages(lines, columns, pdf.h):
        pdf.add_page()
        for row, column, index in sorted(page):
            line = lines[index]
            full = justify and index + 1 < len(lines) and lines[index + 1]
            pdf.set_stretching(100 * column_width / pdf.width(line) if full else 100)
            pdf.set_xy(MARGIN + column * (column_width + GUTTER), MARGIN + row * LINE_HEIGHT)
            pdf.cell(column_width, LINE_HEIGHT, line)
    return bytes(pdf.output())


def _pages(lines: Sequence[str], columns: int, page_height: float) -> list[list[tuple[int, int, int]]]:
    """(row, column, line index) of every non-blank line, page by page; a short last page
    has balanced columns, as in the Official Journal."""
    per_page = int((page_height - 2 * MARGIN) // LINE_HEIGHT) * columns
    pages: list[list[tuple[int, int, int]]] = []
    for first in range(0, len(lines), per_page):
        count = min(per_page, len(lines) - first)
        rows = ceil(count / columns)
        pages.append([(i % rows, i // rows, first + i) for i in range(count) if lines[first + i]])
    return pages
