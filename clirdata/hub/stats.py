"""Statistics of a built collection: sizes, lengths, judgements per query and per document, and the lexical
overlap between each query and its relevant documents (query words found verbatim in the document: the leak
that makes some cross-lingual pairs easy; near 1 for `{q}_{q}`, and it should be low across languages).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict

from clirdata.hub.card import config_splits
from clirdata.readers.splits import read_split

_WORD = re.compile(r"\w+")


def words(text: str | None) -> list[str]:
    """Lower-cased word tokens (letters, digits, underscores; any script)."""
    return _WORD.findall((text or "").casefold())


def distribution(values: list[int | float]) -> dict[str, float]:
    """count, min, median, mean, 90th percentile (nearest rank) and max; {} for no values."""
    if not values:
        return {}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, max(0, -(-9 * len(ordered) // 10) - 1))]
    return {"count": len(ordered), "min": ordered[0], "median": statistics.median(ordered),
            "mean": round(statistics.fmean(ordered), 3), "p90": p90, "max": ordered[-1]}


def query_overlap(query: str, document: str) -> float:
    """The share of the query's distinct words that the document contains verbatim (0 for a wordless query)."""
    asked = set(words(query))
    return len(asked & set(words(document))) / len(asked) if asked else 0.0


def collection_stats(out_dir: str, files: dict[str, int]) -> dict:
    """Every figure, by split: corpus and query lengths (words), and for each qrels split the relevant
    documents per query, the queries per judged document, and the query-document overlap."""
    configs = config_splits(files)
    corpus_text = {}
    stats: dict = {"corpus": {}, "queries": {}, "qrels": {}}
    for lang in configs.get("corpus", {}):
        rows = read_split(out_dir, f"corpus/{lang}", columns=["_id", "title", "text"]).to_pylist()
        corpus_text[lang] = {row["_id"]: f"{row['title'] or ''} {row['text'] or ''}" for row in rows}
        stats["corpus"][lang] = {"rows": len(rows), "words": distribution([len(words(t))
                                                                          for t in corpus_text[lang].values()])}
    query_text = {}
    for lang in configs.get("queries", {}):
        rows = read_split(out_dir, f"queries/{lang}", columns=["_id", "text"]).to_pylist()
        query_text[lang] = {row["_id"]: row["text"] for row in rows}
        stats["queries"][lang] = {"rows": len(rows), "words": distribution([len(words(r["text"])) for r in rows])}
    for pair in configs.get("qrels", {}):
        query_lang, _, doc_lang = pair.partition("_")
        qrels = read_split(out_dir, f"qrels/{pair}", columns=["query-id", "corpus-id"]).to_pylist()
        per_query, per_doc = Counter(r["query-id"] for r in qrels), Counter(r["corpus-id"] for r in qrels)
        queries, documents = query_text.get(query_lang, {}), corpus_text.get(doc_lang, {})
        best: dict[str, float] = defaultdict(float)
        overlaps = []
        for row in qrels:
            if row["query-id"] in queries and row["corpus-id"] in documents:
                share = query_overlap(queries[row["query-id"]], documents[row["corpus-id"]])
                overlaps.append(share)
                best[row["query-id"]] = max(best[row["query-id"]], share)
        stats["qrels"][pair] = {
            "rows": len(qrels), "queries": len(per_query), "documents": len(per_doc),
            "relevant_per_query": distribution(list(per_query.values())),
            "queries_per_document": distribution(list(per_doc.values())),
            "overlap": {"mean": round(statistics.fmean(overlaps), 4) if overlaps else None,
                        "queries_fully_in_a_relevant_document": sum(share == 1.0 for share in best.values())},
        }
    return stats


def stats_section(stats: dict) -> str:
    """The card's "Statistics" section: lengths and judgements per split, and the overlap."""
    lines = ["| split | rows | words median | words p90 |", "|---|---|---|---|"]
    for config in ("corpus", "queries"):
        for lang, figures in stats[config].items():
            median, p90 = figures["words"].get("median", ""), figures["words"].get("p90", "")
            lines.append(f"| {config}/{lang} | {figures['rows']} | {median} | {p90} |")
    lines += ["", "| qrels | rows | queries | documents | relevant per query (median, max) | "
                  "query words found in the relevant document (mean) | queries wholly in a relevant document |",
              "|---|---|---|---|---|---|---|"]
    for pair, figures in stats["qrels"].items():
        per_query = figures["relevant_per_query"]
        overlap = figures["overlap"]
        lines.append(f"| {pair} | {figures['rows']} | {figures['queries']} | {figures['documents']} | "
                     f"{per_query.get('median', '')}, {per_query.get('max', '')} | {overlap['mean']} | "
                     f"{overlap['queries_fully_in_a_relevant_document']} |")
    lines += ["", "Overlap is the share of a query's distinct words (lower-cased) that its relevant document's "
                  "title and text contain verbatim: high across languages means the pair is easier than it looks."]
    return "\n".join(lines)
