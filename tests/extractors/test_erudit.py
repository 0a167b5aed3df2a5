"""Érudit Article XML: real articles from ../shared, hand-written edge cases, hostile files."""

from __future__ import annotations

import copy
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from clirdata.extractors.erudit import parse_article
from clirdata.schemas import LangText, Origin, RawItem, Record, Reject
from tests.conftest import SHARED_FIXTURES, shared_fixture

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


# --- Text as a reader sees it: inner spaces kept, footnote calls dropped, white space folded once ---------

XLINK = 'xmlns:xlink="http://www.w3.org/1999/xlink"'
# The inline elements of Érudit Article 3.0.0 found inside titles and abstracts (and their start tags).
INLINE = {
    "marquage": '<marquage typemarq="italique">',
    "exposant": "<exposant>",
    "indice": "<indice>",
    "liensimple": f'<liensimple {XLINK} xlink:href="https://example.org" xlink:type="simple">',
    "citation": "<citation>",
    "acronyme": "<acronyme>",
    "nomorg": "<nomorg>",
    "lien": "<lien>",
}
# (inside the field, with <E> and </E> standing for the element's tags, what a reader sees)
SPACINGS = [
    ("Despite its title,<E> Testament</E> by Philippe", "Despite its title, Testament by Philippe"),
    ("<E>Sir Thomas More </E>and Montesinos", "Sir Thomas More and Montesinos"),
    ("M<E>e </E>Gérald-A. Beaudoin", "Me Gérald-A. Beaudoin"),
    ("M<E>e</E> Gérald-A. Beaudoin", "Me Gérald-A. Beaudoin"),
    ("au XIX<E>e</E> siècle, H<E>2</E>O", "au XIXe siècle, H2O"),  # no space is invented either
    ("un <E> mot </E> seul", "un mot seul"),
]


def with_element(template: str, name: str) -> str:
    return template.replace("<E>", INLINE[name]).replace("</E>", f"</{name}>")


@pytest.mark.parametrize("name", sorted(INLINE))
@pytest.mark.parametrize("template, expected", SPACINGS, ids=[f"spacing{i}" for i in range(len(SPACINGS))])
def test_inline_elements_keep_the_spaces_inside_their_edges(name, template, expected):
    field = with_element(template, name)
    body = (f'<liminaire><grtitre><titre>{field}</titre><titreparal lang="en">{field}</titreparal></grtitre>'
            f'<resume lang="fr"><alinea>{field}</alinea></resume>'
            f'<grmotcle lang="fr"><motcle>{field}</motcle></grmotcle></liminaire>')
    record = parse(article(body))
    assert isinstance(record, Record), record
    fr = record.texts["fr"]
    assert (fr.title, fr.abstract, fr.keywords, record.texts["en"].title) == (expected, expected, (expected,), expected)


@pytest.mark.parametrize("field, expected", [
    ('de stage<renvoi id="re1no1" idref="no1" typeref="note">1</renvoi> a été menée', "de stage a été menée"),
    ('de stage <renvoi id="re1" idref="no1" typeref="note">1</renvoi> a été menée', "de stage a été menée"),
    ('de stage<renvoi id="re1" idref="no1" typeref="note">12</renvoi>, puis', "de stage, puis"),
    ('<marquage typemarq="gras">Titre<renvoi id="re1" idref="no1">*</renvoi></marquage> suite', "Titre suite"),
])
def test_footnote_calls_are_dropped_without_gluing(field, expected):
    record = parse(article(f"<liminaire><grtitre><titre>{field}</titre></grtitre></liminaire>"))
    assert record.texts["fr"].title == expected


def test_nested_inline_markup_as_in_real_bibliographies():
    # The shape of 1076454ar's references: an exponent inside italics cut in three.
    field = ('Hermon, <marquage typemarq="italique">Théâtres du XXI</marquage><exposant><marquage '
             'typemarq="italique">e</marquage></exposant><marquage typemarq="italique"> siècle</marquage>')
    record = parse(article(f"<liminaire><grtitre><titre>{field}</titre></grtitre></liminaire>"))
    assert record.texts["fr"].title == "Hermon, Théâtres du XXIe siècle"


