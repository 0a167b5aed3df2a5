"""OUT's bookkeeping: the lock, the ledger of the files clirdata wrote, and what a new build may delete.

Local OUTs use the real filesystem; remote ones a small object store registered with Beam's FileSystems
(scheme memtest://), which, like GCS or S3, has no folders and no create-if-absent.
"""

from __future__ import annotations

import io
import json
import logging
import multiprocessing
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.io.filesystem import BeamIOError, FileMetadata, FileSystem
from apache_beam.io.filesystems import FileSystems
from hypothesis import given
from hypothesis import strategies as st

from clirdata.hub.card import card_text
from clirdata.pipelines import manifest as manifest_module
from clirdata.pipelines.manifest import (
    Ledger,
    LedgerError,
    build_manifest,
    read_ledger,
    write_card_and_manifest,
    write_ledger,
)
from clirdata.pipelines.runner import (
    LockHolder,
    OutDirError,
    claim_out_dir,
    ensure_out_dir,
    hold_lock,
    is_stale,
    prepare_out_dir,
    written_files,
)


def dead_pid() -> int:
    """The pid of a process that has ended (and was reaped)."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                           check=True)
    return int(child.stdout)


def lock_bytes(pid: int, host: str | None = None, command: str = "clirdata build erudit") -> bytes:
    return json.dumps({"pid": pid, "host": host or socket.gethostname(), "started": "2024-05-01T10:00:00+00:00",
                       "command": command}).encode()


def parquet(path: Path, rows: int = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"_id": [str(i) for i in range(rows)]}), path)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes: to show that nothing changed."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- the lock --------------------------------------------------------------------------------------------

def test_the_lock_names_its_holder_and_goes_at_the_end(tmp_path):
    with hold_lock(str(tmp_path), command="clirdata build erudit --out x") as me:
        lock = json.loads((tmp_path / ".clirdata/lock").read_text())
        assert (lock["pid"], lock["host"], lock["command"]) == (os.getpid(), socket.gethostname(),
                                                                "clirdata build erudit --out x")
        assert lock["started"] == me.started and lock["token"] == me.token
    assert not (tmp_path / ".clirdata").exists()  # it made the folder, and it was left empty


def test_the_lock_goes_even_when_the_build_fails(tmp_path):
    (tmp_path / ".clirdata").mkdir()
    with pytest.raises(RuntimeError), hold_lock(str(tmp_path)):
        raise RuntimeError("the pipeline failed")
    assert list((tmp_path / ".clirdata").iterdir()) == []


def test_a_live_holder_refuses_a_second_build_and_is_named(tmp_path):
    (tmp_path / ".clirdata").mkdir()
    (tmp_path / ".clirdata/lock").write_bytes(lock_bytes(os.getpid(), command="clirdata build eurlex --out o"))
    before = tree(tmp_path)
    with pytest.raises(OutDirError) as refused, hold_lock(str(tmp_path)):
        pytest.fail("the block must not run")
    message = str(refused.value)
    assert f"pid {os.getpid()} on {socket.gethostname()}" in message and "clirdata build eurlex --out o" in message
    assert "\n" not in message
    assert tree(tmp_path) == before


def test_a_stale_lock_is_taken_over_with_a_warning(tmp_path, caplog):
    gone = dead_pid()
    (tmp_path / ".clirdata").mkdir()
    (tmp_path / ".clirdata/lock").write_bytes(lock_bytes(gone))
    with caplog.at_level(logging.WARNING, logger="clirdata"), hold_lock(str(tmp_path)):
        assert json.loads((tmp_path / ".clirdata/lock").read_text())["pid"] == os.getpid()
    assert f"pid {gone}" in caplog.text and "taking over" in caplog.text
    assert sorted(p.name for p in (tmp_path / ".clirdata").iterdir()) == []  # no `.stale-*` left behind


def test_a_lock_from_another_host_is_never_judged_stale(tmp_path):
    (tmp_path / ".clirdata").mkdir()
    (tmp_path / ".clirdata/lock").write_bytes(lock_bytes(dead_pid(), host="elsewhere.example"))
    with pytest.raises(OutDirError, match="on elsewhere.example"), hold_lock(str(tmp_path)):
        pass


@pytest.mark.parametrize("content", [b"", b"not json", b"[1, 2]", b'{"pid": true, "host": "h", "started": "s"}',
                                     b'{"pid": -1, "host": "h", "started": "s"}', b'{"pid": 0, "host": "h"}',
                                     b'{"pid": 99999999999, "host": "h", "started": "s"}',
                                     b'{"pid": 5, "host": 3, "started": "s"}', b"{" + b" " * 5000 + b"}"])
def test_a_lock_that_is_not_clirdatas_is_refused_not_taken_over(tmp_path, content):
    (tmp_path / ".clirdata").mkdir()
    (tmp_path / ".clirdata/lock").write_bytes(content)
    with pytest.raises(OutDirError, match="not a lock clirdata can read"), hold_lock(str(tmp_path)):
        pass
    assert (tmp_path / ".clirdata/lock").read_bytes() == content


@given(st.binary(max_size=300))
def test_any_lock_bytes_parse_to_a_holder_or_none(raw):
    holder = LockHolder.parse(raw)
    assert holder is None or (isinstance(holder.pid, int) and 0 < holder.pid < 2**31)


def test_a_holder_survives_its_own_bytes():
    me = LockHolder.me("clirdata build erudit --out 'a b'")
    assert LockHolder.parse(me.to_bytes()) == me
    assert not is_stale(me) and not is_stale(None)


def _contend(out_dir: str, barrier, results, hold_s: float) -> None:
    barrier.wait()
    try:
        with hold_lock(out_dir):
            results.put("held")
            time.sleep(hold_s)
    except OutDirError:
        results.put("refused")


@pytest.mark.parametrize("stale_first", [False, True])
def test_of_builds_started_at_once_exactly_one_holds_out(tmp_path, stale_first):
    """Real processes released together: O_EXCL (and the checked takeover of a stale lock) lets one through."""
    context = multiprocessing.get_context("fork")
    for attempt in range(3):
        out = tmp_path / f"out{attempt}"
        (out / ".clirdata").mkdir(parents=True)
        if stale_first:
            (out / ".clirdata/lock").write_bytes(lock_bytes(dead_pid()))
        contenders = 2 if stale_first else 4  # a takeover is safe between two (see runner._set_aside_stale)
        barrier, results = context.Barrier(contenders), context.Queue()
        processes = [context.Process(target=_contend, args=(str(out), barrier, results, 1.0))
                     for _ in range(contenders)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=60)
        outcomes = sorted(results.get(timeout=5) for _ in processes)
        assert outcomes == ["held"] + ["refused"] * (contenders - 1)
        assert not (out / ".clirdata/lock").exists()


# --- OUT itself ------------------------------------------------------------------------------------------

def test_out_under_a_file_or_a_file_is_refused_in_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutDirError, match=r"cannot create .*: .*file is a file, not a folder"):
        ensure_out_dir(str(tmp_path / "file" / "deeper" / "out"))
    with pytest.raises(OutDirError, match="is a file, not a folder: give --out a folder"):
        ensure_out_dir(str(tmp_path / "file"))
    ensure_out_dir(str(tmp_path / "new" / "out"))
    assert (tmp_path / "new" / "out").is_dir()


# --- the ledger and what a build deletes -----------------------------------------------------------------

def a_finished_build(out: Path, user_files: bool = True) -> None:
    """OUT as a finished build leaves it, plus the user's own files when asked."""
    for relpath in ("corpus/fr.parquet", "queries/en.parquet", "qrels/en_fr.parquet", "rejects.parquet"):
        parquet(out / relpath)
    (out / "README.md").write_text("card")
    (out / "manifest.json").write_text("{}")
    write_ledger(str(out), Ledger(frozenset({"corpus/fr.parquet", "queries/en.parquet", "qrels/en_fr.parquet",
                                             "rejects.parquet", "README.md", "manifest.json"}), "complete"))
    if user_files:
        (out / "notes.txt").write_text("mine")
        parquet(out / "corpus/x.parquet", rows=7)


