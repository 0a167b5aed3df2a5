"""Runners: the same bytes from every local runner, cluster runners' options built without submitting,
and the local worker count (every core when the input pays for it, `--workers 1` forces one).

The three local runners are Beam's in-process FnApiRunner (the default), the same in multi_processing mode
(`--workers 2`), and Beam's PortableRunner on the embedded job service with a LOOPBACK worker: the Job API
that Flink's and Spark's job servers speak, offline (no Prism download, no Docker). Flink's and Spark's own
job servers are Java jars that Beam fetches from Maven Central, which these machines cannot reach: the tests
show which jar Beam would fetch and stop there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import Metrics, MetricsFilter
from apache_beam.options.pipeline_options import (
    DirectOptions,
    FlinkRunnerOptions,
    GoogleCloudOptions,
    PortableOptions,
    SparkRunnerOptions,
    StandardOptions,
    WorkerOptions,
)
from apache_beam.options.pipeline_options_validator import PipelineOptionsValidator
from apache_beam.runners.dataflow.dataflow_runner import DataflowRunner
from apache_beam.runners.portability.flink_runner import FlinkJarJobServer, FlinkRunner
from apache_beam.runners.portability.portable_runner import PortableRunner
from apache_beam.runners.portability.spark_runner import SparkJarJobServer
from click.testing import CliRunner

from clirdata.cli import ERUDIT_INPUTS_PER_WORKER, cli, sample_dir
from clirdata.pipelines.manifest import stage_counters
from clirdata.pipelines.runner import (
    DEFAULT_RUNNER,
    WORKER_MEMORY,
    BeamOptionsError,
    available_cores,
    default_workers,
    local_processes,
    make_options,
    runs_in_process,
)
from clirdata.pipelines.steps import METRICS_NAMESPACE

PORTABLE_EMBEDDED = ["--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK"]
LOCAL_RUNNERS = {
    "in-process": ([], []),
    "workers-2": (["--workers", "2"], []),
    "portable-embedded": ([], PORTABLE_EMBEDDED),
}
IMAGE = "europe-docker.pkg.dev/my-project/clirdata/clirdata:0.1.0"
GIB = 1 << 30


def build(source: str, out: Path, options: list[str], beam_args: list[str]) -> dict:
    """`clirdata build SOURCE` on its embedded sample, through the command line; returns the manifest."""
    result = CliRunner().invoke(cli, ["build", source, "--out", str(out), *options], obj={"beam_args": beam_args})
    assert result.exit_code == 0, result.output
    return json.loads((out / "manifest.json").read_text())


def parquet_files(out: Path) -> dict[str, bytes]:
    """Every Parquet file under OUT with its bytes."""
    return {path.relative_to(out).as_posix(): path.read_bytes() for path in sorted(out.rglob("*.parquet"))}


# --- the same bytes on every local runner ------------------------------------------------------------------

@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, tuple[dict, dict[str, bytes]]]:
    """Each sample built once on the default runner: {source: (manifest, parquet files)}."""
    built = {}
    for source in ("erudit", "eurlex"):
        out = tmp_path_factory.mktemp(f"{source}-default")
        built[source] = (build(source, out, [], []), parquet_files(out))
    return built


def test_the_default_builds_count_every_sample_input(reference):
    """The reference the other runners are held to: counters were read (the first stage saw every input)."""
    erudit, _ = reference["erudit"]
    assert erudit["stages"][0]["in"] == len(list(sample_dir("erudit").glob("*.xml"))) == 88
    eurlex, _ = reference["eurlex"]
    assert eurlex["stages"][0]["in"] == len(list(sample_dir("eurlex").iterdir())) == 19  # 9 acts' pages and PDFs
    for manifest, files in (erudit, reference["erudit"][1]), (eurlex, reference["eurlex"][1]):
        assert all(stage["balanced"] for stage in manifest["stages"])
        assert set(files) == set(manifest["files"]) and "rejects.parquet" in files


@pytest.mark.parametrize("runner", ["workers-2", "portable-embedded"])
@pytest.mark.parametrize("source", ["erudit", "eurlex"])
def test_every_local_runner_writes_the_same_bytes(reference, tmp_path, source, runner):
    """Byte-identical Parquet and the same counts per stage (read from each runner's counters)."""
    options, beam_args = LOCAL_RUNNERS[runner]
    manifest = build(source, tmp_path / "out", options, beam_args)
    expected_manifest, expected_files = reference[source]
    files = parquet_files(tmp_path / "out")
    assert sorted(files) == sorted(expected_files)
    for relpath, data in files.items():
        assert data == expected_files[relpath], f"{relpath} differs on {runner}"
    assert manifest["stages"] == expected_manifest["stages"]
    assert manifest["files"] == expected_manifest["files"]


class _Count(beam.DoFn):
    def __init__(self):
        self.seen = Metrics.counter(METRICS_NAMESPACE, "probe.in")

    def process(self, element):
        self.seen.inc()
        yield element


@pytest.mark.parametrize("runner", sorted(LOCAL_RUNNERS))
def test_each_local_runner_reports_committed_counters(runner):
    """The manifest's stage counts come from Beam counters: each runner must return them once the run ends."""
    options, beam_args = LOCAL_RUNNERS[runner]
    workers = int(options[1]) if options else None
    pipeline = beam.Pipeline(options=make_options(beam_args, workers))
    _ = pipeline | beam.Create(range(7)) | beam.ParDo(_Count())
    result = pipeline.run()
    result.wait_until_finish()
    (counter,) = result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))["counters"]
    assert counter.committed == 7  # the portable runner returns committed values only; that is what we read
    assert stage_counters(result) == {"probe": {"in": 7}}


