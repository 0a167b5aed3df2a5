#!/usr/bin/env python3
"""Benchmarks of `clirdata build erudit` (issue 8, items 4 and 6): prints figures, asserts nothing about time.

ratio DIR     `clirdata build erudit` against the plain loop of bench/plain_loop.py (parse with hardened lxml,
              pair, write Parquet; no language check) on the same folder, in one session: runs alternate (the
              order rotates each round), medians of --repeat; the build with its automatic worker count and
              with --workers 1. Checks once that the loop and the builds wrote the same corpus, queries and
              qrels rows.
growth        the build (and with --with-loop the plain loop) at N = 10,000 and 100,000 generated articles
              (250,000 for the aim "under 5 minutes on the 2-core machine"): wall time, peak RSS, articles/s
              per N and how each grows with N. Generates what is missing under --data, after printing its cost.
pairing       keyword queries and qrels at CLIRudit's size (16,389 documents): `pair_records` in one process,
              and the pipeline's Beam pairing path (the pair step, then MakeRows) on the in-process runner, one worker.

Every measured command runs in a subprocess, as a user runs it (the `clirdata` script, `python
bench/plain_loop.py`): the wall time includes starting Python, Beam and the language models, and the
peak RSS is that command's own. Two peaks are reported: the largest single process (exact: the kernel's
ru_maxrss from wait4) and all of its processes together (Beam's multi_processing workers are child
processes: their RSS summed, sampled every 0.1 s, so a peak shorter than that can be missed; never less
than the largest process's).

    python bench/generate_erudit.py /tmp/e10k --n 10000
    python bench/bench_erudit.py ratio /tmp/e10k --repeat 3
    python bench/bench_erudit.py growth --sizes 10000 100000 250000 --data /tmp/erudit-growth
    python bench/bench_erudit.py pairing --repeat 3
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from clirdata.align.keywords import PairingOptions, pair_records
from clirdata.schemas import SORT_KEYS, LangText, Record

BENCH = Path(__file__).resolve().parent
CLIRUDIT_DOCUMENTS = 16_389
SAMPLE_INTERVAL_S = 0.1
SAMPLE_ARTICLES = 200  # generated once to measure the generator's speed and the size of an article
TIME_AIM_S = 300  # issue 8: 250,000 generated articles in under 5 minutes on the 2-core machine
MIB, GIB = 1 << 20, 1 << 30
_SHELLS = frozenset({"sh", "dash", "bash"})  # Beam starts each worker through `sh -c`: not counted as a process


# --- Running and measuring one command ---------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    """One measured command: wall seconds, peak RSS (largest process; all processes), processes seen."""

    seconds: float
    peak_process: int
    peak_all: int
    processes: int
    stdout: str
    exit_code: int = 0


def _tree_rss(root: psutil.Process) -> tuple[int, int]:
    """(RSS summed over `root` and its descendants, how many of them are not shells) at this instant."""
    try:
        members = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    total = count = 0
    for member in members:
        try:
            total += member.memory_info().rss
            count += member.name() not in _SHELLS
        except (psutil.NoSuchProcess, psutil.AccessDenied):  # gone between the listing and the read
            continue
    return total, count


def measure(command: list[str], finished: Path | None = None) -> Run:
    """Run `command` to the end; its wall time, peak RSS and output. Raises RuntimeError if it fails.

    A command that exits with an error after writing `finished` (a build's manifest.json, written last)
    did all its work and died on the way out: the run counts, with a warning and its exit code kept.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err)
        root = psutil.Process(process.pid)
        peaks = {"all": 0, "processes": 0}
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                total, count = _tree_rss(root)
                peaks["all"], peaks["processes"] = max(peaks["all"], total), max(peaks["processes"], count)
                done.wait(SAMPLE_INTERVAL_S)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage, not every child's so far
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            tail = err.read().decode("utf-8", "replace")[-2000:]
            message = f"`{shown(command)}` exited with {process.returncode}"
            if finished is None or not finished.exists():
                raise RuntimeError(f"{message}:\n{tail}")
            print(f"WARNING: {message} after writing {finished.name} (counted): {tail.strip()[-200:]}", flush=True)
        out.seek(0)
        largest = usage.ru_maxrss * 1024  # KiB on Linux
        # All processes together hold at least the largest one, whose peak a sample may have missed.
        return Run(seconds, largest, max(peaks["all"], largest), max(1, peaks["processes"]),
                   out.read().decode("utf-8", "replace"), process.returncode)


