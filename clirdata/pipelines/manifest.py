"""manifest.json: what was built, from what, with which options, and counts per stage.

Also the ledger, OUT/.clirdata/files.json: the files clirdata wrote (or is about to write) in OUT,
so that a later build deletes those and never a file of the user's.
"""

from __future__ import annotations

import json
import logging
import platform
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics.metric import MetricsFilter

import clirdata
from clirdata.hub.card import render_card
from clirdata.pipelines.steps import METRICS_NAMESPACE
from clirdata.schemas import CONFIG_TABLES

_LOG = logging.getLogger("clirdata")
PRIVATE_DIR = ".clirdata"  # clirdata's own folder in OUT: the lock, the ledger, harvest state
LEDGER = f"{PRIVATE_DIR}/files.json"
CARD_FILES = frozenset({"README.md", "manifest.json"})
MAX_LEDGER_BYTES = 16 * 1024 * 1024  # a ledger lists file names: far below this even for thousands of shards
# The only names clirdata writes in OUT; a ledger entry of any other shape (`../x`, `notes.txt`) is ignored.
OUR_NAME = re.compile(r"(?:README\.md|manifest\.json|eval\.json|rejects(?:-\d{5}-of-\d{5})?\.parquet"
                      rf"|(?:{'|'.join(CONFIG_TABLES)})/\w+(?:-\d{{5}}-of-\d{{5}})?\.parquet)", re.ASCII)


def stage_counters(result) -> dict[str, dict[str, int]]:
    """Beam counters `{stage}.{in|out|rejected}` summed over steps, as {stage: {kind: n}}."""
    query = result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))
    stages: dict[str, dict[str, int]] = {}
    for counter in query["counters"]:
        stage, _, kind = counter.key.metric.name.partition(".")  # stage names have no dots; kinds may
        value = counter.committed if counter.committed is not None else counter.attempted
        counts = stages.setdefault(stage, {})
        counts[kind] = counts.get(kind, 0) + int(value or 0)
    return stages


def stage_list(counters: dict[str, dict[str, int]], order: list[str]) -> list[dict]:
    """Stages in flow order with in/out/rejected, and whether in == out + rejected holds."""
    stages = []
    others = sorted(name for name, counts in counters.items() if name not in order and "in" in counts)
    for name in order + others:
        counts = counters.get(name, {})
        entry = {"name": name, **{kind: counts.get(kind, 0) for kind in ("in", "out", "rejected")}}
        entry["balanced"] = entry["in"] == entry["out"] + entry["rejected"]
        stages.append(entry)
    return stages


def build_manifest(*, command: str, options: dict, inputs: dict, stages: list[dict],
                   files: dict[str, int], extra: dict | None = None) -> dict:
    """The manifest as a dict; timestamps live here and never in data files."""
    manifest = {
        "clirdata_version": clirdata.__version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "command": command,
        "options": options,
        "inputs": inputs,
        "stages": stages,
        "files": dict(sorted(files.items())),
    }
    manifest.update(extra or {})
    return manifest


def write_text_atomic(path: str, text: str) -> None:
    """Write a small text file under a temporary name, then rename it into place."""
    temporary = f"{path}.tmp"
    with FileSystems.create(temporary) as handle:
        handle.write(text.encode("utf-8"))
    FileSystems.rename([temporary], [path])


def write_card_and_manifest(out_dir: str, manifest: dict) -> None:
    """README.md rendered from the manifest, then manifest.json: the manifest as the seal; then the ledger."""
    write_text_atomic(FileSystems.join(out_dir, "README.md"), render_card(manifest))
    write_text_atomic(FileSystems.join(out_dir, "manifest.json"),
                      json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    seal_ledger(out_dir, manifest["files"])


class LedgerError(ValueError):
    """OUT/.clirdata/files.json exists but cannot be read as a ledger."""


@dataclass(frozen=True)
class Ledger:
    """What clirdata owns in OUT: `files` it wrote or is writing, and the state of the last build.

    `foreign` remembers the data-shaped files (`corpus/x.parquet`) that were in OUT before the build,
    as {relpath: (size, mtime)}, so that they are neither listed in the manifest nor deleted.
    """

    files: frozenset[str] = frozenset()
    state: str = "building"
    foreign: dict[str, tuple[int, float]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"format": 1, "state": self.state, "files": sorted(self.files),
                           "foreign": {path: list(stamp) for path, stamp in sorted(self.foreign.items())}},
                          indent=1) + "\n"


def _parse_ledger(raw: bytes) -> Ledger:
    """A ledger from its JSON; entries that are not names clirdata writes are dropped (never trusted)."""
    try:
        data = json.loads(raw.decode("utf-8"))
        files, foreign = data["files"], data.get("foreign", {})
        if not isinstance(files, list) or not isinstance(foreign, dict):
            raise TypeError("'files' must be a list and 'foreign' an object")
        stamps = {path: (int(stamp[0]), float(stamp[1])) for path, stamp in foreign.items()}
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError, IndexError) as error:
        raise LedgerError(f"{type(error).__name__}: {error}") from error
    ours = frozenset(path for path in files if isinstance(path, str) and OUR_NAME.fullmatch(path))
    if len(ours) != len(files):
        _LOG.warning("%s: ignored %d entries that are not files clirdata writes", LEDGER, len(files) - len(ours))
    return Ledger(ours, str(data.get("state", "building")), stamps)


def read_ledger(out_dir: str) -> Ledger | None:
    """The ledger of OUT, None when there is none; LedgerError when it is unreadable or too large."""
    path = FileSystems.join(out_dir, LEDGER)
    if not FileSystems.exists(path):
        return None
    with FileSystems.open(path, compression_type="uncompressed") as handle:
        raw = handle.read(MAX_LEDGER_BYTES + 1)
    if len(raw) > MAX_LEDGER_BYTES:
        raise LedgerError(f"larger than {MAX_LEDGER_BYTES} bytes")
    return _parse_ledger(raw)


def write_ledger(out_dir: str, ledger: Ledger) -> None:
    """Write the ledger atomically (OUT/.clirdata/ is created when missing)."""
    private = FileSystems.join(out_dir, PRIVATE_DIR)
    if not FileSystems.exists(private):
        FileSystems.mkdirs(private)
    write_text_atomic(FileSystems.join(out_dir, LEDGER), ledger.to_json())


def seal_ledger(out_dir: str, written: dict[str, int]) -> None:
    """After the manifest: the ledger lists exactly what this build (and the ones it extends) wrote."""
    try:
        previous = read_ledger(out_dir) or Ledger()
    except LedgerError:
        previous = Ledger()
    still_there = {path for path in previous.files if FileSystems.exists(FileSystems.join(out_dir, path))}
    write_ledger(out_dir, Ledger(frozenset(still_there | set(written) | CARD_FILES), "complete", previous.foreign))