@pytest.mark.parametrize("name, expected", [
    ("<nompers><prenom>Marie</prenom><nomfamille>Roy</nomfamille></nompers>", "Marie Roy"),
    ("<nompers>\n  <prenom>Tom</prenom>\n\n  <nomfamille>Duggett</nomfamille>\n</nompers>", "Tom Duggett"),
    ("<nompers><prefixe>Dr</prefixe><prenom> Jennifer</prenom><autreprenom>J.</autreprenom>"
     "<nomfamille>Connor</nomfamille></nompers>", "Dr Jennifer J. Connor"),
])
def test_the_parts_of_a_name_are_words_of_their_own(name, expected):
    body = (f'<liminaire><grtitre><trefbiblio>{name}, <marquage typemarq="italique">Les rivières</marquage>, '
            f"Boréal (<nompers><prenom>A.</prenom><nomfamille>B</nomfamille></nompers>)</trefbiblio></grtitre></liminaire>")
    record = parse(article(body))
    assert record.texts["fr"].title == f"{expected}, Les rivières, Boréal (A. B)"


def test_abstract_paragraphs_are_kept_apart_and_its_heading_is_not_text():
    body = ('<liminaire><grtitre><titre>T</titre></grtitre><resume lang="fr"><titre>Résumé</titre>'
            "<alinea>Premier alinéa.</alinea><alinea>Second<marquage> alinéa</marquage>.</alinea>"
            "<bloccitation><alinea>Une citation.</alinea></bloccitation></resume></liminaire>")
    assert parse(article(body)).texts["fr"].abstract == "Premier alinéa. Second alinéa. Une citation."


def test_licence_statement_names_are_spaced():
    body = ("<admin><droitsauteur>Droits d'auteur © <nompers><prenom>Claire</prenom><nomfamille>Peltier"
            "</nomfamille></nompers>, 2017</droitsauteur></admin>"
            "<liminaire><grtitre><titre>T</titre></grtitre></liminaire>")
    assert parse(article(body)).license == "Droits d'auteur © Claire Peltier, 2017"


# --- The real articles, field by field (worked out by reading their XML) -----------------------------

