"""Fidelity scores: LEMUR's LCS, overlap F1, order; their properties, their speed, and the
calibration of the acceptance threshold on PDFs generated from real acts."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import resources
from time import perf_counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from clirdata.checks.fidelity import (
    DEFAULT_MIN_FIDELITY,
    fidelity,
    lexical_content_score,
    overlap_f1,
    sequence_similarity,
)
from clirdata.extractors.eurlex_html import parse_act_html
from clirdata.extractors.pdf import extract_pdf_text
from clirdata.extractors.text import clean_text
from clirdata.schemas.legal import ActText, PdfText, Unit
from tests import pdfgen
from tests.conftest import shared_fixture

SCORES = [lexical_content_score, overlap_f1, sequence_similarity]
SPACES = st.sampled_from([" ", "  ", "\n", "\t", " \n ", "\u00a0", "\u2003"])
WORD = st.text(st.characters(blacklist_categories=("Zs", "Zl", "Zp", "Cc", "Cs")), min_size=1, max_size=6)
SMALL_WORD = st.sampled_from(["the", "of", "data", "Data", "consent", "1.", "a", "Άρθρο", "ß"])
WORDS = st.lists(st.one_of(WORD, SMALL_WORD), max_size=60)
CASED = st.lists(st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzéàçöαβγδεζηθλμπρτφω"), min_size=1, max_size=6),
                 max_size=40)


def spaced(words: list[str], data: st.DataObject) -> str:
    """The words joined by arbitrary white space (and padded with it)."""
    gaps = data.draw(st.lists(SPACES, min_size=len(words) + 1, max_size=len(words) + 1))
    return "".join(gap + word for gap, word in zip(gaps, [*words, ""], strict=True))


# --- definitions on small cases -------------------------------------------------------------

def test_lcs_is_lemur_cosine_of_term_frequencies():
    assert lexical_content_score("a a b", "a b b") == pytest.approx(4 / 5)
    assert lexical_content_score("The cat", "the CAT") == 1.0
    assert lexical_content_score("a b", "c d") == 0.0
    assert lexical_content_score("", "") == 1.0 and lexical_content_score("a", "") == 0.0
    assert lexical_content_score("a b c", "c b a") == 1.0  # blind to order: why it cannot gate


def test_overlap_f1_counts_each_word_as_often_as_it_occurs():
    assert overlap_f1("a b c d", "a b") == pytest.approx(2 * 2 / 6)
    assert overlap_f1("a a a", "a") == pytest.approx(2 * 1 / 4)
    assert overlap_f1("", "") == 1.0 and overlap_f1("a", "") == 0.0


def test_sequence_similarity_sees_order():
    assert sequence_similarity("a b c", "c b a") == pytest.approx(1 - 4 / 6)
    assert sequence_similarity("a b c d", "a b d") == pytest.approx(1 - 1 / 7)


# --- properties -----------------------------------------------------------------------------

@pytest.mark.parametrize("score", SCORES)
@given(words=WORDS, data=st.data())
def test_each_score_is_one_for_identical_texts_whatever_the_spacing(score, words, data):
    assert score(spaced(words, data), spaced(words, data)) == 1.0


@pytest.mark.parametrize("score", SCORES)
@given(a=WORDS, b=WORDS)
def test_each_score_is_symmetric_and_in_unit_interval(score, a, b):
    forward, backward = score(" ".join(a), " ".join(b)), score(" ".join(b), " ".join(a))
    assert forward == pytest.approx(backward, abs=1e-12)
    assert 0.0 <= forward <= 1.0


@pytest.mark.parametrize("score", SCORES)
@given(a=CASED, b=CASED)
def test_each_score_is_blind_to_upper_and_lower_case(score, a, b):
    text_a, text_b = " ".join(a), " ".join(b)
    assert score(text_a.upper(), text_b.lower()) == score(text_a, text_b)


@given(a=WORDS, b=WORDS)
def test_scores_are_blind_to_their_own_case_mapping_on_any_text(a, b):
    text_a, text_b = " ".join(a), " ".join(b)
    assert lexical_content_score(text_a.lower(), text_b) == lexical_content_score(text_a, text_b)
    assert overlap_f1(text_a.casefold(), text_b) == overlap_f1(text_a, text_b)
    assert sequence_similarity(text_a.casefold(), text_b) == sequence_similarity(text_a, text_b)


def as_units(parts: list[list[str]]) -> list[Unit]:
    return [Unit(f"u{n}", "paragraph", " ".join(words)) for n, words in enumerate(parts)]


@settings(deadline=None)
@given(parts=st.lists(st.lists(st.one_of(SMALL_WORD, WORD), max_size=30), max_size=8), data=st.data())
def test_fidelity_is_one_when_the_pdf_text_is_the_html_text(parts, data):
    report = fidelity(spaced([w for words in parts for w in words], data), as_units(parts))
    assert (report.lcs, report.overlap_f1, report.order, report.fidelity) == (1.0, 1.0, 1.0, 1.0)
    assert all(lcs == score == 1.0 for _, lcs, score in report.per_unit)


@settings(deadline=None)
@given(parts=st.lists(st.lists(SMALL_WORD, max_size=30), max_size=6), pdf=WORDS, data=st.data())
def test_fidelity_is_in_unit_interval_and_blind_to_case_and_spacing(parts, pdf, data):
    report = fidelity(" ".join(pdf), as_units(parts))
    assert all(0.0 <= value <= 1.0 for value in (report.lcs, report.overlap_f1, report.order, report.fidelity))
    assert all(0.0 <= lcs <= 1.0 and 0.0 <= score <= 1.0 for _, lcs, score in report.per_unit)
    again = fidelity(spaced([word.lower() for word in pdf], data), as_units(parts))
    assert (again.lcs, again.overlap_f1, again.order) == (report.lcs, report.overlap_f1, report.order)


def test_units_without_words_are_not_scored():
    report = fidelity("Article 7 consent", [Unit("art_7", "article", "", "Article 7"), Unit("x", "paragraph", " ")])
    assert [unit_id for unit_id, _, _ in report.per_unit] == ["art_7"]


def test_a_final_formula_is_scored_where_the_pdf_has_it_and_not_missed_where_it_does_not():
    body = [Unit("art_1", "article", "Member States shall count nets every year.", "Article 1"),
            Unit("fnp_1", "final", "Done at Brussels, 1 January 2099. For the Council The President A. NAME")]
    annex = Unit("anx_I", "annex", "Model report of the count.", "ANNEX I")
    with_formula = "Article 1 Member States shall count nets every year. Done at Brussels, 1 January 2099. " \
                   "For the Council The President A. NAME ANNEX I Model report of the count."
    without = "Article 1 Member States shall count nets every year. ANNEX I Model report of the count."
    for pdf_text in (with_formula, without):
        report = fidelity(pdf_text, [*body, annex])
        assert (report.overlap_f1, report.order, report.fidelity) == (1.0, 1.0, 1.0)
    assert [u for u, _, _ in fidelity(with_formula, [*body, annex]).per_unit] == ["art_1", "fnp_1", "anx_I"]
    assert [u for u, _, _ in fidelity(without, [*body, annex]).per_unit] == ["art_1", "anx_I"]
    lost_article = fidelity("Done at Brussels, 1 January 2099. For the Council The President A. NAME ANNEX I Model "
                            "report of the count.", [*body, annex])
    assert lost_article.fidelity < 0.7  # only the final formula may be missing


# --- on the real GDPR text ------------------------------------------------------------------

def real_act(name: str, lang: str = "en") -> ActText:
    path = shared_fixture(f"eurlex/html/{name}")
    act = parse_act_html(path.read_bytes(), "x", lang, str(path))
    assert isinstance(act, ActText), act
    return act


@pytest.fixture(scope="module")
def gdpr() -> ActText:
    return real_act("gdpr_32016R0679_L_2016119EN.01000101.xhtml")


def html_text(act: ActText) -> str:
    return " ".join(unit.full_text for unit in act.units)


def test_interleaved_text_fools_lcs_but_not_the_order_score(gdpr):
    words = html_text(gdpr).split()
    lines = [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)]
    pages = [lines[i : i + 100] for i in range(0, len(lines), 100)]  # two columns of 50 lines
    rows = [pair for page in pages for pair in zip(page[:50], page[50:], strict=False)]
    interleaved = " ".join(f"{left} {right}" for left, right in rows)
    report = fidelity(interleaved, gdpr.units)
    assert report.lcs > 0.99 and report.overlap_f1 > 0.99
    assert report.order < 0.7 and report.fidelity < DEFAULT_MIN_FIDELITY
    assert min(score for _, _, score in report.per_unit) < 0.7


def test_lost_unit_is_pointed_at_by_its_own_score(gdpr):
    kept = [unit for unit in gdpr.units if unit.id != "rct_50"]
    report = fidelity(" ".join(unit.full_text for unit in kept), gdpr.units)
    scores = {unit_id: score for unit_id, _, score in report.per_unit}
    assert scores["rct_50"] < 0.5
    assert min(score for unit_id, score in scores.items() if unit_id != "rct_50") == 1.0


def test_whole_gdpr_is_scored_in_well_under_two_seconds(gdpr):
    text = html_text(gdpr).replace(" the ", " ")  # not verbatim: every unit takes the aligning path
    started = perf_counter()
    report = fidelity(text, gdpr.units)
    assert perf_counter() - started < 2.0
    assert len(report.per_unit) == len(gdpr.units)
    started = perf_counter()
    lexical_content_score(text, html_text(gdpr))
    assert perf_counter() - started < 0.5


# --- calibration on generated PDFs ----------------------------------------------------------

@dataclass(frozen=True)
class Row:
    act: str
    variant: str
    accept: bool
    lcs: float
    overlap_f1: float
    order: float
    fidelity: float


def broken_words(text: str, share: float = 0.3, seed: int = 7) -> str:
    """`share` of the long words split by a hyphen, as an extractor that does not repair them leaves them."""
    rng = random.Random(seed)

    def split(match: re.Match[str]) -> str:
        word = match.group(0)
        return f"{word[: len(word) // 2]}- {word[len(word) // 2 :]}" if rng.random() < share else word

    return re.sub(rf"\b[^\W\d_]{{{pdfgen.MIN_HYPHENATED},}}\b", split, text)


PdfBuilder = Callable[[ActText, ActText], bytes]
VARIANTS: list[tuple[str, PdfBuilder, bool]] = [
    ("faithful", lambda act, other: pdfgen.faithful_pdf(act), True),
    ("hyphenated line ends", lambda act, other: pdfgen.hyphenated_pdf(act), True),
    ("two columns interleaved", lambda act, other: pdfgen.interleaved_columns_pdf(act), False),
    ("10% of lines lost", lambda act, other: pdfgen.lost_lines_pdf(act), False),
    ("first half only", lambda act, other: pdfgen.truncated_pdf(act), False),
    ("wrong act", lambda act, other: pdfgen.faithful_pdf(other), False),
]


def score_row(name: str, variant: str, accept: bool, pdf_text: str, act: ActText) -> Row:
    report = fidelity(pdf_text, act.units)
    return Row(name, variant, accept, report.lcs, report.overlap_f1, report.order, report.fidelity)


def with_notes_and_headings(text: str, html: bytes) -> str:
    """The text with the HTML's footnotes at every ~700 words (page feet) and its chapter and
    section headings spread in: what a real Official Journal PDF adds to the units."""
    root = etree.fromstring(html, etree.HTMLParser())
    extras = [clean_text("".join(p.itertext())) for p in root.xpath("//p[@class='oj-note' or "
                                                                   "starts-with(@class, 'oj-ti-section')]")]
    words, out = text.split(), []
    starts = range(0, len(words), 700)
    for page, start in enumerate(starts):
        out += words[start : start + 700] + extras[page :: len(starts)]
    return " ".join(out)


def calibration_rows(name: str, act: ActText, other: ActText, html: bytes = b"") -> list[Row]:
    rows = []
    for variant, build, accept in VARIANTS:
        text = extract_pdf_text(build(act, other))
        assert isinstance(text, PdfText), text
        rows.append(score_row(name, variant, accept, text.text, act))
        if variant == "faithful":
            rows.append(score_row(name, "hyphens not repaired (text)", False, broken_words(text.text), act))
        if variant == "faithful" and html:
            rows.append(score_row(name, "+ footnotes and headings (text)", True,
                                  with_notes_and_headings(text.text, html), act))
    return rows


@pytest.fixture(scope="module")
def calibration(gdpr) -> list[Row]:
    english, greek = real_act("gdpr-article-7-eng.xhtml"), real_act("gdpr-article-7-ell.xhtml", "el")
    article_8 = replace(gdpr, title="", units=tuple(u for u in gdpr.units if u.id == "art_8" or u.id[:4] == "008."))
    eprivacy = real_act("eprivacy_02002L0058-20091219_EN.html")
    html = shared_fixture("eurlex/html/gdpr_32016R0679_L_2016119EN.01000101.xhtml").read_bytes()
    return (calibration_rows("GDPR en", gdpr, eprivacy, html) + calibration_rows("Art. 7 en", english, article_8)
            + calibration_rows("Art. 7 el", greek, english))


def test_calibration_threshold_accepts_every_faithful_pdf_and_rejects_every_damaged_one(calibration):
    print(f"\n| act | PDF variant | LEMUR LCS | overlap F1 | order | fidelity | expected (>= {DEFAULT_MIN_FIDELITY}) |")
    print("|---|---|---|---|---|---|---|")
    for row in calibration:
        print(f"| {row.act} | {row.variant} | {row.lcs:.3f} | {row.overlap_f1:.3f} | {row.order:.3f} "
              f"| {row.fidelity:.3f} | {'accept' if row.accept else 'reject'} |")
    wrong = [row for row in calibration if (row.fidelity >= DEFAULT_MIN_FIDELITY) != row.accept]
    assert not wrong, wrong


def test_lemur_lcs_alone_would_accept_damaged_pdfs(calibration):
    fooled = [row for row in calibration if not row.accept and row.lcs >= 0.95]
    assert {row.variant for row in fooled} >= {"two columns interleaved", "10% of lines lost", "wrong act"}


@pytest.mark.parametrize("celex", ["32099R0001", "32099R0002", "32099L0003"])
@pytest.mark.parametrize("lang", ["en", "fr", "de"])
def test_embedded_sample_pdfs_pass_but_the_one_damaged_on_purpose(celex, lang):
    folder = resources.files("clirdata.data").joinpath("eurlex")
    act = parse_act_html(folder.joinpath(f"{celex}_{lang}.xhtml").read_bytes(), celex, lang, "sample")
    text = extract_pdf_text(folder.joinpath(f"{celex}_{lang}.pdf").read_bytes())
    assert isinstance(act, ActText) and isinstance(text, PdfText)
    damaged = (celex, lang) == ("32099R0002", "de")
    assert (fidelity(text.text, act.units).fidelity >= DEFAULT_MIN_FIDELITY) is not damaged
