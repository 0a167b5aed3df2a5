"""How faithfully a PDF's text renders an act's HTML: LEMUR's score, and the scores that gate.

LEMUR's Lexical Content Score (LCS) is reported so numbers compare with LEMUR's, but
function words dominate its cosine (a different act of the field scores 0.95-0.97), so acceptance rests on
two other scores: the word overlap F1 (sees lost, added or broken words) and an order score
(each unit's words found in order in the PDF text: sees interleaved columns and shuffles).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from math import sqrt

from rapidfuzz.distance import Indel

from clirdata.schemas.legal import FidelityReport, Unit

# Calibrated on generated PDFs (bench/FIDELITY.md): faithful ones score 1.0 (0.97 for a short
# act with footnotes added), the mildest damage (10 % of the lines lost) 0.93 and less; 0.95
# sits about halfway and accepts up to ~7 % of the lines lost.
DEFAULT_MIN_FIDELITY = 0.95

CHUNK_WORDS = 400  # long units are located and scored in pieces: bounded time and memory
ANCHOR_SIZE = 3  # words in an anchor n-gram
ANCHOR_MAX_HITS = 32  # an n-gram seen more often than this says nothing about where a unit is
BACK_WORDS = 8  # how far before the expected start a unit's stretch may begin
FOUND = 0.5  # a chunk scoring at least this moves the cursor past its stretch
# Units a faithful PDF may lack: the concluding formula and signatures ("Done at Brussels, ... The President").
# Scored where the PDF has them (the Official Journal's do), left out where it does not.
OPTIONAL_KINDS = frozenset({"final"})


def lexical_content_score(a: str, b: str) -> float:
    """LEMUR's LCS: cosine of the term-frequency vectors of the lower-cased, whitespace-split texts.

    Symmetric, in [0, 1]; 1.0 for two empty texts.
    """
    counts_a, counts_b = Counter(a.lower().split()), Counter(b.lower().split())
    if not counts_a or not counts_b:
        return float(counts_a == counts_b)
    if len(counts_a) > len(counts_b):
        counts_a, counts_b = counts_b, counts_a
    dot = sum(n * counts_b[word] for word, n in counts_a.items())
    norms = sum(n * n for n in counts_a.values()) * sum(n * n for n in counts_b.values())
    return min(1.0, dot / sqrt(norms))


def overlap_f1(candidate: str, reference: str) -> float:
    """F1 of the multiset overlap of case-folded words: sees lost, added and broken words.

    Symmetric, in [0, 1]; 1.0 for two empty texts.
    """
    counts_c, counts_r = Counter(_words(candidate)), Counter(_words(reference))
    total = counts_c.total() + counts_r.total()
    if not total:
        return 1.0
    return 2 * (counts_c & counts_r).total() / total


def sequence_similarity(a: str, b: str) -> float:
    """Normalised Indel similarity of the two word sequences (1 - insertions and deletions / words).

    Order-aware (a shuffled text scores low), symmetric, in [0, 1], case-folded.
    """
    vocabulary: dict[str, int] = {}
    return Indel.normalized_similarity(_codes(_words(a), vocabulary), _codes(_words(b), vocabulary))


def fidelity(pdf_text: str, units: Sequence[Unit]) -> FidelityReport:
    """Score a PDF's text against an act's HTML units (headings and texts, in order).

    Each unit is located in the PDF text (near where the previous one ended, or where its
    word 3-grams point) and scored by `sequence_similarity` with the stretch it matches;
    `order` is their word-weighted mean. `overlap_f1` compares the units with the PDF text
    from the first unit found to the last one: the title before them and any trailer after
    them belong to no unit. `fidelity` = min(overlap F1, order); `lcs` is LEMUR's
    score of the whole texts. A unit of an `OPTIONAL_KINDS` kind the PDF does not have is left
    out of every score.
    """
    pdf_tokens = pdf_text.split()
    vocabulary: dict[str, int] = {}
    locator = _Locator(_codes([token.casefold() for token in pdf_tokens], vocabulary))
    per_unit: list[tuple[str, float, float]] = []
    scored: list[str] = []
    found: list[_Match] = []
    weighted, words = 0.0, 0
    for unit in units:
        codes = _codes(_words(unit.full_text), vocabulary)
        if not codes:
            continue
        matches = [locator.match(codes[i : i + CHUNK_WORDS]) for i in range(0, len(codes), CHUNK_WORDS)]
        if unit.kind in OPTIONAL_KINDS and not any(match.score >= FOUND for match in matches):
            continue
        scored.append(unit.full_text)
        unit_score = sum(match.score * match.words for match in matches) / len(codes)
        stretch = " ".join(" ".join(pdf_tokens[match.start : match.end]) for match in matches)
        per_unit.append((unit.id, lexical_content_score(unit.full_text, stretch), unit_score))
        found += [match for match in matches if match.score >= FOUND]
        weighted, words = weighted + unit_score * len(codes), words + len(codes)
    order = weighted / words if words else float(not pdf_tokens)
    span = pdf_tokens[min(m.start for m in found) : max(m.end for m in found)] if found else pdf_tokens
    reference = " ".join(scored)
    f1 = overlap_f1(" ".join(span), reference)
    return FidelityReport(
        lcs=lexical_content_score(pdf_text, reference),
        overlap_f1=f1,
        order=order,
        fidelity=min(f1, order),
        per_unit=tuple(per_unit),
    )


def _words(text: str) -> list[str]:
    return text.casefold().split()


def _codes(words: Sequence[str], vocabulary: dict[str, int]) -> list[int]:
    """Words as integers (one per distinct word), so that rapidfuzz compares words, not letters."""
    return [vocabulary.setdefault(word, len(vocabulary)) for word in words]


@dataclass(frozen=True)
class _Match:
    """Where a chunk of a unit was found in the PDF's words, and how well it matches."""

    start: int
    end: int
    score: float
    words: int


