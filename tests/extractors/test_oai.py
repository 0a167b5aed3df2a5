"""OAI-PMH harvester: paging, retries, OAI errors, hardened parsing and the oai_dc mapping.

Network tests run against the real `local_server` (HTTP on 127.0.0.1) with recorded or
hand-written pages; the mapping helpers are tested as pure functions.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape as xml_escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from clirdata.extractors.http import parse_retry_after
from clirdata.extractors.oai import (
    HarvestOptions,
    OaiPage,
    OaiRequest,
    extract_doi,
    harvest,
    list_records_url,
    normalize_lang,
    parse_list_records,
)
from clirdata.schemas.records import Record, Reject
from tests.conftest import Reply, shared_fixture
from tests.extractors.test_http import scripted_server, send, trickle

ERUDIT_PAGE = "erudit/oai/ListRecords_oai_dc_2015-10-27.xml"
OAI_NS = "http://www.openarchives.org/OAI/2.0/"
FAST = HarvestOptions(delay_s=0.0, backoff_s=0.01, backoff_max_s=0.02)


def fast(**changes) -> HarvestOptions:
    """FAST with some options changed."""
    return replace(FAST, **changes)


def oai_page(records_xml: str = "", token: str | None = None, size: int | None = None) -> bytes:
    """A ListRecords response around hand-written <record> elements."""
    token_xml = ""
    if token is not None:
        size_attr = f' completeListSize="{size}"' if size is not None else ""
        token_xml = f"<resumptionToken{size_attr}>{token}</resumptionToken>"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<OAI-PMH xmlns="{OAI_NS}"><responseDate>2016-01-01T00:00:00Z</responseDate>'
        '<request verb="ListRecords">http://repo.example/oai</request>'
        f"<ListRecords>{records_xml}{token_xml}</ListRecords></OAI-PMH>"
    ).encode()


def oai_error(code: str, message: str) -> bytes:
    """An OAI-PMH error response (HTTP 200, as the protocol wants)."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="{OAI_NS}">'
        '<responseDate>2016-01-01T00:00:00Z</responseDate><request>http://repo.example/oai</request>'
        f'<error code="{code}">{message}</error></OAI-PMH>'
    ).encode()


def dc_record(identifier: str, dc_xml: str, status: str = "") -> str:
    """One <record> with an oai_dc payload (or a deleted header when status="deleted")."""
    status_attr = f' status="{status}"' if status else ""
    header = (
        f"<header{status_attr}><identifier>{identifier}</identifier>"
        "<datestamp>2016-01-01</datestamp></header>"
    )
    if status == "deleted":
        return f"<record>{header}</record>"
    return (
        f"<record>{header}<metadata>"
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"{dc_xml}</oai_dc:dc></metadata></record>"
    )


BILINGUAL = dc_record(
    "oai:test:2001",
    "<dc:title>Les mots et les choses</dc:title>"
    '<dc:title xml:lang="en">Words and things</dc:title>'
    '<dc:description xml:lang="fr-CA">Résumé   français\u00a0de l’article.</dc:description>'
    '<dc:description xml:lang="fr">Note.</dc:description>'
    '<dc:description xml:lang="en">English abstract of the article.</dc:description>'
    '<dc:subject xml:lang="fr">linguistique; sémantique ;Linguistique</dc:subject>'
    '<dc:subject xml:lang="en">linguistics</dc:subject>'
    "<dc:subject>lexique</dc:subject>"
    "<dc:identifier>https://doi.org/10.7202/2001ar</dc:identifier>"
    "<dc:identifier>https://repo.example/article/2001</dc:identifier>"
    "<dc:language>fre</dc:language><dc:language>eng</dc:language>"
    "<dc:date>2016-02-01</dc:date>"
    "<dc:source>Revue d’essai ; vol. 1 no. 2</dc:source>"
    "<dc:publisher>Presses d’essai</dc:publisher>"
    "<dc:rights>CC BY 4.0</dc:rights><dc:rights>© Les auteurs</dc:rights>",
)
DELETED = dc_record("oai:test:2002", "", status="deleted")
ENGLISH = dc_record(
    "oai:test:2003",
    "<dc:title>A plain English record</dc:title><dc:language>en</dc:language>"
    "<dc:identifier>info:doi/10.1000/xyz.3</dc:identifier><dc:date>c. 1999</dc:date>",
)
HANDWRITTEN_PAGE_2 = oai_page(BILINGUAL + DELETED + ENGLISH, token="")


