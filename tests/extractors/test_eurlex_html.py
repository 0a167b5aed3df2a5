"""EUR-Lex HTML of every generation: real acts from ../shared, the same acts in site chrome,
a legacy page, the embedded sample, and hostile or empty inputs."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from clirdata.extractors.eurlex_html import EXTRACTOR_VERSION, parse_act_html
from clirdata.schemas.legal import UNIT_KINDS, ActText
from clirdata.schemas.records import Reject, sha256_hex
from tests.conftest import shared_fixture

GDPR = "gdpr_32016R0679_L_2016119EN.01000101.xhtml"
CONVEX67 = "convex67_32013R0575_EN_excerpt.html"
EPRIVACY = "eprivacy_02002L0058-20091219_EN.html"

CHROME = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>EUR-Lex - 32016R0679 - EN - EUR-Lex</title>
<script>var menu = "Article 1";</script></head>
<body>
<header class="Header"><p>EUR-Lex Access to European Union law</p>
<nav><ul><li><a href="/homepage.html">Home</a></li><li><a href="#">Article 1</a></li></ul></nav></header>
<div class="row"><div id="PP1Contents"><p class="title">Document 32016R0679</p>
<ul class="toc"><li><a href="#art_1">Article 1</a></li><li><a href="#art_2">Article 2</a></li></ul></div>
<div id="document1" class="tabContent"><div class="tabContent"><div id="docHtml">
ACT
</div></div></div>
<div id="PP5Contents"><p>Top</p><p>Share this page</p></div></div>
<footer><p>Contact | Legal notice | Cookies policy</p></footer>
</body></html>"""

LEGACY = """<html><head><meta charset="utf-8"><title>EUR-Lex - 31999R0001 - EN</title></head><body>
<div id="menu"><p>Help</p></div>
<div id="TexteOnly"><p><txt_te>
<p>Council Regulation (EC) No 1/1999 of 1 January 1999 on fictional fisheries</p>
<p>THE COUNCIL OF THE EUROPEAN UNION,</p>
<p>Whereas:</p>
<p>(1) Fish stocks need protection.</p>
<p>(2) Nets should be counted.</p>
<p>HAS ADOPTED THIS REGULATION:</p>
<p>Article 1</p>
<p>This Regulation applies to nets.</p>
<p>Article 2</p>
<p>1. Member States shall count nets.</p>
<p>2. They shall report the count every year.</p>
<p>ANNEX I</p>
<p>Model report</p>
</txt_te></p></div></body></html>"""


def parse_fixture(name: str, lang: str = "en") -> ActText:
    path = shared_fixture(f"eurlex/html/{name}")
    act = parse_act_html(path.read_bytes(), "32016R0679", lang, str(path))
    assert isinstance(act, ActText), act
    return act


def units(act: ActText) -> dict[str, object]:
    return {unit.id: unit for unit in act.units}


def in_chrome(raw: bytes) -> bytes:
    """The act's <body> inside a EUR-Lex-like page: menus, a table of contents, a footer."""
    body = re.search(rb"<body[^>]*>(.*)</body>", raw, re.S).group(1)
    return CHROME.encode().replace(b"ACT", body)


def test_gdpr_has_99_articles_and_173_recitals_in_order():
    act = parse_fixture(GDPR)
    kinds = [unit.kind for unit in act.units]
    assert kinds.count("article") == 99
    assert kinds.count("recital") == 173
    assert [u.id for u in act.units if u.kind == "article"] == [f"art_{n}" for n in range(1, 100)]
    assert [u.id for u in act.units if u.kind == "recital"] == [f"rct_{n}" for n in range(1, 174)]
    assert kinds.count("paragraph") == 372
    assert set(kinds) <= set(UNIT_KINDS)
    assert act.title.startswith("REGULATION (EU) 2016/679 OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL of 27 April")
    assert act.title.endswith("(General Data Protection Regulation) (Text with EEA relevance)")


def test_gdpr_units_carry_headings_texts_and_no_notes_or_signatures():
    act = parse_fixture(GDPR)
    unit = units(act)
    assert unit["art_7"].heading == "Article 7 Conditions for consent"
    assert unit["art_7"].text == ""
    assert unit["007.001"].text.startswith("1. Where processing is based on consent, the controller shall")
    assert unit["art_4"].text.startswith("For the purposes of this Regulation: (1) ‘personal data’ means any")
    assert unit["rct_1"].text.startswith("(1) The protection of natural persons in relation to the processing")
    assert unit["pbl_1"].text.startswith("THE EUROPEAN PARLIAMENT AND THE COUNCIL OF THE EUROPEAN UNION, Having regard")
    assert unit["pbl_2"].text == "HAVE ADOPTED THIS REGULATION:"
    assert unit["099.002"].text == "2. It shall apply from 25 May 2018."
    assert "SCHULZ" not in act.text and "OJ L 281, 23.11.1995" not in act.text
    assert "CHAPTER I" not in act.text


