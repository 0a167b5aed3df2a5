"""EUR-Lex HTML of every generation: real acts from ../shared, the same acts in site chrome,
a legacy page, the embedded sample, and hostile or empty inputs."""

from __future__ import annotations

import re
import sys
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clirdata.checks.fidelity import fidelity
from clirdata.extractors import eurlex_html
from clirdata.extractors.eurlex_html import EXTRACTOR_VERSION, parse_act_html
from clirdata.extractors.pdf import extract_pdf_text
from clirdata.schemas.legal import UNIT_KINDS, ActText, PdfText
from clirdata.schemas.records import Reject, sha256_hex
from tests import pdfgen
from tests.conftest import SHARED_FIXTURES, shared_fixture

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
    assert "OJ L 281, 23.11.1995" not in act.text  # a footnote
    assert "CHAPTER I" not in act.text  # headings are headings, not text
    assert unit["cpt_I"].heading == "CHAPTER I General provisions"
    assert unit["cpt_III.sct_1"].heading == "Section 1 Transparency and modalities"
    assert unit["fnp_1"].kind == "final"
    assert unit["fnp_1"].text.startswith("This Regulation shall be binding in its entirety and directly applicable")
    assert unit["fnp_1"].text.endswith("The President M. SCHULZ For the Council The President J.A. HENNIS-PLASSCHAERT")
    assert not any("SCHULZ" in u.full_text for u in act.units if u.id != "fnp_1")  # signatures: the final unit only


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
    assert [(u.id, u.heading) for u in act.units if u.kind == "section"] == [
        ("sec_1", "PART ONE GENERAL PROVISIONS"), ("sec_2", "TITLE I SUBJECT MATTER, SCOPE AND DEFINITIONS"),
        ("sec_3", "PART ELEVEN FINAL PROVISIONS")]
    assert unit["fnp_1"].text.startswith("This Regulation shall be binding in its entirety")
    assert unit["fnp_1"].text.endswith("For the Council The President A. SHATTER")
    assert not any("SHATTER" in u.full_text or "in its entirety" in u.full_text for u in act.units if u.id != "fnp_1")


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


def test_a_page_past_its_deadline_is_a_timeout_reject():
    reject = parse_act_html(ACT_BY_ACT.encode(), "32024R1689", "en", "mem://slow", timeout_s=0)
    assert isinstance(reject, Reject)
    assert (reject.reason, reject.stage, reject.detail) == ("timeout", "extract", "over 0 s, after 0 blocks")


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


# --- every word in a unit: the real acts, rendered whole as PDFs -------------------------------

REAL_ACTS = sorted(path.name for path in (SHARED_FIXTURES / "eurlex" / "html").glob("*")) or ["(absent)"]


@pytest.mark.parametrize("name", REAL_ACTS)
def test_the_whole_page_of_every_real_act_rendered_as_a_pdf_scores_at_least_099(name):
    """Every word of the act's body (annex headings, tables, chapter headings, the concluding formula) is
    in a unit: the page's complete text as a PDF matches the units, but for its header and footnotes."""
    raw = shared_fixture(f"eurlex/html/{name}").read_bytes()
    act = parse_act_html(raw, "x", "el" if "-ell" in name else "en", name)
    assert isinstance(act, ActText), act
    pdf_text = extract_pdf_text(pdfgen.page_pdf(raw))
    assert isinstance(pdf_text, PdfText), pdf_text
    report = fidelity(pdf_text.text, act.units)
    print(f"\n| {name} | {len(pdf_text.pages)} | {report.lcs:.3f} | {report.overlap_f1:.3f} | {report.order:.3f} "
          f"| {report.fidelity:.3f} |")
    assert report.fidelity >= 0.99, (report.overlap_f1, report.order, sorted(report.per_unit, key=lambda u: u[2])[:3])


def test_the_dma_annex_keeps_its_group_headings_nested_lists_and_table_cells():
    act = parse_fixture("dma_32022R1925_EN.xhtml")
    annex = units(act)["anx_1"]
    assert annex.heading == "ANNEX"
    assert annex.text.startswith("A. ‘General’ 1. This Annex aims at specifying the methodology")
    for words in ("B. ‘Active end users’", "C. ‘Active business users’", "E. ‘Specific definitions’",
                  "Core platform services Active end users Active business users Online intermediation services",
                  "(ii) are used for different purposes", "Number of unique business users (including advertisers"):
        assert words in annex.text
    assert annex.text.endswith("interacted via or were served by the advertising intermediation service during the year.")
    assert [u.id for u in act.units if u.kind == "section"] == [f"cpt_{n}" for n in ("I", "II", "III", "IV", "V", "VI")]
    assert "Directive (EU) 2019/1937 of the European Parliament and of the Council of 23 October 2019" not in act.text


