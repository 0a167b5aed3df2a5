"""HTTP GET for harvesters: retries with backoff that honour Retry-After, and a size bound.

Shared by the OAI-PMH harvester and the EUR-Lex downloader. Failures that retrying cannot fix
raise FetchFailed with a reject reason, so callers turn them into Rejects, not tracebacks.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from datetime import timezone

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

RETRYABLE_STATUS_WITH_RETRY_AFTER = (429, 503)


class RetryableHTTP(Exception):
    """A response worth retrying (5xx, 429); carries the server's Retry-After, if any."""

    def __init__(self, status: int, url: str, retry_after_s: float | None = None):
        super().__init__(f"HTTP {status} for {url}")
        self.status = status
        self.retry_after_s = retry_after_s


class FetchFailed(Exception):
    """A failure that retrying will not fix; becomes a Reject with this reason."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now_ts = time.time() if now is None else now
    return max(0.0, when.timestamp() - now_ts)


def wait_strategy(backoff_s: float, backoff_max_s: float, retry_after_cap_s: float):
    """Wait Retry-After (capped) when the server sent one, else back off exponentially."""
    exponential = wait_exponential(multiplier=backoff_s, max=backoff_max_s)

    def wait(state: RetryCallState) -> float:
        err = state.outcome.exception() if state.outcome else None
        if isinstance(err, RetryableHTTP) and err.retry_after_s is not None:
            return min(err.retry_after_s, retry_after_cap_s)
        return exponential(state)

    return wait


def _read_capped(response: requests.Response, url: str, max_bytes: int) -> bytes:
    """The (decoded) body, refusing anything over max_bytes before or while reading it."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
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


def fetch(
    session: requests.Session,
    url: str,
    *,
    max_retries: int,
    timeout_s: float,
    max_bytes: int,
    wait: Callable[[RetryCallState], float],
) -> bytes:
    """GET with retries on 5xx, 429, connection errors and timeouts; raises FetchFailed at the end."""
    retrying = Retrying(
        stop=stop_after_attempt(max_retries + 1),
        wait=wait,
        retry=retry_if_exception_type(
            (RetryableHTTP, requests.ConnectionError, requests.Timeout,
             requests.exceptions.ChunkedEncodingError)
        ),
        reraise=True,
    )
    try:
        return retrying(_get_once, session, url, timeout_s, max_bytes)
    except RetryableHTTP as err:
        detail = f"HTTP {err.status} for {url} after {max_retries + 1} attempts"
        raise FetchFailed("http-error", detail) from err
    except requests.RequestException as err:
        detail = f"{type(err).__name__} for {url} after {max_retries + 1} attempts: {err}"
        raise FetchFailed("http-error", detail) from err