def clirdata_script() -> str:
    """The `clirdata` console script of this Python (the virtual environment's), else the one on PATH."""
    beside = Path(sys.executable).with_name("clirdata")
    found = str(beside) if beside.exists() else shutil.which("clirdata")
    if not found:
        sys.exit("the `clirdata` script is not installed: pip install -e .")
    return found


def build_command(folder: str, out: str, workers: int | None) -> list[str]:
    """`clirdata build erudit FOLDER --out OUT [--workers N]`: the build as a user runs it."""
    return [clirdata_script(), "build", "erudit", folder, "--out", out] + (
        ["--workers", str(workers)] if workers else [])


def loop_command(folder: str, out: str) -> list[str]:
    return [sys.executable, str(BENCH / "plain_loop.py"), folder, out]


def shown(command: list[str]) -> str:
    """A command as it would be typed (the venv's script by its name)."""
    words = ["clirdata" if word == clirdata_script() else word for word in command]
    words = ["python" if word == sys.executable else word for word in words]
    return " ".join(str(Path(word).relative_to(BENCH.parent)) if word.startswith(str(BENCH)) else word
                    for word in words)


def warm_page_cache(folder: str) -> int:
    """Read every input once, so that no measured run is the one that pays for a cold disk; returns bytes read."""
    total = 0
    for path in Path(folder).rglob("*.xml"):
        total += len(path.read_bytes())
    return total


def count_articles(folder: str) -> int:
    return sum(1 for _ in Path(folder).rglob("*.xml")) if Path(folder).is_dir() else 0


# --- Same rows from the loop and the build -------------------------------------------------------------

def _split_table(out: str, stem: str) -> pa.Table | None:
    """All rows of split `stem` (`corpus/fr`) in OUT, its plain file or its shards, sorted by the key."""
    base = Path(out) / stem
    paths = sorted(base.parent.glob(f"{base.name}.parquet")) + sorted(
        base.parent.glob(f"{base.name}-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9].parquet"))
    if not paths:
        return None
    table = pa.concat_tables([pq.read_table(path) for path in paths])
    return table.sort_by([(column, "ascending") for column in SORT_KEYS[stem.split("/", 1)[0]]])


def differences(loop_out: str, build_out: str, loop_files: dict[str, int]) -> list[str]:
    """The corpus, queries and qrels splits whose rows differ between the loop's OUT and a build's OUT."""
    found = []
    for relpath in sorted(loop_files):
        if relpath.startswith("rejects"):
            continue  # the build also rejects in its language check, which the loop does not have
        stem = relpath.removesuffix(".parquet")
        ours, theirs = _split_table(loop_out, stem), _split_table(build_out, stem)
        if theirs is None or not ours.equals(theirs):
            found.append(f"{stem} ({ours.num_rows} rows in the loop, "
                         f"{'none' if theirs is None else theirs.num_rows} in the build)")
    return found


# --- Printing ------------------------------------------------------------------------------------------

def gib(size: int) -> str:
    return f"{size / GIB:.2f} GiB"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "es" if noun.endswith("s") else "s")


def _runs(runs: list[Run]) -> str:
    return "[" + ", ".join(f"{run.seconds:.1f}" for run in runs) + "]"