# --- the Official Journal's act-by-act format (since October 2023) --------------------------------

# Written by hand after the real structure (Regulation (EU) 2024/1689, Decision (EU) 2026/454): the page
# header in two tables, one eli-container for the act and one per annex, the ELI and ISSN trailer outside.
ACT_BY_ACT = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-equiv="content-type" content="text/html; charset=utf-8"/>
<title>L_202401689EN.000101.fmx.xml</title></head>
<body>
<table width="100%" border="0" cellspacing="0" cellpadding="0"><col width="5%"/><col width="75%"/><col width="20%"/>
 <tbody><tr><td><img alt="European flag" src="europeanflag.gif"/></td>
  <td><p class="oj-hd-ti">Official Journal <br/>of the European Union</p></td>
  <td><p class="oj-hd-lg">EN</p><p class="oj-hd-coll">L series</p></td></tr></tbody></table>
<hr class="oj-separator"/>
<table width="100%" border="0" cellspacing="0" cellpadding="0"><col width="20%"/><col width="60%"/><col width="20%"/>
 <tbody><tr><td/><td><p class="oj-hd-uniq">2024/1689</p></td><td><p class="oj-hd-date">12.7.2024</p></td></tr></tbody></table>
<div class="eli-container">
 <div class="eli-main-title" id="tit_1">
  <p class="oj-doc-ti" id="d1e38-1-1">REGULATION (EU) 2024/1689 OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL</p>
  <p class="oj-doc-ti">of 13 June 2024</p>
  <p class="oj-doc-ti">laying down harmonised rules on artificial intelligence (Artificial Intelligence Act)</p>
  <p class="oj-doc-ti">(Text with EEA relevance)</p>
 </div>
 <div class="eli-subdivision" id="pbl_1">
  <p class="oj-normal">THE EUROPEAN PARLIAMENT AND THE COUNCIL OF THE EUROPEAN UNION,</p>
  <div class="eli-subdivision" id="cit_1"><p class="oj-normal">Having regard to the Treaty on the Functioning of
   the European Union, and in particular Articles 16 and 114 thereof,</p></div>
  <p class="oj-normal">Whereas:</p>
  <div class="eli-subdivision" id="rct_1"><table width="100%"><col width="4%"/><col width="96%"/><tbody><tr>
   <td valign="top"><p class="oj-normal">(1)</p></td>
   <td valign="top"><p class="oj-normal">The purpose of this Regulation is to improve the functioning of the internal
    market&#160;<a id="ntc1-L_202401689EN.000101-E0001" href="#ntr1-L_202401689EN.000101-E0001">(<span
    class="oj-super oj-note-tag">1</span>)</a>.</p></td></tr></tbody></table></div>
  <div class="eli-subdivision" id="rct_2"><table width="100%"><tbody><tr>
   <td valign="top"><p class="oj-normal">(2)</p></td>
   <td valign="top"><p class="oj-normal">This Regulation should be applied in accordance with the values of the Union.</p>
   </td></tr></tbody></table></div>
  <p class="oj-normal">HAVE ADOPTED THIS REGULATION:</p>
 </div>
 <div class="eli-subdivision" id="enc_1">
  <div class="eli-subdivision" id="cpt_I">
   <p class="oj-ti-section-1" id="d1e2921-1-1">CHAPTER I</p>
   <div class="eli-title" id="cpt_I.tit_1"><p class="oj-ti-section-2">GENERAL PROVISIONS</p></div>
   <div class="eli-subdivision" id="art_1">
    <p class="oj-ti-art" id="d1e2929-1-1">Article 1</p>
    <div class="eli-title" id="art_1.tit_1"><p class="oj-sti-art">Subject matter</p></div>
    <div id="001.001"><p class="oj-normal">1.   The purpose of this Regulation is to improve the functioning of
     the internal market.</p></div>
    <div id="001.002"><p class="oj-normal">2.   This Regulation lays down:</p>
     <table width="100%"><tbody><tr><td valign="top"><p class="oj-normal">(a)</p></td>
      <td valign="top"><p class="oj-normal">harmonised rules for the placing on the market;</p></td></tr></tbody></table>
     <table width="100%"><tbody><tr><td valign="top"><p class="oj-normal">(b)</p></td>
      <td valign="top"><p class="oj-normal">prohibitions of certain AI practices.</p></td></tr></tbody></table></div>
   </div>
   <div class="eli-subdivision" id="art_2">
    <p class="oj-ti-art">Article 2</p>
    <div class="eli-title" id="art_2.tit_1"><p class="oj-sti-art">Scope</p></div>
    <p class="oj-normal">This Regulation applies to providers placing AI systems on the market.</p>
   </div>
  </div>
  <div class="eli-subdivision" id="cpt_II">
   <p class="oj-ti-section-1">CHAPTER II</p>
   <div class="eli-title" id="cpt_II.tit_1"><p class="oj-ti-section-2">FINAL PROVISIONS</p></div>
   <div class="eli-subdivision" id="art_3">
    <p class="oj-ti-art">Article 3</p>
    <div class="eli-title" id="art_3.tit_1"><p class="oj-sti-art">Entry into force</p></div>
    <p class="oj-normal">This Regulation shall enter into force on the twentieth day following that of its
     publication in the <span class="oj-italic">Official Journal of the European Union</span>.</p>
    <p class="oj-normal">It shall apply from 2 August 2026.</p>
   </div>
  </div>
 </div>
 <div class="eli-subdivision" id="fnp_1">
  <div class="oj-final">
   <p class="oj-normal">This Regulation shall be binding in its entirety and directly applicable in all Member States.</p>
   <p class="oj-normal">Done at Brussels, 13 June 2024.</p>
   <div class="oj-signatory"><p class="oj-signatory"><span class="oj-italic">For the European Parliament</span></p>
    <p class="oj-signatory"><span class="oj-italic">The President</span></p><p class="oj-signatory">R. METSOLA</p></div>
   <div class="oj-signatory"><p class="oj-signatory"><span class="oj-italic">For the Council</span></p>
    <p class="oj-signatory"><span class="oj-italic">The President</span></p><p class="oj-signatory">M. MICHEL</p></div>
  </div>
 </div>
 <hr class="oj-note"/>
 <p class="oj-note"><a id="ntr1-L_202401689EN.000101-E0001" href="#ntc1-L_202401689EN.000101-E0001">(<span
  class="oj-super">1</span>)</a>&#160;&#160;OJ C 517, 22.12.2021, p. 56.</p>
