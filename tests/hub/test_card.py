"""The dataset card: a YAML `configs:` header that names every split (its file or its shard pattern), and the prose."""

from __future__ import annotations

import re

import apache_beam as beam
import datasets
import pytest
import yaml

from clirdata.hub.card import (
    IncompleteSplit,
    bibtex,
    card_text,
    complete_set,
    config_splits,
    data_files_entry,
    mteb_configs,
    render_card,
    size_category,
)
from clirdata.pipelines.manifest import build_manifest, write_card_and_manifest
from clirdata.pipelines.runner import make_options, written_files
from clirdata.pipelines.writers import WriteTables
from clirdata.schemas import empty_row

FILES = {"corpus/fr.parquet": 5, "corpus/en.parquet": 4, "queries/en.parquet": 7, "qrels/en_fr.parquet": 10,
         "qrels/en_en.parquet": 6, "rejects.parquet": 3, "synthetic_queries/en.parquet": 2}
SHARDED = {"corpus/fr-00000-of-00003.parquet": 4, "corpus/fr-00001-of-00003.parquet": 3,
           "corpus/fr-00002-of-00003.parquet": 5, "queries/en.parquet": 7,
           "rejects-00000-of-00002.parquet": 2, "rejects-00001-of-00002.parquet": 1}


def manifest_of(files: dict[str, int]) -> dict:
    return {"clirdata_version": "0.1.0", "command": "clirdata build erudit --out x", "files": files,
            "stages": [{"name": "read", "in": 3, "out": 3, "rejected": 0}],
            "card": card_text(title="T", description="D", license_id="cc-by-4.0", licence_note="L",
                              sections={"Extra": "More"})}


def header_configs(card: str) -> dict:
    header = yaml.safe_load(card.split("---")[1])
    return {c["config_name"]: {f["split"]: f["path"] for f in c["data_files"]} for c in header["configs"]}


def test_header_configs_name_every_split():
    card = render_card(manifest_of(FILES))
    configs = header_configs(card)
    assert configs == {"corpus": {"en": "corpus/en.parquet", "fr": "corpus/fr.parquet"},
                       "queries": {"en": "queries/en.parquet"},
                       "qrels": {"en_en": "qrels/en_en.parquet", "en_fr": "qrels/en_fr.parquet"},
                       "synthetic_queries": {"en": "synthetic_queries/en.parquet"},
                       # MTEB's view of the same files: {subset}-{corpus,queries,qrels}, split `test`
                       "eng-eng-corpus": {"test": "corpus/en.parquet"},
                       "eng-eng-queries": {"test": "queries/en.parquet"},
                       "eng-eng-qrels": {"test": "qrels/en_en.parquet"},
                       "eng-fra-corpus": {"test": "corpus/fr.parquet"},
                       "eng-fra-queries": {"test": "queries/en.parquet"},
                       "eng-fra-qrels": {"test": "qrels/en_fr.parquet"}}
    assert all(re.fullmatch(r"\w+", split) for splits in configs.values() for split in splits)
    header = yaml.safe_load(card.split("---")[1])
    assert header["license"] == "cc-by-4.0" and header["language"] == ["en", "fr"]
    assert header["size_categories"] == ["n<1K"]  # 9 corpus rows
    assert header["task_categories"] == ["text-retrieval"] and header["task_ids"] == ["document-retrieval"]
    assert header["pretty_name"] == "T" and header["multilinguality"] == ["multilingual"]


@pytest.mark.parametrize(("rows", "category"), [(0, "n<1K"), (999, "n<1K"), (1_000, "1K<n<10K"),
                                                (99_999, "10K<n<100K"), (100_000, "100K<n<1M")])
def test_size_category_follows_the_hubs_bounds(rows, category):
    assert size_category(rows) == category


def test_a_pair_without_its_corpus_or_queries_has_no_mteb_view():
    configs = config_splits({"corpus/fr.parquet": 1, "queries/en.parquet": 1, "qrels/en_fr.parquet": 1,
                             "qrels/de_fr.parquet": 1})
    assert sorted(mteb_configs(configs)) == ["eng-fra-corpus", "eng-fra-qrels", "eng-fra-queries"]


