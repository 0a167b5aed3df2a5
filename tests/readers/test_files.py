"""Reading inputs: every read bounded while it streams, every bad input one Reject, the good ones beside it kept.

Hostile inputs are built here in tmp_path, small but of the right shape: a gzip bomb, a tar.gz whose
member is far over the limit, a tar whose header lies about a size, zips whose headers lie, an
encrypted and a Deflate64 member, truncated tar.gz/.bz2/.xz, link, device and FIFO members.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import hashlib
import io
import itertools
import json
import lzma
import random
import stat
import struct
import subprocess
import sys
import tarfile
import tempfile
import tracemalloc
import zipfile
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clirdata.align.keywords import PairingOptions
from clirdata.pipelines.build import Build, run_build
from clirdata.pipelines.runner import make_options
from clirdata.readers.files import (
    InputRef,
    TooLarge,
    fingerprint_part,
    fingerprint_summary,
    list_inputs,
    read_bounded,
    read_input,
)
from clirdata.schemas import RawItem, Reject
from clirdata.sources.erudit import EruditSource
from tests import handmade

LIMIT = 1_000_000
MIB = 1 << 20
BOMB_BYTES = 50 * MIB
REASONS = {"too-large", "unreadable", "corrupt-archive", "corrupt-data", "encrypted", "unsupported-compression",
           "not-a-file"}
GOOD_A = b"<article idproprio='a'/>"
GOOD_C = b"<article idproprio='c'/>"


# ---- builders of inputs -----------------------------------------------------------------------------------------

class Zeros(io.RawIOBase):
    """`size` zero bytes as a stream, so that writing a 50 MB member never holds 50 MB."""

    def __init__(self, size: int):
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


def compressed_zeros(path: Path, size: int = BOMB_BYTES) -> Path:
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[path.suffix]
    with opener(path, "wb") as out:
        for _ in range(size // MIB):
            out.write(bytes(MIB))
    return path


def tar_info(name: str, size: int = 0, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.type, info.linkname, info.mtime = size, kind, linkname, 0
    return info


def write_tar(path: Path, members: list[tuple[tarfile.TarInfo, object]], mode: str = "w", **options) -> Path:
    """A tar of (header, bytes or stream) members, in the order given."""
    with tarfile.open(path, mode, **options) as archive:
        for info, content in members:
            stream = io.BytesIO(content) if isinstance(content, bytes) else content
            archive.addfile(info, stream if info.isreg() else None)
    return path


def regular(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    return tar_info(name, len(data)), data


def zip_of(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


_LOCAL = {"needs": (4, "<H"), "flag": (6, "<H"), "method": (8, "<H"), "size": (22, "<I")}
_CENTRAL = {"needs": (6, "<H"), "flag": (8, "<H"), "method": (10, "<H"), "size": (24, "<I")}


def patch_zip(path: Path, name: str, **fields: int) -> Path:
    """Rewrite fields of one member in both its local header and its central directory entry."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        places = [(archive.getinfo(name).header_offset, _LOCAL)]
    start = data.find(b"PK\x01\x02")
    while start != -1:
        name_length = struct.unpack_from("<H", data, start + 28)[0]
        if data[start + 46:start + 46 + name_length] == name.encode():
            places.append((start, _CENTRAL))
        start = data.find(b"PK\x01\x02", start + 4)
    assert len(places) == 2
    for base, layout in places:
        for field, value in fields.items():
            offset, fmt = layout[field]
            struct.pack_into(fmt, data, base + offset, value)
    path.write_bytes(bytes(data))
    return path


