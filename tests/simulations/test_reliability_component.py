"""The reliability-tree component: its JSON, its presets, like-for-like replays, every path of the tree."""

from __future__ import annotations

import functools
import json

import pytest

from simulations.components import reliability_tree as component
from simulations.reliability import book, tree
from simulations.reliability.breaker import STATES
from simulations.reliability.strategies import STRATEGIES, replay
from simulations.registry import get

REQUIRED = ("availability", "p95_latency_ms", "cost_usd", "provider_calls_per_request")


@functools.cache
def run(preset: str | None = None, seed: int = 0, **values):
    return get("reliability-tree").execute(values, preset=preset, seed=seed)


def test_the_json_has_every_strategy_with_the_documented_fields():
    result = json.loads(json.dumps(run().to_dict(), allow_nan=False))
    strategies = result["metrics"]["strategies"]
    assert set(strategies) >= {"no_retry", "retry", "fallback", "breaker", "full"}
    assert set(strategies) == set(STRATEGIES)
    for name, metrics in strategies.items():
        for key in REQUIRED:
            assert isinstance(metrics[key], (int, float)), (name, key)
        assert 0 <= metrics["availability"] <= 1
        assert metrics["availability"] + metrics["default_rate"] + metrics["error_rate"] == pytest.approx(1)
        assert sum(metrics["provider_calls_by_layer"].values()) == pytest.approx(metrics["provider_calls_per_request"])


def test_breaker_state_is_a_list_of_times_and_states():
    points = run().series["breaker_state"]
    assert points[0] == [0.0, "closed"]
    assert all(isinstance(t, float) and state in STATES for t, state in points)
    assert [t for t, _ in points] == sorted(t for t, _ in points)
    assert {state for _, state in points} == set(STATES)  # the default outage opens it and it recovers


def test_strategies_meet_the_same_failures_request_by_request():
    params = get("reliability-tree").spec.parse({})
    setup = component.setup_for(params, seed=4)
    requests = component.requests_for(params, seed=4)
    first_tries = {}
    for name in ("no_retry", "retry"):
        run_ = replay(name, setup, requests)
        first_tries[name] = {c.request_id: (c.outcome, round(c.end_s - c.start_s, 9))
                             for m, c in run_.calls if dict(c.metadata).get("attempt:chain", 1) == 1}
    assert first_tries["no_retry"] == first_tries["retry"]


def test_the_defaults_tell_the_strategies_apart():
    per = run().metrics["strategies"]
    assert per["retry"]["availability"] > per["no_retry"]["availability"]
    assert per["full"]["availability"] >= per["retry"]["availability"]
    assert per["breaker"]["provider_calls_per_request"] < per["fallback"]["provider_calls_per_request"]
    assert per["breaker"]["breaker_rejected"] > 0


def test_book_30_5_notes_compare_the_chapter_with_what_runs():
    result = run("book-30.5")
    codes = [n.code for n in result.notes]
    assert {"book_30_5_call", "book_30_5_import", "book_30_5_tenacity", "book_30_5_attempts", "book_30_5_layers",
            "book_30_5_batch"} <= set(codes)
    tenacity = next(n for n in result.notes if n.code == "book_30_5_tenacity")
    assert tenacity.data["waits"] == "2, 2, 4, 8" and tenacity.data["chapter"] == "1 → 2 → 4 → 8"
    call = next(n for n in result.notes if n.code == "book_30_5_call")
    assert "wait_exponential_multiplier" in call.data["error"]
    assert result.metrics["max_calls_per_request"] == 9  # 3 with_retry attempts x 3 client attempts


def test_book_30_6_notes_time_the_chapters_chain_and_find_its_cache_fallback_broken():
    result = run("book-30.6")
    notes = {n.code: n for n in result.notes}
    assert {"book_30_6_no_timeout", "book_30_6_chain", "book_30_6_provider", "book_30_6_cache"} <= set(notes)
    assert notes["book_30_6_chain"].data["worst"] > notes["book_30_6_chain"].data["timeouts"] == 90
    assert "check_cache" in notes["book_30_6_cache"].data["hidden"]
    # The same figure as the lesson's prose (rendered from the same measurement), not rounded differently.
    worst = book.chapter_chain_worst_case_s()
    assert f"after {worst:.1f} s" in notes["book_30_6_chain"].text


def test_book_notes_appear_only_for_the_chapters_setup():
    assert not [n for n in run().notes if n.code.startswith("book_")]
    assert not [n for n in run("book-30.5", requests=41).notes if n.code.startswith("book_")]