def test_prepare_deletes_what_clirdata_wrote_and_nothing_else(tmp_path):
    out = tmp_path / "out"
    a_finished_build(out)
    (out / f"corpus/fr.parquet.tmp-{uuid.uuid4().hex}").write_bytes(b"half")  # a crashed write
    (out / "manifest.json.tmp").write_bytes(b"{")
    parquet(out / "corpus/fr-00000-of-00002.parquet")  # a shard of a split clirdata owns
    (out / "corpus/fr.parquet.tmp-mine").write_bytes(b"look-alikes of the user's")
    parquet(out / "corpus/fr-final-of-draft1.parquet")
    prepare_out_dir(str(out))
    assert sorted(tree(out)) == [".clirdata/files.json", "corpus/fr-final-of-draft1.parquet",
                                 "corpus/fr.parquet.tmp-mine", "corpus/x.parquet", "notes.txt"]
    ledger = read_ledger(str(out))
    assert ledger.state == "building" and "corpus/x.parquet" in ledger.foreign
    assert "corpus/x.parquet" not in ledger.files


def test_the_manifest_lists_only_what_the_build_wrote(tmp_path):
    out = tmp_path / "out"
    a_finished_build(out)
    prepare_out_dir(str(out))
    parquet(out / "corpus/fr.parquet", rows=3)
    parquet(out / "rejects.parquet", rows=0)
    assert written_files(str(out)) == {"corpus/fr.parquet": 3, "rejects.parquet": 0}
    parquet(out / "corpus/x.parquet", rows=2)  # a foreign file the build rewrote is the build's now
    assert written_files(str(out))["corpus/x.parquet"] == 2


