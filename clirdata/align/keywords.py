"""CLIRudit's construction: keyword-combination queries, title queries, and their qrels.

Queries are the k-keyword combinations of the articles' query-language keywords, one per
distinct normalised combination across the collection; a document is relevant to a query
when its article's query-language keywords contain all of the query's keywords. An
inverted index from combination to articles builds CLIRudit's size in seconds.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations

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


def pair_records(records: Iterable[Record], options: PairingOptions) -> Collection:
    """Build corpus, queries and qrels from checked records (order does not matter).

    In keyword mode an article over the keyword or combination caps is rejected whole, document
    included: a document whose combinations were not made would be missing from the qrels of every
    query it holds. In title mode an article without a query-language title keeps its document (a
    distractor, relevant to no query) and its missing query is a reject of stage `title-queries`.
    So `stats["records"] == stats["documents"] + pair rejects` and, in title mode,
    `stats["documents"] == stats["queries"] + title-queries rejects`.
    """
    q, d = options.query_lang, options.doc_lang
    collection = Collection()
    documents: dict[str, dict] = {}       # source_id -> doc-language row
    query_docs: dict[str, dict] = {}      # source_id -> query-language row
    by_id: dict[str, Record] = {}
    ordered = sorted(records, key=lambda r: (r.source_id, r.source_uri))
    for record in ordered:
        if record.source_id in by_id:
            collection.rejects.append(record.reject(STAGE, "duplicate-id", f"{record.source_id} seen before"))
            continue
        by_id[record.source_id] = record
        row = document_row(record, d)
        if row is None:
            collection.rejects.append(record.reject(STAGE, f"no-{d}-document", _missing(record, d)))
            continue
        if problem := query_problem(record, options):
            collection.rejects.append(record.reject(TITLE_STAGE if options.mode == "title" else STAGE, *problem))
            if options.mode != "title":
                continue
        documents[record.source_id] = row
        if q != d and (q_row := document_row(record, q)) is not None:
            query_docs[record.source_id] = q_row

    if options.mode == "keywords":
        queries, qrels_d, qrels_q = _keyword_queries(by_id, documents, query_docs, options)
    else:
        queries, qrels_d, qrels_q = _title_queries(by_id, documents, options)
    collection.corpus[d] = list(documents.values())
    collection.queries[q] = queries
    collection.qrels[f"{q}_{d}"] = qrels_d
    if options.mode == "keywords" and q != d:
        collection.corpus[q] = list(query_docs.values())
        collection.qrels[f"{q}_{q}"] = qrels_q
    collection.stats = {"records": len(ordered),
                        "documents": len(documents), "queries": len(queries), "qrels": len(qrels_d)}
    return collection


def _keyword_queries(by_id, documents, query_docs, options):
    """Inverted index from normalised combination to the documents whose keywords hold it."""
    q = options.query_lang
    relevant: dict[tuple[str, ...], list[str]] = defaultdict(list)
    surface: dict[tuple[str, ...], tuple[str, tuple[str, ...]]] = {}
    for source_id in documents:  # sorted by source_id, so the first surface form is stable
        for keys, forms in keyword_combinations(by_id[source_id], q, options.k):
            relevant[keys].append(source_id)
            surface.setdefault(keys, (source_id, forms))
    queries, qrels_d, qrels_q = [], [], []
    for keys in sorted(relevant):
        query_id = _query_id(q, keys)
        first_id, forms = surface[keys]
        queries.append(_query_row(query_id, ", ".join(forms), q, "keywords", first_id))
        for source_id in relevant[keys]:
            qrels_d.append(_qrel(query_id, documents[source_id]["_id"]))
            if source_id in query_docs:
                qrels_q.append(_qrel(query_id, query_docs[source_id]["_id"]))
    return queries, qrels_d, qrels_q


def _title_queries(by_id, documents, options):
    """The query-language title is the query; its own article's document is the one relevant."""
    q = options.query_lang
    queries, qrels_d = [], []
    for source_id, row in documents.items():
        text = by_id[source_id].texts.get(q)
        if text is None or not text.title:
            continue  # a title-queries reject already says so
        query_id = f"title:{q}:{source_id}"
        queries.append(_query_row(query_id, text.title, q, "title", source_id))
        qrels_d.append(_qrel(query_id, row["_id"]))
    return queries, qrels_d, []
