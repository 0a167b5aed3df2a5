"""The Érudit source end to end on the real Beam runner (in-process), from XML files to OUT/, and its
pairing step run alone through the generic pipeline against the pure functions."""

from __future__ import annotations

import json
import tarfile
import zipfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

import apache_beam as beam
import datasets
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline  # not a pytest class
from apache_beam.testing.util import assert_that, equal_to

from clirdata.align.keywords import PairingOptions, pair_article, pair_records
from clirdata.pipelines.build import Build, MakeRows, RunSteps, SynthesisPassages, run_build
from clirdata.pipelines.runner import make_options
from clirdata.pipelines.synthesize import SynthesisRun
from clirdata.readers.files import fingerprint_part, fingerprint_summary, list_inputs
from clirdata.schemas import Record, Reject
from clirdata.sources.articles import language_check_section
from clirdata.sources.erudit import EruditSource
from clirdata.synthesis.synthesize import SynthesisConfig
from tests import handmade
from tests.align.test_keywords import article_with_keywords
from tests.pipelines.test_steps import run_counted

BAD_FILES = {
    "bad1.xml": b"<article idproprio='bad1'><liminaire><grtitre><titre>x</grtitre></liminaire></article>",
    "bad2.xml": handmade.article_xml("a1")[:300],
    "bad3.xml": b'<?xml version="1.0"?><!DOCTYPE article [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                b'<article idproprio="bad3"><liminaire><grtitre><titre>&x;</titre></grtitre></liminaire></article>',
    "bad4.xml": b'<article idproprio="bad4"><liminaire><grtitre><titre></titre></grtitre></liminaire></article>',
}
MISLABELLED = ("<resume lang=\"en\"><alinea>Cet article examine la construction des savoirs professionnels "
               "des enseignants dans une formation hybride offerte par une université française.</alinea></resume>")


def write_inputs(folder: Path, with_bad: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for source_id in handmade.ARTICLES:
        data = handmade.article_xml(source_id)
        if source_id == "a5" and with_bad:  # a French abstract declared English: that field must go
            data = data.replace(b'<resume lang="en">', MISLABELLED.encode() + b'<resume lang="xx">', 1)
        (folder / f"{source_id}.xml").write_bytes(data)
    if with_bad:
        for name, data in BAD_FILES.items():
            (folder / name).write_bytes(data)
    return folder


def build(location: Path | str, out: Path, mode: str = "keywords", workers: int | None = None) -> dict:
    source = EruditSource(out_dir=str(out), pairing=PairingOptions("en", "fr", mode, 3), location=str(location))
    return run_build(Build(source, str(out)), source.prepare(), make_options([], workers), "test")


def rows(out: Path, relpath: str) -> list[dict]:
    return pq.read_table(out / relpath).to_pylist()


def stages_by_name(manifest: dict) -> dict[str, dict]:
    return {s["name"]: s for s in manifest["stages"]}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict, Path]:
    base = tmp_path_factory.mktemp("erudit")
    out = base / "out"
    location = write_inputs(base / "in")
    return out, build(location, out), location


def test_output_matches_the_hand_worked_collection(built):
    out, _, _ = built
    queries = {q["_id"]: q["text"] for q in rows(out, "queries/en.parquet")}
    for split, position in (("en_fr", 0), ("en_en", 1)):
        got: dict[str, set[str]] = {text: set() for text in queries.values()}
        for qrel in rows(out, f"qrels/{split}.parquet"):
            got[queries[qrel["query-id"]]].add(qrel["corpus-id"].split(":")[0])
        assert got == {text: sets[position] for text, sets in handmade.EXPECTED_QUERIES.items()}
    assert {r["source_id"] for r in rows(out, "corpus/fr.parquet")} == handmade.EXPECTED_FR_DOCS
    # a5's English abstract was French: dropped, so a5 has no English document any more.
    assert {r["source_id"] for r in rows(out, "corpus/en.parquet")} == handmade.EXPECTED_EN_DOCS - {"a5"}


