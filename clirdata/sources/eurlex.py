"""EUR-Lex: a folder of `{CELEX}_{LANG}.{html,xhtml,pdf}` files, or acts fetched by CELEX number -> multilingual
collection (`clirdata build eurlex`). The HTML is the reference text; each PDF is extracted and scored
against it (LEMUR's LCS, and the fidelity gate); an act's versions are paired by CELEX number."""

from __future__ import annotations

import functools
import json
import statistics
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import ClassVar

from clirdata.align.eurlex import QUERY_STAGE, CheckedAct, EurlexPairing, act_of, act_units, pair_act
from clirdata.checks.fidelity import DEFAULT_MIN_FIDELITY, fidelity
from clirdata.extractors.eurlex_html import MAX_HTML_BYTES, parse_act_html
from clirdata.extractors.pdf import DEFAULT_MAX_BYTES as MAX_PDF_BYTES
from clirdata.extractors.pdf import DEFAULT_MAX_MEMORY, extract_pdf_text
from clirdata.hub.card import card_template
from clirdata.readers.eurlex import (
    EURLEX_BASE_URL,
    FILE_NAME,
    SOURCE,
    ActFiles,
    download_all,
    list_act_files,
    plan_downloads,
)
from clirdata.readers.files import read_file
from clirdata.readers.splits import read_split
from clirdata.schemas import Outcome, Reject
from clirdata.schemas.legal import ActText, PdfText
from clirdata.sources.base import GROUP, CardText, Prepared, Source, Step

LEMUR = "babaahmadi-etal-2026-lemur"  # the Lexical Content Score comes from LEMUR
WORST_UNITS = 5  # per-unit scores named in a fidelity reject: where the PDF text went wrong


@dataclass(frozen=True)
class ExtractedAct:
    act: ActText
    pdf: PdfText | None = None


def extract_act(files: ActFiles, pdf_timeout_s: float = 60.0, max_html_bytes: int = MAX_HTML_BYTES,
                max_pdf_bytes: int = MAX_PDF_BYTES, pdf_max_memory: int = DEFAULT_MAX_MEMORY) -> Outcome:
    """Parse the HTML (units) and extract the PDF text; a PDF failure is a side reject.

    The HTML is the reference: if it cannot be read or parsed the version is rejected. A version
    without a PDF, or whose PDF fails, goes on unverified (no LCS, no fidelity).
    """
    raw = read_file(SOURCE, files.html, max_html_bytes, "extract", files.celex)
    if isinstance(raw, Reject):
        return Outcome(raw)
    act = parse_act_html(raw, files.celex, files.lang, files.html, max_bytes=max_html_bytes)
    if isinstance(act, Reject):
        return Outcome(act)
    if not files.pdf:
        return Outcome(ExtractedAct(act))
    pdf_raw = read_file(SOURCE, files.pdf, max_pdf_bytes, "extract-pdf", files.celex)
    pdf = pdf_raw if isinstance(pdf_raw, Reject) else extract_pdf_text(
        pdf_raw, max_bytes=max_pdf_bytes, timeout_s=pdf_timeout_s, max_memory=pdf_max_memory, uri=files.pdf,
        celex=files.celex)
    if isinstance(pdf, Reject):
        counts = (("extract-pdf", "in", 1), ("extract-pdf", "rejected", 1))
        return Outcome(ExtractedAct(act), rejects=(replace(pdf, stage="extract-pdf"),), counts=counts)
    return Outcome(ExtractedAct(act, pdf), counts=(("extract-pdf", "in", 1), ("extract-pdf", "out", 1)))


