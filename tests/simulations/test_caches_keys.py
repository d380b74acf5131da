"""Cache keys: stable across processes, sensitive to every model parameter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from langchain_core.language_models import FakeListChatModel
from langchain_openai import ChatOpenAI

from simulations.caches import cache_key, key_fields

ROOT = Path(__file__).resolve().parents[2]
PROMPT = '[{"kwargs": {"content": "What is the capital of France?", "type": "human"}}]'
LLM_STRING = ("[('_type', 'mock-chat'), ('max_tokens', 200), "
              "('model_name', 'gpt-4o-mini'), ('stop', None)]")


def _in_subprocess(code: str, hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_key_is_the_same_in_other_processes_whatever_their_hash_seed():
    code = ("from simulations.caches import cache_key; "
            f"print(cache_key({PROMPT!r}, {LLM_STRING!r}))")
    here = cache_key(PROMPT, LLM_STRING)
    assert _in_subprocess(code, "1") == here
    assert _in_subprocess(code, "2") == here


def test_python_hash_would_not_be():
    # The reason the key is a SHA-256: hash() of the same text differs per process.
    code = f"print(hash({PROMPT + LLM_STRING!r}))"
    assert _in_subprocess(code, "1") != _in_subprocess(code, "2")


def test_every_model_parameter_is_a_field_of_the_key():
    fields = key_fields(PROMPT, LLM_STRING)
    assert fields == {"prompt": PROMPT, "_type": "mock-chat", "max_tokens": 200,
                      "model_name": "gpt-4o-mini", "stop": None}


def test_changing_any_field_changes_the_key():
    base = cache_key(PROMPT, LLM_STRING)
    assert cache_key(PROMPT.replace("France", "Spain"), LLM_STRING) != base
    assert cache_key(PROMPT, LLM_STRING.replace("gpt-4o-mini", "gpt-4o")) != base
    assert cache_key(PROMPT, LLM_STRING.replace("200", "50")) != base


def test_leaving_a_field_out_makes_different_requests_collide():
    cheap = LLM_STRING
    strong = LLM_STRING.replace("gpt-4o-mini", "gpt-4o")
    assert cache_key(PROMPT, cheap) != cache_key(PROMPT, strong)
    omit = ["model_name"]
    assert cache_key(PROMPT, cheap, omit=omit) == cache_key(PROMPT, strong, omit=omit)


def test_prompt_and_parameters_cannot_run_into_each_other():
    # md5(prompt + llm_string), as in langchain_community's RedisCache, gives
    # these two the same key; separate fields do not.
    assert cache_key("ab", "c") != cache_key("a", "bc")


def test_fields_of_a_model_that_is_not_serializable():
    model = FakeListChatModel(responses=["x"])
    fields = key_fields(PROMPT, model._get_llm_string(stop=["END"], temperature=0.3))
    assert fields["_type"] == "fake-list-chat-model"
    assert fields["stop"] == ["END"]
    assert fields["temperature"] == 0.3


def test_fields_of_a_serializable_model():
    model = ChatOpenAI(model="gpt-4o-mini", api_key="unused", temperature=0.2, max_tokens=100)
    fields = key_fields(PROMPT, model._get_llm_string(stop=["\n"], temperature=0.7))
    assert fields["class"] == "langchain.chat_models.openai.ChatOpenAI"
    assert fields["model_name"] == "gpt-4o-mini"
    assert fields["max_tokens"] == 100
    assert fields["temperature"] == 0.2  # the constructor's...
    assert fields["call.temperature"] == 0.7  # ...and the call's, both kept
    assert fields["stop"] == ["\n"]


def test_an_unrecognised_llm_string_is_kept_whole():
    assert key_fields("p", "other format") == {"prompt": "p", "llm_string": "other format"}
    assert cache_key("p", "format one") != cache_key("p", "format two")