def test_every_bad_input_is_a_reject_with_its_reason(built):
    out, _, _ = built
    rejects = {(Path(r["source_uri"]).name, r["stage"], r["reason"]) for r in rows(out, "rejects.parquet")}
    assert rejects == {
        ("bad1.xml", "extract", "malformed-xml"),
        ("bad2.xml", "extract", "truncated-xml"),
        ("bad3.xml", "extract", "dtd-entities"),
        ("bad4.xml", "extract", "empty-title"),
        ("a5.xml", "check-fields", "language-mismatch"),
        ("a4.xml", "pair", "no-fr-document"),
    }
    mismatch = next(r for r in rows(out, "rejects.parquet") if r["reason"] == "language-mismatch")
    assert "declared 'en' reads as 'fr'" in mismatch["detail"] and mismatch["source_id"] == "a5"


def test_manifest_accounts_for_every_input(built):
    out, manifest, _ = built
    assert manifest == json.loads((out / "manifest.json").read_text())
    stages = stages_by_name(manifest)
    assert [s["name"] for s in manifest["stages"]] == ["read", "extract", "check", "check-fields", "pair"]
    assert all(s["in"] == s["out"] + s["rejected"] for s in manifest["stages"])
    assert stages["read"]["in"] == 10
    assert (stages["extract"]["out"], stages["extract"]["rejected"]) == (6, 4)
    assert stages["check-fields"]["rejected"] == 1
    assert (stages["pair"]["in"], stages["pair"]["out"], stages["pair"]["rejected"]) == (6, 5, 1)
    assert manifest["files"]["rejects.parquet"] == 6
    assert manifest["files"]["queries/en.parquet"] == 7
    assert manifest["inputs"]["files"] == 10 and len(manifest["inputs"]["digest"]) == 64


def test_manifest_fingerprints_the_listed_files_and_reports_the_source_and_its_tallies(built):
    out, manifest, location = built
    sums: Counter[str] = Counter()
    for ref in list_inputs(str(location)):
        sums.update(fingerprint_part(ref.uri))  # as the workers sum them, computed here on the driver
    assert sums["files"] == 10 and sums["bytes"] == sum(p.stat().st_size for p in location.iterdir())
    assert manifest["inputs"] == {"location": str(location), **fingerprint_summary(dict(sums))}
    assert manifest["source"] == "erudit"
    assert not (out / ".clirdata" / "tallies.json").exists()  # it carried the tallies to the manifest, then went
    assert sum(manifest["licenses"].values()) == 5  # one licence per paired article: a1, a2, a3, a5, a6
    checked = stages_by_name(manifest)["check-fields"]
    assert sum(manifest["language_check"].values()) == checked["in"]
    assert sum(n for key, n in manifest["language_check"].items() if key.split()[0] != key.split()[2]) == 1
    assert manifest["language_check"]["en abstract fr"] == 1  # a5's English-declared abstract is French


def test_the_card_has_the_language_check_table():
    section = language_check_section({"en title en": 3, "en title es": 1, "fr keywords fr": 2, "en abstract fr": 2,
                                      "en abstract en": 1})
    rows = [line for line in section.splitlines() if line.startswith("| ") and "declared" not in line]
    assert rows == ["| en | title | 4 | 3 | es 1 |", "| en | abstract | 3 | 1 | fr 2 |", "| fr | keywords | 2 | 2 | none |"]


def test_datasets_loads_every_split_from_the_card(built, tmp_path):
    out, _, _ = built

    def load(config: str, split: str):  # a cache of its own: `datasets` keys its shared cache by folder name
        return datasets.load_dataset(str(out), config, split=split, cache_dir=str(tmp_path / "hf"))

    assert len(load("corpus", "fr")) == 5
    assert len(load("queries", "en")) == 7
    assert len(load("qrels", "en_fr")) == 10
    en_en = load("qrels", "en_en")
    assert len(en_en) == 6 and en_en.features["score"].dtype == "int64"
    assert en_en.features["query-id"].dtype == "string"


