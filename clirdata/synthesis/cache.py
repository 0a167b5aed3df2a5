"""On-disk cache of generations, so that a rerun or a resumed run asks the model only what it never answered.

One JSON file per key, sharded by the key's first two hex digits, written to a temporary file in the same
folder and moved into place with os.replace: a killed process never leaves a partial entry, and several
processes (Beam workers) can write at once without a lock (the last identical answer wins). Plain files
also work on any shared file system, where SQLite's locking does not.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def cache_key(model: str, prompt_text: str, params: Mapping[str, Any]) -> str:
    """sha256 of (model, prompt text, sampling parameters as canonical JSON)."""
    payload = json.dumps(
        {"model": model, "prompt": prompt_text, "params": dict(params)},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class GenerationCache:
    """Model outputs by cache key, under `root`; counts hits and misses of `get`."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        """The cached output for `key`, or None (an unreadable entry counts as absent)."""
        try:
            text = json.loads(self._path(key).read_text(encoding="utf-8"))["output"]
        except (OSError, ValueError, KeyError, TypeError):
            self.misses += 1
            return None
        self.hits += 1
        return text

    def put(self, key: str, output: str) -> None:
        """Store `output` atomically: readers see the whole entry or none."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"output": output}, handle, ensure_ascii=False)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
