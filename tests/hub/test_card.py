"""The dataset card: a YAML `configs:` header that names every split file, and the prose."""

from __future__ import annotations

import re

import yaml

from clirdata.hub.card import card_text, render_card, split_files

FILES = {"corpus/fr.parquet": 5, "corpus/en.parquet": 4, "queries/en.parquet": 7, "qrels/en_fr.parquet": 10,
         "qrels/en_en.parquet": 6, "rejects.parquet": 3, "synthetic_queries/en.parquet": 2}
MANIFEST = {"clirdata_version": "0.1.0", "command": "clirdata build erudit --out x", "files": FILES,
            "stages": [{"name": "read", "in": 3, "out": 3, "rejected": 0}],
            "card": card_text(title="T", description="D", license_id="cc-by-4.0", licence_note="L",
                              sections={"Extra": "More"})}


def test_header_configs_name_every_split():
    card = render_card(MANIFEST)
    header = yaml.safe_load(card.split("---")[1])
    configs = {c["config_name"]: {f["split"]: f["path"] for f in c["data_files"]} for c in header["configs"]}
    assert configs == {"corpus": {"en": "corpus/en.parquet", "fr": "corpus/fr.parquet"},
                       "queries": {"en": "queries/en.parquet"},
                       "qrels": {"en_en": "qrels/en_en.parquet", "en_fr": "qrels/en_fr.parquet"},
                       "synthetic_queries": {"en": "synthetic_queries/en.parquet"}}
    assert all(re.fullmatch(r"\w+", split) for splits in configs.values() for split in splits)
    assert header["license"] == "cc-by-4.0" and header["language"] == ["en", "fr"]


def test_body_has_counts_stages_sections_and_provenance():
    card = render_card(MANIFEST)
    assert "| qrels | en_fr | 10 | `qrels/en_fr.parquet` |" in card
    assert "| read | 3 | 3 | 0 |" in card
    assert "## Extra\n\nMore" in card
    assert "`clirdata build erudit --out x`" in card
    assert "3 rows in `rejects.parquet`" in card


def test_rejects_are_not_a_config():
    assert "rejects" not in split_files(FILES)
