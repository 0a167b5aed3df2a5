"""SAP query synthesis for one batch of passages: render, look up the cache, generate the misses in one
backend call, parse, filter, and emit query and qrels rows. Pure apart from the cache and the backend.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from clirdata.schemas.records import Reject
from clirdata.schemas.tables import empty_row
from clirdata.synthesis import filters
from clirdata.synthesis.backends import Backend, SamplingConfig
from clirdata.synthesis.cache import GenerationCache, cache_key
from clirdata.synthesis.prompts import (
    TEMPLATE_FILE,
    Message,
    ParseError,
    flatten,
    load_templates,
    parse_output,
    render_prompt,
)

STAGE = "synthesize"
KIND = "synthetic"


@dataclass(frozen=True)
class Passage:
    """A corpus passage to write queries for; `doc_id` is its corpus `_id`."""

    doc_id: str
    source_id: str
    title: str
    text: str
    lang: str
    source: str = ""


@dataclass(frozen=True)
class SynthesisConfig:
    """What to generate per passage and how to filter it.

    `per_doc` > 1 asks for several queries per passage and language, each with its own seed
    (sampling.seed + k), so it needs a temperature above 0.
    """

    query_langs: tuple[str, ...] = ("en",)
    per_doc: int = 1
    shots: int = 3
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    template: str = TEMPLATE_FILE
    max_passage_words: int = 300  # longer passages are cut: the prompt must fit the model's context
    min_words: int = filters.MIN_WORDS
    max_words: int = filters.MAX_WORDS
    copy_fraction: float = filters.COPY_FRACTION
    duplicate_ratio: float = filters.DUPLICATE_RATIO

    def __post_init__(self) -> None:
        if self.per_doc < 1:
            raise ValueError("per_doc must be at least 1")
        if self.per_doc > 1 and self.sampling.temperature == 0:
            raise ValueError("per_doc > 1 needs temperature > 0: greedy decoding repeats the same query")


@dataclass
class BatchResult:
    """Rows shaped as the QUERIES and QRELS tables, rejects for every dropped query, and counts.

    counts: generated (answers the backend produced in this call), cached (answers read from the
    cache), kept, and dropped {reason: n}; generated + cached == kept + sum(dropped).
    """

    queries: list[dict]
    qrels: list[dict]
    rejects: list[Reject]
    counts: dict


@dataclass(frozen=True)
class _Job:
    passage: Passage
    query_lang: str
    k: int
    messages: list[Message]
    params: SamplingConfig
    key: str


def query_id(doc_id: str, query_lang: str, k: int) -> str:
    """Stable id of the k-th synthetic query in `query_lang` for a passage."""
    digest = hashlib.sha1(f"{doc_id}\x1f{k}".encode()).hexdigest()[:16]
    return f"syn:{query_lang}:{digest}"


def _clip(text: str, max_words: int) -> str:
    words = text.split()
    return text if len(words) <= max_words else " ".join(words[:max_words])


def _jobs(passages: Sequence[Passage], model: str, config: SynthesisConfig) -> list[_Job]:
    templates = load_templates(config.template)
    jobs = []
    for p in passages:
        text = _clip(p.text, config.max_passage_words)
        for lang in config.query_langs:
            messages = render_prompt(text, p.title, p.lang, lang, config.shots, templates)
            for k in range(config.per_doc):
                params = replace(config.sampling, seed=config.sampling.seed + k)
                key = cache_key(model, flatten(messages), params.as_dict())
                jobs.append(_Job(p, lang, k, messages, params, key))
    return jobs


def _answers(jobs: list[_Job], backend: Backend, cache: GenerationCache) -> tuple[dict[str, str | None], set[str]]:
    """Answers by cache key, and the keys the backend answered now (all misses, in one call)."""
    unique = {job.key: job for job in jobs}
    answers = {key: text for key in unique if (text := cache.get(key)) is not None}
    misses = [job for key, job in unique.items() if key not in answers]
    if misses:
        outputs = backend.generate([j.messages for j in misses], [j.params for j in misses])
        if len(outputs) != len(misses):
            raise RuntimeError(f"backend returned {len(outputs)} answers for {len(misses)} prompts")
        for job, text in zip(misses, outputs, strict=True):
            if text is not None:  # a failed request is not an answer: the next run asks again
                cache.put(job.key, text)
            answers[job.key] = text
    return answers, {j.key for j in misses}


def _drop_reason(
    job: _Job, answer: str, kept: list[str], shown: Sequence[str], config: SynthesisConfig
) -> tuple[str | None, str]:
    """(drop reason or None, the parsed query or the raw answer); `shown` are the exemplar queries."""
    if answer is None:
        return "backend-error", ""
    parsed = parse_output(answer)
    if isinstance(parsed, ParseError):
        return f"unparseable:{parsed.reason}", answer
    q, p = parsed.query, job.passage
    reason = (
        filters.bad_length(q, config.min_words, config.max_words)
        or filters.copied(q, p.text, p.title, config.copy_fraction)
        or filters.copies_exemplar(q, shown, config.duplicate_ratio)
        or filters.wrong_language(q, job.query_lang)
        or filters.near_duplicate(q, kept, config.duplicate_ratio)
    )
    return reason, q


def _reject(job: _Job, reason: str, text: str) -> Reject:
    p = job.passage
    return Reject(p.source, p.doc_id, STAGE, reason, f"{job.query_lang}#{job.k}: {text[:300]}", p.source_id)


def _query_row(job: _Job, text: str, model: str, version: str) -> dict:
    row = empty_row("queries")
    row.update(
        _id=query_id(job.passage.doc_id, job.query_lang, job.k),
        text=text,
        lang=job.query_lang,
        kind=KIND,
        source_id=job.passage.source_id,
        model=model,
        prompt_version=version,
    )
    return row


def synthesize_batch(
    passages: Sequence[Passage], backend: Backend, cache: GenerationCache, config: SynthesisConfig
) -> BatchResult:
    """Queries for a batch of passages: cached answers are reused, the rest generated in one backend call."""
    templates = load_templates(config.template)
    shown = {lang: [ex.queries[lang] for ex in templates.exemplars[: config.shots]] for lang in config.query_langs}
    jobs = _jobs(passages, backend.model, config)
    answers, fresh = _answers(jobs, backend, cache)
    result = BatchResult([], [], [], {})
    kept: dict[str, list[str]] = defaultdict(list)  # queries kept so far, by passage
    for job in jobs:
        doc_id = job.passage.doc_id
        reason, text = _drop_reason(job, answers[job.key], kept[doc_id], shown[job.query_lang], config)
        if reason:
            result.rejects.append(_reject(job, reason, text))
            continue
        kept[doc_id].append(text)
        row = _query_row(job, text, backend.model, templates.version)
        result.queries.append(row)
        result.qrels.append({"query-id": row["_id"], "corpus-id": doc_id, "score": 1})
    generated = sum(job.key in fresh for job in jobs)
    result.counts = {
        "generated": generated,
        "cached": len(jobs) - generated,
        "kept": len(result.queries),
        "dropped": dict(sorted(Counter(r.reason for r in result.rejects).items())),
    }
    return result