def test_same_input_gives_byte_identical_parquet(built, tmp_path):
    out, _, _ = built
    again = tmp_path / "again"
    build(write_inputs(tmp_path / "in"), again, workers=2)  # other paths, other process layout
    data_files = sorted(p.relative_to(out) for p in out.rglob("*.parquet"))
    assert len(data_files) == 6
    for relpath in data_files:
        if relpath.name != "rejects.parquet":  # rejects name their (different) input paths
            assert (out / relpath).read_bytes() == (again / relpath).read_bytes(), relpath

    def reasons(folder: Path) -> list[tuple[str, str]]:
        return sorted((Path(r["source_uri"]).name, r["reason"]) for r in rows(folder, "rejects.parquet"))

    assert reasons(out) == reasons(again)


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_archives_are_read_member_by_member(tmp_path, kind):
    folder = write_inputs(tmp_path / "in", with_bad=False)
    archive = tmp_path / f"dump.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w") as zf:
            for path in sorted(folder.iterdir()):
                zf.write(path, f"dump/{path.name}")
            zf.writestr("dump/notes.txt", "not an article")
    else:
        with tarfile.open(archive, "w:gz") as tf:
            tf.add(folder, arcname="dump")
    manifest = build(archive, tmp_path / "out")
    assert manifest["stages"][0]["name"] == "read"  # an Érudit build lists nothing before its pipeline
    assert stages_by_name(manifest)["read"] == {"name": "read", "in": 6, "out": 6, "rejected": 0, "balanced": True}
    assert manifest["files"]["qrels/en_fr.parquet"] == 10
    assert manifest["inputs"]["files"] == 1 and manifest["inputs"]["bytes"] == archive.stat().st_size


def test_title_mode(tmp_path):
    manifest = build(write_inputs(tmp_path / "in", with_bad=False), tmp_path / "out", mode="title")
    assert manifest["files"] == {"corpus/fr.parquet": 5, "qrels/en_fr.parquet": 4,
                                 "queries/en.parquet": 4, "rejects.parquet": 2}
    # a6 has no English title: its French document stays (a distractor), its missing query is counted.
    assert manifest["stages"][-1]["name"] == "title-queries"
    assert stages_by_name(manifest)["title-queries"] == {"name": "title-queries", "in": 5, "out": 4, "rejected": 1,
                                                         "balanced": True}


# --- the pair step alone through the generic pipeline, grouped by id and by combination, against the pure function

def pairing_records() -> list[Record]:
    """The hand-made articles, plus a second a1 (whose uri sorts first, so it is the one that stays), an
    article with 2,000 keywords, and repairs to tally on a2 and on the a1 that goes."""
    records = handmade.records()
    first_a1 = replace(records[0], source_uri="mem://a0.xml", texts={
        **records[0].texts, "fr": replace(records[0].texts["fr"], title="Le premier a1")})
    records[0] = replace(records[0], repairs=("mojibake:abstract:en",))
    records[1] = replace(records[1], repairs=("mojibake:title:fr", "mojibake:abstract:fr"))
    return [*records, first_a1, article_with_keywords(2_000, "h1")]


def pair_alone(pipeline, records: list[Record], options: PairingOptions):
    """The source's last step (pair) alone on `records`, and the rows made of what it pairs."""
    source = EruditSource(pairing=options)
    paired = pipeline | beam.Create(records) | RunSteps(source.steps()[-1:])
    return paired, paired["ok"] | MakeRows(source)


def test_the_pair_step_is_the_last_and_groups_by_id():
    (step,) = EruditSource().steps()[-1:]
    assert step.stage == "pair" and step.kind == "group" and step.key(handmade.records()[0]) == "a1"


def test_pairing_by_groups_matches_the_hand_worked_collection_and_counts():
    records = pairing_records()

    def build(pipeline):
        paired, made = pair_alone(pipeline, records, PairingOptions("en", "fr", "keywords", 3))
        assert_that(made, equal_to(list(pair_records(records, PairingOptions()).rows())),
                    label="rows as the pure function's")
        queries = (made | beam.Filter(lambda pair: pair[0] == "queries/en.parquet")
                   | beam.Map(lambda pair: pair[1]["text"]))
        assert_that(queries, equal_to(list(handmade.EXPECTED_QUERIES)), label="queries by hand")
        titles = (made | beam.Filter(lambda pair: pair[1].get("_id") == "a1:fr")
                  | beam.Map(lambda pair: pair[1]["title"]))
        assert_that(titles, equal_to(["Le premier a1"]), label="the a1 whose uri sorts first")
        assert_that(paired["rejects"] | beam.Map(lambda r: (r.source_uri, r.stage, r.reason)),
                    equal_to([("mem://a1.xml", "pair", "duplicate-id"), ("mem://a4.xml", "pair", "no-fr-document"),
                              ("mem://h1.xml", "pair", "too-many-keywords")]), label="rejects")
        # the rejected duplicate's repair is tallied, as before
        assert_that(paired["tallies"] | beam.CombinePerKey(sum),
                    equal_to([(("licenses", "CC BY 4.0"), 5), (("repairs", "mojibake"), 3)]), label="tallies")

    counters = run_counted(build)
    assert counters["pair"] == {"in": 8, "out": 5, "rejected": 3}