def test_body_has_counts_stages_sections_and_provenance():
    card = render_card(manifest_of(FILES))
    assert "| qrels | en_fr | 10 | `qrels/en_fr.parquet` |" in card
    assert "| read | 3 | 3 | 0 |" in card
    assert "## Extra\n\nMore" in card
    assert "`clirdata build erudit --out x`" in card
    assert "3 rows in `rejects.parquet`" in card


def test_body_says_how_to_load_with_datasets_and_mteb():
    card = render_card(manifest_of(FILES))
    assert 'datasets.load_dataset("PATH_OR_REPO", "qrels", split="en_fr")' in card
    assert 'datasets.load_dataset("PATH_OR_REPO", "corpus", split="fr")' in card
    assert "subsets `eng-eng`, `eng-fra`" in card


def test_limitations_and_citations_of_the_method_and_of_the_collection():
    manifest = manifest_of(FILES)
    manifest["card"] = card_text(title='A "quoted" title', description="D", license_id="other", licence_note="L",
                                 limitations="Keywords are not questions.",
                                 citations=("valentini-etal-2025-clirudit", "thakur-etal-2024-leveraging"))
    manifest["command"] = 'clirdata build oai "https://x.org/oai" --source "{HAL}"'
    card = render_card(manifest)
    assert "## Limitations\n\nKeywords are not questions." in card
    bib = card.split("```bibtex\n")[1].split("```")[0]
    assert bib.count("\n@") == 2 and bib.startswith("@misc{clirdata-")
    assert "@inproceedings{valentini-etal-2025-clirudit," in bib and "doi = \"10.18653/v1/2025.mrl-main.16\"" in bib
    assert "@inproceedings{thakur-etal-2024-leveraging," in bib
    # the collection's entry quotes the command without breaking the BibTeX string
    misc = bib.split("\n\n")[0]
    assert misc.count('"') == 6 and "{HAL}" not in misc
    with pytest.raises(KeyError):
        bibtex(["no-such-paper"])


def test_rejects_are_not_a_config():
    assert "rejects" not in config_splits(FILES)


def test_a_sharded_split_is_declared_by_its_shard_pattern_with_summed_rows():
    card = render_card(manifest_of(SHARDED))
    assert header_configs(card) == {"corpus": {"fr": "corpus/fr-?????-of-00003.parquet"},
                                    "queries": {"en": "queries/en.parquet"}}  # no qrels: no MTEB view
    assert "| corpus | fr | 12 | `corpus/fr-?????-of-00003.parquet` |" in card
    assert "3 rows in `rejects-?????-of-00002.parquet`" in card
    assert config_splits(SHARDED)["corpus"]["fr"] == [f"corpus/fr-0000{i}-of-00003.parquet" for i in range(3)]


def test_a_broken_set_of_files_is_listed_file_by_file():
    two_sets = ["corpus/fr.parquet", "corpus/fr-00000-of-00002.parquet", "corpus/fr-00001-of-00002.parquet"]
    assert data_files_entry("corpus/fr", two_sets) == sorted(two_sets)
    card = render_card(manifest_of(dict.fromkeys(two_sets, 1)))
    assert header_configs(card)["corpus"]["fr"] == sorted(two_sets)  # datasets reads what the manifest lists
    with pytest.raises(IncompleteSplit, match="2 different shard sets"):
        complete_set("corpus/fr", two_sets)
    with pytest.raises(IncompleteSplit, match="corpus/fr-00001-of-00003.parquet not found"):
        complete_set("corpus/fr", ["corpus/fr-00000-of-00003.parquet", "corpus/fr-00002-of-00003.parquet"])


