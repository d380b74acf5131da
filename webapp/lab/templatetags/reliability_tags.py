"""Figures and code for the reliability lessons (30.5, 30.6, 30.11, 30.12), from the simulation.

``{% reliability_book as book %}`` gives what the chapter's retry and fallback code
really does when run against the installed langchain-core and tenacity (see
simulations/reliability/book.py), the constants the lab uses, and the streaming
demo's figures; ``{% reliability_source "breaker" %}`` the source of the
functions the simulation runs, so a lesson shows the code that ran, not a copy.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from django import template
from langchain_core import __version__ as langchain_core_version

from simulations.components.reliability_tree import PRESETS, SPEC, STREAM_FALLBACK, stream_demo
from simulations.mock_llm import SDK_FIRST_BACKOFF_S, SDK_MAX_BACKOFF_S, SDK_MAX_RETRY_AFTER_S
from simulations.reliability import book, breaker, retry, streaming

register = template.Library()

SOURCES = {
    "breaker": (breaker.CircuitBreaker.before_call, breaker.CircuitBreaker.on_success,
                breaker.CircuitBreaker.on_failure, breaker.CircuitBreaker.call),
    "budget": (retry.RetryBudget.allow,),
    "stream-restart": (streaming.stream_with_restart,),
}


def _g(value: float) -> str:
    return f"{value:g}"


def _seconds_list(values) -> str:
    return ", ".join(_g(v) for v in values)


@register.simple_tag
def reliability_book() -> dict[str, Any]:
    facts = book.all_facts()
    storm = PRESETS["retry-storm"]
    storm_calls = storm["gateway_attempts"] * storm["attempts"] * (storm["sdk_max_retries"] + 1)
    demo = {case["case"]: case for case in stream_demo("gpt-4o", STREAM_FALLBACK)}
    batch = facts["batch"]["langchain"]["answers"]
    victim = next((a for a in batch if a["answer_to"] not in (None, a["question"])), None)
    cache = facts["cache_fallback"]
    return {
        "langchain_core_version": langchain_core_version,
        "with_retry_error": facts["with_retry_error"],
        # The message ends with the path of the installed package: not the reader's business.
        "import_error": re.sub(r"\s*\(/[^)]*\)$", "", facts["runnable_retry_import_error"]),
        "attempts": facts["attempts_made"],
        "retries": facts["attempts_made"] - 1,
        "chapter_retries": book.CHAPTER_SAYS_RETRIES,
        "chapter_waits": _seconds_list(book.CHAPTER_WAITS_30_5_1),
        "waits": [{"n": n, "low": _g(low), "high": _g(high)}
                  for n, (low, high) in enumerate(facts["wait_ranges"], start=1)],
        "max_wait": _g(book.CHAPTER_MAX_WAIT_S),
        "tenacity_attempts": book.CHAPTER_TENACITY_ATTEMPTS,
        "tenacity_waits": _seconds_list(facts["tenacity_waits"]),
        "tenacity_total": _g(sum(facts["tenacity_waits"])),
        "chapter_tenacity_waits": " → ".join(_g(w) for w in book.CHAPTER_WAITS_30_5_2),
        "chapter_tenacity_total": _g(sum(book.CHAPTER_WAITS_30_5_2)),
        "tenacity_min": _g(book.CHAPTER_TENACITY_WAIT["min"]),
        "no_jitter_waits": _seconds_list(facts["waits_without_jitter_flag"]),
        "sdk_retries": book.OPENAI_SDK_MAX_RETRIES,
        "sdk_attempts": book.OPENAI_SDK_MAX_RETRIES + 1,
        "sdk_timeout": _g(book.OPENAI_SDK_TIMEOUT_S),
        "sdk_first_backoff": _g(SDK_FIRST_BACKOFF_S),
        "sdk_max_backoff": _g(SDK_MAX_BACKOFF_S),
        "sdk_max_retry_after": _g(SDK_MAX_RETRY_AFTER_S),
        "calls_30_5_1": facts["calls_per_request_30_5_1"],
        "calls_30_5_2": facts["calls_per_request_30_5_2"],
        "stream_calls": facts["stream_calls"],
        "chain": [{"model": model, "timeout": _g(timeout)} for model, timeout in book.CHAPTER_CHAIN_30_6_2],
        "chain_worst": f"{facts['chain_worst_case_s']:.1f}",
        "chain_timeouts": _g(facts["chain_timeouts_s"]),
        "cache_seen": cache["seen"],
        "cache_hidden": cache["hidden"],
        "exception_key_error": facts["exception_key_error"],
        "batch_swapped": facts["batch"]["langchain"]["swapped"],
        "batch_ours_swapped": facts["batch"]["ours"]["swapped"],
        "batch_victim": victim["question"] if victim else "",
        "batch_got": victim["answer_to"] if victim else "",
        "storm_layers": (storm["gateway_attempts"], storm["attempts"], storm["sdk_max_retries"] + 1),
        "storm_calls": storm_calls,
        "budget_share": f"{retry.ENVOY_BUDGET_SHARE:.0%}",
        "budget_min": retry.ENVOY_MIN_RETRY_CONCURRENCY,
        "max_retry_after": _g(retry.MAX_RETRY_AFTER_S),
        "stream_sent": demo["mid_stream"]["primary_tokens"],
        "stream_tokens": streaming.MAX_TOKENS,
        "stream_restart_s": f"{demo['restart']['end_s']:.2f}",
        "stream_fallback_first_s": f"{demo['before_first_token']['first_token_s']:.2f}",
        "budget_value": _g(retry.ENVOY_BUDGET_SHARE),
        "defaults": _defaults(),
        "book_30_6": {"outage_length": _g(PRESETS["book-30.6"]["outage_length_s"])},
    }


def _defaults() -> dict[str, str]:
    """The lab's default values that the lessons' questions quote."""
    values = SPEC.defaults()
    start, length = values["outage_start_s"], values["outage_length_s"]
    return {"breaker_failures": str(values["breaker_failures"]), "cooldown": _g(values["breaker_cooldown_s"]),
            "outage_start": _g(start), "outage_end": _g(start + length),
            "probe_by": _g(start + length + values["breaker_cooldown_s"])}


@register.simple_tag
def reliability_source(name: str) -> str:
    """The source of the simulation's functions called ``name`` (escaped by the template)."""
    return "\n\n".join(_dedent(inspect.getsource(fn)) for fn in SOURCES[name])


def _dedent(source: str) -> str:
    lines = source.splitlines()
    indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
    return "\n".join(line[indent:] for line in lines)