def test_gdpr_act_fields():
    path = shared_fixture(f"eurlex/html/{GDPR}")
    act = parse_act_html(path.read_bytes(), "32016R0679", "en", "mem://gdpr")
    assert (act.celex, act.lang, act.fmt, act.source_uri) == ("32016R0679", "en", "html", "mem://gdpr")
    assert act.sha256 == sha256_hex(path.read_bytes())
    assert act.extractor_version == EXTRACTOR_VERSION
    assert act.text == "\n".join(unit.text for unit in act.units if unit.text)
    assert act.pages == 0


def test_article_7_has_the_same_unit_ids_in_english_and_greek():
    english, greek = parse_fixture("gdpr-article-7-eng.xhtml"), parse_fixture("gdpr-article-7-ell.xhtml", "el")
    ids = ["art_7", "007.001", "007.002", "007.003", "007.004"]
    assert [u.id for u in english.units] == [u.id for u in greek.units] == ids
    assert units(greek)["art_7"].heading == "Άρθρο 7 Προϋποθέσεις για συγκατάθεση"
    assert units(greek)["007.001"].text.startswith("1. Όταν η επεξεργασία βασίζεται σε συγκατάθεση")
    assert units(english)["007.004"].text.endswith("that is not necessary for the performance of that contract.")
    assert "inter alia" in units(english)["007.004"].text  # inline <span> kept in the running text
    assert english.title == ""  # no doc-ti, and the page <title> is a file name (L_2016119EN.01000101.xml), not a title


def test_older_classes_without_oj_prefix_give_numbered_articles_paragraphs_and_annexes():
    act = parse_fixture(CONVEX67)
    unit = units(act)
    assert [u.id for u in act.units if u.kind == "article"] == ["art_1", "art_2", "art_3", "art_4", "art_521"]
    assert unit["art_1"].heading == "Article 1 Scope"
    assert unit["art_1"].text.startswith("This Regulation lays down uniform rules concerning general prudential")
    assert unit["art_2"].heading == "Article 2 Supervisory powers"
    assert unit["art_2"].text == ("For the purposes of ensuring compliance with this Regulation, competent "
                                  "authorities shall have the powers and shall follow the procedures set out in "
                                  "Directive 2013/36/EU.")
    assert unit["art_3"].heading == "Article 3 Application of stricter requirements by institutions"
    assert [u.id for u in act.units if u.id.startswith("004.")] == ["004.001", "004.002", "004.003"]
    assert unit["004.001"].text.startswith("1. For the purposes of this Regulation, the following definitions")
    assert unit["004.002"].text.startswith("2. Where reference in this Regulation is made to real estate")
    assert unit["521.001"].text.startswith("1. This Regulation shall enter into force on the day following")
    assert unit["rct_2"].text.startswith("(2) The High Level Group on Financial Supervision in the EU")
    assert unit["anx_I"].heading == "ANNEX I"
    assert unit["anx_II"].text.startswith("Types of derivatives 1. Interest-rate contracts:")
    assert act.title.startswith("REGULATION (EU) No 575/2013 OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL")
    assert "SHATTER" not in act.text and "binding in its entirety" not in act.text


def test_consolidated_text_gives_articles_with_letters_and_inferred_paragraphs():
    act = parse_fixture(EPRIVACY)
    unit = units(act)
    articles = [u.id for u in act.units if u.kind == "article"]
    assert articles == [f"art_{n}" for n in range(1, 15)] + ["art_14a", "art_15", "art_15a"] + [
        f"art_{n}" for n in range(16, 22)
    ]
    assert unit["art_1"].heading == "Article 1 Scope and aim"
    assert unit["001.001"].text.startswith("1. This Directive provides for the harmonisation of the national")
    assert unit["art_4"].heading == "Article 4 Security of processing"  # ►M2 … ◄ markers dropped
    assert unit["014a.001"].text.startswith("1. The Commission shall be assisted by the Communications Committee")
    assert unit["art_21"].text == "This Directive is addressed to the Member States."
    assert act.title.startswith("DIRECTIVE 2002/58/EC OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL of 12 July 2002")
    assert not re.search("[►▼◄]", act.text)
    assert "documentation tool" not in act.text and "Amended by" not in act.text