@dataclass(frozen=True)
class Summary:
    """Medians of a configuration's runs."""

    name: str
    command: str
    runs: list[Run]

    @property
    def seconds(self) -> float:
        return statistics.median(run.seconds for run in self.runs)

    @property
    def peak_process(self) -> int:
        return int(statistics.median(run.peak_process for run in self.runs))

    @property
    def peak_all(self) -> int:
        return int(statistics.median(run.peak_all for run in self.runs))

    @property
    def processes(self) -> int:
        return max(run.processes for run in self.runs)

    @property
    def failed_exits(self) -> str:
        """', 1 of 3 runs exited -6 after finishing' when a run died on the way out, else ''."""
        codes = sorted({run.exit_code for run in self.runs if run.exit_code})
        bad = sum(1 for run in self.runs if run.exit_code)
        return f", {bad} of {len(self.runs)} runs exited {codes} after finishing" if bad else ""


def print_summaries(articles: int, summaries: list[Summary], baseline: Summary) -> None:
    print(f"\n{articles:,} articles, medians of {len(baseline.runs)} run(s)")
    print(f"{'':34} {'wall s':>8} {'art./s':>8} {'/ loop':>7} {'RSS max proc.':>14} {'RSS all proc.':>14} "
          f"{'procs':>5}  runs (s)")
    for summary in summaries:
        print(f"{summary.name:34} {summary.seconds:8.2f} {articles / summary.seconds:8.0f} "
              f"{summary.seconds / baseline.seconds:7.2f} {gib(summary.peak_process):>14} {gib(summary.peak_all):>14} "
              f"{summary.processes:5d}  {_runs(summary.runs)}{summary.failed_exits}")


def print_readme_rows(articles: int, summaries: list[Summary], baseline: Summary, note: str) -> None:
    print(f"\nREADME rows ({note}):\n")
    print("| what | command | figure |\n|---|---|---|")
    for summary in summaries:
        ratio = "" if summary is baseline else f"; **{summary.seconds / baseline.seconds:.2f}×** the plain loop"
        print(f"| {summary.name}, {articles:,} generated articles ({plural(summary.processes, 'process')}) | "
              f"`{summary.command}` | {summary.seconds:.1f} s "
              f"({articles / summary.seconds:,.0f} articles/s), peak RSS {gib(summary.peak_all)}{ratio} |")


# --- ratio ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    name: str
    kind: str  # "loop" or "build"
    workers: int | None = None

    def command(self, folder: str, out: str) -> list[str]:
        return loop_command(folder, out) if self.kind == "loop" else build_command(folder, out, self.workers)

    def finished(self, out: str) -> Path | None:
        """The file a build writes last (manifest.json); the loop has none."""
        return Path(out) / "manifest.json" if self.kind == "build" else None


def ratio(args: argparse.Namespace) -> None:
    """The build against the plain loop, alternating, medians of --repeat runs."""
    folder = args.folder
    articles = count_articles(folder)
    if not articles:
        sys.exit(f"no *.xml under {folder}: python bench/generate_erudit.py {folder} --n 10000")
    configs = [Config("plain loop (no language check)", "loop"),
               Config("build erudit, automatic workers", "build"),
               Config("build erudit --workers 1", "build", 1)]
    warm_page_cache(folder)
    runs: dict[str, list[Run]] = {config.name: [] for config in configs}
    for round_index in range(args.repeat):
        order = configs[round_index % len(configs):] + configs[:round_index % len(configs)]
        outs: dict[str, str] = {}
        try:
            for config in order:
                outs[config.name] = tempfile.mkdtemp(prefix="bench-out-", dir=args.tmp)
                run = measure(config.command(folder, outs[config.name]), config.finished(outs[config.name]))
                runs[config.name].append(run)
                print(f"round {round_index + 1}: {config.name:34} {run.seconds:7.2f} s  {gib(run.peak_all)}",
                      flush=True)
            if round_index == 0:
                check_same_rows(configs, outs, runs)
        finally:
            for out in outs.values():
                shutil.rmtree(out, ignore_errors=True)
    summaries = [Summary(config.name, shown(config.command(folder, "OUT")), runs[config.name]) for config in configs]
    print_summaries(articles, summaries, summaries[0])
    phases = json.loads(runs[configs[0].name][-1].stdout)["seconds"]
    print("plain loop's phases, last run (s): " + ", ".join(f"{name} {seconds:.2f}" for name, seconds in phases.items()))
    print_readme_rows(articles, summaries, summaries[0],
                      f"medians of {args.repeat} alternating runs, same session; 2-core machine")
    print_invocation()


