"""The oai_dc mapper and the ListRecords / Identify page parsers: pure functions, page bytes in.

Hand-written pages and a real Érudit ListRecords page (../shared/fixtures/real) go through
`parse_list_records` and `parse_identify` without any network; the harvester that fetches the pages
is tested in tests/readers/test_oai.py, which imports the page helpers below.
"""

from __future__ import annotations

import hashlib
import time
from xml.sax.saxutils import escape as xml_escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from clirdata.extractors.oai_dc import (
    EXTRACTOR_VERSION,
    OaiPage,
    extract_doi,
    first_year,
    parse_identify,
    parse_list_records,
    split_subject,
)
from clirdata.schemas.records import Record, Reject
from tests.conftest import shared_fixture

ERUDIT_PAGE = "erudit/oai/ListRecords_oai_dc_2015-10-27.xml"
OAI_NS = "http://www.openarchives.org/OAI/2.0/"
SECRET = "TOP-SECRET-CONTENT-42"


def oai_page(records_xml: str = "", token: str | None = None, size: int | str | None = None) -> bytes:
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


def identify_page(name: str | None = "Revues savantes d’essai", base_url: str = "https://repo.example/oai") -> bytes:
    """An Identify response shaped like real OAI-PMH 2.0 ones (`name` None: no repositoryName)."""
    name_xml = f"<repositoryName>\n    {name}\n  </repositoryName>" if name is not None else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<OAI-PMH xmlns="{OAI_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">\n'
        "<responseDate>2024-03-01T12:00:00Z</responseDate>\n"
        f'<request verb="Identify">{base_url}</request>\n'
        f"<Identify>\n  {name_xml}\n"
        f"  <baseURL>{base_url}</baseURL>\n"
        "  <protocolVersion>2.0</protocolVersion>\n"
        "  <adminEmail>oai@repo.example</adminEmail>\n"
        "  <earliestDatestamp>2001-01-01</earliestDatestamp>\n"
        "  <deletedRecord>persistent</deletedRecord>\n"
        "  <granularity>YYYY-MM-DD</granularity>\n"
        "  <description><oai-identifier xmlns=\"http://www.openarchives.org/OAI/2.0/oai-identifier\">"
        "<scheme>oai</scheme><repositoryIdentifier>repo.example</repositoryIdentifier>"
        "<delimiter>:</delimiter><sampleIdentifier>oai:repo.example:1</sampleIdentifier>"
        "</oai-identifier></description>\n"
        "</Identify>\n</OAI-PMH>\n"
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


def record_page(first: int, count: int, token: str | None) -> bytes:
    """A page of `count` English records numbered from `first`, and its token."""
    records = "".join(
        dc_record(f"oai:test:r{i}", f"<dc:title>Record {i}</dc:title><dc:language>en</dc:language>")
        for i in range(first, first + count)
    )
    return oai_page(records, token=token)


def with_doctype(page: bytes, doctype: str) -> bytes:
    """`page` with `doctype` between its XML declaration and its root element."""
    declaration, body = page.split(b"\n", 1)
    return declaration + b"\n" + doctype.encode() + b"\n" + body


def xxe_page(secret_path) -> bytes:
    """A page whose title refers to an external entity that points at a local file."""
    page = oai_page(dc_record("oai:test:xxe", "<dc:title>Leak: &xxe; end</dc:title><dc:language>en</dc:language>"))
    return with_doctype(page, f'<!DOCTYPE OAI-PMH [<!ENTITY xxe SYSTEM "file://{secret_path}">]>')


def entity_bomb_page() -> bytes:
    """A billion-laughs page: 10^8 "lol"s if the entities were expanded."""
    entities = '<!ENTITY a "' + "lol" * 10 + '">' + "".join(
        f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(8)
    )
    page = oai_page(dc_record("oai:test:bomb", "<dc:title>&i;</dc:title>"))
    return with_doctype(page, f"<!DOCTYPE OAI-PMH [{entities}]>")


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


def records_of(items) -> dict[str, Record]:
    return {item.source_id: item for item in items if isinstance(item, Record)}


