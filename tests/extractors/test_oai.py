"""OAI-PMH harvester: paging, retries, OAI errors, hardened parsing and the oai_dc mapping.

Network tests run against the real `local_server` (HTTP on 127.0.0.1) with recorded or
hand-written pages; the mapping helpers are tested as pure functions.
"""

from __future__ import annotations

import hashlib
import socket
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import etree

from clirdata.extractors.http import parse_retry_after
from clirdata.extractors.oai import (
    OaiRequest,
    extract_doi,
    harvest,
    list_records_url,
    normalize_lang,
    parse_list_records,
)
from clirdata.schemas.records import Record, Reject
from tests.conftest import Reply, shared_fixture

ERUDIT_PAGE = "erudit/oai/ListRecords_oai_dc_2015-10-27.xml"
OAI_NS = "http://www.openarchives.org/OAI/2.0/"
FAST = {"delay_s": 0.0, "backoff_s": 0.01, "backoff_max_s": 0.02}


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

    items = list(harvest(request, progress=lambda d, t: progress.append((d, t)), **FAST))

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

    options = {**FAST, "delay_s": 0.2}
    items = list(harvest(request, progress=lambda d, t: progress.append((d, t)), **options))

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

    items = list(harvest(request_for(local_server), **FAST))

    assert len(local_server.requests) == 2
    assert [type(i) for i in items] == [Record]
    assert items[0].source_id == "oai:test:2003"
    assert time.monotonic() - start >= 0.95  # Retry-After won over the 0.01 s backoff


def test_retry_after_is_capped(local_server):
    local_server.add("/oai", Reply(503, b"busy", {"Retry-After": "3600"}), Reply(200, oai_page(ENGLISH)))
    start = time.monotonic()
    items = list(harvest(request_for(local_server), retry_after_cap_s=0.05, **FAST))
    assert len(records_of(items)) == 1
    assert time.monotonic() - start < 5


def test_persistent_500_gives_one_http_error_reject(local_server):
    local_server.add("/oai", Reply(500, b"boom"))

    items = list(harvest(request_for(local_server), max_retries=3, **FAST))

    assert len(local_server.requests) == 4  # one try + three retries
    [reject] = items
    assert isinstance(reject, Reject)
    assert (reject.stage, reject.reason, reject.source) == ("read", "http-error", "test")
    assert "HTTP 500" in reject.detail and f"{local_server.base_url}/oai?verb=ListRecords" in reject.detail


def test_client_error_is_not_retried(local_server):
    local_server.add("/oai", Reply(404, b"gone"))
    items = list(harvest(request_for(local_server), max_retries=3, **FAST))
    assert [(r.reason, "HTTP 404" in r.detail) for r in items] == [("http-error", True)]
    assert len(local_server.requests) == 1


def test_connection_refused_gives_http_error_reject():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    request = OaiRequest(f"http://127.0.0.1:{port}/oai")
    items = list(harvest(request, max_retries=2, timeout_s=2, **FAST))
    [reject] = items
    assert reject.reason == "http-error" and "ConnectionError" in reject.detail


def test_page_over_the_size_limit_is_rejected(local_server):
    local_server.add("/oai", Reply(200, oai_page(BILINGUAL)))
    items = list(harvest(request_for(local_server), max_page_bytes=200, **FAST))
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
    items = list(harvest(request_for(local_server, from_date="2030-01-01"), **FAST))
    assert items == []
    assert len(local_server.requests) == 1


def test_bad_resumption_token_keeps_page_1_and_adds_one_reject(local_server):
    local_server.add(
        "/oai",
        Reply(200, oai_page(BILINGUAL + ENGLISH, token="expired")),
        Reply(200, oai_error("badResumptionToken", "The token has expired")),
    )

    items = list(harvest(request_for(local_server), **FAST))

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

    items = list(harvest(request_for(local_server), **FAST))

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


def test_malformed_page_ends_the_harvest(local_server):
    local_server.add("/oai", Reply(200, b"<html>Temporarily down</html>"), Reply(200, oai_page(ENGLISH)))
    items = list(harvest(request_for(local_server), **FAST))
    assert [r.reason for r in items] == ["malformed-xml"]
    assert len(local_server.requests) == 1


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