@pytest.mark.parametrize("options", [PairingOptions("en", "fr", "title"), PairingOptions("en", "en", "keywords", 3),
                                     PairingOptions("en", "fr", "keywords", 2, max_keywords=3)],
                         ids=["title", "same-language", "pairs-capped"])
def test_pairing_by_groups_gives_the_pure_functions_rows_rejects_and_counts(options):
    records = pairing_records()
    pure = pair_records(records, options)

    def build(pipeline):
        paired, made = pair_alone(pipeline, records, options)
        assert_that(made, equal_to(list(pure.rows())), label="rows")
        assert_that(paired["rejects"], equal_to(pure.rejects), label="rejects")

    counters = run_counted(build)
    by_stage = Counter(reject.stage for reject in pure.rejects)
    assert counters["pair"] == {"in": pure.stats["records"], "out": pure.stats["documents"],
                                "rejected": by_stage["pair"]}
    if options.mode == "title":  # by hand: a6 has no English title; a1, a2, a3, a5 and h1 (no cap here) are asked
        assert counters["title-queries"] == {"in": 6, "out": 5, "rejected": 1} == {
            "in": pure.stats["documents"], "out": pure.stats["queries"], "rejected": by_stage["title-queries"]}
    else:
        assert "title-queries" not in counters


def test_keyword_queries_group_by_combination():
    options = PairingOptions()
    articles = [paired for record in handmade.records()
                if not isinstance(paired := pair_article(record, options), Reject)]
    pure_rows = list(pair_records(handmade.records(), options).rows())
    expected = [(relpath, row) for relpath, row in pure_rows if not relpath.startswith("corpus/")]
    assert expected and len(expected) < len(pure_rows)

    with BeamTestPipeline(options=make_options([])) as pipeline:
        made = pipeline | beam.Create(articles) | MakeRows(EruditSource(pairing=options))
        assert_that(made, equal_to(pure_rows), label="every row")
        grouped = made | beam.Filter(lambda pair: not pair[0].startswith("corpus/"))
        assert_that(grouped, equal_to(expected), label="queries and qrels")
        relevant = (grouped | beam.Filter(lambda pair: pair[0] == "qrels/en_fr.parquet")
                    | beam.Map(lambda pair: pair[1]["corpus-id"].split(":")[0]))
        assert_that(relevant | beam.combiners.Count.PerElement(),  # by hand: a1 in 4 queries, a6 in 4, ...
                    equal_to([("a1", 4), ("a2", 1), ("a3", 1), ("a6", 4)]), label="queries per document")


@pytest.mark.parametrize("max_docs, expected", [(2, ["a1:fr", "a2:fr"]), (None, ["a1:fr", "a2:fr", "a3:fr",
                                                                                  "a5:fr", "a6:fr"])])
def test_synthesis_passages_are_the_first_documents_by_id(max_docs, expected):
    options = PairingOptions()
    articles = [paired for record in reversed(handmade.records())
                if not isinstance(paired := pair_article(record, options), Reject)]
    run_spec = SynthesisRun("llamacpp", "model.gguf", "fr", SynthesisConfig(), "/nonexistent", max_docs=max_docs)
    with BeamTestPipeline(options=make_options([])) as pipeline:
        passages = pipeline | beam.Create(articles) | SynthesisPassages(EruditSource(pairing=options), run_spec)
        assert_that(passages | beam.Map(lambda p: (p.doc_id, p.lang, p.source_id)),
                    equal_to([(doc_id, "fr", doc_id.split(":")[0]) for doc_id in expected]))
