"""Reading inputs: a directory, a glob, a zip or a tar of files, on any Beam filesystem.

Listing happens when the pipeline is built; reading happens in the workers. An archive is
one work item that yields all its members, so a big zip is opened once, not once a member.
"""

from __future__ import annotations

import fnmatch
import os
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from apache_beam.io.filesystems import FileSystems

from clirdata.schemas import Origin, RawItem, Reject, sha256_hex

STAGE = "read"
MAX_ITEM_BYTES = 20_000_000
_ARCHIVES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")


@dataclass(frozen=True)
class InputRef:
    """One unit of reading work: a file, or an archive whose members match `pattern`."""

    uri: str
    archive: bool = False
    pattern: str = "*.xml"


def is_archive(uri: str) -> bool:
    return uri.lower().endswith(_ARCHIVES)


def list_inputs(location: str, pattern: str = "*.xml") -> list[InputRef]:
    """Resolve a directory, glob, archive or single file into sorted work items."""
    if is_archive(location):
        return [InputRef(location, archive=True, pattern=pattern)]
    if FileSystems.exists(location) and not os.path.isdir(location):
        return [InputRef(location, pattern=pattern)]
    glob = location if any(ch in location for ch in "*?[") else FileSystems.join(location.rstrip("/"), "**")
    metadata = FileSystems.match([glob])[0].metadata_list
    uris = sorted(m.path for m in metadata)
    return [InputRef(uri, archive=is_archive(uri), pattern=pattern) for uri in uris
            if is_archive(uri) or fnmatch.fnmatch(uri.rsplit("/", 1)[-1], pattern)]


def fingerprint(refs: list[InputRef]) -> dict:
    """What the inputs were: count and a digest over (uri, size, sha256) of each file read."""
    digest_lines = []
    for ref in refs:
        with FileSystems.open(ref.uri) as handle:
            data = handle.read()
        digest_lines.append(f"{ref.uri}\t{len(data)}\t{sha256_hex(data)}")
    return {"files": len(refs), "sha256": sha256_hex("\n".join(digest_lines).encode("utf-8"))}


def read_input(ref: InputRef, source: str, max_bytes: int = MAX_ITEM_BYTES) -> Iterator[RawItem | Reject]:
    """Yield the raw bytes of the file (or of each matching archive member), or Rejects."""
    try:
        if not ref.archive:
            yield _read_file(ref.uri, source, max_bytes)
        elif ref.uri.lower().endswith(".zip"):
            yield from _read_zip(ref, source, max_bytes)
        else:
            yield from _read_tar(ref, source, max_bytes)
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as error:
        yield Reject(source, ref.uri, STAGE, "unreadable", f"{type(error).__name__}: {error}")


def _too_large(source: str, uri: str, size: int, max_bytes: int) -> Reject:
    return Reject(source, uri, STAGE, "too-large", f"{size} bytes > limit of {max_bytes}")


def _read_file(uri: str, source: str, max_bytes: int) -> RawItem | Reject:
    with FileSystems.open(uri) as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        return _too_large(source, uri, len(data), max_bytes)
    return RawItem(Origin(source, uri), data)


def _read_zip(ref: InputRef, source: str, max_bytes: int) -> Iterator[RawItem | Reject]:
    with FileSystems.open(ref.uri) as handle, zipfile.ZipFile(handle) as archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.is_dir() or not fnmatch.fnmatch(info.filename.rsplit("/", 1)[-1], ref.pattern):
                continue
            uri = f"{ref.uri}!{info.filename}"
            if info.file_size > max_bytes:
                yield _too_large(source, uri, info.file_size, max_bytes)
                continue
            try:
                yield RawItem(Origin(source, uri), archive.read(info))
            except (zipfile.BadZipFile, OSError, EOFError) as error:
                yield Reject(source, uri, STAGE, "unreadable", f"{type(error).__name__}: {error}")


def _read_tar(ref: InputRef, source: str, max_bytes: int) -> Iterator[RawItem | Reject]:
    with FileSystems.open(ref.uri) as handle, tarfile.open(fileobj=handle, mode="r:*") as archive:
        members = sorted((m for m in archive.getmembers() if m.isfile()), key=lambda m: m.name)
        for member in members:
            if not fnmatch.fnmatch(member.name.rsplit("/", 1)[-1], ref.pattern):
                continue
            uri = f"{ref.uri}!{member.name}"
            if member.size > max_bytes:
                yield _too_large(source, uri, member.size, max_bytes)
                continue
            yield RawItem(Origin(source, uri), archive.extractfile(member).read())
