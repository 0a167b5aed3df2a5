"""Downloading EUR-Lex acts: `{LANG}/TXT/{HTML|PDF}/?uri=CELEX:{celex}` into a local folder.

Polite (a delay between requests), patient (retries that honour Retry-After) and resumable:
a file already in the folder is not fetched again, and a file appears only once complete.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from clirdata.extractors.http import DEADLINE_S, RETRY_AFTER_CAP_S, FetchFailed, fetch, http_session, wait_strategy
from clirdata.schemas import Reject

EURLEX_BASE_URL = "https://eur-lex.europa.eu"
USER_AGENT = "clirdata-eurlex/1 (CLIR test collections; polite, resumable)"
_CELEX = re.compile(r"^[0-9A-Z]{1,2}\d{4}[A-Z]{1,2}\d{1,5}(?:\(\d+\))?(?:-\d{8})?$")
FORMATS = {"html": ("HTML", "html"), "pdf": ("PDF", "pdf")}


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
            yield Reject("eurlex", url, "download", error.reason, error.detail, download.celex)
            continue
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(body)
        os.replace(partial, target)
        yield target
