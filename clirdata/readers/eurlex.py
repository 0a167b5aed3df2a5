"""EUR-Lex files: downloading acts (`{LANG}/TXT/{HTML|PDF}/?uri=CELEX:{celex}`) into a local folder, and
listing a folder of `{CELEX}_{LANG}.{html,xhtml,pdf}` files by act and language.

Downloads are polite (a delay between requests), patient (retries that honour Retry-After) and
resumable: a file already in the folder is not fetched again, and a file appears only once complete.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from clirdata.readers import storage
from clirdata.readers.http import DEADLINE_S, RETRY_AFTER_CAP_S, FetchFailed, fetch, http_session, wait_strategy
from clirdata.schemas import Reject

EURLEX_BASE_URL = "https://eur-lex.europa.eu"
USER_AGENT = "clirdata-eurlex/1 (CLIR test collections; polite, resumable)"
_CELEX = re.compile(r"^[0-9A-Z]{1,2}\d{4}[A-Z]{1,2}\d{1,5}(?:\(\d+\))?(?:-\d{8})?$")
FORMATS = {"html": ("HTML", "html"), "pdf": ("PDF", "pdf")}
SOURCE = "eurlex"
# {CELEX}_{LANG}.{ext}, any case: 32016R0679_EN.html, 32016r0679_en.XHTML, 32016R0679_EN.PDF
FILE_NAME = re.compile(r"^(?P<celex>[0-9A-Z()\-]+)_(?P<lang>[A-Z]{2})\.(?P<ext>xhtml|html|htm|pdf)$", re.IGNORECASE)


@dataclass(frozen=True)
class Download:
    """One file to fetch: an act in one language and one format."""

    celex: str
    lang: str
    fmt: str  # html | pdf

    @property
    def filename(self) -> str:
        return f"{self.celex}_{self.lang.upper()}.{FORMATS[self.fmt][1]}"

    def url(self, base_url: str = EURLEX_BASE_URL) -> str:
        path = f"legal-content/{self.lang.upper()}/TXT/{FORMATS[self.fmt][0]}/?uri=CELEX:{self.celex}"
        return f"{base_url.rstrip('/')}/{path}"


def read_celex_list(text: str) -> list[str]:
    """CELEX numbers, one a line; blank lines and `#` comments are skipped. Raises on a bad number."""
    numbers = []
    for number, line in enumerate(text.splitlines(), 1):
        value = line.split("#", 1)[0].strip()
        if not value:
            continue
        if not _CELEX.match(value):
            raise ValueError(f"line {number}: {value!r} is not a CELEX number")
        numbers.append(value)
    return list(dict.fromkeys(numbers))


def plan_downloads(celex_numbers: Iterable[str], langs: Iterable[str], formats=("html", "pdf")) -> list[Download]:
    return [Download(c, lang, fmt) for c in celex_numbers for lang in langs for fmt in formats]


def download_all(downloads: list[Download], folder: Path, *, base_url: str = EURLEX_BASE_URL,
                 delay_s: float = 1.0, max_retries: int = 4, timeout_s: float = 60.0,
                 max_bytes: int = 100_000_000, backoff_s: float = 2.0, retry_after_cap_s: float = RETRY_AFTER_CAP_S,
                 deadline_s: float = DEADLINE_S) -> Iterator[Path | Reject]:
    """Fetch what is not in `folder` yet; yields each file's path (new or already there) or a Reject.

    A longer Retry-After than `retry_after_cap_s` is cut to it, with a warning in the log; one
    response may take `deadline_s` in all (a server that sends a byte a second is cut and retried).
    """
    folder.mkdir(parents=True, exist_ok=True)
    session = http_session(USER_AGENT)
    wait = wait_strategy(backoff_s, 120.0, retry_after_cap_s)
    first = True
    for download in downloads:
        target = folder / download.filename
        if target.exists():
            yield target
            continue
        if not first:
            time.sleep(delay_s)
        first = False
        url = download.url(base_url)
        try:
            body = fetch(session, url, max_retries=max_retries, timeout_s=timeout_s, max_bytes=max_bytes, wait=wait,
                         deadline_s=deadline_s)
        except FetchFailed as error:
            yield Reject(SOURCE, url, "download", error.reason, error.detail, download.celex)
            continue
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(body)
        os.replace(partial, target)
        yield target


@dataclass(frozen=True)
class ActFiles:
    """The files of one language version of an act: its HTML (required) and PDF (optional)."""

    celex: str
    lang: str
    html: str
    pdf: str = ""


def list_act_files(location: str, langs: tuple[str, ...]) -> tuple[list[ActFiles], list[Reject], int]:
    """Group the `{CELEX}_{LANG}.{html,xhtml,pdf}` files of a folder by act and language (names in any case).

    Every file of the folder is either used or a `list` reject (a README, a stray download, a
    second HTML for the same version, a named pipe): nothing is skipped silently. Returns the
    groups, the rejects, and the number of files seen.
    """
    paths = _folder_files(location)
    groups: dict[tuple[str, str], dict[str, str]] = {}
    rejects = []
    for path in paths:
        reject = _unusable(path, langs)
        if reject is not None:
            rejects.append(reject)
            continue
        match = FILE_NAME.match(path.rsplit("/", 1)[-1])
        celex, lang = match["celex"].upper(), match["lang"].lower()
        kind = "pdf" if match["ext"].lower() == "pdf" else "html"
        files = groups.setdefault((celex, lang), {})
        if kind in files:
            rejects.append(Reject(SOURCE, path, "list", "duplicate",
                                  f"{files[kind]} is already the {kind.upper()} of {celex} in '{lang}'", celex))
        else:
            files[kind] = path
    acts = []
    for (celex, lang), files in sorted(groups.items()):
        if "html" not in files:
            rejects.append(Reject(SOURCE, files["pdf"], "list", "no-html",
                                  "the HTML is the reference text; a PDF alone is not used", celex))
        else:
            acts.append(ActFiles(celex, lang, files["html"], files.get("pdf", "")))
    return acts, rejects, len(paths)


def _folder_files(location: str) -> list[str]:
    """Every entry of the folder but its subfolders, sorted. On a local disk the folder is read
    directly, so that a dangling link (which a glob drops without a word) is seen too."""
    if storage.is_local(location):
        folder = storage.local_path(location)
        if not os.path.isdir(folder):
            return []
        with os.scandir(folder) as entries:
            return sorted(os.path.join(folder, entry.name) for entry in entries if not entry.is_dir())
    return [info.path for info in storage.match(storage.join(location.rstrip("/"), "*"))]


def _unusable(path: str, langs: tuple[str, ...]) -> Reject | None:
    """Why a listed file cannot be an input, or None: its name, its language, or (on a local disk) not a
    regular file (a named pipe would block the reader for ever)."""
    match = FILE_NAME.match(path.rsplit("/", 1)[-1])
    if not match:
        return Reject(SOURCE, path, "list", "unrecognised-name", "expected {CELEX}_{LANG}.{html,xhtml,pdf}")
    celex, lang = match["celex"].upper(), match["lang"].lower()
    if lang not in langs:
        return Reject(SOURCE, path, "list", "language-not-requested", f"'{lang}' is not in --langs", celex)
    if storage.is_local(path):
        try:
            mode = os.stat(storage.local_path(path)).st_mode
        except OSError as error:
            return Reject(SOURCE, path, "list", "unreadable", f"{type(error).__name__}: {error}", celex)
        if not stat.S_ISREG(mode):
            return Reject(SOURCE, path, "list", "not-a-file", "not a regular file (a pipe, a device?)", celex)
    return None