# --- cluster runners: options built, nothing submitted -----------------------------------------------------

def test_dataflow_options_parse_and_pass_dataflows_own_checks():
    options = make_options(["--runner=DataflowRunner", "--project=my-project", "--region=europe-west1",
                            "--temp_location=gs://my-bucket/tmp", f"--sdk_container_image={IMAGE}",
                            "--num_workers=4", "--max_num_workers=20"], default_workers=8)
    cloud = options.view_as(GoogleCloudOptions)
    assert (cloud.project, cloud.region, cloud.temp_location) == ("my-project", "europe-west1", "gs://my-bucket/tmp")
    worker = options.view_as(WorkerOptions)
    assert (worker.sdk_container_image, worker.num_workers, worker.max_num_workers) == (IMAGE, 4, 20)
    assert not runs_in_process(options) and local_processes(options) == 1
    assert options.view_as(DirectOptions).direct_num_workers == 1  # the local default never reaches a cluster
    # The validation DataflowRunner runs before it submits: offline, and it finds nothing wrong.
    assert PipelineOptionsValidator(options, DataflowRunner()).validate() == []
    local_temp = make_options(["--runner=DataflowRunner", "--project=my-project", "--region=europe-west1",
                               "--temp_location=/tmp/x"])
    assert "Invalid GCS path (/tmp/x), given for the option: temp_location." in PipelineOptionsValidator(
        local_temp, DataflowRunner()).validate()


def test_flink_options_parse_and_name_the_job_server_jar_on_maven():
    options = make_options(["--runner=FlinkRunner", "--flink_master=flink.example.org:8081", "--flink_version=1.19",
                            "--parallelism=8", "--environment_type=DOCKER", f"--environment_config={IMAGE}"])
    flink = options.view_as(FlinkRunnerOptions)
    assert (flink.flink_master, flink.flink_version, flink.parallelism) == ("flink.example.org:8081", "1.19", 8)
    portable = options.view_as(PortableOptions)
    assert (portable.environment_type, portable.environment_config) == ("DOCKER", IMAGE)
    assert options.view_as(StandardOptions).runner == "FlinkRunner" and local_processes(options) == 1
    assert FlinkRunner.add_http_scheme(flink.flink_master) == "http://flink.example.org:8081"
    # Without --job_endpoint, Beam starts Flink's job server from this jar (not fetched here: no Maven access).
    assert FlinkJarJobServer(options).path_to_jar() == (
        "https://repo.maven.apache.org/maven2/org/apache/beam/beam-runners-flink-1.19-job-server/"
        f"{beam.__version__}/beam-runners-flink-1.19-job-server-{beam.__version__}.jar")


