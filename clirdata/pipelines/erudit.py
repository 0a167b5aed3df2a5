"""`build erudit`: read -> extract -> check -> pair -> write, as Beam steps over pure code."""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from clirdata.align.keywords import (
    TITLE_STAGE,
    Holder,
    PairedArticle,
    PairingOptions,
    first_of_id,
    keyword_query,
    pair_article,
)
from clirdata.extractors.erudit import parse_article
from clirdata.extractors.langid import DEFAULT_LANGUAGES
from clirdata.extractors.language_check import check_record
from clirdata.extractors.oai import HarvestOptions, OaiRequest, harvest
from clirdata.hub.card import card_text
from clirdata.pipelines.manifest import build_manifest, stage_list, write_card_and_manifest
from clirdata.pipelines.runner import prepare_out_dir, run
from clirdata.pipelines.sources import InputRef, fingerprint, read_input
from clirdata.pipelines.steps import REJECTS, Apply, ApplyToGroups, Expand
from clirdata.pipelines.synthesize import (
    SynthesisRun,
    Synthesize,
    passage_of,
    synthesis_card_section,
    synthesis_summary,
)
from clirdata.pipelines.writers import WriteTables, collection_rows, reject_row
from clirdata.schemas import Outcome, Record, Reject

_LOG = logging.getLogger("clirdata")
FILE_STAGES = ["read", "extract", "check", "check-fields", "pair"]
OAI_STAGES = ["harvest", "check", "check-fields", "pair"]


@dataclass(frozen=True)
class EruditBuild:
    """Everything a build of an Érudit-style collection needs, from files or OAI-PMH."""

    out_dir: str
    pairing: PairingOptions = field(default_factory=PairingOptions)
    inputs: tuple[InputRef, ...] = ()
    input_location: str = ""
    oai: OaiRequest | None = None
    oai_delay_s: float = 1.0
    oai_options: HarvestOptions = field(default_factory=HarvestOptions)  # its delay_s gives way to oai_delay_s
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    synthesis: SynthesisRun | None = None

    @property
    def stages(self) -> list[str]:
        title = [TITLE_STAGE] if self.pairing.mode == "title" else []
        return (OAI_STAGES if self.oai else FILE_STAGES) + title + (["synthesize"] if self.synthesis else [])

    def expected_files(self) -> list[str]:
        q, d = self.pairing.query_lang, self.pairing.doc_lang
        files = [f"corpus/{d}.parquet", f"queries/{q}.parquet", f"qrels/{q}_{d}.parquet", "rejects.parquet"]
        if self.pairing.mode == "keywords" and q != d:
            files += [f"corpus/{q}.parquet", f"qrels/{q}_{q}.parquet"]
        return files + (self.synthesis.files() if self.synthesis else [])

    def describe(self) -> dict:
        return {"pairing": asdict(self.pairing), "oai": asdict(self.oai) if self.oai else None,
                "languages": list(self.languages),
                "synthesis": self.synthesis.describe() if self.synthesis else None}


def pair_step(source_id: str, records: list[Record], options: PairingOptions) -> Iterator[Outcome | Reject]:
    """Pairing of the records that share one id: the winner's PairedArticle (or its reject), then the
    duplicates' rejects; with the licence, repairs and `title-queries` tallies the manifest reads.

    Run by `ApplyToGroups(..., "pair")`, which counts each record in `pair.in` and each Reject in
    `pair.rejected`. Repairs are tallied over every record, duplicates included, as before.
    """
    winner, duplicates = first_of_id(records)
    repairs = Counter(repair.split(":", 1)[0] for record in records for repair in record.repairs)
    counts = [("repairs", name, n) for name, n in repairs.items()]
    paired = pair_article(winner, options)
    if isinstance(paired, Reject):
        yield Outcome(paired, counts=tuple(counts))
    else:
        (document,) = paired.collection.corpus[options.doc_lang]
        counts.append(("license", document["license"] or "unknown", 1))
        if options.mode == "title":
            rejected = sum(reject.stage == TITLE_STAGE for reject in paired.collection.rejects)
            counts += [(TITLE_STAGE, "in", 1), (TITLE_STAGE, "out", 1 - rejected), (TITLE_STAGE, "rejected", rejected)]
        yield Outcome(paired, tuple(paired.collection.rejects), tuple(counts))
    yield from duplicates


def source_id_of(record: Record) -> str:
    return record.source_id


def article_rows(paired: PairedArticle) -> Iterator[tuple[str, dict]]:
    """(relpath, row) of an article's documents (and its title query and qrel, in title mode)."""
    return collection_rows(paired.collection)


def held_combinations(paired: PairedArticle) -> Iterator[tuple[tuple[str, ...], tuple]]:
    """(combination, holder) pairs, the holder as a plain tuple: Beam encodes those natively, a NamedTuple
    it would pickle one by one (~400k of them at CLIRudit's size)."""
    for keys, holder in paired.combinations:
        yield keys, tuple(holder)


