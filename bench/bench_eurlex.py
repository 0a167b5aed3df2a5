"""PDF pages/s through the `build eurlex` pipeline against pdfminer alone on the same files.

Makes a folder of N copies of the real GDPR (XHTML + a faithful generated PDF of 85 pages)
under different CELEX numbers, then times, in this process: pdfminer.six's own
`extract_text` over the PDFs (the floor), and the whole Beam build (HTML parse, PDF text with
running heads removed, fidelity, pairing, Parquet). Needs ../shared/fixtures.

    python bench/bench_eurlex.py --copies 4 --repeat 3
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pdfminer.high_level import extract_text  # noqa: E402
from pdfminer.pdfpage import PDFPage  # noqa: E402

from clirdata.align.eurlex import EurlexPairing  # noqa: E402
from clirdata.extractors.eurlex_html import parse_act_html  # noqa: E402
from clirdata.pipelines.build import Build, run_build  # noqa: E402
from clirdata.pipelines.runner import make_options  # noqa: E402
from clirdata.sources.eurlex import EurlexSource  # noqa: E402
from tests import pdfgen  # noqa: E402

GDPR = REPO.parent / "shared" / "fixtures" / "real" / "eurlex" / "html" / "gdpr_32016R0679_L_2016119EN.01000101.xhtml"


def make_folder(copies: int) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="eurlex-bench-"))
    act = parse_act_html(GDPR.read_bytes(), "32016R0679", "en", str(GDPR))
    pdf = pdfgen.faithful_pdf(act)
    for index in range(copies):
        celex = f"3201{index}R0679"
        shutil.copy(GDPR, folder / f"{celex}_EN.xhtml")
        (folder / f"{celex}_EN.pdf").write_bytes(pdf)
    return folder


def pdfminer_alone(folder: Path) -> int:
    for path in sorted(folder.glob("*.pdf")):
        extract_text(str(path))
    return 0


def pipeline(folder: Path) -> None:
    source = EurlexSource(location=str(folder), pairing=EurlexPairing(langs=("en",), query_lang="en"))
    with tempfile.TemporaryDirectory() as out:
        manifest = run_build(Build(source, out), source.prepare(), make_options([]), "bench")
        fidelity = next(stage for stage in manifest["stages"] if stage["name"] == "fidelity")
        assert fidelity["rejected"] == 0, manifest["stages"]  # every faithful PDF passes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = make_folder(args.copies)
    pages = sum(len(list(PDFPage.get_pages(path.open("rb")))) for path in folder.glob("*.pdf"))
    results = {}
    for name, work in (("pdfminer extract_text alone", pdfminer_alone), ("clirdata build eurlex", pipeline)):
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            work(folder)
            times.append(time.perf_counter() - started)
        results[name] = statistics.median(times)
        print(f"{name:30s} median {results[name]:6.2f} s  {pages / results[name]:6.1f} pages/s  "
              f"runs {[round(t, 2) for t in times]}")
    ratio = results["clirdata build eurlex"] / results["pdfminer extract_text alone"]
    print(f"{pages} pages in {args.copies} PDFs; pipeline / pdfminer time ratio: {ratio:.2f}")
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
