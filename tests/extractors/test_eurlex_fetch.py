"""EUR-Lex downloads against a real HTTP server on 127.0.0.1: URLs, retries, resume."""

from __future__ import annotations

import inspect
import logging
import threading
import time

import pytest

from clirdata.extractors.eurlex_fetch import Download, download_all, plan_downloads, read_celex_list
from clirdata.extractors.http import RETRY_AFTER_CAP_S
from clirdata.schemas import Reject
from tests.conftest import Reply
from tests.extractors.test_http import scripted_server, trickle


def test_urls_follow_eurlex_pattern():
    download = Download("32016R0679", "en", "html")
    assert download.url() == "https://eur-lex.europa.eu/legal-content/EN/TXT/HTML/?uri=CELEX:32016R0679"
    assert Download("32016R0679", "fr", "pdf").filename == "32016R0679_FR.pdf"


def test_celex_list_parsing():
    assert read_celex_list("32016R0679\n# comment\n\n02002L0058-20091219  # consolidated\n32016R0679\n") == [
        "32016R0679", "02002L0058-20091219"]
    with pytest.raises(ValueError, match="line 1"):
        read_celex_list("not-a-celex")


def test_download_retries_then_resumes_without_refetching(local_server, tmp_path):
    local_server.add("/legal-content/EN/TXT/HTML/", Reply(503, b"", {"Retry-After": "0"}), Reply(200, b"<html>en</html>"))
    local_server.add("/legal-content/FR/TXT/HTML/", Reply(404, b"no such act"))
    downloads = plan_downloads(["32016R0679"], ["en", "fr"], formats=("html",))
    results = list(download_all(downloads, tmp_path, base_url=local_server.base_url, delay_s=0, backoff_s=0))
    assert results[0] == tmp_path / "32016R0679_EN.html"
    assert results[0].read_bytes() == b"<html>en</html>"
    assert isinstance(results[1], Reject) and results[1].reason == "http-error" and "404" in results[1].detail
    assert len(local_server.requests) == 3  # 503, 200, 404
    assert local_server.requests[0] == "/legal-content/EN/TXT/HTML/?uri=CELEX:32016R0679"

    again = list(download_all(downloads, tmp_path, base_url=local_server.base_url, delay_s=0, backoff_s=0))
    assert again[0] == tmp_path / "32016R0679_EN.html"
    assert len(local_server.requests) == 4  # only the missing French file was asked for again
    assert not list(tmp_path.glob("*.part"))


def test_a_huge_retry_after_is_capped_and_logged(local_server, tmp_path, caplog):
    local_server.add("/legal-content/EN/TXT/HTML/", Reply(503, b"", {"Retry-After": "999999"}),
                     Reply(200, b"<html>en</html>"))
    downloads = plan_downloads(["32016R0679"], ["en"], formats=("html",))
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="clirdata"):
        [path] = download_all(downloads, tmp_path, base_url=local_server.base_url, delay_s=0, backoff_s=0,
                              retry_after_cap_s=0.05)
    assert time.monotonic() - start < 5  # the 0.05 s cap, not 11 days
    assert path.read_bytes() == b"<html>en</html>"
    assert any("Retry-After of 999999 s" in r.getMessage() and "capped" in r.getMessage() for r in caplog.records)


def test_the_default_cap_is_the_shared_one():
    assert inspect.signature(download_all).parameters["retry_after_cap_s"].default == RETRY_AFTER_CAP_S == 600.0


def test_a_server_that_sends_a_byte_at_a_time_is_cut_at_the_total_deadline(tmp_path):
    stop = threading.Event()

    def respond(handler, n):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        trickle(handler, b"x" * 1000, 0.02, stop)  # 20 s in all, never silent for the 5 s read timeout

    with scripted_server(respond) as server:
        results = list(download_all([Download("32016R0679", "en", "html")], tmp_path, base_url=server.base_url,
                                    max_retries=0, timeout_s=5.0, deadline_s=0.3))
        stop.set()
    [reject] = results
    assert isinstance(reject, Reject) and (reject.stage, reject.reason) == ("download", "too-slow")
    assert not any(tmp_path.iterdir())  # nothing half-written is left to look complete
