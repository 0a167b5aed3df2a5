"""Query synthesis as Beam steps: passages -> batches -> one backend call a batch -> rows.

The backend (a vLLM engine, an HTTP client, a llama.cpp model) is created once per worker in
`DoFn.setup`, never once per bundle; the cache makes a rerun or a resumed run skip every
prompt already answered.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from clirdata.hub.card import SWIM_IR
from clirdata.pipelines.manifest import stage_list, write_card_and_manifest
from clirdata.pipelines.runner import run, written_files
from clirdata.pipelines.steps import REJECTS, TALLIES, StageCounters
from clirdata.pipelines.writers import WriteTables, WriteTallies, reject_row, take_tallies
from clirdata.readers.splits import read_manifest, read_split, split_files
from clirdata.synthesis.backends import create_backend
from clirdata.synthesis.cache import GenerationCache
from clirdata.synthesis.prompts import load_templates
from clirdata.synthesis.synthesize import Passage, SynthesisConfig, synthesize_batch

STAGE = "synthesize"


@dataclass(frozen=True)
class SynthesisRun:
    """Which model writes the queries, how, and where its answers are cached."""

    backend: str
    model: str
    doc_lang: str
    config: SynthesisConfig
    cache_dir: str
    backend_options: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 256
    max_docs: int | None = None

    def files(self) -> list[str]:
        return [f"synthetic_queries/{q}.parquet" for q in self.config.query_langs] + [
            f"synthetic_qrels/{q}_{self.doc_lang}.parquet" for q in self.config.query_langs]

    @property
    def model_name(self) -> str:
        """The model as outputs name it: a GGUF file's name, not its machine-specific path."""
        return Path(self.model).name if self.backend == "llamacpp" else self.model

    def describe(self) -> dict:
        return {"backend": self.backend, "model": self.model_name, "doc_lang": self.doc_lang,
                "query_langs": list(self.config.query_langs), "per_doc": self.config.per_doc,
                "shots": self.config.shots, "sampling": asdict(self.config.sampling),
                "prompt_version": load_templates(self.config.template).version, "max_docs": self.max_docs}


def passage_of(row: dict) -> Passage:
    return Passage(doc_id=row["_id"], source_id=row["source_id"], title=row["title"] or "",
                   text=row["text"] or "", lang=row["lang"], source=row["source"] or "")


def select_passages(rows: list[dict], max_docs: int | None) -> list[Passage]:
    """The first `max_docs` corpus rows by id (all when None): the same choice on every run."""
    ordered = sorted(rows, key=lambda row: row["_id"])
    return [passage_of(row) for row in ordered[:max_docs]]


class _SynthesizeFn(beam.DoFn):
    def __init__(self, run_spec: SynthesisRun):
        self._run = run_spec

    def setup(self) -> None:
        self._backend = create_backend(self._run.backend, self._run.model, **self._run.backend_options)
        self._cache = GenerationCache(self._run.cache_dir)
        self._counters = StageCounters()

    def process(self, batch: list[Passage]):
        result = synthesize_batch(batch, self._backend, self._cache, self._run.config)
        counts = result.counts
        prompts = counts["generated"] + counts["cached"]
        self._counters.inc(STAGE, "in", prompts)
        self._counters.inc(STAGE, "out", counts["kept"])
        self._counters.inc(STAGE, "rejected", prompts - counts["kept"])
        for name in ("generated", "cached"):
            yield beam.pvalue.TaggedOutput(TALLIES, (("synthesis", name), counts[name]))
        for reason, n in counts["dropped"].items():
            yield beam.pvalue.TaggedOutput(TALLIES, (("synthesis-dropped", reason), n))
        for row in result.queries:
            yield f"synthetic_queries/{row['lang']}.parquet", row
        for row, query in zip(result.qrels, result.queries, strict=True):
            yield f"synthetic_qrels/{query['lang']}_{self._run.doc_lang}.parquet", row
        for reject in result.rejects:
            yield beam.pvalue.TaggedOutput(REJECTS, reject)


