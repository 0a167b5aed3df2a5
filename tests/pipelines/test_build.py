"""The generic pipeline over any Source, on the real in-process runner: step kinds, routing, counting, tallies
as data, the fingerprint combined in the workers, regroups, and a whole build of a toy source.

The toy source below is the contract a plug-in meets; it is small enough that every figure is worked out here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import apache_beam as beam
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline  # not a pytest class
from apache_beam.testing.util import assert_that, equal_to

from clirdata.pipelines.build import Build, MakeRows, RunSteps, run_build
from clirdata.pipelines.runner import make_options
from clirdata.pipelines.writers import TALLIES_FILE, WriteTallies, take_tallies
from clirdata.readers.files import fingerprint_part, fingerprint_summary
from clirdata.schemas import Outcome, Reject, empty_row
from clirdata.sources.base import APPLY, EXPAND, GROUP, CardText, Prepared, Regroup, Source, Step
from tests.pipelines.test_steps import run_counted


def words(line: str) -> Iterator[str | Reject]:
    """EXPAND: a line's words; a word with a digit is a reject."""
    for word in line.split():
        yield Reject("toy", line, "split", "digit", word, word) if any(c.isdigit() for c in word) else word


def lower(word: str) -> Outcome | Reject:
    """APPLY: lower-cased, tallied by first letter; `skip` is rejected."""
    if word == "skip":
        return Reject("toy", word, "lower", "skipped", "", word)
    return Outcome(word.lower(), tallies=(("letters", word[0].lower(), 1),))


def first_letter(word: str) -> str:
    return word[0]


def by_letter(letter: str, members: list[str]) -> Iterator[Outcome | Reject]:
    """GROUP: one item per letter (its distinct words); a repeated word is a reject of this stage."""
    distinct = sorted(set(members))
    yield Outcome((letter, tuple(distinct)), tallies=(("groups", "letters", 1),))
    for _ in range(len(members) - len(distinct)):
        yield Reject("toy", letter, "group", "repeated", "", letter)


def word_row(item: tuple[str, tuple[str, ...]]) -> Iterator[tuple[str, dict]]:
    letter, group = item
    row = empty_row("corpus")
    row.update(_id=letter, title=letter, text=" ".join(group), lang="en", source="toy", source_id=letter)
    yield "corpus/en.parquet", row


def lengths(item: tuple[str, tuple[str, ...]]) -> Iterator[tuple[int, str]]:
    for word in item[1]:
        yield len(word), word


def length_query(length: int, group) -> Iterator[tuple[str, dict]]:
    row = empty_row("queries")
    row.update(_id=f"len:{length}", text=" ".join(sorted(group)), lang="en", kind="length", source_id="")
    yield "queries/en.parquet", row


@dataclass(frozen=True)
class ToySource(Source):
    """Lines -> words -> lower-cased -> grouped by first letter; a corpus row per letter, a query per word length."""

    name: ClassVar[str] = "toy"
    lines: tuple[str, ...] = ()
    files: tuple[str, ...] = ()

    def prepare(self) -> Prepared:
        return Prepared(self.lines, stages=({"name": "list", "in": 1, "out": 1, "rejected": 0, "balanced": True},),
                        rejects=(Reject("toy", "listing", "list", "stray", ""),), inputs={"lines": len(self.lines)},
                        fingerprinted=self.files)

    def steps(self) -> list[Step]:
        return [Step("split", words, EXPAND), Step("lower", lower),
                Step("group", by_letter, GROUP, key=first_letter)]

    def rows(self, item) -> Iterator[tuple[str, dict]]:
        return word_row(item)

    def regroups(self) -> list[Regroup]:
        return [Regroup("by length", lengths, length_query)]

    def expected_files(self) -> list[str]:
        return ["corpus/en.parquet", "queries/en.parquet", "rejects.parquet"]

    def card(self, manifest: dict) -> CardText:
        return CardText("Toy", f"{manifest['letters']}", "other", "none")


LINES = ("Apple ant 9lives", "bear Bee skip", "ant cat")


def test_run_steps_routes_and_counts_every_kind_of_step():
    def build(pipeline):
        flowed = pipeline | beam.Create(LINES) | RunSteps(ToySource().steps())
        assert_that(flowed["ok"], equal_to([("a", ("ant", "apple")), ("b", ("bear", "bee")), ("c", ("cat",))]),
                    label="items")
        assert_that(flowed["rejects"] | beam.Map(lambda r: (r.stage, r.reason, r.source_id)),
                    equal_to([("split", "digit", "9lives"), ("lower", "skipped", "skip"), ("group", "repeated", "a")]),
                    label="rejects")
        assert_that(flowed["tallies"] | beam.combiners.Count.PerKey(), equal_to([
            (("letters", "a"), 3), (("letters", "b"), 2), (("letters", "c"), 1), (("groups", "letters"), 3)]),
            label="tallies")

    counters = run_counted(build)
    # split counts results (8 words seen, 1 rejected); lower counts its 7 inputs; group counts members (6).
    assert counters["split"] == {"in": 8, "out": 7, "rejected": 1}
    assert counters["lower"] == {"in": 7, "out": 6, "rejected": 1}
    assert counters["group"] == {"in": 6, "out": 5, "rejected": 1}


