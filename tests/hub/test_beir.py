"""BEIR export: the three files GenericDataLoader reads, from a real build of the hand-made collection."""

from __future__ import annotations

import csv
import json
import shutil

import apache_beam as beam
from click.testing import CliRunner

from clirdata.cli import cli
from clirdata.pipelines.manifest import write_card_and_manifest
from clirdata.pipelines.runner import make_options, written_files
from clirdata.pipelines.writers import WriteTables
from clirdata.readers.splits import read_manifest, read_split
from tests import handmade
from tests.sources.test_erudit import write_inputs


def test_export_writes_beir_layout(tmp_path):
    out, beir = tmp_path / "out", tmp_path / "beir"
    runner = CliRunner()
    built = runner.invoke(cli, ["build", "erudit", str(write_inputs(tmp_path / "in", with_bad=False)),
                                "--out", str(out)], obj={"beam_args": []})
    assert built.exit_code == 0, built.output
    result = runner.invoke(cli, ["export-beir", str(out), "--to", str(beir)], obj={"beam_args": []})
    assert result.exit_code == 0, result.output
    corpus = [json.loads(line) for line in (beir / "corpus.jsonl").read_text().splitlines()]
    queries = [json.loads(line) for line in (beir / "queries.jsonl").read_text().splitlines()]
    with open(beir / "qrels" / "test.tsv", newline="") as handle:
        qrels = list(csv.reader(handle, delimiter="\t"))
    assert {doc["_id"] for doc in corpus} == {f"{a}:fr" for a in handmade.EXPECTED_FR_DOCS}
    assert set(corpus[0]) == {"_id", "title", "text"}
    assert {q["text"] for q in queries} == set(handmade.EXPECTED_QUERIES)
    assert qrels[0] == ["query-id", "corpus-id", "score"] and len(qrels) == 1 + 10
    assert all(score == "1" for _, _, score in qrels[1:])


def test_an_empty_folder_is_not_a_finished_build(tmp_path):
    result = CliRunner().invoke(cli, ["export-beir", str(tmp_path), "--to", str(tmp_path / "b")],
                                obj={"beam_args": []})
    assert result.exit_code == 2
    assert f"{tmp_path / 'manifest.json'} not found" in result.output and "did not finish" in result.output
    assert "None" not in result.output
    assert not (tmp_path / "b").exists()


def test_a_build_whose_manifest_is_missing_did_not_finish(finished, tmp_path):
    crashed = tmp_path / "crashed"
    shutil.copytree(finished, crashed)
    (crashed / "manifest.json").unlink()  # every data file is there, but the seal is not: a partial set
    result = CliRunner().invoke(cli, ["export-beir", str(crashed), "--to", str(tmp_path / "b")], obj={"beam_args": []})
    assert result.exit_code == 2 and "did not finish" in result.output and "missing too" not in result.output
    assert not (tmp_path / "b").exists()


def test_a_pair_the_build_does_not_have_is_named(finished, tmp_path):
    result = CliRunner().invoke(cli, ["export-beir", str(finished), "--to", str(tmp_path / "b"), "--doc-lang", "de"],
                                obj={"beam_args": []})
    assert result.exit_code == 2
    assert f"{finished / 'corpus' / 'de.parquet'} not found" in result.output and "no such language pair" in result.output
    synthetic = CliRunner().invoke(cli, ["export-beir", str(finished), "--to", str(tmp_path / "b"), "--synthetic"],
                                   obj={"beam_args": []})
    assert synthetic.exit_code == 2 and "synthetic_queries" in synthetic.output


def reshard(out, splits: list[str], rows_per_shard: int) -> None:
    """Write `splits` of a finished build again in shards, as a larger build would have, and seal it again.

    Its ledger owns the plain files, so the writer removes them once the shards are written.
    """
    rows = [(f"{split}.parquet", row) for split in splits for row in read_split(str(out), split).to_pylist()]
    with beam.Pipeline(options=make_options()) as p:
        _ = p | beam.Create(rows) | WriteTables(str(out), [f"{split}.parquet" for split in splits], rows_per_shard)
    manifest = read_manifest(str(out))
    manifest["files"] = written_files(str(out))
    write_card_and_manifest(str(out), manifest)


def export(out, target) -> dict[str, bytes]:
    result = CliRunner().invoke(cli, ["export-beir", str(out), "--to", str(target)], obj={"beam_args": []})
    assert result.exit_code == 0, result.output
    return {p.relative_to(target).as_posix(): p.read_bytes() for p in sorted(target.rglob("*")) if p.is_file()}


def test_a_sharded_build_exports_the_same_files(finished, tmp_path):
    sharded = tmp_path / "sharded"
    shutil.copytree(finished, sharded)
    reshard(sharded, ["corpus/fr", "queries/en", "qrels/en_fr"], rows_per_shard=2)  # 5, 7, 10 rows: 3, 4, 5 shards
    assert sorted(p.name for p in (sharded / "corpus").iterdir()) == [
        "en.parquet", "fr-00000-of-00003.parquet", "fr-00001-of-00003.parquet", "fr-00002-of-00003.parquet"]
    assert len(list((sharded / "qrels").glob("en_fr-*-of-00005.parquet"))) == 5
    assert not (sharded / "qrels/en_fr.parquet").exists()
    plain = export(finished, tmp_path / "plain")
    assert export(sharded, tmp_path / "from-shards") == plain
    assert len(plain["corpus.jsonl"].splitlines()) == 5 and len(plain["qrels/test.tsv"].splitlines()) == 1 + 10


def test_a_missing_shard_is_named_not_exported(finished, tmp_path):
    sharded = tmp_path / "sharded"
    shutil.copytree(finished, sharded)
    reshard(sharded, ["corpus/fr"], rows_per_shard=2)
    (sharded / "corpus/fr-00001-of-00003.parquet").unlink()
    result = CliRunner().invoke(cli, ["export-beir", str(sharded), "--to", str(tmp_path / "b")], obj={"beam_args": []})
    assert result.exit_code == 2 and "fr-00001-of-00003.parquet not found" in result.output
    assert "2 of its 3 shards" in result.output and not (tmp_path / "b").exists()
