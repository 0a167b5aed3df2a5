"""PDF bytes to text, page by page, with pdfminer.six: running heads, page numbers and
line-end hyphens removed; bounded in size, pages and time.

The time limit is checked between pages and inside pdfminer's page interpreter (every 256
glyphs or paths drawn), so work stops a few hundred drawing operations after the deadline,
even on a pathological page. Two steps cannot be interrupted: reading the cross-reference
table (linear in the size, which `max_bytes` bounds) and the layout analysis of a page once
drawn. A subprocess could be killed even there, but costs a process start per PDF and forking
inside multi-threaded Beam workers is unsafe; the in-process check keeps the function pure.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from io import BytesIO
from math import ceil
from time import monotonic
from typing import Any

from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LAParams, LTFigure, LTPage, LTTextBox, LTTextLine
from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser

from clirdata.schemas.legal import PdfText
from clirdata.schemas.records import Reject

SOURCE = "eurlex"
STAGE = "extract"
EDGE_LINES = 2  # lines at the top and at the bottom of a page where running heads live
_TICK = 256  # glyphs or paths between two looks at the clock

_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
_PAGE_NUMBER = re.compile(r"^(?:-\s*)?\d{1,4}(?:\s*-)?$")
_OJ_REFERENCE = re.compile(r"^[LC]\s?\d{1,4}\s?/\s?\d{1,4}$")
_OJ_REF, _DATE = r"\b[LC]\s?\d{1,4}/\d{1,4}\b", r"\b\d{1,2}\.\d{1,2}\.\d{4}\b"
_OJ_HEAD = re.compile(rf"{_OJ_REF}.*{_DATE}|{_DATE}.*{_OJ_REF}")  # "L 119/3 … 4.5.2016", either way round
_LINE_END_HYPHEN = re.compile(r"[^\W\d_][-\u00ad]$")


class _Timeout(Exception):
    """The time limit was reached inside pdfminer's interpreter."""


class _TooManyPages(Exception):
    """The document has more pages than allowed."""


class _DeadlineAggregator(PDFPageAggregator):
    """pdfminer's layout device, with a look at the clock every few glyphs and paths."""

    def __init__(self, resources: PDFResourceManager, laparams: LAParams, deadline: float) -> None:
        super().__init__(resources, laparams=laparams)
        self._deadline = deadline
        self._ticks = 0

    def _tick(self) -> None:
        self._ticks += 1
        if self._ticks % _TICK == 0 and monotonic() > self._deadline:
            raise _Timeout

    def render_char(self, *args: Any, **kwargs: Any) -> float:
        self._tick()
        return super().render_char(*args, **kwargs)

    def paint_path(self, *args: Any, **kwargs: Any) -> None:
        self._tick()
        super().paint_path(*args, **kwargs)


def extract_pdf_text(
    raw: bytes,
    *,
    max_bytes: int = 50_000_000,
    max_pages: int = 2000,
    timeout_s: float = 60.0,
    uri: str = "",
    celex: str = "",
) -> PdfText | Reject:
    """The text of every page; encrypted, corrupt, image-only, oversized or slow PDFs are Rejects.

    `uri` and `celex` only label the Reject (its `source_uri` and `source_id`).
    """

    def reject(reason: str, detail: str) -> Reject:
        return Reject(SOURCE, uri, STAGE, reason, detail, celex)

    if len(raw) > max_bytes:
        return reject("too-large", f"{len(raw)} bytes > limit of {max_bytes}")
    deadline = monotonic() + timeout_s
    pages: list[list[tuple[str, float]]] = []
    try:
        for lines in _page_lines(raw, deadline, max_pages):
            pages.append(lines)
    except _TooManyPages:
        return reject("too-large", f"more than {max_pages} pages")
    except _Timeout:
        return reject("timeout", f"over {timeout_s:g} s, after {len(pages)} pages")
    except (PDFPasswordIncorrect, PDFEncryptionError) as error:
        return reject("encrypted", f"needs a password or forbids text extraction: {_describe(error)}")
    except Exception as error:  # noqa: BLE001 - pdfminer raises anything on broken input
        return reject("corrupt-pdf", _describe(error))
    if not pages:
        return reject("corrupt-pdf", "the document has no pages")
    texts = _dehyphenate_pages(_strip_running_lines(pages))
    if not any(text.strip() for text in texts):
        return reject("no-text", f"no text on {len(pages)} pages (image-only or scanned?)")
    return PdfText(pages=tuple(texts))


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _page_lines(raw: bytes, deadline: float, max_pages: int) -> Iterator[list[tuple[str, float]]]:
    """Each page's text lines (text, height on the page) in pdfminer's reading order."""
    document = PDFDocument(PDFParser(BytesIO(raw)))
    if not document.is_extractable:
        raise PDFEncryptionError("the document forbids text extraction")
    resources = PDFResourceManager(caching=True)
    device = _DeadlineAggregator(resources, LAParams(all_texts=True), deadline)
    interpreter = PDFPageInterpreter(resources, device)
    for index, page in enumerate(PDFPage.create_pages(document)):
        if index >= max_pages:
            raise _TooManyPages
        if monotonic() > deadline:
            raise _Timeout
        interpreter.process_page(page)
        lines = ((_SPACE.sub(" ", line.get_text()).strip(), line.y1) for line in _text_lines(device.get_result()))
        yield [(text, y) for text, y in lines if text]


