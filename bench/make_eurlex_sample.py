"""Write the embedded EUR-Lex sample: three fictional acts (year 2099) in English, French and
German, as current-format Official Journal XHTML and as PDFs made with tests/pdfgen.py.

One PDF (32099R0002_de.pdf) has interleaved columns on purpose, so that a build of the
sample shows a fidelity reject. Run from the repository root: `python bench/make_eurlex_sample.py`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from html import escape
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from clirdata.extractors.eurlex_html import parse_act_html  # noqa: E402
from clirdata.schemas.legal import ActText  # noqa: E402
from tests import pdfgen  # noqa: E402

OUT = REPO / "clirdata" / "data" / "eurlex"
NBSP3 = "\u00a0" * 3
DAMAGED = {("32099R0002", "de"): pdfgen.interleaved_columns_pdf}


@dataclass(frozen=True)
class Para:
    """A paragraph of an article, with its lettered points."""

    text: str
    points: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Article:
    heading: str
    subject: str
    paragraphs: tuple[Para, ...]


@dataclass(frozen=True)
class Act:
    """One language version: what the Official Journal prints, in order."""

    title: tuple[str, ...]
    preamble: tuple[str, ...]
    recitals: tuple[str, ...]
    enacting: str
    articles: tuple[Article, ...]
    closing: tuple[str, ...]


def art(heading: str, subject: str, *paragraphs: str | Para) -> Article:
    return Article(heading, subject, tuple(p if isinstance(p, Para) else Para(p) for p in paragraphs))


EN_PREAMBLE = (
    "THE EUROPEAN PARLIAMENT AND THE COUNCIL OF THE EUROPEAN UNION,",
    "Having regard to the Treaty on the Functioning of the European Union, and in particular Article 114 thereof,",
    "Having regard to the proposal from the European Commission,",
    "Acting in accordance with the ordinary legislative procedure,",
    "Whereas:",
)
FR_PREAMBLE = (
    "LE PARLEMENT EUROPÉEN ET LE CONSEIL DE L'UNION EUROPÉENNE,",
    "vu le traité sur le fonctionnement de l'Union européenne, et notamment son article 114,",
    "vu la proposition de la Commission européenne,",
    "statuant conformément à la procédure législative ordinaire,",
    "considérant ce qui suit:",
)
DE_PREAMBLE = (
    "DAS EUROPÄISCHE PARLAMENT UND DER RAT DER EUROPÄISCHEN UNION —",
    "gestützt auf den Vertrag über die Arbeitsweise der Europäischen Union, insbesondere auf Artikel 114,",
    "auf Vorschlag der Europäischen Kommission,",
    "gemäß dem ordentlichen Gesetzgebungsverfahren,",
    "in Erwägung nachstehender Gründe:",
)
EN_DONE = ("Done at Brussels, 12 March 2099.", "For the European Parliament", "The President", "A. EXEMPLUM")
FR_DONE = ("Fait à Bruxelles, le 12 mars 2099.", "Par le Parlement européen", "Le président", "A. EXEMPLUM")
DE_DONE = ("Geschehen zu Brüssel am 12. März 2099.", "Im Namen des Europäischen Parlaments", "Der Präsident",
           "A. EXEMPLUM")
EN_IN_FORCE = ("This {act} shall enter into force on the twentieth day following that of its publication in the "
               "Official Journal of the European Union.")
FR_IN_FORCE = ("{act} entre en vigueur le vingtième jour suivant celui de sa publication au Journal officiel de "
               "l'Union européenne.")
DE_IN_FORCE = ("Diese {act} tritt am zwanzigsten Tag nach ihrer Veröffentlichung im Amtsblatt der Europäischen Union "
               "in Kraft.")

BOTTLES = {
    "en": Act(
        ("REGULATION (EU) 2099/1 OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL", "of 12 March 2099",
         "on the labelling of reusable drinking bottles", "(Text with EEA relevance)"),
        EN_PREAMBLE,
        ("Reusable drinking bottles are sold throughout the internal market, but the information given to consumers "
         "about their materials and their care differs from one Member State to another.",
         "Consumers should be able to compare bottles on the basis of clear and reliable information, in particular on "
         "the materials in contact with drinks and on the number of uses for which a bottle is designed.",
         "Divergent national labelling rules create obstacles to the free movement of goods. Common rules should "
         "therefore be laid down at Union level.",
         "Since the objective of this Regulation cannot be sufficiently achieved by the Member States, the Union may "
         "adopt measures in accordance with the principle of subsidiarity."),
        "HAVE ADOPTED THIS REGULATION:",
        (art("Article 1", "Subject matter",
             "This Regulation lays down rules on the information to be given to consumers on the label of reusable "
             "drinking bottles placed on the Union market."),
         art("Article 2", "Definitions",
             Para("For the purposes of this Regulation, the following definitions apply:",
                  (("(a)", "‘reusable drinking bottle’ means a container designed to be filled with drinks many "
                           "times;"),
                   ("(b)", "‘label’ means any written or printed information attached to the bottle or to its "
                           "packaging.")))),
         art("Article 3", "Labelling requirements",
             "The label shall state the materials of every part of the bottle that comes into contact with drinks.",
             "The label shall state the number of uses for which the bottle has been designed and tested.",
             "The information shall be given in an official language of the Member State in which the bottle is "
             "sold."),
         art("Article 4", "Market surveillance",
             "Member States shall check that bottles placed on their market comply with Article 3.",
             "Member States shall report the results of those checks to the Commission every two years."),
         art("Article 5", "Entry into force and application", EN_IN_FORCE.format(act="Regulation"),
             "It shall apply from 1 January 2100.")),
        ("This Regulation shall be binding in its entirety and directly applicable in all Member States.", *EN_DONE),
    ),
    "fr": Act(
        ("RÈGLEMENT (UE) 2099/1 DU PARLEMENT EUROPÉEN ET DU CONSEIL", "du 12 mars 2099",
         "relatif à l'étiquetage des gourdes réutilisables", "(Texte présentant de l'intérêt pour l'EEE)"),
        FR_PREAMBLE,
        ("Les gourdes réutilisables sont vendues dans tout le marché intérieur, mais les informations fournies aux "
         "consommateurs sur leurs matériaux et leur entretien diffèrent d'un État membre à l'autre.",
         "Les consommateurs devraient pouvoir comparer les gourdes sur la base d'informations claires et fiables, en "
         "particulier sur les matériaux en contact avec les boissons et sur le nombre d'utilisations pour lequel une "
         "gourde est conçue.",
         "Des règles nationales d'étiquetage divergentes créent des obstacles à la libre circulation des "
         "marchandises. Il convient donc d'établir des règles communes au niveau de l'Union.",
         "L'objectif du présent règlement ne pouvant pas être atteint de manière suffisante par les États membres, "
         "l'Union peut adopter des mesures conformément au principe de subsidiarité."),
        "ONT ADOPTÉ LE PRÉSENT RÈGLEMENT:",
        (art("Article premier", "Objet",
             "Le présent règlement établit des règles relatives aux informations à fournir aux consommateurs sur "
             "l'étiquette des gourdes réutilisables mises sur le marché de l'Union."),
         art("Article 2", "Définitions",
             Para("Aux fins du présent règlement, on entend par:",
                  (("a)", "«gourde réutilisable»: un récipient conçu pour être rempli de boissons de nombreuses fois;"),
                   ("b)", "«étiquette»: toute information écrite ou imprimée apposée sur la gourde ou sur son "
                          "emballage.")))),
         art("Article 3", "Exigences en matière d'étiquetage",
             "L'étiquette indique les matériaux de chaque partie de la gourde qui entre en contact avec les boissons.",
             "L'étiquette indique le nombre d'utilisations pour lequel la gourde a été conçue et testée.",
             "Les informations sont fournies dans une langue officielle de l'État membre dans lequel la gourde est "
             "vendue."),
         art("Article 4", "Surveillance du marché",
             "Les États membres vérifient que les gourdes mises sur leur marché sont conformes à l'article 3.",
             "Les États membres communiquent les résultats de ces vérifications à la Commission tous les deux ans."),
         art("Article 5", "Entrée en vigueur et application", FR_IN_FORCE.format(act="Le présent règlement"),
             "Il est applicable à partir du 1er janvier 2100.")),
        ("Le présent règlement est obligatoire dans tous ses éléments et directement applicable dans tout État "
         "membre.", *FR_DONE),
    ),
    "de": Act(
        ("VERORDNUNG (EU) 2099/1 DES EUROPÄISCHEN PARLAMENTS UND DES RATES", "vom 12. März 2099",
         "über die Kennzeichnung wiederverwendbarer Trinkflaschen", "(Text von Bedeutung für den EWR)"),
        DE_PREAMBLE,
        ("Wiederverwendbare Trinkflaschen werden im gesamten Binnenmarkt verkauft, doch die Informationen, die "
         "Verbraucher über ihre Materialien und ihre Pflege erhalten, unterscheiden sich von Mitgliedstaat zu "
         "Mitgliedstaat.",
         "Verbraucher sollten Flaschen anhand klarer und zuverlässiger Informationen vergleichen können, insbesondere "
         "über die Materialien, die mit Getränken in Berührung kommen, und über die Zahl der Verwendungen, für die "
         "eine Flasche ausgelegt ist.",
         "Voneinander abweichende nationale Kennzeichnungsvorschriften behindern den freien Warenverkehr. Daher "
         "sollten gemeinsame Vorschriften auf Unionsebene festgelegt werden.",
         "Da das Ziel dieser Verordnung von den Mitgliedstaaten nicht ausreichend verwirklicht werden kann, kann die "
         "Union im Einklang mit dem Subsidiaritätsprinzip tätig werden."),
        "HABEN FOLGENDE VERORDNUNG ERLASSEN:",
        (art("Artikel 1", "Gegenstand",
             "Diese Verordnung legt Vorschriften über die Informationen fest, die den Verbrauchern auf dem Etikett "
             "wiederverwendbarer Trinkflaschen, die in der Union in Verkehr gebracht werden, zu geben sind."),
         art("Artikel 2", "Begriffsbestimmungen",
             Para("Für die Zwecke dieser Verordnung bezeichnet der Ausdruck",
                  (("a)", "„wiederverwendbare Trinkflasche“ einen Behälter, der dazu bestimmt ist, viele Male mit "
                          "Getränken befüllt zu werden;"),
                   ("b)", "„Etikett“ jede schriftliche oder gedruckte Information, die an der Flasche oder an ihrer "
                          "Verpackung angebracht ist.")))),
         art("Artikel 3", "Kennzeichnungsanforderungen",
             "Das Etikett gibt die Materialien aller Teile der Flasche an, die mit Getränken in Berührung kommen.",
             "Das Etikett gibt die Zahl der Verwendungen an, für die die Flasche ausgelegt und geprüft wurde.",
             "Die Informationen werden in einer Amtssprache des Mitgliedstaats gegeben, in dem die Flasche verkauft "
             "wird."),
         art("Artikel 4", "Marktüberwachung",
             "Die Mitgliedstaaten prüfen, ob die auf ihrem Markt in Verkehr gebrachten Flaschen Artikel 3 entsprechen.",
             "Die Mitgliedstaaten teilen der Kommission die Ergebnisse dieser Prüfungen alle zwei Jahre mit."),
         art("Artikel 5", "Inkrafttreten und Geltungsbeginn", DE_IN_FORCE.format(act="Verordnung"),
             "Sie gilt ab dem 1. Januar 2100.")),
        ("Diese Verordnung ist in allen ihren Teilen verbindlich und gilt unmittelbar in jedem Mitgliedstaat.",
         *DE_DONE),
    ),
}

BEEHIVES = {
    "en": Act(
        ("REGULATION (EU) 2099/2 OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL", "of 12 March 2099",
         "on the registration of urban beehives"),
        EN_PREAMBLE,
        ("Beekeeping in towns and cities has grown rapidly, and the authorities responsible for animal health often "
         "do not know where hives are kept.",
         "A simple registration of urban beehives would allow those authorities to warn beekeepers quickly when a bee "
         "disease is detected nearby.",
         "Registration should be free of charge and should not discourage small beekeepers."),
        "HAVE ADOPTED THIS REGULATION:",
        (art("Article 1", "Subject matter and scope",
             "This Regulation establishes common rules for the registration of beehives kept in urban areas."),
         art("Article 2", "Registration",
             "Any person who keeps one or more beehives in an urban area shall register them with the competent "
             "authority of the Member State concerned.",
             "The registration shall state the location of the hives and the number of colonies.",
             "Registration shall be free of charge."),
         art("Article 3", "Disease alerts",
             "Where a notifiable bee disease is detected, the competent authority shall inform without delay every "
             "registered beekeeper whose hives are within three kilometres.",
             "The alert shall describe the disease and the measures to be taken."),
         art("Article 4", "Protection of personal data",
             "The competent authorities shall use the personal data in the register only for the purposes of this "
             "Regulation and shall not keep them longer than necessary for those purposes."),
         art("Article 5", "Entry into force", EN_IN_FORCE.format(act="Regulation"))),
        ("This Regulation shall be binding in its entirety and directly applicable in all Member States.", *EN_DONE),
    ),
    "fr": Act(
        ("RÈGLEMENT (UE) 2099/2 DU PARLEMENT EUROPÉEN ET DU CONSEIL", "du 12 mars 2099",
         "relatif à l'enregistrement des ruches urbaines"),
        FR_PREAMBLE,
        ("L'apiculture dans les villes s'est développée rapidement, et les autorités responsables de la santé animale "
         "ignorent souvent où se trouvent les ruches.",
         "Un enregistrement simple des ruches urbaines permettrait à ces autorités d'avertir rapidement les "
         "apiculteurs lorsqu'une maladie des abeilles est détectée à proximité.",
         "L'enregistrement devrait être gratuit et ne devrait pas décourager les petits apiculteurs."),
        "ONT ADOPTÉ LE PRÉSENT RÈGLEMENT:",
        (art("Article premier", "Objet et champ d'application",
             "Le présent règlement établit des règles communes pour l'enregistrement des ruches détenues en zone "
             "urbaine."),
         art("Article 2", "Enregistrement",
             "Toute personne qui détient une ou plusieurs ruches en zone urbaine les fait enregistrer auprès de "
             "l'autorité compétente de l'État membre concerné.",
             "L'enregistrement indique l'emplacement des ruches et le nombre de colonies.",
             "L'enregistrement est gratuit."),
         art("Article 3", "Alertes sanitaires",
             "Lorsqu'une maladie des abeilles à déclaration obligatoire est détectée, l'autorité compétente informe "
             "sans délai tout apiculteur enregistré dont les ruches se trouvent dans un rayon de trois kilomètres.",
             "L'alerte décrit la maladie et les mesures à prendre."),
         art("Article 4", "Protection des données à caractère personnel",
             "Les autorités compétentes n'utilisent les données à caractère personnel figurant dans le registre "
             "qu'aux fins du présent règlement et ne les conservent pas plus longtemps que nécessaire au regard de "
             "ces fins."),
         art("Article 5", "Entrée en vigueur", FR_IN_FORCE.format(act="Le présent règlement"))),
        ("Le présent règlement est obligatoire dans tous ses éléments et directement applicable dans tout État "
         "membre.", *FR_DONE),
    ),
    "de": Act(
        ("VERORDNUNG (EU) 2099/2 DES EUROPÄISCHEN PARLAMENTS UND DES RATES", "vom 12. März 2099",
         "über die Registrierung städtischer Bienenstöcke"),
        DE_PREAMBLE,
        ("Die Imkerei in Städten hat rasch zugenommen, und die für Tiergesundheit zuständigen Behörden wissen oft "
         "nicht, wo Bienenstöcke gehalten werden.",
         "Eine einfache Registrierung städtischer Bienenstöcke würde es diesen Behörden ermöglichen, Imker rasch zu "
         "warnen, wenn in der Nähe eine Bienenkrankheit festgestellt wird.",
         "Die Registrierung sollte gebührenfrei sein und kleine Imker nicht abschrecken."),
        "HABEN FOLGENDE VERORDNUNG ERLASSEN:",
        (art("Artikel 1", "Gegenstand und Geltungsbereich",
             "Mit dieser Verordnung werden gemeinsame Vorschriften für die Registrierung von Bienenstöcken "
             "festgelegt, die in städtischen Gebieten gehalten werden."),
         art("Artikel 2", "Registrierung",
             "Wer in einem städtischen Gebiet einen oder mehrere Bienenstöcke hält, lässt diese bei der zuständigen "
             "Behörde des betreffenden Mitgliedstaats registrieren.",
             "Bei der Registrierung werden der Standort der Bienenstöcke und die Zahl der Völker angegeben.",
             "Die Registrierung ist gebührenfrei."),
         art("Artikel 3", "Seuchenwarnungen",
             "Wird eine meldepflichtige Bienenkrankheit festgestellt, so unterrichtet die zuständige Behörde "
             "unverzüglich jeden registrierten Imker, dessen Bienenstöcke sich im Umkreis von drei Kilometern "
             "befinden.",
             "Die Warnung beschreibt die Krankheit und die zu ergreifenden Maßnahmen."),
         art("Artikel 4", "Schutz personenbezogener Daten",
             "Die zuständigen Behörden verwenden die personenbezogenen Daten im Register nur für die Zwecke dieser "
             "Verordnung und speichern sie nicht länger, als es für diese Zwecke erforderlich ist."),
         art("Artikel 5", "Inkrafttreten", DE_IN_FORCE.format(act="Verordnung"))),
        ("Diese Verordnung ist in allen ihren Teilen verbindlich und gilt unmittelbar in jedem Mitgliedstaat.",
         *DE_DONE),
    ),
}

RIVERS = {
    "en": Act(
        ("DIRECTIVE (EU) 2099/3 OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL", "of 12 March 2099",
         "on public access to river water quality data"),
        EN_PREAMBLE,
        ("Citizens are increasingly interested in the quality of the water in rivers where they swim, fish or draw "
         "water.",
         "Member States already monitor river water quality, but the results are often published late and in "
         "formats that are difficult to reuse.",
         "Publishing monitoring results as open data would improve public information and support research.",
         "This Directive respects the fundamental rights and observes the principles recognised in particular by the "
         "Charter of Fundamental Rights of the European Union."),
        "HAVE ADOPTED THIS DIRECTIVE:",
        (art("Article 1", "Subject matter",
             "This Directive requires Member States to give the public access to the results of river water quality "
             "monitoring."),
         art("Article 2", "Publication of monitoring results",
             "Member States shall publish the results of each measurement of river water quality within one month of "
             "the measurement.",
             "The results shall be published free of charge, in a machine-readable format, under an open licence.",
             "Each result shall state the place, the date and the method of measurement."),
         art("Article 3", "Transposition",
             "Member States shall bring into force the laws, regulations and administrative provisions necessary to "
             "comply with this Directive by 31 December 2100.",
             "Member States shall communicate to the Commission the text of those provisions."),
         art("Article 4", "Entry into force", EN_IN_FORCE.format(act="Directive")),
         art("Article 5", "Addressees", "This Directive is addressed to the Member States.")),
        EN_DONE,
    ),
    "fr": Act(
        ("DIRECTIVE (UE) 2099/3 DU PARLEMENT EUROPÉEN ET DU CONSEIL", "du 12 mars 2099",
         "relative à l'accès du public aux données sur la qualité de l'eau des rivières"),
        FR_PREAMBLE,
        ("Les citoyens s'intéressent de plus en plus à la qualité de l'eau des rivières dans lesquelles ils se "
         "baignent, pêchent ou puisent de l'eau.",
         "Les États membres surveillent déjà la qualité de l'eau des rivières, mais les résultats sont souvent publiés "
         "tardivement et dans des formats difficiles à réutiliser.",
         "La publication des résultats de la surveillance sous forme de données ouvertes améliorerait l'information "
         "du public et soutiendrait la recherche.",
         "La présente directive respecte les droits fondamentaux et observe les principes reconnus notamment par la "
         "charte des droits fondamentaux de l'Union européenne."),
        "ONT ADOPTÉ LA PRÉSENTE DIRECTIVE:",
        (art("Article premier", "Objet",
             "La présente directive impose aux États membres de donner au public accès aux résultats de la "
             "surveillance de la qualité de l'eau des rivières."),
         art("Article 2", "Publication des résultats de la surveillance",
             "Les États membres publient les résultats de chaque mesure de la qualité de l'eau des rivières dans un "
             "délai d'un mois à compter de la mesure.",
             "Les résultats sont publiés gratuitement, dans un format lisible par machine, sous une licence ouverte.",
             "Chaque résultat indique le lieu, la date et la méthode de mesure."),
         art("Article 3", "Transposition",
             "Les États membres mettent en vigueur les dispositions législatives, réglementaires et administratives "
             "nécessaires pour se conformer à la présente directive au plus tard le 31 décembre 2100.",
             "Les États membres communiquent à la Commission le texte de ces dispositions."),
         art("Article 4", "Entrée en vigueur", FR_IN_FORCE.format(act="La présente directive")),
         art("Article 5", "Destinataires", "Les États membres sont destinataires de la présente directive.")),
        FR_DONE,
    ),
    "de": Act(
        ("RICHTLINIE (EU) 2099/3 DES EUROPÄISCHEN PARLAMENTS UND DES RATES", "vom 12. März 2099",
         "über den Zugang der Öffentlichkeit zu Daten über die Wasserqualität von Flüssen"),
        DE_PREAMBLE,
        ("Die Bürgerinnen und Bürger interessieren sich zunehmend für die Qualität des Wassers in Flüssen, in denen "
         "sie baden, fischen oder Wasser entnehmen.",
         "Die Mitgliedstaaten überwachen die Wasserqualität von Flüssen bereits, doch die Ergebnisse werden oft spät "
         "und in schwer weiterverwendbaren Formaten veröffentlicht.",
         "Die Veröffentlichung der Überwachungsergebnisse als offene Daten würde die Information der Öffentlichkeit "
         "verbessern und die Forschung unterstützen.",
         "Diese Richtlinie steht im Einklang mit den Grundrechten und Grundsätzen, die insbesondere mit der Charta "
         "der Grundrechte der Europäischen Union anerkannt wurden."),
        "HABEN FOLGENDE RICHTLINIE ERLASSEN:",
        (art("Artikel 1", "Gegenstand",
             "Diese Richtlinie verpflichtet die Mitgliedstaaten, der Öffentlichkeit Zugang zu den Ergebnissen der "
             "Überwachung der Wasserqualität von Flüssen zu gewähren."),
         art("Artikel 2", "Veröffentlichung der Überwachungsergebnisse",
             "Die Mitgliedstaaten veröffentlichen die Ergebnisse jeder Messung der Wasserqualität von Flüssen "
             "innerhalb eines Monats nach der Messung.",
             "Die Ergebnisse werden kostenlos, in einem maschinenlesbaren Format und unter einer offenen Lizenz "
             "veröffentlicht.",
             "Jedes Ergebnis gibt den Ort, das Datum und die Messmethode an."),
         art("Artikel 3", "Umsetzung",
             "Die Mitgliedstaaten setzen die Rechts- und Verwaltungsvorschriften in Kraft, die erforderlich sind, um "
             "dieser Richtlinie bis zum 31. Dezember 2100 nachzukommen.",
             "Die Mitgliedstaaten teilen der Kommission den Wortlaut dieser Vorschriften mit."),
         art("Artikel 4", "Inkrafttreten", DE_IN_FORCE.format(act="Richtlinie")),
         art("Artikel 5", "Adressaten", "Diese Richtlinie ist an die Mitgliedstaaten gerichtet.")),
        DE_DONE,
    ),
}

ACTS = {"32099R0001": BOTTLES, "32099R0002": BEEHIVES, "32099L0003": RIVERS}
HEADER = {"en": ("Official Journal of the European Union", "12.3.2099"),
          "fr": ("Journal officiel de l'Union européenne", "12.3.2099"),
          "de": ("Amtsblatt der Europäischen Union", "12.3.2099")}


def p(text: str, css: str = "oj-normal") -> str:
    return f'<p class="{css}">{escape(text, quote=False)}</p>'


def points_table(label: str, text: str) -> str:
    return ('<table width="100%" border="0" cellspacing="0" cellpadding="0"><col width="4%"/><col width="96%"/>'
            f'<tbody><tr><td valign="top">{p(label)}</td><td valign="top">{p(text)}</td></tr></tbody></table>')


def paragraph_html(article_no: int, index: int, para: Para, numbered: bool) -> str:
    """One paragraph: in a ``NNN.MMM`` div with its number when the article has several."""
    body = p(f"{index}.{NBSP3}{para.text}" if numbered else para.text)
    body += "".join(points_table(label, text) for label, text in para.points)
    return f'<div id="{article_no:03d}.{index:03d}">{body}</div>' if numbered else body


def article_html(number: int, article: Article) -> str:
    numbered = len(article.paragraphs) > 1
    paragraphs = "".join(paragraph_html(number, i, para, numbered) for i, para in enumerate(article.paragraphs, 1))
    return (f'<div class="eli-subdivision" id="art_{number}">{p(article.heading, "oj-ti-art")}'
            f'<div class="eli-title" id="art_{number}.tit_1">{p(article.subject, "oj-sti-art")}</div>'
            f"{paragraphs}</div>")


def recital_html(number: int, text: str) -> str:
    return f'<div class="eli-subdivision" id="rct_{number}">{points_table(f"({number})", text)}</div>'


def xhtml(celex: str, lang: str, act: Act) -> bytes:
    """The act as the Official Journal's current XHTML (CONVEX layout and ELI ids)."""
    journal, date = HEADER[lang]
    preamble = "".join(p(line) if i in (0, len(act.preamble) - 1) else
                       f'<div class="eli-subdivision" id="cit_{i}">{p(line)}</div>'
                       for i, line in enumerate(act.preamble))
    page = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML//EN" "xhtml-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<meta http-equiv="content-type" content="text/html; charset=utf-8"/>
