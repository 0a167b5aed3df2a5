"""Beam's FileSystems as the readers' storage for remote URIs (gs://, s3://, hdfs://, any registered scheme)."""

from __future__ import annotations

from typing import BinaryIO

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from clirdata.readers import storage
from clirdata.readers.storage import FileInfo

_STORED = CompressionTypes.UNCOMPRESSED  # Beam would otherwise decompress a .gz on open, unbounded


class BeamStorage:
    """readers.storage.Storage on Beam's FileSystems."""

    def join(self, base: str, *parts: str) -> str:
        return FileSystems.join(base, *parts)

    def exists(self, path: str) -> bool:
        return FileSystems.exists(path)

    def match(self, pattern: str) -> list[FileInfo]:
        return sorted((FileInfo(m.path, m.size_in_bytes) for m in FileSystems.match([pattern])[0].metadata_list),
                      key=lambda info: info.path)

    def open(self, path: str) -> BinaryIO:
        return FileSystems.open(path, compression_type=_STORED)

    def create(self, path: str) -> BinaryIO:
        return FileSystems.create(path, compression_type=_STORED)

    def rename(self, source: str, destination: str) -> None:
        FileSystems.rename([source], [destination])


def use_beam_filesystems() -> None:
    """Let readers reach every remote filesystem Beam knows. Called when `clirdata.pipelines` is imported, which
    every worker does before it runs a step, and by the commands that read a built OUT."""
    storage.register_remote(BeamStorage())
