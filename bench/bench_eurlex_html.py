"""`parse_act_html` time on generated acts of 1, 2, 4 and 8 MB: each doubling should double the time.

The pages are `tests/extractors/test_eurlex_html.generated_page` (recitals, articles of three
paragraphs, an annex table), with the current Official Journal's ids or without them (the
older generations, where units are numbered from the headings). Before the parse was made
linear, 2 / 4 / 8 MB took 3 / 12 / 47 s.

    python bench/bench_eurlex_html.py --repeat 3 --sizes 1,2,4,8
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from clirdata.extractors.eurlex_html import parse_act_html  # noqa: E402
from tests.extractors.test_eurlex_html import generated_page  # noqa: E402

MB = 1_000_000


def page_of(megabytes: float, ids: bool) -> bytes:
    """A generated act of about `megabytes` MB."""
    per_article = len(generated_page(200, ids)) / 200
    return generated_page(max(1, round(megabytes * MB / per_article)), ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="1,2,4,8", help="page sizes in MB")
    args = parser.parse_args()
    for ids in (True, False):
        print(f"{'with ELI ids' if ids else 'without ids (older pages)'}:")
        previous = 0.0
        for megabytes in (float(size) for size in args.sizes.split(",")):
            raw = page_of(megabytes, ids)
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                act = parse_act_html(raw, "x", "en", "bench", max_bytes=len(raw))
                times.append(time.perf_counter() - started)
            median = statistics.median(times)
            ratio = f"{median / previous:5.2f}" if previous else "    -"
            print(f"  {len(raw) / MB:5.1f} MB  {len(act.units):7d} units  median {median:6.2f} s  "
                  f"x{ratio} the previous size  runs {[round(t, 2) for t in times]}")
            previous = median


if __name__ == "__main__":
    main()
