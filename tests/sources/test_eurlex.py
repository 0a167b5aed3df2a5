"""The EUR-Lex source end to end on the real Beam runner (through the CLI and through `run_build`): real HTML
fixtures, PDFs made here; and its pair step run alone through the generic pipeline against the pure function."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import apache_beam as beam
import datasets
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline  # not a pytest class
from apache_beam.testing.util import assert_that, equal_to
from click.testing import CliRunner

from clirdata.align.eurlex import CheckedAct, EurlexPairing, pair_acts
from clirdata.cli import cli
from clirdata.extractors.eurlex_html import parse_act_html
from clirdata.pipelines.build import Build, MakeRows, RunSteps, run_build
from clirdata.pipelines.manifest import stage_counters
from clirdata.pipelines.runner import make_options
from clirdata.readers.eurlex import ActFiles
from clirdata.schemas import Reject
from clirdata.schemas.legal import FidelityReport
from clirdata.sources.eurlex import EurlexSource, extract_act, pair_step
from tests import pdfgen
from tests.align.test_eurlex import act as hand_act
from tests.conftest import Reply, shared_fixture
from tests.extractors.test_eurlex_html import ACT_BY_ACT, ACT_BY_ACT_TITLE


def act_of(fixture: str, celex: str, lang: str):
    path = shared_fixture(f"eurlex/html/{fixture}")
    return path, parse_act_html(path.read_bytes(), celex, lang, str(path))


GDPR_TITLE = ('<p class="oj-doc-ti">REGULATION (EU) 2016/679 OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL</p>'
              '<p class="oj-doc-ti">of 27 April 2016</p>')


def titled_article_7(target: Path):
    """The English article-7 excerpt with the GDPR's own title lines, which the excerpt lacks.

    (Its <title> is a file name, `L_2016119EN.01000101.xml`, which is not taken as a title.)
    """
    path = shared_fixture("eurlex/html/gdpr-article-7-eng.xhtml")
    target.write_bytes(path.read_bytes().replace(b'<p class="oj-hd-lg">EN</p>', GDPR_TITLE.encode(), 1))
    return target, parse_act_html(target.read_bytes(), "32016R0679", "en", str(target))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """GDPR art. 7 in en + el with faithful PDFs; two acts whose PDFs must fail; two unusable files."""
    folder = tmp_path_factory.mktemp("eurlex")
    en_path, en = titled_article_7(folder / "32016R0679_EN.xhtml")
    el_path, el = act_of("gdpr-article-7-ell.xhtml", "32016R0679", "el")
    shutil.copy(el_path, folder / "32016R0679_EL.xhtml")
    (folder / "32016R0679_EN.pdf").write_bytes(pdfgen.faithful_pdf(en))
    (folder / "32016R0679_EL.pdf").write_bytes(pdfgen.faithful_pdf(el))
    crr_path, crr = act_of("convex67_32013R0575_EN_excerpt.html", "32013R0575", "en")
    shutil.copy(crr_path, folder / "32013R0575_EN.html")
    (folder / "32013R0575_EN.pdf").write_bytes(pdfgen.interleaved_columns_pdf(crr))
    eprivacy_path, _ = act_of("eprivacy_02002L0058-20091219_EN.html", "02002L0058-20091219", "en")
    shutil.copy(eprivacy_path, folder / "02002L0058-20091219_EN.html")
    (folder / "02002L0058-20091219_EN.pdf").write_bytes(pdfgen.faithful_pdf(en))  # the wrong act's PDF
    (folder / "notes.html").write_text("not an act")
    (folder / "README.md").write_text("not an input at all")
    (folder / "32099R0001_EN.pdf").write_bytes(pdfgen.faithful_pdf(en))  # a PDF without its HTML
    return folder


def build(folder: Path, out: Path, *extra: str):
    result = CliRunner().invoke(cli, ["build", "eurlex", str(folder), "--out", str(out), "--langs", "en,el",
                                      "--query-lang", "en", *extra], obj={"beam_args": []})
    return result, (json.loads((out / "manifest.json").read_text()) if (out / "manifest.json").exists() else None)


def test_faithful_pdfs_pass_and_bad_ones_are_rejected_with_scores(folder, tmp_path):
    result, manifest = build(folder, tmp_path / "out")
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    rejects = {(Path(r["source_uri"]).name, r["stage"], r["reason"]): r for r in pq.read_table(out / "rejects.parquet").to_pylist()}
    assert set(rejects) == {("32013R0575_EN.html", "fidelity", "low-fidelity"),
                            ("02002L0058-20091219_EN.html", "fidelity", "low-fidelity"),
                            ("notes.html", "list", "unrecognised-name"),
                            ("README.md", "list", "unrecognised-name"),  # every file is used or a reject
                            ("32099R0001_EN.pdf", "list", "no-html")}
    scores = json.loads(rejects[("02002L0058-20091219_EN.html", "fidelity", "low-fidelity")]["detail"])
    assert scores["fidelity"] < scores["min_fidelity"] and 0 <= scores["lcs"] <= 1
    interleaved = json.loads(rejects[("32013R0575_EN.html", "fidelity", "low-fidelity")]["detail"])
    assert interleaved["worst_units"] and interleaved["worst_units"][0]["score"] < 0.95
    en = pq.read_table(out / "corpus/en.parquet").to_pylist()
    assert [row["_id"] for row in en] == ["32016R0679:doc:en"]
    assert en[0]["fidelity"] >= manifest["options"]["min_fidelity"] and en[0]["lcs"] > 0.99
    assert (en[0]["unit_lcs"], en[0]["unit_fidelity"]) == (en[0]["lcs"], en[0]["fidelity"])  # one unit: the act
    assert "consent" in en[0]["text"].lower()
    queries = pq.read_table(out / "queries/en.parquet").to_pylist()
    assert [(q["_id"], q["source_id"]) for q in queries] == [("32016R0679:title:en", "32016R0679")]
    assert queries[0]["text"] == "REGULATION (EU) 2016/679 OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL of 27 April 2016"
    qrels = pq.read_table(out / "qrels/en_el.parquet").to_pylist()
    assert qrels == [{"query-id": "32016R0679:title:en", "corpus-id": "32016R0679:doc:el", "score": 1}]
    stages = {s["name"]: s for s in manifest["stages"]}
    assert all(s["in"] == s["out"] + s["rejected"] for s in manifest["stages"])
    assert manifest["stages"][0]["name"] == "list"  # the listing, done before the pipeline, comes first
    assert (stages["list"]["in"], stages["list"]["rejected"]) == (11, 3)
    assert (stages["fidelity"]["in"], stages["fidelity"]["rejected"]) == (4, 2)
    assert (stages["title-queries"]["in"], stages["title-queries"]["out"]) == (1, 1)
    assert manifest["pdf_scores"]["en"]["pdfs"] == 3 and manifest["pdf_scores"]["en"]["rejected"] == 2
    assert len(datasets.load_dataset(str(out), "qrels", split="en_el")) == 1


def test_article_units_align_across_languages(folder, tmp_path):
    result, _ = build(folder, tmp_path / "out", "--unit", "article", "--min-fidelity", "0")
    assert result.exit_code == 0, result.output
    rows = {lang: [r for r in pq.read_table(tmp_path / "out" / f"corpus/{lang}.parquet").to_pylist()
                   if r["source_id"] == "32016R0679"] for lang in ("en", "el")}
    units = {lang: [r["unit"] for r in lang_rows] for lang, lang_rows in rows.items()}
    assert units["en"] == units["el"] and "art_7" in units["en"]
    for row in rows["en"] + rows["el"]:  # faithful PDFs: every unit's own stretch of PDF text matches
        assert row["unit_lcs"] > 0.95 and row["unit_fidelity"] > 0.95, row["unit"]
        assert row["fidelity"] >= 0.95
    qrels = pq.read_table(tmp_path / "out/qrels/en_el.parquet").to_pylist()
    assert {q["corpus-id"] for q in qrels if q["query-id"] == "32016R0679:title:en"} == {
        f"32016R0679:{unit}:el" for unit in units["el"]}


def test_celex_list_is_fetched_over_http_then_built(local_server, tmp_path):
    en_path, en = titled_article_7(tmp_path / "article-7-en.xhtml")
    el_path, el = act_of("gdpr-article-7-ell.xhtml", "32016R0679", "el")
    for lang, path, act in (("EN", en_path, en), ("EL", el_path, el)):
        local_server.add(f"/legal-content/{lang}/TXT/HTML/?uri=CELEX:32016R0679", Reply(200, path.read_bytes()))
        local_server.add(f"/legal-content/{lang}/TXT/PDF/?uri=CELEX:32016R0679", Reply(200, pdfgen.faithful_pdf(act)))
    celex_list = tmp_path / "acts.txt"
    celex_list.write_text("# GDPR\n32016R0679\n32099R9999\n")  # the second one is not on the server
    out, downloads = tmp_path / "out", tmp_path / "downloads"
    result = CliRunner().invoke(cli, ["build", "eurlex", "--celex-list", str(celex_list), "--base-url",
                                      local_server.base_url, "--download-dir", str(downloads), "--delay", "0",
                                      "--langs", "en,el", "--out", str(out)], obj={"beam_args": []})
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    stages = {s["name"]: s for s in manifest["stages"]}
    assert [s["name"] for s in manifest["stages"]][:2] == ["download", "list"]  # what prepare() did comes first
    assert stages["download"] == {"name": "download", "in": 8, "out": 4, "rejected": 4, "balanced": True}
    assert stages["list"] == {"name": "list", "in": 4, "out": 4, "rejected": 0, "balanced": True}
    assert manifest["source"] == "eurlex" and manifest["inputs"]["files"] == 4
    assert manifest["files"]["qrels/en_el.parquet"] == 1
    missing = [r for r in pq.read_table(out / "rejects.parquet").to_pylist() if r["stage"] == "download"]
    assert {r["source_id"] for r in missing} == {"32099R9999"} and all("404" in r["detail"] for r in missing)
    assert sorted(p.name for p in downloads.iterdir()) == ["32016R0679_EL.html", "32016R0679_EL.pdf",
                                                           "32016R0679_EN.html", "32016R0679_EN.pdf"]


# --- versions without PDFs, names in any case, bounded and failing reads -------------------------

PDF_LIMIT = 150_000  # above the generated PDFs of these short acts, below the padded one
HTML_LIMIT = 20_000  # above the HTML fixtures used here (3-10 KB), below the oversized page


@pytest.fixture
def rough_folder(tmp_path) -> tuple[Path, str]:
    """Versions with and without PDFs, upper-case extensions, a duplicate, a pipe, an oversized HTML
    and PDF, and an HTML that vanishes between listing and reading (returned: its path)."""
    folder = tmp_path / "rough"
    folder.mkdir()
    en_path, en = titled_article_7(folder / "32016R0679_EN.XHTML")
    (folder / "32016R0679_EN.PDF").write_bytes(pdfgen.faithful_pdf(en))
    greek = shared_fixture("eurlex/html/gdpr-article-7-ell.xhtml").read_bytes()
    (folder / "32016R0679_EL.html").write_bytes(greek)  # no PDF: goes on unverified
    (folder / "32016R0679_EL.xhtml").write_bytes(greek)  # the same version twice
    (folder / "32024R1689_EN.xhtml").write_text(ACT_BY_ACT)
    (folder / "32024R1689_EN.pdf").write_bytes(pdfgen.page_pdf(ACT_BY_ACT.encode()) + b"%" * PDF_LIMIT)
    os.mkfifo(folder / "32099R0005_EN.html")  # reading a pipe would block for ever
    (folder / "32099R0006_EN.html").write_text(ACT_BY_ACT.replace("</body>", "<p>padding</p>" * 2000 + "</body>"))
    vanishing = folder / "32099R0007_EN.html"
    vanishing.write_text(ACT_BY_ACT)
    return folder, str(vanishing)


def test_versions_without_a_pdf_go_on_unverified_and_every_file_is_used_or_rejected(rough_folder, tmp_path):
    folder, vanishing = rough_folder
    out = tmp_path / "out"
    source = EurlexSource(location=str(folder), pairing=EurlexPairing(langs=("en", "el"), query_lang="en"),
                          max_html_bytes=HTML_LIMIT, max_pdf_bytes=PDF_LIMIT)
    prepared = source.prepare()  # lists the folder
    Path(vanishing).unlink()  # gone before the workers read it
    manifest = run_build(Build(source, str(out)), prepared, make_options([]), "test")
    acts, list_rejects, seen = prepared.seeds, prepared.rejects, prepared.inputs["files"]
    assert seen == 9 and len(acts) == 5 and sum(1 + bool(a.pdf) for a in acts) + len(list_rejects) == seen
    assert manifest["stages"][0] == {"name": "list", "in": 9, "out": 7, "rejected": 2, "balanced": True}
    assert manifest["inputs"] == {"location": str(folder), "files": 9} and manifest["source"] == "eurlex"
    rejects = {(Path(r["source_uri"]).name, r["stage"], r["reason"]) for r in pq.read_table(out / "rejects.parquet").to_pylist()}
    assert rejects == {("32016R0679_EL.xhtml", "list", "duplicate"), ("32099R0005_EN.html", "list", "not-a-file"),
                       ("32099R0006_EN.html", "extract", "too-large"), ("32099R0007_EN.html", "extract", "unreadable"),
                       ("32024R1689_EN.pdf", "extract-pdf", "too-large")}
    corpus = {row["_id"]: row for lang in ("en", "el") for row in pq.read_table(out / f"corpus/{lang}.parquet").to_pylist()}
    assert set(corpus) == {"32016R0679:doc:en", "32016R0679:doc:el", "32024R1689:doc:en"}
    assert corpus["32016R0679:doc:en"]["fidelity"] >= 0.95  # its upper-case .PDF was read and scored
    for unverified in ("32016R0679:doc:el", "32024R1689:doc:en"):  # no PDF; a PDF over the bound
        assert (corpus[unverified]["lcs"], corpus[unverified]["fidelity"]) == (None, None)
    assert "M. MICHEL" not in corpus["32024R1689:doc:en"]["text"]  # the signatures are in no corpus row
    assert "CHAPTER I GENERAL PROVISIONS" in corpus["32024R1689:doc:en"]["text"]
    queries = {q["_id"]: q["text"] for q in pq.read_table(out / "queries/en.parquet").to_pylist()}
    assert queries == {"32016R0679:title:en": "REGULATION (EU) 2016/679 OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL "
                                              "of 27 April 2016", "32024R1689:title:en": ACT_BY_ACT_TITLE}
    stages = {s["name"]: (s["in"], s["out"], s["rejected"]) for s in manifest["stages"]}
    assert stages["extract"] == (5, 3, 2) and stages["extract-pdf"] == (2, 1, 1) and stages["fidelity"] == (3, 3, 0)
    assert manifest["options"]["max_html_bytes"] == HTML_LIMIT and manifest["options"]["max_pdf_bytes"] == PDF_LIMIT


def test_an_endless_file_is_read_only_up_to_the_bound(tmp_path):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    endless = tmp_path / "32099R0008_EN.html"
    endless.symlink_to("/dev/zero")
    outcome = extract_act(ActFiles("32099R0008", "en", str(endless)), max_html_bytes=1_000_000)
    reject = outcome.value
    assert isinstance(reject, Reject)
    assert (reject.stage, reject.reason, reject.source_id, reject.source_uri) == (
        "extract", "too-large", "32099R0008", str(endless))
    # (and the listing never hands it on: tests/readers/test_eurlex.py)


def test_a_pdf_that_cannot_be_read_is_a_side_reject_and_the_html_goes_on(tmp_path):
    html = tmp_path / "32024R1689_EN.xhtml"
    html.write_text(ACT_BY_ACT)
    outcome = extract_act(ActFiles("32024R1689", "en", str(html), str(tmp_path / "gone.pdf")))
    assert outcome.value.pdf is None and outcome.value.act.title == ACT_BY_ACT_TITLE
    assert [(r.stage, r.reason, r.source_id) for r in outcome.rejects] == [("extract-pdf", "unreadable", "32024R1689")]
    assert outcome.counts == (("extract-pdf", "in", 1), ("extract-pdf", "rejected", 1))


# --- pairing grouped by CELEX, against the pure function ---------------------------------------------

def test_pairing_by_celex_gives_the_pure_functions_rows_rejects_and_counts():
    report = FidelityReport(lcs=0.99, overlap_f1=1.0, order=1.0, fidelity=1.0)
    second_en = replace(hand_act("A", "en"), source_uri="mem://zz-A_en-again", title="Another title")
    checked = [CheckedAct(hand_act("A", "en"), report, 2, (("doc", 0.99, 1.0),)), CheckedAct(hand_act("A", "el")),
               CheckedAct(second_en),                                               # A in English twice
               CheckedAct(hand_act("B", "el")),                                     # B: no English version
               CheckedAct(hand_act("C", "en", title="")), CheckedAct(hand_act("C", "el")),  # C: no title to ask
               CheckedAct(hand_act("D", "el"))]
    pairing = EurlexPairing(langs=("en", "el"), query_lang="en")
    pure = pair_acts(checked, pairing)
    source = EurlexSource(pairing=pairing)
    (pair,) = source.steps()[-1:]
    assert (pair.stage, pair.kind, pair.fn.func) == ("pair", "group", pair_step)
    pipeline = BeamTestPipeline(options=make_options([]))
    paired = pipeline | beam.Create(checked) | RunSteps([pair])
    rows = paired["ok"] | MakeRows(source)
    assert_that(rows, equal_to(list(pure.rows())), label="rows")
    assert_that(paired["rejects"] | beam.Map(lambda r: (r.source_uri, r.stage, r.reason)),
                equal_to([("mem://zz-A_en-again", "pair", "duplicate-version"),
                          ("mem://C_en", "title-queries", "no-title")]), label="rejects")
    queries = rows | beam.Filter(lambda pair: pair[0].startswith("queries/")) | beam.Map(lambda p: p[1])
    assert_that(queries | beam.Map(lambda q: (q["_id"], q["text"])), equal_to([("A:title:en", "A title")]),
                label="the first English version's title")
    result = pipeline.run()
    result.wait_until_finish()
    counters = stage_counters(result)
    assert counters["pair"] == {"in": 7, "out": 6, "rejected": 1}
    assert counters["title-queries"] == {"in": 2, "out": 1, "rejected": 1}  # A and C have English versions
    assert pure.stats == {"records": 7, "documents": 6, "queries": 1, "acts": 2}