def _query_rows(group: tuple[tuple[str, ...], Iterable[tuple]], options: PairingOptions) -> Iterator[tuple[str, dict]]:
    keys, holders = group
    return collection_rows(keyword_query(keys, map(Holder._make, holders), options))


class KeywordQueries(beam.PTransform):
    """Paired articles -> (relpath, row) of the keyword queries and their qrels, one query per
    normalised combination: a GroupByKey on the combination, so no worker sees the whole collection."""

    def __init__(self, options: PairingOptions):
        super().__init__()
        self._options = options

    def expand(self, articles):
        return (articles
                | "combinations" >> beam.FlatMap(held_combinations)
                | "by combination" >> beam.GroupByKey()
                | "query rows" >> beam.FlatMap(_query_rows, self._options))


class PairArticles(beam.PTransform):
    """Checked records -> {"articles": PairedArticle, "rows": (relpath, row), "rejects": Reject}.

    Duplicate ids by a GroupByKey on the id, then each article alone (stage `pair`), then in keyword
    mode one query per combination (`KeywordQueries`): no step sees the whole collection.
    """

    def __init__(self, options: PairingOptions):
        super().__init__()
        self._options = options

    def expand(self, records):
        pair = functools.partial(pair_step, options=self._options)
        paired = records | ApplyToGroups(pair, "pair", key=source_id_of)
        rows = [paired.ok | "article rows" >> beam.FlatMap(article_rows)]
        if self._options.mode == "keywords":
            rows.append(paired.ok | KeywordQueries(self._options))
        return {"articles": paired.ok, "rows": rows | "rows" >> beam.Flatten(), "rejects": paired.rejects}


def _document_in(paired: PairedArticle, lang: str) -> list[dict]:
    return paired.collection.corpus.get(lang, [])


def _row_id(row: dict) -> str:
    return row["_id"]


def _each(items: list) -> list:
    return items


class SynthesisPassages(beam.PTransform):
    """Paired articles -> the passages to synthesize queries for: their `doc_lang` documents, or
    the first `max_docs` by id (a combine: each worker keeps its own first `max_docs`, then those merge)."""

    def __init__(self, run_spec: SynthesisRun):
        super().__init__()
        self._run = run_spec

    def expand(self, articles):
        rows = articles | "documents" >> beam.FlatMap(_document_in, self._run.doc_lang)
        if self._run.max_docs is not None:
            rows = (rows | "first by id" >> beam.combiners.Top.Smallest(self._run.max_docs, key=_row_id)
                    | "one by one" >> beam.FlatMap(_each))
        return rows | "passage" >> beam.Map(passage_of)


def log_harvest_progress(done: int, total: int) -> None:
    """One log line a page: records so far, of completeListSize when the server gives it."""
    _LOG.info("harvest: %d records%s", done, f" of {total}" if total else "")


OAI_STATE_DIR = (".clirdata", "oai")  # under OUT: clirdata's private folder, this step's subfolder
_UNCOMPRESSED = CompressionTypes.UNCOMPRESSED


class OaiPageStore:
    """The pages of one OAI request, kept in `folder` (any Beam filesystem) so a killed harvest resumes.

    Page i is `page-{i:06d}.xml`, the raw bytes as the server sent them, written under a temporary
    name and renamed: a page is whole or absent. The token to follow is in the page itself.
    A page that cannot be read, or is over `max_bytes`, counts as absent and is fetched again.
    """

    def __init__(self, folder: str, request: OaiRequest, max_bytes: int):
        self._folder = folder
        self._request = request
        self._max_bytes = max_bytes
        self._described = False

    def _path(self, index: int) -> str:
        return FileSystems.join(self._folder, f"page-{index:06d}.xml")

    def load(self, index: int) -> bytes | None:
        path = self._path(index)
        try:
            if not FileSystems.exists(path):
                return None
            with FileSystems.open(path, compression_type=_UNCOMPRESSED) as handle:
                body = handle.read(self._max_bytes + 1)
        except OSError as error:
            _LOG.warning("harvest: cannot read saved page %s: %s", path, error)
            return None
        return body if len(body) <= self._max_bytes else None

    def save(self, index: int, body: bytes) -> None:
        try:
            if not self._described:  # for a person looking at the folder: which request it holds
                self._write(FileSystems.join(self._folder, "request.json"), _request_json(self._request))
                self._described = True
            self._write(self._path(index), body)
        except OSError as error:  # the harvest goes on; only a later resume loses this page
            _LOG.warning("harvest: cannot save page %d in %s: %s", index, self._folder, error)

    @staticmethod
    def _write(path: str, data: bytes) -> None:
        temporary = f"{path}.tmp-{uuid.uuid4().hex}"
        with FileSystems.create(temporary, compression_type=_UNCOMPRESSED) as handle:
            handle.write(data)
        FileSystems.rename([temporary], [path])


def _request_json(request: OaiRequest) -> bytes:
    return json.dumps(asdict(request), indent=2, sort_keys=True).encode()


