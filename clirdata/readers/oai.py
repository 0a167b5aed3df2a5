"""OAI-PMH harvesting: resumption-token paging, polite delays, retries that honour Retry-After, bounds
that make every harvest end, and a page store under OUT that lets a killed harvest resume.

Every failure is a Reject, never an exception, so a build can count what it lost. The pages are
parsed by the pure `clirdata.extractors.oai_dc`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Protocol
from urllib.parse import urlencode

import requests

from clirdata.extractors.oai_dc import OaiPage, page_reject, parse_identify, parse_list_records
from clirdata.extractors.xmlsafe import UnsafeXml
from clirdata.readers import storage
from clirdata.readers.http import (
    DEADLINE_S,
    RETRY_AFTER_CAP_S,
    FetchFailed,
    RetryableBody,
    fetch,
    http_session,
    wait_strategy,
)
from clirdata.schemas.records import Record, Reject

USER_AGENT = "clirdata-oai/1 (OAI-PMH harvester for CLIR test collections)"
_LOG = logging.getLogger("clirdata")


@dataclass(frozen=True)
class OaiRequest:
    """What to harvest: a repository endpoint, a metadata format and optional set and dates."""

    base_url: str
    metadata_prefix: str = "oai_dc"
    set_spec: str | None = None
    from_date: str | None = None  # YYYY-MM-DD
    until_date: str | None = None
    source: str = "oai"  # the Record.source / Reject.source name

    def state_key(self) -> str:
        """A name for this request's saved pages: the same for the same server request, else different.

        `source` is left out: it names the output, not what the server is asked.
        """
        asked = [self.base_url, self.metadata_prefix, self.set_spec, self.from_date, self.until_date]
        return hashlib.sha256(json.dumps(asked).encode()).hexdigest()[:32]


def identify_url(base_url: str) -> str:
    return f"{base_url}{'&' if '?' in base_url else '?'}{urlencode([('verb', 'Identify')])}"


def repository_name(base_url: str, options: HarvestOptions | None = None, user_agent: str = USER_AGENT) -> str:
    """The repositoryName the endpoint's Identify response gives ("" when it gives none).

    Raises FetchFailed when the endpoint cannot be reached or does not answer Identify (after the retries).
    """
    options = options or HarvestOptions()
    url = identify_url(base_url)

    def parse(body: bytes) -> str:
        try:
            return parse_identify(body, options.max_page_bytes)
        except UnsafeXml as err:  # refused, as in a harvest: asking again would not make it safe
            raise FetchFailed(err.reason, f"{err} ({url})") from err
        except ValueError as err:  # a cut or stray page: asked again, like a harvest's
            raise RetryableBody("malformed-xml", str(err)) from err

    wait = wait_strategy(options.backoff_s, options.backoff_max_s, options.retry_after_cap_s)
    with http_session(user_agent) as session:
        return fetch(session, url, max_retries=options.max_retries, timeout_s=options.timeout_s,
                     max_bytes=options.max_page_bytes, wait=wait, deadline_s=options.deadline_s, parse=parse)


def list_records_url(request: OaiRequest, resumption_token: str | None = None) -> str:
    """The ListRecords URL: all arguments first, then only the token (as OAI-PMH requires)."""
    if resumption_token is not None:
        params = [("verb", "ListRecords"), ("resumptionToken", resumption_token)]
    else:
        params = [("verb", "ListRecords"), ("metadataPrefix", request.metadata_prefix)]
        optional = (("set", request.set_spec), ("from", request.from_date), ("until", request.until_date))
        params += [(name, value) for name, value in optional if value]
    separator = "&" if "?" in request.base_url else "?"
    return f"{request.base_url}{separator}{urlencode(params)}"


@dataclass(frozen=True)
class HarvestOptions:
    """How patient and how polite a harvest is, and the bounds that make it end on its own.

    delay_s: pause between two requests. max_retries: retries of one page (5xx, 429, timeouts,
    truncated pages). timeout_s: longest silence between two bytes. deadline_s: longest time for one
    whole response. max_page_bytes: largest page. backoff_s / backoff_max_s: exponential backoff when
    the server gives no Retry-After. retry_after_cap_s: longest Retry-After honoured (longer ones are
    capped and logged). max_empty_pages: pages in a row without a record, yet with a resumptionToken,
    after which the harvest ends with a reject.
    """

    delay_s: float = 1.0
    max_retries: int = 5
    timeout_s: float = 60.0
    deadline_s: float = DEADLINE_S
    max_page_bytes: int = 50_000_000
    backoff_s: float = 2.0
    backoff_max_s: float = 120.0
    retry_after_cap_s: float = RETRY_AFTER_CAP_S
    max_empty_pages: int = 10

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.max_empty_pages < 1 or self.max_page_bytes < 1:
            raise ValueError("max_retries must be at least 0, max_empty_pages and max_page_bytes at least 1")
        if min(self.timeout_s, self.deadline_s) <= 0 or min(self.delay_s, self.retry_after_cap_s) < 0:
            raise ValueError("timeout_s and deadline_s must be positive, delay_s and retry_after_cap_s not negative")


class PageStore(Protocol):
    """Where a harvest keeps the raw bytes of each page it fetched, numbered from 0, to resume later."""

    def load(self, index: int) -> bytes | None:
        """The stored page `index`, or None when there is none (or it cannot be read)."""

    def save(self, index: int, body: bytes) -> None:
        """Keep page `index`, atomically: a page is either whole or absent."""


class NoStore:
    """A harvest that keeps nothing: every run fetches every page."""

    def load(self, index: int) -> bytes | None:
        return None

    def save(self, index: int, body: bytes) -> None:
        pass


class _EndlessGuard:
    """Ends a harvest that would never end: a token seen before, or too many empty pages in a row."""

    def __init__(self, max_empty_pages: int):
        self._max_empty = max_empty_pages
        self._empty_in_a_row = 0
        self._seen: set[bytes] = set()  # 16-byte digests: a long harvest's tokens stay small

    def reason_to_stop(self, page: OaiPage) -> tuple[str, str] | None:
        """(reason, detail) when this page's token must not be followed, else None."""
        token = page.resumption_token
        if token is None:
            return None
        self._empty_in_a_row = 0 if page.records else self._empty_in_a_row + 1
        if self._empty_in_a_row >= self._max_empty:
            return "empty-pages", f"{self._empty_in_a_row} pages in a row without a record, each with a new token"
        digest = hashlib.blake2b(token.encode(), digest_size=16).digest()
        if digest in self._seen:
            return "repeated-resumption-token", f"resumptionToken {token[:200]!r} was already followed"
        self._seen.add(digest)
        return None