class _Locator:
    """Finds the chunks of the units, in order, in the PDF's word codes.

    A cursor follows the last chunk found; word 3-gram anchors find a chunk that is not
    where the cursor expects it (text the HTML does not have, a lost stretch). Each search
    aligns the chunk with a window a few times its length: linear in the document overall.
    """

    def __init__(self, pdf: list[int]) -> None:
        self._pdf = pdf
        self._cursor = 0
        self._anchors: defaultdict[tuple[int, ...], list[int]] = defaultdict(list)
        for i in range(len(pdf) - ANCHOR_SIZE + 1):
            self._anchors[tuple(pdf[i : i + ANCHOR_SIZE])].append(i)

    def match(self, chunk: list[int]) -> _Match:
        expected = self._expected_start(chunk)
        if self._pdf[expected : expected + len(chunk)] == chunk:  # verbatim where expected
            self._cursor = expected + len(chunk)
            return _Match(expected, self._cursor, 1.0, len(chunk))
        start = max(0, expected - BACK_WORDS)
        window = self._pdf[start : start + 2 * len(chunk) + 2 * BACK_WORDS]
        begin, end = _stretch(chunk, window)
        score = Indel.normalized_similarity(chunk, window[begin:end])
        if score >= FOUND:
            self._cursor = start + end
        return _Match(start + begin, start + end, score, len(chunk))

    def _expected_start(self, chunk: list[int]) -> int:
        """The start most of the chunk's anchors point to (the nearest to the cursor on a tie).

        The true start gets a vote from every anchor, so no other start can get more.
        """
        votes: Counter[int] = Counter()
        for i in range(len(chunk) - ANCHOR_SIZE + 1):
            hits = self._anchors.get(tuple(chunk[i : i + ANCHOR_SIZE]), [])
            if len(hits) <= ANCHOR_MAX_HITS:
                votes.update(hit - i for hit in hits)
        if not votes:
            return self._cursor
        best = max(votes.values())
        start = min((s for s, n in votes.items() if n == best), key=lambda s: (abs(s - self._cursor), s))
        return max(0, start)


def _stretch(chunk: list[int], window: list[int]) -> tuple[int, int]:
    """The part of `window` that renders `chunk`: from its first to its last run of matching words.

    Runs shorter than 3 words (a stray "of the") are ignored unless the chunk itself is shorter.
    """
    run = min(ANCHOR_SIZE, len(chunk))
    blocks = [op for op in Indel.opcodes(chunk, window) if op.tag == "equal" and op.src_end - op.src_start >= run]
    if not blocks:
        return 0, 0
    return blocks[0].dest_start, blocks[-1].dest_end