def print_invocation() -> None:
    """The command that made these figures, for the README's `command` column."""
    print(f"\nmeasured with: {shlex.join(['python', 'bench/bench_erudit.py', *sys.argv[1:]])}")


def check_same_rows(configs: list[Config], outs: dict[str, str], runs: dict[str, list[Run]]) -> None:
    loop = configs[0]
    loop_files = json.loads(runs[loop.name][0].stdout)["files"]
    for config in configs[1:]:
        found = differences(outs[loop.name], outs[config.name], loop_files)
        verdict = "same rows" if not found else "DIFFERENT: " + "; ".join(found)
        compared = ", ".join(sorted(relpath for relpath in loop_files if not relpath.startswith("rejects")))
        print(f"  loop and {config.name}: {verdict} in {compared}", flush=True)


# --- growth --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GeneratorCost:
    """What one generated article costs: seconds to write it, bytes of content, bytes on disk."""

    seconds: float
    size: float
    disk: float


def generator_cost(articles: int = SAMPLE_ARTICLES) -> GeneratorCost:
    """Generate `articles` into a temporary folder and measure them."""
    with tempfile.TemporaryDirectory(prefix="bench-sample-") as folder:
        start = time.perf_counter()
        generate(folder, articles)
        seconds = time.perf_counter() - start
        stats = [path.stat() for path in Path(folder).glob("*.xml")]
    return GeneratorCost(seconds / articles, sum(s.st_size for s in stats) / articles,
                         sum(s.st_blocks * 512 for s in stats) / articles)


def generate(folder: str, articles: int) -> None:
    subprocess.run([sys.executable, str(BENCH / "generate_erudit.py"), folder, "--n", str(articles)],
                   check=True, stderr=subprocess.DEVNULL)


def print_plan(sizes: list[int], data: str, cost: GeneratorCost) -> int:
    """Print what generating the missing inputs will cost; returns the disk bytes they need."""
    print(f"generator: {cost.seconds * 1e3:.2f} ms and {cost.disk / 1024:.1f} KiB on disk an article "
          f"({cost.size / 1024:.1f} KiB of XML), measured on {SAMPLE_ARTICLES}")
    needed = 0
    for size in sizes:
        folder = Path(data) / f"n{size}"
        have = count_articles(str(folder))
        if have == size:
            print(f"  n={size:>7,}: {folder} is ready")
            continue
        needed += size * cost.disk
        print(f"  n={size:>7,}: generate into {folder}: ~{size * cost.seconds:.0f} s, "
              f"~{size * cost.disk / MIB:,.0f} MiB")
    return int(needed)


def growth(args: argparse.Namespace) -> None:
    """Build (and loop) at each size: wall time, peak RSS, articles/s, and how they grow."""
    sizes = sorted(set(args.sizes))
    Path(args.data).mkdir(parents=True, exist_ok=True)
    needed = print_plan(sizes, args.data, generator_cost())
    free = shutil.disk_usage(args.data).free
    # An output is ~1 KiB an article (zstd Parquet); each run's is deleted before the next.
    out_disk = max(sizes) * 1024 * 2
    print(f"disk: inputs need ~{needed / MIB:,.0f} MiB, one run's OUT ~{out_disk / MIB:,.0f} MiB; "
          f"{free / MIB:,.0f} MiB free", flush=True)
    if needed + out_disk > free:
        sys.exit("not enough free disk: give --data a bigger disk, or fewer --sizes")
    configs = [Config("build erudit", "build", args.workers)]
    if args.with_loop:
        configs.append(Config("plain loop (no language check)", "loop"))
    table: list[tuple[int, Summary]] = []
    for size in sizes:
        folder = str(Path(args.data) / f"n{size}")
        if count_articles(folder) != size:
            shutil.rmtree(folder, ignore_errors=True)
            start = time.perf_counter()
            generate(folder, size)
            print(f"generated {size:,} articles in {time.perf_counter() - start:.0f} s", flush=True)
        warm_page_cache(folder)
        for config in configs:
            runs = []
            for _ in range(args.repeat):
                out = tempfile.mkdtemp(prefix="bench-out-", dir=args.tmp)
                try:
                    runs.append(measure(config.command(folder, out), config.finished(out)))
                finally:
                    shutil.rmtree(out, ignore_errors=True)
                print(f"n={size:,}: {config.name:30} {runs[-1].seconds:7.1f} s  {gib(runs[-1].peak_all)}", flush=True)
            table.append((size, Summary(config.name, shown(config.command(folder, "OUT")), runs)))
    print_growth(table, configs)


