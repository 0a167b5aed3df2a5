"""`clirdata build SOURCE`: one Beam pipeline for every source plug-in (`clirdata.sources`).

seeds -> the source's steps (read, extract, check, pair; each counted, its rejects routed) -> rows
(+ regroups such as keyword queries, + optional query synthesis) -> sharded Parquet. Tallies (licences,
repairs, the input fingerprint) travel as data, are summed per key in the workers, and reach the
manifest through OUT/.clirdata/tallies.json (read, then deleted).
"""

from __future__ import annotations

from dataclasses import dataclass

import apache_beam as beam

from clirdata.hub.card import SWIM_IR, card_text
from clirdata.pipelines.manifest import build_manifest, stage_list, write_card_and_manifest
from clirdata.pipelines.runner import prepare_out_dir, run
from clirdata.pipelines.steps import REJECTS, TALLIES, Apply, ApplyToGroups, Expand
from clirdata.pipelines.synthesize import (
    SynthesisRun,
    Synthesize,
    passage_of,
    synthesis_card_section,
    synthesis_summary,
)
from clirdata.pipelines.writers import WriteTables, WriteTallies, reject_row, take_tallies
from clirdata.readers.files import fingerprint_part, fingerprint_summary
from clirdata.schemas import Reject
from clirdata.sources.base import APPLY, EXPAND, Prepared, Source, Step

INPUTS_TALLY = "inputs"  # the tally kind of the input fingerprint (files, bytes, digest)
REJECTS_TALLY = "rejects"  # rejects by "stage: reason", for the manifest and the card


@dataclass(frozen=True)
class Build:
    """One build: a configured source, where it writes, and optional query synthesis."""

    source: Source
    out_dir: str
    synthesis: SynthesisRun | None = None

    def stages(self) -> list[str]:
        return self.source.stages() + (["synthesize"] if self.synthesis else [])

    def expected_files(self) -> list[str]:
        return self.source.expected_files() + (self.synthesis.files() if self.synthesis else [])

    def describe(self) -> dict:
        described = self.source.describe()
        return {**described, "synthesis": self.synthesis.describe()} if self.synthesis else described


def _transform(step: Step) -> beam.PTransform:
    if step.kind == APPLY:
        return Apply(step.fn, step.stage)
    if step.kind == EXPAND:
        return Expand(step.fn, step.stage)
    return ApplyToGroups(step.fn, step.stage, key=step.key)


def _row_id(row: dict) -> str:
    return row["_id"]


def _each(items: list) -> list:
    return items


class SynthesisPassages(beam.PTransform):
    """Paired items -> the passages to synthesize queries for: their `doc_lang` documents, or the first
    `max_docs` by id (a combine: each worker keeps its own first `max_docs`, then those merge)."""

    def __init__(self, source: Source, run_spec: SynthesisRun):
        super().__init__()
        self._source = source
        self._run = run_spec

    def expand(self, items):
        rows = items | "documents" >> beam.FlatMap(self._source.documents, self._run.doc_lang)
        if self._run.max_docs is not None:
            rows = (rows | "first by id" >> beam.combiners.Top.Smallest(self._run.max_docs, key=_row_id)
                    | "one by one" >> beam.FlatMap(_each))
        return rows | "passage" >> beam.Map(passage_of)


def _reject_tally(reject: Reject) -> tuple[tuple[str, str], int]:
    return (REJECTS_TALLY, f"{reject.stage}: {reject.reason}"), 1


def _fingerprint_tallies(uri: str) -> list[tuple[tuple[str, str], int]]:
    return [((INPUTS_TALLY, name), n) for name, n in fingerprint_part(uri).items()]


class RunSteps(beam.PTransform):
    """Items -> {"ok": what leaves the last step, "rejects": every step's rejects, "tallies": their tallies}:
    each step a counted, reject-routing Apply, Expand or ApplyToGroups."""

    def __init__(self, steps: list[Step]):
        super().__init__()
        self._steps = steps

    def expand(self, items):
        rejects, tallies = [], []
        for step in self._steps:
            result = items | _transform(step)
            items = result.ok
            rejects.append(result[REJECTS])
            tallies.append(result[TALLIES])
        return {"ok": items,
                "rejects": rejects | "step rejects" >> beam.Flatten(),
                "tallies": tallies | "step tallies" >> beam.Flatten()}


