"""Time the fidelity scores on the whole GDPR and pdfminer's speed on a generated GDPR PDF.

Prints the median of several runs of LEMUR's LCS, of `fidelity` (verbatim text, and a text
where every unit needs aligning) and pages per second of `extract_pdf_text`, then how the
scores fall as more lines are lost (bench/FIDELITY.md). Needs ../shared/fixtures (the real
GDPR XHTML). Run: `python bench/bench_lcs.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from clirdata.checks.fidelity import fidelity, lexical_content_score, overlap_f1  # noqa: E402
from clirdata.extractors.eurlex_html import parse_act_html  # noqa: E402
from clirdata.extractors.pdf import extract_pdf_text  # noqa: E402
from clirdata.schemas.legal import ActText, PdfText  # noqa: E402
from tests import pdfgen  # noqa: E402

GDPR = REPO.parent / "shared" / "fixtures" / "real" / "eurlex" / "html" / "gdpr_32016R0679_L_2016119EN.01000101.xhtml"


def median_seconds(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def loss_sweep(act: ActText, shares: tuple[float, ...] = (0.02, 0.05, 0.07, 0.1, 0.2)) -> None:
    """Scores of the GDPR text with a share of its 12-word lines dropped."""
    words = " ".join(unit.full_text for unit in act.units).split()
    lines = [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)]
    print("lines lost | LEMUR LCS | overlap F1 | order | fidelity")
    for share in shares:
        rng = random.Random(3)
        report = fidelity(" ".join(line for line in lines if rng.random() >= share), act.units)
        scores = (report.lcs, report.overlap_f1, report.order, report.fidelity)
        print(f"{share:10.0%} | " + " | ".join(f"{score:.3f}" for score in scores))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    raw = GDPR.read_bytes()
    act = parse_act_html(raw, "32016R0679", "en", str(GDPR))
    assert isinstance(act, ActText), act
    html = " ".join(unit.full_text for unit in act.units)
    damaged = html.replace(" the ", " ")  # no unit is verbatim: every one takes the aligning path
    print(f"GDPR: {len(act.units)} units, {len(html.split())} words; median of {runs} runs")
    print(f"parse_act_html        {median_seconds(lambda: parse_act_html(raw, 'x', 'en', 'x'), runs) * 1000:8.1f} ms")
    print(f"lexical_content_score {median_seconds(lambda: lexical_content_score(damaged, html), runs) * 1000:8.1f} ms")
    print(f"overlap_f1            {median_seconds(lambda: overlap_f1(damaged, html), runs) * 1000:8.1f} ms")
    print(f"fidelity (verbatim)   {median_seconds(lambda: fidelity(html, act.units), runs) * 1000:8.1f} ms")
    print(f"fidelity (aligning)   {median_seconds(lambda: fidelity(damaged, act.units), runs) * 1000:8.1f} ms")
    pdf = pdfgen.faithful_pdf(act)
    pages = extract_pdf_text(pdf)
    assert isinstance(pages, PdfText), pages
    seconds = median_seconds(lambda: extract_pdf_text(pdf), max(1, runs // 2))
    count = len(pages.pages)
    print(f"extract_pdf_text      {seconds:8.2f} s for {count} pages: {count / seconds:.1f} pages/s")
    loss_sweep(act)


if __name__ == "__main__":
    main()
