"""Where inputs and OUT live: a local path, or a URI (gs://, s3://, ...) of a filesystem registered for remote use.

Readers and the last-mile commands reach files only through these functions. A local path (or file://) is
served by `os`; any other scheme by the one registered `Storage` for remote URIs, which the pipelines
register (Beam's FileSystems, so every filesystem Beam knows works, in the driver and in every worker).
Without one, a remote URI is refused with a message that says so. Nothing here imports Beam.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import BinaryIO, Protocol

_SCHEME = re.compile(r"^([a-zA-Z][-a-zA-Z0-9+.]*)://")
_GLOB_CHARS = "*?["


@dataclass(frozen=True)
class FileInfo:
    path: str
    size: int


class Storage(Protocol):
    """The file operations readers need; `match` takes Beam's glob syntax (`*` within a folder, `**` across)."""

    def join(self, base: str, *parts: str) -> str: ...
    def exists(self, path: str) -> bool: ...
    def match(self, pattern: str) -> list[FileInfo]: ...
    def open(self, path: str) -> BinaryIO: ...    # the bytes as stored: never decompressed on the way
    def create(self, path: str) -> BinaryIO: ...
    def rename(self, source: str, destination: str) -> None: ...


class NoStorage(OSError):
    """A URI whose scheme has no registered storage (an OSError: what a failed open raises)."""


def scheme(path: str) -> str | None:
    found = _SCHEME.match(path)
    return found.group(1).lower() if found else None


def is_local(path: str) -> bool:
    """Whether `path` is on this machine's filesystem: a plain path or a file:// URI."""
    return scheme(path) in (None, "file")


def local_path(path: str) -> str:
    """The plain path of a local `path` (file:///x -> /x)."""
    return path.removeprefix("file://")


class LocalStorage:
    """The local filesystem, with the glob semantics of Beam's (a dangling link is not a file)."""

    def join(self, base: str, *parts: str) -> str:
        return os.path.join(base, *parts)

    def exists(self, path: str) -> bool:
        return os.path.exists(local_path(path))

    def match(self, pattern: str) -> list[FileInfo]:
        pattern = local_path(pattern)
        if pattern.endswith("/"):
            pattern += "*"
        if not any(ch in pattern for ch in _GLOB_CHARS):
            return [FileInfo(pattern, os.path.getsize(pattern))] if os.path.isfile(pattern) else []
        prefix = pattern[:min(pattern.find(ch) for ch in _GLOB_CHARS if ch in pattern)]
        root = prefix if prefix.endswith("/") else os.path.dirname(prefix)
        wanted = re.compile(_glob_regex(pattern))
        found = []
        for folder, _, names in os.walk(root or "."):
            for name in names:
                path = os.path.join(folder, name) if root else os.path.relpath(os.path.join(folder, name))
                if wanted.fullmatch(path):
                    try:
                        found.append(FileInfo(path, os.path.getsize(path)))
                    except OSError:  # gone since the walk, or a dangling link
                        continue
        return sorted(found, key=lambda info: info.path)

    def open(self, path: str) -> BinaryIO:
        return open(local_path(path), "rb")  # noqa: SIM115 (the caller closes it)

    def create(self, path: str) -> BinaryIO:
        path = local_path(path)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        return open(path, "wb")  # noqa: SIM115

    def rename(self, source: str, destination: str) -> None:
        os.replace(local_path(source), local_path(destination))


LOCAL = LocalStorage()
_remote: Storage | None = None


def register_remote(storage: Storage) -> None:
    """Serve every URI with a scheme other than file:// by `storage` (the pipelines register Beam's)."""
    global _remote
    _remote = storage


def storage_for(path: str) -> Storage:
    """The storage that serves `path`; NoStorage when it is a remote URI and none is registered."""
    if is_local(path):
        return LOCAL
    if _remote is None:
        raise NoStorage(f"{path}: no filesystem for {scheme(path)}:// here (clirdata's pipelines register "
                        "Apache Beam's, which reads gs://, s3:// and the others Beam is installed with)")
    return _remote


def join(base: str, *parts: str) -> str:
    return storage_for(base).join(base, *parts)


def basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def exists(path: str) -> bool:
    return storage_for(path).exists(path)


def match(pattern: str) -> list[FileInfo]:
    return storage_for(pattern).match(pattern)


def open_stored(path: str) -> BinaryIO:
    return storage_for(path).open(path)


def create(path: str) -> BinaryIO:
    return storage_for(path).create(path)


def rename(source: str, destination: str) -> None:
    storage_for(source).rename(source, destination)


def size_of(path: str) -> int | None:
    """The stored size of one file, or None when it cannot be found."""
    try:
        found = match(path)
    except (OSError, ValueError):
        return None
    return found[0].size if found else None


def _glob_regex(pattern: str) -> str:
    """Beam's glob as a regular expression: `**` any characters, `*` and `?` any but `/`, `[...]` a class."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and "]" in pattern[i + 2:]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1:end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
            i = end + 1
            continue
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)