<title>{celex} {lang.upper()} (fictional sample)</title></head>
<body>
<table width="100%" border="0" cellspacing="0" cellpadding="0"><tbody><tr>
<td>{p(date, "oj-hd-date")}</td><td>{p(lang.upper(), "oj-hd-lg")}</td><td>{p(journal, "oj-hd-ti")}</td>
<td>{p("L 999/" + celex[-1], "oj-hd-oj")}</td></tr></tbody></table>
<hr class="oj-separator"/>
<div class="eli-container">
<div class="eli-main-title" id="tit_1">{"".join(p(line, "oj-doc-ti") for line in act.title)}</div>
<div class="eli-subdivision" id="pbl_1">
{preamble}
{"".join(recital_html(i, text) for i, text in enumerate(act.recitals, 1))}
{p(act.enacting)}
</div>
<div class="eli-subdivision" id="enc_1">
{"".join(article_html(i, article) for i, article in enumerate(act.articles, 1))}
</div>
<div class="eli-subdivision" id="fnp_1"><div class="oj-final">
{"".join(p(line, "oj-signatory" if i else "oj-normal") for i, line in enumerate(act.closing))}
</div></div>
</div>
<hr class="oj-doc-end"/>
</body></html>
"""
    return page.encode("utf-8")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for celex, versions in ACTS.items():
        for lang, act in versions.items():
            raw = xhtml(celex, lang, act)
            parsed = parse_act_html(raw, celex, lang, f"{celex}_{lang}.xhtml")
            assert isinstance(parsed, ActText), parsed
            build = DAMAGED.get((celex, lang), pdfgen.faithful_pdf)
            (OUT / f"{celex}_{lang}.xhtml").write_bytes(raw)
            (OUT / f"{celex}_{lang}.pdf").write_bytes(build(parsed))
            print(f"{celex}_{lang}: {len(parsed.units)} units, PDF by {build.__name__}")


if __name__ == "__main__":
    main()