def test_make_rows_gives_item_rows_and_regroup_rows():
    items = [("a", ("ant", "apple")), ("b", ("bear", "bee")), ("c", ("cat",))]

    def build(pipeline):
        rows = pipeline | beam.Create(items) | MakeRows(ToySource())
        assert_that(rows | beam.Map(lambda pair: (pair[0], pair[1]["_id"], pair[1]["text"])), equal_to([
            ("corpus/en.parquet", "a", "ant apple"), ("corpus/en.parquet", "b", "bear bee"),
            ("corpus/en.parquet", "c", "cat"),
            ("queries/en.parquet", "len:3", "ant bee cat"), ("queries/en.parquet", "len:4", "bear"),
            ("queries/en.parquet", "len:5", "apple")]))

    run_counted(build)


def test_tallies_are_summed_per_key_in_the_workers_and_written_once(tmp_path):
    pipeline = BeamTestPipeline(options=make_options([]))
    tallies = [(("licenses", "CC BY 4.0"), 1)] * 5 + [(("licenses", "other"), 2), (("repairs", "mojibake"), 3)]
    _ = pipeline | beam.Create(tallies) | WriteTallies(str(tmp_path))
    pipeline.run().wait_until_finish()
    assert [path.name for path in (tmp_path / ".clirdata").iterdir()] == ["tallies.json"]  # no temporaries left
    assert take_tallies(str(tmp_path)) == {"licenses": {"CC BY 4.0": 5, "other": 2}, "repairs": {"mojibake": 3}}
    assert not (tmp_path / TALLIES_FILE).exists()  # taken: the manifest keeps them


def test_no_tallies_is_an_empty_file_not_a_missing_one(tmp_path):
    pipeline = BeamTestPipeline(options=make_options([]))
    _ = pipeline | beam.Create([]) | WriteTallies(str(tmp_path))
    pipeline.run().wait_until_finish()
    assert json.loads((tmp_path / TALLIES_FILE).read_text()) == {}


@pytest.mark.parametrize("workers", [1, 2])
def test_a_whole_build_of_a_toy_source(tmp_path, workers):
    files = []
    for index, content in enumerate((b"first", b"second", b"")):
        path = tmp_path / f"input-{index}.txt"
        path.write_bytes(content)
        files.append(str(path))
    source = ToySource(lines=LINES, files=tuple(files))
    out = tmp_path / "out"
    manifest = run_build(Build(source, str(out)), source.prepare(), make_options([], workers), "test")

    assert [(s["name"], s["in"], s["out"], s["rejected"]) for s in manifest["stages"]] == [
        ("list", 1, 1, 0), ("split", 8, 7, 1), ("lower", 7, 6, 1), ("group", 6, 5, 1)]
    assert manifest["source"] == "toy"
    assert manifest["letters"] == {"a": 3, "b": 2, "c": 1}  # the default extras: the tallies as they are
    assert manifest["groups"] == {"letters": 3}
    assert manifest["rejects"] == {"group: repeated": 1, "list: stray": 1, "lower: skipped": 1, "split: digit": 1}
    assert "| split | digit | 1 |" in (out / "README.md").read_text()
    # The fingerprint, combined in the workers, equals the driver's computation over the three files.
    lines = [f"{path}\t{len(data)}\t{hashlib.sha256(data).hexdigest()}"
             for path, data in zip(files, (b"first", b"second", b""), strict=True)]
    digest = sum(int.from_bytes(hashlib.sha256(line.encode()).digest(), "big") for line in lines) % (1 << 256)
    assert manifest["inputs"] == {"lines": 3, "files": 3, "bytes": 11, "digest": format(digest, "064x")}
    corpus = pq.read_table(out / "corpus/en.parquet").to_pylist()
    assert [(row["_id"], row["text"]) for row in corpus] == [("a", "ant apple"), ("b", "bear bee"), ("c", "cat")]
    rejects = pq.read_table(out / "rejects.parquet").to_pylist()
    assert sorted((row["stage"], row["reason"]) for row in rejects) == [
        ("group", "repeated"), ("list", "stray"), ("lower", "skipped"), ("split", "digit")]
    assert manifest["card"]["description"] == "{'a': 3, 'b': 2, 'c': 1}"


def test_fingerprint_parts_combine_in_any_order(tmp_path):
    paths = []
    for index in range(4):
        path = tmp_path / f"f{index}"
        path.write_bytes(bytes([index]) * (index + 1))
        paths.append(str(path))

    def summed(order):
        sums: dict[str, int] = {}
        for path in order:
            for key, value in fingerprint_part(path).items():
                sums[key] = sums.get(key, 0) + value
        return fingerprint_summary(sums)

    assert summed(paths) == summed(reversed(paths)) == summed(paths[2:] + paths[:2])
    assert summed(paths)["bytes"] == 1 + 2 + 3 + 4


@pytest.mark.parametrize(("kind", "key"), [(GROUP, None), (APPLY, first_letter), ("map", None)])
def test_a_step_of_the_wrong_shape_is_refused(kind, key):
    with pytest.raises(ValueError, match="step s"):
        Step("s", lower, kind, key=key)