def oai_state_folder(out_dir: str, request: OaiRequest) -> str:
    """OUT/.clirdata/oai/<key of the request>/: a different request never replays these pages."""
    return FileSystems.join(out_dir, *OAI_STATE_DIR, request.state_key())


def harvest_into(request: OaiRequest, out_dir: str, options: HarvestOptions) -> Iterator[Record | Reject]:
    """The harvest step: `harvest` with its pages kept under OUT, so a rerun resumes where it stopped."""
    store = OaiPageStore(oai_state_folder(out_dir, request), request, options.max_page_bytes)
    yield from harvest(request, options, store=store, progress=log_harvest_progress)


class EruditCollection(beam.PTransform):
    """The whole Érudit build as one composite: it reads like the flow in DESIGN.md."""

    def __init__(self, build: EruditBuild):
        super().__init__()
        self._build = build

    def expand(self, pbegin):
        build = self._build
        rejects = []
        if build.oai:
            options = replace(build.oai_options, delay_s=build.oai_delay_s)
            harvest_step = functools.partial(harvest_into, out_dir=build.out_dir, options=options)
            harvested = pbegin | "oai request" >> beam.Create([build.oai]) | Expand(harvest_step, "harvest")
            records, rejects = harvested.ok, [harvested.rejects]
        else:
            raw = (pbegin | "inputs" >> beam.Create(list(build.inputs))
                   | Expand(functools.partial(read_input, source="erudit"), "read"))
            extracted = raw.ok | Apply(parse_article, "extract")
            records, rejects = extracted.ok, [raw.rejects, extracted.rejects]
        checked = records | Apply(functools.partial(check_record, candidates=build.languages), "check")
        paired = checked.ok | PairArticles(build.pairing)
        rows = [paired["rows"]]
        rejects += [checked.rejects, paired["rejects"]]
        if build.synthesis:
            generated = paired["articles"] | SynthesisPassages(build.synthesis) | Synthesize(build.synthesis)
            rows.append(generated.ok)
            rejects.append(generated[REJECTS])
        reject_rows = rejects | "all rejects" >> beam.Flatten() | "reject rows" >> beam.Map(reject_row)
        return ((*rows, reject_rows)
                | "all rows" >> beam.Flatten()
                | WriteTables(build.out_dir, build.expected_files()))


def _license_id(licenses: dict[str, int]) -> str:
    """The Hub licence id when every document shares one CC licence, else `other`."""
    if len(licenses) == 1:
        (name,) = licenses
        if name.startswith("CC "):
            return "cc-" + name[3:].lower().replace(" ", "-")
    return "other"


def _licence_note(licenses: dict[str, int], shown: int = 10) -> str:
    """The card's licence paragraph: the most frequent licences, the full tally is in the manifest."""
    ranked = sorted(licenses.items(), key=lambda item: (-item[1], item[0]))
    listed = ", ".join(f"{name} ({n})" for name, n in ranked[:shown])
    more = f", and {len(ranked) - shown} others (see manifest.json)" if len(ranked) > shown else ""
    return f"Each corpus row carries the licence of its article (`license`). Licences seen: {listed}{more}."


def run_erudit(build: EruditBuild, options, command: str) -> dict:
    """Run the build and write README.md and manifest.json (last); returns the manifest."""
    prepare_out_dir(build.out_dir)
    inputs = build.describe()["oai"] if build.oai else {"location": build.input_location,
                                                        **fingerprint(list(build.inputs))}
    files, counters = run(lambda p: p | EruditCollection(build), options, build.out_dir)
    licenses = dict(sorted(counters.pop("license", {}).items()))
    extra = {"licenses": licenses, "repairs": dict(sorted(counters.pop("repairs", {}).items()))}
    if build.synthesis:
        extra["synthesis"] = synthesis_summary(counters, build.synthesis)
    manifest = build_manifest(command=command, options=build.describe(), inputs=inputs,
                              stages=stage_list(counters, build.stages), files=files, extra=extra)
    q, d = build.pairing.query_lang, build.pairing.doc_lang
    manifest["card"] = card_text(
        title=f"Érudit CLIR collection: {q} queries, {d} documents",
        description=(f"A cross-lingual retrieval collection built by clirdata from Érudit article metadata "
                     f"in the style of CLIRudit: `{q}` queries ({build.pairing.mode} mode"
                     + (f", {build.pairing.k} keywords per query" if build.pairing.mode == "keywords" else "")
                     + f") and `{d}` documents (title and abstract). `qrels/{q}_{q}` pairs the same queries "
                     f"with the `{q}` documents of the same articles: the perfect-translation upper bound."),
        license_id=_license_id(licenses),
        licence_note=_licence_note(licenses),
        sections={"Synthetic queries": synthesis_card_section(extra["synthesis"])} if build.synthesis else None,
    )
    write_card_and_manifest(build.out_dir, manifest)
    return manifest
