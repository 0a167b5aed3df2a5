"""A hand-made collection of six articles whose queries and qrels were worked out by hand.

en keywords (k=3), articles with a French title + abstract are documents (a4 is not):
  a1 climate, policy, Quebec, forests      a2 Climate, policy, QUEBEC
  a3 climate, forests, fire                a4 climate, policy, forests  (no French abstract)
  a5 education, policy (only 2: no query)  a6 climate, policy, forests, fire (no English text)
Distinct 3-combinations of the documents' keywords, and the documents that hold them:
  climate+fire+forests: a3 a6     climate+fire+policy: a6     climate+forests+policy: a1 a6
  climate+forests+quebec: a1      climate+policy+quebec: a1 a2
  fire+forests+policy: a6         forests+policy+quebec: a1
"""

from __future__ import annotations

from clirdata.schemas import LangText, Record

FR_ABSTRACT = ("Cet article étudie les politiques publiques et leurs effets sur les forêts du Québec "
               "à partir d'entretiens menés auprès des acteurs régionaux.")
EN_ABSTRACT = ("This article studies public policies and their effects on Quebec forests, "
               "based on interviews with regional stakeholders.")

ARTICLES = {
    "a1": (("Les politiques climatiques et la forêt québécoise", FR_ABSTRACT),
           ("Climate policies and the Quebec forest", EN_ABSTRACT), ("climate", "policy", "Quebec", "forests")),
    "a2": (("La politique du climat au Québec depuis vingt ans", FR_ABSTRACT),
           ("Climate policy in Quebec over twenty years", EN_ABSTRACT), ("Climate", "policy", "QUEBEC")),
    "a3": (("Les feux de forêt dans un climat qui change", FR_ABSTRACT),
           ("Forest fires in a changing climate", EN_ABSTRACT), ("climate", "forests", "fire")),
    "a4": (("Une politique forestière pour le climat", ""),
           ("A forest policy for the climate", EN_ABSTRACT), ("climate", "policy", "forests")),
    "a5": (("Les politiques éducatives dans les écoles rurales", FR_ABSTRACT),
           ("Education policies in rural schools", EN_ABSTRACT), ("education", "policy")),
    "a6": (("Le feu, la forêt et les politiques du climat", FR_ABSTRACT),
           ("", ""), ("climate", "policy", "forests", "fire")),
}

# (query text, relevant articles in en_fr, relevant articles in en_en), by hand.
EXPECTED_QUERIES = {
    "climate, fire, forests": ({"a3", "a6"}, {"a3"}),
    "climate, fire, policy": ({"a6"}, set()),
    "climate, forests, policy": ({"a1", "a6"}, {"a1"}),
    "climate, forests, Quebec": ({"a1"}, {"a1"}),
    "climate, policy, Quebec": ({"a1", "a2"}, {"a1", "a2"}),
    "fire, forests, policy": ({"a6"}, set()),
    "forests, policy, Quebec": ({"a1"}, {"a1"}),
}
EXPECTED_FR_DOCS = {"a1", "a2", "a3", "a5", "a6"}
EXPECTED_EN_DOCS = {"a1", "a2", "a3", "a5"}
EXPECTED_REJECTS = {("a4", "pair", "no-fr-document")}


def records() -> list[Record]:
    """The articles as Records (as the extractor would make them)."""
    result = []
    for source_id, ((fr_title, fr_abstract), (en_title, en_abstract), keywords) in ARTICLES.items():
        texts = {"fr": LangText(title=fr_title, abstract=fr_abstract),
                 "en": LangText(title=en_title, abstract=en_abstract, keywords=keywords)}
        result.append(Record("erudit", source_id, f"mem://{source_id}.xml", "0" * 64, "test", "fr", texts,
                             license="CC BY 4.0"))
    return result


def article_xml(source_id: str) -> bytes:
    """The same article as Érudit Article XML."""
    (fr_title, fr_abstract), (en_title, en_abstract), keywords = ARTICLES[source_id]
    parts = [f"<titre>{fr_title}</titre>"]
    if en_title:
        parts.append(f'<titreparal lang="en">{en_title}</titreparal>')
    resumes = "".join(f'<resume lang="{lang}"><alinea>{text}</alinea></resume>'
                      for lang, text in (("fr", fr_abstract), ("en", en_abstract)) if text)
    motcles = "".join(f"<motcle>{k}</motcle>" for k in keywords)
    return (f'<?xml version="1.0" encoding="UTF-8"?><article xmlns="http://www.erudit.org/xsd/article" '
            f'idproprio="{source_id}" typeart="article" lang="fr en"><admin><droitsauteur>'
            f'<liensimple xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'xlink:href="http://creativecommons.org/licenses/by/4.0/">CC</liensimple></droitsauteur></admin>'
            f'<liminaire><grtitre>{"".join(parts)}</grtitre>{resumes}'
            f'<grmotcle lang="en">{motcles}</grmotcle></liminaire></article>').encode()