def print_growth(table: list[tuple[int, Summary]], configs: list[Config]) -> None:
    print(f"\n{'articles':>9} {'command':34} {'wall s':>8} {'art./s':>8} {'µs/art.':>8} {'RSS max proc.':>14} "
          f"{'RSS all proc.':>14} {'procs':>5}")
    for size, summary in table:
        print(f"{size:9,} {summary.name:34} {summary.seconds:8.1f} {size / summary.seconds:8.0f} "
              f"{summary.seconds / size * 1e6:8.0f} {gib(summary.peak_process):>14} {gib(summary.peak_all):>14} "
              f"{summary.processes:5d}{summary.failed_exits}")
    for config in configs:
        rows = [(size, summary) for size, summary in table if summary.name == config.name]
        for (small, a), (large, b) in itertools.pairwise(rows):
            print(f"{config.name}: {small:,} -> {large:,} articles (×{large / small:.1f}): time ×{b.seconds / a.seconds:.2f}, "
                  f"peak RSS (all processes) ×{b.peak_all / a.peak_all:.2f}, "
                  f"+{(b.peak_all - a.peak_all) / (large - small):,.0f} bytes an extra article")
        for size, summary in rows:
            if size == 250_000 and config.kind == "build":
                verdict = "met" if summary.seconds < TIME_AIM_S else "NOT met"
                print(f"aim: 250,000 articles in under {TIME_AIM_S} s: {summary.seconds:.0f} s, {verdict}")
    print("\nREADME rows (one run each unless --repeat; 2-core machine):\n")
    print("| what | command | figure |\n|---|---|---|")
    for size, summary in table:
        print(f"| {summary.name}, {size:,} generated articles ({plural(summary.processes, 'process')}) | "
              f"`{summary.command}` | {summary.seconds:.1f} s ({size / summary.seconds:,.0f} articles/s), "
              f"peak RSS {gib(summary.peak_all)} all processes, {gib(summary.peak_process)} the largest |")
    print_invocation()


# --- pairing -------------------------------------------------------------------------------------------

def clirudit_sized_records(documents: int = CLIRUDIT_DOCUMENTS, seed: int = 0) -> list[Record]:
    """`documents` articles with 5-7 English keywords from a 40k-keyword Zipf-like vocabulary."""
    rng = random.Random(seed)
    vocabulary = [f"keyword {i}" for i in range(40_000)]
    weights = [1 / (i + 10) for i in range(len(vocabulary))]
    records = []
    for index in range(documents):
        keywords = tuple(dict.fromkeys(rng.choices(vocabulary, weights, k=rng.choice((5, 5, 6, 6, 7, 7, 7)))))
        texts = {"fr": LangText(title=f"Titre {index}", abstract=f"Résumé {index}"),
                 "en": LangText(title=f"Title {index}", abstract=f"Abstract {index}", keywords=keywords)}
        records.append(Record("bench", f"{index:07d}ar", "", "", "", "fr", texts))
    return records


