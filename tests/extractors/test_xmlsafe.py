"""The hardened XML parser: refusals (entities, size), namespaces, and the declared-encoding repair."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from clirdata.extractors.xmlsafe import (
    MOJIBAKE_BYTES,
    UnsafeXml,
    parse_untrusted,
    parse_untrusted_xml,
    utf8_declared_as_latin1,
)


def document(title: str, encoding: str = "UTF-8", quote: str = '"') -> str:
    return (f"<?xml version={quote}1.0{quote} encoding={quote}{encoding}{quote}?>"
            f'<article xmlns="http://www.erudit.org/xsd/article"><titre>{title}</titre></article>')


def test_tags_lose_their_namespace():
    root = parse_untrusted_xml(document("Un titre").encode())
    assert [element.tag for element in root.iter()] == ["article", "titre"]


def test_size_is_measured_before_any_parsing():
    data = document("x").encode()
    assert parse_untrusted_xml(data, max_bytes=len(data)).findtext("titre") == "x"
    with pytest.raises(UnsafeXml) as refused:
        parse_untrusted_xml(data, max_bytes=len(data) - 1)
    assert refused.value.reason == "too-large"
    # Malformed and too large: refused for its size, so the parser never saw it.
    with pytest.raises(UnsafeXml) as refused:
        parse_untrusted_xml(b"<a>" + b"<b>" * 100, max_bytes=200)
    assert refused.value.reason == "too-large"


@pytest.mark.parametrize("data", [
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "boom">]><a>&x;</a>',
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
    # The declaration sits past the 1 MB the byte scan looks at: the parsed DTD is still checked.
    b'<?xml version="1.0"?><!DOCTYPE a [<!--' + b" " * 1_000_100 + b'--><!ENTITY x "boom">]><a>&x;</a>',
    # UTF-16: the bytes of "<!ENTITY" never appear as such.
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY x "boom">]><a>&x;</a>'.encode("utf-16"),
    b'<?xml version="1.0"?><!DOCTYPE a [<!ELEMENT a (#PCDATA)>]><a>text</a>',
])
def test_entities_and_dtd_subsets_are_refused(data):
    with pytest.raises(UnsafeXml) as refused:
        parse_untrusted_xml(data)
    assert refused.value.reason == "dtd-entities"


def test_malformed_xml_raises_a_syntax_error():
    with pytest.raises(etree.XMLSyntaxError):
        parse_untrusted_xml(b"<a><b></a>")


@pytest.mark.parametrize("encoding", ["ISO-8859-1", "iso-8859-1", "latin-1", "latin1", "windows-1252",
                                      "cp1252", "ISO-8859-15"])
def test_utf8_bytes_declared_latin1_are_read_as_utf8(encoding):
    parsed = parse_untrusted(document("Les étudiants – l’école", encoding).encode("utf-8"))
    assert parsed.root.findtext("titre") == "Les étudiants – l’école"
    assert parsed.repairs == (MOJIBAKE_BYTES,)


def test_single_quoted_declaration_is_repaired_too():
    parsed = parse_untrusted(document("Forêt", "ISO-8859-1", quote="'").encode("utf-8"))
    assert (parsed.root.findtext("titre"), parsed.repairs) == ("Forêt", (MOJIBAKE_BYTES,))


@pytest.mark.parametrize("data, title", [
    (document("Les étudiants", "ISO-8859-1").encode("latin-1"), "Les étudiants"),  # honest Latin-1
    (document("Les étudiants", "windows-1252").encode("cp1252"), "Les étudiants"),
    (document("plain", "ISO-8859-1").encode("ascii"), "plain"),                       # nothing to decide
    (document("Les étudiants", "UTF-8").encode("utf-8"), "Les étudiants"),            # honest UTF-8
    (document("Les étudiants", "UTF-16").encode("utf-16"), "Les étudiants"),
])
def test_honest_declarations_are_kept(data, title):
    parsed = parse_untrusted(data)
    assert (parsed.root.findtext("titre"), parsed.repairs) == (title, ())
    assert not utf8_declared_as_latin1(data)


def test_unknown_or_absent_declared_encoding_is_not_a_repair():
    assert not utf8_declared_as_latin1(document("é", "no-such-codec").encode())
    assert not utf8_declared_as_latin1('<a>é</a>'.encode())


def test_a_declaration_not_at_the_start_is_not_read():
    data = b" " + document("Les étudiants", "ISO-8859-1").encode("utf-8")
    assert not utf8_declared_as_latin1(data)  # XML allows it only at byte 0: the parser refuses it anyway
    with pytest.raises(etree.XMLSyntaxError):
        parse_untrusted(data)


XML_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xD7FF, blacklist_characters="<&>\r"),
                   min_size=1, max_size=40)


@given(XML_TEXT)
def test_any_text_survives_a_latin1_declaration_over_utf8(text):
    parsed = parse_untrusted(document(text, "ISO-8859-1").encode("utf-8"))
    assert parsed.root.findtext("titre") == text
    assert parsed.repairs == (() if text.isascii() else (MOJIBAKE_BYTES,))
