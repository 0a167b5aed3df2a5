"""`clirdata stats --plots`: the histograms hold the values counted by hand, and the PNGs are written."""

from __future__ import annotations

import struct

from click.testing import CliRunner

from clirdata.cli import cli
from clirdata.hub.plots import PLOTS, figures, write_plots
from clirdata.hub.stats import Measured

MEASURED = Measured(
    rows={"corpus/fr": 4, "queries/en": 3, "qrels/en_fr": 4, "qrels/en_en": 3},
    lengths={"corpus/fr": [3, 3, 5, 9], "queries/en": [2, 2, 2]},
    relevant_per_query={"en_fr": [1, 1, 2], "en_en": [1, 1, 1]},
    queries_per_document={"en_fr": [2, 1, 1], "en_en": [1, 1, 1]},
    overlaps={"en_fr": [0.0, 0.0, 0.25, 1.0], "en_en": [1.0, 0.95, 0.5]},
    best_overlaps={"en_fr": [0.0, 0.25, 1.0], "en_en": [1.0, 0.95, 0.5]},
)


def heights(axes) -> list[int]:
    return [int(patch.get_height()) for patch in axes.patches]


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])  # the IHDR chunk: width, height


def test_each_panel_is_a_histogram_of_its_split():
    drawn = figures(MEASURED)
    assert list(drawn) == list(PLOTS)
    corpus, queries = drawn["lengths.png"].axes
    assert corpus.get_title() == "corpus/fr" and queries.get_title() == "queries/en"
    assert heights(corpus) == [2, 0, 1, 0, 0, 0, 1]  # one bin per word count, 3 to 9
    assert heights(queries) == [3]
    assert [heights(a) for a in drawn["judgements.png"].axes] == [[2, 1], [3]]
    en_fr, en_en = drawn["overlap.png"].axes
    assert heights(en_fr) == [2, 0, 1, 0, 0, 0, 0, 0, 0, 1]  # ten bins over [0, 1]; 1.0 falls in the last
    assert heights(en_en) == [0, 0, 0, 0, 0, 1, 0, 0, 0, 2]


def test_pngs_are_written_one_panel_wide_per_split_and_byte_identical(tmp_path):
    paths = write_plots(MEASURED, str(tmp_path / "a"))
    assert [p.rsplit("/", 1)[-1] for p in paths] == list(PLOTS)
    assert png_size(tmp_path / "a" / "lengths.png") == (800, 300)  # two panels of 4 x 3 inches at 100 dpi
    assert png_size(tmp_path / "a" / "judgements.png") == (800, 300)
    write_plots(MEASURED, str(tmp_path / "b"))
    assert all((tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes() for name in PLOTS)


def test_stats_command_draws_the_plots_of_a_build(finished, tmp_path):
    result = CliRunner().invoke(cli, ["stats", str(finished), "--plots", str(tmp_path / "plots")],
                                obj={"beam_args": []})
    assert result.exit_code == 0, result.output
    assert png_size(tmp_path / "plots" / "overlap.png") == (800, 300)  # en_en and en_fr
    assert png_size(tmp_path / "plots" / "lengths.png") == (1200, 300)  # corpus/en, corpus/fr, queries/en


def test_plots_go_to_a_local_folder_only(finished):
    result = CliRunner().invoke(cli, ["stats", str(finished), "--plots", "gs://bucket/plots"], obj={"beam_args": []})
    assert result.exit_code == 2 and "plots are drawn into a local folder" in result.output
