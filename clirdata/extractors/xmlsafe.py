"""Hardened XML parsing for untrusted files: no entities, no DTD, no network, bounded size.

It also undoes the commonest encoding lie: UTF-8 bytes under an `encoding="ISO-8859-1"`
(or windows-1252) declaration, which a faithful parser turns into mojibake ("Ã©tudiants").
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from lxml import etree

DEFAULT_MAX_BYTES = 20_000_000
# Entity declarations can only sit in the DOCTYPE, before the root: scanning its first bytes refuses them
# before parsing. A longer DOCTYPE, or UTF-16 bytes, are caught by the check of the parsed DTD instead.
_PROLOG_BYTES = 1_000_000
# Codec names (as `codecs.lookup` spells them) whose decoder accepts any byte: UTF-8 bytes read through
# them never fail, they silently become mojibake.
_LATIN1_FAMILY = {"iso8859-1", "cp1252", "iso8859-15"}
# The XML declaration, which XML allows only at the very start (after an optional UTF-8 BOM).
_DECLARED_ENCODING = re.compile(
    rb"(?:\xef\xbb\xbf)?<\?xml\s[^>]{0,200}?encoding\s*=\s*([\"'])([A-Za-z][\w.:-]{0,40})\1")
MOJIBAKE_BYTES = "mojibake:encoding"  # the repair recorded when the declared encoding was overruled


class UnsafeXml(ValueError):
    """The document declares entities or a DTD subset, or is too large: we refuse it."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class ParsedXml:
    """A parsed document and the repairs made on the way (e.g. `mojibake:encoding`)."""

    root: etree._Element
    repairs: tuple[str, ...] = ()


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def utf8_declared_as_latin1(raw: bytes) -> bool:
    """True when `raw` declares a Latin-1-family encoding but is valid UTF-8 with non-ASCII bytes.

    Such bytes are UTF-8 in all likelihood: real Latin-1 text almost never decodes as UTF-8
    (an accented letter followed by plain ASCII is an invalid UTF-8 sequence).
    """
    match = _DECLARED_ENCODING.match(raw)
    if match is None or raw.isascii():
        return False
    try:
        if codecs.lookup(match.group(2).decode("ascii")).name not in _LATIN1_FAMILY:
            return False
        raw.decode("utf-8")
    except (LookupError, UnicodeDecodeError):
        return False
    return True


def _declare_utf8(raw: bytes) -> bytes:
    """The same bytes with the XML declaration's encoding value replaced by UTF-8."""
    match = _DECLARED_ENCODING.match(raw)
    assert match is not None  # only called after utf8_declared_as_latin1
    return raw[: match.start(2)] + b"UTF-8" + raw[match.end(2):]


def parse_untrusted(raw: bytes, max_bytes: int = DEFAULT_MAX_BYTES, *, keep_namespaces: bool = False) -> ParsedXml:
    """Parse `raw` into an element tree (tags without their namespace unless `keep_namespaces`), with the
    repairs made. The one policy for untrusted XML: Érudit articles, OAI-PMH pages and EUR-Lex XHTML.

    `max_bytes` bounds the parse, not the read: the caller has already read `raw` (readers
    bound their reads), and it is measured before any byte is parsed. Raises UnsafeXml for
    oversized input and for any document that declares entities (XXE, billion laughs): they
    are never expanded, and never silently kept either. Raises etree.XMLSyntaxError for
    malformed or truncated XML.
    """
    if len(raw) > max_bytes:
        raise UnsafeXml("too-large", f"{len(raw)} bytes > limit of {max_bytes}")
    if b"<!ENTITY" in raw[:_PROLOG_BYTES]:
        raise UnsafeXml("dtd-entities", "the document declares entities (refused: XXE / entity expansion)")
    repairs: tuple[str, ...] = ()
    if utf8_declared_as_latin1(raw):
        raw, repairs = _declare_utf8(raw), (MOJIBAKE_BYTES,)
    root = etree.fromstring(raw, _parser())
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and (list(dtd.iterentities()) or list(dtd.iterelements())):
        raise UnsafeXml("dtd-entities", "the document declares a DTD internal subset (entities are refused)")
    for element in root.iter():
        if not isinstance(element.tag, str):  # an unexpanded entity reference
            raise UnsafeXml("dtd-entities", "the document refers to an entity")
        if not keep_namespaces and element.tag.startswith("{"):
            element.tag = etree.QName(element).localname
    return ParsedXml(root, repairs)


def parse_untrusted_xml(raw: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """The root of `parse_untrusted(raw, max_bytes)`, for callers that do not tally repairs."""
    return parse_untrusted(raw, max_bytes).root