def request_for(server, **kwargs) -> OaiRequest:
    return OaiRequest(base_url=f"{server.base_url}/oai", source="test", **kwargs)


def query_of(raw_path: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(raw_path).query)


def records_of(items) -> dict[str, Record]:
    return {item.source_id: item for item in items if isinstance(item, Record)}


def rejects_of(items) -> list[Reject]:
    return [item for item in items if isinstance(item, Reject)]


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


def test_parse_real_erudit_page_is_complete_and_fingerprinted():
    path = shared_fixture(ERUDIT_PAGE)
    page = parse_list_records(path.read_bytes(), OaiRequest("https://oai.erudit.org/oai/request"), "u")

    assert page.resumption_token is None and page.error is None
    assert len(page.records) == 46
    assert all(isinstance(r, Record) for r in page.records)
    assert sum(1 for r in page.records if r.doi) == 27
    assert sum(1 for r in page.records if "en" in r.texts and "fr" in r.texts) == 10
    root = etree.fromstring(path.read_bytes())
    first = root.find(f"{{{OAI_NS}}}ListRecords/{{{OAI_NS}}}record")
    expected = hashlib.sha256(etree.tostring(first, with_tail=False)).hexdigest()
    assert page.records[0].sha256 == expected
    assert len({r.sha256 for r in page.records}) == 46


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


@pytest.mark.parametrize("bad", [{"max_empty_pages": 0}, {"deadline_s": 0}, {"max_retries": -1}, {"timeout_s": -1}])
def test_options_that_would_never_fetch_or_never_end_are_refused(bad):
    with pytest.raises(ValueError):
        HarvestOptions(**bad)


def test_superscript_retry_after_falls_back_to_the_backoff(local_server):
    """`Retry-After: ²` once killed the whole build: "²".isdigit() is True, float("²") raises."""
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


def test_connection_refused_gives_http_error_reject():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    request = OaiRequest(f"http://127.0.0.1:{port}/oai")
    items = list(harvest(request, fast(max_retries=2, timeout_s=2)))
    [reject] = items
    assert reject.reason == "http-error" and "ConnectionError" in reject.detail


def test_page_over_the_size_limit_is_rejected(local_server):
    local_server.add("/oai", Reply(200, oai_page(BILINGUAL)))
    items = list(harvest(request_for(local_server), fast(max_page_bytes=200)))
    assert [(r.stage, r.reason) for r in items] == [("read", "too-large")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("120", 120.0), ("0", 0.0), ("Thu, 01 Jan 2015 00:01:40 GMT", 100.0), ("soon", None), (None, None)],
)
def test_parse_retry_after(value, expected):
    now = 1420070400.0  # 2015-01-01T00:00:00Z
    assert parse_retry_after(value, now=now) == expected


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


def test_other_oai_error_is_reported_in_the_page():
    page = parse_list_records(oai_error("cannotDisseminateFormat", "no mods"), OaiRequest("u"), "u?x")
    assert page.error == ("cannotDisseminateFormat", "no mods")
    assert [(r.reason, r.detail) for r in page.records] == [("oai-error", "cannotDisseminateFormat: no mods")]


# --------------------------------------------------------------------------- hardened parsing