</div>
<div class="eli-container" id="anx_I">
 <p class="oj-doc-ti" id="d1e38-125-1">ANNEX I</p>
 <p class="oj-doc-ti">List of Union harmonisation legislation</p>
 <p class="oj-ti-grseq-1">Section A. List of Union harmonisation legislation based on the New Legislative Framework</p>
 <table width="100%"><tbody><tr><td valign="top"><p class="oj-normal">1.</p></td>
  <td valign="top"><span>Directive 2006/42/EC of the European Parliament and of the Council on machinery&#160;<a
   href="#ntr2">(<span class="oj-super oj-note-tag">2</span>)</a>;</span></td></tr></tbody></table>
 <p class="oj-ti-grseq-1">Section B. List of other Union harmonisation legislation</p>
 <table width="100%"><tbody><tr><td valign="top"><p class="oj-normal">2.</p></td>
  <td valign="top"><span>Regulation (EC) No 300/2008 on common rules in the field of civil aviation security:</span>
   <table width="100%"><tbody><tr><td valign="top"><p class="oj-normal">(a)</p></td>
    <td valign="top"><p class="oj-normal">screening methods;</p></td></tr></tbody></table></td></tr></tbody></table>
 <hr class="oj-note"/>
 <p class="oj-note"><a id="ntr2" href="#ntc2">(<span class="oj-super">2</span>)</a>&#160;&#160;OJ L 157, 9.6.2006, p. 24.</p>
