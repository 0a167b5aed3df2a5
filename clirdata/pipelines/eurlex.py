"""`build eurlex`: read -> extract (HTML units, PDF text) -> fidelity -> pair -> write."""

from __future__ import annotations

import functools
import json
import os
import re
import stat
import statistics
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from clirdata.align.eurlex import QUERY_STAGE, CheckedAct, EurlexPairing, act_of, act_units, pair_act
from clirdata.extractors.eurlex_html import MAX_HTML_BYTES, parse_act_html
from clirdata.extractors.lcs import DEFAULT_MIN_FIDELITY, fidelity
from clirdata.extractors.pdf import DEFAULT_MAX_BYTES as MAX_PDF_BYTES
from clirdata.extractors.pdf import DEFAULT_MAX_MEMORY, extract_pdf_text
from clirdata.hub.card import card_text
from clirdata.pipelines.manifest import build_manifest, stage_list, write_card_and_manifest
from clirdata.pipelines.runner import prepare_out_dir, run
from clirdata.pipelines.sources import TooLarge, read_bounded
from clirdata.pipelines.steps import Apply, ApplyToGroups
from clirdata.pipelines.writers import WriteTables, collection_rows, read_split, reject_row
from clirdata.schemas import Outcome, Reject
from clirdata.schemas.legal import ActText, PdfText

SOURCE = "eurlex"
WORST_UNITS = 5  # per-unit scores named in a fidelity reject: where the PDF text went wrong
STAGES = ["extract", "extract-pdf", "fidelity", "pair", QUERY_STAGE]
# {CELEX}_{LANG}.{ext}, any case: 32016R0679_EN.html, 32016r0679_en.XHTML, 32016R0679_EN.PDF
_NAME = re.compile(r"^(?P<celex>[0-9A-Z()\-]+)_(?P<lang>[A-Z]{2})\.(?P<ext>xhtml|html|htm|pdf)$", re.IGNORECASE)


@dataclass(frozen=True)
class ActFiles:
    """The files of one language version of an act: its HTML (required) and PDF (optional)."""

    celex: str
    lang: str
    html: str
    pdf: str = ""


@dataclass(frozen=True)
class ExtractedAct:
    act: ActText
    pdf: PdfText | None = None


def list_act_files(location: str, langs: tuple[str, ...]) -> tuple[list[ActFiles], list[Reject], int]:
    """Group the `{CELEX}_{LANG}.{html,xhtml,pdf}` files of a folder by act and language (names in any case).

    Every file of the folder is either used or a `list` reject (a README, a stray download, a
    second HTML for the same version, a named pipe): nothing is skipped silently. Returns the
    groups, the rejects, and the number of files seen.
    """
    paths = _folder_files(location)
    groups: dict[tuple[str, str], dict[str, str]] = {}
    rejects = []
    for path in paths:
        reject = _unusable(path, langs)
        if reject is not None:
            rejects.append(reject)
            continue
        match = _NAME.match(path.rsplit("/", 1)[-1])
        celex, lang = match["celex"].upper(), match["lang"].lower()
        kind = "pdf" if match["ext"].lower() == "pdf" else "html"
        files = groups.setdefault((celex, lang), {})
        if kind in files:
            rejects.append(Reject(SOURCE, path, "list", "duplicate",
                                  f"{files[kind]} is already the {kind.upper()} of {celex} in '{lang}'", celex))
        else:
            files[kind] = path
    acts = []
    for (celex, lang), files in sorted(groups.items()):
        if "html" not in files:
            rejects.append(Reject(SOURCE, files["pdf"], "list", "no-html",
                                  "the HTML is the reference text; a PDF alone is not used", celex))
        else:
            acts.append(ActFiles(celex, lang, files["html"], files.get("pdf", "")))
    return acts, rejects, len(paths)


def _folder_files(location: str) -> list[str]:
    """Every entry of the folder but its subfolders, sorted. On a local disk the folder is read
    directly, so that a dangling link (which Beam's listing drops without a word) is seen too."""
    if _is_local(location):
        folder = location.removeprefix("file://")
        if not os.path.isdir(folder):
            return []
        with os.scandir(folder) as entries:
            return sorted(os.path.join(folder, entry.name) for entry in entries if not entry.is_dir())
    return sorted(m.path for m in FileSystems.match([FileSystems.join(location.rstrip("/"), "*")])[0].metadata_list)


