"""The dataset card (OUT/README.md): a `configs:` header that `datasets` reads, then prose.

`datasets.load_dataset(OUT, "corpus", split="fr")` works from this header alone: each
Parquet file is one split of its config (corpus, queries, qrels).
"""

from __future__ import annotations

from collections import defaultdict

from clirdata.schemas import CONFIG_TABLES


def split_files(files: dict[str, int]) -> dict[str, dict[str, str]]:
    """{config: {split: relpath}} for every `config/split.parquet` in `files`."""
    configs: dict[str, dict[str, str]] = defaultdict(dict)
    for relpath in sorted(files):
        config, _, name = relpath.partition("/")
        if config in CONFIG_TABLES and name.endswith(".parquet"):
            configs[config][name.removesuffix(".parquet")] = relpath
    return configs


def _yaml_header(manifest: dict, languages: list[str], license_id: str) -> list[str]:
    lines = ["---", f"license: {license_id}", "language:"]
    lines += [f"- {lang}" for lang in languages]
    lines += ["task_categories:", "- text-retrieval", "tags:", "- clir", "- clirdata", "configs:"]
    for config, splits in split_files(manifest["files"]).items():
        lines += [f"- config_name: {config}", "  data_files:"]
        for split, relpath in splits.items():
            lines += [f"  - split: {split}", f"    path: {relpath}"]
    lines.append("---")
    return lines


def card_text(*, title: str, description: str, license_id: str, licence_note: str,
              sections: dict[str, str] | None = None) -> dict:
    """The prose of a card, kept in manifest.json so a later step (synthesize) can render it again."""
    return {"title": title, "description": description, "license_id": license_id,
            "licence_note": licence_note, "sections": dict(sections or {})}


def render_card(manifest: dict) -> str:
    """The card's Markdown from the manifest: YAML header, files and row counts, stages, provenance."""
    title, description = manifest["card"]["title"], manifest["card"]["description"]
    license_id, licence_note = manifest["card"]["license_id"], manifest["card"]["licence_note"]
    sections = manifest["card"]["sections"]
    configs = split_files(manifest["files"])
    languages = sorted({split for split in configs.get("corpus", {})} | set(configs.get("queries", {})))
    lines = _yaml_header(manifest, languages, license_id)
    lines += ["", f"# {title}", "", description, "", "## Files", "",
              "| config | split | rows | path |", "|---|---|---|---|"]
    for config, splits in configs.items():
        for split, relpath in splits.items():
            lines.append(f"| {config} | {split} | {manifest['files'][relpath]} | `{relpath}` |")
    rejects = manifest["files"].get("rejects.parquet", 0)
    lines += ["", f"Rejected inputs and fields: {rejects} rows in `rejects.parquet` (with reasons).", "",
              "## Build stages", "", "| stage | in | out | rejected |", "|---|---|---|---|"]
    for stage in manifest["stages"]:
        lines.append(f"| {stage['name']} | {stage['in']} | {stage['out']} | {stage['rejected']} |")
    for heading, body in sections.items():
        lines += ["", f"## {heading}", "", body]
    lines += ["", "## Licence", "", licence_note, "", "## Provenance", "",
              f"Built with clirdata {manifest['clirdata_version']}: `{manifest['command']}`.",
              "Options, input fingerprints and per-stage counts are in `manifest.json`.",
              "Every corpus and queries row has `source_id`, the source's own identifier.", ""]
    return "\n".join(lines)
