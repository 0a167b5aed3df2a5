"""The one generic Beam wrapper: runs a pure step, routes Rejects, counts every stage."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from clirdata.schemas import Outcome, Reject

REJECTS = "rejects"
TALLIES = "tallies"  # ((kind, name), n) for the manifest: licences, repairs, input fingerprint
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
    def __init__(self, step: Callable[..., Any], stage: str):
        self._step = step
        self._stage = stage

    def setup(self) -> None:
        self._counters = StageCounters()
        self._seen = 0

    def process(self, element):
        self._count_in()
        yield from self._route(self._step(element))

    def _count_in(self, n: int = 1) -> None:
        self._counters.inc(self._stage, "in", n)
        before, self._seen = self._seen, self._seen + n
        if before // PROGRESS_EVERY != self._seen // PROGRESS_EVERY:
            _LOG.info("%s: %d items in this worker", self._stage, self._seen)

    def _unpack(self, result) -> tuple[Any, list]:
        """An Outcome's value, and its side rejects and tallies as tagged outputs (its counters counted);
        any other result as it is."""
        if not isinstance(result, Outcome):
            return result, []
        for stage, kind, n in result.counts:
            self._counters.inc(stage, kind, n)
        tagged = [beam.pvalue.TaggedOutput(REJECTS, reject) for reject in result.rejects]
        tagged += [beam.pvalue.TaggedOutput(TALLIES, ((kind, name), n)) for kind, name, n in result.tallies]
        return result.value, tagged

    def _route(self, result):
        value, tagged = self._unpack(result)
        yield from tagged
        if isinstance(value, Reject):
            self._counters.inc(self._stage, "rejected")
            yield beam.pvalue.TaggedOutput(REJECTS, value)
        else:
            self._counters.inc(self._stage, "out")
            yield value


class _ExpandFn(_ApplyFn):
    def process(self, element):
        for result in self._step(element):
            self._count_in()
            yield from self._route(result)


class Apply(beam.PTransform):
    """Runs a pure step on every element; results go on, Rejects go to the 'rejects' output.

    The step returns a value, a Reject, or an Outcome (a value plus side rejects, extra counters and
    tallies). Each input counts once in `{stage}.in` and once in `.out` or `.rejected`. Outputs: `ok`,
    `rejects`, and `tallies` ((kind, name), n).
    """

    fn_class = _ApplyFn

    def __init__(self, step: Callable[[Any], Any], stage: str):
        super().__init__(label=stage)
        self._step = step
        self._stage = stage

    def _run(self) -> beam.PTransform:
        return beam.ParDo(self.fn_class(self._step, self._stage)).with_outputs(REJECTS, TALLIES, main="ok")

    def expand(self, pcoll):
        return pcoll | self._run()


class Expand(Apply):
    """Like Apply for a step that yields many results per input (a harvest, an archive).

    The stage counts results, not inputs: `.in` = results seen, `.out` = non-Rejects.
    """

    fn_class = _ExpandFn


class _GroupFn(_ApplyFn):
    def process(self, element):
        key, members = element
        members = list(members)
        self._count_in(len(members))
        rejected = 0
        for result in self._step(key, members):
            value, tagged = self._unpack(result)
            yield from tagged
            if isinstance(value, Reject):
                rejected += 1
                yield beam.pvalue.TaggedOutput(REJECTS, value)
            else:
                yield value
        if rejected > len(members):
            raise ValueError(f"{self._stage}: {rejected} rejects for a group of {len(members)} (key {key!r})")
        self._counters.inc(self._stage, "rejected", rejected)
        self._counters.inc(self._stage, "out", len(members) - rejected)


def _keyed(element: Any, key: Callable[[Any], Any]) -> tuple[Any, Any]:
    return key(element), element


class ApplyToGroups(Apply):
    """Groups the elements by `key` (a GroupByKey, so each group is on one worker, never the whole
    collection) and runs a pure step on each group: `step(key, members)` yields results.

    Each member counts once in `{stage}.in`. A result that is a Reject (or an Outcome of one) is a
    member the step turned away: it counts in `.rejected`, and every other member in `.out`, so
    `in == out + rejected` whatever values the step makes of the group. An Outcome's side rejects and
    counters and tallies pass through as in Apply.
    """

    fn_class = _GroupFn

    def __init__(self, step: Callable[[Any, list], Iterable[Any]], stage: str, key: Callable[[Any], Any]):
        super().__init__(step, stage)
        self._key = key

    def expand(self, pcoll):
        grouped = pcoll | "key" >> beam.Map(_keyed, self._key) | "group" >> beam.GroupByKey()
        return grouped | "apply" >> self._run()
