"""Statistics of a built collection: sizes, lengths, judgements per query and per document, and the lexical
overlap between each query and its relevant documents (query words found verbatim in the document: the leak
that makes some cross-lingual pairs easy; near 1 for `{q}_{q}`, and it should be low across languages).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

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


@dataclass
class Measured:
    """The values the statistics summarise, one per row: word counts by split (`corpus/fr`, `queries/en`),
    and per qrels split the relevant documents of each query, the queries of each judged document, the
    overlap of each judged (query, document) pair and each query's best overlap."""

    rows: dict[str, int] = field(default_factory=dict)
    lengths: dict[str, list[int]] = field(default_factory=dict)
    relevant_per_query: dict[str, list[int]] = field(default_factory=dict)
    queries_per_document: dict[str, list[int]] = field(default_factory=dict)
    overlaps: dict[str, list[float]] = field(default_factory=dict)
    best_overlaps: dict[str, list[float]] = field(default_factory=dict)


def measure(out_dir: str, files: dict[str, int]) -> Measured:
    """Read every corpus, queries and qrels split of OUT and measure each row."""
    configs = config_splits(files)
    measured = Measured()
    texts: dict[str, dict[str, str]] = {}
    for lang in configs.get("corpus", {}):
        rows = read_split(out_dir, f"corpus/{lang}", columns=["_id", "title", "text"]).to_pylist()
        texts[f"corpus/{lang}"] = {row["_id"]: f"{row['title'] or ''} {row['text'] or ''}" for row in rows}
    for lang in configs.get("queries", {}):
        rows = read_split(out_dir, f"queries/{lang}", columns=["_id", "text"]).to_pylist()
        texts[f"queries/{lang}"] = {row["_id"]: row["text"] for row in rows}
    for split, by_id in texts.items():
        measured.rows[split] = len(by_id)
        measured.lengths[split] = [len(words(text)) for text in by_id.values()]
    for pair in configs.get("qrels", {}):
        query_lang, _, doc_lang = pair.partition("_")
        qrels = read_split(out_dir, f"qrels/{pair}", columns=["query-id", "corpus-id"]).to_pylist()
        measured.rows[f"qrels/{pair}"] = len(qrels)
        measured.relevant_per_query[pair] = list(Counter(r["query-id"] for r in qrels).values())
        measured.queries_per_document[pair] = list(Counter(r["corpus-id"] for r in qrels).values())
        queries, documents = texts.get(f"queries/{query_lang}", {}), texts.get(f"corpus/{doc_lang}", {})
        best: dict[str, float] = defaultdict(float)
        overlaps = measured.overlaps[pair] = []
        for row in qrels:
            if row["query-id"] in queries and row["corpus-id"] in documents:
                share = query_overlap(queries[row["query-id"]], documents[row["corpus-id"]])
                overlaps.append(share)
                best[row["query-id"]] = max(best[row["query-id"]], share)
        measured.best_overlaps[pair] = list(best.values())
    return measured


def summarize(measured: Measured) -> dict:
    """The figures of `clirdata stats`, the manifest's `stats` and the card: distributions, not values."""
    stats: dict = {"corpus": {}, "queries": {}, "qrels": {}}
    for split, lengths in measured.lengths.items():
        config, _, lang = split.partition("/")
        stats[config][lang] = {"rows": measured.rows[split], "words": distribution(lengths)}
    for pair, per_query in measured.relevant_per_query.items():
        overlaps = measured.overlaps[pair]
        stats["qrels"][pair] = {
            "rows": measured.rows[f"qrels/{pair}"], "queries": len(per_query),
            "documents": len(measured.queries_per_document[pair]),
            "relevant_per_query": distribution(per_query),
            "queries_per_document": distribution(measured.queries_per_document[pair]),
            "overlap": {"mean": round(statistics.fmean(overlaps), 4) if overlaps else None,
                        "queries_fully_in_a_relevant_document": sum(share == 1.0
                                                                    for share in measured.best_overlaps[pair])},
        }
    return stats


def collection_stats(out_dir: str, files: dict[str, int]) -> dict:
    """Every figure, by split: corpus and query lengths (words), and for each qrels split the relevant
    documents per query, the queries per judged document, and the query-document overlap."""
    return summarize(measure(out_dir, files))


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
