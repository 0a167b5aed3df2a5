"""Reading inputs: a directory, a glob, a zip or a tar of files, or single .gz/.bz2/.xz files, locally or on any
filesystem `readers.storage` reaches.

Listing happens when the pipeline is built; reading happens in the workers. An archive is
one work item that yields all its members, so a big zip is opened once, not once a member.

Every read is bounded while it streams: a file or member (after decompression), a whole
archive (all it decompresses to) and the headers of one tar member each have a byte limit that
stops the read before the excess is held. Every failure to read, decompress or parse one input
becomes a Reject of that input (or of that member) and the other members and inputs go on.
"""

from __future__ import annotations

import bz2
import contextlib
import copy
import fnmatch
import gzip
import hashlib
import io
import lzma
import os
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from clirdata.readers import storage
from clirdata.schemas import Origin, RawItem, Reject

STAGE = "read"
MAX_ITEM_BYTES = 20_000_000            # one file or archive member, after decompression
MAX_ARCHIVE_BYTES = 20_000_000_000     # all that one archive decompresses to, members read or skipped
MAX_TAR_HEADER_BYTES = 1 << 20         # the header records of one tar member (pax, GNU long names, sparse maps)

# Reject reasons of the read stage.
TOO_LARGE = "too-large"                # over a byte limit (detail: which one, and the size when known)
UNREADABLE = "unreadable"              # the filesystem could not open or read it
CORRUPT_ARCHIVE = "corrupt-archive"    # the zip or tar itself is broken: nothing after the break is read
CORRUPT_DATA = "corrupt-data"          # one file's or member's bytes do not decompress or fail their CRC
ENCRYPTED = "encrypted"                # an encrypted zip member (no password is ever used)
UNSUPPORTED_COMPRESSION = "unsupported-compression"  # a zip method Python cannot read (Deflate64, PPMd, ...)
NOT_A_FILE = "not-a-file"              # a symlink, hard link, device or FIFO member whose name matches

_CHUNK = 1 << 16
_HASH_CHUNK = 1 << 20
_ARCHIVES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
_COMPRESSED = (".gz", ".bz2", ".xz")
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)
_TAR_KINDS = {tarfile.SYMTYPE: "a symbolic link", tarfile.LNKTYPE: "a hard link",
              tarfile.CHRTYPE: "a character device", tarfile.BLKTYPE: "a block device", tarfile.FIFOTYPE: "a FIFO"}
# What the stdlib's zip, tar and decompression code raise on hostile bytes: each is that input's fault.
_FORMAT_ERRORS = (tarfile.TarError, zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, zlib.error,
                  lzma.LZMAError, ValueError, struct.error, IndexError, KeyError, OverflowError, NotImplementedError,
                  RuntimeError)


@dataclass(frozen=True)
class InputRef:
    """One unit of reading work: a file, or an archive whose members match `pattern`."""

    uri: str
    archive: bool = False
    pattern: str = "*.xml"


def is_archive(uri: str) -> bool:
    return uri.lower().endswith(_ARCHIVES)


def matches(name: str, pattern: str) -> bool:
    """Whether a file or member name is an input: its base name, or that name less .gz/.bz2/.xz, fits `pattern`."""
    base = name.rsplit("/", 1)[-1]
    return fnmatch.fnmatch(base, pattern) or fnmatch.fnmatch(base[:len(base) - len(_compressed_suffix(base))], pattern)


def list_inputs(location: str, pattern: str = "*.xml") -> list[InputRef]:
    """Resolve a directory, glob, archive or single file into sorted work items.

    `foo.xml.gz` (or .bz2, .xz) is an input like `foo.xml`: it is decompressed as it is read.
    """
    if is_archive(location):
        return [InputRef(location, archive=True, pattern=pattern)]
    if storage.exists(location) and not os.path.isdir(storage.local_path(location)):
        return [InputRef(location, pattern=pattern)]
    glob = location if any(ch in location for ch in "*?[") else storage.join(location.rstrip("/"), "**")
    uris = [found.path for found in storage.match(glob)]
    return [InputRef(uri, archive=is_archive(uri), pattern=pattern) for uri in uris
            if is_archive(uri) or matches(uri, pattern)]


def fingerprint_part(uri: str) -> dict[str, int]:
    """One input file's share of the fingerprint: {"files": 1, "bytes": size, "digest": SHA-256 of the line
    (uri, size, SHA-256 of the stored bytes) as an integer}.

    Shares add up: `fingerprint_summary` of their key-wise sums is the same in whatever order and on
    whichever workers they were made, so the pipeline combines them in the workers (a CombinePerKey).
    Each file is streamed through the hash in chunks (never held whole, never decompressed); one that
    cannot be read counts with size 0 and `unreadable` in its line (its read is rejected).
    """
    line, size = _fingerprint_line(uri)
    return {"files": 1, "bytes": size, "digest": int.from_bytes(hashlib.sha256(line.encode("utf-8")).digest(), "big")}