def beam_pairing_rows(records: list[Record], options: PairingOptions) -> int:
    """Run the pipeline's pairing path (the pair step, then MakeRows with its keyword regroup) over `records`
    on the in-process runner, one worker; returns the rows it made. Beam is imported here so that the other
    modes' parent process stays small."""
    import apache_beam as beam
    from apache_beam.metrics.metric import MetricsFilter

    from clirdata.pipelines.build import MakeRows, RunSteps
    from clirdata.pipelines.runner import make_options
    from clirdata.sources.erudit import EruditSource

    source = EruditSource(pairing=options)

    def count(row):
        beam.metrics.Metrics.counter("bench", "rows").inc()
        return row

    pipeline = beam.Pipeline(options=make_options([], 1))
    paired = (pipeline | beam.Create(records) | RunSteps(source.steps()[-1:]))["ok"]
    _ = paired | MakeRows(source) | beam.Map(count)
    result = pipeline.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_name("rows"))["counters"]
    return sum(counter.committed for counter in counters)


def pairing(args: argparse.Namespace) -> None:
    """CLIRudit-sized keyword pairing: the pure function, and the Beam path when not --no-beam."""
    records = clirudit_sized_records(args.documents)
    options = PairingOptions()
    times, collection = [], None
    for _ in range(args.repeat):
        start = time.perf_counter()
        collection = pair_records(records, options)
        times.append(time.perf_counter() - start)
    rows = sum(len(rows) for tables in (collection.corpus, collection.queries, collection.qrels)
               for rows in tables.values())
    print(f"keyword pairing, {len(records):,} documents -> {len(collection.queries['en']):,} queries, "
          f"{len(collection.qrels['en_fr']):,} qrels ({rows:,} rows in all)")
    print(f"  pair_records, one process:        median {statistics.median(times):6.2f} s  runs "
          f"{[round(t, 2) for t in times]}")
    if args.no_beam:
        print_invocation()
        return
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        beam_rows = beam_pairing_rows(records, options)
        times.append(time.perf_counter() - start)
        if beam_rows != rows:
            print(f"  the Beam path made {beam_rows:,} rows, pair_records {rows:,}: DIFFERENT")
    print(f"  PairArticles, in-process runner:  median {statistics.median(times):6.2f} s  runs "
          f"{[round(t, 2) for t in times]} (1 worker; includes building and starting the pipeline)")
    print_invocation()


# --- Command line --------------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    modes = main.add_subparsers(dest="mode", required=True)
    ratio_mode = modes.add_parser("ratio", help="the build against the plain loop on one folder")
    ratio_mode.add_argument("folder", help="generated articles (python bench/generate_erudit.py DIR --n 10000)")
    ratio_mode.add_argument("--repeat", type=int, default=3)
    ratio_mode.set_defaults(run=ratio)
    growth_mode = modes.add_parser("growth", help="wall time and peak RSS at several sizes")
    growth_mode.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    growth_mode.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "erudit-growth"),
                             help="where the generated inputs live (DATA/n10000 ...); kept between sessions")
    growth_mode.add_argument("--repeat", type=int, default=1)
    growth_mode.add_argument("--workers", type=int, default=None, help="the build's --workers (default: automatic)")
    growth_mode.add_argument("--with-loop", action="store_true", help="also run the plain loop at each size")
    growth_mode.set_defaults(run=growth)
    pairing_mode = modes.add_parser("pairing", help="keyword pairing at CLIRudit's size")
    pairing_mode.add_argument("--repeat", type=int, default=3)
    pairing_mode.add_argument("--documents", type=int, default=CLIRUDIT_DOCUMENTS)
    pairing_mode.add_argument("--no-beam", action="store_true", help="only the pure function")
    pairing_mode.set_defaults(run=pairing)
    for mode in (ratio_mode, growth_mode):
        mode.add_argument("--tmp", default=None, help="where each run's OUT is made (and deleted)")
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "repeat", 1) < 1:
        sys.exit("--repeat must be at least 1")
    args.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
