"""OAI-PMH harvesting: paging, retries, bounds that make a harvest end, the page store, resume, Identify.

Every test talks HTTP to a real server on 127.0.0.1 (`local_server`, or `scripted_server` when the
answer depends on the request number) with recorded or hand-written pages; the killed-build test
runs the whole Érudit OAI build on Beam's in-process runner.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyarrow.parquet as pq
import pytest

from clirdata.align.keywords import PairingOptions
from clirdata.pipelines.build import Build, run_build
from clirdata.pipelines.runner import make_options
from clirdata.readers.http import FetchFailed
from clirdata.readers.oai import (
    HarvestOptions,
    OaiPageStore,
    OaiRequest,
    harvest,
    identify_url,
    list_records_url,
    oai_state_folder,
    repository_name,
)
from clirdata.schemas.records import Record, Reject
from clirdata.sources.erudit import EruditSource
from tests.conftest import Reply, shared_fixture
from tests.extractors.test_oai_dc import (
    BILINGUAL,
    ENGLISH,
    ERUDIT_PAGE,
    HANDWRITTEN_PAGE_2,
    OAI_NS,
    SECRET,
    dc_record,
    entity_bomb_page,
    identify_page,
    oai_error,
    oai_page,
    record_page,
    records_of,
    rejects_of,
    xxe_page,
)
from tests.readers.test_http import scripted_server, send, trickle

FAST = HarvestOptions(delay_s=0.0, backoff_s=0.01, backoff_max_s=0.02)


def fast(**changes) -> HarvestOptions:
    """FAST with some options changed."""
    return replace(FAST, **changes)


def request_for(server, **kwargs) -> OaiRequest:
    return OaiRequest(base_url=f"{server.base_url}/oai", source="test", **kwargs)


def query_of(raw_path: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(raw_path).query)


class MemoryStore:
    """A PageStore in a dict (the Beam filesystem one, OaiPageStore, is tested at the end)."""

    def __init__(self):
        self.pages: dict[int, bytes] = {}

    def load(self, index: int) -> bytes | None:
        return self.pages.get(index)

    def save(self, index: int, body: bytes) -> None:
        self.pages[index] = body


# --------------------------------------------------------------------------- real Érudit page


def erudit_page_with_token(token: str) -> bytes:
    """The recorded Érudit page (which ends its list) with a resumptionToken added."""
    page = shared_fixture(ERUDIT_PAGE).read_bytes()
    assert b"<resumptionToken" not in page  # the recorded page is a complete list
    marker = b"</ListRecords>"
    return page.replace(marker, f"<resumptionToken>{token}</resumptionToken>".encode() + marker)


def test_harvest_real_erudit_page_then_handwritten_page(local_server):
    token = "erudit|2015-10-27|46"
    local_server.add("/oai", Reply(200, erudit_page_with_token(token)), Reply(200, HANDWRITTEN_PAGE_2))
    progress: list[tuple[int, int]] = []
    request = request_for(local_server, set_spec="erudit.revue.haf")

    items = list(harvest(request, FAST, progress=lambda d, t: progress.append((d, t))))

    records = records_of(items)
    assert len(records) == 46 + 2
    assert [(r.reason, r.source_id) for r in rejects_of(items)] == [("deleted", "oai:test:2002")]
    assert progress == [(46, 0), (49, 0)]
    assert len(local_server.requests) == 2
    assert query_of(local_server.requests[1]) == {"verb": ["ListRecords"], "resumptionToken": [token]}

    climate = records["oai:erudit.org:1033634ar"]
    assert climate.main_lang == "fr"
    assert list(climate.texts) == ["fr", "en"]
    assert climate.texts["fr"].title.startswith("« Les bois engendrent les frimas et les gelées »")
    assert climate.texts["fr"].abstract.startswith(
        "Cet article juxtapose les reconstructions récentes de l’histoire du climat"
    )
    assert climate.texts["en"].abstract.startswith(
        "This article juxtaposes current reconstructions of climate history"
    )
    assert climate.texts["en"].title == ""
    assert climate.doi == "10.7202/1033634ar"
    assert climate.year == 2015
    assert climate.url == "http://id.erudit.org/iderudit/1033634ar"
    assert climate.license == "Tous droits réservés © Institut d’histoire de l’Amérique française, 2015"
    assert climate.source == "test" and climate.extractor_version == "oai-1"
    # No dc:source: the journal comes from Érudit's dc:relation, "Journal ; vol. 68 no. 3-4 (2015)".
    assert climate.journal == "Revue d’histoire de l’Amérique française"
    assert climate.source_uri.endswith("set=erudit.revue.haf#oai:erudit.org:1033634ar")

    assert records["oai:erudit.org:1033504ar"].main_lang == "en"  # <dc:language>en fr</dc:language>
    assert records["oai:erudit.org:3539ac"].year == 1991
    assert records["oai:erudit.org:3539ac"].doi == ""

    second = records["oai:test:2001"]
    assert "resumptionToken=erudit%7C2015-10-27%7C46#oai:test:2001" in second.source_uri
    assert second.texts["en"].title == "Words and things"
    assert second.license == "CC BY 4.0"


# --------------------------------------------------------------------------- paging and URLs


def test_request_urls_first_with_arguments_then_only_the_token(local_server):
    local_server.add(
        "/oai",
        Reply(200, oai_page(ENGLISH, token="tok:1/a b", size=3)),
        Reply(200, oai_page(BILINGUAL, token="tok2")),
        Reply(200, HANDWRITTEN_PAGE_2),
    )
    request = request_for(local_server, set_spec="journal:x", from_date="2015-10-27", until_date="2015-10-29")
    progress: list[tuple[int, int]] = []
    start = time.monotonic()

    items = list(harvest(request, fast(delay_s=0.2), progress=lambda d, t: progress.append((d, t))))

    assert time.monotonic() - start >= 0.4  # the polite delay before each of the two later pages
    assert len(items) == 1 + 1 + 3
    assert query_of(local_server.requests[0]) == {
        "verb": ["ListRecords"], "metadataPrefix": ["oai_dc"], "set": ["journal:x"],
        "from": ["2015-10-27"], "until": ["2015-10-29"],
    }
    assert query_of(local_server.requests[1]) == {"verb": ["ListRecords"], "resumptionToken": ["tok:1/a b"]}
    assert query_of(local_server.requests[2]) == {"verb": ["ListRecords"], "resumptionToken": ["tok2"]}
    assert len(local_server.requests) == 3  # the empty token ended the harvest
    assert progress[0] == (1, 3)


def test_first_url_leaves_out_unset_arguments():
    url = list_records_url(OaiRequest("https://repo.example/oai", metadata_prefix="oai_dc"))
    assert url == "https://repo.example/oai?verb=ListRecords&metadataPrefix=oai_dc"


def test_urls_of_a_base_url_that_has_a_query_already():
    request = OaiRequest("https://repo.example/oai?repo=x", set_spec="s")
    assert list_records_url(request) == "https://repo.example/oai?repo=x&verb=ListRecords&metadataPrefix=oai_dc&set=s"
    assert list_records_url(request, "t") == "https://repo.example/oai?repo=x&verb=ListRecords&resumptionToken=t"
    assert identify_url("https://repo.example/oai") == "https://repo.example/oai?verb=Identify"
    assert identify_url("https://repo.example/oai?repo=x") == "https://repo.example/oai?repo=x&verb=Identify"


# --------------------------------------------------------------------------- retries


def test_503_with_retry_after_is_waited_then_succeeds(local_server):
    local_server.add("/oai", Reply(503, b"busy", {"Retry-After": "1"}), Reply(200, oai_page(ENGLISH)))
    start = time.monotonic()

    items = list(harvest(request_for(local_server), FAST))

    assert len(local_server.requests) == 2
    assert [type(i) for i in items] == [Record]
    assert items[0].source_id == "oai:test:2003"
    assert time.monotonic() - start >= 0.95  # Retry-After won over the 0.01 s backoff


def test_retry_after_is_capped_and_the_cap_is_logged(local_server, caplog):
    local_server.add("/oai", Reply(503, b"busy", {"Retry-After": "999999"}), Reply(200, oai_page(ENGLISH)))
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="clirdata"):
        items = list(harvest(request_for(local_server), fast(retry_after_cap_s=0.05)))
    assert len(records_of(items)) == 1
    assert time.monotonic() - start < 5
    assert any("Retry-After of 999999 s" in r.getMessage() and "capped" in r.getMessage() for r in caplog.records)


def test_default_bounds():
    options = HarvestOptions()
    assert (options.retry_after_cap_s, options.deadline_s, options.max_empty_pages) == (600.0, 300.0, 10)


@pytest.mark.parametrize("bad", [{"max_empty_pages": 0}, {"deadline_s": 0}, {"max_retries": -1}, {"timeout_s": -1},
                                 {"max_page_bytes": 0}, {"delay_s": -1}])
def test_options_that_would_never_fetch_or_never_end_are_refused(bad):
    with pytest.raises(ValueError):
        HarvestOptions(**bad)


def test_superscript_retry_after_falls_back_to_the_backoff(local_server):
    """`Retry-After: ²` once killed the whole build: "²".isdigit() is True, float("²") raises.

    (parse_retry_after's own table of values is in tests/readers/test_http.py.)
    """
    local_server.add("/oai", Reply(503, b"busy", {"Retry-After": "²"}), Reply(200, oai_page(ENGLISH)))
    items = list(harvest(request_for(local_server), FAST))
    assert [i.source_id for i in records_of(items).values()] == ["oai:test:2003"]
    assert len(local_server.requests) == 2


def test_persistent_500_gives_one_http_error_reject(local_server):
    local_server.add("/oai", Reply(500, b"boom"))

    items = list(harvest(request_for(local_server), fast(max_retries=3)))

    assert len(local_server.requests) == 4  # one try + three retries
    [reject] = items
    assert isinstance(reject, Reject)
    assert (reject.stage, reject.reason, reject.source) == ("read", "http-error", "test")
    assert "HTTP 500" in reject.detail and f"{local_server.base_url}/oai?verb=ListRecords" in reject.detail


def test_client_error_is_not_retried(local_server):
    local_server.add("/oai", Reply(404, b"gone"))
    items = list(harvest(request_for(local_server), fast(max_retries=3)))
    assert [(r.reason, "HTTP 404" in r.detail) for r in items] == [("http-error", True)]
    assert len(local_server.requests) == 1


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_refused_gives_http_error_reject():
    request = OaiRequest(f"http://127.0.0.1:{free_port()}/oai")
    items = list(harvest(request, fast(max_retries=2, timeout_s=2)))
    [reject] = items
    assert reject.reason == "http-error" and "ConnectionError" in reject.detail


def test_page_over_the_size_limit_is_rejected(local_server):
    local_server.add("/oai", Reply(200, oai_page(BILINGUAL)))
    items = list(harvest(request_for(local_server), fast(max_page_bytes=200)))
    assert [(r.stage, r.reason) for r in items] == [("read", "too-large")]


# --------------------------------------------------------------------------- OAI errors


def test_no_records_match_is_an_empty_harvest(local_server):
    local_server.add("/oai", Reply(200, oai_error("noRecordsMatch", "No records match")))
    items = list(harvest(request_for(local_server, from_date="2030-01-01"), FAST))
    assert items == []
    assert len(local_server.requests) == 1


def test_bad_resumption_token_keeps_page_1_and_adds_one_reject(local_server):
    local_server.add(
        "/oai",
        Reply(200, oai_page(BILINGUAL + ENGLISH, token="expired")),
        Reply(200, oai_error("badResumptionToken", "The token has expired")),
    )

    items = list(harvest(request_for(local_server), FAST))

    assert sorted(records_of(items)) == ["oai:test:2001", "oai:test:2003"]
    [reject] = rejects_of(items)
    assert (reject.stage, reject.reason) == ("read", "oai-error")
    assert reject.detail == "badResumptionToken: The token has expired"
    assert "resumptionToken=expired" in reject.source_uri
    assert len(local_server.requests) == 2


# --------------------------------------------------------------------------- hostile pages


def test_external_entity_page_ends_the_harvest_with_one_reject_and_leaks_nothing(local_server, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    # Page 1 is fine and points at page 2, which declares an entity; page 3 must never be asked for.
    local_server.add("/oai", Reply(200, record_page(0, 1, "t1")), Reply(200, xxe_page(secret)),
                     Reply(200, record_page(1, 1, None)))
    store = MemoryStore()

    items = list(harvest(request_for(local_server), FAST, store=store))

    assert [i.source_id for i in records_of(items).values()] == ["oai:test:r0"]
    [reject] = rejects_of(items)
    assert (reject.stage, reject.reason, reject.source) == ("read", "dtd-entities", "test")
    assert reject.source_uri.endswith("resumptionToken=t1")
    assert len(local_server.requests) == 2  # refused, not retried, and the harvest stopped there
    assert sorted(store.pages) == [0]  # the refused page is not kept for a resume
    assert SECRET not in repr(items) and all(SECRET.encode() not in page for page in store.pages.values())


def test_entity_bomb_page_is_refused_fast(local_server):
    local_server.add("/oai", Reply(200, entity_bomb_page()))
    start = time.monotonic()
    items = list(harvest(request_for(local_server), FAST))
    assert time.monotonic() - start < 2
    assert [(r.stage, r.reason) for r in items] == [("read", "dtd-entities")]
    assert "lollol" not in repr(items)
    assert len(local_server.requests) == 1


def test_undeclared_entity_page_is_fetched_again_then_ends_as_malformed(local_server):
    """`&foo;` without a DTD is not well-formed XML: like a truncated page, it is retried, then rejected."""
    local_server.add("/oai", Reply(200, oai_page(dc_record("oai:test:e", "<dc:title>A &foo; B</dc:title>"))))
    items = list(harvest(request_for(local_server), fast(max_retries=1)))
    [reject] = items
    assert (reject.stage, reject.reason) == ("read", "malformed-xml")
    assert "Entity 'foo' not defined" in reject.detail
    assert len(local_server.requests) == 2


def test_malformed_page_is_fetched_again(local_server):
    """A 200 that is not a ListRecords page (a proxy's error page, a cut page) is a fault, not the end."""
    local_server.add("/oai", Reply(200, b"<html>Temporarily down</html>"), Reply(200, oai_page(ENGLISH)))
    items = list(harvest(request_for(local_server), FAST))
    assert [(type(i), i.source_id) for i in items] == [(Record, "oai:test:2003")]
    assert len(local_server.requests) == 2


def test_page_that_stays_truncated_ends_the_harvest_with_one_reject(local_server):
    whole = oai_page(BILINGUAL, token="next")
    local_server.add("/oai", Reply(200, whole[: len(whole) // 2]))
    items = list(harvest(request_for(local_server), fast(max_retries=2)))
    [reject] = items
    assert (reject.stage, reject.reason) == ("read", "malformed-xml")
    assert "after 3 attempts" in reject.detail
    assert len(local_server.requests) == 3


# --------------------------------------------------------------------------- harvests that end


def test_repeated_resumption_token_ends_the_harvest_with_a_reject(local_server):
    """A server whose tokens go round in a circle (A, B, A, ...) would be harvested forever."""
    local_server.add("/oai", Reply(200, record_page(0, 2, "A")), Reply(200, record_page(2, 2, "B")),
                     Reply(200, record_page(4, 2, "A")), Reply(200, record_page(6, 2, None)))

    items = list(harvest(request_for(local_server), FAST))

    assert sorted(records_of(items)) == [f"oai:test:r{i}" for i in range(6)]  # page 3's records are kept
    [reject] = rejects_of(items)
    assert (reject.stage, reject.reason) == ("read", "repeated-resumption-token")
    assert "'A'" in reject.detail and reject.source_uri.endswith("resumptionToken=B")
    assert len(local_server.requests) == 3  # token A is not asked for a second time


def test_same_token_twice_in_a_row_ends_the_harvest(local_server):
    local_server.add("/oai", Reply(200, record_page(0, 1, "same")))  # the last reply repeats
    items = list(harvest(request_for(local_server), FAST))
    assert [type(i) for i in items] == [Record, Record, Reject]
    assert items[2].reason == "repeated-resumption-token"
    assert len(local_server.requests) == 2


def test_endless_empty_pages_end_the_harvest_with_a_reject(local_server):
    empty = [Reply(200, oai_page("", token=f"e{i}")) for i in range(50)]
    local_server.add("/oai", Reply(200, record_page(0, 2, "start")), *empty)

    items = list(harvest(request_for(local_server), fast(max_empty_pages=3)))

    assert sorted(records_of(items)) == ["oai:test:r0", "oai:test:r1"]
    [reject] = rejects_of(items)
    assert (reject.stage, reject.reason) == ("read", "empty-pages")
    assert reject.detail.startswith("3 pages in a row without a record")
    assert len(local_server.requests) == 1 + 3


def test_empty_pages_below_the_bound_do_not_end_the_harvest(local_server):
    local_server.add("/oai", Reply(200, oai_page("", token="e1")), Reply(200, oai_page("", token="e2")),
                     Reply(200, record_page(0, 1, "r")), Reply(200, oai_page("", token="e3")),
                     Reply(200, oai_page("", token="e4")), Reply(200, record_page(1, 1, None)))
    items = list(harvest(request_for(local_server), fast(max_empty_pages=3)))
    assert sorted(records_of(items)) == ["oai:test:r0", "oai:test:r1"] and not rejects_of(items)
    assert len(local_server.requests) == 6


def test_a_server_that_sends_a_byte_at_a_time_ends_with_too_slow():
    page = record_page(0, 1, None)

    def respond(handler, n):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(page)))
        handler.end_headers()
        trickle(handler, page, 0.02, server.stop)  # a few seconds in all, never 1 s silent

    start = time.monotonic()
    with scripted_server(respond) as server:
        request = OaiRequest(f"{server.base_url}/oai", source="test")
        items = list(harvest(request, fast(max_retries=1, timeout_s=1.0, deadline_s=0.3)))
    assert time.monotonic() - start < 3
    [reject] = items
    assert (reject.stage, reject.reason) == ("read", "too-slow")
    assert len(server.requests) == 2


# --------------------------------------------------------------------------- faults and resume


class PagedServer:
    """Serves `pages` (page i's token is f"t{i + 1}"), with optional faults, as a real HTTP server."""

    def __init__(self, pages: list[bytes], fault: Callable[[int], str | None] = lambda n: None):
        self.pages = pages
        self.fault = fault  # request number -> fault kind or None

    def page_for(self, path: str) -> bytes:
        token = query_of(path).get("resumptionToken", ["t0"])[0]
        return self.pages[int(token[1:])]

    def respond(self, handler, n: int) -> None:
        kind = self.fault(n)
        page = self.page_for(handler.path)
        if kind == "503":
            send(handler, 503, b"busy", {"Retry-After": "0"})
        elif kind == "500":
            send(handler, 500, b"oops")
        elif kind == "timeout":
            time.sleep(0.5)  # the client gave up after timeout_s = 0.2
            send(handler, 200, page)
        elif kind == "truncated":
            send(handler, 200, page[: len(page) * 2 // 3])
        elif kind == "down":
            handler.close_connection = True  # no answer at all: the connection just closes
        else:
            send(handler, 200, page)


def paged(count: int, per_page: int = 2) -> list[bytes]:
    """`count` pages of `per_page` records, each with the token to the next, the last without."""
    return [record_page(i * per_page, per_page, f"t{i + 1}" if i + 1 < count else None) for i in range(count)]


FAULTS = ["503", "500", "timeout", "truncated"]


def one_in_five(n: int) -> str | None:
    """Requests 4, 9, 14, 19 fail: 503 + Retry-After, 500, a timeout, a truncated page, in turn."""
    return FAULTS[(n // 5) % len(FAULTS)] if n % 5 == 4 else None


def test_one_request_in_five_failing_gives_the_records_of_a_clean_harvest():
    server_pages = PagedServer(paged(17))
    options = fast(timeout_s=0.2, max_retries=2)
    with scripted_server(server_pages.respond) as server:
        request = OaiRequest(f"{server.base_url}/oai", source="test")
        clean = list(harvest(request, options))
        clean_requests = len(server.requests)
        server_pages.fault = lambda n: one_in_five(n - clean_requests)
        faulty = list(harvest(request, options))

    assert clean_requests == 17
    # Requests 4, 9, 14 and 19 of the faulty run failed, one of each kind; each cost one more request.
    assert len(server.requests) - clean_requests == 17 + 4
    assert [one_in_five(n) for n in (4, 9, 14, 19)] == FAULTS
    assert faulty == clean  # same Records, same order: none lost, none duplicated
    assert [r.source_id for r in faulty] == [f"oai:test:r{i}" for i in range(34)]
    assert not rejects_of(faulty)


def test_killed_harvest_resumes_from_its_last_token_and_equals_a_clean_one():
    server_pages = PagedServer(paged(5))
    store = MemoryStore()
    with scripted_server(server_pages.respond) as server:
        request = OaiRequest(f"{server.base_url}/oai", source="test")
        clean = list(harvest(request, FAST))
        server.requests.clear()

        server_pages.fault = lambda n: "down" if n >= 2 else None  # stops answering after page 2
        first = list(harvest(request, fast(max_retries=1), store=store))
        assert [r.reason for r in rejects_of(first)] == ["http-error"]
        assert sorted(store.pages) == [0, 1]
        assert len(server.requests) == 2 + 2  # pages 1 and 2, then page 3 tried twice

        server.requests.clear()
        server_pages.fault = lambda n: None
        second = list(harvest(request, FAST, store=store))

    assert [query_of(path)["resumptionToken"] for path in server.requests] == [["t2"], ["t3"], ["t4"]]
    assert second == clean
    assert sorted(store.pages) == [0, 1, 2, 3, 4]


def test_a_complete_stored_harvest_makes_no_request(local_server):
    local_server.add("/oai", Reply(200, record_page(0, 2, "t1")), Reply(200, record_page(2, 1, None)))
    store = MemoryStore()
    request = request_for(local_server)
    progress: list[tuple[int, int]] = []
    first = list(harvest(request, FAST, store=store))
    again = list(harvest(request, FAST, store=store, progress=lambda d, t: progress.append((d, t))))
    assert again == first and len(first) == 3
    assert len(local_server.requests) == 2
    assert progress == [(2, 0), (3, 0)]


def test_a_stored_page_that_is_unusable_is_fetched_again(local_server):
    local_server.add("/oai?verb=ListRecords&metadataPrefix=oai_dc", Reply(200, record_page(0, 1, "t1")))
    local_server.add("/oai?verb=ListRecords&resumptionToken=t1", Reply(200, record_page(1, 1, None)))
    store = MemoryStore()
    first = list(harvest(request_for(local_server), FAST, store=store))
    store.pages[1] = store.pages[1][:-40]  # a page cut short on disk
    local_server.requests.clear()

    again = list(harvest(request_for(local_server), FAST, store=store))

    assert again == first
    assert local_server.requests == ["/oai?verb=ListRecords&resumptionToken=t1"]
    assert store.pages[1].endswith(b"</OAI-PMH>")


def test_a_stored_page_that_declares_entities_is_fetched_again(local_server, tmp_path):
    """A page planted in the store is refused like a fetched one, and replaced by the server's page."""
    local_server.add("/oai", Reply(200, record_page(0, 1, None)))
    store = MemoryStore()
    store.pages[0] = xxe_page(tmp_path / "secret.txt")
    items = list(harvest(request_for(local_server), FAST, store=store))
    assert [i.source_id for i in items] == ["oai:test:r0"]
    assert len(local_server.requests) == 1 and store.pages[0] == record_page(0, 1, None)


def test_an_oai_error_page_is_not_stored(local_server):
    local_server.add("/oai", Reply(200, record_page(0, 1, "expired")),
                     Reply(200, oai_error("badResumptionToken", "The token has expired")))
    store = MemoryStore()
    items = list(harvest(request_for(local_server), FAST, store=store))
    assert [r.reason for r in rejects_of(items)] == ["oai-error"]
    assert sorted(store.pages) == [0]  # a rerun asks for the token again rather than replay the error


def test_state_key_follows_what_the_server_is_asked():
    base = OaiRequest("https://repo.example/oai", set_spec="a", from_date="2015-01-01", source="x")
    assert base.state_key() == OaiRequest("https://repo.example/oai", set_spec="a", from_date="2015-01-01",
                                          source="y").state_key()
    others = [replace(base, base_url="https://other.example/oai"), replace(base, set_spec="b"),
              replace(base, from_date=None), replace(base, until_date="2016-01-01"),
              replace(base, metadata_prefix="mods")]
    assert len({base.state_key(), *(o.state_key() for o in others)}) == 6
    assert len(base.state_key()) == 32


# --------------------------------------------------------------------------- Identify


def test_repository_name_asks_identify_and_gives_the_name(local_server):
    local_server.add("/oai", Reply(200, identify_page()))
    assert repository_name(f"{local_server.base_url}/oai", FAST) == "Revues savantes d’essai"
    assert local_server.requests == ["/oai?verb=Identify"]


def test_repository_name_of_a_base_url_with_a_query(local_server):
    local_server.add("/oai", Reply(200, identify_page(name=None)))
    assert repository_name(f"{local_server.base_url}/oai?repo=x", FAST) == ""
    assert local_server.requests == ["/oai?repo=x&verb=Identify"]


def test_repository_name_waits_for_retry_after_then_succeeds(local_server):
    local_server.add("/oai", Reply(503, b"busy", {"Retry-After": "1"}), Reply(200, identify_page()))
    start = time.monotonic()
    name = repository_name(f"{local_server.base_url}/oai", fast(max_retries=2))
    assert name == "Revues savantes d’essai"
    assert time.monotonic() - start >= 0.95  # Retry-After won over the 0.01 s backoff
    assert len(local_server.requests) == 2


def test_repository_name_of_a_server_that_always_fails_raises_after_the_retries(local_server):
    local_server.add("/oai", Reply(500, b"boom"))
    with pytest.raises(FetchFailed) as failed:
        repository_name(f"{local_server.base_url}/oai", fast(max_retries=2))
    assert failed.value.reason == "http-error" and "HTTP 500" in failed.value.detail
    assert local_server.requests == ["/oai?verb=Identify"] * 3  # one try + two retries


@pytest.mark.parametrize("body", [oai_page(ENGLISH), b"<html>Temporarily down</html>"], ids=["list-records", "html"])
def test_repository_name_of_a_server_that_does_not_answer_identify_raises(local_server, body):
    local_server.add("/oai", Reply(200, body))
    with pytest.raises(FetchFailed) as failed:
        repository_name(f"{local_server.base_url}/oai", fast(max_retries=1))
    assert failed.value.reason == "malformed-xml"
    assert len(local_server.requests) == 2  # taken for a bad page, so fetched once more


def test_an_identify_answer_that_declares_entities_is_refused_at_once(local_server):
    local_server.add("/oai", Reply(200, entity_bomb_page()))
    with pytest.raises(FetchFailed) as failed:
        repository_name(f"{local_server.base_url}/oai", fast(max_retries=3))
    assert failed.value.reason == "dtd-entities"
    assert len(local_server.requests) == 1  # as in a harvest: asking again would not make it safe


def test_repository_name_of_an_unreachable_server_raises():
    with pytest.raises(FetchFailed) as failed:
        repository_name(f"http://127.0.0.1:{free_port()}/oai", fast(max_retries=1, timeout_s=2))
    assert failed.value.reason == "http-error" and "ConnectionError" in failed.value.detail


# --------------------------------------------------------------------------- the build: page store and resume


TOPICS = [
    ("La gestion durable des forêts boréales", "Sustainable management of boreal forests",
     "Cet article analyse la gestion durable des forêts boréales et les politiques publiques adoptées au Québec."),
    ("Les langues autochtones à l’école", "Indigenous languages at school",
     "Cette étude examine la place des langues autochtones dans les écoles primaires du nord du Québec."),
    ("Le climat de la Nouvelle-France", "The climate of New France",
     "L’auteur reconstitue l’histoire du climat de la vallée du Saint-Laurent à partir des récits des colons."),
    ("La santé mentale des étudiants", "The mental health of students",
     "Cette enquête mesure la détresse psychologique des étudiants universitaires pendant leurs examens finaux."),
    ("Le droit des contrats numériques", "The law of digital contracts",
     "Cet article discute des règles du droit civil qui encadrent la formation des contrats conclus en ligne."),
    ("Les musées et leurs publics", "Museums and their visitors",
     "Les auteurs étudient comment les musées régionaux renouvellent leurs expositions pour attirer des familles."),
]
# Page i holds records 2i and 2i+1 and the token "t{i+1}", except the last page.
TOKENS = [None, "t1", "t2"]


def topic_record(number: int) -> str:
    fr_title, en_title, fr_abstract = TOPICS[number]
    return dc_record(
        f"oai:test:{number}",
        f'<dc:title xml:lang="fr">{fr_title}</dc:title><dc:title xml:lang="en">{en_title}</dc:title>'
        f'<dc:description xml:lang="fr">{fr_abstract}</dc:description>'
        "<dc:language>fre</dc:language><dc:date>2019-05-01</dc:date><dc:rights>CC BY 4.0</dc:rights>",
    )


def topic_page(index: int) -> bytes:
    token = f"<resumptionToken>t{index + 1}</resumptionToken>" if index < 2 else ""
    records = topic_record(2 * index) + topic_record(2 * index + 1)
    return (f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="{OAI_NS}">'
            "<responseDate>2024-01-01T00:00:00Z</responseDate><request>x</request>"
            f"<ListRecords>{records}{token}</ListRecords></OAI-PMH>").encode()


def serve_pages(server, request: OaiRequest, *, page_3: Reply | None = None) -> None:
    """Serve the three pages at their exact URLs; `page_3` replaces the third page's answer."""
    for index, token in enumerate(TOKENS):
        reply = page_3 if index == 2 and page_3 else Reply(200, topic_page(index))
        server.add(list_records_url(request, token)[len(server.base_url):], reply)


def build(out: Path, request: OaiRequest) -> dict:
    """The Érudit OAI build, on the in-process runner, with tiny waits."""
    source = EruditSource(out_dir=str(out), pairing=PairingOptions(mode="title"), oai=request,
                          oai_options=HarvestOptions(delay_s=0, max_retries=1, backoff_s=0.01, backoff_max_s=0.02))
    return run_build(Build(source, str(out)), source.prepare(), make_options([]), "test")


def data_files(out: Path) -> dict[str, bytes]:
    """Every Parquet file of OUT, by relative path."""
    return {str(path.relative_to(out)): path.read_bytes() for path in sorted(out.rglob("*.parquet"))}


def test_killed_build_resumes_and_equals_a_clean_build(local_server, tmp_path):
    request = OaiRequest(f"{local_server.base_url}/oai", set_spec="revue.x", source="erudit")
    serve_pages(local_server, request)
    clean = build(tmp_path / "clean", request)
    assert len(local_server.requests) == 3
    assert clean["source"] == "erudit" and clean["stages"][0]["name"] == "harvest"
    assert clean["licenses"] == {"CC BY 4.0": 6}

    local_server.requests.clear()
    serve_pages(local_server, request, page_3=Reply(503, b"down", {"Retry-After": "0"}))
    out = tmp_path / "out"
    killed = build(out, request)
    rejects = pq.read_table(out / "rejects.parquet").to_pylist()
    assert [(r["stage"], r["reason"]) for r in rejects] == [("read", "http-error")]
    assert killed["stages"][0]["out"] == 4  # pages 1 and 2
    assert len(local_server.requests) == 2 + 2  # pages 1, 2, then page 3 tried twice

    local_server.requests.clear()
    serve_pages(local_server, request)
    resumed = build(out, request)

    assert local_server.requests == ["/oai?verb=ListRecords&resumptionToken=t2"]  # only the missing page
    assert data_files(out) == data_files(tmp_path / "clean")  # same rows, byte for byte
    assert resumed["stages"] == clean["stages"]
    corpus = pq.read_table(out / "corpus/fr.parquet").to_pylist()
    assert sorted(row["source_id"] for row in corpus) == [f"oai:test:{i}" for i in range(6)]

    state = Path(oai_state_folder(str(out), request))
    assert state.parent == out / ".clirdata" / "oai"
    assert sorted(p.name for p in state.iterdir()) == ["page-000000.xml", "page-000001.xml", "page-000002.xml",
                                                       "request.json"]
    assert (state / "page-000002.xml").read_bytes() == topic_page(2)  # the server's bytes, as sent
    assert json.loads((state / "request.json").read_text())["set_spec"] == "revue.x"

    local_server.requests.clear()
    assert build(out, request)["stages"] == clean["stages"]  # a finished harvest is replayed whole
    assert local_server.requests == []


def test_saved_pages_of_another_request_are_not_replayed(local_server, tmp_path):
    first = OaiRequest(f"{local_server.base_url}/oai", set_spec="revue.x", source="erudit")
    other = OaiRequest(f"{local_server.base_url}/oai", set_spec="revue.y", source="erudit")
    serve_pages(local_server, first)
    serve_pages(local_server, other)
    out = tmp_path / "out"
    build(out, first)
    local_server.requests.clear()

    build(out, other)

    assert len(local_server.requests) == 3
    assert local_server.requests[0] == "/oai?verb=ListRecords&metadataPrefix=oai_dc&set=revue.y"
    folders = sorted(p.name for p in (out / ".clirdata" / "oai").iterdir())
    assert folders == sorted([first.state_key(), other.state_key()])


def test_page_store_writes_whole_pages_and_reads_within_its_bound(tmp_path):
    request = OaiRequest("https://repo.example/oai")
    folder = tmp_path / "state"
    store = OaiPageStore(str(folder), request, max_bytes=10)

    assert store.load(0) is None
    store.save(0, b"0123456789")
    store.save(1, b"0123456789A")  # over the bound: kept, but not read back
    store.save(0, b"new")  # a page fetched again replaces the old one

    assert store.load(0) == b"new"
    assert store.load(1) is None
    assert sorted(p.name for p in folder.iterdir()) == ["page-000000.xml", "page-000001.xml", "request.json"]


def test_page_store_that_cannot_write_does_not_stop_the_harvest(tmp_path, caplog):
    blocker = tmp_path / "state"
    blocker.write_text("a file where the folder should be")
    store = OaiPageStore(str(blocker / "sub"), OaiRequest("u"), max_bytes=100)
    store.save(0, b"page")  # logged, not raised
    assert store.load(0) is None
    assert any("cannot save page 0" in r.getMessage() for r in caplog.records)