def fingerprint_summary(sums: dict[str, int]) -> dict:
    """The manifest's description of the inputs from the summed shares: count, bytes, and the digest (the
    sum of the shares' digests modulo 2**256, in hex: it changes when any file, name or size does)."""
    return {"files": sums.get("files", 0), "bytes": sums.get("bytes", 0),
            "digest": format(sums.get("digest", 0) % (1 << 256), "064x")}


def _fingerprint_line(uri: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    try:
        with storage.open_stored(uri) as handle:
            while chunk := handle.read(_HASH_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError as error:
        return f"{uri}\tunreadable\t{type(error).__name__}", 0
    return f"{uri}\t{size}\t{digest.hexdigest()}", size


class TooLarge(ValueError):
    """An input was larger than its bound; raised while reading, before the excess is held."""

    def __init__(self, uri: str, max_bytes: int):
        super().__init__(f"more than {max_bytes} bytes (the limit): {uri}")
        self.max_bytes = max_bytes


def read_bounded(uri: str, max_bytes: int) -> bytes:
    """The bytes of one file as stored (never decompressed), at most `max_bytes` of them.

    Raises TooLarge as soon as byte `max_bytes + 1` is read (the rest is never read), and
    OSError when the file cannot be read.
    """
    with storage.open_stored(uri) as handle:
        return _read_at_most(handle, uri, max_bytes)


def read_file(source: str, uri: str, max_bytes: int, stage: str, source_id: str = "") -> bytes | Reject:
    """`read_bounded`, with a file that is too large or unreadable as a Reject of `stage`."""
    try:
        return read_bounded(uri, max_bytes)
    except TooLarge:
        return Reject(source, uri, stage, TOO_LARGE, f"more than {max_bytes} bytes (the limit); not read further",
                      source_id)
    except OSError as error:
        return Reject(source, uri, stage, UNREADABLE, f"{type(error).__name__}: {error}", source_id)


def read_input(ref: InputRef, source: str, max_bytes: int = MAX_ITEM_BYTES,
               max_archive_bytes: int = MAX_ARCHIVE_BYTES) -> Iterator[RawItem | Reject]:
    """Yield the raw bytes of the file (or of each matching archive member), or Rejects; never raises.

    `max_bytes` bounds one file or member after decompression, `max_archive_bytes` all that one
    archive decompresses to. Tar members come in archive order, zip members in name order.
    """
    reading = _Reading(source, max_bytes, _Budget(max_archive_bytes))
    if not ref.archive:
        yield _read_file(ref.uri, reading)
    elif ref.uri.lower().endswith(".zip"):
        yield from _read_zip(ref, reading)
    else:
        yield from _read_tar(ref, reading)


class _ArchiveTooLarge(Exception):
    """An archive passed one of its own bounds; the message says which."""


class _Budget:
    """What one archive may decompress in all, spent as bytes stream out, whatever becomes of them."""

    def __init__(self, limit: int):
        self.limit = limit
        self._spent = 0

    def spend(self, size: int) -> None:
        self._spent += size
        if self._spent > self.limit:
            raise _ArchiveTooLarge(f"decompresses to more than {self.limit} bytes (the archive limit)")


class _Counted:
    """read(n) of `handle`, with every byte spent from `budget`."""

    def __init__(self, handle, budget: _Budget):
        self._handle = handle
        self._budget = budget

    def read(self, size: int) -> bytes:
        data = self._handle.read(size)
        self._budget.spend(len(data))
        return data


@dataclass(frozen=True)
class _Reading:
    """The source name and the bounds of one read_input call (one input, so one archive at most)."""

    source: str
    max_bytes: int
    budget: _Budget

    def item(self, uri: str, data: bytes) -> RawItem:
        return RawItem(Origin(self.source, uri), data)

    def reject(self, uri: str, reason: str, detail: str) -> Reject:
        return Reject(self.source, uri, STAGE, reason, detail)

    def decompressed_too_large(self, uri: str) -> Reject:
        return self.reject(uri, TOO_LARGE, f"more than {self.max_bytes} bytes once decompressed (the limit)")

    def declared_too_large(self, uri: str, size: int) -> Reject:
        return self.reject(uri, TOO_LARGE, f"declares {size} bytes, over the limit of {self.max_bytes}")


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _compressed_suffix(name: str) -> str:
    return next((suffix for suffix in _COMPRESSED if name.lower().endswith(suffix)), "")


def _compression_of(name: str) -> str:
    """'.gz', '.bz2' or '.xz' when the name says the bytes are compressed that way (`.tgz` too), else ''."""
    return ".gz" if name.lower().endswith(".tgz") else _compressed_suffix(name)


def _decompressing(handle: BinaryIO, compression: str):
    """A reader of the decompressed bytes; each read(n) decompresses at most n bytes, whatever the ratio."""
    if compression == ".gz":
        return gzip.GzipFile(fileobj=handle, mode="rb")
    if compression == ".bz2":
        return bz2.BZ2File(handle)
    if compression == ".xz":  # liblzma maps the window its header asks for; only the pages written become resident
        return lzma.LZMAFile(handle)
    return contextlib.nullcontext(handle)


def _read_at_most(handle, uri: str, limit: int) -> bytes:
    """All bytes of `handle`, read in chunks; raises TooLarge once more than `limit` have come."""
    chunks, size = [], 0
    while size <= limit:
        chunk = handle.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise TooLarge(uri, limit)
    return b"".join(chunks)


def _read_file(uri: str, reading: _Reading) -> RawItem | Reject:
    compression = _compression_of(uri)
    try:
        stored = storage.open_stored(uri)
    except OSError as error:
        return reading.reject(uri, UNREADABLE, _describe(error))
    try:
        with stored, _decompressing(stored, compression) as handle:
            return reading.item(uri, _read_at_most(handle, uri, reading.max_bytes))
    except TooLarge:
        if compression:
            return reading.decompressed_too_large(uri)
        size = storage.size_of(uri)
        detail = f"{size} bytes, over the limit of " if size else "more than the limit of "
        return reading.reject(uri, TOO_LARGE, f"{detail}{reading.max_bytes} bytes")
    except _FORMAT_ERRORS as error:
        return reading.reject(uri, CORRUPT_DATA if compression else UNREADABLE, _describe(error))


def _decompress_member(uri: str, data: bytes, reading: _Reading) -> RawItem | Reject:
    """A member's bytes, decompressed when its name ends in .gz/.bz2/.xz (a member's own fault if that fails)."""
    compression = _compression_of(uri)
    if not compression:
        return reading.item(uri, data)
    try:
        with _decompressing(io.BytesIO(data), compression) as handle:
            return reading.item(uri, _read_at_most(_Counted(handle, reading.budget), uri, reading.max_bytes))
    except TooLarge:
        return reading.decompressed_too_large(uri)
    except _FORMAT_ERRORS as error:
        return reading.reject(uri, CORRUPT_DATA, _describe(error))


# ---- zip ------------------------------------------------------------------------------------------------------

def _read_zip(ref: InputRef, reading: _Reading) -> Iterator[RawItem | Reject]:
    try:
        with storage.open_stored(ref.uri) as stored, zipfile.ZipFile(stored) as archive:
            yield from _zip_members(archive, ref, reading)
    except _FORMAT_ERRORS as error:  # the central directory itself (each member catches its own failures)
        reason = UNREADABLE if isinstance(error, FileNotFoundError | PermissionError) else CORRUPT_ARCHIVE
        yield reading.reject(ref.uri, reason, _describe(error))


def _zip_members(archive: zipfile.ZipFile, ref: InputRef, reading: _Reading) -> Iterator[RawItem | Reject]:
    for info in sorted(archive.infolist(), key=lambda i: i.filename):
        if info.is_dir() or not matches(info.filename, ref.pattern):
            continue
        try:
            item = _zip_member(archive, info, f"{ref.uri}!{info.filename}", reading)
        except _ArchiveTooLarge as error:
            yield reading.reject(ref.uri, TOO_LARGE, f"{error} (while reading member {info.filename!r}); it and "
                                 "the members after it are not read")
            return
        yield item


def _zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, uri: str, reading: _Reading) -> RawItem | Reject:
    if problem := _zip_member_problem(info):
        return reading.reject(uri, *problem)
    if not _compression_of(info.filename) and info.file_size > reading.max_bytes:
        return reading.declared_too_large(uri, info.file_size)
    try:
        data = _zip_member_bytes(archive, info, uri, reading)
    except TooLarge:
        return reading.declared_too_large(uri, info.file_size)
    except NotImplementedError as error:  # before RuntimeError, its base class
        return reading.reject(uri, UNSUPPORTED_COMPRESSION, _describe(error))
    except RuntimeError as error:  # zipfile's word for "encrypted, no password"
        return reading.reject(uri, ENCRYPTED, _describe(error))
    except _FORMAT_ERRORS as error:
        return reading.reject(uri, CORRUPT_DATA, _describe(error))
    return _decompress_member(uri, data, reading)


def _zip_member_problem(info: zipfile.ZipInfo) -> tuple[str, str] | None:
    """Why a member cannot be read, known from its central directory entry alone."""
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_IFMT(mode) and not stat.S_ISREG(mode):  # 3: Unix, with st_mode
        kind = "a symbolic link" if stat.S_ISLNK(mode) else f"a {stat.filemode(mode)[0]!r} entry"
        return NOT_A_FILE, f"{kind}, not a regular file"
    if info.flag_bits & 0x1:
        return ENCRYPTED, "the member is encrypted; clirdata reads no encrypted member"
    if info.compress_type not in _ZIP_METHODS:
        name = zipfile.compressor_names.get(info.compress_type, "unknown")
        return UNSUPPORTED_COMPRESSION, f"compression method {info.compress_type} ({name}) is not supported"
    return None


def _zip_member_bytes(archive: zipfile.ZipFile, info: zipfile.ZipInfo, uri: str, reading: _Reading) -> bytes:
    """A member's bytes, at most `max_bytes` (zipfile itself stops at the size the entry declares)."""
    if info.compress_type in (zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        return _zip_member_by_hand(archive, info, uri, reading)
    with archive.open(info) as member:
        return _read_at_most(_Counted(member, reading.budget), uri, reading.max_bytes)


def _zip_member_by_hand(archive: zipfile.ZipFile, info: zipfile.ZipInfo, uri: str, reading: _Reading) -> bytes:
    """A bzip2 or LZMA member, decompressed here with an output bound on every call.

    zipfile feeds these decompressors 4 KiB or more at a time with no output limit, and 113
    bytes of bzip2 make 100 MB. Size and CRC are checked against the entry, as zipfile does.
    """
    with archive.open(_as_stored(info)) as raw:
        decompressor = bz2.BZ2Decompressor() if info.compress_type == zipfile.ZIP_BZIP2 else _zip_lzma(raw, info)
        output = _Counted(_Decompressed(raw, decompressor), reading.budget)
        try:
            data = _read_at_most(output, uri, min(info.file_size, reading.max_bytes))
        except TooLarge as error:
            if info.file_size > reading.max_bytes:
                raise
            raise zipfile.BadZipFile(f"{info.filename!r} decompresses to more than the {info.file_size} bytes "
                                     "its entry declares") from error
    if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 or size for file {info.filename!r}")
    return data


def _as_stored(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """The same entry seen as stored, so that zipfile hands out its compressed bytes as they are."""
    stored = copy.copy(info)
    stored.compress_type = zipfile.ZIP_STORED
    stored.file_size = info.compress_size
    del stored.CRC  # the CRC is of the decompressed bytes: checked after decompressing
    return stored


def _zip_lzma(raw: BinaryIO, info: zipfile.ZipInfo):
    """The raw LZMA1 decoder of a zip member: 2 bytes of version, 2 of properties size, then the properties."""
    header = raw.read(4)
    properties = raw.read(int.from_bytes(header[2:4], "little")) if len(header) == 4 else b""
    if len(properties) != 5:
        raise zipfile.BadZipFile(f"bad LZMA header in {info.filename!r}")
    pb_lp, lc = divmod(properties[0], 9)
    pb, lp = divmod(pb_lp, 5)
    # The window never needs to be larger than the member: a header asking for 4 GiB gets what the output needs.
    window = max(4096, min(int.from_bytes(properties[1:5], "little"), info.file_size))
    return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[
        {"id": lzma.FILTER_LZMA1, "lc": lc, "lp": lp, "pb": pb, "dict_size": window}])


class _Decompressed:
    """read(n) over a bz2/lzma decompressor fed from `raw`: at most n bytes come out of each call."""

    def __init__(self, raw: BinaryIO, decompressor):
        self._raw = raw
        self._decompressor = decompressor

    def read(self, size: int) -> bytes:
        decompressor = self._decompressor
        while not decompressor.eof:
            compressed = self._raw.read(_CHUNK) if decompressor.needs_input else b""
            if decompressor.needs_input and not compressed:
                return b""  # input ended first (an LZMA member may carry no end marker): size and CRC tell
            if data := decompressor.decompress(compressed, size):
                return data
        return b""


# ---- tar ------------------------------------------------------------------------------------------------------

def _read_tar(ref: InputRef, reading: _Reading) -> Iterator[RawItem | Reject]:
    """Members one at a time as the (decompressed) stream passes: no index, no seeking back."""
    current, done = "", ""  # the member being read, and the last one finished: for the reject's detail
    try:
        with (storage.open_stored(ref.uri) as stored, _decompressing(stored, _compression_of(ref.uri)) as decompressed):
            stream = _TarStream(decompressed, reading.budget, MAX_TAR_HEADER_BYTES)
            with tarfile.open(fileobj=stream, mode="r:") as archive:
                while (member := archive.next()) is not None:
                    archive.members.clear()  # tarfile keeps every header it has seen: memory would grow with count
                    stream.data_follows()
                    current = member.name
                    if item := _tar_member(archive, member, ref, reading):
                        yield item
                    current, done = "", current
                    stream.header_follows()
                stream.check_clean_end()
    except _ArchiveTooLarge as error:
        yield reading.reject(ref.uri, TOO_LARGE, f"{error}{_where(current, done)}; nothing after it is read")
    except _FORMAT_ERRORS as error:
        reason = UNREADABLE if isinstance(error, FileNotFoundError | PermissionError) else CORRUPT_ARCHIVE
        yield reading.reject(ref.uri, reason, f"{_describe(error)}{_where(current, done)}; nothing after it is read")


def _where(current: str, done: str) -> str:
    if current:
        return f" (while reading member {current!r})"
    return f" (after member {done!r})" if done else ""


def _tar_member(archive: tarfile.TarFile, member: tarfile.TarInfo, ref: InputRef,
                reading: _Reading) -> RawItem | Reject | None:
    """One member as an item or a reject; None for a directory or a name the pattern does not take.

    Stream errors are the archive's, not the member's: they go up to the caller.
    """
    if member.isdir() or not matches(member.name, ref.pattern):
        return None
    uri = f"{ref.uri}!{member.name}"
    if not member.isreg():
        kind = _TAR_KINDS.get(member.type, f"a member of type {member.type!r}")
        target = f" to {member.linkname!r}" if member.issym() or member.islnk() else ""
        return reading.reject(uri, NOT_A_FILE, f"{kind}{target}, not a regular file")
    if member.size > reading.max_bytes:
        return reading.declared_too_large(uri, member.size)
    with archive.extractfile(member) as handle:
        data = _read_at_most(handle, uri, reading.max_bytes)
    return _decompress_member(uri, data, reading)


class _TarStream:
    """The decompressed bytes of a tar for tarfile's 'r:' mode: forward only, and bounded.

    Every byte read or skipped counts towards the archive's limit, and the header records of one
    member (pax, GNU long name, sparse maps: tarfile reads each whole) share `max_header_bytes`.
    """

    def __init__(self, stream: BinaryIO, budget: _Budget, max_header_bytes: int):
        self._stream = stream
        self._budget = budget
        self._max_header_bytes = max_header_bytes
        self._header_bytes_left: int | None = max_header_bytes
        self._position = 0
        self._last_header_block = b""

    def data_follows(self) -> None:
        self._header_bytes_left = None

    def header_follows(self) -> None:
        self._header_bytes_left = self._max_header_bytes

    def check_clean_end(self) -> None:
        """tarfile ends quietly at a bad header after the first member: that is a corrupt archive here."""
        block = self._last_header_block
        if block and block.count(0) != len(block):
            raise tarfile.ReadError(f"{'truncated' if len(block) < tarfile.BLOCKSIZE else 'invalid'} tar header "
                                    f"at byte {self._position - len(block)}")

    def tell(self) -> int:
        return self._position

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            raise io.UnsupportedOperation("a tar stream is read in bounded pieces only")
        if self._header_bytes_left is not None:
            if size > self._header_bytes_left:
                raise _ArchiveTooLarge(f"the headers of one member take more than {self._max_header_bytes} "
                                       "bytes (the limit)")
            self._header_bytes_left -= size
        data = self._take(size)
        if self._header_bytes_left is not None and size == tarfile.BLOCKSIZE:
            self._last_header_block = data
        return data

    def seek(self, position: int, whence: int = io.SEEK_SET) -> int:
        if whence != io.SEEK_SET or position < self._position:
            raise io.UnsupportedOperation("a tar stream only moves forward")
        while self._position < position and self._take(min(_CHUNK, position - self._position)):
            pass
        return self._position

    def seekable(self) -> bool:
        return False

    def _take(self, size: int) -> bytes:
        data = self._stream.read(size)
        while 0 < len(data) < size and (more := self._stream.read(size - len(data))):  # a short read is not the end
            data += more
        self._position += len(data)
        self._budget.spend(len(data))
        return data
