"""PDF bytes to text, page by page, with pdfminer.six in a child process under hard limits:
running heads, page numbers and line-end hyphens removed (see `pdf_child`).

pdfminer cannot be stopped from inside: a fan-out of form XObjects draws nothing for minutes,
the layout analysis of one crowded page is superlinear, and a stream is inflated whole, with
no size cap (a 2 MB flate bomb reaches GBs). So each PDF is read in a fresh interpreter that
caps its own address space and that this process kills at the deadline. Bounds, and the
reject reason (stage ``extract``) when one is passed:

- `max_bytes` (50 MB): the PDF's size, checked before anything else → ``too-large``.
- `max_pages` (2000): counted page by page in the child → ``too-large``.
- `timeout_s` (60 s): wall clock from the call, the child's start (~0.1 s) included; the child
  is killed (SIGKILL) at the deadline, so the call returns within `timeout_s` plus the time to
  reap it (milliseconds) → ``timeout``.
- `max_memory` (1 GiB): the child's address space (RLIMIT_AS), which holds the interpreter and
  pdfminer (~45 MB), the PDF and everything pdfminer makes of it → ``memory-limit``. This
  is where a flate bomb ends: the inflation fails as soon as it needs more.

A child that dies of a signal → ``corrupt-pdf``; so does a PDF pdfminer cannot parse, an empty
file or a document without pages. Encrypted → ``encrypted``; pages without text → ``no-text``.
A child that cannot run at all (pdfminer missing) raises `PdfChildError`: no PDF could be read.
The child is started with `subprocess` (fork-exec, no Python code runs between the two), which
is safe in multi-threaded Beam workers. This process holds the PDF and the child's answer,
which is at most what the child could hold. POSIX only (the child uses `resource`).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from math import isfinite
from pathlib import Path

from clirdata.extractors.pdf_child import EXIT_MEMORY, child_arguments
from clirdata.schemas.legal import PdfText
from clirdata.schemas.records import Reject

SOURCE = "eurlex"
STAGE = "extract"
DEFAULT_MAX_BYTES = 50_000_000  # the most of a PDF that is read and handed to the child
DEFAULT_MAX_MEMORY = 1 << 30  # bytes of address space for the child
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the child imports this very clirdata
# `python -c` puts the working directory first on sys.path: put the parent's clirdata there instead
_BOOTSTRAP = (
    "import sys\n"
    "sys.path[0:1] = [] if sys.argv[1] in sys.path[1:] else [sys.argv[1]]\n"
    "from clirdata.extractors.pdf_child import main\n"
    "main(sys.argv[2:])\n"
)


class PdfChildError(RuntimeError):
    """The child process could not run at all (a broken installation, not a bad PDF)."""


def extract_pdf_text(
    raw: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pages: int = 2000,
    timeout_s: float = 60.0,
    max_memory: int = DEFAULT_MAX_MEMORY,
    uri: str = "",
    celex: str = "",
) -> PdfText | Reject:
    """The text of every page; encrypted, corrupt, image-only, oversized, slow or greedy PDFs are Rejects.

    `uri` and `celex` only label the Reject (its `source_uri` and `source_id`). Bounds are in
    the module's docstring. Raises `PdfChildError` only when no PDF could ever be read here.
    """

    def reject(reason: str, detail: str) -> Reject:
        return Reject(SOURCE, uri, STAGE, reason, detail, celex)

    if len(raw) > max_bytes:
        return reject("too-large", f"{len(raw)} bytes > limit of {max_bytes}")
    if not raw:
        return reject("corrupt-pdf", "the file is empty")
    answer = _run_child(raw, max_pages, max_memory, timeout_s)
    if isinstance(answer, tuple):
        return reject(*answer)
    if not answer:
        return reject("corrupt-pdf", "the document has no pages")
    if not any(text.strip() for text in answer):
        return reject("no-text", f"no text on {len(answer)} pages (image-only or scanned?)")
    return PdfText(pages=tuple(answer))


def _run_child(raw: bytes, max_pages: int, max_memory: int, timeout_s: float) -> list[str] | tuple[str, str]:
    """The pages' texts from a child process, or (reason, detail) when it failed or was stopped."""
    command = [sys.executable, "-c", _BOOTSTRAP, _PACKAGE_ROOT, *child_arguments(max_pages, max_memory, timeout_s)]
    wait_s = max(timeout_s, 0.0) if isfinite(timeout_s) else None
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as child:
        try:
            out, err = child.communicate(raw, timeout=wait_s)
        except subprocess.TimeoutExpired:
            return "timeout", f"over {timeout_s:g} s: the extraction process was stopped"
        finally:
            if child.poll() is None:
                child.kill()  # leaving the `with` then reaps it
    return _read_answer(child.returncode, out, err, max_memory)


def _read_answer(returncode: int, out: bytes, err: bytes, max_memory: int) -> list[str] | tuple[str, str]:
    if returncode == EXIT_MEMORY:
        return "memory-limit", f"needs more than the memory limit of {max_memory / 2**20:g} MiB"
    if returncode == -signal.SIGXCPU:
        return "timeout", "the extraction process used up its CPU time"
    if returncode < 0:
        return "corrupt-pdf", f"the extraction process died of {_signal_name(-returncode)}{_last_line(err)}"
    try:
        answer = json.loads(out) if returncode == 0 else None
    except ValueError:
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("pages"), list):
        return [str(text) for text in answer["pages"]]
    if isinstance(answer, dict) and isinstance(answer.get("reject"), list) and len(answer["reject"]) == 2:
        reason, detail = answer["reject"]
        return str(reason), str(detail)
    raise PdfChildError(f"the PDF extraction process failed (exit status {returncode}){_last_line(err)}")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _last_line(err: bytes) -> str:
    lines = err.decode("utf-8", "replace").strip().splitlines()
    return f": {lines[-1][:200]}" if lines else ""
