"""The child process of `clirdata.extractors.pdf`: pdfminer.six reads one PDF here, under limits.

The parent (`pdf.extract_pdf_text`) starts this module in a fresh interpreter, writes the PDF's
bytes to its stdin and kills it at the deadline. The child first caps its own address space
(RLIMIT_AS: every allocation past it fails, so a flate bomb ends in a MemoryError), its CPU
time (a backstop should the parent die) and its core dumps, then answers one JSON object on
stdout: ``{"pages": [text, ...]}`` or ``{"reject": [reason, detail]}``. Exit status: 0 with
an answer, `EXIT_MEMORY` when the memory limit was hit; any other means that it could not run
at all (a broken installation). It imports only the standard library and pdfminer (no
pyarrow), so that a start costs ~0.1 s.

Page text: running heads and page numbers removed, line-end hyphens joined.
"""

from __future__ import annotations

import json
import logging
import os
import re
import resource
import sys
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from io import BytesIO
from math import ceil, isfinite

from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LAParams, LTFigure, LTPage, LTTextBox, LTTextLine
from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser

EXIT_MEMORY = 3  # the child ran out of its address space
EDGE_LINES = 2  # lines at the top and at the bottom of a page where running heads live
CPU_GRACE_S = 2  # CPU seconds past the wall-clock timeout before the kernel ends an orphaned child

_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
_PAGE_NUMBER = re.compile(r"^(?:-\s*)?\d{1,4}(?:\s*-)?$")
_OJ_REFERENCE = re.compile(r"^[LC]\s?\d{1,4}\s?/\s?\d{1,4}$")
_OJ_REF, _DATE = r"\b[LC]\s?\d{1,4}/\d{1,4}\b", r"\b\d{1,2}\.\d{1,2}\.\d{4}\b"
_OJ_HEAD = re.compile(rf"{_OJ_REF}.*{_DATE}|{_DATE}.*{_OJ_REF}")  # "L 119/3 … 4.5.2016", either way round
_LINE_END_HYPHEN = re.compile(r"[^\W\d_][-\u00ad]$")


class TooManyPages(Exception):
    """The document has more pages than allowed."""


def child_arguments(max_pages: int, max_memory: int, timeout_s: float) -> list[str]:
    """The command-line arguments `main` expects, as the parent writes them."""
    cpu_s = ceil(timeout_s) + CPU_GRACE_S if isfinite(timeout_s) else -1
    return [str(max_pages), str(max_memory), str(cpu_s)]


def main(argv: Sequence[str]) -> None:
    """Limit this process, read a PDF on stdin, write its pages (or a reject) as JSON on stdout."""
    max_pages, max_memory, cpu_s = (int(arg) for arg in argv)
    _limit_self(max_memory, cpu_s)
    logging.disable(logging.CRITICAL)  # pdfminer logs a warning per broken object: stderr stays short
    warnings.simplefilter("ignore")
    try:
        answer = json.dumps(_answer(sys.stdin.buffer.read(), max_pages))  # ASCII: lone surrogates survive
        sys.stdout.write(answer)
        sys.stdout.flush()
    except MemoryError:
        os._exit(EXIT_MEMORY)  # no clean-up: it could need the memory there is not


def _limit_self(max_memory: int, cpu_s: int) -> None:
    _lower(resource.RLIMIT_AS, max_memory, max_memory)
    _lower(resource.RLIMIT_CORE, 0, 0)  # a crash of a 1 GB child leaves no 1 GB core file
    if cpu_s > 0:
        _lower(resource.RLIMIT_CPU, cpu_s, cpu_s + 1)  # SIGXCPU at the soft limit, SIGKILL at the hard one


def _lower(kind: int, soft: int, hard: int) -> None:
    """Lowers a limit; one already lower (set by whoever started the worker) stays."""
    _, current_hard = resource.getrlimit(kind)
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(kind, (soft, hard))


def _answer(raw: bytes, max_pages: int) -> dict[str, list[str]]:
    try:
        return {"pages": page_texts(raw, max_pages)}
    except TooManyPages:
        return {"reject": ["too-large", f"more than {max_pages} pages"]}
    except (PDFPasswordIncorrect, PDFEncryptionError) as error:
        return {"reject": ["encrypted", f"needs a password or forbids text extraction: {_describe(error)}"]}
    except MemoryError:
        raise
    except Exception as error:  # noqa: BLE001 - pdfminer raises anything on broken input
        return {"reject": ["corrupt-pdf", _describe(error)]}


def _describe(error: Exception) -> str:
    """The error's type and message, cut short (pdfminer may quote a whole stream)."""
    try:
        message = str(error)[:300]
    except Exception:  # noqa: BLE001 - the message of an object built from hostile input may fail too
        message = ""
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def page_texts(raw: bytes, max_pages: int) -> list[str]:
    """The text of every page, running heads and page numbers removed, line-end hyphens joined.

    Unbounded in time and memory: call it in the child, under its limits.
    """
    pages = list(_page_lines(raw, max_pages))
    return _dehyphenate_pages(_strip_running_lines(pages))


def _page_lines(raw: bytes, max_pages: int) -> Iterator[list[tuple[str, float]]]:
    """Each page's text lines (text, height on the page) in pdfminer's reading order."""
    document = PDFDocument(PDFParser(BytesIO(raw)))
    if not document.is_extractable:
        raise PDFEncryptionError("the document forbids text extraction")
    resources = PDFResourceManager(caching=True)
    device = PDFPageAggregator(resources, laparams=LAParams(all_texts=True))
    interpreter = PDFPageInterpreter(resources, device)
    for index, page in enumerate(PDFPage.create_pages(document)):
        if index >= max_pages:
            raise TooManyPages
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


if __name__ == "__main__":  # by hand: python -m clirdata.extractors.pdf_child 2000 1073741824 62 < act.pdf
    main(sys.argv[1:])
