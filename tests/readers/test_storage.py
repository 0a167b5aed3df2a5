"""readers.storage: the local storage globs as Beam's does (checked against Beam's own on the same tree),
remote URIs go to the registered storage or are refused, and nothing below pipelines imports Beam."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from clirdata.pipelines.storage import BeamStorage
from clirdata.readers import storage
from clirdata.readers.storage import LocalStorage, NoStorage

PATTERNS = ["{root}/**", "{root}/*", "{root}/*.xml", "{root}/sub/*.xml", "{root}/**.xml", "{root}/a?.xml",
            "{root}/[ab]1.xml", "{root}/a1.xml", "{root}/missing.xml", "{root}/nothing/**", "{root}/sub/",
            "{root}/c-?????-of-?????.parquet"]


@pytest.fixture()
def tree(tmp_path):
    for relpath in ("a1.xml", "b1.xml", "a1.xml.gz", ".hidden.xml", "sub/c.xml", "sub/deep/d.xml", "sub/.e.xml",
                    "c-00000-of-00002.parquet", "c-0000-of-00002.parquet", "notes.txt"):
        path = tmp_path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(relpath.encode() * 3)
    os.symlink(tmp_path / "gone.xml", tmp_path / "dangling.xml")
    os.symlink(tmp_path / "sub", tmp_path / "linked")  # a folder link is not followed, as in Beam
    return tmp_path


@pytest.mark.parametrize("pattern", PATTERNS)
def test_local_matches_what_beams_filesystems_match(tree, pattern):
    pattern = pattern.format(root=tree)
    local = LocalStorage().match(pattern)
    assert local == BeamStorage().match(pattern)
    assert all(info.size == os.path.getsize(info.path) for info in local)


def test_match_by_hand(tree):
    names = lambda pattern: [os.path.relpath(i.path, tree) for i in LocalStorage().match(f"{tree}/{pattern}")]  # noqa: E731
    assert names("*.xml") == [".hidden.xml", "a1.xml", "b1.xml"]  # no dangling link, no folder
    assert names("**.xml") == [".hidden.xml", "a1.xml", "b1.xml", "sub/.e.xml", "sub/c.xml", "sub/deep/d.xml"]
    assert names("[!a]1.xml") == ["b1.xml"]
    assert names("sub") == []  # a folder is not a file


def test_relative_patterns_give_relative_paths(tree, monkeypatch):
    monkeypatch.chdir(tree)
    assert [i.path for i in LocalStorage().match("*.txt")] == ["notes.txt"]
    assert [i.path for i in LocalStorage().match("sub/*.xml")] == ["sub/.e.xml", "sub/c.xml"]


def test_create_rename_open_and_file_uris(tmp_path):
    local = LocalStorage()
    temporary, final = f"file://{tmp_path}/new/page.tmp", f"{tmp_path}/new/page.xml"
    with local.create(temporary) as handle:  # makes the folder
        handle.write(b"<page/>")
    local.rename(temporary, final)
    assert not local.exists(temporary) and local.exists(f"file://{final}")
    with local.open(final) as handle:
        assert handle.read() == b"<page/>"
    assert storage.size_of(final) == 7 and storage.size_of(f"{tmp_path}/none") is None


def test_gz_is_read_as_stored(tmp_path):
    import gzip
    (tmp_path / "x.xml.gz").write_bytes(gzip.compress(b"<x/>"))
    for backend in (LocalStorage(), BeamStorage()):
        with backend.open(f"{tmp_path}/x.xml.gz") as handle:
            assert handle.read(2) == b"\x1f\x8b"  # never decompressed on the way


def test_a_remote_uri_without_a_registered_storage_is_refused(monkeypatch):
    monkeypatch.setattr(storage, "_remote", None)
    with pytest.raises(NoStorage, match=r"gs://bucket/x.xml: no filesystem for gs:// here"):
        storage.open_stored("gs://bucket/x.xml")
    assert storage.storage_for("file:///tmp/x") is storage.LOCAL and storage.storage_for("/tmp/x") is storage.LOCAL


def test_importing_the_pipelines_registers_beams_filesystems():
    assert isinstance(storage.storage_for("memtest://bucket/x"), BeamStorage)


def test_nothing_below_the_pipelines_imports_beam():
    """The house rule, checked: every module of the rooms below pipelines, imported in a fresh interpreter."""
    import clirdata
    root = os.path.dirname(clirdata.__file__)
    modules = sorted(f"clirdata.{folder}.{name[:-3]}" for folder in ("schemas", "readers", "extractors", "checks",
                                                                     "align", "synthesis", "hub", "evaluation",
                                                                     "sources")
                     for name in os.listdir(os.path.join(root, folder)) if name.endswith(".py"))
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n    importlib.import_module(name)\n"
            "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith(('apache_beam', 'click'))}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert len(modules) > 30
    assert result.stdout.strip() == "[]"