def zip_member_of_zeros(path: Path, name: str, method: int, size: int = BOMB_BYTES) -> Path:
    """A zip of a.xml, `name` (`size` zeros, written in pieces, compressed by `method`) and c.xml."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.xml", GOOD_A)
        info = zipfile.ZipInfo(name)
        info.compress_type = method
        with archive.open(info, "w") as member:
            for _ in range(size // MIB):
                member.write(bytes(MIB))
        archive.writestr("c.xml", GOOD_C)
    return path


# ---- helpers --------------------------------------------------------------------------------------------------

def read_all(location: Path | str, **limits) -> list[RawItem | Reject]:
    return [result for ref in list_inputs(str(location)) for result in read_input(ref, "t", **limits)]


def outline(results: list[RawItem | Reject]) -> list[tuple[str, str]]:
    """(what after the archive's '!', or the file name; 'ok' or the reject reason) for each result."""
    def name(uri: str) -> str:
        return uri.split("!", 1)[1] if "!" in uri else Path(uri).name
    return [(name(r.origin.uri), "ok") if isinstance(r, RawItem) else (name(r.source_uri), r.reason)
            for r in results]


def details(results: list[RawItem | Reject]) -> list[str]:
    return [r.detail for r in results if isinstance(r, Reject)]


def traced_peak(work) -> tuple[object, int]:
    """What `work()` returns and the peak of memory the interpreter allocated meanwhile (bytes)."""
    tracemalloc.start()
    try:
        result = work()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ---- listing --------------------------------------------------------------------------------------------------

def test_compressed_xml_files_are_inputs_and_other_names_are_not(tmp_path):
    for name in ("a.xml", "b.xml.gz", "c.xml.bz2", "d.xml.xz", "e.tar.gz", "f.zip", "notes.txt", "g.gz", "h.txt.gz"):
        (tmp_path / name).write_bytes(b"")
    refs = list_inputs(str(tmp_path))
    assert [(Path(r.uri).name, r.archive) for r in refs] == [
        ("a.xml", False), ("b.xml.gz", False), ("c.xml.bz2", False), ("d.xml.xz", False),
        ("e.tar.gz", True), ("f.zip", True)]
    assert list_inputs(str(tmp_path / "b.xml.gz")) == [InputRef(str(tmp_path / "b.xml.gz"))]


# ---- single files ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"), (lzma.open, ".xz")])
def test_a_compressed_file_is_read_decompressed(tmp_path, opener, suffix):
    path = tmp_path / f"a.xml{suffix}"
    with opener(path, "wb") as out:
        out.write(GOOD_A)
    (result,) = read_all(path)
    assert result == RawItem(result.origin, GOOD_A) and result.origin.uri == str(path)


@pytest.mark.parametrize("suffix,bound_mib", [(".gz", 3), (".bz2", 3), (".xz", 12)])  # xz -6 keeps an 8 MiB window
def test_a_compression_bomb_is_rejected_while_it_streams(tmp_path, suffix, bound_mib):
    bomb = compressed_zeros(tmp_path / f"bomb.xml{suffix}")
    assert bomb.stat().st_size < 60_000  # 50 MiB of zeros made small
    results, peak = traced_peak(lambda: read_all(bomb, max_bytes=LIMIT))
    assert outline(results) == [("bomb.xml" + suffix, "too-large")]
    assert details(results) == ["more than 1000000 bytes once decompressed (the limit)"]
    assert peak < bound_mib * MIB, peak  # 1 MB held at most, never the 50 MiB


def test_a_plain_file_over_the_limit_says_its_real_size(tmp_path):
    path = tmp_path / "big.xml"
    path.write_bytes(b"x" * 1_500_000)
    results, peak = traced_peak(lambda: read_all(path, max_bytes=LIMIT))
    assert outline(results) == [("big.xml", "too-large")]
    assert details(results) == ["1500000 bytes, over the limit of 1000000 bytes"]
    assert peak < 3 * MIB, peak


def test_a_file_exactly_at_the_limit_is_read(tmp_path):
    path = tmp_path / "edge.xml"
    path.write_bytes(b"y" * LIMIT)
    (result,) = read_all(path, max_bytes=LIMIT)
    assert isinstance(result, RawItem) and len(result.data) == LIMIT


def test_broken_compressed_files_are_corrupt_data(tmp_path):
    whole = gzip.compress(b"<article/>" * 1000, mtime=0)
    (tmp_path / "cut.xml.gz").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "junk.xml.bz2").write_bytes(b"BZh9 this is not bzip2 data")
    (tmp_path / "junk.xml.xz").write_bytes(b"\xfd7zXZ\x00 nor is this xz")
    results = read_all(tmp_path)
    assert outline(results) == [("cut.xml.gz", "corrupt-data"), ("junk.xml.bz2", "corrupt-data"),
                                ("junk.xml.xz", "corrupt-data")]
    assert details(results)[0] == ("EOFError: Compressed file ended before the end-of-stream marker was reached")
    assert details(results)[1] == "OSError: Invalid data stream"
    assert details(results)[2].startswith("LZMAError: ")


def test_a_missing_file_is_unreadable():
    (result,) = read_input(InputRef("/nonexistent/clirdata/a.xml"), "t")
    assert (result.reason, result.stage) == ("unreadable", "read")
    assert result.detail == "FileNotFoundError: [Errno 2] No such file or directory: '/nonexistent/clirdata/a.xml'"


# ---- tar ------------------------------------------------------------------------------------------------------

