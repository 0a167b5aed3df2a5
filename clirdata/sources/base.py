"""What a source plug-in declares, so that one generic pipeline builds any source.

A source says where its items come from (`seeds`, and anything done before the pipeline in
`prepare`: a listing, a download), the named steps that turn them into paired items (pure
functions: read, extract, check, pair), how a paired item becomes rows, any regrouping (keyword
queries by combination), its stages, files, manifest extras and card text. It never imports Beam:
`clirdata.pipelines.build` runs the steps, routes rejects, counts stages and writes the files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from clirdata.schemas import Reject

APPLY, EXPAND, GROUP = "apply", "expand", "group"


@dataclass(frozen=True)
class Step:
    """One stage of a source's flow: `fn` on each item (APPLY: one result; EXPAND: many), or on each
    group of items sharing `key(item)` (GROUP: `fn(key, members)` yields results; no worker sees more
    than one group). A result is a value, a Reject or an Outcome."""

    stage: str
    fn: Callable[..., Any]
    kind: str = APPLY
    key: Callable[[Any], Any] | None = None

    def __post_init__(self) -> None:
        if self.kind not in (APPLY, EXPAND, GROUP) or (self.kind == GROUP) != (self.key is not None):
            raise ValueError(f"step {self.stage}: kind {self.kind!r} with key {self.key!r}")


@dataclass(frozen=True)
class Regroup:
    """Rows made across paired items: `keys(item)` yields (key, value); the values of one key meet on one
    worker (a GroupByKey) and `rows(key, values)` yields their (relpath, row)."""

    name: str
    keys: Callable[[Any], Iterable[tuple[Any, Any]]]
    rows: Callable[[Any, Iterable[Any]], Iterable[tuple[str, dict]]]


@dataclass(frozen=True)
class Prepared:
    """What a source found or did before its pipeline (list a folder, download files): the seeds the first
    step starts from, the stages and rejects the manifest reports first, how the inputs are described
    there, and the input files whose stored bytes are fingerprinted (in the workers)."""

    seeds: tuple[Any, ...]
    stages: tuple[dict, ...] = ()
    rejects: tuple[Reject, ...] = ()
    inputs: dict = field(default_factory=dict)
    fingerprinted: tuple[str, ...] = ()


@dataclass(frozen=True)
class CardText:
    """The prose of a collection's card, rendered from the source's template in `clirdata/hub/templates`."""

    title: str
    description: str
    license_id: str
    licence_note: str
    sections: dict[str, str] = field(default_factory=dict)
    limitations: str = ""
    citations: tuple[str, ...] = ()  # keys of clirdata/hub/templates/citations.bib: the papers the method follows


class Source:
    """A source plug-in. Subclasses are frozen dataclasses holding the build's options; the pipeline calls:

    prepare() once, on the driver, before the pipeline (a listing, a download): the seeds and what the
    manifest reports of it; steps() in flow order; rows(item) of each item that leaves the last step;
    regroups(); documents(item, lang) for query synthesis; stages() for the manifest; expected_files();
    describe(); extras(out_dir, tallies) after the run; card(manifest) last.
    """

    name: ClassVar[str] = ""

    def prepare(self) -> Prepared:
        raise NotImplementedError

    def steps(self) -> list[Step]:
        raise NotImplementedError

    def rows(self, item: Any) -> Iterator[tuple[str, dict]]:
        raise NotImplementedError

    def regroups(self) -> list[Regroup]:
        return []

    def documents(self, item: Any, lang: str) -> list[dict]:
        """The corpus rows in `lang` of an item, for query synthesis; sources that do not support it say so."""
        raise NotImplementedError(f"{self.name} does not support query synthesis")

    def stages(self) -> list[str]:
        return [step.stage for step in self.steps()]

    def expected_files(self) -> list[str]:
        raise NotImplementedError

    def describe(self) -> dict:
        return {}

    def extras(self, out_dir: str, tallies: dict[str, dict[str, int]]) -> dict:
        """manifest.json's sections besides stages and files, from the tallies the steps reported."""
        return {name: values for name, values in sorted(tallies.items())}

    def card(self, manifest: dict) -> CardText:
        raise NotImplementedError


def licence_id(licenses: dict[str, int]) -> str:
    """The Hub licence id when every document shares one CC licence, else `other`."""
    if len(licenses) == 1:
        (name,) = licenses
        if name.startswith("CC "):
            return "cc-" + name[3:].lower().replace(" ", "-")
    return "other"


def licence_note(licenses: dict[str, int], shown: int = 10) -> str:
    """The card's licence paragraph: the most frequent licences, the full tally is in the manifest."""
    ranked = sorted(licenses.items(), key=lambda item: (-item[1], item[0]))
    listed = ", ".join(f"{name} ({n})" for name, n in ranked[:shown]) or "none"
    more = f", and {len(ranked) - shown} others (see manifest.json)" if len(ranked) > shown else ""
    return f"Each corpus row carries the licence of its article (`license`). Licences seen: {listed}{more}."
