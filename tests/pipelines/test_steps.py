"""The generic Beam steps on the real in-process runner: routing to 'ok' and 'rejects', and counting."""

from __future__ import annotations

import logging

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline  # not a pytest class
from apache_beam.testing.util import assert_that, equal_to

from clirdata.pipelines.manifest import stage_counters
from clirdata.pipelines.runner import make_options
from clirdata.pipelines.steps import PROGRESS_EVERY, Apply, ApplyToGroups, Expand
from clirdata.schemas import Outcome, Reject


def run_counted(build) -> dict[str, dict[str, int]]:
    """Build a TestPipeline with `build`, run it to the end; its clirdata counters as {stage: {kind: n}}."""
    pipeline = BeamTestPipeline(options=make_options([]))
    build(pipeline)
    result = pipeline.run()
    result.wait_until_finish()
    return stage_counters(result)


def bad(n: int) -> Reject:
    return Reject("test", f"mem://{n}", "halve", "odd", f"{n} is odd", str(n))


def halve(n: int) -> int | Reject | Outcome:
    """Even numbers halve; odd ones are rejected; multiples of 4 also give a side reject and a tally."""
    if n % 2:
        return bad(n)
    if n % 4 == 0:
        side = Reject("test", f"mem://{n}", "side", "four", "", str(n))
        return Outcome(n // 2, rejects=(side,), counts=(("tally", "fours", 1),))
    return n // 2


def test_apply_routes_values_and_rejects_and_counts_each_input_once():
    def build(pipeline):
        outputs = pipeline | beam.Create([1, 2, 3, 4, 6, 8]) | Apply(halve, "halve")
        assert_that(outputs.ok, equal_to([1, 2, 3, 4]), label="values")
        assert_that(outputs.rejects | beam.Map(lambda r: (r.stage, r.reason, r.source_id)),
                    equal_to([("halve", "odd", "1"), ("halve", "odd", "3"), ("side", "four", "4"),
                              ("side", "four", "8")]), label="rejects")

    counters = run_counted(build)
    assert counters["halve"] == {"in": 6, "out": 4, "rejected": 2}
    assert counters["tally"] == {"fours": 2}  # an Outcome's counts pass through; side rejects count nowhere


def test_an_outcome_of_a_reject_counts_as_rejected_with_its_own_counts():
    def step(n: int) -> Outcome:
        return Outcome(bad(n), counts=(("tally", "seen", 1),))

    def build(pipeline):
        outputs = pipeline | beam.Create([1, 3, 5]) | Apply(step, "halve")
        assert_that(outputs.ok, equal_to([]), label="values")
        assert_that(outputs.rejects | beam.Map(lambda r: r.source_id), equal_to(["1", "3", "5"]), label="rejects")

    assert run_counted(build) == {"halve": {"in": 3, "rejected": 3}, "tally": {"seen": 3}}


def test_expand_counts_results_not_inputs():
    def step(n: int):
        yield from (halve(i) for i in range(n))  # 4 -> 0, 1, 2, 3: two values, two rejects

    def build(pipeline):
        outputs = pipeline | beam.Create([4, 2]) | Expand(step, "halve")
        assert_that(outputs.ok, equal_to([0, 1, 0]), label="values")
        assert_that(outputs.rejects | beam.Map(lambda r: (r.stage, r.source_id)),
                    equal_to([("halve", "1"), ("halve", "3"), ("halve", "1"), ("side", "0"), ("side", "0")]),
                    label="rejects")

    counters = run_counted(build)
    assert counters["halve"] == {"in": 6, "out": 3, "rejected": 3}


def sort_group(key: str, members: list[int]):
    """One value per group (its members but the multiples of 3, sorted); each multiple of 3 is a Reject."""
    yield Outcome((key, tuple(sorted(n for n in members if n % 3))), counts=(("groups", "seen", 1),))
    for n in members:
        if n % 3 == 0:
            yield Reject("test", f"mem://{n}", "group", "multiple-of-3", "", str(n))


def test_apply_to_groups_gives_each_group_whole_and_counts_members():
    elements = [("a", 3), ("b", 7), ("a", 1), ("c", 5), ("a", 2), ("b", 9), ("b", 4)]

    def build(pipeline):
        outputs = (pipeline | beam.Create(elements)
                   | ApplyToGroups(lambda key, members: sort_group(key, [n for _, n in members]), "group",
                                   key=lambda element: element[0]))
        assert_that(outputs.ok, equal_to([("a", (1, 2)), ("b", (4, 7)), ("c", (5,))]), label="groups")
        assert_that(outputs.rejects | beam.Map(lambda r: r.source_id), equal_to(["3", "9"]), label="rejects")

    counters = run_counted(build)
    # 7 members in; 2 rejected; the other 5 go on, whatever the step made of their groups (3 values here).
    assert counters["group"] == {"in": 7, "out": 5, "rejected": 2}
    assert counters["groups"] == {"seen": 3}


def test_apply_to_groups_counts_members_even_when_a_group_makes_one_value():
    def build(pipeline):
        outputs = (pipeline | beam.Create(list(range(7)))
                   | ApplyToGroups(lambda key, members: [sum(members)], "sum", key=lambda n: n % 2))
        assert_that(outputs.ok, equal_to([0 + 2 + 4 + 6, 1 + 3 + 5]))

    assert run_counted(build) == {"sum": {"in": 7, "out": 7}}


def test_apply_to_groups_refuses_more_rejects_than_members():
    def too_many(key, members):
        return [bad(1), bad(1)]

    pipeline = BeamTestPipeline(options=make_options([]))
    _ = pipeline | beam.Create([1]) | ApplyToGroups(too_many, "group", key=str)
    with pytest.raises(Exception, match="2 rejects for a group of 1"):
        pipeline.run().wait_until_finish()


def test_progress_is_logged_when_a_group_crosses_a_thousand(caplog):
    def build(pipeline):
        _ = (pipeline | beam.Create([0] * (PROGRESS_EVERY + 1))
             | ApplyToGroups(lambda key, members: [len(members)], "count", key=lambda n: n))

    with caplog.at_level(logging.INFO, logger="clirdata"):
        counters = run_counted(build)
    assert counters["count"] == {"in": PROGRESS_EVERY + 1, "out": PROGRESS_EVERY + 1}
    assert f"count: {PROGRESS_EVERY + 1} items in this worker" in caplog.text
