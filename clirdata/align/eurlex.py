"""EUR-Lex pairing: corpus rows per unit and language, title queries, qrels per language pair.

Unit ids are identical in every language version of an act (`art_7`, `rct_12`), so a unit
of one language is the translation of the same unit in another: that is the alignment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from clirdata.align.keywords import Collection
from clirdata.extractors.eurlex_html import paragraph_prefix
from clirdata.schemas import Reject, empty_row
from clirdata.schemas.legal import ActText, FidelityReport, Unit

UNIT_MODES = ("document", "article")
QUERY_STAGE = "title-queries"
PAIR_STAGE = "pair"


@dataclass(frozen=True)
class CheckedAct:
    """A language version of an act (from its HTML) with its PDF's scores, if it has a PDF.

    `unit_scores` are (row unit id, LCS, fidelity) of each corpus row's stretch of PDF text.
    """

    act: ActText
    report: FidelityReport | None = None
    pdf_pages: int = 0
    unit_scores: tuple[tuple[str, float, float], ...] = ()


@dataclass(frozen=True)
class EurlexPairing:
    """Languages of the collection, the query language and the corpus unit."""

    langs: tuple[str, ...] = ("en", "fr", "de")
    query_lang: str = "en"
    unit: str = "document"

    def __post_init__(self) -> None:
        if self.unit not in UNIT_MODES:
            raise ValueError(f"unit must be one of {UNIT_MODES}, not {self.unit!r}")
        if self.query_lang not in self.langs:
            raise ValueError(f"the query language {self.query_lang!r} must be one of --langs {self.langs}")


NOT_IN_ROWS = ("final",)  # the concluding formula and signatures: scored for fidelity, never retrieved


def act_units(act: ActText, unit: str) -> list[Unit]:
    """The corpus rows of an act as units: the whole act, or one per recital/article/annex.

    In article mode an article's numbered paragraphs (`007.001`) are merged into `art_7`;
    chapter headings (section units) are in the document row only, signatures in no row.
    """
    if unit == "document":
        texts = (u.full_text for u in act.units if u.full_text and u.kind not in NOT_IN_ROWS)
        return [Unit("doc", "document", "\n".join(texts))]
    rows: dict[str, list] = {}
    article_of_paragraph: dict[str, str] = {}
    for item in act.units:
        if item.kind == "article":
            rows[item.id] = [item.kind, item.heading, [item.text] if item.text else []]
            article_of_paragraph[paragraph_prefix(item.id)] = item.id
        elif item.kind == "paragraph" and item.id.split(".")[0] in article_of_paragraph:
            rows[article_of_paragraph[item.id.split(".")[0]]][2].append(item.full_text)
        elif item.kind in ("recital", "annex"):
            rows[item.id] = [item.kind, item.heading, [item.text] if item.text else []]
    return [Unit(unit_id, kind, "\n".join(texts), heading) for unit_id, (kind, heading, texts) in rows.items()
            if "\n".join(texts).strip() or heading]


def _corpus_row(checked: CheckedAct, unit: Unit, scores: dict[str, tuple[float, float]]) -> dict:
    act = checked.act
    unit_lcs, unit_fidelity = scores.get(unit.id, (None, None))
    report = checked.report
    row = empty_row("corpus")
    row.update(_id=f"{act.celex}:{unit.id}:{act.lang}",
               title=f"{act.title} — {unit.heading}" if unit.heading else act.title,
               text=unit.text, lang=act.lang, source="eurlex", source_id=act.celex, unit=unit.id,
               url=f"https://eur-lex.europa.eu/legal-content/{act.lang.upper()}/TXT/?uri=CELEX:{act.celex}",
               license="EU legal text: reuse authorised with acknowledgement (Decision 2011/833/EU)",
               lcs=report.lcs if report else None, fidelity=report.fidelity if report else None,
               unit_lcs=unit_lcs, unit_fidelity=unit_fidelity)
    return row


def act_of(checked: CheckedAct) -> str:
    """The CELEX number of a checked version: the key that groups an act's versions."""
    return checked.act.celex


