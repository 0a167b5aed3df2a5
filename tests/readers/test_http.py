"""The harvesters' HTTP GET against real servers on 127.0.0.1: hostile headers, trickling servers, retries.

`ScriptedServer` answers each request with a function of the request's number, so a test can send
what the canned `local_server` cannot: a byte a second, bad headers, a connection cut mid-page.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from clirdata.readers.http import (
    FetchFailed,
    RetryableBody,
    fetch,
    http_session,
    parse_content_length,
    parse_retry_after,
    wait_strategy,
)

Respond = Callable[[BaseHTTPRequestHandler, int], None]


class ScriptedServer:
    """A real HTTP server on 127.0.0.1; `respond(handler, n)` writes the answer to request n (from 0)."""

    def __init__(self, respond: Respond):
        self.respond = respond
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self.stop = threading.Event()  # set at the end: a trickling handler gives up
        self.base_url = ""

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            number = len(self.requests)
            self.requests.append(handler.path)
        try:
            self.respond(handler, number)
        except OSError:  # the client cut the connection (a deadline, a timeout): nothing to answer
            handler.close_connection = True


@contextmanager
def scripted_server(respond: Respond) -> Iterator[ScriptedServer]:
    """Serve `respond` on 127.0.0.1 for the duration of the block."""
    state = ScriptedServer(respond)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 (http.server's naming)
            state.handle(self)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        httpd.shutdown()
        httpd.server_close()


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None,
         length: str | None = None) -> None:
    """A whole answer; `length` overrides Content-Length (None: the true length)."""
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)) if length is None else length)
    if length is not None:
        handler.send_header("Connection", "close")
        handler.close_connection = True
    handler.end_headers()
    handler.wfile.write(body)


def trickle(handler: BaseHTTPRequestHandler, data: bytes, every_s: float, stop: threading.Event) -> None:
    """Write `data` one byte at a time, `every_s` apart: never silent long enough for a read timeout."""
    for byte in data:
        if stop.is_set():
            return
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(every_s)


def get(server: ScriptedServer, *, max_retries: int = 0, timeout_s: float = 2.0, deadline_s: float | None = None,
        max_bytes: int = 10_000, parse=None) -> bytes:
    """One `fetch` of `/x` with tiny waits."""
    extra = {"parse": parse} if parse else {}
    with http_session("clirdata-test") as session:
        return fetch(session, f"{server.base_url}/x", max_retries=max_retries, timeout_s=timeout_s,
                     max_bytes=max_bytes, wait=wait_strategy(0.0, 0.0, 0.05), deadline_s=deadline_s, **extra)


# --------------------------------------------------------------------------- header parsing


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0), (" 7 ", 7.0), ("0", 0.0),
        ("Thu, 01 Jan 2015 00:01:40 GMT", 100.0),
        ("Wed, 31 Dec 2014 00:00:00 GMT", 0.0),  # a date in the past: no wait
        ("²", None),  # "²".isdigit() is True, float("²") raises
        ("١٢", None),  # Arabic-Indic digits: isdigit() and even int() accept them; HTTP does not
        ("-5", None), ("1.5", None), ("1e3", None), ("soon", None), ("", None), (None, None),
        ("Mon, 99 Foo 0000 99:99:99 GMT", None),
        ("9" * 400, float("inf")),  # absurd but numeric: the cap deals with it
    ],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, now=1420070400.0) == expected  # now = 2015-01-01T00:00:00Z


@pytest.mark.parametrize(("value", "expected"), [("12", 12), ("²", None), ("", None), (None, None),
                                                 ("-1", None), ("1" * 40, None), (" 3 ", 3)])
def test_parse_content_length(value, expected):
    assert parse_content_length(value) == expected


def test_superscript_retry_after_and_content_length_do_not_break_a_fetch():
    def respond(handler, n):
        if n == 0:
            send(handler, 503, b"busy", {"Retry-After": "²"})
        else:
            send(handler, 200, b"<ok/>", length="²")  # body read to the end of the connection

    with scripted_server(respond) as server:
        assert get(server, max_retries=1) == b"<ok/>"
        assert len(server.requests) == 2


def test_retry_after_over_the_cap_is_capped_and_logged(caplog):
    def respond(handler, n):
        send(handler, 503, b"busy", {"Retry-After": "999999"}) if n == 0 else send(handler, 200, b"fine")

    start = time.monotonic()
    with scripted_server(respond) as server, caplog.at_level(logging.WARNING, logger="clirdata"):
        assert get(server, max_retries=1) == b"fine"
    assert time.monotonic() - start < 2  # waited the 0.05 s cap, not 11 days
    [message] = [r.getMessage() for r in caplog.records if "Retry-After" in r.getMessage()]
    assert "999999" in message and "capped" in message and "0 s" in message and "/x" in message


def test_content_length_over_the_bound_is_refused_before_the_body():
    with scripted_server(lambda handler, n: send(handler, 200, b"x" * 5000)) as server:
        with pytest.raises(FetchFailed) as failed:
            get(server, max_bytes=4999)
    assert failed.value.reason == "too-large" and "5000 bytes" in failed.value.detail


# --------------------------------------------------------------------------- the total deadline


def trickling_body(server_stop: threading.Event) -> Respond:
    def respond(handler, n):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        trickle(handler, b"x" * 1000, 0.02, server_stop)  # 20 s in all, one byte each 0.02 s

    return respond


def trickling_headers(server_stop: threading.Event) -> Respond:
    def respond(handler, n):
        trickle(handler, b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 1000 + b"\r\n\r\n", 0.02, server_stop)

    return respond


@pytest.mark.parametrize("shape", [trickling_body, trickling_headers])
def test_a_byte_at_a_time_is_cut_at_the_total_deadline(shape):
    stop = threading.Event()
    with scripted_server(lambda handler, n: shape(stop)(handler, n)) as server:
        start = time.monotonic()
        with pytest.raises(FetchFailed) as failed:
            get(server, max_retries=1, timeout_s=5.0, deadline_s=0.3)
        elapsed = time.monotonic() - start
        stop.set()
    assert failed.value.reason == "too-slow"
    assert "over 0.3 s in all" in failed.value.detail and "after 2 attempts" in failed.value.detail
    assert len(server.requests) == 2
    assert 0.6 <= elapsed < 3.0  # two attempts of 0.3 s, not 2 x 20 s; the 5 s read timeout never tripped


def test_a_body_without_length_cut_at_the_deadline_is_not_taken_as_complete():
    def respond(handler, n):
        handler.send_response(200)
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
        trickle(handler, b"<page>" + b"x" * 1000, 0.02, server.stop)

    start = time.monotonic()
    with scripted_server(respond) as server:
        with pytest.raises(FetchFailed) as failed:
            get(server, deadline_s=0.3)
        elapsed = time.monotonic() - start
    assert failed.value.reason == "too-slow"
    # Cut at 0.3 s although http.client had already let go of the socket ("Connection: close").
    assert elapsed < 2.0


def test_a_slow_response_within_the_deadline_is_kept():
    def respond(handler, n):
        handler.send_response(200)
        handler.send_header("Content-Length", "10")
        handler.end_headers()
        trickle(handler, b"0123456789", 0.02, server.stop)

    with scripted_server(respond) as server:
        assert get(server, deadline_s=5.0) == b"0123456789"


def test_the_deadline_does_not_outlive_its_response():
    """A later request on the same kept-alive connection is not cut by an earlier request's timer."""
    with scripted_server(lambda handler, n: send(handler, 200, b"ok")) as server:
        with http_session("t") as session:
            options = {"max_retries": 0, "timeout_s": 2.0, "max_bytes": 100, "wait": wait_strategy(0, 0, 0)}
            assert fetch(session, f"{server.base_url}/x", deadline_s=0.2, **options) == b"ok"
            time.sleep(0.3)
            assert fetch(session, f"{server.base_url}/x", deadline_s=5.0, **options) == b"ok"
        assert len(server.requests) == 2


# --------------------------------------------------------------------------- retried bodies


def test_a_body_the_parser_refuses_is_fetched_again_then_reported():
    bodies = [b"<trunc", b"<whole/>"]

    def strict(body: bytes) -> str:
        if not body.endswith(b"/>"):
            raise RetryableBody("malformed-xml", "cut short")
        return body.decode()

    with scripted_server(lambda handler, n: send(handler, 200, bodies[min(n, 1)])) as server:
        assert get(server, max_retries=1, parse=strict) == "<whole/>"
    with scripted_server(lambda handler, n: send(handler, 200, b"<trunc")) as server:
        with pytest.raises(FetchFailed) as failed:
            get(server, max_retries=2, parse=strict)
    assert (failed.value.reason, len(server.requests)) == ("malformed-xml", 3)
    assert "cut short" in failed.value.detail and "after 3 attempts" in failed.value.detail
