"""The language check of a record: fields dropped with a Reject, counts, a record with no title left."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from clirdata.checks.langid import _detector
from clirdata.checks.language import FIELD_STAGE, LANGUAGE_TALLY, STAGE, check_record
from clirdata.extractors.erudit import parse_article
from clirdata.schemas import LangText, Origin, RawItem, Record, Reject
from tests.conftest import shared_fixture

FR_TITLE = "L'engagement des étudiants dans les cours entièrement en ligne"
EN_TITLE = "Student engagement in fully online courses: a longitudinal study"
FR_ABSTRACT = (
    "Cette étude longitudinale examine l'évolution de l'engagement des étudiants inscrits à des cours "
    "universitaires entièrement en ligne pendant trois trimestres consécutifs."
)
EN_ABSTRACT = (
    "This longitudinal study examines how the engagement of students enrolled in fully online university "
    "courses changed over three consecutive terms."
)
DE_KEYWORDS = ("Künstliche Intelligenz", "Hochschulbildung", "digitale Lehre", "Studierende")
EN_KEYWORDS = ("online learning", "higher education", "student persistence")


def record(texts: dict[str, LangText]) -> Record:
    return Record(source="erudit", source_id="9000001ar", source_uri="in/9000001ar.xml", sha256="0" * 64,
                  extractor_version="test", main_lang="fr", texts=texts)


def test_a_clean_record_goes_through_whole():
    texts = {"fr": LangText(FR_TITLE, abstract=FR_ABSTRACT),
             "en": LangText(EN_TITLE, abstract=EN_ABSTRACT, keywords=EN_KEYWORDS)}
    outcome = check_record(record(texts))
    assert outcome.value == record(texts)
    assert outcome.rejects == ()
    assert outcome.counts == ((FIELD_STAGE, "in", 5), (FIELD_STAGE, "out", 5), (FIELD_STAGE, "rejected", 0))


def test_a_clean_record_never_wakes_lingua():
    # Every field is one py3langid is sure of, in its declared language: the careful detector is not asked.
    info = _detector.cache_info()
    check_record(record({"fr": LangText(FR_TITLE, abstract=FR_ABSTRACT), "en": LangText(EN_TITLE)}))
    assert _detector.cache_info().hits + _detector.cache_info().misses == info.hits + info.misses


def test_a_field_in_another_language_is_dropped_with_a_reject():
    texts = {"fr": LangText(FR_TITLE, abstract=FR_ABSTRACT), "en": LangText(EN_TITLE, abstract=FR_ABSTRACT)}
    outcome = check_record(record(texts))
    assert outcome.value.texts == {"fr": LangText(FR_TITLE, abstract=FR_ABSTRACT), "en": LangText(EN_TITLE)}
    assert outcome.rejects == (Reject(
        "erudit", "in/9000001ar.xml", "check-fields", "language-mismatch",
        f"abstract declared 'en' reads as 'fr': {FR_ABSTRACT[:80]}", "9000001ar"),)
    assert outcome.counts == ((FIELD_STAGE, "in", 4), (FIELD_STAGE, "out", 3), (FIELD_STAGE, "rejected", 1))
    assert outcome.tallies == ((LANGUAGE_TALLY, "en abstract fr", 1), (LANGUAGE_TALLY, "en title en", 1),
                               (LANGUAGE_TALLY, "fr abstract fr", 1), (LANGUAGE_TALLY, "fr title fr", 1))


def test_keywords_are_judged_together():
    # Four German keywords declared English read as German once joined; two would be too short to judge.
    outcome = check_record(record({"fr": LangText(FR_TITLE), "en": LangText(EN_TITLE, keywords=DE_KEYWORDS)}))
    assert outcome.value.texts["en"] == LangText(EN_TITLE)
    assert [r.detail.split(":")[0] for r in outcome.rejects] == ["keywords declared 'en' reads as 'de'"]
    short = check_record(record({"fr": LangText(FR_TITLE), "en": LangText(EN_TITLE, keywords=DE_KEYWORDS[:1])}))
    assert short.rejects == () and short.value.texts["en"].keywords == DE_KEYWORDS[:1]


def test_a_language_left_empty_disappears_and_no_title_left_rejects_the_record():
    outcome = check_record(record({"fr": LangText(FR_TITLE), "en": LangText(FR_ABSTRACT)}))
    assert set(outcome.value.texts) == {"fr"}
    assert [r.reason for r in outcome.rejects] == ["language-mismatch"]
    outcome = check_record(record({"en": LangText(FR_TITLE, abstract=FR_ABSTRACT)}))
    assert outcome.value == Reject("erudit", "in/9000001ar.xml", STAGE, "no-title-after-check",
                                   "no title is left in its declared language", "9000001ar")
    assert [r.stage for r in outcome.rejects] == ["check-fields", "check-fields"]
    assert outcome.counts == ((FIELD_STAGE, "in", 2), (FIELD_STAGE, "out", 0), (FIELD_STAGE, "rejected", 2))


def test_the_declared_language_joins_the_candidates():
    outcome = check_record(record({"fr": LangText(FR_TITLE, abstract=FR_ABSTRACT)}), candidates=("en", "de"))
    assert outcome.rejects == ()


def test_real_erudit_articles_keep_every_field():
    folder = shared_fixture("erudit/article")
    paths = sorted(folder.glob("*.xml"))
    assert len(paths) >= 5
    for path in paths:
        parsed = parse_article(RawItem(Origin("erudit", str(path)), path.read_bytes()))
        assert isinstance(parsed, Record), parsed
        fields = sum(bool(getattr(t, name)) for t in parsed.texts.values()
                     for name in ("title", "subtitle", "abstract", "keywords"))
        outcome = check_record(parsed)
        assert outcome.rejects == (), path.name
        assert outcome.value == parsed
        assert outcome.counts[0] == (FIELD_STAGE, "in", fields)


SENTENCES = st.sampled_from([FR_TITLE, EN_TITLE, FR_ABSTRACT, EN_ABSTRACT, ", ".join(DE_KEYWORDS), "Tikal Maya",
                             "La desigualdad educativa en las escuelas rurales de México", "2019 — 123-456", ""])
LANG_TEXTS = st.builds(LangText, title=SENTENCES, subtitle=SENTENCES, abstract=SENTENCES,
                       keywords=st.lists(SENTENCES, max_size=3).map(tuple))


@settings(max_examples=max(10, settings().max_examples // 4))
@given(st.dictionaries(st.sampled_from(["fr", "en", "de", "es", "xx"]), LANG_TEXTS, max_size=3))
def test_every_field_is_kept_or_rejected_and_counted(texts):
    outcome = check_record(record(texts))
    (_, _, checked), (_, _, kept), (_, _, rejected) = outcome.counts
    assert checked == kept + rejected == sum(bool(getattr(t, n)) for t in texts.values()
                                             for n in ("title", "subtitle", "abstract", "keywords"))
    assert rejected == len(outcome.rejects)
    assert all((r.stage, r.reason) == ("check-fields", "language-mismatch") for r in outcome.rejects)
    if isinstance(outcome.value, Reject):
        assert outcome.value.reason == "no-title-after-check"
    else:
        for lang, text in outcome.value.texts.items():  # what is kept is kept unchanged
            assert all(getattr(text, n) in ("", (), getattr(texts[lang], n))
                       for n in ("title", "subtitle", "abstract", "keywords"))
        assert kept == sum(bool(getattr(t, n)) for t in outcome.value.texts.values()
                           for n in ("title", "subtitle", "abstract", "keywords"))