def rejects_of(items) -> list[Reject]:
    return [item for item in items if isinstance(item, Reject)]


def parsed(page: bytes, source: str = "test") -> OaiPage:
    return parse_list_records(page, source, "u")


# --------------------------------------------------------------------------- real Érudit page


def test_parse_real_erudit_page_is_complete_and_fingerprinted():
    path = shared_fixture(ERUDIT_PAGE)
    page = parse_list_records(path.read_bytes(), "erudit", "u")

    assert page.resumption_token is None and page.error is None and not page.malformed
    assert len(page.records) == 46
    assert all(isinstance(r, Record) for r in page.records)
    assert sum(1 for r in page.records if r.doi) == 27
    assert sum(1 for r in page.records if "en" in r.texts and "fr" in r.texts) == 10
    root = etree.fromstring(path.read_bytes())
    first = root.find(f"{{{OAI_NS}}}ListRecords/{{{OAI_NS}}}record")
    expected = hashlib.sha256(etree.tostring(first, with_tail=False)).hexdigest()
    assert page.records[0].sha256 == expected
    assert len({r.sha256 for r in page.records}) == 46


def test_real_erudit_record_mapping():
    page = parse_list_records(shared_fixture(ERUDIT_PAGE).read_bytes(), "erudit", "P")
    records = records_of(page.records)

    climate = records["oai:erudit.org:1033634ar"]
    assert climate.main_lang == "fr" and list(climate.texts) == ["fr", "en"]
    assert climate.texts["fr"].title.startswith("« Les bois engendrent les frimas et les gelées »")
    assert climate.texts["en"].abstract.startswith("This article juxtaposes current reconstructions of climate history")
    assert climate.texts["en"].title == ""
    assert (climate.doi, climate.year, climate.url) == ("10.7202/1033634ar", 2015,
                                                        "http://id.erudit.org/iderudit/1033634ar")
    # A rights statement without a Creative Commons licence is kept as it is.
    assert climate.license == "Tous droits réservés © Institut d’histoire de l’Amérique française, 2015"
    assert climate.journal == "Revue d’histoire de l’Amérique française"  # from dc:relation
    assert (climate.source, climate.extractor_version, climate.source_uri) == (
        "erudit", EXTRACTOR_VERSION, "P#oai:erudit.org:1033634ar")
    assert records["oai:erudit.org:1033504ar"].main_lang == "en"  # <dc:language>en fr</dc:language>
    assert (records["oai:erudit.org:3539ac"].year, records["oai:erudit.org:3539ac"].doi) == (1991, "")


# --------------------------------------------------------------------------- OAI errors


def test_other_oai_error_is_reported_in_the_page():
    page = parse_list_records(oai_error("cannotDisseminateFormat", "no mods"), "test", "u?x")
    assert page.error == ("cannotDisseminateFormat", "no mods")
    assert [(r.stage, r.reason, r.detail, r.source_uri) for r in page.records] == [
        ("read", "oai-error", "cannotDisseminateFormat: no mods", "u?x")]
    assert not page.malformed


def test_no_records_match_is_an_error_without_a_reject():
    page = parsed(oai_error("noRecordsMatch", "No records match"))
    assert page.error == ("noRecordsMatch", "No records match") and page.records == []


# --------------------------------------------------------------------------- hardened parsing


def assert_refused_whole(page: OaiPage, source: str = "test", uri: str = "u") -> Reject:
    """The page is one `read`/`dtd-entities` Reject with `error` set, so a harvest ends there."""
    [reject] = page.records
    assert isinstance(reject, Reject)
    assert (reject.source, reject.source_uri, reject.stage, reject.reason) == (source, uri, "read", "dtd-entities")
    assert page.error is not None and page.error[0] == "dtd-entities"
    assert not page.malformed and page.resumption_token is None
    return reject


def test_external_entity_page_is_refused_whole_and_the_file_is_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    page = parsed(xxe_page(secret))
    assert_refused_whole(page)
    assert SECRET not in repr(page) and "Leak" not in repr(page)  # not even the text around the entity


