"""Running a build: Beam options, the in-process default runner, and OUT/ bookkeeping."""

from __future__ import annotations

from collections.abc import Callable

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions

from clirdata.pipelines.manifest import stage_counters
from clirdata.schemas import CONFIG_TABLES

# In-process and offline; Beam's DirectRunner would first try to download the Prism runner.
DEFAULT_RUNNER = "apache_beam.runners.portability.fn_api_runner.FnApiRunner"


def make_options(beam_args: list[str] | None = None, workers: int | None = None) -> PipelineOptions:
    """Beam options from `-- ARGS`; the in-process runner unless --runner is given.

    `workers` > 1 runs the in-process runner in Beam's multi_processing mode.
    """
    options = PipelineOptions(list(beam_args or []))
    standard = options.view_as(StandardOptions)
    if not standard.runner:
        standard.runner = DEFAULT_RUNNER
    if workers and workers > 1:
        direct = options.view_as(DirectOptions)
        direct.direct_running_mode = "multi_processing"
        direct.direct_num_workers = workers
    return options


def _our_files(out_dir: str, suffix: str = ".parquet") -> list[str]:
    """The data files clirdata writes in OUT/, and only those: OUT may hold other things."""
    patterns = [FileSystems.join(out_dir, f"rejects{suffix}")]
    patterns += [FileSystems.join(out_dir, directory, f"*{suffix}") for directory in CONFIG_TABLES]
    return sorted(m.path for result in FileSystems.match(patterns) for m in result.metadata_list)


def prepare_out_dir(out_dir: str) -> None:
    """Create OUT/ and clear what a previous build left: a crashed run never looks complete."""
    if not FileSystems.exists(out_dir):
        FileSystems.mkdirs(out_dir)
    stale = [FileSystems.join(out_dir, name) for name in ("manifest.json", "README.md")]
    stale += _our_files(out_dir) + _our_files(out_dir, ".parquet.tmp-*")
    FileSystems.delete([path for path in stale if FileSystems.exists(path)])


def written_files(out_dir: str) -> dict[str, int]:
    """{relpath: rows} of every Parquet file under OUT/, read from the files' footers."""
    files = {}
    for path in _our_files(out_dir):
        relpath = path[len(out_dir.rstrip("/")) + 1:]
        with FileSystems.open(path, compression_type="uncompressed") as handle:
            files[relpath] = pq.ParquetFile(handle).metadata.num_rows
    return dict(sorted(files.items()))


def run(build: Callable[[beam.Pipeline], object], options: PipelineOptions, out_dir: str):
    """Build the pipeline with `build`, run it to the end; returns ({relpath: rows}, counters)."""
    pipeline = beam.Pipeline(options=options)
    build(pipeline)
    result = pipeline.run()
    result.wait_until_finish()
    return written_files(out_dir), stage_counters(result)