</div>
<div class="eli-container" id="anx_II">
 <p class="oj-doc-ti">ANNEX II</p>
 <p class="oj-doc-ti">High-risk AI systems referred to in Article 6(2)</p>
 <p class="oj-ti-section-1">PART A</p>
 <p class="oj-normal">High-risk AI systems are the AI systems listed in any of the following areas:</p>
 <ul><li>biometrics;</li><li>critical <b>infrastructure</b>;</li></ul>
 <table width="100%" class="oj-table"><tbody>
  <tr><td><p class="oj-tbl-hdr">Area</p></td><td><p class="oj-tbl-hdr">Systems</p></td></tr>
  <tr><td><p class="oj-tbl-txt">Education</p></td><td><p class="oj-tbl-txt">Systems that determine access to
   education</p></td></tr></tbody></table>
 <p class="oj-doc-ti">Appendix</p>
 <p class="oj-normal">The list is reviewed every year.</p>
</div>
<hr class="oj-separator"/>
<p class="oj-normal">ELI: http://data.europa.eu/eli/reg/2024/1689/oj</p>
<p class="oj-normal">ISSN 1977-0677 (electronic edition)</p>
<hr class="oj-doc-end"/>
</body></html>"""
ACT_BY_ACT_TITLE = ("REGULATION (EU) 2024/1689 OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL of 13 June 2024 laying down "
                    "harmonised rules on artificial intelligence (Artificial Intelligence Act) (Text with EEA relevance)")
ACT_BY_ACT_UNITS = [
    ("pbl_1", "preamble", "", "THE EUROPEAN PARLIAMENT AND THE COUNCIL OF THE EUROPEAN UNION, Having regard to the Treaty "
     "on the Functioning of the European Union, and in particular Articles 16 and 114 thereof, Whereas:"),
    ("rct_1", "recital", "", "(1) The purpose of this Regulation is to improve the functioning of the internal market (1)."),
    ("rct_2", "recital", "", "(2) This Regulation should be applied in accordance with the values of the Union."),
    ("pbl_2", "preamble", "", "HAVE ADOPTED THIS REGULATION:"),
    ("cpt_I", "section", "CHAPTER I GENERAL PROVISIONS", ""),
    ("art_1", "article", "Article 1 Subject matter", ""),
    ("001.001", "paragraph", "", "1. The purpose of this Regulation is to improve the functioning of the internal market."),
    ("001.002", "paragraph", "", "2. This Regulation lays down: (a) harmonised rules for the placing on the market; (b) "
     "prohibitions of certain AI practices."),
    ("art_2", "article", "Article 2 Scope", "This Regulation applies to providers placing AI systems on the market."),
    ("cpt_II", "section", "CHAPTER II FINAL PROVISIONS", ""),
    ("art_3", "article", "Article 3 Entry into force", "This Regulation shall enter into force on the twentieth day "
     "following that of its publication in the Official Journal of the European Union. It shall apply from 2 August 2026."),
    ("fnp_1", "final", "", "This Regulation shall be binding in its entirety and directly applicable in all Member States. "
     "Done at Brussels, 13 June 2024. For the European Parliament The President R. METSOLA For the Council The President "
     "M. MICHEL"),
    ("anx_I", "annex", "ANNEX I List of Union harmonisation legislation", "Section A. List of Union harmonisation "
     "legislation based on the New Legislative Framework 1. Directive 2006/42/EC of the European Parliament and of the "
     "Council on machinery (2); Section B. List of other Union harmonisation legislation 2. Regulation (EC) No 300/2008 on "
     "common rules in the field of civil aviation security: (a) screening methods;"),
    ("anx_II", "annex", "ANNEX II High-risk AI systems referred to in Article 6(2)", "PART A High-risk AI systems are the AI "
     "systems listed in any of the following areas: biometrics; critical infrastructure; Area Systems Education Systems "
     "that determine access to education Appendix The list is reviewed every year."),
]


def as_rows(act: ActText) -> list[tuple[str, str, str, str]]:
    return [(u.id, u.kind, u.heading, u.text) for u in act.units]


def test_act_by_act_page_header_is_no_part_of_the_act_and_the_title_is_found():
    act = parse_act_html(ACT_BY_ACT.encode(), "32024R1689", "en", "mem://ai-act")
    assert isinstance(act, ActText), act
    assert act.title == ACT_BY_ACT_TITLE
    assert as_rows(act) == ACT_BY_ACT_UNITS
    everything = " ".join(u.full_text for u in act.units)
    for furniture in ("L series", "12.7.2024", "Official Journal of the European Union EN", "OJ C 517", "OJ L 157",
                      "ELI:", "ISSN"):
        assert furniture not in everything, furniture


def test_an_unmarked_page_header_before_the_title_is_dropped_not_taken_for_the_preamble():
    page = ACT_BY_ACT.replace('class="oj-hd-', 'class="x-hd-')  # classes this parser has never seen
    act = parse_act_html(page.encode(), "32024R1689", "en", "mem://ai-act")
    assert isinstance(act, ActText), act
    assert act.title == ACT_BY_ACT_TITLE
    assert as_rows(act) == ACT_BY_ACT_UNITS


def test_act_by_act_page_inside_the_eurlex_site_gives_the_same_units():
    wrapped = parse_act_html(in_chrome(ACT_BY_ACT.encode()), "32024R1689", "en", "mem://page")
    assert isinstance(wrapped, ActText), wrapped
    assert (wrapped.title, as_rows(wrapped)) == (ACT_BY_ACT_TITLE, ACT_BY_ACT_UNITS)


def test_act_by_act_page_as_a_pdf_scores_one():
    act = parse_act_html(ACT_BY_ACT.encode(), "32024R1689", "en", "mem://ai-act")
    pdf_text = extract_pdf_text(pdfgen.page_pdf(ACT_BY_ACT.encode()))
    assert isinstance(pdf_text, PdfText), pdf_text
    assert fidelity(pdf_text.text, act.units).fidelity == 1.0


# --- headings that are text: quoted articles, correlation tables, annex sections ------------------

AMENDING = """<html><body><div class="eli-container">
<p class="oj-doc-ti">REGULATION (EU) 2099/1 amending Regulation (EU) 2016/679</p>
<div class="eli-subdivision" id="art_1"><p class="oj-ti-art">Article 1</p>
 <div id="001.001"><p class="oj-normal">1. The following Article is inserted:</p>
  <p class="oj-ti-art">‘Article 5a</p><p class="oj-sti-art">Reporting</p><p class="oj-normal">Controllers shall report.’</p>
  <p class="oj-doc-ti">‘ANNEX IV</p><p class="oj-normal">Model form.’</p></div>
 <div id="001.002"><p class="oj-normal">2. Article 99 is deleted.</p></div></div>