def test_entity_expansion_bomb_is_refused_fast():
    start = time.monotonic()
    page = parsed(entity_bomb_page())
    assert time.monotonic() - start < 2
    assert_refused_whole(page)
    assert "lollol" not in repr(page)


def test_entity_declaration_after_the_first_megabyte_is_refused_too(tmp_path):
    """The prolog scan reads 1 MB; a longer DOCTYPE is caught by the check of the parsed DTD."""
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    padding = "<!-- " + "x" * 1_100_000 + " -->"
    page = oai_page(dc_record("oai:test:xxe", "<dc:title>Leak: &xxe;</dc:title>"))
    doctype = f'<!DOCTYPE OAI-PMH [{padding}<!ENTITY xxe SYSTEM "file://{secret}">]>'
    result = parsed(with_doctype(page, doctype))
    assert "DTD internal subset" in assert_refused_whole(result).detail  # the second line of defence
    assert SECRET not in repr(result)


def test_internal_entity_that_is_never_used_still_refuses_the_page():
    page = with_doctype(oai_page(ENGLISH), '<!DOCTYPE OAI-PMH [<!ENTITY unused "x">]>')
    assert_refused_whole(parsed(page))


def test_undeclared_entity_is_malformed_and_its_name_never_becomes_text():
    """`&foo;` with no DTD at all: lxml refuses the page as not well-formed (it can be fetched again)."""
    page = parsed(oai_page(dc_record("oai:test:e", "<dc:title>A &foo; B</dc:title>")))
    [reject] = page.records
    assert (reject.stage, reject.reason) == ("read", "malformed-xml")
    assert page.malformed and page.error is None
    assert "Entity 'foo' not defined" in reject.detail


def test_entity_reference_under_an_external_dtd_is_refused_as_an_entity():
    """With an external DTD lxml cannot tell `&foo;` is undeclared: it keeps a reference node, which is refused."""
    body = oai_page(dc_record("oai:test:e", "<dc:title>A &foo; B</dc:title>"))
    page = parsed(with_doctype(body, '<!DOCTYPE OAI-PMH SYSTEM "http://repo.example/oai.dtd">'))
    reject = assert_refused_whole(page)
    assert "refers to an entity" in reject.detail
    assert "A  B" not in repr(page) and "foo" not in repr(page.records)


@pytest.mark.parametrize("text", ["A &amp; B", "&#233;t&#xE9;", "&lt;i&gt;"])
def test_predefined_and_character_references_are_plain_text(text):
    [record] = parsed(oai_page(dc_record("oai:test:c", f"<dc:title>{text}</dc:title>"))).records
    assert record.texts["und"].title == {"A &amp; B": "A & B", "&#233;t&#xE9;": "été", "&lt;i&gt;": "<i>"}[text]


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
    page = parse_list_records(body, "hal", "u?verb=ListRecords")
    [reject] = page.records
    assert (reject.source, reject.stage, reject.reason) == ("hal", "read", "malformed-xml")
    assert detail_part in reject.detail
    assert page.malformed and page.error is None
    assert page.resumption_token is None


