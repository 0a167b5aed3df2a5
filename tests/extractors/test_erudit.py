"""Érudit Article XML: real articles from ../shared, hand-written edge cases, hostile files."""

from __future__ import annotations

import pytest

from clirdata.extractors.erudit import parse_article
from clirdata.schemas import Origin, RawItem, Record, Reject
from tests.conftest import shared_fixture

NS = 'xmlns="http://www.erudit.org/xsd/article"'


def parse(data: bytes, uri: str = "mem://a.xml") -> Record | Reject:
    return parse_article(RawItem(Origin("erudit", uri), data))


def article(body: str, ns: str = NS, lang: str = "fr", extra: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><article {ns} idproprio="1000001ar" '
            f'typeart="article" lang="{lang}" {extra}>{body}</article>').encode()


def real(name: str) -> Record:
    path = shared_fixture(f"erudit/article/{name}")
    record = parse(path.read_bytes(), str(path))
    assert isinstance(record, Record), record
    return record


def test_real_article_with_parallel_english_title():
    record = real("1059577ar.xml")
    assert record.source_id == "1059577ar"
    assert record.main_lang == "fr"
    assert record.texts["fr"].title == ("Construction de savoirs professionnels dans une formation hybride : "
                                        "étude d’un carnet de bord en ligne collaboratif")
    assert record.texts["en"].title == ("Construction of professional knowledge in a hybrid training program: "
                                        "A study of the collaborative online logbook")
    assert record.texts["fr"].abstract.startswith("Cet article se focalise sur la co-construction de savoirs")
    assert record.texts["en"].abstract.startswith("This article examines professional knowledge co-construction")
    assert record.texts["en"].abstract.endswith("vicarious learning.")
    assert record.texts["fr"].keywords == ("Apprentissages professionnels", "dispositif hybride",
                                           "carnet de bord en ligne", "apprentissage social",
                                           "savoirs professionnels")
    assert record.texts["en"].keywords == ("Professional learnings", "hybrid training", "on-line logbook",
                                           "social learning", "professional knowledges")
    assert record.journal == "Revue internationale des technologies en pédagogie universitaire"
    assert record.year == 2017
    assert record.license == "CC BY 4.0"
    assert record.doi == ""
    assert record.url == "https://id.erudit.org/iderudit/1059577ar"
    assert len(record.sha256) == 64


def test_real_minimal_article_flattens_inline_markup():
    record = real("1039242ar.xml")
    fr = record.texts["fr"]
    assert fr.title == "Usage des podcasts en milieu universitaire : une revue de la littérature"
    # <marquage> text is kept inside the running text, white space folded.
    assert "intitulé Usages et effets perçus des podcasts de type cours enregistrés" in fr.abstract
    assert "  " not in fr.abstract
    assert record.texts["en"].keywords[-1] == "literature review"
    assert "title" not in record.texts["en"].__dict__ or record.texts["en"].title == ""
    assert record.year == 2016


def test_real_italian_article_with_doi():
    record = real("1059031ar.xml")
    assert record.main_lang == "it"
    assert record.kind == "autre"
    assert record.texts["it"].title == "L’Italia disfatta"
    assert record.texts["fr"].title == ""
    assert record.texts["fr"].abstract.startswith("Les élections présidentielles françaises en mai 2017")
    assert record.texts["it"].keywords[:3] == ("Lega", "M5S", "neopopulismo")
    assert record.doi == "10.7202/1059031ar"
    assert record.url == "https://doi.org/10.7202/1059031ar"
    assert record.license == "CC BY-NC-SA 4.0"
    assert record.journal == "Sens public"
    assert record.year == 2018


def test_real_article_keywords_in_both_languages():
    record = real("1059871ar.xml")
    assert record.texts["fr"].keywords[0] == "TIC"
    assert record.texts["en"].keywords == ("ICT", "university", "teacher perception", "ICT integration model",
                                           "explanatory factors")