<div class="eli-subdivision" id="art_2"><p class="oj-ti-art">Article 2</p><div class="eli-title"><p class="oj-sti-art">Entry
 into force</p></div><p class="oj-normal">It enters into force today.</p></div>
</div></body></html>"""


def test_headings_quoted_inside_an_article_are_its_text_and_the_next_article_still_starts():
    act = parse_act_html(AMENDING.encode(), "32099R0001", "en", "mem://amending")
    assert isinstance(act, ActText), act
    assert as_rows(act) == [
        ("art_1", "article", "Article 1", ""),
        ("001.001", "paragraph", "", "1. The following Article is inserted: ‘Article 5a Reporting Controllers shall "
         "report.’ ‘ANNEX IV Model form.’"),
        ("001.002", "paragraph", "", "2. Article 99 is deleted."),
        ("art_2", "article", "Article 2 Entry into force", "It enters into force today."),
    ]


def test_without_ids_an_article_number_that_goes_back_is_quoted_text():
    page = AMENDING.replace('id="001.001"', "").replace('id="001.002"', "").replace('id="art_1"', "").replace(
        'id="art_2"', "").replace("‘Article 5a", "‘Article 1").replace('<p class="oj-doc-ti">‘ANNEX IV</p>', "")
    act = parse_act_html(page.encode(), "32099R0001", "en", "mem://amending")
    assert [u.id for u in act.units if u.kind == "article"] == ["art_1", "art_2"]
    assert "‘Article 1 Reporting Controllers shall report.’" in units(act)["001.001"].text


LEGACY_CORRELATION = LEGACY.replace("<p>Model report</p>", """<p>Correlation table</p>
<table><tr><td><p>Directive 80/1/EEC</p></td><td><p>This Regulation</p></td></tr>
<tr><td><p>Article 1</p></td><td><p>Article 2</p></td></tr><tr><td><p>ANNEX</p></td><td><p>ANNEX II</p></td></tr></table>
<p>ANNEX II</p><p>Form</p>""")


def test_legacy_correlation_table_cells_that_look_like_headings_stay_in_their_annex():
    act = parse_act_html(LEGACY_CORRELATION.encode(), "31999R0001", "en", "mem://legacy")
    assert [u.id for u in act.units if u.kind in ("article", "annex")] == ["art_1", "art_2", "anx_I", "anx_II"]
    unit = units(act)
    assert unit["anx_I"].text == ("Correlation table Directive 80/1/EEC This Regulation Article 1 Article 2 "
                                  "ANNEX ANNEX II")
    assert (unit["anx_II"].heading, unit["anx_II"].text) == ("ANNEX II", "Form")
    assert unit["002.002"].text == "2. They shall report the count every year."


OLD_ANNEX = """<html><body>
<p class="doc-ti">COMMISSION REGULATION (EC) No 1/2010</p>
<p class="ti-section-1">CHAPTER I</p><p class="ti-section-2">SCOPE</p>
<p class="ti-art">Article 1</p><p class="normal">This Regulation applies.</p>
<div class="final"><p class="normal">Done at Brussels, 1 January 2010.</p></div><p class="signatory">The President</p>
<hr class="doc-sep"/>
<p class="doc-ti">ANNEX</p>
<p class="ti-grseq-1"><span class="bold">Technical rules</span></p>
<p class="ti-section-1">PART A</p>
<table><tr><td><p class="normal">1.</p></td><td>General: <a href="#n1">(<span class="super">1</span>)</a>
 <table><tr><td><p class="normal">(a)</p></td><td><p class="normal">labels;</p></td></tr></table>
 <ol><li>first item</li><li><span>second</span> item</li></ol>
 and the rest.</td></tr></table>
