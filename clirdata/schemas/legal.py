"""Shapes of legal acts (EUR-Lex): units, a language version of an act, PDF text, fidelity."""

from __future__ import annotations

from dataclasses import dataclass

UNIT_KINDS = ("preamble", "recital", "section", "article", "paragraph", "final", "annex")


@dataclass(frozen=True)
class Unit:
    """One addressable piece of an act, with an id identical in every language.

    Ids: ``pbl_1`` (preamble; ``pbl_2`` its part after the recitals), ``rct_12`` (recital),
    ``cpt_II`` or ``cpt_III.sct_1`` (a chapter or section heading, with the ELI id; ``sec_3``,
    counted, where the page has none), ``art_7`` (article: heading and any text outside its
    numbered paragraphs), ``007.001`` (paragraph 1 of article 7), ``fnp_1`` (the concluding
    formula and signatures), ``anx_I`` (annex). Every word of the act's body is in one unit;
    sections and the final formula are scored for PDF fidelity but are no corpus row of their own.
    """

    id: str
    kind: str
    text: str
    heading: str = ""

    @property
    def full_text(self) -> str:
        """Heading and text as a reader (or a PDF) shows them."""
        return f"{self.heading} {self.text}".strip()


@dataclass(frozen=True)
class ActText:
    """One language version of one act, from its HTML (units) or its PDF (text only).

    For HTML, `text` is the units' texts joined in order; for a PDF, `units` is empty and
    `text` is the cleaned full text, with `pages` its page count.
    """

    celex: str
    lang: str
    fmt: str
    title: str
    units: tuple[Unit, ...]
    text: str
    source_uri: str
    sha256: str
    extractor_version: str
    pages: int = 0


@dataclass(frozen=True)
class PdfText:
    """The text of a PDF, page by page, with running heads and page numbers removed."""

    pages: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.pages)


@dataclass(frozen=True)
class FidelityReport:
    """PDF-to-HTML fidelity: LEMUR's LCS for comparison, and the scores that gate acceptance.

    `fidelity` (in [0, 1]) is what a build compares with ``--min-fidelity``; `per_unit`
    holds ``(unit_id, lcs, score)`` for every unit with text.
    """

    lcs: float
    overlap_f1: float
    order: float
    fidelity: float
    per_unit: tuple[tuple[str, float, float], ...] = ()