REAL_TEXTS = {
    "1055411ar": {
        "en": LangText(
            title='Publications Exchanges in Distribution',
            subtitle='Retracing the Path of a Book Through a Centralized Medical Exchange',
            abstract='Expanding the concept of ownership to include distributorship allows consideration of a book route that diverges from circuits often associated with book culture studies. In particular, as this article outlines, organized publications exchanges—which temporarily own and distribute—present opportunities for understanding the spread of books from a different perspective. To demonstrate the research potential of exchanges, the article retraces the path of a single copy of a book over the twentieth century through a continental medical publications exchange, from its donation by the author to a county medical library outside Philadelphia, through its shipment to Toronto where it was housed in two medical libraries, and its brief return to Philadelphia in a personal collection in 2000. As the discussion suggests, this book, The Woman’s Medical College of Pennsylvania, its publication and its subsequent transnational peregrinations, spotlight the field of medicine with respect to contemporaneous trends in medical education, publishing, and library movements.',
        ),
        "fr": LangText(
            abstract='Élargir le concept de propriété pour y inclure la diffusion permet de prendre en compte le parcours d’un livre en dehors des circuits que l’on associe souvent aux études en histoire du livre. Le présent article s’intéresse à la dissémination des livres selon une perspective assez peu courante, soit le rôle de réseaux (à la fois détenteurs provisoires et distributeurs) d’échanges de publications. Ces échanges ouvrent des avenues pour la recherche, comme en témoigne le parcours, au long du 20e siècle, d’un exemplaire d’un livre soumis à un échange continental de publications médicales. Amorcé par le don de l’ouvrage par son auteur à une bibliothèque de médecine d’un comté de la région de Philadelphie, le parcours se poursuit à Toronto, où le livre est expédié puis conservé dans deux bibliothèques de médecine, avant de retourner brièvement à Philadelphie, pour figurer cette fois dans la collection d’un particulier. Il ressort que l’ouvrage en question, The Woman’s Medical College of Pennsylvania, sa publication, puis ses pérégrinations transnationales, jettent un éclairage sur le domaine de la médecine en ce qu’ils révèlent diverses tendances ayant marqué au fil des ans l’enseignement de la médecine, l’édition médicale et les échanges entre bibliothèques disciplinaires.',
        ),
    },
    "1060048ar": {
        "fr": LangText(
            title='Les enjeux éthiques de la formation clinique en ergothérapie',
            abstract='Les stages occupent une place centrale dans la formation des futures ergothérapeutes, mais les enjeux éthiques de la formation clinique en ergothérapie sont peu documentés. Une étude auprès de 23 ergothérapeutes ayant de l’expérience comme superviseur de stage a été menée afin d’accroître les données sur cet aspect de la profession. Il ressort des entretiens qualitatifs individuels semi-dirigés réalisés avec les participantes que ceux-ci vivent tous des enjeux éthiques comme formateurs cliniques. L’analyse des verbatims fait émerger des enjeux correspondant à six thèmes, soit : 1) les conflits de loyautés multiples; 2) les étudiantes en difficulté ou en situation d’échec; 3) les tensions entre quatre postures éthiques; 4) l’enseignement de l’idéal, du possible ou de rien du tout; 5) les difficultés à soutenir les compétences éthiques et culturelles; 6) les iniquités reliées à la formation clinique. L’étude révèle notamment des enjeux inédits et préoccupants. Puisque certains d’entre eux peuvent occasionner de la souffrance chez la superviseure et la stagiaire, une réflexion critique sur ce rôle de gardienne de la profession s’impose.',
            keywords=('Stage', 'supervision', 'éducation', 'éthique', 'réadaptation'),
        ),
    },
    "1070621ar": {
        "en": LangText(
            title='“Et in Utopia ego”: Sir Thomas More and “Montesinos,” a Southey Mystery “Solved”',
            abstract='This essay sets out to solve the strange case of the “disappearance” of the Poet Laureate, Robert Southey, in his own 1829 book of “imaginary conversations” or Colloquies with the ghost of Sir Thomas More. There is no “Southey” in the dialogue, only a figure named “Montesinos.” But since the pessimistic ghost of More evidently speaks for Southey—as readers from the Westminster Review in summer 1829 onwards have noticed—then the dialogue is strangely one-sided. If More is Southey, then “who,” as Mark Storey’s biography asks, “is Montesinos?” This essay seeks to answer Storey’s biographical question, and to put it into the wider context of Southey’s ideas about national and writerly identity, and his Romantic poetics of history. The first part explores “Montesinos” as a byword for Southey’s literary utopianism. The second part then attempts the resurrection of “Montesinos,” tracing this figure in the detail of Southey’s “Hispanist” reading and in the workings of his historical imagination. I conclude with reflections on the implications of Southey’s ‘hieroglyphic’ mode of life-writing for historicist approaches to Romantic studies today, including the ‘new counterfactualism’ and the ‘speculative revivals’ of ‘Romantic biography’.',
        ),
    },
    "1070671ar": {
        "en": LangText(
            title='ȻENTOL TŦE TEṈEW̱ (together with the land): Part 1: Indigenous land- and water-based pedagogies',
            abstract='This article presents reflections from an Indigenous land- and water-based institute held from 2019 to 2020 for Indigenous graduate students. The institute was coordinated by faculty in the School of Child and Youth Care at the University of Victoria and facilitated by knowledge keepers in local W̱SÁNEĆ and T’Sou-ke nation territories. The year-long institute provided land-based learning, sharing circles, online communication, and editorial mentoring in response to a lack of Indigenous pedagogies and the underrepresentation of Indigenous graduate students in frontline postsecondary programs. While Indigenous faculty and students continue to face significant, institutionally entrenched barriers to postsecondary education, we also face growing demands for Indigenous-focused learning, research, and practice. In this article, Part 1 of a two-paper series on Indigenous land- and water-based learning and practice, we draw on a storytelling approach to share our individual and collective reflections on the benefits and limitations of Indigenous land- and water-based pedagogies. Our stories and analysis amplify our integration of Indigenous ways of being and learning, with a focus on local knowledges and more ethical land and community engagements as integral to Indigenous postsecondary education.',
            keywords=('Indigenous pedagogies', 'decolonization', 'land-based education', 'Indigenous students', 'colonialism', 'postsecondary', 'child and youth care', 'youth work'),
        ),
    },
    "1076454ar": {
        "en": LangText(
            abstract='Nous voir nous (Cinq visages pour Camille Brunelle), by Quebec author Guillaume Corbeil, transposes the world of social networks to the theatre. This article discusses the textual and scenic modalities through which the performance of the self on these digital platforms is expressed in the play, this performance being actualized in the permanent tension between over-representation and abrasive dissolution.',
        ),
        "fr": LangText(
            title='Apparaître-disparaître dans l’hyperspectacle. Nous voir nous (Cinq visages pour Camille Brunelle)',
            abstract='Nous voir nous (Cinq visages pour Camille Brunelle), de l’auteur québécois Guillaume Corbeil, transpose au théâtre l’univers des réseaux sociaux. Cet article aborde les modalités textuelles et scéniques à travers lesquelles s’exprime, dans la pièce, la performance de soi sur les plateformes numériques, cette performance s’actualisant dans la tension, permanente, entre sur-représentation et dissolution abrasive.',
        ),
    },
}


