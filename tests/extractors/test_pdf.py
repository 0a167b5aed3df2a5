"""PDF text extraction: PDFs generated from real acts, hand-laid pages for the line-level
rules (running heads, hyphens), and every kind of PDF that must become a Reject."""

from __future__ import annotations

from io import BytesIO

import pytest
from pdfminer.high_level import extract_text

from clirdata.extractors import pdf as pdf_module
from clirdata.extractors.eurlex_html import parse_act_html
from clirdata.extractors.pdf import extract_pdf_text
from clirdata.schemas.legal import ActText, PdfText
from clirdata.schemas.records import Reject
from tests import pdfgen
from tests.conftest import shared_fixture


def act(name: str, lang: str = "en") -> ActText:
    path = shared_fixture(f"eurlex/html/{name}")
    parsed = parse_act_html(path.read_bytes(), "32016R0679", lang, str(path))
    assert isinstance(parsed, ActText), parsed
    return parsed


def extract(raw: bytes, **limits) -> PdfText:
    text = extract_pdf_text(raw, **limits)
    assert isinstance(text, PdfText), text
    return text


def words_shown(shown: ActText) -> list[str]:
    return " ".join(pdfgen.act_paragraphs(shown)).split()


@pytest.mark.parametrize(("name", "lang"), [("gdpr-article-7-eng.xhtml", "en"), ("gdpr-article-7-ell.xhtml", "el")])
def test_one_page_act_comes_back_word_for_word_without_head_or_page_number(name, lang):
    shown = act(name, lang)
    text = extract(pdfgen.faithful_pdf(shown))
    assert len(text.pages) == 1
    assert text.text.split() == words_shown(shown)
    assert "Official Journal of the European Union" not in text.text


def test_running_heads_and_page_numbers_go_on_every_page_of_a_long_act():
    shown = act("eprivacy_02002L0058-20091219_EN.html")
    raw = pdfgen.faithful_pdf(shown)
    assert "L 119/3" in extract_text(BytesIO(raw))  # pdfminer alone keeps them
    text = extract(raw)
    assert len(text.pages) > 5
    assert text.text.split() == words_shown(shown)
    assert text.text == "\n".join(text.pages)


def test_line_end_hyphens_are_joined_and_other_hyphens_kept():
    shown = act("eprivacy_02002L0058-20091219_EN.html")
    raw = pdfgen.hyphenated_pdf(shown)
    raw_lines = extract_text(BytesIO(raw)).splitlines()
    assert sum(line.rstrip().endswith("-") and line[-2:-1].isalpha() for line in raw_lines) >= 20
    assert extract(raw).text.split() == words_shown(shown)


def test_hyphen_rules_line_by_line_and_across_pages():
    raw = pdfgen.lines_pdf([
        ["The data are subject to process-", "ing under the Data-", "Protection rules and non-discrimination",
         "as a regu-"],
        ["lation requires."],
    ])
    text = extract(raw)
    assert text.pages == (
        "The data are subject to\nprocessing under the Data-\nProtection rules and non-discrimination\nas a",
        "regulation requires.",
    )


def test_a_line_recurring_at_the_top_of_most_pages_is_a_running_head():
    bodies = [["Member States shall act.", "The Commission shall report."],
              ["Fish are protected.", "Nets are counted."],
              ["Boats are registered.", "Ports are inspected."],
              ["Rules apply.", "Fines are set."]]
    raw = pdfgen.lines_pdf([["Draft consolidated version (page header)", *body] for body in bodies]
                           + [["Draft consolidated version (page header) only once", "End."]])
    text = extract(raw)
    assert [page.splitlines() for page in text.pages[:4]] == bodies
    assert text.pages[-1] == "Draft consolidated version (page header) only once\nEnd."


def test_pdf_protected_only_by_an_owner_password_is_read():
    raw = pdfgen.lines_pdf([["Readable by anyone."]], owner_password="owner-secret")
    assert b"/Encrypt" in raw
    assert extract(raw).text == "Readable by anyone."


def reject_of(raw: bytes, **limits) -> Reject:
    reject = extract_pdf_text(raw, uri="mem://a.pdf", celex="32016R0679", **limits)
    assert isinstance(reject, Reject), reject
    assert (reject.source, reject.stage, reject.source_uri, reject.source_id) == (
        "eurlex", "extract", "mem://a.pdf", "32016R0679")
    return reject


def test_encrypted_pdf_is_rejected():
    assert reject_of(pdfgen.encrypted_pdf(act("gdpr-article-7-eng.xhtml"))).reason == "encrypted"


def test_image_only_pdf_has_no_text():
    assert reject_of(pdfgen.image_only_pdf()).reason == "no-text"


@pytest.mark.parametrize("raw", [b"", b"hello, not a PDF", b"%PDF-1.7\n1 0 obj << /Type /Catalog"])
def test_garbage_is_a_corrupt_pdf(raw):
    assert reject_of(raw).reason == "corrupt-pdf"


@pytest.mark.parametrize("keep", [0.2, 0.5, 0.9])
def test_cut_pdf_is_corrupt(keep):
    assert reject_of(pdfgen.corrupt_pdf(act("gdpr-article-7-eng.xhtml"), keep)).reason == "corrupt-pdf"


def test_too_many_bytes_or_pages_are_too_large():
    raw = pdfgen.faithful_pdf(act("eprivacy_02002L0058-20091219_EN.html"))
    assert reject_of(raw, max_bytes=len(raw) - 1).reason == "too-large"
    assert reject_of(raw, max_pages=2).detail == "more than 2 pages"


def test_time_limit_stops_between_pages():
    raw = pdfgen.faithful_pdf(act("gdpr-article-7-eng.xhtml"))
    reject = reject_of(raw, timeout_s=0)
    assert reject.reason == "timeout"


def test_time_limit_stops_inside_a_page(monkeypatch):
    """A clock that moves one second per look: the deadline passes while page 1 is drawn."""
    clock = iter(range(10_000))
    monkeypatch.setattr(pdf_module, "monotonic", lambda: next(clock))
    raw = pdfgen.faithful_pdf(act("gdpr-article-7-eng.xhtml"))
    reject = reject_of(raw, timeout_s=2.5)
    assert (reject.reason, reject.detail) == ("timeout", "over 2.5 s, after 0 pages")
