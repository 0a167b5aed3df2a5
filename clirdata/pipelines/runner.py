"""Running a build: Beam options, the runner and its local worker count, and OUT/ bookkeeping.

Any Beam runner runs a build (`-- --runner=...`); the default is the in-process FnApiRunner, which
uses one process per core when the input is large enough to pay for starting them (`default_workers`).

OUT belongs to one build at a time. `claim_out_dir` holds OUT/.clirdata/lock for the whole build,
refuses an OUT that clirdata did not write (unless overwrite), and adds the files the build plans
to write to the ledger (OUT/.clirdata/files.json); `prepare_out_dir` then deletes the files the
ledger lists, and nothing else: a user's `notes.txt` or own `corpus/x.parquet` survives every build.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import json
import logging
import multiprocessing
import os
import re
import socket
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystem import BeamIOError
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions

from clirdata.pipelines.manifest import (
    CARD_FILES,
    LEDGER,
    OUR_NAME,
    PRIVATE_DIR,
    Ledger,
    LedgerError,
    read_ledger,
    stage_counters,
    write_ledger,
)
from clirdata.schemas import CONFIG_TABLES

# In-process and offline; Beam's DirectRunner would first try to download the Prism runner.
DEFAULT_RUNNER = "apache_beam.runners.portability.fn_api_runner.FnApiRunner"
IN_PROCESS_RUNNERS = frozenset({DEFAULT_RUNNER, "FnApiRunner"})
# Beam's own spelling of the local worker count; given after `--`, it wins over the automatic choice.
_DIRECT_WORKER_OPTIONS = ("--direct_num_workers", "--direct_running_mode")
WORKER_MEMORY = 512 << 20  # one multi_processing worker holds the language models: ~420 MB measured
LOCK = f"{PRIVATE_DIR}/lock"
MAX_LOCK_BYTES = 4096  # a lock holds one small JSON object; anything longer is not ours
_TAKEOVER_ATTEMPTS = 3
_LOG = logging.getLogger("clirdata")


class OutDirError(Exception):
    """OUT cannot be used by this build (unwritable, held by another build, not clirdata's): one line."""


class BeamOptionsError(ValueError):
    """The options after `--` cannot run a build (a bad value, an unknown name, --workers on a cluster): one line."""


def _parsed(beam_args: list[str]) -> PipelineOptions:
    """PipelineOptions whose every value is parsed now (Beam's argparse would print its usage and exit later),
    with no name Beam does not know: Beam would drop a misspelt `--job-endpoint` with a warning and run locally."""
    options = PipelineOptions(beam_args)
    found: dict[str, list[str]] = {}

    def parse_with_every_option(parser) -> None:  # Beam's parser, once every options class added its own
        found["unknown"] = parser.parse_known_args(beam_args)[1]
        found["known"] = [name for action in parser._actions for name in action.option_strings]

    usage = io.StringIO()
    try:
        with contextlib.redirect_stderr(usage):
            options.get_all_options(add_extra_args_fn=parse_with_every_option, retain_unknown_options=True)
    except SystemExit:
        last = (usage.getvalue().strip().splitlines() or ["unparseable"])[-1]  # "PROG: error: WHAT"
        raise BeamOptionsError(f"Beam option: {last.partition(': error: ')[2] or last}") from None
    if found["unknown"]:
        first = found["unknown"][0]
        close = difflib.get_close_matches(first.split("=", 1)[0].replace("-", "_"), found["known"], n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise BeamOptionsError(f"Beam does not know the option {first!r}{hint}")
    return options


def runs_in_process(options: PipelineOptions) -> bool:
    """Whether `options` run the build on this machine with Beam's FnApiRunner (the default runner)."""
    return options.view_as(StandardOptions).runner in IN_PROCESS_RUNNERS


def make_options(beam_args: list[str] | None = None, workers: int | None = None, *,
                 default_workers: int = 1) -> PipelineOptions:
    """Beam options from `-- ARGS`; the in-process runner unless --runner is given.

    `workers` (the CLI's --workers) > 1 runs the in-process runner in Beam's multi_processing mode, 1 in
    this process; when it is None, `default_workers` is used, unless the Beam options set the worker count
    themselves or name another runner (a cluster decides its own). Raises BeamOptionsError for options that
    cannot run a build.
    """
    beam_args = list(beam_args or [])
    options = _parsed(beam_args)
    standard = options.view_as(StandardOptions)
    if not standard.runner:
        standard.runner = DEFAULT_RUNNER
    if not runs_in_process(options):
        if workers is not None:
            raise BeamOptionsError(f"--workers sets local processes; {standard.runner} has its own worker options "
                                   f"(e.g. --num_workers on Dataflow, --parallelism on Flink)")
        return options
    if workers is None and any(arg.split("=", 1)[0] in _DIRECT_WORKER_OPTIONS for arg in beam_args):
        return options
    count = workers if workers is not None else default_workers
    direct = options.view_as(DirectOptions)
    direct.direct_running_mode = "multi_processing" if count > 1 else "in_memory"
    direct.direct_num_workers = count
    return options


def local_processes(options: PipelineOptions) -> int:
    """How many worker processes the in-process runner starts for `options` (1 unless multi_processing)."""
    direct = options.view_as(DirectOptions)
    if not runs_in_process(options) or direct.direct_running_mode != "multi_processing":
        return 1
    return direct.direct_num_workers or multiprocessing.cpu_count()  # Beam reads 0 as one per CPU


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, which taskset and cpusets narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def default_workers(inputs: int, inputs_per_worker: int, cores: int | None = None,
                    memory: int | None = None) -> int:
    """Local processes for a build of `inputs` items: one per core, but only as many as the input pays for.

    A worker process costs a few seconds to start (Beam, clirdata and the language models), so each
    one must get at least `inputs_per_worker` items; half the physical `memory` caps the count too.
    """
    cores = available_cores() if cores is None else cores
    memory = _physical_memory() if memory is None else memory
    count = min(cores, inputs // max(1, inputs_per_worker))
    if memory:
        count = min(count, memory // 2 // WORKER_MEMORY)
    return max(1, count)


def is_local(path: str) -> bool:
    """Whether `path` is on the local filesystem (no `scheme://` of another Beam filesystem)."""
    return FileSystems.get_scheme(path) is None


def _relpath(out_dir: str, path: str) -> str:
    if is_local(out_dir):
        return Path(os.path.relpath(path, out_dir)).as_posix()
    return path[len(out_dir.rstrip("/")) + 1:]


def _data_files(out_dir: str) -> dict[str, tuple[int, float]]:
    """{relpath: (size, mtime)} of the data-shaped files in OUT/ (`corpus/*.parquet`, `rejects.parquet`...).

    Shaped like clirdata's, not necessarily written by it: OUT may hold a user's files too.
    """
    patterns = [FileSystems.join(out_dir, "rejects*.parquet")]
    patterns += [FileSystems.join(out_dir, directory, "*.parquet") for directory in CONFIG_TABLES]
    found = {}
    for result in FileSystems.match(patterns):
        for metadata in result.metadata_list:
            relpath = _relpath(out_dir, metadata.path)
            if OUR_NAME.fullmatch(relpath):
                found[relpath] = (int(metadata.size_in_bytes), float(metadata.last_updated_in_seconds))
    return dict(sorted(found.items()))


def _leftovers_of(out_dir: str, relpaths: Iterable[str]) -> list[str]:
    """Existing paths of `relpaths`, their temporary files and their shards, the manifest first.

    Temporary files and shards are matched by the exact names clirdata gives them
    (`x.tmp`, `x.tmp-{uuid4 hex}`, `x-00000-of-00002.parquet`), so a user's look-alike stays.
    """
    patterns, shapes = [], []
    for relpath in sorted(relpaths, key=lambda p: (p != "manifest.json", p)):
        path = FileSystems.join(out_dir, relpath)
        patterns += [path, f"{path}.tmp", f"{path}.tmp-*"]
        shapes += [None, None, re.compile(re.escape(path) + r"\.tmp-[0-9a-f]{32}")]
        if relpath.endswith(".parquet"):
            stem = path.removesuffix(".parquet")
            patterns.append(f"{stem}-?????-of-?????.parquet")
            shapes.append(re.compile(re.escape(stem) + r"-\d{5}-of-\d{5}\.parquet"))
    found = {m.path: None for result, shape in zip(FileSystems.match(patterns), shapes, strict=True)
             for m in result.metadata_list if shape is None or shape.fullmatch(m.path)}
    return list(found)


def _ledger_or_none(out_dir: str) -> Ledger | None:
    try:
        return read_ledger(out_dir)
    except LedgerError as error:
        _LOG.warning("%s is unreadable (%s): no earlier file is deleted", FileSystems.join(out_dir, LEDGER), error)
        return None


def prepare_out_dir(out_dir: str) -> None:
    """Create OUT/ and delete what clirdata wrote there before (the ledger's files), and nothing else.

    The manifest goes first, so a run that crashes after this never looks complete. The ledger is
    then marked `building`, with the data-shaped files that are not clirdata's noted as foreign.
    """
    ensure_out_dir(out_dir)
    ledger = _ledger_or_none(out_dir) or Ledger()
    stale = _leftovers_of(out_dir, ledger.files)
    if stale:
        FileSystems.delete(stale)
    foreign = {path: stamp for path, stamp in _data_files(out_dir).items() if path not in ledger.files}
    write_ledger(out_dir, Ledger(ledger.files | CARD_FILES, "building", foreign))


def written_files(out_dir: str) -> dict[str, int]:
    """{relpath: rows} of the Parquet files this build wrote under OUT/, read from the files' footers.

    A file noted as foreign in the ledger is left out unless the build rewrote it (size or time changed).
    """
    ledger = _ledger_or_none(out_dir)
    foreign = ledger.foreign if ledger else {}
    files = {}
    for relpath, stamp in _data_files(out_dir).items():
        if foreign.get(relpath) == stamp:
            continue
        with FileSystems.open(FileSystems.join(out_dir, relpath), compression_type="uncompressed") as handle:
            files[relpath] = pq.ParquetFile(handle).metadata.num_rows
    return files


def run(build: Callable[[beam.Pipeline], object], options: PipelineOptions, out_dir: str):
    """Build the pipeline with `build`, run it to the end; returns ({relpath: rows}, counters)."""
    pipeline = beam.Pipeline(options=options)
    build(pipeline)
    result = pipeline.run()
    result.wait_until_finish()
    return written_files(out_dir), stage_counters(result)


# --- OUT is a folder clirdata can write in ---------------------------------------------------------------

def ensure_out_dir(out_dir: str) -> None:
    """Create OUT/ when missing; OutDirError when it is a file, lies under a file, or cannot be created."""
    if not is_local(out_dir):
        try:
            if not FileSystems.exists(out_dir):
                FileSystems.mkdirs(out_dir)
        except (BeamIOError, OSError) as error:
            raise OutDirError(f"cannot create {out_dir}: {error}") from error
        return
    path = Path(out_dir)
    if path.is_dir():
        return
    if path.exists():
        raise OutDirError(f"{out_dir} is a file, not a folder: give --out a folder")
    blocker = next((parent for parent in path.parents if parent.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise OutDirError(f"cannot create {out_dir}: {blocker} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutDirError(f"cannot create {out_dir}: {error.strerror or error}") from error


def _has_other_entries(out_dir: str) -> bool:
    """Whether OUT holds anything besides clirdata's private folder."""
    if is_local(out_dir):
        with os.scandir(out_dir) as entries:
            return any(entry.name != PRIVATE_DIR for entry in entries)
    prefix = FileSystems.join(out_dir, PRIVATE_DIR) + "/"
    (result,) = FileSystems.match([FileSystems.join(out_dir, "**")], limits=[100])
    return any(not m.path.startswith(prefix) for m in result.metadata_list)


# --- The lock: OUT/.clirdata/lock ------------------------------------------------------------------------

@dataclass(frozen=True)
class LockHolder:
    """Who holds OUT: written into the lock file so that a refused build can name the holder."""

    pid: int
    host: str
    started: str
    command: str = ""
    token: str = ""

    @classmethod
    def me(cls, command: str = "") -> LockHolder:
        return cls(os.getpid(), socket.gethostname(), datetime.now(timezone.utc).isoformat(timespec="seconds"),
                   command[:500], uuid.uuid4().hex)

    @classmethod
    def parse(cls, raw: bytes) -> LockHolder | None:
        """The holder in a lock file's bytes; None when they are not a lock clirdata wrote."""
        if len(raw) > MAX_LOCK_BYTES:
            return None
        try:
            data = json.loads(raw.decode("utf-8"))
            holder = cls(**{name: data[name] for name in ("pid", "host", "started")},
                         command=data.get("command", ""), token=data.get("token", ""))
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
            return None
        fields_ok = all(isinstance(value, str) for value in (holder.host, holder.started, holder.command, holder.token))
        pid_ok = isinstance(holder.pid, int) and not isinstance(holder.pid, bool) and 0 < holder.pid < 2**31
        return holder if fields_ok and pid_ok else None

    def to_bytes(self) -> bytes:
        return (json.dumps(asdict(self)) + "\n").encode("utf-8")

    def describe(self) -> str:
        command = f", running `{self.command}`" if self.command else ""
        return f"pid {self.pid} on {self.host}, since {self.started}{command}"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, owned by someone else
        return True
    return True


def is_stale(holder: LockHolder | None) -> bool:
    """A lock whose process is gone: held from this host by a pid that is no longer alive."""
    return holder is not None and holder.host == socket.gethostname() and not _pid_alive(holder.pid)


def _held_message(lock_path: str, holder: LockHolder | None) -> str:
    if holder is None:
        return (f"{lock_path} exists but is not a lock clirdata can read; if no clirdata build is writing "
                f"there, delete it and rerun")
    return (f"another clirdata build holds this OUT ({holder.describe()}); wait for it, or delete {lock_path} "
            f"if that build is gone")


def _read_local_lock(path: str) -> LockHolder | None:
    with open(path, "rb") as handle:
        return LockHolder.parse(handle.read(MAX_LOCK_BYTES + 1))


def _set_aside_stale(lock_path: str, seen: LockHolder) -> None:
    """Remove a stale local lock, making sure it is still the one judged stale (not a new build's)."""
    aside = f"{lock_path}.stale-{uuid.uuid4().hex}"
    try:
        os.rename(lock_path, aside)
    except FileNotFoundError:
        return  # another build took it over first; the next attempt sees that build's lock
    moved = _read_local_lock(aside)
    if moved != seen:  # a live build took the lock between our read and our rename: give it back
        try:
            os.link(aside, lock_path)
        except FileExistsError:
            pass  # a third build holds it now; it refuses or runs on its own
        os.unlink(aside)
        raise OutDirError(_held_message(lock_path, moved))
    os.unlink(aside)


def _acquire_local(lock_path: str, me: LockHolder) -> None:
    """O_CREAT|O_EXCL: exactly one build creates the lock; a stale one is taken over with a warning."""
    for _ in range(_TAKEOVER_ATTEMPTS):
        try:
            descriptor = os.open(lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                seen = _read_local_lock(lock_path)
            except FileNotFoundError:
                continue  # released meanwhile
            if not is_stale(seen):
                raise OutDirError(_held_message(lock_path, seen)) from None
            _LOG.warning("taking over the lock of a build that is gone (%s): %s", seen.describe(), lock_path)
            _set_aside_stale(lock_path, seen)
            continue
        except OSError as error:
            raise OutDirError(f"cannot write in {Path(lock_path).parent.parent}: {error.strerror or error}") from error
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(me.to_bytes())
        return
    raise OutDirError(f"could not take {lock_path}: other builds are starting in this OUT at the same moment")


def _read_remote_lock(path: str) -> LockHolder | None:
    with FileSystems.open(path, compression_type="uncompressed") as handle:
        return LockHolder.parse(handle.read(MAX_LOCK_BYTES + 1))


def _acquire_remote(lock_path: str, me: LockHolder) -> None:
    """Beam's FileSystems has no create-if-absent: check, write, read back. Two builds started in the
    same instant may both pass the check; the read-back catches the one whose write was overwritten."""
    try:
        if FileSystems.exists(lock_path):
            seen = _read_remote_lock(lock_path)
            if not is_stale(seen):
                raise OutDirError(_held_message(lock_path, seen))
            _LOG.warning("taking over the lock of a build that is gone (%s): %s", seen.describe(), lock_path)
            FileSystems.delete([lock_path])
        with FileSystems.create(lock_path) as handle:
            handle.write(me.to_bytes())
        holder = _read_remote_lock(lock_path)
    except (BeamIOError, OSError) as error:
        raise OutDirError(f"cannot write {lock_path}: {error}") from error
    if holder != me:
        raise OutDirError(_held_message(lock_path, holder))


@contextmanager
def hold_lock(out_dir: str, command: str = "") -> Iterator[LockHolder]:
    """Hold OUT/.clirdata/lock (pid, host, time, command) until the block ends, even when it fails."""
    private = FileSystems.join(out_dir, PRIVATE_DIR)
    lock_path = FileSystems.join(out_dir, LOCK)
    me = LockHolder.me(command)
    local = is_local(out_dir)
    created_private = local and not os.path.isdir(private)
    if local:
        try:
            os.makedirs(private, exist_ok=True)
        except OSError as error:
            raise OutDirError(f"cannot write in {out_dir}: {error.strerror or error}") from error
        _acquire_local(lock_path, me)
    else:
        _acquire_remote(lock_path, me)
    try:
        yield me
    finally:
        _release(lock_path, me, local)
        if created_private:
            try:
                os.rmdir(private)  # only when empty: a refused build leaves OUT as it found it
            except OSError:
                pass


def _release(lock_path: str, me: LockHolder, local: bool) -> None:
    try:
        holder = _read_local_lock(lock_path) if local else _read_remote_lock(lock_path)
    except (FileNotFoundError, BeamIOError):
        holder = None
    if holder != me:
        _LOG.warning("%s was removed or replaced while this build held it", lock_path)
        return
    if local:
        os.unlink(lock_path)
    else:
        FileSystems.delete([lock_path])


# --- The claim: lock, ownership, ledger ------------------------------------------------------------------

def _check_ownership(out_dir: str, ledger: Ledger | None, planned: frozenset[str]) -> None:
    """Refuse an OUT that is not clirdata's, or a planned file that would replace one of the user's."""
    if ledger is None:
        if _has_other_entries(out_dir):
            raise OutDirError(f"{out_dir} is not empty and was not written by clirdata (no {LEDGER}): "
                              f"use --overwrite to build there anyway (files at the paths the build writes "
                              f"are replaced, all others are kept)")
        return
    theirs = sorted(path for path in planned - ledger.files
                    if FileSystems.exists(FileSystems.join(out_dir, path)))
    if theirs:
        more = f" and {len(theirs) - 1} more" if len(theirs) > 1 else ""
        raise OutDirError(f"{FileSystems.join(out_dir, theirs[0])}{more} would be replaced but clirdata did not "
                          f"write it: move it, or use --overwrite")


def _claim_ledger(out_dir: str, overwrite: bool) -> Ledger | None:
    """The ledger under the lock; an unreadable one refuses a new build unless `overwrite`."""
    try:
        return read_ledger(out_dir)
    except LedgerError as error:
        if overwrite:
            _LOG.warning("%s is unreadable (%s): starting a new one", FileSystems.join(out_dir, LEDGER), error)
            return None
        raise OutDirError(f"{FileSystems.join(out_dir, LEDGER)} is unreadable ({error}): use --overwrite to "
                          f"build anyway (no earlier file is then deleted)") from error


@contextmanager
def claim_out_dir(out_dir: str, planned: Iterable[str] = (), *, overwrite: bool = False, append: bool = False,
                  command: str = "") -> Iterator[None]:
    """Hold OUT for one build, from the checks to the end of the block (even when it fails).

    A new build (`append` False) is refused when OUT holds files and was not written by clirdata,
    or when a `planned` file would replace one clirdata did not write, unless `overwrite`. The
    `planned` files (plus README.md and manifest.json) are added to the ledger before the run, so
    a crashed build is cleaned up by the next one. `append` (synthesize) only takes the lock and
    records its files in an existing ledger. Raises OutDirError with a one-line reason.
    """
    ensure_out_dir(out_dir)
    planned_files = frozenset(planned)
    with hold_lock(out_dir, command):
        ledger = _ledger_or_none(out_dir) if append else _claim_ledger(out_dir, overwrite)
        if append:
            if ledger is not None:
                owned = ledger.files | planned_files
                foreign = {path: stamp for path, stamp in _data_files(out_dir).items() if path not in owned}
                write_ledger(out_dir, Ledger(owned, ledger.state, foreign))
        else:
            if not overwrite:
                _check_ownership(out_dir, ledger, planned_files | CARD_FILES)
            earlier = ledger or Ledger()
            write_ledger(out_dir, Ledger(earlier.files | planned_files | CARD_FILES, "building", earlier.foreign))
        yield