@pytest.mark.parametrize("name", sorted(REAL_TEXTS))
def test_real_articles_field_by_field(name):
    record = real(f"{name}.xml")
    assert record.texts == REAL_TEXTS[name]
    assert record.repairs == ()


@pytest.mark.parametrize("name, main_lang, doi, journal, year, license", [
    ("1055411ar", "en", "10.7202/1055411ar", "Mémoires du livre", 2018, "CC BY-NC-ND 4.0"),
    ("1060048ar", "fr", "10.7202/1060048ar", "Approches inductives", 2019, "CC BY-SA 3.0"),
    ("1070621ar", "en", "10.7202/1070621ar", "Romanticism on the Net", 2017, "CC BY-NC-SA 4.0"),
    ("1070671ar", "en", "", "International Journal of Child, Youth and Family Studies", 2020, "CC BY-NC 4.0"),
    ("1076454ar", "fr", "10.7202/1076454ar", "Captures", 2020, "CC BY-NC-ND 4.0"),
])
def test_real_articles_admin_fields(name, main_lang, doi, journal, year, license):
    record = real(f"{name}.xml")
    assert (record.main_lang, record.doi, record.journal, record.year, record.license) == (
        main_lang, doi, journal, year, license)


def test_no_real_article_needs_a_repair():
    for path in sorted(shared_fixture("erudit/article").glob("*.xml")):
        assert real(path.name).repairs == (), path.name


# --- Which language the titre is in ----------------------------------------------------------------

@pytest.mark.parametrize("lang, grtitre, expected", [
    # lang="fr en", an English titre and a French titreparal: the titre is English.
    ("fr en", '<titre>The title</titre><sstitre>The subtitle</sstitre><titreparal lang="fr">Le titre</titreparal>'
              '<sstitreparal lang="fr">Le sous-titre</sstitreparal>',
     {"en": ("The title", "The subtitle"), "fr": ("Le titre", "Le sous-titre")}),
    ("fr en", '<titre>Le titre</titre><titreparal lang="en">The title</titreparal>',
     {"fr": ("Le titre", ""), "en": ("The title", "")}),
    ("fr", '<titre>Le titre</titre><titreparal lang="en">The title</titreparal>',
     {"fr": ("Le titre", ""), "en": ("The title", "")}),
    # The first listed language that no titreparal claims.
    ("fr en es", '<titre>The title</titre><titreparal lang="fr">Le titre</titreparal>'
                 '<titreparal lang="es">El título</titreparal>',
     {"en": ("The title", ""), "fr": ("Le titre", ""), "es": ("El título", "")}),
    ("en fr", '<titre>The title</titre><sstitre>Sub</sstitre>',
     {"en": ("The title", "Sub")}),
    # Every listed language claimed: the titre keeps the main language, the first value of a field wins.
    ("fr", '<titre>Le titre</titre><titreparal lang="fr">Un autre titre</titreparal>', {"fr": ("Le titre", "")}),
])
def test_titre_belongs_to_the_first_language_no_titreparal_claims(lang, grtitre, expected):
    record = parse(article(f"<liminaire><grtitre>{grtitre}</grtitre></liminaire>", lang=lang))
    assert {code: (text.title, text.subtitle) for code, text in record.texts.items()} == expected
    assert record.main_lang == lang.split()[0]


# --- Mojibake ------------------------------------------------------------------------------------------

def declared(body: str, encoding: str) -> bytes:
    return (f'<?xml version="1.0" encoding="{encoding}"?><article {NS} idproprio="1000001ar" lang="fr en">'
            f"{body}</article>").encode()


MOJIBAKE_BODY = ('<liminaire><grtitre><titre>Les étudiants à l’école</titre></grtitre>'
                 '<grmotcle lang="fr"><motcle>éducation</motcle></grmotcle></liminaire>')


@pytest.mark.parametrize("encoding", ["ISO-8859-1", "windows-1252"])
def test_utf8_bytes_declared_latin1_are_read_right_and_counted(encoding):
    record = parse(declared(MOJIBAKE_BODY, encoding))
    assert record.texts["fr"].title == "Les étudiants à l’école"
    assert record.texts["fr"].keywords == ("éducation",)
    assert record.repairs == ("mojibake:encoding",)