def _stored_page(store: PageStore, index: int, request: OaiRequest, url: str, max_bytes: int) -> OaiPage | None:
    """Page `index` from the store, parsed; None when absent or unusable (it is fetched again)."""
    body = store.load(index)
    if body is None:
        return None
    page = parse_list_records(body, request.source, url, max_bytes)
    if page.malformed or page.error:
        _LOG.warning("harvest: stored page %d is unusable, fetching it again: %s", index, url)
        return None
    return page


def _fetch_page(session: requests.Session, url: str, request: OaiRequest,
                options: HarvestOptions) -> tuple[bytes, OaiPage]:
    """Fetch and parse one page; a truncated or non-OAI page is fetched again like a 503."""
    def parse(body: bytes) -> tuple[bytes, OaiPage]:
        page = parse_list_records(body, request.source, url, options.max_page_bytes)
        if page.malformed:
            raise RetryableBody("malformed-xml", page.records[0].detail)
        return body, page

    wait = wait_strategy(options.backoff_s, options.backoff_max_s, options.retry_after_cap_s)
    return fetch(session, url, max_retries=options.max_retries, timeout_s=options.timeout_s,
                 max_bytes=options.max_page_bytes, wait=wait, deadline_s=options.deadline_s, parse=parse)


def _pages(request: OaiRequest, options: HarvestOptions, store: PageStore,
           session: requests.Session) -> Iterator[tuple[str, OaiPage] | Reject]:
    """Every page in order, replayed from the store while it has them, then fetched (and stored).

    Ends after a page without a token, an OAI error, a page that cannot be fetched (one Reject),
    or a page whose token must not be followed (one Reject).
    """
    guard = _EndlessGuard(options.max_empty_pages)
    token: str | None = None
    index, replaying, fetched = 0, True, 0
    while True:
        url = list_records_url(request, token)
        page = _stored_page(store, index, request, url, options.max_page_bytes) if replaying else None
        if page is None:
            if replaying and index:
                _LOG.info("harvest: %d pages replayed from the saved state; resuming at %s", index, url)
            replaying = False
            if fetched and options.delay_s > 0:
                time.sleep(options.delay_s)
            fetched += 1
            try:
                body, page = _fetch_page(session, url, request, options)
            except FetchFailed as err:
                yield page_reject(request.source, url, err.reason, err.detail)
                return
            if page.error is None:
                store.save(index, body)
        yield url, page
        stop = None if page.error else guard.reason_to_stop(page)
        if stop:
            yield page_reject(request.source, url, *stop)
        if stop or page.error or not page.resumption_token:
            if replaying:
                _LOG.info("harvest: all %d pages replayed from the saved state, no request made", index + 1)
            return
        token, index = page.resumption_token, index + 1


