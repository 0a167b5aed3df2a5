"""GPU benchmark: our vLLM backend against plain `vllm.LLM.chat` / `LLM.generate` on the same SAP prompts.

Needs a GPU and `pip install -e .[vllm]`. One engine serves all three runs (two would not fit in GPU
memory together); its prefix cache is reset before each timed run so that none inherits a warm cache.

    python bench/bench_vllm.py --model Qwen/Qwen2.5-0.5B-Instruct --prompts 2000
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable

from clirdata.synthesis.backends import SamplingConfig, VllmBackend
from clirdata.synthesis.cache import GenerationCache
from clirdata.synthesis.prompts import Message, Parsed, load_templates, parse_output, render_prompt
from clirdata.synthesis.synthesize import Passage, SynthesisConfig, synthesize_batch


class _Recorder:
    """Hands a batch to the real backend and keeps its answers (for the token count)."""

    def __init__(self, backend: VllmBackend) -> None:
        self.backend, self.model, self.answers = backend, backend.model, []

    def generate(self, batch, params):
        answers = self.backend.generate(batch, params)
        self.answers.extend(a or "" for a in answers)
        return answers


def make_passages(n: int, seed: int) -> list[tuple[str, str, str]]:
    """n (text, title, lang) passages of 80-120 words drawn from the exemplars' vocabulary, per language."""
    rng = random.Random(seed)
    exemplars = load_templates().exemplars
    passages = []
    for i in range(n):
        ex = exemplars[i % len(exemplars)]
        words = ex.text.split()
        text = " ".join(rng.choice(words) for _ in range(rng.randint(80, 120))) + "."
        passages.append((text, " ".join(rng.sample(words, 4)), ex.lang))
    return passages


def timed(label: str, run: Callable[[], list[str]], count_tokens: Callable[[str], int], n: int) -> float:
    """Run once, print prompts/s and output tokens/s, return prompts/s."""
    start = time.perf_counter()
    outputs = run()
    seconds = time.perf_counter() - start
    tokens = sum(count_tokens(text) for text in outputs)
    parsed = sum(isinstance(parse_output(text), Parsed) for text in outputs)
    print(
        f"{label:<20} {n / seconds:9.1f} prompts/s {tokens / seconds:10.1f} output tok/s "
        f"{seconds:7.2f} s  parsed {parsed}/{n}"
    )
    return n / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="Qwen/Qwen2.5-0.5B-Instruct", help="hub id or local path")
    parser.add_argument("--prompts", type=int, default=2000)
    parser.add_argument("--shots", type=int, default=3)
    parser.add_argument("--query-lang", default="en")
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--max-model-len", type=int, default=8192)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from vllm import SamplingParams

    convs: list[list[Message]] = [
        render_prompt(text, title, lang, args.query_lang, args.shots)
        for text, title, lang in make_passages(args.prompts, args.seed)
    ]
    config = SamplingConfig(temperature=0.0, max_tokens=args.max_tokens, seed=args.seed)
    params = SamplingParams(temperature=0.0, top_p=1.0, max_tokens=args.max_tokens, seed=args.seed)

    start = time.perf_counter()
    backend = VllmBackend(args.model, max_model_len=args.max_model_len, seed=args.seed)
    print(f"engine created in {time.perf_counter() - start:.1f} s")
    llm = backend._llm  # the very engine our backend drives, so both paths run on equal terms
    tokenizer = llm.get_tokenizer()

    def count_tokens(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False))

    def chat_text(conv: list[Message]) -> str:
        return tokenizer.apply_chat_template(conv, tokenize=False, add_generation_prompt=True)

    def plain_chat() -> list[str]:
        return [o.outputs[0].text for o in llm.chat(convs, params, use_tqdm=False)]

    def plain_generate() -> list[str]:
        texts = [chat_text(c) for c in convs]
        return [o.outputs[0].text for o in llm.generate(texts, params, use_tqdm=False)]

    def ours() -> list[str]:
        return backend.generate(convs, config)

    passages = [Passage(f"p{i}", f"p{i}", title, text, lang)
                for i, (text, title, lang) in enumerate(make_passages(args.prompts, args.seed))]
    synthesis = SynthesisConfig(query_langs=(args.query_lang,), shots=args.shots, sampling=config)

    def ours_whole_batch() -> list[str]:
        """synthesize_batch: render, cache look-up (a fresh cache: every prompt generated), parse, filter."""
        with tempfile.TemporaryDirectory() as cache_dir:
            recorder = _Recorder(backend)
            synthesize_batch(passages, recorder, GenerationCache(cache_dir), synthesis)
            return recorder.answers

    backend.generate(convs[:32], config)  # warm-up: CUDA graphs, kernels, allocator
    prompt_tokens = sum(count_tokens(chat_text(c)) for c in convs)
    print(f"{len(convs)} prompts, {prompt_tokens / len(convs):.0f} prompt tokens on average, shots={args.shots}")
    rates = {}
    runs = [("plain LLM.chat", plain_chat), ("plain LLM.generate", plain_generate), ("ours", ours),
            ("ours + synthesize", ours_whole_batch)]
    for label, run in runs:
        llm.reset_prefix_cache()
        rates[label] = timed(label, run, count_tokens, len(convs))
    print(f"ratio ours / plain LLM.chat:     {rates['ours'] / rates['plain LLM.chat']:.3f}")
    print(f"ratio ours / plain LLM.generate: {rates['ours'] / rates['plain LLM.generate']:.3f}")
    print(f"ratio ours + synthesize / plain LLM.generate: "
          f"{rates['ours + synthesize'] / rates['plain LLM.generate']:.3f}")


if __name__ == "__main__":
    main()
