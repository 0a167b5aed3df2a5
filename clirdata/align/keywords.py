"""CLIRudit's construction: keyword-combination queries, title queries, and their qrels.

Queries are the k-keyword combinations of the articles' query-language keywords, one per
distinct normalised combination across the collection; a document is relevant to a query
when its article's query-language keywords contain all of the query's keywords.

Every function here sees one article or one group: an id's records (`first_of_id`), one article
(`pair_article`), one combination's holders (`keyword_query`). Beam groups by those keys across
workers; `pair_records` runs the same functions in one process, as the reference.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import combinations
from typing import NamedTuple

from clirdata.extractors.text import fold_key
from clirdata.schemas import Record, Reject, empty_row

STAGE = "pair"
TITLE_STAGE = "title-queries"  # title mode: a document whose article has no query-language title
QUERY_MODES = ("keywords", "title")


# Real Érudit articles carry at most ~15 keywords a language, so 50 is never reached by one; it stops
# the k-combinations of a hostile article (C(200, 3) = 1.3 million queries) before they are made.
DEFAULT_MAX_KEYWORDS = 50
# C(50, 3) = 19,600 fits under it, so at the default k the keyword cap is the one that binds; at larger k
# this one does (C(15, 5) = 3,003 for a real article is far below). 20,000 combinations of one article
# take ~10 MB while pairing.
DEFAULT_MAX_QUERIES_PER_ARTICLE = 20_000


@dataclass(frozen=True)
class PairingOptions:
    """What to pair: query and document languages, the query mode and k (keywords per query).

    `max_keywords` and `max_queries_per_article` bound what one article may add in keyword mode:
    an article over either is rejected before any of its combinations is made.
    """

    query_lang: str = "en"
    doc_lang: str = "fr"
    mode: str = "keywords"
    k: int = 3
    max_keywords: int = DEFAULT_MAX_KEYWORDS
    max_queries_per_article: int = DEFAULT_MAX_QUERIES_PER_ARTICLE

    def __post_init__(self) -> None:
        if self.mode not in QUERY_MODES:
            raise ValueError(f"query mode must be one of {QUERY_MODES}, not {self.mode!r}")
        if self.k < 1:
            raise ValueError("k must be at least 1")
        if self.max_keywords < 1 or self.max_queries_per_article < 1:
            raise ValueError("max_keywords and max_queries_per_article must be at least 1")


@dataclass
class Collection:
    """The tables of a built collection, as rows shaped like schemas.tables."""

    corpus: dict[str, list[dict]] = field(default_factory=dict)    # lang -> rows
    queries: dict[str, list[dict]] = field(default_factory=dict)   # lang -> rows
    qrels: dict[str, list[dict]] = field(default_factory=dict)     # "{q}_{d}" -> rows
    rejects: list[Reject] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)

    def extend(self, other: Collection) -> None:
        """Add `other`'s rows and rejects after this one's (stats are the caller's to set)."""
        for mine, theirs in ((self.corpus, other.corpus), (self.queries, other.queries), (self.qrels, other.qrels)):
            for split, rows in theirs.items():
                mine.setdefault(split, []).extend(rows)
        self.rejects.extend(other.rejects)

    def rows(self) -> Iterator[tuple[str, dict]]:
        """(relpath, row) for every row of every table: where the writer puts it (`corpus/fr.parquet`)."""
        for config, tables in (("corpus", self.corpus), ("queries", self.queries), ("qrels", self.qrels)):
            for split, rows in tables.items():
                for row in rows:
                    yield f"{config}/{split}.parquet", row


def corpus_id(record: Record, lang: str) -> str:
    return f"{record.source_id}:{lang}"


def document_row(record: Record, lang: str) -> dict | None:
    """The corpus row of `record` in `lang`: needs a title and an abstract in that language."""
    text = record.texts.get(lang)
    if text is None or not text.title or not text.abstract:
        return None
    row = empty_row("corpus")
    row.update(
        _id=corpus_id(record, lang),
        title=f"{text.title}: {text.subtitle}" if text.subtitle else text.title,
        text=text.abstract,
        lang=lang,
        source=record.source,
        source_id=record.source_id,
        doi=record.doi,
        url=record.url,
        license=record.license,
        journal=record.journal,
        year=record.year,
        keywords=list(text.keywords),
    )
    return row


def _missing(record: Record, lang: str) -> str:
    text = record.texts.get(lang)
    missing = [name for name in ("title", "abstract") if text is None or not getattr(text, name)]
    return f"no {' and no '.join(missing)} in '{lang}'"


def distinct_keywords(record: Record, lang: str) -> dict[str, str]:
    """The record's `lang` keywords as {normalised key: first surface form}."""
    text = record.texts.get(lang)
    surface: dict[str, str] = {}
    for keyword in text.keywords if text is not None else ():
        key = fold_key(keyword)
        if key and key not in surface:
            surface[key] = keyword
    return surface


def keyword_combinations(record: Record, lang: str, k: int) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """The record's k-combinations of `lang` keywords as (normalised keys, surface forms).

    There are C(n, k) of them: callers bound n and C(n, k) first (see `query_problem`).
    """
    surface = distinct_keywords(record, lang)
    return [(combo, tuple(surface[key] for key in combo)) for combo in combinations(sorted(surface), k)]


def combinations_exceed(n: int, k: int, limit: int) -> bool:
    """True when C(n, k) > limit, found in at most min(k, n - k) small steps, never computing a huge C(n, k)."""
    if k > n:
        return False
    count = 1
    for i in range(min(k, n - k)):
        count = count * (n - i) // (i + 1)  # C(n, i + 1): grows with i up to n / 2, so stopping early is exact
        if count > limit:
            return True
    return count > limit


def query_problem(record: Record, options: PairingOptions) -> tuple[str, str] | None:
    """Why `record` can give no queries within the bounds, as (reason, detail); None when it can.

    Title mode needs a query-language title. Keyword mode bounds the article's keywords and its
    k-combinations, checked before any combination is made.
    """
    q = options.query_lang
    text = record.texts.get(q)
    if options.mode == "title":
        return None if text is not None and text.title else ("no-title", f"no title in '{q}' to ask as its query")
    keywords = len(text.keywords) if text is not None else 0
    if keywords > options.max_keywords:
        return "too-many-keywords", f"{keywords} '{q}' keywords > limit of {options.max_keywords}"
    distinct = len(distinct_keywords(record, q))
    if combinations_exceed(distinct, options.k, options.max_queries_per_article):
        return ("too-many-queries", f"C({distinct}, {options.k}) combinations of its '{q}' keywords > limit of "
                                    f"{options.max_queries_per_article} queries per article")
    return None


def _query_id(lang: str, keys: tuple[str, ...]) -> str:
    digest = hashlib.sha1("\x1f".join(keys).encode("utf-8")).hexdigest()[:16]
    return f"kw:{lang}:{digest}"


def _query_row(query_id: str, text: str, lang: str, kind: str, source_id: str) -> dict:
    row = empty_row("queries")
    row.update(_id=query_id, text=text, lang=lang, kind=kind, source_id=source_id)
    return row


def _qrel(query_id: str, doc_id: str) -> dict:
    return {"query-id": query_id, "corpus-id": doc_id, "score": 1}


class Holder(NamedTuple):
    """An article that holds a keyword combination: its id, its surface forms of the keywords, its documents.

    A plain tuple, so that Beam moves millions of them between workers without pickling each.
    """

    source_id: str
    forms: tuple[str, ...]
    doc_id: str
    query_doc_id: str  # its query-language document's id; "" when it has none (or q == d)


@dataclass
class PairedArticle:
    """What one article adds to the collection.

    `collection` holds its documents (and, in title mode, its title query and qrel, or the
    `title-queries` reject of its missing title); `combinations` are the keyword combinations it
    holds, as (normalised keys, Holder), for the queries that `keyword_query` makes per combination.
    """

    collection: Collection
    combinations: tuple[tuple[tuple[str, ...], Holder], ...] = ()


def first_of_id(records: Iterable[Record]) -> tuple[Record, list[Reject]]:
    """The record that keeps an id several records share, and `duplicate-id` rejects of the others.

    The first by (source_uri, sha256) wins, by its whole content if those tie: the same choice
    whatever order the records came in (Beam gives a group's members in any order).
    """
    records = list(records)
    if len(records) == 1:
        return records[0], []
    ordered = sorted(records, key=lambda r: (r.source_id, r.source_uri, r.sha256, repr(r)))
    return ordered[0], [r.reject(STAGE, "duplicate-id", f"{r.source_id} seen before") for r in ordered[1:]]


def pair_article(record: Record, options: PairingOptions) -> PairedArticle | Reject:
    """One checked article's part of the collection, or the reject that keeps it out.

    In keyword mode an article over the keyword or combination caps is rejected whole, document
    included: a document whose combinations were not made would be missing from the qrels of every
    query it holds. In title mode an article without a query-language title keeps its document (a
    distractor, relevant to no query) and its missing query is a reject of stage `title-queries`.
    """
    q, d = options.query_lang, options.doc_lang
    row = document_row(record, d)
    if row is None:
        return record.reject(STAGE, f"no-{d}-document", _missing(record, d))
    problem = query_problem(record, options)
    if problem and options.mode != "title":
        return record.reject(STAGE, *problem)
    collection = Collection(corpus={d: [row]})
    if options.mode == "title":
        if problem:
            collection.rejects.append(record.reject(TITLE_STAGE, *problem))
        else:
            query_id = f"title:{q}:{record.source_id}"
            collection.queries[q] = [_query_row(query_id, record.texts[q].title, q, "title", record.source_id)]
            collection.qrels[f"{q}_{d}"] = [_qrel(query_id, row["_id"])]
        return PairedArticle(collection)
    query_doc_id = ""
    if q != d and (q_row := document_row(record, q)) is not None:
        collection.corpus[q] = [q_row]
        query_doc_id = q_row["_id"]
    combinations_held = tuple((keys, Holder(record.source_id, forms, row["_id"], query_doc_id))
                              for keys, forms in keyword_combinations(record, q, options.k))
    return PairedArticle(collection, combinations_held)


def keyword_query(keys: tuple[str, ...], holders: Iterable[Holder], options: PairingOptions) -> Collection:
    """The query of one normalised combination and its qrels: every article that holds it is relevant.

    Its text is the surface forms of the first holder by source_id, so it does not depend on order.
    """
    q, d = options.query_lang, options.doc_lang
    query, qrels_d, qrels_q = _keyword_rows(keys, holders, q)
    collection = Collection(queries={q: [query]}, qrels={f"{q}_{d}": qrels_d})
    if q != d:
        collection.qrels[f"{q}_{q}"] = qrels_q
    return collection


def _keyword_rows(keys: tuple[str, ...], holders: Iterable[Holder], q: str) -> tuple[dict, list[dict], list[dict]]:
    ordered = sorted(holders)
    query_id = _query_id(q, keys)
    first = ordered[0]
    query = _query_row(query_id, ", ".join(first.forms), q, "keywords", first.source_id)
    qrels_d = [_qrel(query_id, holder.doc_id) for holder in ordered]
    qrels_q = [_qrel(query_id, holder.query_doc_id) for holder in ordered if holder.query_doc_id]
    return query, qrels_d, qrels_q


def empty_collection(options: PairingOptions) -> Collection:
    """The tables a build with these options writes, with no rows yet."""
    q, d = options.query_lang, options.doc_lang
    collection = Collection(corpus={d: []}, queries={q: []}, qrels={f"{q}_{d}": []})
    if options.mode == "keywords" and q != d:
        collection.corpus[q] = []
        collection.qrels[f"{q}_{q}"] = []
    return collection


def pair_records(records: Iterable[Record], options: PairingOptions) -> Collection:
    """Build corpus, queries and qrels from checked records (order does not matter), in one process.

    The reference that the Beam pipeline distributes: records grouped by id (`first_of_id`), each
    article paired alone (`pair_article`), then one query per combination (`keyword_query`).
    `stats["records"] == stats["documents"] + pair rejects` and, in title mode,
    `stats["documents"] == stats["queries"] + title-queries rejects`.
    """
    collection = empty_collection(options)
    by_id: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_id[record.source_id].append(record)
    relevant: dict[tuple[str, ...], list[Holder]] = defaultdict(list)
    for source_id in sorted(by_id):
        winner, duplicates = first_of_id(by_id[source_id])
        paired = pair_article(winner, options)
        if isinstance(paired, Reject):
            collection.rejects.append(paired)
        else:
            collection.extend(paired.collection)
            for keys, holder in paired.combinations:
                relevant[keys].append(holder)
        collection.rejects.extend(duplicates)
    q, d = options.query_lang, options.doc_lang
    for keys in sorted(relevant):  # keyword_query's rows, without a Collection for each of ~10^5 queries
        query, qrels_d, qrels_q = _keyword_rows(keys, relevant[keys], q)
        collection.queries[q].append(query)
        collection.qrels[f"{q}_{d}"].extend(qrels_d)
        if q != d:
            collection.qrels[f"{q}_{q}"].extend(qrels_q)
    collection.stats = {"records": sum(len(group) for group in by_id.values()),
                        "documents": len(collection.corpus[d]), "queries": len(collection.queries[q]),
                        "qrels": len(collection.qrels[f"{q}_{d}"])}
    return collection