def test_spark_options_parse_for_the_spark_runner_and_a_spark_job_server():
    spark = make_options(["--runner=SparkRunner", "--spark_master_url=spark://spark.example.org:7077",
                          "--environment_type=DOCKER", f"--environment_config={IMAGE}"])
    assert spark.view_as(SparkRunnerOptions).spark_master_url == "spark://spark.example.org:7077"
    assert spark.view_as(PortableOptions).environment_config == IMAGE and not runs_in_process(spark)
    assert SparkJarJobServer(spark).path_to_jar() == (
        "https://repo.maven.apache.org/maven2/org/apache/beam/beam-runners-spark-3-job-server/"
        f"{beam.__version__}/beam-runners-spark-3-job-server-{beam.__version__}.jar")
    # A Spark job server already running (started from that jar): the portable runner talks to it.
    portable = make_options(["--runner=PortableRunner", "--job_endpoint=spark-js.example.org:8099",
                             "--artifact_endpoint=spark-js.example.org:8098", "--environment_type=EXTERNAL",
                             "--environment_config=localhost:50000"])
    options = portable.view_as(PortableOptions)
    assert (options.job_endpoint, options.artifact_endpoint) == ("spark-js.example.org:8099",
                                                                 "spark-js.example.org:8098")
    assert (options.environment_type, options.environment_config) == ("EXTERNAL", "localhost:50000")


def test_the_job_a_cluster_receives_runs_clirdatas_image():
    """The pipeline proto a Flink or Spark job server would receive names the Docker image as its environment."""
    options = make_options(["--runner=FlinkRunner", "--flink_master=flink.example.org:8081",
                            "--environment_type=DOCKER", f"--environment_config={IMAGE}"])
    pipeline = beam.Pipeline(options=options)
    _ = pipeline | beam.Create(["x"]) | beam.Map(str.upper)
    proto = PortableRunner.get_proto_pipeline(pipeline, options)
    (environment,) = [env for env in proto.components.environments.values() if env.urn == "beam:env:docker:v1"]
    assert IMAGE.encode() in environment.payload


# --- option errors and the local worker count ------------------------------------------------------------

@pytest.mark.parametrize(("beam_args", "workers", "message"), [
    (["--job-endpoint=embed"], None, "Beam does not know the option '--job-endpoint=embed' (did you mean --job_endpoint?)"),
    (["--direct_num_workers=two"], None, "Beam option: argument --direct_num_workers: invalid int value: 'two'"),
    (["--runner"], None, "Beam option: argument --runner: expected one argument"),
    (["stray"], None, "Beam does not know the option 'stray'"),
    (["--runner=DataflowRunner"], 2, "--workers sets local processes; DataflowRunner has its own worker options"),
    (PORTABLE_EMBEDDED, 1, "--workers sets local processes; PortableRunner has its own worker options"),
])
def test_options_that_cannot_run_a_build_are_refused(beam_args, workers, message):
    with pytest.raises(BeamOptionsError) as error:
        make_options(beam_args, workers)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_a_refused_beam_option_is_one_line_and_exit_2_before_out_is_touched(tmp_path):
    out = tmp_path / "never"
    result = CliRunner().invoke(cli, ["build", "erudit", "--out", str(out), "--workers", "2"],
                                obj={"beam_args": ["--runner=FlinkRunner", "--flink_master=localhost:8081"]})
    assert result.exit_code == 2 and "has its own worker options" in result.output
    assert not out.exists()


