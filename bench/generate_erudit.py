#!/usr/bin/env python3
"""Write N synthetic, valid Érudit Article XML files for benchmarks.

    python bench/generate_erudit.py OUTDIR --n 10000 --seed 0

Each file `b{index:07d}ar.xml` is a French article with an English parallel title
(`titreparal`), a French and an English abstract of about 100 words and five keywords in each
language. Text is assembled from small fixed lists of sentence templates and words, so it is
grammatical but meaningless. Keywords are drawn (with a skewed weighting) from per-discipline
pools of 40 French/English pairs, so keyword combinations recur across files as they do in a
real collection. The output depends only on --n and --seed. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from xml.sax.saxutils import escape

DISCIPLINES = {
    "education": {
        "journal": ("rqpu", "Revue québécoise de pédagogie universitaire"),
        "keywords": [
            ("apprentissage en ligne", "online learning"), ("enseignement supérieur", "higher education"),
            ("évaluation formative", "formative assessment"), ("formation des enseignants", "teacher training"),
            ("réussite scolaire", "academic achievement"), ("pédagogie active", "active learning"),
            ("motivation scolaire", "academic motivation"), ("inclusion scolaire", "inclusive education"),
            ("technologies éducatives", "educational technology"), ("persévérance étudiante", "student persistence"),
            ("classe inversée", "flipped classroom"), ("rétroaction", "feedback"),
            ("littératie", "literacy"), ("numératie", "numeracy"),
            ("éducation préscolaire", "early childhood education"), ("école primaire", "primary school"),
            ("école secondaire", "secondary school"), ("décrochage scolaire", "school dropout"),
            ("gestion de classe", "classroom management"), ("insertion professionnelle", "professional induction"),
            ("compétences numériques", "digital skills"), ("formation à distance", "distance education"),
            ("apprentissage collaboratif", "collaborative learning"), ("éducation des adultes", "adult education"),
            ("orientation scolaire", "career guidance"), ("difficultés d’apprentissage", "learning difficulties"),
            ("didactique des sciences", "science education"), ("didactique des mathématiques", "mathematics education"),
            ("lecture", "reading"), ("écriture", "writing"),
            ("autorégulation", "self-regulation"), ("sentiment d’efficacité", "self-efficacy"),
            ("pratique réflexive", "reflective practice"), ("stage", "practicum"),
            ("programme d’études", "curriculum"), ("équité", "equity"),
            ("éducation interculturelle", "intercultural education"), ("élèves allophones", "immigrant students"),
            ("intégrité académique", "academic integrity"), ("intelligence artificielle", "artificial intelligence"),
        ],
    },
    "history": {
        "journal": ("chna", "Cahiers d’histoire nord-américaine"),
        "keywords": [
            ("Nouvelle-France", "New France"), ("histoire sociale", "social history"),
            ("XIXe siècle", "nineteenth century"), ("histoire religieuse", "religious history"),
            ("mémoire collective", "collective memory"), ("archives judiciaires", "court records"),
            ("histoire des femmes", "women’s history"), ("colonisation", "colonization"),
            ("histoire urbaine", "urban history"), ("commerce des fourrures", "fur trade"),
            ("XVIIIe siècle", "eighteenth century"), ("XXe siècle", "twentieth century"),
            ("Régime français", "French regime"), ("Conquête", "Conquest"),
            ("Acadie", "Acadia"), ("peuples autochtones", "Indigenous peoples"),
            ("histoire économique", "economic history"), ("histoire politique", "political history"),
            ("histoire culturelle", "cultural history"), ("histoire de la santé", "history of health"),
            ("industrialisation", "industrialization"), ("migrations", "migrations"),
            ("famille", "family"), ("enfance", "childhood"),
            ("Église catholique", "Catholic Church"), ("communautés religieuses", "religious communities"),
            ("nationalisme", "nationalism"), ("patrimoine", "heritage"),
            ("presse", "press"), ("historiographie", "historiography"),
            ("Montréal", "Montreal"), ("Québec", "Quebec City"),
            ("seigneuries", "seigneuries"), ("monde rural", "rural world"),
            ("mouvement ouvrier", "labour movement"), ("éducation", "education"),
            ("droit civil", "civil law"), ("criminalité", "crime"),
            ("commémoration", "commemoration"), ("empire britannique", "British Empire"),
        ],
    },
    "sociology": {
        "journal": ("soter", "Sociétés et territoires"),
        "keywords": [
            ("inégalités sociales", "social inequalities"), ("immigration", "immigration"),
            ("vieillissement", "ageing"), ("famille", "family"),
            ("travail précaire", "precarious work"), ("jeunesse", "youth"),
            ("politiques publiques", "public policy"), ("enquête qualitative", "qualitative research"),
            ("participation citoyenne", "civic participation"), ("milieu rural", "rural areas"),
            ("pauvreté", "poverty"), ("logement", "housing"),
            ("genre", "gender"), ("discrimination", "discrimination"),
            ("mobilité sociale", "social mobility"), ("classes sociales", "social classes"),
            ("marché du travail", "labour market"), ("syndicalisme", "trade unionism"),
            ("mouvements sociaux", "social movements"), ("réseaux sociaux", "social networks"),
            ("intégration", "integration"), ("identité", "identity"),
            ("religion", "religion"), ("laïcité", "secularism"),
            ("santé", "health"), ("proches aidants", "family caregivers"),
            ("économie sociale", "social economy"), ("développement local", "local development"),
            ("ville", "city"), ("gentrification", "gentrification"),
            ("éducation", "education"), ("parcours de vie", "life course"),
            ("méthodes mixtes", "mixed methods"), ("enquête quantitative", "quantitative survey"),
            ("État-providence", "welfare state"), ("citoyenneté", "citizenship"),
            ("médias", "media"), ("numérique", "digital technology"),
            ("solidarité", "solidarity"), ("exclusion sociale", "social exclusion"),
        ],
    },
    "linguistics": {
        "journal": ("rlac", "Revue de linguistique appliquée du Canada"),
        "keywords": [
            ("français québécois", "Quebec French"), ("sociolinguistique", "sociolinguistics"),
            ("variation linguistique", "linguistic variation"), ("bilinguisme", "bilingualism"),
            ("acquisition d’une langue seconde", "second language acquisition"), ("corpus oral", "spoken corpus"),
            ("contact des langues", "language contact"), ("phonologie", "phonology"),
            ("attitudes linguistiques", "language attitudes"), ("lexicographie", "lexicography"),
            ("syntaxe", "syntax"), ("morphologie", "morphology"),
            ("sémantique", "semantics"), ("pragmatique", "pragmatics"),
            ("phonétique", "phonetics"), ("prosodie", "prosody"),
            ("analyse du discours", "discourse analysis"), ("terminologie", "terminology"),
            ("traduction", "translation"), ("norme linguistique", "linguistic norm"),
            ("politique linguistique", "language policy"), ("langues autochtones", "Indigenous languages"),
            ("français langue seconde", "French as a second language"), ("didactique des langues", "language teaching"),
            ("acquisition du langage", "language acquisition"), ("plurilinguisme", "multilingualism"),
            ("alternance codique", "code-switching"), ("emprunts", "borrowings"),
            ("anglicismes", "anglicisms"), ("français acadien", "Acadian French"),
            ("dialectologie", "dialectology"), ("linguistique de corpus", "corpus linguistics"),
            ("écrit", "writing"), ("orthographe", "spelling"),
            ("lexique", "lexicon"), ("néologie", "neology"),
            ("minorités linguistiques", "linguistic minorities"), ("insécurité linguistique", "linguistic insecurity"),
            ("traitement automatique des langues", "natural language processing"), ("psycholinguistique", "psycholinguistics"),
        ],
    },
    "environment": {
        "journal": ("eena", "Écologie et environnement nordiques"),
        "keywords": [
            ("changements climatiques", "climate change"), ("biodiversité", "biodiversity"),
            ("forêt boréale", "boreal forest"), ("qualité de l’eau", "water quality"),
            ("aires protégées", "protected areas"), ("adaptation", "adaptation"),
            ("gestion intégrée des ressources", "integrated resource management"), ("milieux humides", "wetlands"),
            ("espèces envahissantes", "invasive species"), ("télédétection", "remote sensing"),
            ("pergélisol", "permafrost"), ("Arctique", "Arctic"),
            ("feux de forêt", "wildfires"), ("aménagement forestier", "forest management"),
            ("bassin versant", "watershed"), ("lacs", "lakes"),
            ("érosion côtière", "coastal erosion"), ("estuaire", "estuary"),
            ("agriculture", "agriculture"), ("pollution", "pollution"),
            ("carbone", "carbon"), ("tourbières", "peatlands"),
            ("caribou", "caribou"), ("oiseaux migrateurs", "migratory birds"),
            ("poissons", "fish"), ("conservation", "conservation"),
            ("services écosystémiques", "ecosystem services"), ("restauration écologique", "ecological restoration"),
            ("modélisation", "modelling"), ("suivi environnemental", "environmental monitoring"),
            ("gouvernance", "governance"), ("savoirs autochtones", "Indigenous knowledge"),
            ("hydrologie", "hydrology"), ("sols", "soils"),
            ("urbanisation", "urbanization"), ("énergie", "energy"),
            ("mines", "mining"), ("évaluation environnementale", "environmental assessment"),
            ("connectivité écologique", "ecological connectivity"), ("phénologie", "phenology"),
        ],
    },
    "health": {
        "journal": ("spso", "Santé publique et société"),
        "keywords": [
            ("santé mentale", "mental health"), ("soins primaires", "primary care"),
            ("promotion de la santé", "health promotion"), ("maladies chroniques", "chronic diseases"),
            ("personnes âgées", "older adults"), ("accès aux soins", "access to care"),
            ("santé publique", "public health"), ("infirmières", "nurses"),
            ("inégalités de santé", "health inequalities"), ("santé autochtone", "Indigenous health"),
            ("prévention", "prevention"), ("épidémiologie", "epidemiology"),
            ("vaccination", "vaccination"), ("COVID-19", "COVID-19"),
            ("diabète", "diabetes"), ("obésité", "obesity"),
            ("activité physique", "physical activity"), ("alimentation", "nutrition"),
            ("tabagisme", "smoking"), ("dépendances", "addictions"),
            ("soins à domicile", "home care"), ("soins palliatifs", "palliative care"),
            ("proches aidants", "family caregivers"), ("services sociaux", "social services"),
            ("médecine familiale", "family medicine"), ("pharmacie", "pharmacy"),
            ("santé des enfants", "child health"), ("périnatalité", "perinatal health"),
            ("santé au travail", "occupational health"), ("épuisement professionnel", "burnout"),
            ("politiques de santé", "health policy"), ("organisation des soins", "health services organization"),
            ("littératie en santé", "health literacy"), ("migrants", "migrants"),
            ("régions éloignées", "remote regions"), ("urgences", "emergency departments"),
            ("qualité des soins", "quality of care"), ("sécurité des patients", "patient safety"),
            ("évaluation de programme", "program evaluation"), ("recherche participative", "participatory research"),
        ],
    },
}

# Small fixed word lists (French/English pairs) that fill the templates below.
POPULATIONS = [
    ("étudiants universitaires", "university students"), ("enseignants", "teachers"),
    ("personnes âgées", "older adults"), ("jeunes adultes", "young adults"),
    ("familles", "families"), ("professionnels", "professionals"),
    ("gestionnaires", "managers"), ("résidents", "residents"),
    ("locuteurs", "speakers"), ("patients", "patients"),
]
PLACES = [
    ("au Québec", "in Quebec"), ("à Montréal", "in Montreal"), ("en Acadie", "in Acadia"),
    ("dans l’Est du Canada", "in Eastern Canada"), ("en Ontario français", "in French Ontario"),
    ("dans les régions nordiques", "in northern regions"), ("en milieu urbain", "in urban settings"),
    ("en milieu rural", "in rural settings"),
]
METHODS = [  # French forms carry their preposition ("À partir d’une enquête…")
    ("d’une enquête par questionnaire", "a questionnaire survey"), ("d’entretiens semi-dirigés", "semi-structured interviews"),
    ("d’une analyse documentaire", "a documentary analysis"), ("d’une étude de cas multiples", "a multiple case study"),
    ("de données longitudinales", "longitudinal data"), ("d’une analyse de contenu", "a content analysis"),
    ("d’observations de terrain", "field observations"), ("d’une revue systématique", "a systematic review"),
]
FINDINGS = [
    ("des écarts importants entre les groupes", "substantial differences between groups"),
    ("une évolution marquée au fil du temps", "a marked change over time"),
    ("le rôle déterminant du contexte local", "the decisive role of the local context"),
    ("des effets modestes mais constants", "modest but consistent effects"),
    ("une forte diversité des pratiques", "a wide diversity of practices"),
    ("des tensions entre les acteurs", "tensions between stakeholders"),
]
TITLE_ENDINGS = [
    ("une étude de cas", "A case study"), ("une enquête exploratoire", "An exploratory survey"),
    ("bilan et perspectives", "Review and perspectives"), ("regards croisés", "Crossed perspectives"),
    ("une approche longitudinale", "A longitudinal approach"), ("enjeux et défis", "Issues and challenges"),
]

# Sentence templates: (French, English), slots {kw1} {kw2} {kw3} {pop} {place} {method} {finding} {n}.
# Keyword slots are quoted, so a bare keyword reads correctly in any French construction.
SENTENCES = [
    ("Cet article porte sur la question « {kw1} » chez les {pop} {place}.",
     "This article focuses on the question of “{kw1}” among {pop} {place}."),
    ("À partir {method} ({n} participants), nous examinons les liens entre « {kw2} » et « {kw3} ».",
     "Drawing on {method} ({n} participants), we examine the links between “{kw2}” and “{kw3}”."),
    ("Les résultats montrent {finding}, en particulier en ce qui concerne « {kw2} ».",
     "The results show {finding}, particularly with regard to “{kw2}”."),
    ("Les analyses révèlent également {finding} lorsque la dimension « {kw3} » est prise en compte.",
     "The analyses also reveal {finding} when the dimension of “{kw3}” is taken into account."),
    ("Ces constats nuancent plusieurs travaux antérieurs consacrés au thème « {kw1} ».",
     "These findings qualify several earlier studies devoted to “{kw1}”."),
    ("Nous discutons enfin des implications de ces résultats pour la recherche sur « {kw2} » et pour l’intervention {place}.",
     "Finally, we discuss the implications of these results for research on “{kw2}” and for practice {place}."),
    ("L’étude souligne la nécessité de mieux articuler « {kw1} » et « {kw3} » dans les politiques comme dans les pratiques.",
     "The study highlights the need to better connect “{kw1}” and “{kw3}” in both policy and practice."),
    ("Les participants décrivent des expériences contrastées, marquées par {finding}.",
     "Participants describe contrasting experiences, marked by {finding}."),
    ("Une attention particulière est accordée aux {pop}, encore peu étudiés dans ce domaine.",
     "Particular attention is paid to {pop}, who remain little studied in this field."),
]

FIRST_NAMES = ["Marie", "Jean", "Sophie", "Luc", "Isabelle", "Pierre", "Nadia", "Karim", "Julie", "Marc",
               "Émilie", "François", "Amira", "Louis", "Chantal", "Olivier"]
LAST_NAMES = ["Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie", "Fortin",
              "Gagné", "Ouellet", "Pelletier", "Bélanger", "Lévesque", "Bergeron", "Leblanc"]

# Skewed weights so that some keywords of each pool are much more frequent than others.
_WEIGHTS = [1.0 / (rank + 1) ** 0.8 for rank in range(40)]


def pick_keywords(rng: random.Random, pool: list[tuple[str, str]], k: int = 5) -> list[tuple[str, str]]:
    """k distinct keyword pairs drawn from `pool` with Zipf-like weights."""
    chosen: list[int] = []
    weights = _WEIGHTS[: len(pool)]
    while len(chosen) < k:
        index = rng.choices(range(len(pool)), weights=weights)[0]
        if index not in chosen:
            chosen.append(index)
    return [pool[i] for i in chosen]


def abstract_pair(rng: random.Random, keywords: list[tuple[str, str]], target_words: int = 100) -> tuple[str, str]:
    """A French and an English abstract of about `target_words` words, translations of each other."""
    slots = {
        "kw": keywords,
        "pop": rng.choice(POPULATIONS),
        "place": rng.choice(PLACES),
        "method": rng.choice(METHODS),
        "n": str(rng.randint(12, 2400)),
    }
    order = [0, 1] + rng.sample(range(2, len(SENTENCES)), len(SENTENCES) - 2)
    fr_parts: list[str] = []
    en_parts: list[str] = []
    words = 0
    for index in order:
        finding = rng.choice(FINDINGS)
        kw1, kw2, kw3 = rng.sample(keywords, 3)
        for lang, parts in ((0, fr_parts), (1, en_parts)):
            template = SENTENCES[index][lang]
            parts.append(template.format(
                kw1=kw1[lang], kw2=kw2[lang], kw3=kw3[lang], pop=slots["pop"][lang],
                place=slots["place"][lang], method=slots["method"][lang], finding=finding[lang], n=slots["n"],
            ))
        words += len(en_parts[-1].split())
        if words >= target_words - 10:
            break
    return " ".join(fr_parts), " ".join(en_parts)


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def article_xml(index: int, rng: random.Random) -> str:
    """One synthetic Érudit article as an XML string."""
    name = rng.choice(list(DISCIPLINES))
    discipline = DISCIPLINES[name]
    journal_id, journal = discipline["journal"]
    keywords = pick_keywords(rng, discipline["keywords"])
    year = rng.randint(2008, 2024)
    idp = f"b{index:07d}ar"
    ending = rng.choice(TITLE_ENDINGS)
    place = rng.choice(PLACES)
    title_fr = _capitalize(f"{keywords[0][0]} et {keywords[1][0]} {place[0]} : {ending[0]}")
    title_en = _capitalize(f"{keywords[0][1]} and {keywords[1][1]} {place[1]}: {ending[1]}")
    abstract_fr, abstract_en = abstract_pair(rng, keywords)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    e = escape
    motcles_fr = "".join(f"<motcle>{e(fr)}</motcle>" for fr, _ in keywords)
    motcles_en = "".join(f"<motcle>{e(en)}</motcle>" for _, en in keywords)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<article xmlns="http://www.erudit.org/xsd/article" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'qualtraitement="minimal" idproprio="{idp}" typeart="article" lang="fr en">\n'
        f'<admin><infoarticle><idpublic scheme="doi">10.99999/{idp}</idpublic></infoarticle>'
        f'<revue id="{journal_id}"><titrerev>{e(journal)}</titrerev></revue>'
        f"<numero><pub><annee>{year}</annee></pub></numero>"
        f"<droitsauteur>Droits d'auteur © {first} {last}, {year}</droitsauteur>"
        '<droitsauteur><liensimple xlink:href="http://creativecommons.org/licenses/by/4.0/" '
        'xlink:type="simple">CC BY 4.0</liensimple></droitsauteur></admin>\n'
        f'<liminaire><grtitre><titre>{e(title_fr)}</titre><titreparal lang="en">{e(title_en)}</titreparal></grtitre>'
        f'<grauteur><auteur id="au1"><nompers><prenom>{first}</prenom><nomfamille>{last}</nomfamille></nompers></auteur></grauteur>'
        f'<resume lang="fr"><alinea>{e(abstract_fr)}</alinea></resume>'
        f'<resume lang="en"><alinea>{e(abstract_en)}</alinea></resume>'
        f'<grmotcle lang="fr">{motcles_fr}</grmotcle><grmotcle lang="en">{motcles_en}</grmotcle></liminaire>\n'
        "</article>\n"
    )


def generate(outdir: str, n: int, seed: int) -> None:
    """Write `n` files into `outdir`; the same seed always gives the same files."""
    os.makedirs(outdir, exist_ok=True)
    rng = random.Random(seed)
    for index in range(n):
        path = os.path.join(outdir, f"b{index:07d}ar.xml")
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(article_xml(index, rng))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write N synthetic, valid Érudit Article XML files (b{index:07d}ar.xml) for benchmarks.")
    parser.add_argument("outdir", help="folder to write into (created if missing)")
    parser.add_argument("--n", type=int, default=10000, help="number of files to write (default: 10000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; same seed, same files (default: 0)")
    args = parser.parse_args(argv)
    if args.n < 0:
        parser.error("--n must be >= 0")
    start = time.perf_counter()
    generate(args.outdir, args.n, args.seed)
    print(f"wrote {args.n} files to {args.outdir} in {time.perf_counter() - start:.2f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