def check_fidelity(extracted: ExtractedAct, min_fidelity: float, unit: str = "document") -> CheckedAct | Reject:
    """Score the PDF against the HTML units; a version whose PDF scores below the threshold is rejected.

    A version without a PDF (none given, or it failed to extract) goes on unverified: no scores.

    An accepted version also gets the scores of each corpus row (LEMUR's LCS per unit, where
    units can be matched): the document's, or each recital's, article's and annex's.
    """
    if extracted.pdf is None:
        return CheckedAct(extracted.act)
    report = fidelity(extracted.pdf.text, extracted.act.units)
    if report.fidelity < min_fidelity:
        worst = sorted(report.per_unit, key=lambda unit: unit[2])[:WORST_UNITS]
        scores = {"lcs": round(report.lcs, 4), "overlap_f1": round(report.overlap_f1, 4),
                  "order": round(report.order, 4), "fidelity": round(report.fidelity, 4), "min_fidelity": min_fidelity,
                  "worst_units": [{"unit": unit, "lcs": round(lcs, 4), "score": round(score, 4)}
                                  for unit, lcs, score in worst]}
        return Reject(SOURCE, extracted.act.source_uri, "fidelity", "low-fidelity", json.dumps(scores),
                      extracted.act.celex)
    if unit == "document":
        unit_scores = (("doc", report.lcs, report.fidelity),)
    else:
        unit_scores = fidelity(extracted.pdf.text, act_units(extracted.act, unit)).per_unit
    return CheckedAct(extracted.act, report, len(extracted.pdf.pages), unit_scores)


def pair_step(celex: str, versions: list[CheckedAct], pairing: EurlexPairing) -> Iterator[Outcome | Reject]:
    """Pairing of one act (its versions grouped by CELEX): its rows as a Collection, with the
    `title-queries` counts; a duplicate version is a `pair` reject, a missing title a side reject.

    Run by `ApplyToGroups(..., "pair")`, which counts each version in `pair.in`.
    """
    paired = pair_act(versions, pairing)
    duplicates = [reject for reject in paired.rejects if reject.stage != QUERY_STAGE]
    no_title = tuple(reject for reject in paired.rejects if reject.stage == QUERY_STAGE)
    acts, queries = paired.stats["acts"], paired.stats["queries"]
    counts = ((QUERY_STAGE, "in", acts), (QUERY_STAGE, "out", queries), (QUERY_STAGE, "rejected", len(no_title)))
    yield Outcome(paired, no_title, counts)
    yield from duplicates


def score_stats(out_dir: str, langs: tuple[str, ...]) -> dict[str, dict]:
    """LCS and fidelity per language (count, min, median) over accepted and rejected PDFs."""
    scores: dict[str, dict[str, list[float]]] = {lang: {"lcs": [], "fidelity": []} for lang in langs}
    seen = set()
    for lang in langs:
        for row in read_split(out_dir, f"corpus/{lang}", columns=["source_id", "lcs", "fidelity"]).to_pylist():
            if row["fidelity"] is not None and (row["source_id"], lang) not in seen:
                seen.add((row["source_id"], lang))
                scores[lang]["lcs"].append(row["lcs"])
                scores[lang]["fidelity"].append(row["fidelity"])
    rejected = {lang: 0 for lang in langs}
    for row in read_split(out_dir, "rejects").to_pylist():
        if row["reason"] == "low-fidelity":
            lang = FILE_NAME.match(row["source_uri"].rsplit("/", 1)[-1])["lang"].lower()
            detail = json.loads(row["detail"])
            scores[lang]["lcs"].append(detail["lcs"])
            scores[lang]["fidelity"].append(detail["fidelity"])
            rejected[lang] += 1

    def summary(values: list[float]) -> dict:
        return {"min": round(min(values), 4), "median": round(statistics.median(values), 4)} if values else {}

    return {lang: {"pdfs": len(s["lcs"]), "rejected": rejected[lang], "lcs": summary(s["lcs"]),
                   "fidelity": summary(s["fidelity"])} for lang, s in scores.items()}


