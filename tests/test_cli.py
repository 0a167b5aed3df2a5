"""The command line end to end: the sample build, an OAI-PMH harvest over real HTTP, usage errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow.parquet as pq
from click.testing import CliRunner

from clirdata.cli import EXIT_EMPTY, cli, split_beam_args
from tests.conftest import Reply, shared_fixture

OAI_PAGE = """<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2024-01-01T00:00:00Z</responseDate>
<request verb="ListRecords">x</request><ListRecords>{records}<resumptionToken>{token}</resumptionToken></ListRecords></OAI-PMH>"""
OAI_RECORD = """<record><header><identifier>oai:test:{id}</identifier><datestamp>2024-01-01</datestamp></header>
<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title xml:lang="fr">{fr_title}</dc:title><dc:title xml:lang="en">{en_title}</dc:title>
<dc:description xml:lang="fr">{fr_abstract}</dc:description><dc:description xml:lang="en">{en_abstract}</dc:description>
{subjects}<dc:language>fre</dc:language><dc:identifier>https://doi.org/10.1234/{id}</dc:identifier>
<dc:date>2019-05-01</dc:date><dc:rights>CC BY 4.0</dc:rights></oai_dc:dc></metadata></record>"""


def oai_record(source_id: str, en_keywords: list[str]) -> str:
    subjects = "".join(f'<dc:subject xml:lang="en">{k}</dc:subject>' for k in en_keywords)
    return OAI_RECORD.format(
        id=source_id, subjects=subjects,
        fr_title="La gestion durable des forêts boréales du Québec",
        en_title="Sustainable management of the boreal forests of Quebec",
        fr_abstract="Cet article analyse la gestion durable des forêts boréales et les politiques publiques "
                    "adoptées au Québec depuis les années quatre-vingt-dix.",
        en_abstract="This article analyses the sustainable management of boreal forests and the public "
                    "policies adopted in Quebec since the nineties.")


def test_split_beam_args():
    assert split_beam_args(["build", "erudit", "--out", "o", "--", "--runner=X", "--project", "p"]) == (
        ["build", "erudit", "--out", "o"], ["--runner=X", "--project", "p"])
    assert split_beam_args(["build"]) == (["build"], [])


def test_sample_build_through_the_console_script(tmp_path):
    """The README's first command: the embedded sample, built by the installed `clirdata` script."""
    out = tmp_path / "sample"
    done = subprocess.run([sys.executable, "-m", "clirdata.cli", "build", "erudit", "--out", str(out),
                           "--", "--direct_num_workers=1"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert all(stage["balanced"] for stage in manifest["stages"])
    assert manifest["files"]["queries/en.parquet"] > 50
    assert manifest["licenses"]["CC BY 4.0"] > 50  # "4.0": a dot in a counter's name must survive
    reasons = {row["reason"] for row in pq.read_table(out / "rejects.parquet").to_pylist()}
    assert {"malformed-xml", "truncated-xml", "dtd-entities", "empty-title", "empty-file",
            "language-mismatch"} <= reasons
    assert "Rejects by reason" in done.stderr and "Stages" in done.stderr


def test_oai_harvest_builds_a_collection(local_server, tmp_path):
    page1 = OAI_PAGE.format(records=oai_record("r1", ["forests", "policy", "Quebec"])
                            + oai_record("r2", ["forests", "policy", "Quebec", "climate"]), token="tok1")
    page2 = OAI_PAGE.format(records=oai_record("r3", ["forests", "climate", "fire"]), token="")
    local_server.add("/oai?verb=ListRecords&metadataPrefix=oai_dc&set=revue.x", Reply(503, b"busy", {"Retry-After": "0"}),
                     Reply(200, page1.encode()))
    local_server.add("/oai?verb=ListRecords&resumptionToken=tok1", Reply(200, page2.encode()))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["build", "erudit", "--out", str(out), "--oai-url", f"{local_server.base_url}/oai",
                                      "--set", "revue.x", "--oai-delay", "0"], obj={"beam_args": []})
    assert result.exit_code == 0, result.output
    assert len(local_server.requests) == 3  # one 503 retried, then two pages
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["name"] for s in manifest["stages"]][0] == "harvest"
    assert manifest["stages"][0]["out"] == 3
    queries = {q["text"] for q in pq.read_table(out / "queries/en.parquet").to_pylist()}
    # By hand (keywords in normalised alphabetical order): r1 {forests, policy, Quebec}; r2 adds climate,
    # so its 4 triples; r3 {climate, fire, forests}.
    assert queries == {"forests, policy, Quebec", "climate, forests, policy", "climate, forests, Quebec",
                       "climate, policy, Quebec", "climate, fire, forests"}
    assert manifest["inputs"]["set_spec"] == "revue.x"


def test_real_erudit_oai_page_has_no_keywords_so_the_build_says_empty(local_server, tmp_path):
    page = shared_fixture("erudit/oai/ListRecords_oai_dc_2015-10-27.xml").read_bytes()
    local_server.add("/oai", Reply(200, page))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["build", "erudit", "--out", str(out), "--oai-url", f"{local_server.base_url}/oai",
                                      "--oai-delay", "0"], obj={"beam_args": []})
    assert result.exit_code == EXIT_EMPTY
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stages"][0]["in"] == 46
    assert manifest["files"]["queries/en.parquet"] == 0
    assert manifest["files"]["corpus/fr.parquet"] > 0  # documents are there: the fr abstracts were harvested


def test_usage_errors_exit_2(tmp_path):
    runner = CliRunner()
    both = runner.invoke(cli, ["build", "erudit", "x", "--oai-url", "http://127.0.0.1:9", "--out", str(tmp_path)],
                         obj={"beam_args": []})
    assert both.exit_code == 2 and "not both" in both.output
    nothing = runner.invoke(cli, ["build", "erudit", str(tmp_path / "none"), "--out", str(tmp_path / "o")],
                            obj={"beam_args": []})
    assert nothing.exit_code == 2 and "no XML files" in nothing.output
    assert runner.invoke(cli, ["build", "erudit", "--help"]).output.count("--query-mode") == 1


def test_a_failing_build_is_one_clear_line_and_exit_1(capsys, tmp_path):
    import pytest

    from clirdata.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["build", "erudit", str(tmp_path / "none.xml"), "--out", "/proc/clirdata-cannot-write-here"])
    assert exited.value.code == 2  # no input: a usage error
    (tmp_path / "a.xml").write_bytes(b"<article/>")
    with pytest.raises(SystemExit) as exited:
        main(["build", "erudit", str(tmp_path / "a.xml"), "--out", "/proc/clirdata-cannot-write-here"])
    assert exited.value.code == 1
    assert "clirdata: " in capsys.readouterr().err
