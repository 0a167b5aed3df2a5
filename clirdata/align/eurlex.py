"""EUR-Lex pairing: corpus rows per unit and language, title queries, qrels per language pair.

Unit ids are identical in every language version of an act (`art_7`, `rct_12`), so a unit
of one language is the translation of the same unit in another: that is the alignment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from clirdata.align.keywords import Collection
from clirdata.extractors.eurlex_html import paragraph_prefix
from clirdata.schemas import Reject, empty_row
from clirdata.schemas.legal import ActText, FidelityReport, Unit

UNIT_MODES = ("document", "article")
QUERY_STAGE = "title-queries"


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


def pair_acts(checked_acts: Iterable[CheckedAct], pairing: EurlexPairing) -> Collection:
    """Corpus rows per language, the query-language titles as queries, qrels per pair of languages."""
    collection = Collection(corpus={lang: [] for lang in pairing.langs})
    q = pairing.query_lang
    by_celex: dict[str, dict[str, CheckedAct]] = {}
    seen = 0
    for checked in sorted(checked_acts, key=lambda c: (c.act.celex, c.act.lang)):
        seen += 1
        by_celex.setdefault(checked.act.celex, {})[checked.act.lang] = checked
    queries, qrels = [], {f"{q}_{d}": [] for d in pairing.langs if d != q}
    for celex, versions in by_celex.items():
        rows = {lang: [_corpus_row(c, unit, {u: (lcs, f) for u, lcs, f in c.unit_scores})
                       for unit in act_units(c.act, pairing.unit)] for lang, c in versions.items()}
        for lang, lang_rows in rows.items():
            collection.corpus[lang].extend(lang_rows)
        if q not in versions:  # its units stay in the corpus as distractors; no query to ask
            continue
        if not versions[q].act.title:
            collection.rejects.append(Reject("eurlex", versions[q].act.source_uri, QUERY_STAGE, "no-title",
                                             f"{celex} has no title in '{q}' to ask as its query", celex))
            continue
        query_id = f"{celex}:title:{q}"
        query = empty_row("queries")
        query.update(_id=query_id, text=versions[q].act.title, lang=q, kind="title", source_id=celex)
        queries.append(query)
        for lang, lang_rows in rows.items():
            if lang != q:
                qrels[f"{q}_{lang}"].extend(
                    {"query-id": query_id, "corpus-id": row["_id"], "score": 1} for row in lang_rows)
    collection.queries[q] = queries
    collection.qrels = qrels
    collection.stats = {"records": seen, "documents": seen, "queries": len(queries),
                        "acts": sum(q in versions for versions in by_celex.values())}
    return collection
