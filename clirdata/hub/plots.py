"""PNG plots of a collection's statistics (`clirdata stats OUT --plots DIR`), drawn with matplotlib.

Three figures: lengths in words by split, relevant documents per query by qrels split, and the query-document
word overlap by qrels split (the leak that makes a cross-lingual pair easy shows as mass near 1).
"""

from __future__ import annotations

import os

from clirdata.hub.stats import Measured

PLOTS = ("lengths.png", "judgements.png", "overlap.png")
_DPI = 100
_PANEL = (4.0, 3.0)  # inches per panel


class NoMatplotlib(ImportError):
    """matplotlib is not installed; the message says how to install it."""


def figures(measured: Measured) -> dict:
    """{file name: matplotlib Figure} for PLOTS; one panel per split, a histogram in each."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise NoMatplotlib('--plots needs matplotlib: pip install "clirdata[plots]"') from error
    panels = {
        "lengths.png": ("words", measured.lengths, None),
        "judgements.png": ("relevant documents per query", measured.relevant_per_query, None),
        "overlap.png": ("share of query words in the relevant document", measured.overlaps, (0.0, 1.0)),
    }
    drawn = {}
    for name, (label, by_split, value_range) in panels.items():
        splits = list(by_split) or ["(none)"]
        figure = Figure(figsize=(_PANEL[0] * len(splits), _PANEL[1]), dpi=_DPI, layout="constrained")
        for axes, split in zip(figure.subplots(1, len(splits), squeeze=False)[0], splits, strict=True):
            values = by_split.get(split, [])
            axes.hist(values, bins=_bins(values, value_range), range=value_range, color="#4c72b0")
            axes.set_title(split)
            axes.set_xlabel(label)
            axes.set_ylabel("count")
        drawn[name] = figure
    return drawn


def write_plots(measured: Measured, folder: str) -> list[str]:
    """Draw `figures` into `folder` (made if missing) as PNG files; their paths, in PLOTS order."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    for name, figure in figures(measured).items():
        path = os.path.join(folder, name)
        figure.savefig(path, format="png", metadata={"Software": None})  # no version stamp: same data, same bytes
        paths.append(path)
    return paths


def _bins(values: list, value_range: tuple[float, float] | None) -> int | list[float]:
    """Ten bins over a fixed range; one bin per integer for counts, up to 50."""
    if value_range is not None or not values:
        return 10
    low, high = min(values), max(values)
    if high - low <= 50:
        return [edge - 0.5 for edge in range(int(low), int(high) + 2)]
    return 50