class Synthesize(beam.PTransform):
    """Passages -> (relpath, row) pairs of synthetic queries and qrels, plus 'rejects' and 'tallies' outputs."""

    def __init__(self, run_spec: SynthesisRun):
        super().__init__()
        self._run = run_spec

    def expand(self, passages):
        return (passages
                | "spread over workers" >> beam.Reshuffle()
                | "batches" >> beam.BatchElements(min_batch_size=self._run.batch_size,
                                                  max_batch_size=self._run.batch_size)
                | "generate" >> beam.ParDo(_SynthesizeFn(self._run)).with_outputs(REJECTS, TALLIES, main="ok"))


def synthesis_summary(tallies: dict[str, dict[str, int]], counters: dict[str, dict[str, int]],
                      run_spec: SynthesisRun) -> dict:
    """manifest.json's "synthesis" section: what was generated, reused (tallies), kept (the stage's counter)
    and dropped why (tallies)."""
    made = tallies.get("synthesis", {})
    return {**run_spec.describe(), "generated": made.get("generated", 0), "cached": made.get("cached", 0),
            "kept": counters.get(STAGE, {}).get("out", 0),
            "dropped": dict(sorted(tallies.get("synthesis-dropped", {}).items()))}


def synthesis_card_section(summary: dict) -> str:
    dropped = ", ".join(f"{reason} {n}" for reason, n in summary["dropped"].items()) or "none"
    return (f"`synthetic_queries/` holds queries written by `{summary['model']}` ({summary['backend']} backend) "
            f"with summarize-then-ask prompting (SWIM-IR), prompt `{summary['prompt_version']}`, "
            f"{summary['shots']} exemplars, {summary['per_doc']} per passage and language; `synthetic_qrels/` "
            f"pairs each with its passage. They are kept apart from the test queries so that evaluation on "
            f"`queries`/`qrels` stays clean. Generated {summary['generated']}, from cache {summary['cached']}, "
            f"kept {summary['kept']}; dropped: {dropped}. Check the model's licence before you publish them.")


def run_synthesis(out_dir: str, run_spec: SynthesisRun, options, command: str) -> dict:
    """Add synthetic queries to a finished build in OUT/, then update its manifest and card."""
    manifest = read_manifest(out_dir)
    corpus = f"corpus/{run_spec.doc_lang}"
    if not split_files(out_dir, corpus):
        raise FileNotFoundError(f"{FileSystems.join(out_dir, corpus)}.parquet not found: is {run_spec.doc_lang!r} "
                                f"a document language of this build?")
    passages = select_passages(read_split(out_dir, corpus).to_pylist(), run_spec.max_docs)
    # rejects.parquet is rewritten whole: earlier rejects stay, those of an earlier synthesis go.
    earlier = [("rejects.parquet", row) for row in read_split(out_dir, "rejects").to_pylist()
               if row["stage"] != STAGE]

    def build(pipeline):
        generated = pipeline | "passages" >> beam.Create(passages) | Synthesize(run_spec)
        kept_rejects = pipeline | "earlier rejects" >> beam.Create(earlier)
        _ = generated[TALLIES] | WriteTallies(out_dir)
        return ((generated.ok, generated[REJECTS] | "reject rows" >> beam.Map(reject_row), kept_rejects)
                | "rows" >> beam.Flatten()
                | WriteTables(out_dir, run_spec.files() + ["rejects.parquet"]))

    _, counters = run(build, options, out_dir)
    summary = synthesis_summary(take_tallies(out_dir), counters, run_spec)
    manifest["stages"] = [s for s in manifest["stages"] if s["name"] != STAGE] + stage_list(counters, [STAGE])
    manifest["synthesis"] = summary
    manifest["files"] = written_files(out_dir)
    reasons = Counter(f"{row['stage']}: {row['reason']}"
                      for row in read_split(out_dir, "rejects", columns=["stage", "reason"]).to_pylist())
    manifest["rejects"] = dict(sorted(reasons.items()))
    manifest.setdefault("commands", []).append(command)
    manifest["card"]["sections"]["Synthetic queries"] = synthesis_card_section(summary)
    if SWIM_IR not in manifest["card"].setdefault("citations", []):
        manifest["card"]["citations"].append(SWIM_IR)
    write_card_and_manifest(out_dir, manifest)
    return manifest