<p class="note">(1) OJ L 1, 1.1.2000, p. 1.</p>
<p class="doc-ti">Appendix 1</p>
<p class="normal">Model label.</p>
</body></html>"""


def test_old_annex_with_nested_tables_lists_sections_and_a_footnote_keeps_every_word_in_order():
    act = parse_act_html(OLD_ANNEX.encode(), "32010R0001", "en", "mem://old")
    assert isinstance(act, ActText), act
    assert as_rows(act) == [
        ("sec_1", "section", "CHAPTER I SCOPE", ""),
        ("art_1", "article", "Article 1", "This Regulation applies."),
        ("fnp_1", "final", "", "Done at Brussels, 1 January 2010. The President"),
        ("anx_1", "annex", "ANNEX", "Technical rules PART A 1. General: (1) (a) labels; first item second item and the "
         "rest. Appendix 1 Model label."),
    ]


# --- bounds: linear work, no recursion, hostile shapes ------------------------------------------

def generated_page(articles: int, ids: bool = True) -> bytes:
    """An act with `articles` articles of three paragraphs, as many recitals, and an annex with a table."""
    recitals = "".join(f'<div class="eli-subdivision" id="rct_{n}"><table><tr><td><p class="oj-normal">({n})</p></td>'
                       f'<td><p class="oj-normal">Recital {n} says why.</p></td></tr></table></div>'
                       for n in range(1, articles + 1))
    body = []
    for n in range(1, articles + 1):
        paragraphs = "".join((f'<div id="{n:03d}.{p:03d}">' if ids else "<div>")
                             + f'<p class="oj-normal">{p}.   Paragraph {p} of article {n} applies.</p></div>'
                             for p in (1, 2, 3))
        body.append(f'<div class="eli-subdivision"{f" id=art_{n}" if ids else ""}><p class="oj-ti-art">Article {n}</p>'
                    f'<p class="oj-sti-art">Rule {n}</p>{paragraphs}</div>')
    annex = "".join(f"<tr><td><p>{n}</p></td><td><p>Entry {n}</p></td></tr>" for n in range(articles))
    return (f'<html><body><div class="eli-container"><p class="oj-doc-ti">REGULATION {articles}</p>{recitals}'
            f'<p class="oj-normal">HAVE ADOPTED THIS REGULATION:</p>{"".join(body)}</div>'
            f'<div class="eli-container" id="anx_I"><p class="oj-doc-ti">ANNEX I</p><table>{annex}</table></div>'
            f"</body></html>").encode()


def python_steps(raw: bytes) -> int:
    """Lines of the parser's own Python code run to parse `raw`: a deterministic count of its work."""
    steps = 0
    module = eurlex_html.__file__

    def trace(frame, event, arg):
        nonlocal steps
        if frame.f_code.co_filename != module:
            return None
        if event == "line":
            steps += 1
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        act = parse_act_html(raw, "x", "en", "mem://generated")
    finally:
        sys.settrace(previous)
    assert isinstance(act, ActText), act
    return steps