@dataclass(frozen=True)
class EurlexSource(Source):
    """EUR-Lex acts in `pairing.langs`, from the files at `location`, fetched first when `celex` is given."""

    name: ClassVar[str] = SOURCE
    location: str = ""
    pairing: EurlexPairing = EurlexPairing()
    min_fidelity: float = DEFAULT_MIN_FIDELITY
    pdf_timeout_s: float = 60.0
    max_html_bytes: int = MAX_HTML_BYTES
    max_pdf_bytes: int = MAX_PDF_BYTES
    pdf_max_memory: int = DEFAULT_MAX_MEMORY
    celex: tuple[str, ...] | None = None  # fetch these acts into `location` first
    base_url: str = EURLEX_BASE_URL
    delay_s: float = 1.0

    def prepare(self, announce: Callable[[str], None] = lambda _: None) -> Prepared:
        """Download (when `celex` is given), then list `location`: the `download` and `list` stages."""
        stages, rejects = [], []
        if self.celex is not None:
            downloads = plan_downloads(self.celex, self.pairing.langs)
            announce(f"Fetching {len(downloads)} files for {len(self.celex)} acts into {self.location}")
            results = list(download_all(downloads, Path(self.location), base_url=self.base_url, delay_s=self.delay_s))
            rejects = [result for result in results if isinstance(result, Reject)]
            stages.append(_stage("download", len(downloads), len(results) - len(rejects), len(rejects)))
        acts, list_rejects, seen = list_act_files(self.location, self.pairing.langs)
        used = sum(1 + bool(act.pdf) for act in acts)
        stages.append(_stage("list", seen, used, len(list_rejects)))
        return Prepared(tuple(acts), tuple(stages), tuple(rejects + list_rejects),
                        inputs={"location": self.location, "files": seen})

    def steps(self) -> list[Step]:
        extract = functools.partial(extract_act, pdf_timeout_s=self.pdf_timeout_s, max_html_bytes=self.max_html_bytes,
                                    max_pdf_bytes=self.max_pdf_bytes, pdf_max_memory=self.pdf_max_memory)
        gate = functools.partial(check_fidelity, min_fidelity=self.min_fidelity, unit=self.pairing.unit)
        return [Step("extract", extract), Step("fidelity", gate),
                Step("pair", functools.partial(pair_step, pairing=self.pairing), GROUP, key=act_of)]

    def stages(self) -> list[str]:
        return ["extract", "extract-pdf", "fidelity", "pair", QUERY_STAGE]

    def rows(self, item) -> Iterator[tuple[str, dict]]:
        return item.rows()

    def expected_files(self) -> list[str]:
        q = self.pairing.query_lang
        return ([f"corpus/{lang}.parquet" for lang in self.pairing.langs] + [f"queries/{q}.parquet"]
                + [f"qrels/{q}_{d}.parquet" for d in self.pairing.langs if d != q] + ["rejects.parquet"])

    def describe(self) -> dict:
        return {"pairing": asdict(self.pairing), "min_fidelity": self.min_fidelity, "pdf_timeout_s": self.pdf_timeout_s,
                "max_html_bytes": self.max_html_bytes, "max_pdf_bytes": self.max_pdf_bytes,
                "pdf_max_memory": self.pdf_max_memory}

    def extras(self, out_dir: str, tallies: dict[str, dict[str, int]]) -> dict:
        return {"pdf_scores": score_stats(out_dir, self.pairing.langs)}

    def card(self, manifest: dict) -> CardText:
        title, description = card_template(SOURCE, langs=", ".join(self.pairing.langs), unit=self.pairing.unit,
                                           q=self.pairing.query_lang)
        table = ["| language | PDFs scored | rejected | LCS min | LCS median | fidelity min | fidelity median |",
                 "|---|---|---|---|---|---|---|"]
        for lang, s in manifest["pdf_scores"].items():
            lcs, fid = s["lcs"], s["fidelity"]
            table.append(f"| {lang} | {s['pdfs']} | {s['rejected']} | {lcs.get('min', '')} | {lcs.get('median', '')} "
                         f"| {fid.get('min', '')} | {fid.get('median', '')} |")
        fidelity_section = (
            "Each PDF is extracted with pdfminer.six and scored against its HTML: LEMUR's Lexical Content Score "
            "(`lcs`, cosine of term frequencies, reported for comparison) and `fidelity` = min(word-overlap F1, "
            f"order-aware unit alignment). Versions whose PDF scores below {self.min_fidelity} are rejected.\n\n"
            + "\n".join(table))
        licence = "EU legal texts: reuse is authorised provided the source is acknowledged (Decision 2011/833/EU)."
        limitations = ("One query per act, its title; the relevant documents are that act's own units in the other "
                       "languages, so the task is finding a translation more than answering a need. Versions whose "
                       "PDF was missing or failed are kept unverified (no `lcs`, no `fidelity`).")
        return CardText(title, description, "other", licence, {"PDF fidelity": fidelity_section},
                        limitations=limitations, citations=(LEMUR,))


def _stage(name: str, into: int, out: int, rejected: int) -> dict:
    return {"name": name, "in": into, "out": out, "rejected": rejected, "balanced": into == out + rejected}