def test_the_seal_records_exactly_what_was_written(tmp_path):
    out = tmp_path / "out"
    a_finished_build(out)
    prepare_out_dir(str(out))
    parquet(out / "corpus/fr.parquet", rows=3)
    manifest = build_manifest(command="test", options={}, inputs={}, stages=[], files=written_files(str(out)))
    manifest["card"] = card_text(title="t", description="d", license_id="other", licence_note="n")
    write_card_and_manifest(str(out), manifest)
    ledger = read_ledger(str(out))
    assert ledger.state == "complete"
    assert ledger.files == {"corpus/fr.parquet", "README.md", "manifest.json"}


def test_a_hostile_ledger_cannot_make_clirdata_delete_other_files(tmp_path, caplog):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "out"
    (out / ".clirdata").mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    (out / "corpus").mkdir()
    (out / "corpus/evil.txt").write_text("mine too")
    hostile = ["../victim.txt", str(victim), "notes.txt", "corpus/evil.txt", "corpus/../../victim.txt", "", 7]
    (out / ".clirdata/files.json").write_text(json.dumps({"files": hostile}))
    with caplog.at_level(logging.WARNING, logger="clirdata"):
        prepare_out_dir(str(out))
    assert victim.read_text() == "keep me" and (out / "notes.txt").exists() and (out / "corpus/evil.txt").exists()
    assert "ignored 7 entries" in caplog.text


@pytest.mark.parametrize("content", [b"{", b'{"files": "corpus/fr.parquet"}', b'{"files": [], "foreign": {"a": [1]}}',
                                     b"\xff\xfe"])
def test_an_unreadable_ledger_deletes_nothing(tmp_path, content, caplog):
    out = tmp_path / "out"
    a_finished_build(out)
    (out / ".clirdata/files.json").write_bytes(content)
    with pytest.raises(LedgerError):
        read_ledger(str(out))
    with caplog.at_level(logging.WARNING, logger="clirdata"):
        prepare_out_dir(str(out))
    assert (out / "corpus/fr.parquet").exists() and (out / "manifest.json").exists()
    assert "unreadable" in caplog.text


def test_a_ledger_over_its_size_limit_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr(manifest_module, "MAX_LEDGER_BYTES", 64)
    out = tmp_path / "out"
    write_ledger(str(out), Ledger(frozenset(f"corpus/s{i}.parquet" for i in range(10))))
    with pytest.raises(LedgerError, match="larger than 64 bytes"):
        read_ledger(str(out))


# --- the claim -------------------------------------------------------------------------------------------

PLANNED = ["corpus/fr.parquet", "queries/en.parquet", "qrels/en_fr.parquet", "rejects.parquet"]


def test_a_folder_clirdata_did_not_write_is_refused_unless_overwrite(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutDirError, match="not empty and was not written by clirdata.*--overwrite"):
        with claim_out_dir(str(out), PLANNED):
            pass
    assert tree(out) == {"notes.txt": b"mine"} and not (out / ".clirdata").exists()
    with claim_out_dir(str(out), PLANNED, overwrite=True):
        assert read_ledger(str(out)).files == {*PLANNED, "README.md", "manifest.json"}
    assert not (out / ".clirdata/lock").exists()


def test_a_planned_path_holding_a_users_file_is_refused(tmp_path):
    out = tmp_path / "out"
    a_finished_build(out, user_files=False)
    parquet(out / "corpus/de.parquet")  # the user's, where the next build would write
    with pytest.raises(OutDirError, match=r"corpus/de.parquet would be replaced but clirdata did not write it"):
        with claim_out_dir(str(out), [*PLANNED, "corpus/de.parquet"]):
            pass
    with claim_out_dir(str(out), PLANNED):  # a build that does not write there runs
        pass


def test_an_empty_or_clirdata_only_folder_needs_no_overwrite(tmp_path):
    out = tmp_path / "out"
    (out / ".clirdata/oai").mkdir(parents=True)  # a harvest's saved pages, and nothing else
    with claim_out_dir(str(out), PLANNED):
        pass
    with claim_out_dir(str(tmp_path / "brand-new"), PLANNED):
        assert (tmp_path / "brand-new/.clirdata/lock").exists()