def test_permanent_errors_retried_by_default_and_not_when_only_transient_ones_are():
    wasted = run("permanent-errors").metrics["strategies"]["retry"]
    fixed = run("tree-fail-fast").metrics["strategies"]["retry"]
    assert wasted["permanent_retries"] > 0 and fixed["permanent_retries"] == 0
    assert fixed["provider_calls_per_request"] == 1.0
    assert wasted["availability"] == fixed["availability"]  # retrying a 400 never helps


def test_a_retry_storm_reaches_27_calls_per_request_and_a_budget_caps_it():
    storm = run("retry-storm").metrics["strategies"]["retry"]
    assert storm["most_calls_for_one_request"] == 27 and storm["provider_calls_per_request"] == 27
    capped = run("retry-storm", retry_budget=0.2).metrics["strategies"]["retry"]
    assert capped["provider_calls_per_request"] < storm["provider_calls_per_request"] / 2
    assert capped["budget_denied"] > 0


def test_an_outage_on_the_whole_provider_takes_same_provider_fallbacks_with_it():
    result = run("outage")
    per = result.metrics["strategies"]
    assert "same_provider" in [n.code for n in result.notes]
    assert per["full"]["availability"] > per["no_retry"]["availability"]
    assert per["full"]["provider_calls_by_layer"]["fallback"] > 0  # gpt-4o-mini tried, and failed


def test_honouring_retry_after_avoids_early_retries():
    per = run(retry_after_s=2.5, rate_limit_rate=0.15, outage_length_s=0.0, requests=40).metrics["strategies"]
    assert per["retry"]["early_retries"] > 0
    assert per["retry_after"]["early_retries"] == 0 and per["full"]["early_retries"] == 0
    assert per["retry_after"]["provider_calls_per_request"] < per["retry"]["provider_calls_per_request"]


def test_from_the_retries_lesson_the_client_must_stop_retrying_before_retry_after_shows():
    # The lesson's walk-through starts from book-30.5, whose client retries twice and waits
    # what a 429 asks by itself: with_retry never sees an early 429, and the strategies agree.
    busy = {"rate_limit_rate": 0.15, "retry_after_s": 5.0}
    per = run("book-30.5", **busy).metrics["strategies"]
    assert per["retry"]["early_retries"] == per["retry_after"]["early_retries"] == 0
    assert per["retry"]["availability"] == per["retry_after"]["availability"]
    # Client retries off, as the lesson says: with_retry comes back early and loses requests.
    per = run("book-30.5", sdk_max_retries=0, **busy).metrics["strategies"]
    assert per["retry"]["early_retries"] > 0 == per["retry_after"]["early_retries"]
    assert per["retry_after"]["availability"] > per["retry"]["availability"]


def test_from_the_fallbacks_lesson_a_provider_wide_outage_needs_another_provider():
    # book-30.6's eight seconds are outlasted by the clients' retries: everyone is answered, later.
    per = run("book-30.6", outage_scope="provider").metrics["strategies"]
    assert per["fallback"]["availability"] == 1.0
    assert per["fallback"]["p95_latency_ms"] > run("book-30.6").metrics["strategies"]["fallback"]["p95_latency_ms"]
    # Thirty seconds: the all-OpenAI chain ends in default answers; claude-3-haiku holds.
    per = run("book-30.6", outage_scope="provider", outage_length_s=30.0).metrics["strategies"]
    assert per["fallback"]["default_rate"] > 0.5
    per = run("book-30.6", outage_scope="provider", outage_length_s=30.0,
              fallbacks="claude-3-haiku").metrics["strategies"]
    assert per["fallback"]["availability"] == 1.0 and per["fallback"]["default_rate"] == 0.0
    # The breaker: the same availability with fewer calls to the failing provider and a shorter wait.
    assert per["breaker"]["availability"] == per["fallback"]["availability"]
    assert per["breaker"]["provider_calls_per_request"] < per["fallback"]["provider_calls_per_request"]
    assert per["breaker"]["p50_latency_ms"] < per["fallback"]["p50_latency_ms"]


# -- the decision tree ----------------------------------------------------------------------


def test_every_path_of_the_tree_is_a_choice_and_leads_to_a_node():
    assert set(tree.PATHS) == set(get("reliability-tree").spec["tree"].choices)
    questions = [p for p, n in tree.NODES.items() if isinstance(n, tree.Question)]
    leaves = [p for p, n in tree.NODES.items() if isinstance(n, tree.Leaf)]
    assert len(questions) == 5 and len(leaves) == 6
    for path in questions:
        assert tree.child(path, tree.YES) in tree.NODES and tree.child(path, tree.NO) in tree.NODES


