"""The dataset card (OUT/README.md), and the file names of a split that its `configs:` header declares.

`datasets.load_dataset(OUT, "corpus", split="fr")` works from this header alone. A split is one
file (`corpus/fr.parquet`) or a complete set of shards with the Hub's names
(`corpus/fr-00000-of-00004.parquet` ... `-00003-of-00004`), declared by the pattern
`corpus/fr-?????-of-00004.parquet`, which matches that set and no stale shard of another count.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources

from clirdata.schemas import CONFIG_TABLES

_SPLIT_FILE = re.compile(r"(?P<stem>(?:\w+/)?\w+)(?:-(?P<index>\d{5})-of-(?P<count>\d{5}))?\.parquet", re.ASCII)
MAX_SHARDS = 99_999  # five digits in the Hub's shard names


@dataclass(frozen=True, order=True)
class SplitFile:
    """One file of a split: `stem` names the split (`corpus/fr`, `rejects`); a plain file is shard 0 of 1."""

    stem: str
    index: int = 0
    count: int = 1

    @property
    def relpath(self) -> str:
        if self.count == 1:
            return f"{self.stem}.parquet"
        return f"{self.stem}-{self.index:05d}-of-{self.count:05d}.parquet"


def shard_relpath(stem: str, index: int, count: int) -> str:
    """The relpath of shard `index` of `count` of a split: its plain name when `count` is 1."""
    if not 0 <= index < count <= MAX_SHARDS:
        raise ValueError(f"shard {index} of {count} is not a shard clirdata writes")
    return SplitFile(stem, index, count).relpath


def parse_split_file(relpath: str) -> SplitFile | None:
    """The split and shard a relpath names, or None when it is not a name clirdata writes.

    Only canonical names count: `fr-00000-of-00001.parquet` (one shard keeps its plain name) and
    `fr-00004-of-00004.parquet` (index past the count) are not clirdata's.
    """
    match = _SPLIT_FILE.fullmatch(relpath)
    if match is None:
        return None
    index, count = (int(match["index"]), int(match["count"])) if match["count"] else (0, 1)
    if not 0 <= index < count:
        return None
    parsed = SplitFile(match["stem"], index, count)
    return parsed if parsed.relpath == relpath else None


class IncompleteSplit(FileNotFoundError):
    """The files of a split are not one complete set: a shard is missing, or two sets are mixed."""


def complete_set(stem: str, relpaths: list[str]) -> list[str]:
    """`relpaths` (clirdata's names of files of split `stem`) in shard order, when they are one complete set.

    Raises IncompleteSplit naming the first missing shard, or the sets that are mixed (a plain file
    next to shards, shards of two counts): reading such a split would lose or double rows.
    """
    parsed = sorted(parse_split_file(relpath) or SplitFile("") for relpath in relpaths)
    if any(part.stem != stem for part in parsed):
        raise ValueError(f"not all of {relpaths} are files of split {stem}")
    counts = sorted({part.count for part in parsed})
    if len(counts) > 1:
        shown = ", ".join(part.relpath for part in parsed[:4])
        raise IncompleteSplit(f"{stem} has files of {len(counts)} different shard sets ({shown}...): "
                              f"rerun the build that wrote them")
    expected = [shard_relpath(stem, index, counts[0]) for index in range(counts[0])] if counts else []
    missing = sorted(set(expected) - set(relpaths))
    if missing:
        raise IncompleteSplit(f"{missing[0]} not found: {stem} has {len(relpaths)} of its {len(expected)} "
                              f"shards, rerun the build that wrote them")
    return expected


def config_splits(files: dict[str, int]) -> dict[str, dict[str, list[str]]]:
    """{config: {split: [relpaths in shard order]}} for every file of a config in `files` (rejects are none)."""
    configs: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for relpath in sorted(files):
        parsed = parse_split_file(relpath)
        if parsed is None or "/" not in parsed.stem:
            continue
        config, split = parsed.stem.split("/")
        if config in CONFIG_TABLES:
            configs[config][split].append(relpath)
    return {config: dict(splits) for config, splits in configs.items()}


def _shown(stem: str, relpaths: list[str]) -> str:
    entry = data_files_entry(stem, relpaths)
    return entry if isinstance(entry, str) else ", ".join(entry)


def data_files_entry(stem: str, relpaths: list[str]) -> str | list[str]:
    """What the card's `path:` says for a split: its file, its shard pattern, or (a broken set) every file."""
    try:
        ordered = complete_set(stem, relpaths)
    except IncompleteSplit:
        return sorted(relpaths)
    if len(ordered) > 1:
        return f"{stem}-?????-of-{len(ordered):05d}.parquet"
    return ordered[0] if ordered else []


# The Hub's size categories, by the number of corpus rows.
_SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                    (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"))


def size_category(rows: int) -> str:
    return next((name for bound, name in _SIZE_CATEGORIES if rows < bound), "n>100M")


def mteb_subset(pair: str) -> str:
    """MTEB's name of a language pair: `en_fr` -> `eng-fra` (ISO 639-3)."""
    from clirdata.checks.langid import iso639_3

    query_lang, _, doc_lang = pair.partition("_")
    return f"{iso639_3(query_lang)}-{iso639_3(doc_lang)}"


# ISO 15924 scripts of the languages that are not written in Latin script (MTEB names a language eng-Latn).
_SCRIPTS = {"ar": "Arab", "fa": "Arab", "ur": "Arab", "ru": "Cyrl", "uk": "Cyrl", "bg": "Cyrl", "sr": "Cyrl",
            "mk": "Cyrl", "be": "Cyrl", "kk": "Cyrl", "el": "Grek", "he": "Hebr", "zh": "Hans", "ja": "Jpan",
            "ko": "Kore", "hi": "Deva", "mr": "Deva", "ne": "Deva", "th": "Thai", "hy": "Armn", "ka": "Geor",
            "bn": "Beng", "ta": "Taml"}


def mteb_language(lang: str) -> str:
    """MTEB's `{ISO 639-3}-{ISO 15924}` for an ISO 639-1 code: fr -> fra-Latn, ru -> rus-Cyrl."""
    from clirdata.checks.langid import iso639_3

    return f"{iso639_3(lang)}-{_SCRIPTS.get(lang, 'Latn')}"


def task_class(manifest: dict) -> str:
    """The task's Python class name, from the source: `ClirdataEruditRetrieval`."""
    words = re.findall(r"[A-Za-z0-9]+", str(manifest.get("source", "")))
    return "Clirdata" + "".join(word.capitalize() for word in words) + "Retrieval"


def mteb_configs(configs: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, str]]:
    """MTEB's view of the same files: `{subset}-corpus|queries|qrels`, each with the one split `test`, for
    every pair with qrels (MTEB's RetrievalDatasetLoader reads those names). No data is copied.

    Returns {config name: {"test": stem of the split}}."""
    views = {}
    for pair in configs.get("qrels", {}):
        query_lang, _, doc_lang = pair.partition("_")
        if doc_lang not in configs.get("corpus", {}) or query_lang not in configs.get("queries", {}):
            continue
        subset = mteb_subset(pair)
        views[f"{subset}-corpus"] = f"corpus/{doc_lang}"
        views[f"{subset}-queries"] = f"queries/{query_lang}"
        views[f"{subset}-qrels"] = f"qrels/{pair}"
    return views


def _data_files(split: str, entry: str | list[str]) -> list[str]:
    lines = [f"  - split: {split}"]
    return lines + ([f"    path: {entry}"] if isinstance(entry, str) else ["    path:", *(f"    - {p}" for p in entry)])


def _yaml_header(manifest: dict, languages: list[str], license_id: str) -> list[str]:
    configs = config_splits(manifest["files"])
    corpus_rows = sum(manifest["files"][path] for relpaths in configs.get("corpus", {}).values() for path in relpaths)
    title = manifest["card"]["title"].replace('"', "'")
    lines = ["---", f"license: {license_id}", f'pretty_name: "{title}"', "language:"]
    lines += [f"- {lang}" for lang in languages]
    lines += ["multilinguality:", "- multilingual" if len(languages) > 1 else "- monolingual",
              "size_categories:", f"- {size_category(corpus_rows)}", "source_datasets:", "- original",
              "task_categories:", "- text-retrieval", "task_ids:", "- document-retrieval",
              "tags:", "- clir", "- cross-lingual-retrieval", "- clirdata", "- mteb", "- beir", "configs:"]
    for config, splits in configs.items():
        lines += [f"- config_name: {config}", "  data_files:"]
        for split, relpaths in splits.items():
            lines += _data_files(split, data_files_entry(f"{config}/{split}", relpaths))
    for name, stem in mteb_configs(configs).items():
        config, split = stem.split("/")
        lines += [f"- config_name: {name}", "  data_files:",
                  *_data_files("test", data_files_entry(stem, configs[config][split]))]
    lines.append("---")
    return lines


def card_text(*, title: str, description: str, license_id: str, licence_note: str,
              sections: dict[str, str] | None = None, limitations: str = "", citations: tuple[str, ...] = ()) -> dict:
    """The prose of a card, kept in manifest.json so a later step (synthesize) can render it again."""
    return {"title": title, "description": description, "license_id": license_id,
            "licence_note": licence_note, "sections": dict(sections or {}), "limitations": limitations,
            "citations": list(citations)}


SWIM_IR = "thakur-etal-2024-leveraging"  # cited when a build has synthetic queries


def bibtex(keys: list[str]) -> list[str]:
    """The entries of `clirdata/hub/templates/citations.bib` with these keys, in that order (KeyError if unknown)."""
    text = (resources.files("clirdata.hub") / "templates" / "citations.bib").read_text(encoding="utf-8")
    entries = {re.match(r"@\w+\{([^,]+),", entry).group(1): entry.strip()
               for entry in re.split(r"\n(?=@)", text) if entry.strip()}
    return [entries[key] for key in keys]


def citation_bibtex(manifest: dict) -> str:
    """The BibTeX of the collection itself, then of the work whose method it follows."""
    return "\n\n".join([_collection_entry(manifest), *bibtex(manifest["card"].get("citations", []))])


def _collection_entry(manifest: dict) -> str:
    year = str(manifest.get("created", ""))[:4] or "n.d."
    source = manifest.get("source", "clirdata")
    title = manifest["card"]["title"].replace("{", "").replace("}", "").replace('"', "'")
    command = manifest["command"].replace("{", "").replace("}", "").replace('"', "'")
    return (f"@misc{{clirdata-{source}-{year},\n    title = \"{title}\",\n    year = \"{year}\",\n"
            f"    note = \"Built with clirdata {manifest['clirdata_version']}: {command}\"\n}}")


def _fingerprint_line(inputs: dict) -> list[str]:
    if "digest" not in inputs:
        return []
    return [f"Inputs: {inputs['files']} files, {inputs['bytes']:,} bytes, digest `{inputs['digest'][:16]}…` "
            f"(the whole value in `manifest.json`)."]


def _options_line(options: dict) -> list[str]:
    """The build's options, flattened: `pairing.k=3`, `languages=en,fr`; unset ones left out."""
    def flat(prefix: str, value) -> list[str]:
        if isinstance(value, dict):
            return [item for key, inner in value.items() for item in flat(f"{prefix}{key}.", inner)]
        if value is None:
            return []
        shown = ",".join(map(str, value)) if isinstance(value, list | tuple) else value
        return [f"`{prefix.rstrip('.')}={shown}`"]

    items = flat("", options)
    return [f"Options: {', '.join(items)}."] if items else []


def _files_of(files: dict[str, int], stem: str) -> list[str]:
    return [relpath for relpath in sorted(files) if (parsed := parse_split_file(relpath)) and parsed.stem == stem]


def render_card(manifest: dict) -> str:
    """The card's Markdown from the manifest: YAML header, files and row counts, stages, provenance."""
    title, description = manifest["card"]["title"], manifest["card"]["description"]
    license_id, licence_note = manifest["card"]["license_id"], manifest["card"]["licence_note"]
    sections = manifest["card"]["sections"]
    files = manifest["files"]
    configs = config_splits(files)
    languages = sorted({split for split in configs.get("corpus", {})} | set(configs.get("queries", {})))
    lines = _yaml_header(manifest, languages, license_id)
    lines += ["", f"# {title}", "", description, "", "## Files", "",
              "| config | split | rows | path |", "|---|---|---|---|"]
    for config, splits in configs.items():
        for split, relpaths in splits.items():
            shown = _shown(f"{config}/{split}", relpaths)
            lines.append(f"| {config} | {split} | {sum(files[p] for p in relpaths)} | `{shown}` |")
    rejects = _files_of(files, "rejects")
    shown = _shown("rejects", rejects) if rejects else "rejects.parquet"
    lines += ["", f"Rejected inputs and fields: {sum(files[p] for p in rejects)} rows in `{shown}` (with reasons).", "",
              "## Build stages", "", "| stage | in | out | rejected |", "|---|---|---|---|"]
    for stage in manifest["stages"]:
        lines.append(f"| {stage['name']} | {stage['in']} | {stage['out']} | {stage['rejected']} |")
    if manifest.get("rejects"):
        lines += ["", "Rejects by stage and reason:", "", "| stage | reason | rows |", "|---|---|---|"]
        for where, n in manifest["rejects"].items():
            stage, _, reason = where.partition(": ")
            lines.append(f"| {stage} | {reason} | {n} |")
    lines += _how_to_load(configs, manifest)
    for heading, body in sections.items():
        lines += ["", f"## {heading}", "", body]
    if manifest["card"].get("limitations"):
        lines += ["", "## Limitations", "", manifest["card"]["limitations"]]
    lines += ["", "## Licence", "", licence_note, "", "## Provenance", "",
              f"Built with clirdata {manifest['clirdata_version']}: `{manifest['command']}`.",
              *_fingerprint_line(manifest.get("inputs", {})),
              *_options_line(manifest.get("options") or {}),
              "The whole fingerprint, the options as given and the per-stage counts are in `manifest.json`.",
              "Every corpus and queries row has `source_id`, the source's own identifier.", ""]
    lines += ["## Citation", "", "The collection, and the work whose method it follows:", "", "```bibtex",
              citation_bibtex(manifest), "```", ""]
    return "\n".join(lines)


def _how_to_load(configs: dict[str, dict[str, list[str]]], manifest: dict) -> list[str]:
    """The card's loading snippets: `datasets` by config and split, an MTEB task over the same files, and BEIR."""
    corpus, queries, qrels = (sorted(configs.get(name, {})) for name in ("corpus", "queries", "qrels"))
    if not (corpus and queries and qrels):
        return []
    pair = next((p for p in qrels if len(set(p.split("_"))) == 2), qrels[0])  # a cross-lingual pair if any
    query_lang, _, doc_lang = pair.partition("_")
    lines = ["", "## How to load", "", "```python", "import datasets",
             f'corpus = datasets.load_dataset("PATH_OR_REPO", "corpus", split="{doc_lang}")',
             f'queries = datasets.load_dataset("PATH_OR_REPO", "queries", split="{query_lang}")',
             f'qrels = datasets.load_dataset("PATH_OR_REPO", "qrels", split="{pair}")', "```"]
    views = mteb_configs(configs)
    if views:
        subsets = sorted({name.rsplit("-", 1)[0] for name in views})
        lines += ["", "MTEB reads the same files through the configs `{subset}-corpus`, `{subset}-queries` and "
                  "`{subset}-qrels` (split `test`), subsets " + ", ".join(f"`{subset}`" for subset in subsets) + ":",
                  "", "```python", *_mteb_snippet(manifest, views), "```"]
    lines += ["", "BEIR, TREC, or an MTEB folder with a ready `task.py`: `clirdata export PATH --format beir|trec|mteb "
              "DEST`, then, for BEIR:", "", "```python", "from beir.datasets.data_loader import GenericDataLoader",
              f'corpus, queries, qrels = GenericDataLoader("DEST/{pair}").load(split="test")', "```"]
    return lines


def _mteb_snippet(manifest: dict, views: dict[str, str]) -> list[str]:
    """An AbsTaskRetrieval over the card's MTEB configs, keeping only the columns MTEB reads (it refuses nulls)."""
    langs = {}
    for name, stem in sorted(views.items()):
        if name.endswith("-qrels"):
            langs[name.removesuffix("-qrels")] = [mteb_language(lang) for lang in stem.split("/")[1].split("_")]
    eval_langs = ", ".join(f'"{subset}": {json.dumps(tags)}' for subset, tags in langs.items())
    name = task_class(manifest)
    return ["import mteb", "from mteb.abstasks.retrieval import AbsTaskRetrieval",
            "from mteb.abstasks.task_metadata import TaskMetadata", "", "",
            f"class {name}(AbsTaskRetrieval):",
            "    metadata = TaskMetadata(",
            f'        name="{name}", description={json.dumps(manifest["card"]["title"], ensure_ascii=False)},',
            '        dataset={"path": "PATH_OR_REPO", "revision": "main"}, type="Retrieval", category="t2t",',
            f'        eval_splits=["test"], eval_langs={{{eval_langs}}},',
            '        main_score="ndcg_at_10")', "",
            "    def dataset_transform(self, num_proc=None, **kwargs):  # MTEB refuses a null in any column",
            "        for subset in self.dataset.values():",
            "            for split in subset.values():",
            '                split["corpus"] = split["corpus"].select_columns(["id", "title", "text"])',
            '                split["queries"] = split["queries"].select_columns(["id", "text"])', "", "",
            f'results = mteb.evaluate(mteb.get_model("sentence-transformers/all-MiniLM-L6-v2"), {name}())']


def card_template(name: str, **values: str) -> tuple[str, str]:
    """(title, description) of a source's card: `clirdata/hub/templates/{name}.md` (a `# title` line, then
    the description) with `{field}` filled from `values`."""
    text = (resources.files("clirdata.hub") / "templates" / f"{name}.md").read_text(encoding="utf-8")
    title, _, description = text.format(**values).partition("\n")
    return title.removeprefix("# ").strip(), description.strip()
