"""HTTP GET for harvesters: retries with backoff that honour Retry-After, a size bound and a total deadline.

Shared by the OAI-PMH harvester and the EUR-Lex downloader. Failures that retrying cannot fix
raise FetchFailed with a reject reason, so callers turn them into Rejects, not tracebacks.

A read timeout bounds the wait between two bytes only: a server that sends a byte a second never
trips it. The total deadline (`deadline_s`) bounds a whole response, headers and body: a watchdog
timer shuts the connection's socket down when it runs out. It needs a session from `http_session`,
whose connections report themselves to the watchdog.
"""

from __future__ import annotations

import email.utils
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from datetime import timezone
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

RETRYABLE_STATUS_WITH_RETRY_AFTER = (429, 503)
RETRY_AFTER_CAP_S = 600.0  # a server asking for more than 10 minutes is waited 10 minutes, and it is logged
DEADLINE_S = 300.0  # the whole of one response, headers and body
_ASCII_DIGITS = re.compile(r"[0-9]+")
_LOG = logging.getLogger("clirdata")
T = TypeVar("T")


class RetryableHTTP(Exception):
    """A response worth retrying (5xx, 429); carries the server's Retry-After, if any."""

    def __init__(self, status: int, url: str, retry_after_s: float | None = None):
        super().__init__(f"HTTP {status} for {url}")
        self.status = status
        self.url = url
        self.retry_after_s = retry_after_s


class RetryableBody(Exception):
    """A 200 whose body is unusable (a truncated page): worth fetching again; `reason` if it stays so."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class DeadlineExceeded(Exception):
    """A response that took longer than its total deadline (a server that trickles bytes)."""


class FetchFailed(Exception):
    """A failure that retrying will not fix; becomes a Reject with this reason."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (ASCII delta-seconds or an HTTP date), or None.

    Anything else ("²", "soon", a date out of range) is None: the caller falls back to its backoff.
    """
    value = (value or "").strip()
    if not value:
        return None
    if _ASCII_DIGITS.fullmatch(value):
        return float(value)  # a huge number becomes a huge float (or inf), which the cap handles
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        stamp = when.timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    now_ts = time.time() if now is None else now
    return max(0.0, stamp - now_ts)


def parse_content_length(value: str | None) -> int | None:
    """The declared body size, or None when the header is absent or not plain ASCII digits."""
    value = (value or "").strip()
    return int(value) if _ASCII_DIGITS.fullmatch(value) and len(value) <= 18 else None


def wait_strategy(backoff_s: float, backoff_max_s: float, retry_after_cap_s: float = RETRY_AFTER_CAP_S):
    """Wait Retry-After (capped, with a warning when capped) when the server sent one, else back off."""
    exponential = wait_exponential(multiplier=backoff_s, max=backoff_max_s)

    def wait(state: RetryCallState) -> float:
        err = state.outcome.exception() if state.outcome else None
        if isinstance(err, RetryableHTTP) and err.retry_after_s is not None:
            if err.retry_after_s > retry_after_cap_s:
                _LOG.warning("Retry-After of %.0f s from %s capped: waiting %.0f s",
                             err.retry_after_s, err.url, retry_after_cap_s)
                return retry_after_cap_s
            return err.retry_after_s
        return exponential(state)

    return wait


# --------------------------------------------------------------------------- total deadline

_CURRENT = threading.local()


class _Watchdog:
    """Shuts down the socket of the response being read once `seconds` have passed since it began."""

    def __init__(self, seconds: float):
        self.fired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        _CURRENT.watchdog = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        _CURRENT.watchdog = None

    def watch(self, sock: socket.socket | None) -> None:
        """Called by a connection as it connects or sends: the socket to cut when time runs out.

        The socket itself is kept, not the connection: http.client drops a connection's socket
        (`conn.sock = None`) when the response says "Connection: close", yet reads on from it.
        """
        if sock is None:
            return
        with self._lock:
            self._sock = sock
            if self.fired:
                _shut_down(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            if self._sock is not None:
                _shut_down(self._sock)


def _shut_down(sock: socket.socket) -> None:
    """Wake a recv blocked on this socket: shutdown (unlike close) interrupts it."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain socket's, also under TLS
    except OSError:
        pass


def _report_to_watchdog(conn: HTTPConnection) -> None:
    watchdog = getattr(_CURRENT, "watchdog", None)
    if watchdog is not None:
        watchdog.watch(conn.sock)