def _is_local(path: str) -> bool:
    return FileSystems.get_scheme(path) in (None, "file")


def _unusable(path: str, langs: tuple[str, ...]) -> Reject | None:
    """Why a listed file cannot be an input, or None: its name, its language, or (on a local disk) not a
    regular file (a named pipe would block the reader for ever)."""
    match = _NAME.match(path.rsplit("/", 1)[-1])
    if not match:
        return Reject(SOURCE, path, "list", "unrecognised-name", "expected {CELEX}_{LANG}.{html,xhtml,pdf}")
    celex, lang = match["celex"].upper(), match["lang"].lower()
    if lang not in langs:
        return Reject(SOURCE, path, "list", "language-not-requested", f"'{lang}' is not in --langs", celex)
    if _is_local(path):
        try:
            mode = os.stat(path.removeprefix("file://")).st_mode
        except OSError as error:
            return Reject(SOURCE, path, "list", "unreadable", f"{type(error).__name__}: {error}", celex)
        if not stat.S_ISREG(mode):
            return Reject(SOURCE, path, "list", "not-a-file", "not a regular file (a pipe, a device?)", celex)
    return None


def _read(uri: str, max_bytes: int, stage: str, celex: str) -> bytes | Reject:
    """The file's bytes, read at most `max_bytes` + 1 of them; too large or unreadable is a Reject."""
    try:
        return read_bounded(uri, max_bytes)
    except TooLarge:
        return Reject(SOURCE, uri, stage, "too-large", f"more than {max_bytes} bytes (the limit); not read further",
                      celex)
    except OSError as error:
        return Reject(SOURCE, uri, stage, "unreadable", f"{type(error).__name__}: {error}", celex)


def extract_act(files: ActFiles, pdf_timeout_s: float = 60.0, max_html_bytes: int = MAX_HTML_BYTES,
                max_pdf_bytes: int = MAX_PDF_BYTES, pdf_max_memory: int = DEFAULT_MAX_MEMORY) -> Outcome:
    """Parse the HTML (units) and extract the PDF text; a PDF failure is a side reject.

    The HTML is the reference: if it cannot be read or parsed the version is rejected. A version
    without a PDF, or whose PDF fails, goes on unverified (no LCS, no fidelity).
    """
    raw = _read(files.html, max_html_bytes, "extract", files.celex)
    if isinstance(raw, Reject):
        return Outcome(raw)
    act = parse_act_html(raw, files.celex, files.lang, files.html, max_bytes=max_html_bytes)
    if isinstance(act, Reject):
        return Outcome(act)
    if not files.pdf:
        return Outcome(ExtractedAct(act))
    pdf_raw = _read(files.pdf, max_pdf_bytes, "extract-pdf", files.celex)
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


class PairActs(beam.PTransform):
    """Checked versions -> {"rows": (relpath, row), "rejects": Reject}, by a GroupByKey on the CELEX
    number: each act's versions meet on one worker, never the whole collection."""

    def __init__(self, pairing: EurlexPairing):
        super().__init__()
        self._pairing = pairing

    def expand(self, checked):
        paired = checked | ApplyToGroups(functools.partial(pair_step, pairing=self._pairing), "pair", key=act_of)
        return {"rows": paired.ok | "act rows" >> beam.FlatMap(collection_rows), "rejects": paired.rejects}


@dataclass(frozen=True)
class EurlexBuild:
    out_dir: str
    acts: tuple[ActFiles, ...]
    pairing: EurlexPairing = EurlexPairing()
    min_fidelity: float = DEFAULT_MIN_FIDELITY
    pdf_timeout_s: float = 60.0
    pre_rejects: tuple[Reject, ...] = ()   # from listing and downloading, before the pipeline
    max_html_bytes: int = MAX_HTML_BYTES
    max_pdf_bytes: int = MAX_PDF_BYTES
    pdf_max_memory: int = DEFAULT_MAX_MEMORY

    def expected_files(self) -> list[str]:
        q = self.pairing.query_lang
        return ([f"corpus/{lang}.parquet" for lang in self.pairing.langs] + [f"queries/{q}.parquet"]
                + [f"qrels/{q}_{d}.parquet" for d in self.pairing.langs if d != q] + ["rejects.parquet"])


