"""PDF text extraction: PDFs generated from real acts, hand-laid pages for the line-level
rules (running heads, hyphens), every kind of PDF that must become a Reject, hostile PDFs
that only a child process under hard limits stops, and fuzzing."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pdfminer.high_level import extract_text

from clirdata.extractors.eurlex_html import parse_act_html
from clirdata.extractors.pdf import PdfChildError, extract_pdf_text
from clirdata.schemas.legal import ActText, PdfText
from clirdata.schemas.records import Reject
from tests import hostile_pdfs, pdfgen
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


def test_a_document_without_pages_is_corrupt():
    assert reject_of(hostile_pdfs.no_pages()).detail == "the document has no pages"


def children_of_this_thread() -> set[str]:
    path = Path(f"/proc/self/task/{threading.get_native_id()}/children")
    if not path.exists():
        pytest.skip("this kernel does not list a thread's children")
    return set(path.read_text().split())


@pytest.mark.timeout(30)
def test_xobject_fan_out_of_two_to_the_thirty_is_stopped_at_the_timeout_and_its_process_reaped():
    """Forms that draw nothing, each drawing the next twice: no glyph, no path, no end."""
    assert reject_of(hostile_pdfs.xobject_fanout(3)).reason == "no-text"  # well formed: only its size hurts
    raw = hostile_pdfs.xobject_fanout(30)
    assert len(raw) < 8_000
    before = children_of_this_thread()
    reject = reject_of(raw, timeout_s=1)
    assert (reject.reason, reject.detail) == ("timeout", "over 1 s: the extraction process was stopped")
    assert children_of_this_thread() <= before


@pytest.mark.timeout(30)
def test_a_page_of_scattered_glyphs_is_stopped_inside_layout_analysis():
    """1000 lone glyphs take pdfminer's pairwise grouping ~7 s and ~230 MB here (2000: 36 s):
    the deadline passes where no in-process check could look at the clock."""
    small = extract_pdf_text(hostile_pdfs.crowded_page(100))
    assert isinstance(small, PdfText) and small.text.split() == ["x"] * 100
    reject = reject_of(hostile_pdfs.crowded_page(1000), timeout_s=1, max_memory=512 << 20)
    assert reject.reason == "timeout"


@pytest.mark.timeout(60)
def test_a_flate_bomb_ends_at_the_memory_limit():
    """400 MiB of zeros deflated twice is ~1.3 KB; pdfminer inflates a stream whole, so the child's
    200 MiB address space is what stops it (a smaller bomb of the same shape is read)."""
    assert reject_of(hostile_pdfs.flate_bomb(256 << 10), max_memory=200 << 20).reason == "no-text"
    raw = hostile_pdfs.flate_bomb(400 << 20)
    assert len(raw) < 5_000
    reject = reject_of(raw, max_memory=200 << 20)
    assert (reject.reason, reject.detail) == ("memory-limit", "needs more than the memory limit of 200 MiB")


def stand_in_interpreter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """Replaces the interpreter that runs the child by a shell script."""
    path = tmp_path / "python"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(path))


def test_a_child_that_dies_of_a_signal_is_a_corrupt_pdf(tmp_path, monkeypatch):
    stand_in_interpreter(tmp_path, monkeypatch, "ulimit -c 0; echo 'Fatal Python error: Segmentation fault' >&2; "
                                                "kill -SEGV $$")
    reject = reject_of(hostile_pdfs.text_page())
    assert (reject.reason, reject.detail) == (
        "corrupt-pdf", "the extraction process died of SIGSEGV: Fatal Python error: Segmentation fault")


def test_a_child_that_cannot_run_fails_the_call_instead_of_rejecting_every_pdf(tmp_path, monkeypatch):
    stand_in_interpreter(tmp_path, monkeypatch, "echo \"ModuleNotFoundError: No module named 'pdfminer'\" >&2; exit 1")
    with pytest.raises(PdfChildError, match=r"exit status 1\): ModuleNotFoundError: No module named 'pdfminer'"):
        extract_pdf_text(hostile_pdfs.text_page())


@pytest.mark.timeout(30)
def test_threads_extract_side_by_side_and_one_stuck_pdf_holds_up_no_other():
    """As in a multi-threaded Beam worker: each call has its own child."""
    texts = [f"Article {n} applies." for n in range(3)]
    with ThreadPoolExecutor(4) as pool:
        stuck = pool.submit(extract_pdf_text, hostile_pdfs.xobject_fanout(30), timeout_s=1)
        done = list(pool.map(lambda text: extract_pdf_text(hostile_pdfs.text_page(text), timeout_s=20), texts))
        assert stuck.result().reason == "timeout"
    assert [result.pages for result in done] == [(text,) for text in texts]


REASONS = {"corrupt-pdf", "encrypted", "no-text", "too-large", "timeout", "memory-limit"}
FUZZ_EXAMPLES = max(10, settings().max_examples // 4)  # each example starts a process


def assert_text_or_reject(raw: bytes) -> None:
    result = extract_pdf_text(raw, timeout_s=5, max_memory=256 << 20, uri="fuzz")
    if isinstance(result, Reject):
        assert result.reason in REASONS and result.detail and result.stage == "extract", result
    else:
        assert isinstance(result, PdfText) and result.pages and all(isinstance(page, str) for page in result.pages)


@settings(max_examples=FUZZ_EXAMPLES)
@given(st.binary(max_size=2_000) | st.binary(max_size=500).map(lambda tail: b"%PDF-1.7\n" + tail))
def test_any_bytes_give_text_or_a_reject(raw):
    assert_text_or_reject(raw)


@cache
def real_pdf() -> bytes:
    return pdfgen.lines_pdf([["Member States shall act.", "The Commission shall report."], ["Fines are set."]])


@settings(max_examples=FUZZ_EXAMPLES)
@given(edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.binary(max_size=8), st.integers(0, 8)),
                      min_size=1, max_size=4),
       keep=st.just(1.0) | st.floats(0.05, 1))
def test_mutations_of_a_real_pdf_give_text_or_a_reject(edits, keep):
    """Runs of bytes replaced, dropped or inserted anywhere (xref, streams, fonts), then maybe a cut."""
    raw = bytearray(real_pdf())
    for where, new, dropped in edits:
        at = int(where * len(raw))
        raw[at:at + dropped] = new
    assert_text_or_reject(bytes(raw[: max(1, int(len(raw) * keep))]))