class _WatchedConnection:
    """Mixin: a urllib3 connection that tells the current watchdog it is the one in use."""

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _report_to_watchdog(self)  # type: ignore[arg-type]

    def request(self, *args: Any, **kwargs: Any) -> None:
        _report_to_watchdog(self)  # type: ignore[arg-type]
        super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_WatchedConnection, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter whose connections can be cut by the total deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_WATCHED_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = dict(_WATCHED_POOLS)
        return manager


def http_session(user_agent: str) -> requests.Session:
    """A requests session with this User-Agent whose responses `fetch` can hold to a total deadline."""
    session = requests.Session()
    session.headers["User-Agent"] = user_agent
    adapter = _WatchedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


# --------------------------------------------------------------------------- fetching


def _read_capped(response: requests.Response, url: str, max_bytes: int) -> bytes:
    """The (decoded) body, refusing anything over max_bytes before or while reading it."""
    declared = parse_content_length(response.headers.get("Content-Length"))
    if declared is not None and declared > max_bytes:
        raise FetchFailed("too-large", f"response of {declared} bytes exceeds {max_bytes}: {url}")
    chunks, total = [], 0
    for chunk in response.iter_content(chunk_size=1 << 16):
        total += len(chunk)
        if total > max_bytes:
            raise FetchFailed("too-large", f"response exceeds {max_bytes} bytes: {url}")
        chunks.append(chunk)
    return b"".join(chunks)


def _get_once(session: requests.Session, url: str, timeout_s: float, max_bytes: int) -> bytes:
    """One GET: the body on 200, RetryableHTTP on 5xx/429, FetchFailed on anything else."""
    with session.get(url, timeout=timeout_s, stream=True) as response:
        status = response.status_code
        if status in RETRYABLE_STATUS_WITH_RETRY_AFTER:
            raise RetryableHTTP(status, url, parse_retry_after(response.headers.get("Retry-After")))
        if status >= 500:
            raise RetryableHTTP(status, url)
        if status != 200:
            raise FetchFailed("http-error", f"HTTP {status} for {url}")
        return _read_capped(response, url, max_bytes)


def _get_within(session: requests.Session, url: str, timeout_s: float, max_bytes: int,
                deadline_s: float | None) -> bytes:
    """`_get_once`, cut off when the whole response takes longer than `deadline_s`."""
    if deadline_s is None:
        return _get_once(session, url, timeout_s, max_bytes)
    with _Watchdog(deadline_s) as watchdog:
        try:
            body = _get_once(session, url, timeout_s, max_bytes)
        except Exception as err:  # whatever the cut looked like (reset, EOF, a short body)
            if watchdog.fired:
                raise DeadlineExceeded(f"response took over {deadline_s:g} s in all: {url}") from err
            raise
    if watchdog.fired:  # the cut may read as a clean end of a body without Content-Length
        raise DeadlineExceeded(f"response took over {deadline_s:g} s in all: {url}")
    return body


def _unchanged(body: bytes) -> bytes:
    return body


def fetch(
    session: requests.Session,
    url: str,
    *,
    max_retries: int,
    timeout_s: float,
    max_bytes: int,
    wait: Callable[[RetryCallState], float],
    deadline_s: float | None = None,
    parse: Callable[[bytes], T] = _unchanged,
) -> T:
    """GET with retries, then `parse(body)`; raises FetchFailed at the end.

    Retried: 5xx, 429, connection errors, read timeouts, responses over `deadline_s` in all
    (needs an `http_session`), and bodies that `parse` refuses with RetryableBody (a truncated page).
    """
    def attempt() -> T:
        return parse(_get_within(session, url, timeout_s, max_bytes, deadline_s))

    retrying = Retrying(
        stop=stop_after_attempt(max_retries + 1),
        wait=wait,
        retry=retry_if_exception_type(
            (RetryableHTTP, RetryableBody, DeadlineExceeded, requests.ConnectionError, requests.Timeout,
             requests.exceptions.ChunkedEncodingError)
        ),
        reraise=True,
    )
    attempts = f"after {max_retries + 1} attempts"
    try:
        return retrying(attempt)
    except RetryableHTTP as err:
        raise FetchFailed("http-error", f"HTTP {err.status} for {url} {attempts}") from err
    except RetryableBody as err:
        raise FetchFailed(err.reason, f"{err.detail} ({url}, {attempts})") from err
    except DeadlineExceeded as err:
        raise FetchFailed("too-slow", f"{err} ({attempts})") from err
    except requests.RequestException as err:
        detail = f"{type(err).__name__} for {url} {attempts}: {err}"
        raise FetchFailed("http-error", detail) from err