def test_honest_latin1_is_not_repaired():
    data = declared(MOJIBAKE_BODY.replace("’", "'"), "ISO-8859-1").decode("utf-8").encode("latin-1")
    record = parse(data)
    assert record.texts["fr"].title == "Les étudiants à l'école"
    assert record.repairs == ()


def test_mojibake_inside_utf8_text_is_repaired_field_by_field():
    body = ('<admin><revue><titrerev>Revue dâ€™Ã©tudes</titrerev></revue></admin>'
            '<liminaire><grtitre><titre>Les Ã©tudiants</titre><titreparal lang="en">Students</titreparal>'
            '</grtitre><resume lang="en"><alinea>Plain English.</alinea></resume>'
            '<grmotcle lang="fr"><motcle>Ã©ducation</motcle><motcle>forêt</motcle></grmotcle></liminaire>')
    record = parse(article(body))
    assert record.texts["fr"].title == "Les étudiants"
    assert record.texts["fr"].keywords == ("éducation", "forêt")
    assert record.journal == "Revue d’études"
    assert record.texts["en"] == LangText(title="Students", abstract="Plain English.")
    assert record.repairs == ("mojibake:title:fr", "mojibake:keywords:fr", "mojibake:journal")


# --- Fuzz: any bytes, and the real articles mangled, end as a Record or a Reject -----------------------

REAL_DIR = SHARED_FIXTURES / "erudit" / "article"
REAL_FILES = {path.name: path.read_bytes() for path in sorted(REAL_DIR.glob("*.xml"))} if REAL_DIR.exists() else {}
EXTRACT_REASONS = {"empty-file", "too-large", "dtd-entities", "truncated-xml", "malformed-xml",
                   "not-erudit-article", "no-id", "empty-title"}
INSERTS = [b"<marquage>", b"</titre>", b"<renvoi>1</renvoi>", b'<!ENTITY x "boom">', b"&x;", b"&amp;", b"&#0;",
           b"<![CDATA[", b"]]>", b"<?pi x?>", b"<!--", b"-->", b"\xc3", b"\xff\xfe", b"\x00", b'lang="zz"',
           b"<titreparal lang='en'>", b"<article>", b'<?xml version="1.0" encoding="ISO-8859-1"?>']


def assert_record_or_reject(result) -> None:
    if isinstance(result, Reject):
        assert result.stage == "extract" and result.reason in EXTRACT_REASONS and result.detail
        return
    assert isinstance(result, Record) and result.source_id
    assert any(text.title for text in result.texts.values())
    for text in result.texts.values():
        for value in (text.title, text.subtitle, text.abstract, *text.keywords):
            assert value == value.strip() and "  " not in value


@pytest.mark.timeout(120)
@given(st.binary(max_size=2000))
def test_any_bytes_give_a_record_or_a_reject(data):
    assert_record_or_reject(parse(data))


@pytest.mark.timeout(120)
@given(st.binary(max_size=300).map(lambda tail: article("<liminaire><grtitre><titre>T</titre>").rstrip(b"</article>")
                                   + tail))
def test_an_article_with_any_tail_gives_a_record_or_a_reject(data):
    assert_record_or_reject(parse(data))


def duplicate_element(data: bytes, index: int) -> bytes:
    """The file with one of its elements written twice (or unchanged when it does not parse)."""
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return data
    elements = [element for element in root.iter() if isinstance(element.tag, str)][1:]
    if elements:
        element = elements[index % len(elements)]
        element.addnext(copy.deepcopy(element))
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


@st.composite
def mangled_real_file(draw) -> bytes:
    data = REAL_FILES[draw(st.sampled_from(sorted(REAL_FILES)))]
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "duplicate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data = data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1:]
        elif kind == "truncate":
            data = data[:at]
        elif kind == "insert":
            data = data[:at] + draw(st.sampled_from(INSERTS)) + data[at:]
        else:
            data = duplicate_element(data, draw(st.integers(0, 10_000)))
    return data


@pytest.mark.skipif(not REAL_FILES, reason=f"real fixtures not available: {REAL_DIR}")
@pytest.mark.timeout(300)
@settings(max_examples=max(10, settings().max_examples // 2))
@given(mangled_real_file())
def test_mangled_real_articles_give_a_record_or_a_reject(data):
    start = time.perf_counter()
    assert_record_or_reject(parse(data))
    assert time.perf_counter() - start < 5  # ~150 KB: milliseconds; anything slow is a hang in the making
