"""Sharded writers: which shard a row goes to, the files written, byte-identical output, reading a split back."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.io.filesystems import FileSystems
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import given, settings
from hypothesis import strategies as st

from clirdata.hub.card import IncompleteSplit, parse_split_file, shard_relpath
from clirdata.pipelines.manifest import Ledger, write_ledger
from clirdata.pipelines.runner import make_options, written_files
from clirdata.pipelines.writers import AssignShards, WriteTables, shard_count, shard_of, write_parquet
from clirdata.readers.splits import read_split, split_files
from clirdata.schemas import empty_row
from clirdata.schemas.tables import row_key, sorted_rows
from tests.pipelines.test_runner import MemoryFileSystem

# shard_of((id,), 3) for d01..d10, worked out once and pinned: a change of hash changes every build's bytes.
SHARD_OF_3 = {"d01": 2, "d02": 0, "d03": 1, "d04": 2, "d05": 2, "d06": 2, "d07": 1, "d08": 1, "d09": 1, "d10": 0}
FR_SHARDS = [f"corpus/fr-0000{i}-of-00003.parquet" for i in range(3)]


def doc(doc_id: str, text: str = "") -> dict:
    return {**empty_row("corpus"), "_id": doc_id, "title": f"title {doc_id}", "text": text or f"text of {doc_id}",
            "lang": "fr", "year": 2020, "keywords": ["k"]}


def corpus_rows(ids=SHARD_OF_3) -> list[tuple[str, dict]]:
    return [("corpus/fr.parquet", doc(doc_id)) for doc_id in ids]


def pipeline(workers: int | None = None) -> BeamTestPipeline:
    return BeamTestPipeline(options=make_options([], workers))


def write(out, rows, expected=("corpus/fr.parquet",), rows_per_shard=4, workers=None) -> None:
    with beam.Pipeline(options=make_options([], workers)) as p:
        _ = p | beam.Create(rows) | WriteTables(str(out), list(expected), rows_per_shard)


def ids_in(path) -> list[str]:
    return pq.read_table(path, columns=["_id"]).column("_id").to_pylist()


def tree(folder) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- Shard of a row, shard count, names ------------------------------------------------------------------

def test_shard_count_is_rows_over_rows_per_shard_rounded_up():
    assert [shard_count(n, 4) for n in (0, 1, 4, 5, 8, 9)] == [1, 1, 1, 2, 2, 3]
    assert shard_count(250_000, 100_000) == 3
    with pytest.raises(ValueError, match="raise rows_per_shard"):
        shard_count(100_000, 1)  # 100,000 shards: more than five digits can name


def test_shard_of_is_pinned_and_in_range():
    assert {doc_id: shard_of((doc_id,), 3) for doc_id in SHARD_OF_3} == SHARD_OF_3
    by_hand = int.from_bytes(hashlib.blake2b(b'["d01"]', digest_size=8).digest(), "big") % 3  # the key as JSON
    assert by_hand == SHARD_OF_3["d01"]
    assert shard_of(("q1", "d01"), 2) == 0 and shard_of(("q1", "d02"), 2) == 1
    assert shard_of(("anything",), 1) == 0


def test_shard_of_does_not_depend_on_pythons_hash_seed():
    code = "from clirdata.pipelines.writers import shard_of; print([shard_of((f'd{i}', 'é'), 7) for i in range(40)])"
    seen = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(seen) == 1 and seen.pop().startswith("[")


@given(st.lists(st.text(max_size=8), min_size=1, max_size=3), st.integers(1, 5000))
def test_every_key_has_a_shard_in_range(key, count):
    assert 0 <= shard_of(tuple(key), count) < count


def test_row_key_is_the_tables_sort_key():
    assert row_key("corpus", doc("d01")) == ("d01",)
    assert row_key("qrels", {"query-id": "q1", "corpus-id": "d1", "score": 1}) == ("q1", "d1")
    reject = {"source": "s", "source_uri": "u", "stage": "read", "reason": "r", "detail": None, "source_id": "i"}
    assert row_key("rejects", reject) == ("read", "u", "r", "i", "")


@given(st.from_regex(r"(corpus/|qrels/)?[a-z_]{1,6}", fullmatch=True), st.integers(1, 99_999), st.data())
def test_shard_names_parse_back(stem, count, data):
    index = data.draw(st.integers(0, count - 1))
    relpath = shard_relpath(stem, index, count)
    parsed = parse_split_file(relpath)
    assert (parsed.stem, parsed.index, parsed.count) == (stem, index, count)
    assert relpath == f"{stem}.parquet" if count == 1 else relpath.endswith(f"-{index:05d}-of-{count:05d}.parquet")


@pytest.mark.parametrize("name", ["corpus/fr-00000-of-00001.parquet", "corpus/fr-00004-of-00004.parquet",
                                  "corpus/fr-final-of-draft1.parquet", "corpus/fr-0-of-2.parquet",
                                  "corpus/fr.parquet.tmp-0123", "corpus/f-r.parquet", "../corpus/fr.parquet"])
def test_names_clirdata_does_not_write_are_not_shards(name):
    assert parse_split_file(name) is None


def test_rows_sharing_a_key_are_ordered_by_content():
    a, b = {**doc("d01"), "text": "b"}, {**doc("d01"), "text": "a"}
    assert [r["text"] for r in sorted_rows("corpus", [doc("d02"), a, b])] == ["a", "b", "text of d02"]
    assert sorted_rows("corpus", [b, a]) == sorted_rows("corpus", [a, b])


# --- The sharding transform (TestPipeline + assert_that) ------------------------------------------------

def test_assign_shards_keys_rows_by_hash_and_adds_every_shard():
    rows = corpus_rows()
    with pipeline() as p:
        keyed = p | beam.Create(rows) | AssignShards(["corpus/fr.parquet", "queries/en.parquet"], rows_per_shard=4)
        expected = [(("corpus/fr", SHARD_OF_3[row["_id"]], 3), row) for _, row in rows]
        expected += [(("corpus/fr", i, 3), None) for i in range(3)] + [(("queries/en", 0, 1), None)]
        assert_that(keyed, equal_to(expected))


def test_assign_shards_counts_rows_of_each_split_apart():
    rows = corpus_rows(["d01", "d02"]) + [("qrels/en_fr.parquet", {"query-id": "q1", "corpus-id": f"d{i:02d}",
                                                                      "score": 1}) for i in (1, 2, 3)]
    with pipeline() as p:
        keys = (p | beam.Create(rows) | AssignShards([], rows_per_shard=2)
                | beam.Filter(lambda kv: kv[1] is None) | beam.Keys())
        assert_that(keys, equal_to([("corpus/fr", 0, 1), ("qrels/en_fr", 0, 2), ("qrels/en_fr", 1, 2)]))


def test_rows_per_shard_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        AssignShards([], rows_per_shard=0)


def test_a_row_for_a_shard_name_is_refused():
    with pytest.raises(ValueError, match="not the plain file name"):
        AssignShards(["corpus/fr-00000-of-00002.parquet"])


# --- Writing ------------------------------------------------------------------------------------------

def test_write_tables_writes_shards_with_hub_names(tmp_path):
    rows = corpus_rows()
    with pipeline() as p:
        written = p | beam.Create(rows) | WriteTables(str(tmp_path), ["corpus/fr.parquet", "queries/en.parquet"], 4)
        assert_that(written, equal_to([(FR_SHARDS[0], 2), (FR_SHARDS[1], 4), (FR_SHARDS[2], 4),
                                       ("queries/en.parquet", 0)]))
    assert sorted(tree(tmp_path)) == [*FR_SHARDS, "queries/en.parquet"]  # no temporary file is left
    assert ids_in(tmp_path / FR_SHARDS[0]) == ["d02", "d10"]
    assert ids_in(tmp_path / FR_SHARDS[1]) == ["d03", "d07", "d08", "d09"]
    assert ids_in(tmp_path / FR_SHARDS[2]) == ["d01", "d04", "d05", "d06"]
    empty = pq.read_table(tmp_path / "queries/en.parquet")
    assert empty.num_rows == 0 and "kind" in empty.schema.names
    assert written_files(str(tmp_path)) == {FR_SHARDS[0]: 2, FR_SHARDS[1]: 4, FR_SHARDS[2]: 4, "queries/en.parquet": 0}


def test_a_shard_no_row_hashes_to_is_written_empty(tmp_path):
    write(tmp_path, corpus_rows(["d01", "d02", "d03", "d04", "d05"]), rows_per_shard=1)  # shards 0, 4, 1, 0, 0
    counts = {relpath: pq.read_metadata(tmp_path / relpath).num_rows for relpath in tree(tmp_path)}
    assert counts == {f"corpus/fr-0000{i}-of-00005.parquet": n for i, n in enumerate([3, 1, 0, 0, 1])}


def test_a_small_split_keeps_its_plain_name(tmp_path):
    write(tmp_path, corpus_rows(), rows_per_shard=10)
    assert list(tree(tmp_path)) == ["corpus/fr.parquet"]
    assert ids_in(tmp_path / "corpus/fr.parquet") == sorted(SHARD_OF_3)


def test_same_rows_in_another_order_and_on_two_workers_give_the_same_bytes(tmp_path):
    rows = corpus_rows() + [("rejects.parquet", {"source": "erudit", "source_uri": f"in/{i}.xml", "stage": "read",
                                                 "reason": "malformed-xml", "detail": "x", "source_id": ""})
                            for i in range(5)]
    write(tmp_path / "a", rows, ["corpus/fr.parquet", "rejects.parquet"], rows_per_shard=3)
    write(tmp_path / "b", list(reversed(rows)), ["corpus/fr.parquet", "rejects.parquet"], rows_per_shard=3, workers=2)
    first = tree(tmp_path / "a")
    assert first == tree(tmp_path / "b")
    assert sorted(first) == [f"corpus/fr-0000{i}-of-00004.parquet" for i in range(4)] + [
        "rejects-00000-of-00002.parquet", "rejects-00001-of-00002.parquet"]


def test_write_parquet_replaces_a_file_whole(tmp_path):
    path = tmp_path / "corpus/fr.parquet"
    write_parquet(str(path), "corpus", [doc("d01"), doc("d02")])
    write_parquet(str(path), "corpus", [doc("d03")])
    assert ids_in(path) == ["d03"] and sorted(tree(tmp_path)) == ["corpus/fr.parquet"]
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
        write_parquet(str(path), "corpus", [{**doc("d04"), "year": "not a year"}])
    assert ids_in(path) == ["d03"] and sorted(tree(tmp_path)) == ["corpus/fr.parquet"]


def test_a_folder_another_worker_just_made_is_no_error(tmp_path, monkeypatch):
    folder = tmp_path / "corpus"
    folder.mkdir()  # by another worker, just after this one looked
    real_exists, looked = FileSystems.exists, []

    def exists_as_seen_before_the_other_worker(path):
        if path == str(folder) and not looked:
            looked.append(path)
            return False
        return real_exists(path)

    monkeypatch.setattr(FileSystems, "exists", exists_as_seen_before_the_other_worker)
    write_parquet(str(folder / "fr.parquet"), "corpus", [doc("d01")])
    assert looked and ids_in(folder / "fr.parquet") == ["d01"]


def test_long_splits_are_cut_in_row_groups(tmp_path, monkeypatch):
    monkeypatch.setattr("clirdata.pipelines.writers.ROW_GROUP_ROWS", 3)
    write_parquet(str(tmp_path / "fr.parquet"), "corpus", [doc(f"d{i:02d}") for i in range(7)])
    metadata = pq.read_metadata(tmp_path / "fr.parquet")
    assert [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)] == [3, 3, 1]


# --- Files of an earlier build with another shard count -------------------------------------------------

def test_an_earlier_set_the_ledger_owns_is_removed_and_a_users_file_kept(tmp_path, caplog):
    write(tmp_path, corpus_rows(), rows_per_shard=10)  # corpus/fr.parquet
    write(tmp_path, corpus_rows()[:4], rows_per_shard=3)  # corpus/fr-0000{0,1}-of-00002: the ledger owns these
    mine = tmp_path / "corpus/fr-00000-of-00009.parquet"
    mine.write_bytes(b"the user's")
    write_ledger(str(tmp_path), Ledger(frozenset({"corpus/fr.parquet", "corpus/fr-00000-of-00002.parquet",
                                                  "corpus/fr-00001-of-00002.parquet"})))
    with caplog.at_level(logging.WARNING, logger="clirdata"):
        write(tmp_path, corpus_rows(), rows_per_shard=4)
    assert sorted(tree(tmp_path)) == sorted([".clirdata/files.json", *FR_SHARDS, "corpus/fr-00000-of-00009.parquet"])
    assert mine.read_bytes() == b"the user's" and "fr-00000-of-00009.parquet is not in clirdata's ledger" in caplog.text


def test_without_a_ledger_nothing_is_removed(tmp_path):
    write(tmp_path, corpus_rows(), rows_per_shard=10)
    write(tmp_path, corpus_rows(), rows_per_shard=4)
    assert sorted(tree(tmp_path)) == sorted(["corpus/fr.parquet", *FR_SHARDS])
    with pytest.raises(IncompleteSplit, match="2 different shard sets"):
        split_files(str(tmp_path), "corpus/fr")


# --- Reading a split ----------------------------------------------------------------------------------

def test_read_split_reads_every_shard_in_order(tmp_path):
    write(tmp_path, corpus_rows(), rows_per_shard=4)
    assert split_files(str(tmp_path), "corpus/fr") == [str(tmp_path / relpath) for relpath in FR_SHARDS]
    assert split_files(str(tmp_path), "corpus/fr.parquet") == split_files(str(tmp_path), "corpus/fr")
    ids = read_split(str(tmp_path), "corpus/fr", columns=["_id"]).column("_id").to_pylist()
    assert ids == ["d02", "d10", "d03", "d07", "d08", "d09", "d01", "d04", "d05", "d06"]
    assert split_files(str(tmp_path), "corpus/en") == []
    with pytest.raises(FileNotFoundError, match=f"{tmp_path / 'corpus/en.parquet'} not found"):
        read_split(str(tmp_path), "corpus/en")


def test_a_missing_shard_is_named(tmp_path):
    write(tmp_path, corpus_rows(), rows_per_shard=4)
    (tmp_path / FR_SHARDS[1]).unlink()
    with pytest.raises(IncompleteSplit, match=f"{FR_SHARDS[1]} not found: corpus/fr has 2 of its 3 shards"):
        read_split(str(tmp_path), "corpus/fr")


def test_look_alikes_are_not_part_of_a_split(tmp_path):
    write(tmp_path, corpus_rows(), rows_per_shard=10)
    for name in ("fr-final-of-draft1.parquet", "fr.parquet.tmp-x", "fr_ca.parquet", "fr-00000-of-00001.parquet"):
        (tmp_path / "corpus" / name).write_bytes(b"x")
    assert split_files(str(tmp_path), "corpus/fr") == [str(tmp_path / "corpus/fr.parquet")]
    assert read_split(str(tmp_path), "corpus/fr").num_rows == 10


@pytest.fixture
def object_store():
    """An OUT in an object store (no folders, no rename of folders), in memory: test_runner's."""
    MemoryFileSystem.objects.clear()
    yield "memtest://bucket/out"
    MemoryFileSystem.objects.clear()


