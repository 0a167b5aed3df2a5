"""manifest.json: what was built, from what, with which options, and counts per stage."""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone

from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics.metric import MetricsFilter

import clirdata
from clirdata.hub.card import render_card
from clirdata.pipelines.steps import METRICS_NAMESPACE


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
    """README.md rendered from the manifest, then manifest.json: the manifest last, as the seal."""
    write_text_atomic(FileSystems.join(out_dir, "README.md"), render_card(manifest))
    write_text_atomic(FileSystems.join(out_dir, "manifest.json"),
                      json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def read_manifest(out_dir: str) -> dict:
    """The manifest of a finished build; raises FileNotFoundError when the build did not finish."""
    path = FileSystems.join(out_dir, "manifest.json")
    if not FileSystems.exists(path):
        raise FileNotFoundError(f"{path} not found: not a finished clirdata build")
    with FileSystems.open(path, compression_type="uncompressed") as handle:
        return json.loads(handle.read().decode("utf-8"))
