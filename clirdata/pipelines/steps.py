"""The one generic Beam wrapper: runs a pure step, routes Rejects, counts every stage."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from clirdata.schemas import Outcome, Reject

REJECTS = "rejects"
METRICS_NAMESPACE = "clirdata"
_LOG = logging.getLogger("clirdata")
PROGRESS_EVERY = 1000


class StageCounters:
    """Beam counters named `{stage}.in|out|rejected`, created lazily per stage."""

    def __init__(self) -> None:
        self._counters: dict[str, Any] = {}

    def inc(self, stage: str, kind: str, n: int = 1) -> None:
        if n:
            name = f"{stage}.{kind}"
            if name not in self._counters:
                self._counters[name] = Metrics.counter(METRICS_NAMESPACE, name)
            self._counters[name].inc(n)


class _ApplyFn(beam.DoFn):
    def __init__(self, step: Callable[[Any], Any], stage: str):
        self._step = step
        self._stage = stage

    def setup(self) -> None:
        self._counters = StageCounters()
        self._seen = 0

    def process(self, element):
        self._count_in()
        yield from self._route(self._step(element))

    def _count_in(self) -> None:
        self._counters.inc(self._stage, "in")
        self._seen += 1
        if self._seen % PROGRESS_EVERY == 0:
            _LOG.info("%s: %d items in this worker", self._stage, self._seen)

    def _route(self, result):
        if isinstance(result, Outcome):
            for stage, kind, n in result.counts:
                self._counters.inc(stage, kind, n)
            for reject in result.rejects:
                yield beam.pvalue.TaggedOutput(REJECTS, reject)
            result = result.value
        if isinstance(result, Reject):
            self._counters.inc(self._stage, "rejected")
            yield beam.pvalue.TaggedOutput(REJECTS, result)
        else:
            self._counters.inc(self._stage, "out")
            yield result


class _ExpandFn(_ApplyFn):
    def process(self, element):
        for result in self._step(element):
            self._count_in()
            yield from self._route(result)


class Apply(beam.PTransform):
    """Runs a pure step on every element; results go on, Rejects go to the 'rejects' output.

    The step returns a value, a Reject, or an Outcome (a value plus side rejects and extra
    counters). Each input counts once in `{stage}.in` and once in `.out` or `.rejected`.
    """

    fn_class = _ApplyFn

    def __init__(self, step: Callable[[Any], Any], stage: str):
        super().__init__(label=stage)
        self._step = step
        self._stage = stage

    def expand(self, pcoll):
        return pcoll | beam.ParDo(self.fn_class(self._step, self._stage)).with_outputs(REJECTS, main="ok")


class Expand(Apply):
    """Like Apply for a step that yields many results per input (a harvest, an archive).

    The stage counts results, not inputs: `.in` = results seen, `.out` = non-Rejects.
    """

    fn_class = _ExpandFn


class _ApplyToAllFn(_ApplyFn):
    def process(self, element):
        yield from self._route(self._step(element))

    def _route(self, result):
        # A whole-collection step counts its own inputs and outputs through its Outcome.
        for stage, kind, n in result.counts:
            self._counters.inc(stage, kind, n)
        for reject in result.rejects:
            yield beam.pvalue.TaggedOutput(REJECTS, reject)
        yield result.value


class ApplyToAll(Apply):
    """Runs a step that needs the whole collection at once (pairing, dedup) on one list.

    The step takes a list and returns an Outcome whose counts say what came in and out.
    """

    fn_class = _ApplyToAllFn

    def expand(self, pcoll):
        return super().expand(pcoll | f"{self._stage}: gather" >> beam.combiners.ToList())