@pytest.mark.parametrize("path", tree.PATHS)
def test_each_path_is_described_with_its_answers(path):
    described = tree.describe(path)
    assert described["path"] == path and len(described["answers"]) == (0 if path == tree.ROOT else len(path))
    node = tree.node_at(path)
    if isinstance(node, tree.Leaf):
        assert described["strategy"] in STRATEGIES and described["preset"] == node.preset
    else:
        assert described["leaf"] is None


@pytest.mark.parametrize("leaf", sorted(tree.LEAVES))
def test_each_leaf_has_a_preset_that_opens_the_tree_at_that_leaf(leaf):
    path, node = tree.LEAVES[leaf]
    preset = get("reliability-tree").spec.presets[node.preset]
    assert preset["tree"] == path and preset["focus"] == node.strategy


def test_a_leaf_preset_runs_and_reports_where_the_tree_is():
    result = run("tree-cache")
    assert result.metrics["tree"]["leaf"] == "cache" and result.metrics["tree"]["strategy"] == "breaker"
    breaker = result.metrics["strategies"]["breaker"]
    assert breaker["cache_rate"] > 0 and breaker["fallback_rate"] == 0  # no backup model on this leaf


# -- each strategy, on failures simple enough to predict ------------------------------------------


def _setup(**overrides):
    from simulations.mock_llm import FaultMix
    from simulations.reliability.strategies import Setup

    values = dict(primary="gpt-4o", backups=("claude-3-haiku",), faults=FaultMix(), outage=None, outage_scope="model",
                  primary_timeout_s=4.0, backup_timeout_s=8.0, sdk_retries=0, attempts=3, retry_on="transient",
                  base_s=1.0, cap_s=10.0, jitter_s=0.0, gateway_attempts=1, budget_share=0.0, cache=True, default=True,
                  breaker_failures=3, breaker_cooldown_s=5.0, seed=0)
    return Setup(**{**values, **overrides})


def _requests(n=8, gap_s=1.0):
    from simulations.workload import Request

    return [Request(i, i * gap_s, "What is LangChain?", "what-is-langchain", "langchain", 0.2, "free", False)
            for i in range(n)]


def _calls_by_request(run, model):
    counts = {}
    for name, call in run.calls:
        if name == model:
            counts.setdefault(call.request_id, []).append(call)
    return counts


def test_each_strategy_does_what_it_says_when_the_primary_is_down():
    from simulations.mock_llm import FaultMix

    setup = _setup(faults=FaultMix(unavailable=1.0))
    requests = _requests(10)  # one a second: the breaker opens near 2.4 s and probes at 8 s
    runs = {name: replay(name, setup, requests) for name in STRATEGIES}
    primary = {name: _calls_by_request(r, "gpt-4o") for name, r in runs.items()}
    assert all(len(c) == 1 for c in primary["no_retry"].values())  # one call, no retry
    assert all(len(c) == 3 for c in primary["retry"].values())  # stop_after_attempt=3
    assert {s.served_by for s in runs["no_retry"].served} == {"error"}
    assert {s.served_by for s in runs["fallback"].served} == {"claude-3-haiku"}
    assert all(len(c) == 1 for c in primary["fallback"].values())  # the primary is asked every time
    assert len(primary["breaker"]) == 3 + 1  # three failures open it; one probe after the cool-down
    assert runs["breaker"].breaker.rejected == len(requests) - 4
    assert {s.served_by for s in runs["full"].served} == {"claude-3-haiku"}


def test_the_retry_after_strategy_waits_what_the_429_asks():
    from simulations.mock_llm import FaultMix

    setup = _setup(faults=FaultMix(rate_limited=1.0, retry_after_s=2.5))
    requests = _requests(3, gap_s=20.0)
    waited = {}
    for name in ("retry", "retry_after"):
        calls = _calls_by_request(replay(name, setup, requests), "gpt-4o")
        waited[name] = [round(b.start_s - a.end_s, 9) for c in calls.values() for a, b in zip(c, c[1:])]
    assert waited["retry"] == [1.0, 2.0] * 3  # its own back-off (jitter 0), too early the first time
    assert waited["retry_after"] == [2.5, 2.5] * 3


def test_full_ends_in_the_cache_then_the_default_answer_when_every_model_fails():
    from simulations.mock_llm import FaultMix

    setup = _setup(faults=FaultMix(), outage=(2.5, 100.0), outage_scope="provider", backups=("gpt-4o-mini",))
    requests = _requests(6)
    requests[3] = requests[3].__class__(3, 3.0, "How do I install LangChain?", "install-langchain", "langchain",
                                        0.2, "free", False)
    served = [s.served_by for s in replay("full", setup, requests).served]
    assert served[:3] == ["gpt-4o"] * 3  # before the outage
    assert served[3] == "default"  # a new question: nothing cached
    assert set(served[4:]) == {"cache"}  # asked before the outage: the last good answer