def test_truncated_page_is_malformed():
    whole = oai_page(BILINGUAL, token="next")
    page = parsed(whole[: len(whole) // 2])
    assert page.malformed and [r.reason for r in page.records] == ["malformed-xml"]
    assert page.resumption_token is None


def test_page_over_the_size_bound_is_refused_before_parsing():
    page = parse_list_records(oai_page(BILINGUAL), "test", "u", max_bytes=200)
    [reject] = page.records
    assert (reject.stage, reject.reason) == ("read", "too-large")
    assert page.error is not None and page.error[0] == "too-large"


# --------------------------------------------------------------------------- oai_dc mapping


def test_bilingual_record_mapping():
    page = parse_list_records(HANDWRITTEN_PAGE_2, "scielo", "P")
    records = records_of(page.records)
    record = records["oai:test:2001"]

    assert page.resumption_token is None  # an empty token ends the list
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
    assert record.license == "CC BY 4.0"  # was "CC BY 4.0; © Les auteurs": the CC licence wins now

    english = records["oai:test:2003"]
    assert (english.main_lang, english.doi, english.year, english.url) == ("en", "10.1000/xyz.3", 1999, "")
    assert english.journal == "" and english.license == ""
    deleted = rejects_of(page.records)
    assert [(r.stage, r.reason, r.source_id) for r in deleted] == [("extract", "deleted", "oai:test:2002")]


@pytest.mark.parametrize(
    ("rights", "licence"),
    [
        (["<dc:rights>© Les auteurs</dc:rights>",
          "<dc:rights>http://creativecommons.org/licenses/by-nc-nd/4.0/</dc:rights>"], "CC BY-NC-ND 4.0"),
        (["<dc:rights>info:eu-repo/semantics/openAccess</dc:rights>"], "info:eu-repo/semantics/openAccess"),
        (["<dc:rights>© Les auteurs</dc:rights>", "<dc:rights>Tous droits réservés</dc:rights>",
          "<dc:rights>© Les auteurs</dc:rights>"], "© Les auteurs; Tous droits réservés"),
        ([], ""),
    ],
)
def test_dc_rights_become_one_licence(rights, licence):
    [record] = parsed(oai_page(dc_record("oai:test:l", "<dc:title>T</dc:title>" + "".join(rights)))).records
    assert record.license == licence


def test_languages_from_one_spaced_element():
    page = parsed(
        oai_page(
            dc_record(
                "oai:test:4",
                "<dc:language>por spa</dc:language><dc:title>Título</dc:title>"
                '<dc:description xml:lang="es-ES">Resumen.</dc:description>'
                '<dc:description xml:lang="und">Resumo.</dc:description>',
            )
        )
    )
    [record] = page.records
    assert record.main_lang == "pt"
    assert record.texts["pt"].title == "Título"
    assert record.texts["pt"].abstract == "Resumo."  # unknown xml:lang falls back to the main language
    assert record.texts["es"].abstract == "Resumen."


def test_mojibake_in_oai_dc_fields_is_repaired_and_recorded():
    # UTF-8 read as Latin-1 somewhere upstream of the repository: "é" became "Ã©".
    garbled = "Les étudiants et l’école".encode().decode("latin-1")
    page = parsed(
        oai_page(dc_record("oai:test:5", f'<dc:language>fre</dc:language><dc:title>{garbled}</dc:title>'
                                         f'<dc:subject xml:lang="fr">{garbled}; société</dc:subject>'
                                         '<dc:description xml:lang="en">Students and school.</dc:description>')))
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
    [record] = parsed(oai_page(record_xml)).records
    assert record.main_lang == "fr"
    assert {lang: t.title for lang, t in record.texts.items()} == {"fr": "Titre", "it": "Titolo"}


def test_record_without_language_or_metadata():
    no_lang = dc_record("oai:test:5", "<dc:title>Untitled language</dc:title>")
    no_metadata = '<record><header><identifier>oai:test:6</identifier></header></record>'
    empty = dc_record("oai:test:7", "<dc:language>fr</dc:language><dc:title>  </dc:title>")
    no_identifier = "<record><header><datestamp>2016-01-01</datestamp></header></record>"
    page = parsed(oai_page(no_lang + no_metadata + empty + no_identifier))
    first, second, third, fourth = page.records
    assert first.main_lang == "" and first.texts["und"].title == "Untitled language"
    assert (second.reason, second.stage, second.source_id) == ("no-metadata", "extract", "oai:test:6")
    assert third.main_lang == "fr" and third.texts == {}  # no empty LangText stored
    assert (fourth.reason, fourth.stage) == ("no-identifier", "extract")


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
        (None, ""),
    ],
)
def test_extract_doi(value, expected):
    assert extract_doi(value) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2016-02-01"], 2016), (["c. 1999"], 1999), (["s.d.", "2015-10-27"], 2015),
        (["1991", "2015"], 1991), (["12345"], None), (["0999"], None), (["3000"], None), ([], None),
    ],
)
def test_first_year(values, expected):
    assert first_year(values) == expected