LIMINAIRE = """<admin><infoarticle><idpublic scheme="doi">10.1/x</idpublic></infoarticle>
<revue><titrerev>Revue X</titrerev></revue><numero><pub><annee>2011</annee></pub></numero>
<droitsauteur>Tous droits réservés © Revue X, 2011</droitsauteur></admin>
<liminaire><grtitre><titre>Le titre<renvoi id="re1" idref="no1" typeref="note">1</renvoi> principal</titre>
<sstitre>Un sous-titre</sstitre><titreparal lang="en">The <marquage typemarq="italique">main</marquage> title</titreparal>
<sstitreparal lang="en">A subtitle</sstitreparal></grtitre>
<resume lang="fr"><titre>Résumé</titre><alinea>Premier alinéa.</alinea><alinea>Second alinéa.</alinea></resume>
<resume lang="EN-ca"><alinea>English abstract.</alinea></resume>
<grmotcle lang="fr"><motcle>un</motcle><motcle> deux </motcle></grmotcle>
<grmotcle lang="en"><motcle>one</motcle><motcle/></grmotcle></liminaire>"""


@pytest.mark.parametrize("ns", [NS, ""], ids=["namespaced", "no-namespace"])
def test_every_field_with_and_without_namespace(ns):
    record = parse(article(LIMINAIRE, ns=ns, lang="fr en"))
    assert isinstance(record, Record)
    fr, en = record.texts["fr"], record.texts["en"]
    assert fr.title == "Le titre principal"  # footnote call removed
    assert fr.subtitle == "Un sous-titre"
    assert en.title == "The main title"
    assert en.subtitle == "A subtitle"
    assert fr.abstract == "Premier alinéa. Second alinéa."  # the abstract's own heading is not text
    assert en.abstract == "English abstract."  # lang="EN-ca" -> en
    assert fr.keywords == ("un", "deux")
    assert en.keywords == ("one",)
    assert (record.doi, record.journal, record.year) == ("10.1/x", "Revue X", 2011)
    assert record.license == "Tous droits réservés © Revue X, 2011"


def test_review_title_comes_from_trefbiblio():
    body = ('<liminaire><grtitre><trefbiblio>Marie Roy, <marquage typemarq="italique">Les rivières</marquage>, '
            'Montréal, Boréal, 2019, 250 p.</trefbiblio></grtitre></liminaire>')
    record = parse(article(body, extra="").replace(b'typeart="article"', b'typeart="compterendu"'))
    assert record.kind == "compterendu"
    assert record.texts["fr"].title == "Marie Roy, Les rivières, Montréal, Boréal, 2019, 250 p."


@pytest.mark.parametrize("data, reason", [
    (b"", "empty-file"),
    (b"<article><liminaire><grtitre><titre>x</titre></grtitre>", "truncated-xml"),
    (b"<article idproprio='a'><liminaire></grtitre></liminaire></article>", "malformed-xml"),
    (b"<notice idproprio='a'/>", "not-erudit-article"),
    (b"<article><liminaire><grtitre><titre>Un titre</titre></grtitre></liminaire></article>", "no-id"),
    (article("<liminaire><grtitre><titre> </titre></grtitre></liminaire>"), "empty-title"),
])
def test_bad_files_become_rejects_with_reasons(data, reason):
    result = parse(data, "mem://bad.xml")
    assert isinstance(result, Reject)
    assert (result.reason, result.stage, result.source_uri) == (reason, "extract", "mem://bad.xml")
    assert result.detail


def test_xxe_is_refused_and_never_reads_the_local_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    data = (f'<?xml version="1.0"?><!DOCTYPE article [<!ENTITY xxe SYSTEM "file://{secret}">]>'
            f'<article idproprio="x1"><liminaire><grtitre><titre>&xxe;</titre></grtitre></liminaire></article>')
    result = parse(data.encode())
    assert isinstance(result, Reject)
    assert result.reason == "dtd-entities"
    assert "TOP-SECRET" not in result.detail


def test_billion_laughs_is_refused_quickly():
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    data = f'<?xml version="1.0"?><!DOCTYPE article [{entities}]><article idproprio="b"><liminaire><grtitre>' \
           f'<titre>&lol9;</titre></grtitre></liminaire></article>'
    result = parse(data.encode())
    assert isinstance(result, Reject)
    assert result.reason == "dtd-entities"


def test_size_bound():
    result = parse_article(RawItem(Origin("erudit", "big.xml"), article(LIMINAIRE)), max_bytes=100)
    assert isinstance(result, Reject) and result.reason == "too-large"
