"""The on-disk generation cache: stable keys, atomic entries, several writer processes."""

from __future__ import annotations

import json
import multiprocessing
import os

import pytest

from clirdata.synthesis.cache import GenerationCache, cache_key

PARAMS = {"temperature": 0.0, "top_p": 1.0, "max_tokens": 256, "seed": 0}


def test_key_depends_on_model_prompt_and_params_only():
    key = cache_key("m", "prompt", PARAMS)
    assert key == cache_key("m", "prompt", dict(reversed(list(PARAMS.items()))))
    assert len(key) == 64 and int(key, 16) >= 0
    assert key != cache_key("m2", "prompt", PARAMS)
    assert key != cache_key("m", "prompt ", PARAMS)
    assert key != cache_key("m", "prompt", {**PARAMS, "seed": 1})


def test_put_then_get_round_trips_and_counts(tmp_path):
    cache = GenerationCache(tmp_path)
    key = cache_key("m", "p", PARAMS)
    assert cache.get(key) is None
    cache.put(key, "Summary: é\nQuery: ¿Por qué?")
    assert cache.get(key) == "Summary: é\nQuery: ¿Por qué?"
    assert (cache.hits, cache.misses) == (1, 1)
    assert (tmp_path / key[:2] / f"{key}.json").is_file()


def test_a_new_cache_object_sees_earlier_entries(tmp_path):
    key = cache_key("m", "p", PARAMS)
    GenerationCache(tmp_path).put(key, "answer")
    assert GenerationCache(tmp_path).get(key) == "answer"


def test_empty_output_is_a_hit_not_a_miss(tmp_path):
    cache = GenerationCache(tmp_path)
    cache.put("ab" * 32, "")
    assert cache.get("ab" * 32) == ""


def test_unreadable_entry_counts_as_absent(tmp_path):
    cache = GenerationCache(tmp_path)
    key = cache_key("m", "p", PARAMS)
    path = tmp_path / key[:2] / f"{key}.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"output": "half', encoding="utf-8")
    assert cache.get(key) is None
    cache.put(key, "whole")
    assert cache.get(key) == "whole"


def test_a_write_killed_before_the_rename_leaves_no_entry(tmp_path, monkeypatch):
    cache = GenerationCache(tmp_path)
    key = cache_key("m", "p", PARAMS)

    def killed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        cache.put(key, "answer")
    monkeypatch.undo()
    assert cache.get(key) is None
    assert list((tmp_path / key[:2]).iterdir()) == []


def test_a_leftover_temporary_file_is_ignored(tmp_path):
    cache = GenerationCache(tmp_path)
    key = cache_key("m", "p", PARAMS)
    (tmp_path / key[:2]).mkdir()
    (tmp_path / key[:2] / ".tmp-dead.json").write_text('{"output": "partial', encoding="utf-8")
    assert cache.get(key) is None
    cache.put(key, "answer")
    assert cache.get(key) == "answer"


def _writer(root: str, worker: int) -> None:
    cache = GenerationCache(root)
    for i in range(50):
        cache.put(cache_key("m", f"prompt {i}", PARAMS), f"answer {i}")
        cache.put(cache_key("m", f"own {worker} {i}", PARAMS), f"worker {worker}")


def test_several_processes_write_at_once(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(str(tmp_path), w)) for w in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    cache = GenerationCache(tmp_path)
    assert [cache.get(cache_key("m", f"prompt {i}", PARAMS)) for i in range(50)] == [f"answer {i}" for i in range(50)]
    assert cache.get(cache_key("m", "own 3 49", PARAMS)) == "worker 3"
    entries = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(entries) == 50 + 4 * 50
    assert all(not p.name.startswith(".tmp-") for p in entries)
    assert all(json.loads(p.read_text(encoding="utf-8"))["output"] for p in entries)