def test_a_tar_member_far_over_the_limit_is_rejected_and_the_others_come_out(tmp_path):
    tar = write_tar(tmp_path / "big.tar.gz", [regular("a.xml", GOOD_A), (tar_info("big.xml", BOMB_BYTES),
                                              Zeros(BOMB_BYTES)), regular("c.xml", GOOD_C)], "w:gz")
    assert tar.stat().st_size < 100_000
    results, peak = traced_peak(lambda: read_all(tar, max_bytes=LIMIT))
    assert outline(results) == [("a.xml", "ok"), ("big.xml", "too-large"), ("c.xml", "ok")]
    assert details(results) == [f"declares {BOMB_BYTES} bytes, over the limit of 1000000"]
    assert [r.data for r in results if isinstance(r, RawItem)] == [GOOD_A, GOOD_C]
    assert peak < 4 * MIB, peak


def lying_tar(path: Path) -> Path:
    """A plain tar: a.xml, then a header that declares 1 TiB of data, and no data at all."""
    huge = tar_info("huge.xml", 1 << 40)
    path.write_bytes(regular_bytes("a.xml", GOOD_A) + huge.tobuf(tarfile.PAX_FORMAT) + bytes(1024))
    return path


def regular_bytes(name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
        info, content = regular(name, data)
        archive.addfile(info, io.BytesIO(content))
    return out.getvalue()[: 512 + 512]  # the header and the one block of data, without the end-of-archive blocks


def test_a_tar_header_that_lies_about_size_ends_in_a_reject_not_a_hang(tmp_path):
    results = read_all(lying_tar(tmp_path / "lying.tar"), max_bytes=LIMIT)
    assert outline(results) == [("a.xml", "ok"), ("huge.xml", "too-large"), ("lying.tar", "corrupt-archive")]
    assert details(results) == [f"declares {1 << 40} bytes, over the limit of 1000000",
                                "ReadError: unexpected end of data (after member 'huge.xml'); nothing after it is read"]


def test_tar_headers_of_one_member_are_bounded(tmp_path):
    noisy = tar_info("noisy.xml", len(GOOD_C))
    noisy.pax_headers = {"comment": "x" * (2 * MIB)}  # tarfile would read the whole pax record at once
    tar = write_tar(tmp_path / "pax.tar.gz", [regular("a.xml", GOOD_A), (noisy, GOOD_C)], "w:gz",
                    format=tarfile.PAX_FORMAT)
    results = read_all(tar)
    assert outline(results) == [("a.xml", "ok"), ("pax.tar.gz", "too-large")]
    assert details(results) == ["the headers of one member take more than 1048576 bytes (the limit) (after member "
                                "'a.xml'); nothing after it is read"]


def test_a_tar_is_bounded_by_all_it_decompresses_to(tmp_path):
    members = [regular(f"{name}.xml", bytes(400_000)) for name in "abcd"]
    tar = write_tar(tmp_path / "many.tar.gz", members, "w:gz")
    results = read_all(tar, max_bytes=LIMIT, max_archive_bytes=1_000_000)
    assert outline(results) == [("a.xml", "ok"), ("b.xml", "ok"), ("many.tar.gz", "too-large")]
    assert details(results) == ["decompresses to more than 1000000 bytes (the archive limit) (while reading "
                                "member 'c.xml'); nothing after it is read"]


@pytest.mark.parametrize("mode,suffix", [("w:gz", "tar.gz"), ("w:bz2", "tar.bz2"), ("w:xz", "tar.xz")])
def test_a_truncated_tar_keeps_the_members_before_the_break(tmp_path, mode, suffix):
    noise = random.Random(7).randbytes  # incompressible: the cut lands in the middle of b.xml
    members = [regular(f"{name}.xml", noise(300_000)) for name in "abc"]
    options = {"compresslevel": 1} if mode == "w:bz2" else {}  # 100k blocks, so a.xml is whole before the cut
    tar = write_tar(tmp_path / f"whole.{suffix}", members, mode, **options)
    cut = tmp_path / f"cut.{suffix}"
    cut.write_bytes(tar.read_bytes()[: tar.stat().st_size // 2])
    results = read_all(cut)
    assert outline(results) == [("a.xml", "ok"), (f"cut.{suffix}", "corrupt-archive")]
    assert results[0].data == members[0][1]
    assert "(while reading member 'b.xml'); nothing after it is read" in details(results)[0]


@pytest.mark.parametrize("tail,problem", [(b"not a header".ljust(512, b"!") + bytes(1024), "invalid"),
                                          (regular_bytes("b.xml", GOOD_C)[:100], "truncated")])
def test_a_tar_whose_next_header_is_bad_is_not_a_quiet_end(tmp_path, tail, problem):
    path = tmp_path / "bad.tar"
    path.write_bytes(regular_bytes("a.xml", GOOD_A) + tail)  # tarfile alone would stop there as if at the end
    results = read_all(path)
    assert outline(results) == [("a.xml", "ok"), ("bad.tar", "corrupt-archive")]
    assert details(results) == [f"ReadError: {problem} tar header at byte 1024 (after member 'a.xml'); nothing after "
                                "it is read"]


def test_a_tar_that_is_not_gzip_is_corrupt(tmp_path):
    path = tmp_path / "fake.tar.gz"
    path.write_bytes(b"PK this is no gzip")
    assert outline(read_all(path)) == [("fake.tar.gz", "corrupt-archive")]
    assert details(read_all(path)) == ["BadGzipFile: Not a gzipped file (b'PK'); nothing after it is read"]


def test_link_device_and_fifo_members_are_rejects_and_directories_are_not(tmp_path):
    tar = write_tar(tmp_path / "odd.tar", [
        (tar_info("dump", kind=tarfile.DIRTYPE), None),
        regular("dump/a.xml", GOOD_A),
        (tar_info("dump/soft.xml", kind=tarfile.SYMTYPE, linkname="a.xml"), None),
        (tar_info("dump/hard.xml", kind=tarfile.LNKTYPE, linkname="dump/a.xml"), None),
        (tar_info("dump/chr.xml", kind=tarfile.CHRTYPE), None),
        (tar_info("dump/blk.xml", kind=tarfile.BLKTYPE), None),
        (tar_info("dump/fifo.xml", kind=tarfile.FIFOTYPE), None),
        (tar_info("dump/readme", kind=tarfile.SYMTYPE, linkname="a.xml"), None),  # not an input: no row
    ])
    results = read_all(tar)
    assert outline(results) == [("dump/a.xml", "ok")] + [(f"dump/{n}.xml", "not-a-file")
                                                          for n in ("soft", "hard", "chr", "blk", "fifo")]
    assert details(results) == ["a symbolic link to 'a.xml', not a regular file",
                                "a hard link to 'dump/a.xml', not a regular file",
                                "a character device, not a regular file", "a block device, not a regular file",
                                "a FIFO, not a regular file"]


def test_compressed_members_are_decompressed_with_the_same_bound(tmp_path):
    bomb = compressed_zeros(tmp_path / "bomb.xml.gz", 4 * MIB).read_bytes()
    tar = write_tar(tmp_path / "nested.tar", [regular("a.xml.gz", gzip.compress(GOOD_A)), regular("b.xml.gz", bomb),
                                              regular("c.xml.gz", b"\x1f\x8b not really")])
    results = read_all(tar, max_bytes=LIMIT)
    assert outline(results) == [("a.xml.gz", "ok"), ("b.xml.gz", "too-large"), ("c.xml.gz", "corrupt-data")]
    assert results[0].data == GOOD_A
    assert details(results)[0] == "more than 1000000 bytes once decompressed (the limit)"


def test_what_compressed_members_decompress_to_counts_towards_the_archive_limit(tmp_path):
    packed = gzip.compress(bytes(400_000), mtime=0)  # 400 kB of zeros in under 1 kB
    tar = write_tar(tmp_path / "packed.tar", [regular(f"{name}.xml.gz", packed) for name in "abcd"])
    results = read_all(tar, max_bytes=LIMIT, max_archive_bytes=1_000_000)
    assert outline(results) == [("a.xml.gz", "ok"), ("b.xml.gz", "ok"), ("packed.tar", "too-large")]
    assert details(results) == ["decompresses to more than 1000000 bytes (the archive limit) (while reading member "
                                "'c.xml.gz'); nothing after it is read"]


def test_tar_members_are_streamed_without_keeping_an_index(tmp_path):
    tar = write_tar(tmp_path / "many.tar.gz", [regular(f"m{i:05d}.xml", b"<a/>") for i in range(5000)], "w:gz")
    names, peak = traced_peak(lambda: [r.origin.uri.split("!")[1] for r in read_input(InputRef(str(tar), True), "t")
                                       if r.origin.uri.endswith("0.xml")])
    assert len(names) == 500 and names[:2] == ["m00000.xml", "m00010.xml"]  # archive order
    assert peak < 1 * MIB, peak  # tarfile's own index of 5000 headers alone takes over 2 MiB


# ---- zip ------------------------------------------------------------------------------------------------------

def test_an_encrypted_zip_member_is_rejected_and_the_others_come_out(tmp_path):
    path = zip_of(tmp_path / "enc.zip", {"a.xml": GOOD_A, "b.xml": b"<secret/>", "c.xml": GOOD_C})
    patch_zip(path, "b.xml", flag=0x1)
    results = read_all(path)
    assert outline(results) == [("a.xml", "ok"), ("b.xml", "encrypted"), ("c.xml", "ok")]
    assert details(results) == ["the member is encrypted; clirdata reads no encrypted member"]


def test_a_deflate64_zip_member_is_unsupported(tmp_path):
    path = patch_zip(zip_of(tmp_path / "d64.zip", {"a.xml": GOOD_A, "b.xml": b"<x/>" * 100, "c.xml": GOOD_C}),
                     "b.xml", method=9)
    results = read_all(path)
    assert outline(results) == [("a.xml", "ok"), ("b.xml", "unsupported-compression"), ("c.xml", "ok")]
    assert details(results) == ["compression method 9 (deflate64) is not supported"]


def test_a_zip_member_whose_headers_understate_its_size_fails_its_crc(tmp_path):
    path = zip_member_of_zeros(tmp_path / "lie.zip", "b.xml", zipfile.ZIP_DEFLATED, 20 * MIB)
    patch_zip(path, "b.xml", size=100)  # 20 MiB of zeros that say they are 100 bytes
    results, peak = traced_peak(lambda: read_all(path, max_bytes=LIMIT))
    assert outline(results) == [("a.xml", "ok"), ("b.xml", "corrupt-data"), ("c.xml", "ok")]
    assert details(results) == ["BadZipFile: Bad CRC-32 for file 'b.xml'"]
    assert peak < 2 * MIB, peak


def test_a_zip_member_whose_headers_overstate_its_size_is_too_large(tmp_path):
    path = patch_zip(zip_of(tmp_path / "big.zip", {"a.xml": GOOD_A, "b.xml": b"<x/>"}), "b.xml", size=3 << 30)
    results = read_all(path, max_bytes=LIMIT)
    assert outline(results) == [("a.xml", "ok"), ("b.xml", "too-large")]
    assert details(results) == [f"declares {3 << 30} bytes, over the limit of 1000000"]


def test_a_bzip2_zip_member_bomb_is_decompressed_a_bounded_piece_at_a_time(tmp_path):
    path = zip_member_of_zeros(tmp_path / "bz.zip", "b.xml", zipfile.ZIP_BZIP2)
    assert path.stat().st_size < 2_000  # 50 MiB in a few hundred bytes: zipfile would inflate it in one call
    patch_zip(path, "b.xml", size=1000)
    results, peak = traced_peak(lambda: read_all(path, max_bytes=LIMIT))
    assert outline(results) == [("a.xml", "ok"), ("b.xml", "corrupt-data"), ("c.xml", "ok")]
    assert details(results) == ["BadZipFile: 'b.xml' decompresses to more than the 1000 bytes its entry declares"]
    assert peak < 6 * MIB, peak


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_bzip2_and_lzma_zip_members_read_right(tmp_path, method):
    text = b"".join(b"<p>%d</p>" % i for i in range(50_000))
    path = zip_of(tmp_path / "ok.zip", {"a.xml": text, "b.xml": GOOD_C}, method)
    results = read_all(path)
    assert [r.data for r in results] == [text, GOOD_C]
    corrupt = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        middle = archive.getinfo("a.xml").header_offset + 30 + len("a.xml") + 200
    corrupt[middle:middle + 8] = b"\x00" * 8
    (tmp_path / "bad.zip").write_bytes(bytes(corrupt))
    assert outline(read_all(tmp_path / "bad.zip")) == [("a.xml", "corrupt-data"), ("b.xml", "ok")]


def test_a_zip_symlink_is_not_a_file(tmp_path):
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as archive:
        link = zipfile.ZipInfo("link.xml")
        link.create_system, link.external_attr = 3, (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "a.xml")
        archive.writestr("a.xml", GOOD_A)
    results = read_all(path)
    assert outline(results) == [("a.xml", "ok"), ("link.xml", "not-a-file")]
    assert details(results) == ["a symbolic link, not a regular file"]


def test_a_zip_without_a_central_directory_is_one_reject(tmp_path):
    whole = zip_of(tmp_path / "whole.zip", {"a.xml": GOOD_A}).read_bytes()
    (tmp_path / "cut.zip").write_bytes(whole[:-30])
    (result,) = read_all(tmp_path / "cut.zip")
    assert (result.reason, result.detail) == ("corrupt-archive", "BadZipFile: File is not a zip file")


def test_a_zip_that_needs_a_newer_zip_version_is_one_reject(tmp_path):
    path = patch_zip(zip_of(tmp_path / "new.zip", {"a.xml": GOOD_A}), "a.xml", needs=72)  # "version 7.2 to extract"
    (result,) = read_all(path)
    assert (result.reason, result.detail) == ("corrupt-archive", "NotImplementedError: zip file version 7.2")


def test_a_zip_is_bounded_by_all_it_decompresses_to(tmp_path):
    path = zip_of(tmp_path / "many.zip", {f"{n}.xml": bytes(400_000) for n in "abcd"})
    results = read_all(path, max_bytes=LIMIT, max_archive_bytes=1_000_000)
    assert outline(results) == [("a.xml", "ok"), ("b.xml", "ok"), ("many.zip", "too-large")]
    assert details(results) == ["decompresses to more than 1000000 bytes (the archive limit) (while reading member "
                                "'c.xml'); it and the members after it are not read"]


# ---- fuzz: whatever the bytes, read_input yields items or rejects and never raises -----------------------------

@functools.cache
def seeds() -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        members = [regular("a.xml", GOOD_A), regular("b.xml", b"<b>" * 300), regular("c.xml.gz", gzip.compress(GOOD_C))]
        made = {suffix: write_tar(base / f"s.{suffix}", members, mode).read_bytes()
                for suffix, mode in (("tar", "w"), ("tar.gz", "w:gz"), ("tar.bz2", "w:bz2"), ("tar.xz", "w:xz"))}
        for method, suffix in ((zipfile.ZIP_DEFLATED, "zip"), (zipfile.ZIP_BZIP2, "bz2.zip"),
                               (zipfile.ZIP_LZMA, "xz.zip")):
            made[suffix] = zip_of(base / "s.zip", {"a.xml": GOOD_A, "b.xml": b"<b>" * 300}, method).read_bytes()
        made["xml.gz"] = gzip.compress(b"<b>" * 300, mtime=0)
        return made


@pytest.mark.timeout(300)
@settings(max_examples=max(10, settings().max_examples // 2))
@given(kind=st.sampled_from(sorted(seeds())), edits=st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)),
                                                           max_size=6), cut=st.integers(0, 1 << 16))
def test_mutated_inputs_give_items_or_rejects_and_never_raise(kind, edits, cut):
    data = bytearray(seeds()[kind])
    for position, value in edits:
        data[position % len(data)] = value
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz.{kind}"
        path.write_bytes(bytes(data[: max(1, len(data) - cut % 64)]))
        results = read_all(path, max_bytes=LIMIT, max_archive_bytes=10 * MIB)
    assert all(isinstance(r, RawItem) or (r.reason in REASONS and r.stage == "read") for r in results)
    assert all(len(r.data) <= LIMIT for r in results if isinstance(r, RawItem))


# ---- fingerprint and read_bounded -----------------------------------------------------------------------------

def line_digest(line: str) -> int:
    return int.from_bytes(hashlib.sha256(line.encode()).digest(), "big")


def summed(parts) -> dict[str, int]:
    """Key-wise sums of fingerprint parts, as the workers' CombinePerKey makes them."""
    total: Counter[str] = Counter()
    for part in parts:
        total.update(part)
    return dict(total)


def test_fingerprint_streams_the_stored_bytes(tmp_path):
    plain = tmp_path / "a.xml"
    plain.write_bytes(bytes(range(256)) * 40_000)  # 10 MB
    packed = compressed_zeros(tmp_path / "b.xml.gz", 2 * MIB)
    refs = list_inputs(str(tmp_path))
    assert [ref.uri for ref in refs] == [str(plain), str(packed)]
    expected = [{"files": 1, "bytes": p.stat().st_size,
                 "digest": line_digest(f"{p}\t{p.stat().st_size}\t{hashlib.sha256(p.read_bytes()).hexdigest()}")}
                for p in (plain, packed)]
    parts, peak = traced_peak(lambda: [fingerprint_part(ref.uri) for ref in refs])
    assert parts == expected  # the .gz is fingerprinted as stored (its size as stored), not as it decompresses
    assert peak < 3 * MIB, peak
    size = plain.stat().st_size + packed.stat().st_size
    assert fingerprint_summary(summed(parts)) == {
        "files": 2, "bytes": size, "digest": format(sum(p["digest"] for p in expected) % (1 << 256), "064x")}


def test_fingerprint_of_an_unreadable_input_does_not_stop_the_build(tmp_path):
    missing = str(tmp_path / "gone.xml")
    part = fingerprint_part(missing)
    assert part == {"files": 1, "bytes": 0, "digest": line_digest(f"{missing}\tunreadable\tFileNotFoundError")}
    present = tmp_path / "here.xml"
    present.write_bytes(GOOD_A)
    summary = fingerprint_summary(summed([part, fingerprint_part(str(present))]))
    assert (summary["files"], summary["bytes"], len(summary["digest"])) == (2, len(GOOD_A), 64)


def test_fingerprint_summary_of_nothing_is_well_formed():
    assert fingerprint_summary({}) == {"files": 0, "bytes": 0, "digest": "0" * 64}


def fingerprinted_folder(folder: Path) -> list[str]:
    folder.mkdir()
    for name, data in (("a.xml", GOOD_A), ("b.xml", b"<article idproprio='b'/>"), ("c.xml", GOOD_C),
                       ("d.xml.gz", gzip.compress(GOOD_A, mtime=0))):
        (folder / name).write_bytes(data)
    return [ref.uri for ref in list_inputs(str(folder))]


def test_fingerprint_parts_sum_to_the_same_summary_in_any_order_and_grouping(tmp_path):
    uris = fingerprinted_folder(tmp_path / "in")
    parts = [fingerprint_part(uri) for uri in uris]
    whole = fingerprint_summary(summed(parts))
    for order in itertools.permutations(parts):
        assert fingerprint_summary(summed(order)) == whole
    # workers each sum their own parts, then those sums are summed: the same summary
    assert fingerprint_summary(summed([summed(parts[:1]), summed(parts[1:3]), summed(parts[3:])])) == whole
    assert fingerprint_summary(summed([summed(parts[::2]), summed(parts[1::2])])) == whole
    # sums are kept whole and reduced once, at the end: a sum past 2**256 wraps as the summary's modulus says
    assert whole["digest"] == format(sum(p["digest"] for p in parts) % (1 << 256), "064x")
    assert fingerprint_summary({"files": 2, "bytes": 3, "digest": (1 << 256) + 5})["digest"] == "0" * 63 + "5"


def test_fingerprint_changes_when_one_byte_or_one_name_changes(tmp_path):
    uris = fingerprinted_folder(tmp_path / "in")
    before = fingerprint_summary(summed(fingerprint_part(uri) for uri in uris))
    b = tmp_path / "in" / "b.xml"
    original = b.read_bytes()
    b.write_bytes(original.replace(b"'b'", b"'B'"))  # one byte, same size
    changed = fingerprint_summary(summed(fingerprint_part(uri) for uri in uris))
    assert (changed["files"], changed["bytes"]) == (before["files"], before["bytes"])
    assert changed["digest"] != before["digest"]
    b.write_bytes(original)
    assert fingerprint_summary(summed(fingerprint_part(uri) for uri in uris)) == before  # back as it was
    b.rename(tmp_path / "in" / "e.xml")  # the same bytes under another name
    renamed = [ref.uri for ref in list_inputs(str(tmp_path / "in"))]
    after = fingerprint_summary(summed(fingerprint_part(uri) for uri in renamed))
    assert (after["files"], after["bytes"]) == (before["files"], before["bytes"])
    assert after["digest"] != before["digest"]


def test_read_bounded_keeps_its_contract(tmp_path):
    path = tmp_path / "page.html.gz"
    stored = gzip.compress(b"<html/>" * 1000, mtime=0)
    path.write_bytes(stored)
    assert read_bounded(str(path), len(stored)) == stored  # never decompressed
    with pytest.raises(TooLarge, match=f"more than {len(stored) - 1} bytes"):
        read_bounded(str(path), len(stored) - 1)


# ---- peak memory of the hostile cases, as the operating system sees it -------------------------------------------

PEAK_RSS = """
import json, resource, sys
from clirdata.readers.files import list_inputs, read_input
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
outcome = {}
for path in sys.argv[1:]:
    results = [r for ref in list_inputs(path) for r in read_input(ref, "t", max_bytes=1_000_000)]
    outcome[path.rsplit("/", 1)[1]] = [getattr(r, "reason", "ok") for r in results]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"grew_kib": peak - before, "outcome": outcome}))
"""


def test_hostile_inputs_stay_small_in_resident_memory(tmp_path):
    hostile = [
        compressed_zeros(tmp_path / "bomb.xml.gz"), compressed_zeros(tmp_path / "bomb.xml.bz2"),
        write_tar(tmp_path / "big.tar.gz", [regular("a.xml", GOOD_A), (tar_info("big.xml", BOMB_BYTES),
                                            Zeros(BOMB_BYTES))], "w:gz"),
        lying_tar(tmp_path / "lying.tar"),
        patch_zip(zip_member_of_zeros(tmp_path / "bz.zip", "b.xml", zipfile.ZIP_BZIP2), "b.xml", size=1000),
        patch_zip(zip_member_of_zeros(tmp_path / "lie.zip", "b.xml", zipfile.ZIP_DEFLATED), "b.xml", size=100),
    ]
    run = subprocess.run([sys.executable, "-c", PEAK_RSS, *map(str, hostile)], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["outcome"] == {
        "bomb.xml.gz": ["too-large"], "bomb.xml.bz2": ["too-large"], "big.tar.gz": ["ok", "too-large"],
        "lying.tar": ["ok", "too-large", "corrupt-archive"], "bz.zip": ["ok", "corrupt-data", "ok"],
        "lie.zip": ["ok", "corrupt-data", "ok"]}
    assert report["grew_kib"] < 64 * 1024, report  # the bombs hold 50 MiB each when read whole


# ---- end to end through the real Beam pipeline ---------------------------------------------------------------

def build(location: Path, out: Path) -> dict:
    source = EruditSource(out_dir=str(out), pairing=PairingOptions("en", "fr", "keywords", 3), location=str(location))
    return run_build(Build(source, str(out)), source.prepare(), make_options([], None), "test")


def rows(out: Path, relpath: str) -> list[dict]:
    return pq.read_table(out / relpath).to_pylist()


def test_a_folder_with_a_corrupt_archive_still_builds(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for source_id in ("a1", "a2", "a3"):
        (folder / f"{source_id}.xml").write_bytes(handmade.article_xml(source_id))
    (folder / "a4.xml.gz").write_bytes(gzip.compress(handmade.article_xml("a4"), mtime=0))
    (folder / "a5.xml.xz").write_bytes(lzma.compress(handmade.article_xml("a5")))
    zip_of(folder / "more.zip", {"dump/a6.xml": handmade.article_xml("a6")})
    whole = write_tar(tmp_path / "whole.tar.gz", [regular("x.xml", random.Random(1).randbytes(100_000))],
                      "w:gz").read_bytes()
    (folder / "broken.tar.gz").write_bytes(whole[: len(whole) // 2])
    out = tmp_path / "out"
    manifest = build(folder, out)
    stages = {s["name"]: s for s in manifest["stages"]}
    assert all(s["in"] == s["out"] + s["rejected"] for s in manifest["stages"])
    assert (stages["read"]["in"], stages["read"]["out"], stages["read"]["rejected"]) == (7, 6, 1)
    assert (stages["extract"]["out"], stages["extract"]["rejected"]) == (6, 0)
    rejects = sorted((Path(r["source_uri"]).name, r["stage"], r["reason"], r["detail"])
                     for r in rows(out, "rejects.parquet"))
    assert rejects[0][:3] == ("a4.xml.gz", "pair", "no-fr-document")
    assert rejects[1] == ("broken.tar.gz", "read", "corrupt-archive", "EOFError: Compressed file ended before the "
                          "end-of-stream marker was reached (while reading member 'x.xml'); nothing after it is read")
    assert len(rejects) == 2
    assert manifest["files"]["qrels/en_fr.parquet"] == 10 and manifest["files"]["queries/en.parquet"] == 7
    assert {r["source_id"] for r in rows(out, "corpus/fr.parquet")} == handmade.EXPECTED_FR_DOCS


def test_member_order_does_not_change_the_output_bytes(tmp_path):
    articles = [regular(f"dump/{sid}.xml", handmade.article_xml(sid)) for sid in handmade.ARTICLES]
    articles.append(regular("dump/copy.xml", handmade.article_xml("a1")))  # a duplicate id: which one wins?
    outs = []
    for name, order in (("forward", articles), ("backward", articles[::-1])):
        (tmp_path / name).mkdir()
        write_tar(tmp_path / name / "dump.tar.gz", order, "w:gz")
        outs.append(tmp_path / f"out-{name}")
        build(tmp_path / name / "dump.tar.gz", outs[-1])
    forward, backward = outs
    data_files = sorted(p.relative_to(forward) for p in forward.rglob("*.parquet") if p.name != "rejects.parquet")
    assert len(data_files) == 5
    for relpath in data_files:
        assert (forward / relpath).read_bytes() == (backward / relpath).read_bytes(), relpath

    def reasons(out: Path) -> list[tuple[str, str]]:
        return sorted((r["source_uri"].split("!")[1], r["reason"]) for r in rows(out, "rejects.parquet"))
    assert reasons(forward) == reasons(backward) == [("dump/a4.xml", "no-fr-document"),
                                                     ("dump/copy.xml", "duplicate-id")]