# --------------------------------------------------------------------------- hostile attributes


@pytest.mark.parametrize(("value", "expected"), [("3", 3), (" 12 ", 12), ("²", None), ("١٢", None), ("-1", None),
                                                 ("", None), ("9" * 5000, None), ("1e3", None)])
def test_complete_list_size_counts_only_plain_ascii_digits(value, expected):
    """`completeListSize="²"` once killed the whole build; 5000 digits would trip int()'s own limit."""
    page = parsed(oai_page(ENGLISH, token="t", size=value))
    assert page.complete_list_size == expected
    assert [r.source_id for r in page.records] == ["oai:test:2003"] and page.resumption_token == "t"


# --------------------------------------------------------------------------- Identify


def test_parse_identify_gives_the_repository_name():
    assert parse_identify(identify_page()) == "Revues savantes d’essai"  # white space around it folded


def test_parse_identify_without_a_repository_name_gives_empty():
    assert parse_identify(identify_page(name=None)) == ""


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>Service unavailable</body></html>",
        oai_page(ENGLISH),  # a ListRecords page is not an Identify response
        oai_error("badVerb", "Illegal verb"),
        identify_page()[:200],  # cut short
        b"",
        with_doctype(identify_page(), '<!DOCTYPE OAI-PMH [<!ENTITY n "Entity name">]>'),
    ],
    ids=["html", "list-records", "oai-error", "truncated", "empty", "entity-declaration"],
)
def test_parse_identify_refuses_anything_but_a_safe_identify_response(body):
    with pytest.raises(ValueError):
        parse_identify(body)


# --------------------------------------------------------------------------- fuzz


def assert_well_formed(page: OaiPage) -> None:
    assert isinstance(page, OaiPage)
    assert all(isinstance(r, (Record, Reject)) for r in page.records)
    if page.malformed:
        assert [(r.stage, r.reason) for r in page.records] == [("read", "malformed-xml")]
        assert page.error is None
    if page.error and page.error[0] == "dtd-entities":
        assert [(r.stage, r.reason) for r in page.records] == [("read", "dtd-entities")]
    assert page.complete_list_size is None or page.complete_list_size >= 0
    assert page.resumption_token is None or page.resumption_token.strip() == page.resumption_token != ""


@given(st.binary(max_size=4000))
def test_parse_list_records_on_any_bytes_gives_a_page(data):
    assert_well_formed(parse_list_records(data, "fuzz", "u"))


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
    result = parse_list_records(page, "fuzz", "u")
    assert_well_formed(result)
    if b"<!ENTITY" in page:  # wherever a mutation put it, a declaration refuses the page whole
        assert [r.reason for r in result.records] == ["dtd-entities"]
    assert parse_list_records(page, "fuzz", "u") == result  # deterministic


@pytest.mark.parametrize(
    ("subject", "keywords"),
    [
        ("machine learning; assessment ;; education", ["machine learning", "assessment", "education"]),
        # HAL's domains are upper-case codes in brackets, then the label: a scheme's heading, not a keyword
        ("[SHS.EDU]Humanities and Social Sciences/Education", []),
        ("[INFO.INFO-AI]Computer Science [cs]/Artificial Intelligence [cs.AI]", []),
        ("[SHS]Humanities and Social Sciences", []),
        # a keyword that starts with brackets of its own stays
        ("[18F]FDG; PET imaging", ["[18F]FDG", "PET imaging"]),
        ("[math] is fun", ["[math] is fun"]),
        # scheme-prefixed notations (OJS, DSpace) are codes; the same words in a keyword are not
        ("ddc:370", []), ("JEL: I21", []), ("msc:68T50", []), ("PACS 42.65", []), ("DDC 370.1", []),
        ("Pacs 3 ans", ["Pacs 3 ans"]), ("udc thing", ["udc thing"]),
    ],
)
def test_split_subject_keeps_keywords_and_leaves_classification_codes_out(subject, keywords):
    assert split_subject(subject) == keywords

