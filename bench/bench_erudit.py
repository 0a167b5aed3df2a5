"""Benchmarks of `build erudit` (not a test: prints figures, asserts nothing about time).

1. Pipeline overhead: the Beam build (in-process runner) over N generated articles against a plain
   Python loop over the same extract + check + pair functions, same process. Ratio = overhead.
2. Keyword qrels at CLIRudit's size (16,389 documents, ~360k queries): time of `pair_records`.

    python bench/generate_erudit.py /tmp/erudit10k --n 10000   # once
    python bench/bench_erudit.py /tmp/erudit10k --repeat 3
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from clirdata.align.keywords import PairingOptions, pair_records
from clirdata.extractors.erudit import parse_article
from clirdata.extractors.language_check import check_record
from clirdata.pipelines.erudit import EruditBuild, run_erudit
from clirdata.pipelines.runner import make_options
from clirdata.pipelines.sources import list_inputs, read_input
from clirdata.schemas import LangText, Outcome, Record, Reject

CLIRUDIT_DOCUMENTS = 16_389


def plain_loop(folder: str) -> int:
    """The same pure functions as the pipeline, in a for loop, no Beam."""
    records = []
    for ref in list_inputs(folder):
        for item in read_input(ref, "erudit"):
            record = parse_article(item) if not isinstance(item, Reject) else item
            if isinstance(record, Reject):
                continue
            outcome: Outcome = check_record(record)
            if not isinstance(outcome.value, Reject):
                records.append(outcome.value)
    return len(pair_records(records, PairingOptions()).queries["en"])


def pipeline(folder: str, out: str, workers: int | None) -> int:
    build = EruditBuild(out_dir=out, inputs=tuple(list_inputs(folder)), input_location=folder)
    manifest = run_erudit(build, make_options([], workers), "bench")
    return manifest["files"]["queries/en.parquet"]


def timed(function, *args) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def clirudit_sized_records(seed: int = 0) -> list[Record]:
    """16,389 articles with 5-7 English keywords from a 40k-keyword Zipf-like vocabulary."""
    rng = random.Random(seed)
    vocabulary = [f"keyword {i}" for i in range(40_000)]
    weights = [1 / (i + 10) for i in range(len(vocabulary))]
    records = []
    for index in range(CLIRUDIT_DOCUMENTS):
        keywords = tuple(dict.fromkeys(rng.choices(vocabulary, weights, k=rng.choice((5, 5, 6, 6, 7, 7, 7)))))
        texts = {"fr": LangText(title=f"Titre {index}", abstract=f"Résumé {index}"),
                 "en": LangText(title=f"Title {index}", abstract=f"Abstract {index}", keywords=keywords)}
        records.append(Record("bench", f"{index:07d}ar", "", "", "", "fr", texts))
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", help="generated articles (made with --n if absent)")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    folder = args.folder or tempfile.mkdtemp(prefix="erudit-bench-")
    if not any(Path(folder).glob("*.xml")):
        subprocess.run([sys.executable, str(Path(__file__).with_name("generate_erudit.py")), folder,
                        "--n", str(args.n)], check=True)
    check_record(clirudit_sized_records()[0])  # load the language models once, outside the timings

    loops, pipes = [], []
    for _ in range(args.repeat):
        seconds, loop_queries = timed(plain_loop, folder)
        loops.append(seconds)
        with tempfile.TemporaryDirectory() as out:
            seconds, pipe_queries = timed(pipeline, folder, out, args.workers)
        pipes.append(seconds)
        assert loop_queries == pipe_queries, (loop_queries, pipe_queries)
    files = len(list(Path(folder).glob("*.xml")))
    loop, pipe = statistics.median(loops), statistics.median(pipes)
    print(f"articles: {files}, queries: {pipe_queries}, repeats: {args.repeat}")
    print(f"plain loop      median {loop:7.2f} s  ({files / loop:7.0f} articles/s)  runs {[round(s, 2) for s in loops]}")
    print(f"Beam pipeline   median {pipe:7.2f} s  ({files / pipe:7.0f} articles/s)  runs {[round(s, 2) for s in pipes]}")
    print(f"pipeline / loop ratio: {pipe / loop:.2f}")

    records = clirudit_sized_records()
    times = []
    for _ in range(args.repeat):
        seconds, collection = timed(pair_records, records, PairingOptions())
        times.append(seconds)
    print(f"keyword pairing at CLIRudit size: {len(records)} documents, {len(collection.queries['en'])} queries, "
          f"{len(collection.qrels['en_fr'])} qrels: median {statistics.median(times):.2f} s "
          f"(runs {[round(s, 2) for s in times]})")


if __name__ == "__main__":
    main()