@pytest.mark.parametrize(("workers", "beam_args", "default", "expected"), [
    (None, [], 1, (DEFAULT_RUNNER, "in_memory", 1)),
    (None, [], 2, (DEFAULT_RUNNER, "multi_processing", 2)),
    (2, [], 1, (DEFAULT_RUNNER, "multi_processing", 2)),
    (1, [], 8, (DEFAULT_RUNNER, "in_memory", 1)),  # --workers 1 forces one, whatever the input
    (None, ["--direct_num_workers=3", "--direct_running_mode=multi_processing"], 8,
     (DEFAULT_RUNNER, "multi_processing", 3)),  # Beam's own spelling wins over the automatic count
    (1, ["--direct_num_workers=3", "--direct_running_mode=multi_processing"], 8, (DEFAULT_RUNNER, "in_memory", 1)),
    (None, ["--runner=FnApiRunner"], 2, ("FnApiRunner", "multi_processing", 2)),
])
def test_where_the_local_worker_count_comes_from(workers, beam_args, default, expected):
    options = make_options(beam_args, workers, default_workers=default)
    direct = options.view_as(DirectOptions)
    assert (options.view_as(StandardOptions).runner, direct.direct_running_mode, direct.direct_num_workers) == expected
    assert local_processes(options) == expected[2]


@pytest.mark.parametrize(("inputs", "per_worker", "cores", "memory", "expected"), [
    (0, 2000, 16, 64 * GIB, 1),
    (88, 2000, 16, 64 * GIB, 1),           # the embedded sample: one process
    (3999, 2000, 16, 64 * GIB, 1),         # a second worker would get less than 2,000 articles
    (4000, 2000, 16, 64 * GIB, 2),
    (10_000, 2000, 2, 64 * GIB, 2),        # every core of a 2-core machine
    (1_000_000, 2000, 16, 64 * GIB, 16),   # every core
    (1_000_000, 2000, 16, 8 * WORKER_MEMORY, 4),  # half the memory holds 4 workers
    (1_000_000, 2000, 16, 0, 16),          # memory unknown: no memory cap
    (40, 20, 16, 64 * GIB, 2),             # EUR-Lex language versions
    (5, 0, 4, 64 * GIB, 4),                # a nonsensical per-worker count is read as 1
])
def test_default_workers_by_hand(inputs, per_worker, cores, memory, expected):
    assert default_workers(inputs, per_worker, cores=cores, memory=memory) == expected


def test_default_workers_reads_this_machine():
    assert default_workers(10**9, 1) == min(available_cores(), default_workers(10**9, 1, memory=0))


def test_available_cores_are_the_ones_this_process_may_use():
    """A process pinned to one core (taskset, a container's cpuset) starts one worker, whatever the machine has."""
    pinned = subprocess.run([sys.executable, "-c", "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
                             "from clirdata.pipelines.runner import available_cores, default_workers; "
                             "print(available_cores(), default_workers(10**6, 1))"],
                            capture_output=True, text=True, timeout=120, check=True)
    assert pinned.stdout.split() == ["1", "1"]


def test_a_large_input_uses_every_core_and_writes_the_same_bytes(tmp_path):
    """Enough inputs for two workers: the build starts them by itself, and `--workers 1` writes the same bytes.

    The inputs are empty files (each one a reject, no language check), so 4,000 of them build in seconds.
    """
    folder = tmp_path / "in"
    folder.mkdir()
    count = 2 * ERUDIT_INPUTS_PER_WORKER
    for index in range(count):
        (folder / f"e{index:05d}ar.xml").write_bytes(b"")
    expected = min(2, available_cores(), default_workers(count, ERUDIT_INPUTS_PER_WORKER))
    runs = {}
    for name, options in (("automatic", []), ("forced-one", ["--workers", "1"])):
        out = tmp_path / name
        done = subprocess.run([sys.executable, "-m", "clirdata.cli", "build", "erudit", str(folder), "--out", str(out),
                               *options], capture_output=True, text=True, timeout=300)
        assert done.returncode == 3, done.stderr  # built, but no queries: every input is empty
        runs[name] = (done.stderr, parquet_files(out), json.loads((out / "manifest.json").read_text()))
    automatic, forced = runs["automatic"], runs["forced-one"]
    assert (f"Running in {expected} local processes" in automatic[0]) == (expected > 1)
    assert "local processes" not in forced[0]
    assert automatic[1] == forced[1] and "rejects.parquet" in forced[1]
    assert automatic[2]["stages"] == forced[2]["stages"]
    assert forced[2]["stages"][0]["in"] == count