def harvest(
    request: OaiRequest,
    options: HarvestOptions | None = None,
    *,
    store: PageStore | None = None,
    progress: Callable[[int, int], None] | None = None,
    user_agent: str = USER_AGENT,
) -> Iterator[Record | Reject]:
    """Yield every Record (and Reject) of a ListRecords harvest, page after page.

    With a `store`, each fetched page is kept, and a later harvest of the same request replays
    the kept pages without a request and goes on from the last token. Every failure ends the
    harvest with one Reject (stage "read"): a page that stays unfetchable or malformed after the
    retries, an OAI error, a repeated resumptionToken, too many empty pages in a row.
    `progress(done, total)` is called after each page; total is completeListSize or 0.
    """
    options = options or HarvestOptions()
    done = 0
    with http_session(user_agent) as session:
        for item in _pages(request, options, store or NoStore(), session):
            if isinstance(item, Reject):
                yield item
                continue
            _, page = item
            yield from page.records
            done += len(page.records)
            if progress is not None:
                progress(done, page.complete_list_size or 0)


def log_harvest_progress(done: int, total: int) -> None:
    """One log line a page: records so far, of completeListSize when the server gives it."""
    _LOG.info("harvest: %d records%s", done, f" of {total}" if total else "")


OAI_STATE_DIR = (".clirdata", "oai")  # under OUT: clirdata's private folder, this step's subfolder


class OaiPageStore:
    """The pages of one OAI request, kept in `folder` (any storage `readers.storage` reaches),
    so that a killed harvest resumes.

    Page i is `page-{i:06d}.xml`, the raw bytes as the server sent them, written under a temporary
    name and renamed: a page is whole or absent. The token to follow is in the page itself.
    A page that cannot be read, or is over `max_bytes`, counts as absent and is fetched again.
    """

    def __init__(self, folder: str, request: OaiRequest, max_bytes: int):
        self._folder = folder
        self._request = request
        self._max_bytes = max_bytes
        self._described = False

    def _path(self, index: int) -> str:
        return storage.join(self._folder, f"page-{index:06d}.xml")

    def load(self, index: int) -> bytes | None:
        path = self._path(index)
        try:
            if not storage.exists(path):
                return None
            with storage.open_stored(path) as handle:
                body = handle.read(self._max_bytes + 1)
        except OSError as error:
            _LOG.warning("harvest: cannot read saved page %s: %s", path, error)
            return None
        return body if len(body) <= self._max_bytes else None

    def save(self, index: int, body: bytes) -> None:
        try:
            if not self._described:  # for a person looking at the folder: which request it holds
                self._write(storage.join(self._folder, "request.json"), _request_json(self._request))
                self._described = True
            self._write(self._path(index), body)
        except OSError as error:  # the harvest goes on; only a later resume loses this page
            _LOG.warning("harvest: cannot save page %d in %s: %s", index, self._folder, error)

    @staticmethod
    def _write(path: str, data: bytes) -> None:
        temporary = f"{path}.tmp-{uuid.uuid4().hex}"
        with storage.create(temporary) as handle:
            handle.write(data)
        storage.rename(temporary, path)


def _request_json(request: OaiRequest) -> bytes:
    return json.dumps(asdict(request), indent=2, sort_keys=True).encode()


def oai_state_folder(out_dir: str, request: OaiRequest) -> str:
    """OUT/.clirdata/oai/<key of the request>/: a different request never replays these pages."""
    return storage.join(out_dir, *OAI_STATE_DIR, request.state_key())


def harvest_into(request: OaiRequest, out_dir: str, options: HarvestOptions) -> Iterator[Record | Reject]:
    """The harvest step: `harvest` with its pages kept under OUT, so a rerun resumes where it stopped."""
    store = OaiPageStore(oai_state_folder(out_dir, request), request, options.max_page_bytes)
    yield from harvest(request, options, store=store, progress=log_harvest_progress)