def test_external_entity_is_not_resolved(local_server, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT-42")
    page = (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE OAI-PMH [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        + oai_page(dc_record("oai:test:xxe", "<dc:title>Leak: &xxe; end</dc:title><dc:language>en</dc:language>"))
        .decode()
        .split("\n", 1)[1]
    ).encode()
    local_server.add("/oai", Reply(200, page))

    items = list(harvest(request_for(local_server), FAST))

    assert "TOP-SECRET" not in repr(items)
    [record] = items
    assert record.texts["en"].title == "Leak: end"


def test_entity_expansion_bomb_is_not_expanded():
    lol = "lol" * 10
    entities = '<!ENTITY a "' + lol + '">' + "".join(
        f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(8)
    )
    body = oai_page(dc_record("oai:test:bomb", "<dc:title>&i;</dc:title>")).decode().split("\n", 1)[1]
    page = f'<?xml version="1.0"?>\n<!DOCTYPE OAI-PMH [{entities}]>\n{body}'.encode()
    start = time.monotonic()
    result = parse_list_records(page, OaiRequest("u"), "u")
    assert time.monotonic() - start < 2
    assert "lollol" not in repr(result)


@pytest.mark.parametrize(
    ("body", "detail_part"),
    [
        (b"<OAI-PMH><ListRecords><record>", ""),
        (b"<html><body>Service unavailable</body></html>", "not an OAI-PMH response"),
        (f'<OAI-PMH xmlns="{OAI_NS}"><GetRecord/></OAI-PMH>'.encode(), "without ListRecords"),
        (b"", ""),
    ],
)
def test_malformed_page_gives_one_reject(body, detail_part):
    page = parse_list_records(body, OaiRequest("u", source="hal"), "u?verb=ListRecords")
    [reject] = page.records
    assert (reject.source, reject.stage, reject.reason) == ("hal", "read", "malformed-xml")
    assert detail_part in reject.detail
    assert page.resumption_token is None


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


# --------------------------------------------------------------------------- oai_dc mapping


def test_bilingual_record_mapping():
    page = parse_list_records(HANDWRITTEN_PAGE_2, OaiRequest("https://repo.example/oai", source="scielo"), "P")
    records = records_of(page.records)
    record = records["oai:test:2001"]

    assert page.resumption_token is None
    assert record.source == "scielo" and record.source_uri == "P#oai:test:2001"
    assert record.main_lang == "fr"  # "fre" first
    assert record.texts["fr"].title == "Les mots et les choses"
    assert record.texts["en"].title == "Words and things"
    assert record.texts["fr"].abstract == "Résumé français de l’article."  # longest fr kept, cleaned
    assert record.texts["en"].abstract == "English abstract of the article."
    assert record.texts["fr"].keywords == ("linguistique", "sémantique", "lexique")
    assert record.texts["en"].keywords == ("linguistics",)
    assert record.doi == "10.7202/2001ar"
    assert record.url == "https://repo.example/article/2001"
    assert record.year == 2016
    assert record.journal == "Revue d’essai ; vol. 1 no. 2"
    assert record.license == "CC BY 4.0; © Les auteurs"

    english = records["oai:test:2003"]
    assert (english.main_lang, english.doi, english.year, english.url) == ("en", "10.1000/xyz.3", 1999, "")
    assert english.journal == ""
    deleted = [r for r in page.records if isinstance(r, Reject)]
    assert [(r.stage, r.reason, r.source_id) for r in deleted] == [("extract", "deleted", "oai:test:2002")]


def test_languages_from_one_spaced_element():
    page = parse_list_records(
        oai_page(
            dc_record(
                "oai:test:4",
                "<dc:language>por spa</dc:language><dc:title>Título</dc:title>"
                '<dc:description xml:lang="es-ES">Resumen.</dc:description>'
                '<dc:description xml:lang="und">Resumo.</dc:description>',
            )
        ),
        OaiRequest("u"),
        "u",
    )
    [record] = page.records
    assert record.main_lang == "pt"
    assert record.texts["pt"].title == "Título"
    assert record.texts["pt"].abstract == "Resumo."  # unknown xml:lang falls back to the main language
    assert record.texts["es"].abstract == "Resumen."


def test_mojibake_in_oai_dc_fields_is_repaired_and_recorded():
    # UTF-8 read as Latin-1 somewhere upstream of the repository: "é" became "Ã©".
    garbled = "Les étudiants et l’école".encode().decode("latin-1")
    page = parse_list_records(
        oai_page(dc_record("oai:test:5", f'<dc:language>fre</dc:language><dc:title>{garbled}</dc:title>'
                                         f'<dc:subject xml:lang="fr">{garbled}; société</dc:subject>'
                                         '<dc:description xml:lang="en">Students and school.</dc:description>')),
        OaiRequest("u"), "u")
    [record] = page.records
    assert record.texts["fr"].title == "Les étudiants et l’école"
    assert record.texts["fr"].keywords == ("Les étudiants et l’école", "société")
    assert record.texts["en"].abstract == "Students and school."
    assert record.repairs == ("mojibake:title:fr", "mojibake:keywords:fr")


def test_xml_lang_is_inherited_from_the_dc_wrapper():
    record_xml = (
        "<record><header><identifier>oai:test:8</identifier></header><metadata>"
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xml:lang="it">'
        "<dc:language>fr</dc:language><dc:title>Titolo</dc:title>"
        '<dc:title xml:lang="fr">Titre</dc:title></oai_dc:dc></metadata></record>'
    )
    [record] = parse_list_records(oai_page(record_xml), OaiRequest("u"), "u").records
    assert record.main_lang == "fr"
    assert {lang: t.title for lang, t in record.texts.items()} == {"fr": "Titre", "it": "Titolo"}


def test_record_without_language_or_metadata():
    no_lang = dc_record("oai:test:5", "<dc:title>Untitled language</dc:title>")
    no_metadata = '<record><header><identifier>oai:test:6</identifier></header></record>'
    empty = dc_record("oai:test:7", "<dc:language>fr</dc:language><dc:title>  </dc:title>")
    page = parse_list_records(oai_page(no_lang + no_metadata + empty), OaiRequest("u"), "u")
    first, second, third = page.records
    assert first.main_lang == "" and first.texts["und"].title == "Untitled language"
    assert (second.reason, second.stage, second.source_id) == ("no-metadata", "extract", "oai:test:6")
    assert third.main_lang == "fr" and third.texts == {}  # no empty LangText stored


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("fre", "fr"), ("fra", "fr"), ("eng", "en"), ("spa", "es"), ("por", "pt"),
        ("ger", "de"), ("deu", "de"), ("ita", "it"), ("FRE", "fr"), ("fr", "fr"),
        ("fr-CA", "fr"), ("en_US", "en"), (" pt-BR ", "pt"), ("xyz", ""), ("", ""), (None, ""),
    ],
)
def test_normalize_lang(code, expected):
    assert normalize_lang(code) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://doi.org/10.7202/1234ar", "10.7202/1234ar"),
        ("http://dx.doi.org/10.7202/1234ar", "10.7202/1234ar"),
        ("https://doi.org/10.1590/S0102-311X2010000100001", "10.1590/S0102-311X2010000100001"),
        ("doi:10.7202/1033634ar", "10.7202/1033634ar"),
        ("DOI: 10.1000/abc.def", "10.1000/abc.def"),
        ("info:doi/10.1000/182", "10.1000/182"),
        ("10.1000/182", "10.1000/182"),
        ("https://doi.org/10.1000%2F182", "10.1000/182"),
        ("http://id.erudit.org/iderudit/1033634ar", ""),
        ("https://hal.science/hal-01234567", ""),
        ("10.12/too-short-prefix", ""),
        ("", ""),
    ],
)
def test_extract_doi(value, expected):
    assert extract_doi(value) == expected