@pytest.mark.parametrize("name", [GDPR, CONVEX67])
def test_the_act_inside_a_full_eurlex_page_gives_the_same_units(name):
    path = shared_fixture(f"eurlex/html/{name}")
    bare, wrapped = parse_fixture(name), parse_act_html(in_chrome(path.read_bytes()), "x", "en", "mem://page")
    assert isinstance(wrapped, ActText), wrapped
    assert wrapped.units == bare.units
    assert wrapped.title == bare.title
    assert "Cookies" not in wrapped.text and "Share this page" not in wrapped.text


def test_legacy_texte_only_page_is_numbered_from_its_headings():
    act = parse_act_html(LEGACY.encode(), "31999R0001", "en", "mem://legacy")
    assert isinstance(act, ActText), act
    assert [(u.id, u.kind) for u in act.units] == [
        ("pbl_1", "preamble"), ("rct_1", "recital"), ("rct_2", "recital"), ("pbl_2", "preamble"),
        ("art_1", "article"), ("art_2", "article"), ("002.001", "paragraph"), ("002.002", "paragraph"),
        ("anx_I", "annex"),
    ]
    unit = units(act)
    assert unit["art_1"].text == "This Regulation applies to nets."
    assert unit["002.002"].text == "2. They shall report the count every year."
    assert unit["anx_I"].text == "Model report"
    assert act.title == "EUR-Lex - 31999R0001 - EN"
    assert "Help" not in act.text


def test_a_paragraph_number_out_of_sequence_stays_in_the_running_paragraph():
    page = LEGACY.replace("<p>2. They shall", "<p>1999. They shall").encode()
    unit = units(parse_act_html(page, "31999R0001", "en", "mem://legacy"))
    assert "002.002" not in unit
    assert unit["002.001"].text == "1. Member States shall count nets. 1999. They shall report the count every year."


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "malformed-html"),
        (b"   \n ", "malformed-html"),
        (b"<html><body><p>The requested document does not exist.</p></body></html>", "no-act-text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "no-act-text"),
        (b'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
         b'<html xmlns="http://www.w3.org/1999/xhtml"><body><p class="oj-ti-art">Article 1</p><p>&x;</p></body></html>',
         "dtd-entities"),
    ],
)
def test_bad_inputs_become_rejects(raw, reason):
    reject = parse_act_html(raw, "32016R0679", "en", "mem://bad")
    assert isinstance(reject, Reject)
    assert (reject.reason, reject.stage, reject.source, reject.source_uri, reject.source_id) == (
        reason, "extract", "eurlex", "mem://bad", "32016R0679")


def test_oversized_input_is_refused_before_parsing():
    reject = parse_act_html(b"<html>" + b" " * 100 + b"</html>", "x", "en", "mem://big", max_bytes=50)
    assert isinstance(reject, Reject) and reject.reason == "too-large"


def test_xhtml_with_html_entities_falls_back_to_the_html_parser():
    raw = ('<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/xhtml"><body>'
           '<p class="oj-ti-art">Article 1</p><p class="oj-normal">Caf&eacute;&nbsp;rules apply.</p></body></html>')
    act = parse_act_html(raw.encode(), "x", "fr", "mem://e")
    assert isinstance(act, ActText), act
    assert units(act)["art_1"].text == "Café rules apply."


@pytest.mark.parametrize("celex", ["32099R0001", "32099R0002", "32099L0003"])
def test_embedded_sample_acts_have_the_same_unit_ids_in_every_language(celex):
    folder = resources.files("clirdata.data").joinpath("eurlex")
    acts = {}
    for lang in ("en", "fr", "de"):
        act = parse_act_html(folder.joinpath(f"{celex}_{lang}.xhtml").read_bytes(), celex, lang, f"{celex}_{lang}")
        assert isinstance(act, ActText), act
        acts[lang] = act
    ids = [[u.id for u in act.units] for act in acts.values()]
    assert ids[0] == ids[1] == ids[2]
    kinds = [u.kind for u in acts["en"].units]
    assert 3 <= kinds.count("recital") <= 5 and 4 <= kinds.count("article") <= 6
    assert kinds.count("paragraph") >= 4
    assert all(act.title for act in acts.values())