@pytest.mark.parametrize("ids", [True, False])
def test_parsing_work_doubles_when_the_page_doubles(ids):
    """Linear by construction: the lines of parser code run grow like the page (was quadratic: every
    article heading looked over every unit made so far)."""
    sizes = (100, 200, 400)
    steps = [python_steps(generated_page(n, ids)) for n in sizes]
    act = parse_act_html(generated_page(400, ids), "x", "en", "mem://generated")
    assert [u.id for u in act.units if u.kind == "article"] == [f"art_{n}" for n in range(1, 401)]
    assert len(act.units) == 400 + 1 + 400 * 4 + 1  # recitals, "HAVE ADOPTED", articles and paragraphs, annex
    ratios = [later / earlier for earlier, later in zip(steps, steps[1:], strict=False)]
    assert all(1.9 <= ratio <= 2.05 for ratio in ratios), (steps, ratios)


@pytest.mark.parametrize("xhtml", [False, True])
def test_deep_nesting_is_parsed_without_recursion(xhtml):
    head = '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">' if xhtml else "<html>"
    deep = (head + '<body><p class="oj-ti-art">Article 1</p>' + "<div>" * 5000 + "<span>" * 5000 + "deep text"
            + "</span>" * 5000 + "</div>" * 5000 + "</body></html>").encode()
    act = parse_act_html(deep, "x", "en", "mem://deep")
    assert isinstance(act, ActText), act
    assert units(act)["art_1"].heading == "Article 1"


# --- fuzz: any bytes, and the real files damaged -------------------------------------------------

def small_pages() -> list[bytes]:
    pages = [ACT_BY_ACT.encode(), LEGACY.encode(), OLD_ANNEX.encode(), AMENDING.encode()]
    for name in ("gdpr-article-7-eng.xhtml", "gdpr-article-7-ell.xhtml", CONVEX67):
        path = SHARED_FIXTURES / "eurlex" / "html" / name
        if path.exists():
            pages.append(path.read_bytes())
    return pages


PAGES = small_pages()
TAG = re.compile(rb"<[^<>]{0,200}>")


@st.composite
def damaged_pages(draw) -> bytes:
    """A real page with a few of: bytes flipped, a cut, tags removed, tags duplicated."""
    page = bytearray(draw(st.sampled_from(PAGES)))
    for _ in range(draw(st.integers(1, 4))):
        damage = draw(st.sampled_from(["flip", "cut", "drop-tag", "double-tag"]))
        if damage == "flip" and page:
            page[draw(st.integers(0, len(page) - 1))] = draw(st.integers(0, 255))
        elif damage == "cut":
            page = page[: draw(st.integers(0, len(page)))]
        else:
            tags = list(TAG.finditer(page))
            if tags:
                tag = tags[draw(st.integers(0, len(tags) - 1))]
                middle = b"" if damage == "drop-tag" else tag.group(0) * draw(st.integers(2, 50))
                page = page[: tag.start()] + middle + page[tag.end():]
    return bytes(page)


def assert_act_or_reject(raw: bytes) -> None:
    result = parse_act_html(raw, "32099R0001", "en", "mem://fuzz")
    assert isinstance(result, (ActText, Reject))
    if isinstance(result, Reject):
        assert result.reason in {"malformed-html", "no-act-text", "dtd-entities", "too-large", "timeout"}, result
        assert (result.stage, result.source_uri, result.source_id) == ("extract", "mem://fuzz", "32099R0001")
    else:
        assert all(unit.kind in UNIT_KINDS for unit in result.units)
        assert len({unit.id for unit in result.units}) == len(result.units)


@pytest.mark.timeout(120)
@given(raw=st.binary(max_size=3000))
def test_any_bytes_give_an_act_or_a_reject(raw):
    assert_act_or_reject(raw)


@pytest.mark.timeout(120)
@given(raw=st.one_of(st.builds(lambda text: text.encode(), st.text(alphabet="<>/=\"' ap.div1clsAtre", max_size=400)),
                     st.sampled_from([b"<html><body><p class='oj-ti-art'>", b"<?xml version='1.0'?>",
                                      b"\xef\xbb\xbf<html>", b"<p class=oj-doc-ti>ANNEX"])))
def test_markup_like_text_gives_an_act_or_a_reject(raw):
    assert_act_or_reject(raw)


@pytest.mark.timeout(120)
@settings(max_examples=max(10, settings().max_examples // 2))
@given(raw=damaged_pages())
def test_damaged_real_pages_give_an_act_or_a_reject(raw):
    assert_act_or_reject(raw)