class EurlexCollection(beam.PTransform):
    def __init__(self, build: EurlexBuild):
        super().__init__()
        self._build = build

    def expand(self, pbegin):
        build = self._build
        extract = functools.partial(extract_act, pdf_timeout_s=build.pdf_timeout_s,
                                    max_html_bytes=build.max_html_bytes, max_pdf_bytes=build.max_pdf_bytes,
                                    pdf_max_memory=build.pdf_max_memory)
        extracted = pbegin | "act files" >> beam.Create(list(build.acts)) | Apply(extract, "extract")
        gate = functools.partial(check_fidelity, min_fidelity=build.min_fidelity, unit=build.pairing.unit)
        checked = extracted.ok | Apply(gate, "fidelity")
        paired = checked.ok | PairActs(build.pairing)
        rows = paired["rows"]
        earlier = pbegin | "listing rejects" >> beam.Create(list(build.pre_rejects))
        rejects = (earlier, extracted.rejects, checked.rejects, paired["rejects"]) | "all rejects" >> beam.Flatten()
        return ((rows, rejects | "reject rows" >> beam.Map(reject_row)) | "all rows" >> beam.Flatten()
                | WriteTables(build.out_dir, build.expected_files()))


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
            lang = _NAME.match(row["source_uri"].rsplit("/", 1)[-1])["lang"].lower()
            detail = json.loads(row["detail"])
            scores[lang]["lcs"].append(detail["lcs"])
            scores[lang]["fidelity"].append(detail["fidelity"])
            rejected[lang] += 1

    def summary(values: list[float]) -> dict:
        return {"min": round(min(values), 4), "median": round(statistics.median(values), 4)} if values else {}

    return {lang: {"pdfs": len(s["lcs"]), "rejected": rejected[lang], "lcs": summary(s["lcs"]),
                   "fidelity": summary(s["fidelity"])} for lang, s in scores.items()}


def run_eurlex(build: EurlexBuild, options, command: str, inputs: dict, extra_stages: list[dict]) -> dict:
    """Run the build, then write README.md and manifest.json (last); returns the manifest."""
    prepare_out_dir(build.out_dir)
    files, counters = run(lambda p: p | EurlexCollection(build), options, build.out_dir)
    stats = score_stats(build.out_dir, build.pairing.langs)
    manifest = build_manifest(
        command=command, inputs=inputs, files=files,
        options={"pairing": asdict(build.pairing), "min_fidelity": build.min_fidelity,
                 "pdf_timeout_s": build.pdf_timeout_s, "max_html_bytes": build.max_html_bytes,
                 "max_pdf_bytes": build.max_pdf_bytes, "pdf_max_memory": build.pdf_max_memory},
        stages=extra_stages + stage_list(counters, STAGES), extra={"pdf_scores": stats})
    table = ["| language | PDFs scored | rejected | LCS min | LCS median | fidelity min | fidelity median |",
             "|---|---|---|---|---|---|---|"]
    for lang, s in stats.items():
        lcs, fid = s["lcs"], s["fidelity"]
        table.append(f"| {lang} | {s['pdfs']} | {s['rejected']} | {lcs.get('min', '')} | {lcs.get('median', '')} | "
                     f"{fid.get('min', '')} | {fid.get('median', '')} |")
    q = build.pairing.query_lang
    manifest["card"] = card_text(
        title=f"EUR-Lex CLIR collection ({', '.join(build.pairing.langs)})",
        description=(f"EU legislation from EUR-Lex, one corpus row per {build.pairing.unit} and language, built by "
                     f"clirdata from the authoritative HTML. Queries: each act's `{q}` title, relevant to that "
                     f"act's units in every other language (`qrels/{q}_{{lang}}`)."),
        license_id="other",
        licence_note="EU legal texts: reuse is authorised provided the source is acknowledged (Decision 2011/833/EU).",
        sections={"PDF fidelity": (
            "Each PDF is extracted with pdfminer.six and scored against its HTML: LEMUR's Lexical Content Score "
            "(`lcs`, cosine of term frequencies, reported for comparison) and `fidelity` = min(word-overlap F1, "
            f"order-aware unit alignment). Versions whose PDF scores below {build.min_fidelity} are rejected.\n\n"
            + "\n".join(table))})
    write_card_and_manifest(build.out_dir, manifest)
    return manifest