# --------------------------------------------------------------------------- hostile attributes


@pytest.mark.parametrize(("value", "expected"), [("3", 3), (" 12 ", 12), ("²", None), ("١٢", None), ("-1", None),
                                                 ("", None), ("9" * 5000, None), ("1e3", None)])
def test_complete_list_size_counts_only_plain_ascii_digits(value, expected):
    """`completeListSize="²"` once killed the whole build; 5000 digits would trip int()'s own limit."""
    page = parse_list_records(oai_page(ENGLISH, token="t", size=value), OaiRequest("u"), "u")
    assert page.complete_list_size == expected
    assert [r.source_id for r in page.records] == ["oai:test:2003"] and page.resumption_token == "t"


# --------------------------------------------------------------------------- harvests that end


def record_page(first: int, count: int, token: str | None) -> bytes:
    """A page of `count` English records numbered from `first`, and its token."""
    records = "".join(
        dc_record(f"oai:test:r{i}", f"<dc:title>Record {i}</dc:title><dc:language>en</dc:language>")
        for i in range(first, first + count)
    )
    return oai_page(records, token=token)


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


class MemoryStore:
    """A PageStore in a dict (the Beam filesystem one is tested in tests/pipelines/test_oai_harvest.py)."""

    def __init__(self):
        self.pages: dict[int, bytes] = {}

    def load(self, index: int) -> bytes | None:
        return self.pages.get(index)

    def save(self, index: int, body: bytes) -> None:
        self.pages[index] = body


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


