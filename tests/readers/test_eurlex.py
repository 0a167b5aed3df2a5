"""EUR-Lex downloads against a real HTTP server on 127.0.0.1 (URLs, retries, resume), and the listing of a
folder of `{CELEX}_{LANG}.{html,xhtml,pdf}` files by act and language."""

from __future__ import annotations

import inspect
import logging
import threading
import time
from pathlib import Path

import pytest

from clirdata.readers.eurlex import ActFiles, Download, download_all, list_act_files, plan_downloads, read_celex_list
from clirdata.readers.http import RETRY_AFTER_CAP_S
from clirdata.schemas import Reject
from tests.conftest import Reply
from tests.readers.test_http import scripted_server, trickle


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


# ---- listing a folder --------------------------------------------------------------------------------------------

def test_file_names_are_matched_in_any_case_and_only_once_per_version(tmp_path):
    for name in ("32016r0679_en.Html", "32016R0679_EN.PDF", "32016R0679_FR.htm", "32016R0679_FR.HTM", "x_EN.txt",
                 ".32016R0679_DE.html"):
        (tmp_path / name).write_text("<html/>")
    (tmp_path / "32016R0679_EL.html").symlink_to(tmp_path / "nowhere.html")  # a dangling link
    (tmp_path / "32016R0679_IT.html").mkdir()  # a folder is not a file of the folder
    acts, rejects, seen = list_act_files(str(tmp_path), ("en", "fr", "el"))
    assert seen == 7
    assert [(a.celex, a.lang, Path(a.html).name, Path(a.pdf).name if a.pdf else "") for a in acts] == [
        ("32016R0679", "en", "32016r0679_en.Html", "32016R0679_EN.PDF"), ("32016R0679", "fr", "32016R0679_FR.HTM", "")]
    assert sorted((Path(r.source_uri).name, r.stage, r.reason) for r in rejects) == [
        (".32016R0679_DE.html", "list", "unrecognised-name"), ("32016R0679_EL.html", "list", "unreadable"),
        ("32016R0679_FR.htm", "list", "duplicate"), ("x_EN.txt", "list", "unrecognised-name")]


def test_an_endless_file_is_never_handed_on_by_the_listing(tmp_path):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    (tmp_path / "32099R0008_EN.html").symlink_to("/dev/zero")  # a device: reading it would never end
    listed, list_rejects, seen = list_act_files(str(tmp_path), ("en",))
    assert not listed and seen == 1
    assert [(r.reason, r.stage, r.source_id) for r in list_rejects] == [("not-a-file", "list", "32099R0008")]


def test_every_file_of_a_folder_is_used_or_a_reject(tmp_path):
    for name in ("32016R0679_EN.html", "32016R0679_EN.pdf", "32016R0679_EL.xhtml", "32016R0679_DE.html",
                 "32099R0001_EN.pdf", "README.md"):
        (tmp_path / name).write_text("x")
    acts, rejects, seen = list_act_files(str(tmp_path), ("en", "el"))
    assert acts == [ActFiles("32016R0679", "el", str(tmp_path / "32016R0679_EL.xhtml")),
                    ActFiles("32016R0679", "en", str(tmp_path / "32016R0679_EN.html"),
                             str(tmp_path / "32016R0679_EN.pdf"))]
    assert sorted((Path(r.source_uri).name, r.reason) for r in rejects) == [
        ("32016R0679_DE.html", "language-not-requested"), ("32099R0001_EN.pdf", "no-html"),
        ("README.md", "unrecognised-name")]
    assert seen == 6 == sum(1 + bool(act.pdf) for act in acts) + len(rejects)