def _text_lines(item: LTPage | LTFigure | LTTextBox) -> Iterator[LTTextLine]:
    for child in item:
        if isinstance(child, LTTextLine):
            yield child
        elif isinstance(child, (LTTextBox, LTFigure)):
            yield from _text_lines(child)


def _shape(line: str) -> str:
    """A line with its numbers blanked: "L 119/12 ..." and "L 119/13 ..." have one shape."""
    return _DIGITS.sub("#", line.casefold())


def _strip_running_lines(pages: list[list[tuple[str, float]]]) -> list[list[str]]:
    """Drop running heads and page numbers from the top and bottom lines of every page.

    A line there goes if it looks like a page number or an Official Journal reference, or
    if its shape recurs at the edge of at least half the pages (and of two pages at least).
    """
    edges = [_edge_indexes(lines) for lines in pages]
    shapes = Counter(shape for lines, edge in zip(pages, edges, strict=True) for shape in _edge_shapes(lines, edge))
    recurring = {shape for shape, n in shapes.items() if n >= max(2, ceil(len(pages) / 2))}
    return [
        [text for i, (text, _) in enumerate(lines) if not (i in edge and _is_running(text, recurring))]
        for lines, edge in zip(pages, edges, strict=True)
    ]


def _edge_shapes(lines: list[tuple[str, float]], edge: set[int]) -> set[str]:
    return {_shape(lines[i][0]) for i in edge}


def _edge_indexes(lines: list[tuple[str, float]]) -> set[int]:
    """The indexes of the highest and of the lowest lines on the page."""
    by_height = sorted(range(len(lines)), key=lambda i: lines[i][1])
    return set(by_height[:EDGE_LINES] + by_height[-EDGE_LINES:])


def _is_running(line: str, recurring: set[str]) -> bool:
    return bool(
        _PAGE_NUMBER.match(line) or _OJ_REFERENCE.match(line) or _OJ_HEAD.search(line) or _shape(line) in recurring
    )


def _dehyphenate_pages(pages: list[list[str]]) -> list[str]:
    """Join words broken at a line end ("process-" + "ing" → "processing"), across pages too.

    Only a hyphen after a letter at the very end of a line, before a line that starts in
    lower case, is taken for a break; a compound broken at its hyphen loses the hyphen.
    """
    lines = [(page, line) for page, page_lines in enumerate(pages) for line in page_lines]
    texts: list[list[str]] = [[] for _ in pages]
    carry = ""
    for index, (page, line) in enumerate(lines):
        line, carry = carry + line, ""
        following = lines[index + 1][1] if index + 1 < len(lines) else ""
        head, _, last = line.rpartition(" ")
        if _LINE_END_HYPHEN.search(last) and following[:1].islower():
            carry, line = last[:-1], head
        if line:
            texts[page].append(line)
    return ["\n".join(page_lines) for page_lines in texts]