def test_append_takes_the_lock_and_records_its_files(tmp_path):
    out = tmp_path / "out"
    a_finished_build(out)
    with claim_out_dir(str(out), ["synthetic_queries/en.parquet"], append=True):
        ledger = read_ledger(str(out))
        assert "synthetic_queries/en.parquet" in ledger.files and "corpus/fr.parquet" in ledger.files
        assert set(ledger.foreign) == {"corpus/x.parquet"}
        parquet(out / "synthetic_queries/en.parquet", rows=2)
        assert set(written_files(str(out))) == {"corpus/fr.parquet", "queries/en.parquet", "qrels/en_fr.parquet",
                                                "rejects.parquet", "synthetic_queries/en.parquet"}


# --- a remote OUT (Beam FileSystems without folders or exclusive create) ---------------------------------

class _Upload(io.BytesIO):
    def __init__(self, store: dict, path: str):
        super().__init__()
        self._store, self._path = store, path

    def close(self) -> None:
        if not self.closed:
            self._store[self._path] = (self.getvalue(), time.time())
        super().close()


class MemoryFileSystem(FileSystem):
    """An object store in memory, reached as memtest://bucket/...: no folders, no create-if-absent."""

    objects: dict[str, tuple[bytes, float]] = {}

    @classmethod
    def scheme(cls) -> str:
        return "memtest"

    def join(self, base, *paths):
        return "/".join([base.rstrip("/"), *(p.strip("/") for p in paths)])

    def split(self, path):
        head, _, tail = path.rpartition("/")
        return head, tail

    def mkdirs(self, path):
        pass

    def has_dirs(self):
        return False

    def _list(self, dir_or_prefix):
        for path in sorted(self.objects):
            if path.startswith(dir_or_prefix):
                yield self.metadata(path)

    def create(self, path, mime_type="application/octet-stream", compression_type=None):
        return _Upload(self.objects, path)

    def open(self, path, mime_type="application/octet-stream", compression_type=None):
        if path not in self.objects:
            raise BeamIOError(f"no such object: {path}", {path: FileNotFoundError(path)})
        return io.BytesIO(self.objects[path][0])

    def copy(self, sources, destinations):
        for source, destination in zip(sources, destinations, strict=True):
            self.objects[destination] = self.objects[source]

    def rename(self, sources, destinations):
        for source, destination in zip(sources, destinations, strict=True):
            self.objects[destination] = self.objects.pop(source)

    def exists(self, path):
        return path in self.objects

    def size(self, path):
        return len(self.objects[path][0])

    def last_updated(self, path):
        return self.objects[path][1]

    def metadata(self, path):
        data, updated = self.objects[path]
        return FileMetadata(path, len(data), updated)

    def delete(self, paths):
        for path in paths:
            self.objects.pop(path)


@pytest.fixture
def bucket():
    MemoryFileSystem.objects.clear()
    yield "memtest://bucket/out"
    MemoryFileSystem.objects.clear()


def remote_put(path: str, data: bytes) -> None:
    with FileSystems.create(path) as handle:
        handle.write(data)


def test_a_remote_lock_is_written_read_back_and_removed(bucket):
    with hold_lock(bucket, command="c"):
        holder = LockHolder.parse(MemoryFileSystem.objects[f"{bucket}/.clirdata/lock"][0])
        assert holder.pid == os.getpid() and holder.command == "c"
        with pytest.raises(OutDirError, match=f"pid {os.getpid()}"), hold_lock(bucket):
            pass
    assert f"{bucket}/.clirdata/lock" not in MemoryFileSystem.objects


def test_a_remote_stale_lock_is_taken_over(bucket, caplog):
    remote_put(f"{bucket}/.clirdata/lock", lock_bytes(dead_pid()))
    with caplog.at_level(logging.WARNING, logger="clirdata"), hold_lock(bucket):
        pass
    assert "taking over" in caplog.text and not MemoryFileSystem.objects


def test_a_remote_out_keeps_the_users_files(bucket):
    for relpath in ("corpus/fr.parquet", "corpus/x.parquet", "notes.txt", "manifest.json"):
        buffer = io.BytesIO()
        pq.write_table(pa.table({"_id": ["1"]}), buffer)
        remote_put(f"{bucket}/{relpath}", buffer.getvalue())
    with pytest.raises(OutDirError, match="not written by clirdata"), claim_out_dir(bucket, PLANNED):
        pass
    write_ledger(bucket, Ledger(frozenset({"corpus/fr.parquet", "manifest.json"}), "complete"))
    with claim_out_dir(bucket, PLANNED):
        prepare_out_dir(bucket)
        remaining = sorted(path.removeprefix(bucket + "/") for path in MemoryFileSystem.objects)
        assert remaining == [".clirdata/files.json", ".clirdata/lock", "corpus/x.parquet", "notes.txt"]
        assert written_files(bucket) == {}  # corpus/x.parquet is the user's