class MakeRows(beam.PTransform):
    """Paired items -> (relpath, row): each item's own rows, then each regroup's (a GroupByKey on its key)."""

    def __init__(self, source: Source):
        super().__init__()
        self._source = source

    def expand(self, items):
        rows = [items | "item rows" >> beam.FlatMap(self._source.rows)]
        for regroup in self._source.regroups():
            rows.append(items
                        | f"{regroup.name}: keys" >> beam.FlatMap(regroup.keys)
                        | f"{regroup.name}: group" >> beam.GroupByKey()
                        | f"{regroup.name}: rows" >> beam.FlatMapTuple(regroup.rows))
        return rows | "all item rows" >> beam.Flatten()


class BuildCollection(beam.PTransform):
    """The whole build as one composite: it reads like the flow in DESIGN.md, for any source."""

    def __init__(self, build: Build, prepared: Prepared):
        super().__init__()
        self._build = build
        self._prepared = prepared

    def expand(self, pbegin):
        source, synthesis, prepared = self._build.source, self._build.synthesis, self._prepared
        flowed = (pbegin | "seeds" >> beam.Create(list(prepared.seeds))) | RunSteps(source.steps())
        rows = [flowed["ok"] | MakeRows(source)]
        rejects = [pbegin | "earlier rejects" >> beam.Create(list(prepared.rejects)), flowed["rejects"]]
        tallies = [pbegin | "inputs" >> beam.Create(list(prepared.fingerprinted))
                   | "fingerprint" >> beam.FlatMap(_fingerprint_tallies), flowed["tallies"]]
        if synthesis:
            generated = flowed["ok"] | SynthesisPassages(source, synthesis) | Synthesize(synthesis)
            rows.append(generated.ok)
            rejects.append(generated[REJECTS])
            tallies.append(generated[TALLIES])
        every_reject = rejects | "all rejects" >> beam.Flatten()
        tallies.append(every_reject | "rejects by reason" >> beam.Map(_reject_tally))
        _ = tallies | "all tallies" >> beam.Flatten() | WriteTallies(self._build.out_dir)
        reject_rows = every_reject | "reject rows" >> beam.Map(reject_row)
        return ((*rows, reject_rows)
                | "all rows" >> beam.Flatten()
                | WriteTables(self._build.out_dir, self._build.expected_files()))


def run_build(build: Build, prepared: Prepared, options, command: str) -> dict:
    """Run the pipeline from what `build.source.prepare()` gave, then write README.md and manifest.json
    (last); returns the manifest. Call it while holding OUT (`claim_out_dir`)."""
    source = build.source
    prepare_out_dir(build.out_dir)
    files, counters = run(lambda p: p | BuildCollection(build, prepared), options, build.out_dir)
    tallies = take_tallies(build.out_dir)
    inputs = dict(prepared.inputs)
    if INPUTS_TALLY in tallies:
        inputs.update(fingerprint_summary(tallies.pop(INPUTS_TALLY)))
    rejects = dict(sorted(tallies.pop(REJECTS_TALLY, {}).items()))
    extra = {**source.extras(build.out_dir, tallies), "rejects": rejects}
    if build.synthesis:
        extra["synthesis"] = synthesis_summary(tallies, counters, build.synthesis)
    manifest = build_manifest(command=command, options=build.describe(), inputs=inputs,
                              stages=[*prepared.stages, *stage_list(counters, build.stages())], files=files,
                              extra={"source": source.name, **extra})
    card = source.card(manifest)
    sections = dict(card.sections)
    if build.synthesis:
        sections["Synthetic queries"] = synthesis_card_section(extra["synthesis"])
    citations = card.citations + ((SWIM_IR,) if build.synthesis else ())
    manifest["card"] = card_text(title=card.title, description=card.description, license_id=card.license_id,
                                 licence_note=card.licence_note, sections=sections, limitations=card.limitations,
                                 citations=citations)
    write_card_and_manifest(build.out_dir, manifest)
    return manifest
