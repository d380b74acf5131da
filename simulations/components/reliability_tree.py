"""Reliability (sections 30.5, 30.6, 30.11): retries, fallbacks, a circuit breaker, a decision tree.

One seeded stream of requests meets a primary model that fails in the ways the
learner sets (timeouts, 429 with retry-after, 500, 503, 400, 401, latency spikes,
an outage window), and is replayed through five strategies on fresh models:
``no_retry``, ``retry`` (langchain-core's ``with_retry``, layers optional), ``retry_after``
(the same, waiting what a 429 asks),
``fallback`` (``with_fallbacks`` down to a cache and a default answer),
``breaker`` (a circuit breaker in front of the primary, then the fallbacks) and
``full`` (a retry that honours retry-after, the breaker, the fallbacks).  A
short streaming demo shows where a fallback stops helping.  The decision tree's
position is a parameter, so a path through it is a link; each leaf has a preset.

The chapter notes (``book_*``) appear when the parameters are those of the
matching ``book-*`` preset.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from langchain_core import __version__ as LANGCHAIN_CORE_VERSION

from ..component import CodeRef, Component, Note, Result, note
from ..mock_llm import FaultMix
from ..params import Param, ParamSpec, Value
from ..profiles import PROFILES
from ..reliability import book, measures, streaming, tree
from ..reliability.breaker import CircuitBreaker
from ..reliability.errors import RETRY_ON, RETRY_ON_LABELS
from ..reliability.fallback import fallback_chain
from ..reliability.retry import ENVOY_MIN_RETRY_CONCURRENCY, RetryBudget, SeededRetry, retrying
from ..reliability.strategies import STRATEGIES, Setup, StrategyRun, build, replay_all
from ..text import gettext_noop
from ..workload import WorkloadSpec, generate

PRIMARIES = ("gpt-4o", "gpt-4o-mini", "claude-3-opus")
FALLBACK_LISTS = ("none", "gpt-4o-mini", "gpt-4o-mini,gpt-3.5-turbo", "claude-3-haiku",
                  "gpt-4o-mini,claude-3-haiku")
RATE_MAX = 0.15  # per error class: six classes stay under 100 % together
DISTINCT_QUESTIONS = 12  # few enough that questions come back, so the cache has answers
PARAPHRASE_SHARE = 0.2  # reworded questions: an exact cache misses them
TRACE_ROWS = 12
STREAM_FALLBACK = "claude-3-haiku"  # the streaming demo's fallback when the chain has none
LONG_TIMEOUT_S = 60.0  # a client timeout this long lets a hung call hold its user for minutes

STRATEGY_LABELS = {
    "no_retry": gettext_noop("no retry"),
    "retry": gettext_noop("with_retry"),
    "retry_after": gettext_noop("with_retry + retry-after"),
    "fallback": gettext_noop("fallbacks"),
    "breaker": gettext_noop("breaker + fallbacks"),
    "full": gettext_noop("full"),
}
FALLBACK_LABELS = {
    "none": gettext_noop("none"),
    "gpt-4o-mini,gpt-3.5-turbo": gettext_noop("gpt-4o-mini, then gpt-3.5-turbo (the chapter's)"),
    "claude-3-haiku": gettext_noop("claude-3-haiku (another provider)"),
    "gpt-4o-mini,claude-3-haiku": gettext_noop("gpt-4o-mini, then claude-3-haiku"),
}
SCOPE_LABELS = {"model": gettext_noop("the primary model only"),
                "provider": gettext_noop("every model of its provider")}


def _rate(name: str, default: float, label: str, help_text: str) -> Param:
    return Param(name, default, min=0.0, max=RATE_MAX, step=0.01, label=label, unit=gettext_noop("share"),
                 help=help_text)


PARAMS = (
    # 12 requests over about 20 s: enough for an outage, a breaker that opens and closes and a
    # few retries, few enough to replay through six strategies on every slider move.
    Param("requests", 12, min=5, max=200, step=1, label=gettext_noop("Requests"),
          unit=gettext_noop("requests"), help=gettext_noop("How many user requests arrive.")),
    Param("rate_per_s", 0.6, min=0.1, max=20.0, step=0.1, label=gettext_noop("Arrival rate"),
          unit=gettext_noop("req/s"), help=gettext_noop("Requests per second, steady (Poisson) traffic.")),
    Param("primary", "gpt-4o", choices=PRIMARIES, label=gettext_noop("Primary model")),
    _rate("timeout_rate", 0.03, gettext_noop("Timeouts"),
          gettext_noop("Share of calls that hang until the model's timeout.")),
    _rate("rate_limit_rate", 0.05, gettext_noop("429 rate limited"),
          gettext_noop("Share of calls refused with 429 and a retry-after.")),
    Param("retry_after_s", 2.0, min=0.1, max=30.0, step=0.1, label=gettext_noop("Retry-after"),
          unit=gettext_noop("s"),
          help=gettext_noop("What a 429 asks the client to wait; coming back sooner is refused again.")),
    _rate("server_error_rate", 0.03, gettext_noop("500 server error"),
          gettext_noop("Share of calls that fail with 500.")),
    _rate("unavailable_rate", 0.02, gettext_noop("503 unavailable"),
          gettext_noop("Share of calls that fail with 503.")),
    _rate("bad_request_rate", 0.0, gettext_noop("400 bad request"),
          gettext_noop("Share of calls refused as malformed: the same request fails again.")),
    _rate("unauthorized_rate", 0.0, gettext_noop("401 unauthorized"),
          gettext_noop("Share of calls refused for the API key: the same request fails again.")),
    Param("spike_rate", 0.05, min=0.0, max=0.5, step=0.01, label=gettext_noop("Latency spikes"),
          unit=gettext_noop("share"), help=gettext_noop("Share of calls that are much slower than usual.")),
    Param("spike_factor", 4.0, min=1.0, max=20.0, step=0.5, label=gettext_noop("Spike size"),
          unit=gettext_noop("times"), help=gettext_noop("How much slower a spiked call is.")),
    Param("outage_start_s", 6.0, min=0.0, max=600.0, step=1.0, label=gettext_noop("Outage starts"),
          unit=gettext_noop("s"), help=gettext_noop("When the primary stops answering (503).")),
    Param("outage_length_s", 6.0, min=0.0, max=600.0, step=1.0, label=gettext_noop("Outage length"),
          unit=gettext_noop("s"), help=gettext_noop("How long it stays down; 0 = no outage.")),
    Param("outage_scope", "model", choices=("model", "provider"), label=gettext_noop("Outage hits"),
          choice_labels=SCOPE_LABELS),
    Param("retry_on", "transient", choices=tuple(RETRY_ON), label=gettext_noop("Retry on"),
          choice_labels=RETRY_ON_LABELS,
          help=gettext_noop("Which errors the retry strategy retries (the full strategy: transient only).")),
    Param("attempts", 3, min=1, max=10, step=1, label=gettext_noop("Attempts (stop_after_attempt)"),
          unit=gettext_noop("attempts"), help=gettext_noop("Attempts in all, the first included.")),
    Param("backoff_base_s", 1.0, min=0.1, max=10.0, step=0.1, label=gettext_noop("Back-off base"),
          unit=gettext_noop("s"), help=gettext_noop("The first wait; each next one doubles.")),
    Param("backoff_cap_s", 10.0, min=0.5, max=60.0, step=0.5, label=gettext_noop("Back-off cap"),
          unit=gettext_noop("s"), help=gettext_noop("No wait is longer than this.")),
    Param("jitter_s", 1.0, min=0.0, max=5.0, step=0.1, label=gettext_noop("Jitter"), unit=gettext_noop("s"),
          help=gettext_noop("A random 0 to this many seconds added to each wait.")),
    Param("sdk_max_retries", 0, min=0, max=5, step=1, label=gettext_noop("Client retries (max_retries)"),
          unit=gettext_noop("retries"),
          help=gettext_noop("Retries inside the model's client, as ChatOpenAI's (default 2).")),
    Param("gateway_attempts", 1, min=1, max=5, step=1, label=gettext_noop("Gateway attempts"),
          unit=gettext_noop("attempts"),
          help=gettext_noop("A gateway in front that retries too (retry strategy); 1 = no gateway retries.")),
    Param("retry_budget", 0.0, min=0.0, max=1.0, step=0.05, label=gettext_noop("Retry budget"),
          unit=gettext_noop("share"),
          help=gettext_noop("Retries in flight at most this share of active requests (at least 3); 0 = off.")),
    Param("fallbacks", "claude-3-haiku", choices=FALLBACK_LISTS, label=gettext_noop("Fallback models"),
          choice_labels=FALLBACK_LABELS),
    Param("primary_timeout_s", 4.0, min=0.5, max=600.0, step=0.5, label=gettext_noop("Primary timeout"),
          unit=gettext_noop("s"), help=gettext_noop("The primary's client gives up after this long.")),
    Param("fallback_timeout_s", 8.0, min=0.5, max=600.0, step=0.5, label=gettext_noop("Fallback timeout"),
          unit=gettext_noop("s"), help=gettext_noop("Each fallback model's client gives up after this long.")),
    Param("cache_fallback", True, label=gettext_noop("Cache fallback"),
          help=gettext_noop("When every model fails, answer from the cache if this question was answered before.")),
    Param("default_answer", True, label=gettext_noop("Default answer"),
          help=gettext_noop("As the last step, a fixed reply saying the service cannot answer now.")),
    Param("breaker_failures", 3, min=1, max=20, step=1, label=gettext_noop("Breaker opens after"),
          unit=gettext_noop("failures in a row")),
    Param("breaker_cooldown_s", 5.0, min=0.5, max=120.0, step=0.5, label=gettext_noop("Breaker cool-down"),
          unit=gettext_noop("s"), help=gettext_noop("How long it stays open before one probe call.")),
    Param("focus", "full", choices=STRATEGIES, label=gettext_noop("Strategy over time"),
          choice_labels=STRATEGY_LABELS,
          help=gettext_noop("The strategy drawn in the served-per-second chart.")),
    Param("tree", tree.ROOT, choices=tree.PATHS, label=gettext_noop("Decision tree position"),
          choice_labels=tree.PATH_LABELS),
)

_QUIET = {"timeout_rate": 0.0, "rate_limit_rate": 0.0, "server_error_rate": 0.0, "unavailable_rate": 0.0,
          "bad_request_rate": 0.0, "unauthorized_rate": 0.0, "spike_rate": 0.0}
_OUTAGE = {"requests": 30, "rate_per_s": 1.5, "outage_start_s": 5.0, "outage_length_s": 10.0,
           "outage_scope": "provider", "breaker_failures": 3, "breaker_cooldown_s": 4.0}
_PERMANENT = {**_QUIET, "bad_request_rate": 0.1, "unauthorized_rate": 0.05, "outage_length_s": 0.0}
_SCATTERED = {**_QUIET, "timeout_rate": 0.05, "rate_limit_rate": 0.05, "server_error_rate": 0.05,
              "unavailable_rate": 0.05, "outage_length_s": 0.0}
PRESETS: dict[str, dict[str, Value]] = {
    # 30.5.1 as it means to run: ChatOpenAI (its client retries twice, waits up to 600 s)
    # under with_retry(stop_after_attempt=3, max wait 10 s), retrying every exception; the
    # "service temporarily unavailable" of 30.5 as an eight-second outage.
    "book-30.5": {"requests": 40, "rate_per_s": 2.0, "primary": "gpt-4o-mini", "timeout_rate": 0.02,
                  "rate_limit_rate": 0.08, "server_error_rate": 0.0, "unavailable_rate": 0.05, "bad_request_rate": 0.1,
                  "unauthorized_rate": 0.0, "outage_start_s": 8.0, "outage_length_s": 8.0, "outage_scope": "model",
                  "retry_on": "all", "attempts": 3,
                  "backoff_base_s": 1.0, "backoff_cap_s": 10.0, "jitter_s": 1.0, "sdk_max_retries": 2,
                  "gateway_attempts": 1, "retry_budget": 0.0, "primary_timeout_s": 600.0, "focus": "retry"},
    # 30.6.2 and 30.6.3: gpt-4o (5 s) -> gpt-4o-mini (10 s) -> gpt-3.5-turbo, then a cache and a
    # default reply, every client retrying twice; gpt-4o goes down for eight seconds.
    "book-30.6": {"primary": "gpt-4o", "fallbacks": "gpt-4o-mini,gpt-3.5-turbo", "primary_timeout_s": 5.0,
                  "fallback_timeout_s": 10.0, "sdk_max_retries": 2, "outage_start_s": 6.0,
                  "outage_length_s": 8.0, "outage_scope": "model", "cache_fallback": True,
                  "default_answer": True, "focus": "fallback"},
    "outage": {**_OUTAGE, "fallbacks": "gpt-4o-mini,claude-3-haiku", "focus": "full"},
    "permanent-errors": {**_PERMANENT, "retry_on": "all", "focus": "retry"},
    # Three layers of three attempts while the provider is down: up to 27 calls per request.
    "retry-storm": {**_QUIET, "outage_start_s": 0.0, "outage_length_s": 600.0, "outage_scope": "provider",
                    "attempts": 3, "sdk_max_retries": 2, "gateway_attempts": 3, "retry_budget": 0.0,
                    "retry_on": "transient", "focus": "retry"},
    # One per leaf of the decision tree.
    "tree-fail-fast": {**_PERMANENT, "retry_on": "transient", "focus": "no_retry", "tree": "n"},
    "tree-retry": {**_SCATTERED, "retry_on": "transient", "attempts": 3, "sdk_max_retries": 0,
                   "gateway_attempts": 1, "focus": "retry_after", "tree": "yn"},
    "tree-fallback-model": {**_OUTAGE, "fallbacks": "claude-3-haiku", "cache_fallback": False,
                            "default_answer": True, "focus": "breaker", "tree": "yyyn"},
    "tree-full": {**_OUTAGE, "fallbacks": "claude-3-haiku", "cache_fallback": True, "default_answer": True,
                  "focus": "full", "tree": "yyyy"},
    "tree-cache": {**_OUTAGE, "fallbacks": "none", "cache_fallback": True, "default_answer": True,
                   "focus": "breaker", "tree": "yyny"},
    "tree-default": {**_OUTAGE, "fallbacks": "none", "cache_fallback": False, "default_answer": True,
                     "focus": "breaker", "tree": "yynn"},
}
SPEC = ParamSpec(params=PARAMS, presets=PRESETS)


def setup_for(params: Mapping[str, Value], seed: int) -> Setup:
    faults = FaultMix(
        timeout=params["timeout_rate"], rate_limited=params["rate_limit_rate"],
        server_error=params["server_error_rate"], unavailable=params["unavailable_rate"],
        bad_request=params["bad_request_rate"], unauthorized=params["unauthorized_rate"],
        retry_after_s=params["retry_after_s"], spike_rate=params["spike_rate"],
        spike_factor=params["spike_factor"],
    )
    start, length = params["outage_start_s"], params["outage_length_s"]
    backups = () if params["fallbacks"] == "none" else tuple(
        name for name in params["fallbacks"].split(",") if name != params["primary"])
    return Setup(
        primary=params["primary"], backups=backups, faults=faults,
        outage=(start, start + length) if length > 0 else None, outage_scope=params["outage_scope"],
        primary_timeout_s=params["primary_timeout_s"], backup_timeout_s=params["fallback_timeout_s"],
        sdk_retries=params["sdk_max_retries"], attempts=params["attempts"], retry_on=params["retry_on"],
        base_s=params["backoff_base_s"], cap_s=params["backoff_cap_s"], jitter_s=params["jitter_s"],
        gateway_attempts=params["gateway_attempts"], budget_share=params["retry_budget"],
        cache=params["cache_fallback"], default=params["default_answer"],
        breaker_failures=params["breaker_failures"], breaker_cooldown_s=params["breaker_cooldown_s"],
        seed=seed,
    )


def requests_for(params: Mapping[str, Value], seed: int):
    spec = WorkloadSpec(requests=params["requests"], rate_per_s=params["rate_per_s"],
                        distinct_intents=DISTINCT_QUESTIONS, paraphrase_share=PARAPHRASE_SHARE)
    return generate(spec, seed)


@functools.lru_cache(maxsize=16)
def stream_demo(primary: str, fallback: str) -> tuple[dict[str, Any], ...]:
    # Fixed seed: the demo shows where the error falls, which no slider changes.
    return tuple(streaming.stream_cases(primary, fallback, seed=0))


def run(params: Mapping[str, Value], seed: int) -> Result:
    setup = setup_for(params, seed)
    requests = requests_for(params, seed)
    runs = replay_all(setup, requests)
    per_strategy = {name: measures.strategy_metrics(r, setup) for name, r in runs.items()}
    duration = max((r.arrival_s for r in requests), default=0.0)
    width = measures.bucket_s(duration)
    servers = (setup.primary, *setup.backups, "cache", "default", "error")
    stream = [dict(case) for case in stream_demo(setup.primary, (setup.backups or (STREAM_FALLBACK,))[0])]
    return Result(
        component="reliability-tree", params=dict(params), seed=seed,
        metrics={
            "strategies": per_strategy,
            "requests": len(requests),
            "max_calls_per_request": setup.max_calls_per_request,
            "outage": list(setup.outage) if setup.outage else None,
            "provider": setup.provider,
            "tree": tree.describe(params["tree"]),
        },
        series={
            "breaker_state": measures.breaker_series(runs["breaker"]),
            "breaker_state_full": measures.breaker_series(runs["full"]),
            "served_per_second": {name: measures.served_per_second(r, width, servers) for name, r in runs.items()},
            "bucket_s": width,
            "servers": list(servers),
            "stream_cut": stream,
        },
        trace=_trace(runs[params["focus"]]),
        notes=_notes(params, setup, runs, per_strategy, stream),
    )


def _trace(run: StrategyRun) -> list[dict[str, Any]]:
    """The first requests of the focused strategy: when they came, who answered, how long it took."""
    attempts: dict[Any, int] = {}
    for _, call in run.calls:
        attempts[call.request_id] = attempts.get(call.request_id, 0) + 1
    return [{"request": s.request, "arrival_s": s.arrival_s, "served_by": s.served_by, "error": s.error,
             "latency_s": s.latency_s, "calls": attempts.get(s.request, 0)} for s in run.served[:TRACE_ROWS]]


# English wording of each note; %(name)s placeholders are filled from the note's data.
NOTE_TEXTS = {
    "book_30_5_call": gettext_noop(
        "The chapter's llm.with_retry(stop_after_attempt=3, wait_exponential_multiplier=1, "
        "wait_exponential_max=10) fails before any call: “%(error)s”. This preset runs the call it means, "
        "with_retry(stop_after_attempt=3, exponential_jitter_params={\"initial\": 1, \"max\": 10}), which "
        "retries every exception, 400 and 401 included."),
    "book_30_5_attempts": gettext_noop(
        "stop_after_attempt=3 makes %(attempts)s attempts, that is %(retries)s retries, not the 3 retries the "
        "chapter's comment says; the waits before them are %(wait1)s s and %(wait2)s s (with_retry adds up to "
        "1 s of jitter), not %(chapter_waits)s s."),
    "book_30_5_import": gettext_noop(
        "The chapter's from langchain_core.runnables import RunnableRetry fails: “%(error)s”. The class lives in "
        "langchain_core.runnables.retry, and with_retry() builds it for you."),
    "book_30_5_tenacity": gettext_noop(
        "The chapter's tenacity example (30.5.2) says it waits %(chapter)s s; its wait_exponential(multiplier=1, "
        "min=2, max=30) waits %(waits)s s over its %(attempts)s attempts, with no jitter, and it retries "
        "RateLimitError only: timeouts and 5xx are not retried at all."),
    "book_30_5_layers": gettext_noop(
        "ChatOpenAI's own client retries %(sdk)s times before with_retry sees an error, so one request may cost "
        "up to %(calls)s calls; in this run one request made %(most)s calls to the provider."),
    "book_30_5_batch": gettext_noop(
        "langchain-core %(version)s's with_retry().abatch retries whole rounds and gave one question another "
        "question's answer (langchain issue #35475); this lab retries each input on its own."),
    "book_30_6_chain": gettext_noop(
        "The chapter's chain waits %(chain)s s for its three models and ChatOpenAI's client tries each "
        "%(attempts)s times: when all three hang, the user gets an error after %(worst).1f s (%(timeouts).0f s of "
        "timeouts plus the client's back-off). Here the fallback timeout is one value for both backups."),
    "book_30_6_no_timeout": gettext_noop(
        "The chapter's first chain (30.6.1) sets no timeout: a hung gpt-4o holds its request for up to "
        "%(timeout)s s, tried %(attempts)s times by the client, before gpt-4o-mini is asked."),
    "book_30_6_provider": gettext_noop(
        "Every model of the chapter's chain is an OpenAI model: set the outage to hit every model of its "
        "provider and the whole chain fails at once."),
    "book_30_6_cache": gettext_noop(
        "The chapter's cache fallback (30.6.3) never answers: check_cache is not defined, so the fallback "
        "raises “%(hidden)s”, which with_fallbacks hides behind the primary's own error (“%(seen)s”). Here the "
        "cache rung is a real cache of earlier answers. Even with check_cache defined, the fallback would read "
        "input_dict[\"question\"] from the model's input, a string, and return a string where the model "
        "returns an AIMessage."),
    "retry_after_ignored": gettext_noop(
        "with_retry waits its own back-off, not the retry-after. Retries that came back too early and were "
        "refused again: %(early)s with with_retry, %(early_after)s when the same retry waits what each 429 "
        "asks."),
    "permanent_retried": gettext_noop(
        "Calls that repeated a request already refused with 400 or 401: %(wasted)s. They could only fail "
        "again; retry transient errors only."),
    "permanent_not_retried": gettext_noop(
        "Requests that failed with 400 or 401: %(failed)s, each with a single call. Retrying them would only "
        "fail again."),
    "amplification": gettext_noop(
        "The retry layers multiply: %(gateway)s gateway × %(chain)s with_retry × %(sdk)s client attempts = up "
        "to %(max)s calls per request. In this run one request made %(most)s calls to the failing provider."),
    "budget": gettext_noop(
        "Retries the retry budget (%(share)s of active requests, at least %(min)s at a time) refused in the "
        "with_retry strategy: %(denied)s."),
    "breaker": gettext_noop(
        "Circuit breaker (breaker + fallbacks): opened %(opened)s×, open for %(open_s).1f s in all; calls it "
        "turned away before they reached the failing provider: %(rejected)s."),
    "same_provider": gettext_noop(
        "The outage hits every %(provider)s model, so fallbacks on %(provider)s failed with the primary."),
    "hung": gettext_noop(
        "Calls that hung until the client's timeout of %(timeout)s s ran out: %(hung)s; the slowest request "
        "took %(slowest)s s, retries included. Give every model a timeout of a few seconds."),
    "stream_cut": gettext_noop(
        "Streaming: when the primary failed before its first token, the fallback streamed the whole answer; "
        "when it failed after %(sent)s tokens, with_fallbacks could not help and the reader was left with half "
        "an answer and an error. Restarting the answer on the fallback gave a whole answer after %(restart_s).2f s."),
}


def _fmt(seconds: float) -> str:
    return f"{seconds:g} s"


def _notes(params: Mapping[str, Value], setup: Setup, runs: Mapping[str, StrategyRun],
           metrics: Mapping[str, Mapping[str, Any]], stream: list[dict[str, Any]]) -> list[Note]:
    notes: list[Note] = []
    retry = metrics["retry"]
    if SPEC.matches(params, "book-30.5"):
        (low1, high1), (low2, high2) = book.with_retry_wait_ranges()
        attempts = book.attempts_made()
        notes += [
            note(NOTE_TEXTS, "book_30_5_call", error=book.with_retry_rejects_chapter_kwargs()),
            note(NOTE_TEXTS, "book_30_5_import", error=book.runnable_retry_import().split(" (/")[0]),
            note(NOTE_TEXTS, "book_30_5_tenacity", attempts=book.CHAPTER_TENACITY_ATTEMPTS,
                 chapter=" → ".join(f"{w:g}" for w in book.CHAPTER_WAITS_30_5_2),
                 waits=", ".join(f"{w:g}" for w in book.tenacity_waits_30_5_2())),
            note(NOTE_TEXTS, "book_30_5_attempts", attempts=attempts, retries=attempts - 1,
                 wait1=f"{low1:g}–{high1:g}", wait2=f"{low2:g}–{high2:g}",
                 chapter_waits=", ".join(f"{w:g}" for w in book.CHAPTER_WAITS_30_5_1)),
            note(NOTE_TEXTS, "book_30_5_layers", sdk=book.OPENAI_SDK_MAX_RETRIES, calls=setup.max_calls_per_request,
                 most=retry["most_calls_for_one_request"]),
        ]
        if book.batch_swap_check()["langchain"]["swapped"]:
            notes.append(note(NOTE_TEXTS, "book_30_5_batch", version=LANGCHAIN_CORE_VERSION))
    if SPEC.matches(params, "book-30.6"):
        notes += [
            note(NOTE_TEXTS, "book_30_6_no_timeout", timeout=f"{book.OPENAI_SDK_TIMEOUT_S:g}",
                 attempts=book.OPENAI_SDK_MAX_RETRIES + 1),
            note(NOTE_TEXTS, "book_30_6_chain", worst=book.chapter_chain_worst_case_s(),
                 timeouts=book.chapter_chain_timeouts_s(), attempts=book.OPENAI_SDK_MAX_RETRIES + 1,
                 chain=", ".join(f"{timeout:g}" for _, timeout in book.CHAPTER_CHAIN_30_6_2)),
            note(NOTE_TEXTS, "book_30_6_provider"),
            note(NOTE_TEXTS, "book_30_6_cache", **book.chapter_cache_fallback()),
        ]
    if retry["early_retries"]:
        notes.append(note(NOTE_TEXTS, "retry_after_ignored", early=retry["early_retries"],
                          early_after=metrics["retry_after"]["early_retries"]))
    failed_permanent = sum(s.error in ("bad_request", "unauthorized") for s in runs["retry"].served)
    if retry["permanent_retries"]:
        notes.append(note(NOTE_TEXTS, "permanent_retried", wasted=retry["permanent_retries"]))
    elif failed_permanent:
        notes.append(note(NOTE_TEXTS, "permanent_not_retried", failed=failed_permanent))
    if setup.gateway_attempts > 1 or setup.sdk_retries > 0:
        notes.append(note(NOTE_TEXTS, "amplification", gateway=setup.gateway_attempts, chain=setup.attempts,
                          sdk=setup.sdk_retries + 1, max=setup.max_calls_per_request,
                          most=retry["most_calls_for_one_request"]))
    if retry["budget_denied"]:
        notes.append(note(NOTE_TEXTS, "budget", share=f"{setup.budget_share:.0%}", min=ENVOY_MIN_RETRY_CONCURRENCY,
                          denied=retry["budget_denied"]))
    breaker = metrics["breaker"]
    if breaker["breaker_opened"]:
        notes.append(note(NOTE_TEXTS, "breaker", opened=breaker["breaker_opened"],
                          open_s=breaker["breaker_open_s"], rejected=breaker["breaker_rejected"]))
    if setup.outage and setup.outage_scope == "provider" and any(
            _provider(name) == setup.provider for name in setup.backups):
        notes.append(note(NOTE_TEXTS, "same_provider", provider=setup.provider))
    hung = sum(call.outcome == "timeout" for _, call in runs["retry"].calls)
    if hung and setup.primary_timeout_s >= LONG_TIMEOUT_S:
        notes.append(note(NOTE_TEXTS, "hung", timeout=f"{setup.primary_timeout_s:g}", hung=hung,
                          slowest=f"{retry['max_latency_ms'] / 1000:.0f}"))
    cut = next(case for case in stream if case["case"] == "mid_stream")
    restart = next(case for case in stream if case["case"] == "restart")
    notes.append(note(NOTE_TEXTS, "stream_cut", sent=cut["primary_tokens"], restart_s=restart["end_s"]))
    return notes


def _provider(model: str) -> str:
    return PROFILES[model].provider


COMPONENT = Component(
    name="reliability-tree", title=gettext_noop("Retries, fallbacks and a circuit breaker"), section="30.5",
    spec=SPEC, run=run,
    code=(
        CodeRef(gettext_noop("with_retry, made reproducible (and honouring retry-after)"), retrying),
        CodeRef(gettext_noop("The wait that honours retry-after"), SeededRetry._kwargs_retrying.fget),
        CodeRef(gettext_noop("A retry budget in the manner of Envoy's"), RetryBudget.allow),
        CodeRef(gettext_noop("with_fallbacks down to a cache and a default answer"), fallback_chain),
        CodeRef(gettext_noop("The circuit breaker"), CircuitBreaker.call),
        CodeRef(gettext_noop("Each strategy, built"), build),
        CodeRef(gettext_noop("A stream that restarts on the fallback"), streaming.stream_with_restart),
    ),
)