def test_a_remote_out_is_written_and_read_through_beams_filesystems(object_store):
    write(object_store, corpus_rows(), rows_per_shard=4)
    assert sorted(MemoryFileSystem.objects) == [f"{object_store}/{relpath}" for relpath in FR_SHARDS]
    assert split_files(object_store, "corpus/fr") == [f"{object_store}/{relpath}" for relpath in FR_SHARDS]
    assert sorted(read_split(object_store, "corpus/fr").column("_id").to_pylist()) == sorted(SHARD_OF_3)


@settings(max_examples=max(10, settings().max_examples // 6))
@given(st.sets(st.from_regex(r"[a-z0-9:]{1,6}", fullmatch=True), max_size=12), st.integers(1, 5), st.randoms())
def test_every_row_lands_once_in_its_shard_sorted(tmp_path_factory, ids, rows_per_shard, random):
    out = tmp_path_factory.mktemp("fuzz")
    rows = corpus_rows(sorted(ids))
    random.shuffle(rows)
    write(out, rows, rows_per_shard=rows_per_shard)
    count = shard_count(len(ids), rows_per_shard)
    for index, path in enumerate(split_files(str(out), "corpus/fr")):
        got = ids_in(path)
        assert got == sorted(got) and all(shard_of((doc_id,), count) == index for doc_id in got)
    assert len(split_files(str(out), "corpus/fr")) == count
    assert sorted(read_split(str(out), "corpus/fr").column("_id").to_pylist()) == sorted(ids)
    assert sum(written_files(str(out)).values()) == len(ids)
