"""The flow shared by sources of bilingual article metadata (Érudit, any OAI-PMH repository): check the
declared languages, pair each article's languages, and make CLIRudit-style keyword or title queries.

A source built on it says only how its records are read (`read_steps`), what it is called and how its
card reads.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field

from clirdata.align.keywords import (
    TITLE_STAGE,
    Holder,
    PairedArticle,
    PairingOptions,
    first_of_id,
    keyword_query,
    pair_article,
)
from clirdata.checks.langid import DEFAULT_LANGUAGES
from clirdata.checks.language import FIELD_STAGE, LANGUAGE_TALLY, check_record
from clirdata.checks.language import STAGE as CHECK_STAGE
from clirdata.readers.oai import HarvestOptions, harvest_into
from clirdata.schemas import Outcome, Record, Reject
from clirdata.sources.base import EXPAND, GROUP, Regroup, Source, Step, licence_id, licence_note

CLIRUDIT = "valentini-etal-2025-clirudit"
LIMITATIONS = (
    "Queries are authors' keywords combined {k} at a time (or titles), not real users' questions, and a document "
    "is relevant to a query when its article holds all of the query's keywords: the judgements are incomplete (an "
    "unjudged document may well be relevant) and reward shared vocabulary. Documents are titles and abstracts only. "
    "Languages are checked automatically; a field whose declared language is wrong is dropped, and a few may remain.")
LICENSE_TALLY = "licenses"
REPAIRS_TALLY = "repairs"


def pair_step(source_id: str, records: list[Record], options: PairingOptions) -> Iterator[Outcome | Reject]:
    """Pairing of the records that share one id: the winner's PairedArticle (or its reject), then the
    duplicates' rejects; with the licence and repairs tallies and the `title-queries` counts.

    Run as a GROUP step keyed by source id, which counts each record in `pair.in` and each Reject in
    `pair.rejected`. Repairs are tallied over every record, duplicates included.
    """
    winner, duplicates = first_of_id(records)
    repairs = Counter(repair.split(":", 1)[0] for record in records for repair in record.repairs)
    tallies = [(REPAIRS_TALLY, name, n) for name, n in repairs.items()]
    paired = pair_article(winner, options)
    if isinstance(paired, Reject):
        yield Outcome(paired, tallies=tuple(tallies))
    else:
        (document,) = paired.collection.corpus[options.doc_lang]
        tallies.append((LICENSE_TALLY, document["license"] or "unknown", 1))
        counts = []
        if options.mode == "title":
            rejected = sum(reject.stage == TITLE_STAGE for reject in paired.collection.rejects)
            counts = [(TITLE_STAGE, "in", 1), (TITLE_STAGE, "out", 1 - rejected), (TITLE_STAGE, "rejected", rejected)]
        yield Outcome(paired, tuple(paired.collection.rejects), tuple(counts), tuple(tallies))
    yield from duplicates


def source_id_of(record: Record) -> str:
    return record.source_id


def held_combinations(paired: PairedArticle) -> Iterator[tuple[tuple[str, ...], tuple]]:
    """(combination, holder) pairs, the holder as a plain tuple: Beam encodes those natively, a NamedTuple
    it would pickle one by one (~400k of them at CLIRudit's size)."""
    for keys, holder in paired.combinations:
        yield keys, tuple(holder)


def query_rows(keys: tuple[str, ...], holders: Iterable[tuple], options: PairingOptions) -> Iterator[tuple[str, dict]]:
    """The keyword query of one normalised combination and its qrels, from every article that holds it."""
    return keyword_query(keys, map(Holder._make, holders), options).rows()


@dataclass(frozen=True)
class ArticleSource(Source):
    """Bilingual article metadata -> CLIRudit-style collection. Subclasses give `read_steps` and the card."""

    out_dir: str = ""
    pairing: PairingOptions = field(default_factory=PairingOptions)
    languages: tuple[str, ...] = DEFAULT_LANGUAGES

    def read_steps(self) -> list[Step]:
        raise NotImplementedError

    def steps(self) -> list[Step]:
        check = functools.partial(check_record, candidates=self.languages)
        pair = functools.partial(pair_step, options=self.pairing)
        return [*self.read_steps(), Step(CHECK_STAGE, check), Step("pair", pair, GROUP, key=source_id_of)]

    def stages(self) -> list[str]:
        read = [step.stage for step in self.read_steps()]
        title = [TITLE_STAGE] if self.pairing.mode == "title" else []
        return [*read, CHECK_STAGE, FIELD_STAGE, "pair", *title]

    def rows(self, item: PairedArticle) -> Iterator[tuple[str, dict]]:
        return item.collection.rows()

    def regroups(self) -> list[Regroup]:
        if self.pairing.mode != "keywords":
            return []
        return [Regroup("keyword queries", held_combinations, functools.partial(query_rows, options=self.pairing))]

    def documents(self, item: PairedArticle, lang: str) -> list[dict]:
        return item.collection.corpus.get(lang, [])

    def expected_files(self) -> list[str]:
        q, d = self.pairing.query_lang, self.pairing.doc_lang
        files = [f"corpus/{d}.parquet", f"queries/{q}.parquet", f"qrels/{q}_{d}.parquet", "rejects.parquet"]
        if self.pairing.mode == "keywords" and q != d:
            files += [f"corpus/{q}.parquet", f"qrels/{q}_{q}.parquet"]
        return files

    def describe(self) -> dict:
        return {"pairing": asdict(self.pairing), "languages": list(self.languages)}

    def extras(self, out_dir: str, tallies: dict[str, dict[str, int]]) -> dict:
        return {name: dict(sorted(tallies.get(name, {}).items()))
                for name in (LICENSE_TALLY, REPAIRS_TALLY, LANGUAGE_TALLY)}

    def card_sections(self, manifest: dict) -> dict[str, str]:
        """The card's sections of article sources: the language check, field by field."""
        checked = manifest.get(LANGUAGE_TALLY)
        return {"Language check": language_check_section(checked)} if checked else {}

    def card_fields(self, manifest: dict) -> dict[str, str]:
        """The values the card templates of article sources use."""
        q, d = self.pairing.query_lang, self.pairing.doc_lang
        licenses = manifest.get(LICENSE_TALLY, {})
        per_query = f", {self.pairing.k} keywords per query" if self.pairing.mode == "keywords" else ""
        return {"q": q, "d": d, "mode": self.pairing.mode, "per_query": per_query,
                "license_id": licence_id(licenses), "licence_note": licence_note(licenses)}


_FIELD_ORDER = ("title", "subtitle", "abstract", "keywords")


def language_check_section(tally: dict[str, int]) -> str:
    """A table of the fields checked per declared language and field, those kept, and the languages the others
    read as, from the `language_check` tally ("en title fr": 1 English-declared title that reads as French)."""
    rows: dict[tuple[str, str], dict[str, int]] = {}
    for key, n in tally.items():
        declared, name, read_as = key.split(" ")
        rows.setdefault((declared, name), {})[read_as] = n
    lines = ["Every title, subtitle, abstract and keyword list was checked against the language it is declared in "
             "(`clirdata.checks.langid`); a field that reads as another language was dropped, a "
             "`check-fields: language-mismatch` reject.", "",
             "| declared | field | checked | kept | read as another language |", "|---|---|---|---|---|"]
    order = {name: i for i, name in enumerate(_FIELD_ORDER)}
    for declared, name in sorted(rows, key=lambda row: (row[0], order.get(row[1], len(order)), row[1])):
        verdicts = rows[declared, name]
        others = ", ".join(f"{lang} {n}" for lang, n in sorted(verdicts.items()) if lang != declared) or "none"
        lines.append(f"| {declared} | {name} | {sum(verdicts.values())} | {verdicts.get(declared, 0)} | {others} |")
    return "\n".join(lines)


def oai_read_steps(out_dir: str, options: HarvestOptions) -> list[Step]:
    """The one read step of an OAI-PMH source: the harvest, its pages kept under OUT for resuming."""
    return [Step("harvest", functools.partial(harvest_into, out_dir=out_dir, options=options), EXPAND)]