# --------------------------------------------------------------------------- fuzz


REQUEST = OaiRequest("https://repo.example/oai", source="fuzz")


def assert_well_formed(page: OaiPage) -> None:
    assert isinstance(page, OaiPage)
    assert all(isinstance(r, (Record, Reject)) for r in page.records)
    if page.malformed:
        assert [(r.stage, r.reason) for r in page.records] == [("read", "malformed-xml")]
    assert page.complete_list_size is None or page.complete_list_size >= 0
    assert page.resumption_token is None or page.resumption_token.strip() == page.resumption_token != ""


@given(st.binary(max_size=4000))
def test_parse_list_records_on_any_bytes_gives_a_page(data):
    assert_well_formed(parse_list_records(data, REQUEST, "u"))


EDIT = st.one_of(
    st.tuples(st.just("cut"), st.integers(0, 80_000)),
    st.tuples(st.just("delete"), st.integers(0, 80_000), st.integers(1, 200)),
    st.tuples(st.just("insert"), st.integers(0, 80_000), st.binary(min_size=1, max_size=40)),
    st.tuples(st.just("insert"), st.integers(0, 80_000),
              st.sampled_from([b"<", b">", b"&", b"&#0;", b"]]>", b"<!--", b"\xff", b"\x00", b"\xc3", b"</record>",
                               b'<!DOCTYPE x [<!ENTITY e "ee">]>', b"&e;", b'xml:lang="\xb2"'])),
    st.tuples(st.just("token"), st.text(max_size=30), st.text(max_size=30)),
)


def mutate(page: bytes, edit: tuple) -> bytes:
    """One edit of the page: cut its end, delete a span, insert bytes, or add a token with any attribute."""
    kind = edit[0]
    if kind == "cut":
        return page[: edit[1] % (len(page) + 1)]
    if kind == "delete":
        at = edit[1] % (len(page) + 1)
        return page[:at] + page[at + edit[2]:]
    if kind == "insert":
        at = edit[1] % (len(page) + 1)
        return page[:at] + edit[2] + page[at:]
    size, token = (xml_escape(value, {'"': "&quot;"}) for value in edit[1:])
    extra = f'<resumptionToken completeListSize="{size}">{token}</resumptionToken>'.encode()
    return page.replace(b"</ListRecords>", extra + b"</ListRecords>")


@settings(max_examples=max(10, settings().max_examples // 4))
@given(st.lists(EDIT, min_size=1, max_size=4))
def test_parse_list_records_on_mutations_of_the_real_page_gives_a_page(edits):
    page = shared_fixture(ERUDIT_PAGE).read_bytes()
    for edit in edits:
        page = mutate(page, edit)
    parsed = parse_list_records(page, REQUEST, "u")
    assert_well_formed(parsed)
    assert parse_list_records(page, REQUEST, "u") == parsed  # deterministic