def pair_act(versions: Iterable[CheckedAct], pairing: EurlexPairing) -> Collection:
    """One act's part of the collection: its versions' units as corpus rows, its query-language
    title as the query, relevant to its units in every other language.

    A second version in the same language is a `pair` reject (`duplicate-version`): the first by
    source_uri (then sha256) stays, whatever the order. A missing query-language title is a
    `title-queries` reject; the act's units stay in the corpus as distractors, as they do when it
    has no query-language version at all.
    """
    by_lang, duplicates = _one_per_language(versions)
    rows = {lang: [_corpus_row(c, unit, {u: (lcs, f) for u, lcs, f in c.unit_scores})
                   for unit in act_units(c.act, pairing.unit)] for lang, c in by_lang.items()}
    collection = Collection(corpus=rows, rejects=duplicates)
    q = pairing.query_lang
    if q in by_lang:
        _add_title_query(collection, by_lang[q].act, rows)
    collection.stats = {"versions": len(by_lang), "acts": int(q in by_lang),
                        "queries": len(collection.queries.get(q, []))}
    return collection


def _one_per_language(versions: Iterable[CheckedAct]) -> tuple[dict[str, CheckedAct], list[Reject]]:
    by_lang: dict[str, CheckedAct] = {}
    duplicates = []
    for checked in sorted(versions, key=lambda c: (c.act.lang, c.act.source_uri, c.act.sha256)):
        act = checked.act
        if act.lang in by_lang:
            duplicates.append(Reject("eurlex", act.source_uri, PAIR_STAGE, "duplicate-version",
                                     f"{by_lang[act.lang].act.source_uri} is already the '{act.lang}' version "
                                     f"of {act.celex}", act.celex))
        else:
            by_lang[act.lang] = checked
    return by_lang, duplicates


def _add_title_query(collection: Collection, act: ActText, rows: dict[str, list[dict]]) -> None:
    """The act's title in its own language `act.lang` as the query; every other language's rows relevant."""
    q = act.lang
    if not act.title:
        collection.rejects.append(Reject("eurlex", act.source_uri, QUERY_STAGE, "no-title",
                                         f"{act.celex} has no title in '{q}' to ask as its query", act.celex))
        return
    query_id = f"{act.celex}:title:{q}"
    query = empty_row("queries")
    query.update(_id=query_id, text=act.title, lang=q, kind="title", source_id=act.celex)
    collection.queries[q] = [query]
    collection.qrels = {f"{q}_{lang}": [{"query-id": query_id, "corpus-id": row["_id"], "score": 1}
                                        for row in lang_rows] for lang, lang_rows in rows.items() if lang != q}


def pair_acts(checked_acts: Iterable[CheckedAct], pairing: EurlexPairing) -> Collection:
    """Corpus rows per language, the query-language titles as queries, qrels per pair of languages.

    The reference that the Beam pipeline distributes (one `pair_act` per CELEX), in one process.
    """
    q = pairing.query_lang
    collection = Collection(corpus={lang: [] for lang in pairing.langs}, queries={q: []},
                            qrels={f"{q}_{d}": [] for d in pairing.langs if d != q})
    by_celex: dict[str, list[CheckedAct]] = defaultdict(list)
    for checked in checked_acts:
        by_celex[act_of(checked)].append(checked)
    totals = {"records": 0, "documents": 0, "queries": 0, "acts": 0}
    for celex in sorted(by_celex):
        paired = pair_act(by_celex[celex], pairing)
        collection.extend(paired)
        for name, n in (("records", len(by_celex[celex])), ("documents", paired.stats["versions"]),
                        ("queries", paired.stats["queries"]), ("acts", paired.stats["acts"])):
            totals[name] += n
    collection.stats = totals
    return collection