def test_datasets_loads_a_sharded_build_from_the_card(tmp_path):
    out = tmp_path / "out"
    corpus = [("corpus/fr.parquet", {**empty_row("corpus"), "_id": f"d{i:02d}", "text": f"t{i}", "lang": "fr"})
              for i in range(1, 11)]
    qrels = [("qrels/en_fr.parquet", {"query-id": "q1", "corpus-id": f"d{i:02d}", "score": 1}) for i in range(1, 6)]
    queries = [("queries/en.parquet", {**empty_row("queries"), "_id": "q1", "text": "a query", "lang": "en"})]
    with beam.Pipeline(options=make_options()) as p:
        _ = (p | beam.Create(corpus + qrels + queries)
             | WriteTables(str(out), ["corpus/fr.parquet", "queries/en.parquet", "qrels/en_fr.parquet",
                                      "rejects.parquet"], rows_per_shard=4))
    files = written_files(str(out))
    assert sorted(files) == ["corpus/fr-00000-of-00003.parquet", "corpus/fr-00001-of-00003.parquet",
                             "corpus/fr-00002-of-00003.parquet", "qrels/en_fr-00000-of-00002.parquet",
                             "qrels/en_fr-00001-of-00002.parquet", "queries/en.parquet", "rejects.parquet"]
    manifest = build_manifest(command="test", options={}, inputs={}, stages=[], files=files)
    manifest["card"] = card_text(title="T", description="D", license_id="cc-by-4.0", licence_note="L")
    write_card_and_manifest(str(out), manifest)
    cache = str(tmp_path / "hf")
    fr = datasets.load_dataset(str(out), "corpus", split="fr", cache_dir=cache)
    assert sorted(fr["_id"]) == [f"d{i:02d}" for i in range(1, 11)]
    qrels_loaded = datasets.load_dataset(str(out), "qrels", split="en_fr", cache_dir=cache)
    assert sorted(qrels_loaded["corpus-id"]) == [f"d{i:02d}" for i in range(1, 6)]
    assert qrels_loaded.features["score"].dtype == "int64"
    assert datasets.load_dataset(str(out), "queries", split="en", cache_dir=cache)["_id"] == ["q1"]
    # MTEB's view: the same shards through `eng-fra-*` configs and their one split, `test`
    mteb_corpus = datasets.load_dataset(str(out), "eng-fra-corpus", split="test", cache_dir=cache)
    assert sorted(mteb_corpus["_id"]) == sorted(fr["_id"])
    assert datasets.load_dataset(str(out), "eng-fra-qrels", split="test", cache_dir=cache).num_rows == 5
    assert datasets.load_dataset(str(out), "eng-fra-queries", split="test", cache_dir=cache)["_id"] == ["q1"]


def test_the_samples_card_has_every_section_once_stats_and_eval_ran(tmp_path):
    from click.testing import CliRunner

    from clirdata.cli import cli

    out = str(tmp_path / "sample")
    for args in (["build", "erudit", "--out", out], ["stats", out], ["eval", out, "--retriever", "bm25-plain"]):
        result = CliRunner().invoke(cli, args, obj={"beam_args": []})
        assert result.exit_code == 0, result.output
    card = (tmp_path / "sample" / "README.md").read_text()
    header = yaml.safe_load(card.split("---")[1])
    assert {"license", "pretty_name", "language", "size_categories", "source_datasets", "task_categories", "task_ids",
            "tags", "configs"} <= set(header)
    assert header["task_ids"] == ["document-retrieval"] and header["size_categories"] == ["n<1K"]
    assert {"eng-fra-corpus", "eng-fra-queries", "eng-fra-qrels", "eng-eng-qrels"} <= set(header_configs(card))
    assert re.findall(r"^## (.+)$", card, re.M) == ["Files", "Build stages", "How to load", "Language check",
                                                    "Statistics", "Baselines", "Limitations", "Licence",
                                                    "Provenance", "Citation"]
    assert "| extract | dtd-entities | 2 |" in card  # rejects by stage and reason
    assert "| en | abstract | 79 | 78 | fr 1 |" in card  # the language check
    assert "class ClirdataEruditRetrieval(AbsTaskRetrieval):" in card and "GenericDataLoader(" in card
    assert "Inputs: 88 files" in card and "`pairing.k=3`" in card
    assert "@inproceedings{valentini-etal-2025-clirudit" in card and "@misc{clirdata-erudit-" in card
