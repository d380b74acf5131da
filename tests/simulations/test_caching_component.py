"""The caching comparison: golden numbers, restart, warm-up, single-flight, threshold, presets."""

from __future__ import annotations

import json

import pytest

from simulations import intents
from simulations.caching.measures import percentile
from simulations.caching.observed import MISS
from simulations.caching.strategies import STRATEGIES as CACHE_STRATEGIES
from simulations.caching.threshold import THRESHOLDS
from simulations.registry import get
from simulations.components.caching_comparison import SPEC, warmup_questions, workload_spec
from simulations.params import ParamError
from simulations.redis_server import client

STRATEGIES = ("none", "in_memory", "sqlite", "redis", "multi_level", "semantic")
EXACT = ("in_memory", "sqlite", "redis", "multi_level")
REQUIRED = ("hit_rate", "p50_latency_ms", "p95_latency_ms", "cost_usd", "llm_calls", "wrong_answer_rate")


def execute(preset: str | None = None, seed: int = 0, **raw):
    return get("caching-comparison").execute(raw, preset=preset, seed=seed)


@pytest.fixture(scope="module")
def default_run():
    return execute()


def test_registered_with_both_book_presets():
    component = get("caching-comparison")
    assert component.section == "30.1"
    assert set(component.spec.presets) == {"book-30.1", "book-32.3"}


def test_golden_metrics_for_the_defaults(default_run):
    per = default_run.metrics["strategies"]
    assert list(per) == list(STRATEGIES)
    assert per["none"]["hit_rate"] == 0.0
    assert per["none"]["llm_calls"] == 40
    assert per["none"]["cost_usd"] == pytest.approx(0.00135885, rel=1e-9)
    assert round(per["none"]["p50_latency_ms"], 1) == 1030.6  # the mock model's median call, seed 0
    for name in (*EXACT, "semantic"):
        assert per[name]["hit_rate"] == pytest.approx(18 / 40)
        assert per[name]["llm_calls"] == 22
        assert per[name]["coalesced_requests"] == 0
        assert per[name]["llm_calls_without_single_flight"] == 22
        assert per[name]["cost_usd"] == pytest.approx(0.000795, rel=1e-9)
        assert per[name]["wrong_answer_rate"] == 0.0
    assert per["multi_level"]["l1_hit_rate"] == pytest.approx(14 / 40)
    assert per["multi_level"]["l2_hit_rate"] == pytest.approx(4 / 40)
    # Same misses, so the strategies' medians (a miss each) differ only by the modelled
    # cost of a missed lookup and of the write that follows it.
    cost = {s.name: s.cost for s in CACHE_STRATEGIES}
    def miss_overhead_ms(name):
        return (cost[name].of(MISS) + cost[name].write_s) * 1000

    base = per["in_memory"]["p50_latency_ms"] - miss_overhead_ms("in_memory")
    for name in (*EXACT, "semantic"):
        assert per[name]["p50_latency_ms"] == pytest.approx(base + miss_overhead_ms(name), abs=1e-5), name
    assert per["in_memory"]["p50_latency_ms"] < per["redis"]["p50_latency_ms"] < per["semantic"]["p50_latency_ms"]
    assert round(per["semantic"]["p95_latency_ms"]) == 1451


def test_the_json_interface_has_every_strategy_and_field(default_run):
    data = json.loads(json.dumps(default_run.to_dict()))
    for name in STRATEGIES:
        assert set(REQUIRED) <= set(data["metrics"]["strategies"][name])
    assert data["metrics"]["embedding"] == {
        "name": "hashed-ngrams", "label": "hashed n-gram vectors (lexical similarity, not meaning)",
        "is_semantic": False}
    assert data["notes"][0]["code"] == "embedding_hashed-ngrams"


def test_same_seed_same_result_and_another_seed_differs(default_run):
    assert execute().to_dict() == default_run.to_dict()
    other = execute(seed=1).metrics["strategies"]["none"]["p50_latency_ms"]
    assert other != default_run.metrics["strategies"]["none"]["p50_latency_ms"]


def test_a_cache_hit_costs_only_its_modelled_lookup(default_run):
    trace = default_run.trace
    assert {row["strategy"] for row in trace} == {"multi_level"}
    assert [row["outcome"] for row in trace] == [
        "miss", "miss", "miss", "l1", "miss", "miss", "l1", "miss", "l1", "miss", "miss", "miss"]
    modelled = {"l1": 0.05, "l2": 1.05}  # L1 alone; L1 then one Redis round trip
    for row in trace:
        if row["outcome"] in modelled:
            assert row["latency_ms"] == modelled[row["outcome"]]
        else:
            assert row["latency_ms"] > 100  # waited for the model, its own call or a shared one


def test_after_a_restart_memory_is_empty_and_files_and_redis_are_not(default_run):
    result = execute(restart_at=30)
    per = result.metrics["strategies"]
    assert per["in_memory"]["hit_rate_after_restart"] == pytest.approx(1 / 10)
    for name in ("sqlite", "redis", "multi_level", "semantic"):
        assert per[name]["hit_rate_after_restart"] == pytest.approx(6 / 10)
        # Persistent stores do exactly what they did without a restart.
        assert per[name]["llm_calls"] == default_run.metrics["strategies"][name]["llm_calls"] == 22
    assert per["in_memory"]["llm_calls"] == 27
    over_time = result.series["hit_rate_over_time"]["strategies"]
    first_after = 30 // result.series["hit_rate_over_time"]["window"]
    assert over_time["in_memory"][first_after] == 0.0 < over_time["sqlite"][first_after]


def test_a_restart_after_the_last_request_never_happens(default_run):
    late = execute(restart_at=60)
    assert late.metrics["strategies"]["in_memory"]["hit_rate_after_restart"] is None
    assert late.metrics["strategies"] == default_run.metrics["strategies"]


def test_the_l2_answers_for_the_empty_l1_after_a_restart():
    result = execute(restart_at=30, l1_size=1000)
    l1 = result.series["hit_rate_over_time"]["levels"]["multi_level"]["l1"]
    window = result.series["hit_rate_over_time"]["window"]
    after = 30 // window
    assert l1[after] == 0.0
    assert result.series["hit_rate_over_time"]["strategies"]["multi_level"][after] > 0.0


def test_warm_up_raises_the_early_hit_rate_and_runs_again_at_restart():
    cold = execute(restart_at=30).metrics["strategies"]
    warm = execute(restart_at=30, warmup=True)
    per = warm.metrics["strategies"]
    assert warm.series["warmup_questions"] == [q.text for q in warmup_questions(workload_spec(warm.params))]
    assert len(warm.series["warmup_questions"]) == 10
    assert cold["in_memory"]["cold_start_hit_rate"] == pytest.approx(0.2)
    assert per["in_memory"]["cold_start_hit_rate"] == pytest.approx(0.8)
    # Warm-up runs at every start: the in-memory cache pays for it twice, SQLite once.
    assert per["in_memory"]["warmup_llm_calls"] == 20
    assert per["sqlite"]["warmup_llm_calls"] == 10
    assert per["none"]["warmup_llm_calls"] == 0


def test_single_flight_merges_identical_misses_in_flight():
    per = execute(requests=50, distinct_intents=3, paraphrase_share=0.0, rate_per_s=50.0,
                  concurrency=64).metrics["strategies"]
    for name in (*EXACT, "semantic"):
        assert per[name]["llm_calls"] == 3
        assert per[name]["coalesced_requests"] == 40
        assert per[name]["llm_calls_without_single_flight"] == 43
    assert per["none"]["llm_calls"] == 50


def test_a_short_ttl_expires_entries_but_not_in_memory_ones():
    per = execute(ttl_s=10.0, rate_per_s=1.0).metrics["strategies"]
    assert per["redis"]["hit_rate"] == per["sqlite"]["hit_rate"] < per["in_memory"]["hit_rate"]
    # L1 keeps its copies for its own 60 s, longer than L2's 10 s: more (staler) hits.
    assert per["multi_level"]["hit_rate"] > per["redis"]["hit_rate"]


@pytest.fixture(scope="module")
def loose_semantic():
    return execute(requests=100, distinct_intents=60, semantic_threshold=0.5)


def test_a_low_threshold_serves_wrong_answers_and_one_serves_none(loose_semantic):
    assert loose_semantic.metrics["strategies"]["semantic"]["wrong_answer_rate"] == pytest.approx(0.22)
    assert loose_semantic.metrics["strategies"]["in_memory"]["wrong_answer_rate"] == 0.0
    strict = execute(requests=100, distinct_intents=60, semantic_threshold=1.0)
    assert strict.metrics["strategies"]["semantic"]["wrong_answer_rate"] == 0.0


def test_the_topic_filter_removes_cross_topic_wrong_answers(loose_semantic):
    filtered = execute(requests=100, distinct_intents=60, semantic_threshold=0.5, topic_filter=True)
    assert filtered.metrics["strategies"]["semantic"]["wrong_answer_rate"] == pytest.approx(0.10)


def test_the_threshold_table_is_monotonic_and_exact_at_the_active_threshold(loose_semantic):
    explorer = loose_semantic.series["threshold_explorer"]
    rows = explorer["rows"]
    assert [r["threshold"] for r in rows] == list(THRESHOLDS)
    assert THRESHOLDS == pytest.approx([0.5 + 0.05 * i for i in range(11)])
    hits = [r["correct_hits"] + r["wrong_hits"] for r in rows]
    assert hits == sorted(hits, reverse=True) and hits[0] > hits[-1]
    assert all(r["correct_hits"] + r["wrong_hits"] + r["misses"] == explorer["lookups"] for r in rows)
    assert rows[-1]["wrong_hits"] == 0
    assert explorer["estimated"] is True
    served_wrong = loose_semantic.metrics["strategies"]["semantic"]["wrong_answer_rate"] * 100
    assert explorer["active"] == rows[0] and rows[0]["wrong_hits"] == round(served_wrong)


def test_example_pairs_show_near_misses_scoring_high(default_run):
    pairs = default_run.series["example_pairs"]
    near = [p for p in pairs if p["kind"] == "near_miss"]
    assert len(near) == len(intents.NEAR_MISS_PAIRS)
    assert not any(p["same_intent"] for p in near)
    assert all(p["same_intent"] for p in pairs if p["kind"] == "paraphrase")
    two_factor = next(p for p in near if "disable two-factor" in p["b"])
    python = next(p for p in pairs if p["a"] == "What is Python?")
    assert two_factor["score"] == pytest.approx(0.822474)
    assert python["score"] == pytest.approx(0.317994)  # lexical vectors miss this paraphrase
    assert max(p["score"] for p in pairs if p["kind"] == "paraphrase") < two_factor["score"]


def test_the_semantic_cache_needs_a_lower_threshold_or_a_real_embedding_to_use_rewordings():
    """What the caching lesson says about the reworded-requests slider."""
    for share in (0.0, 0.6):
        per = execute(paraphrase_share=share).metrics["strategies"]  # hashed n-grams at 0.9
        assert per["semantic"]["hit_rate"] == per["redis"]["hit_rate"], share
    per = execute(paraphrase_share=0.3, semantic_threshold=0.7, requests=200).metrics["strategies"]
    assert per["semantic"]["hit_rate"] > per["redis"]["hit_rate"]
    assert per["semantic"]["wrong_answer_rate"] > 0  # the extra hits bring wrong answers with them


def test_the_cache_key_view_names_each_field_and_its_collisions(default_run):
    view = default_run.series["cache_key"]
    collisions = {f["field"]: f["collides_without"] for f in view["fields"]}
    assert collisions["prompt"] == ["system_prompt", "paraphrase"]
    assert collisions["model_name"] == ["model"]
    assert collisions["temperature"] == ["temperature"]
    assert collisions["max_tokens"] == ["max_tokens"]
    same_key = {v["variant"]: v["same_key"] for v in view["variants"]}
    assert same_key == {"temperature": False, "model": False, "max_tokens": False,
                        "system_prompt": False, "paraphrase": False, "message_id": True}


def test_book_32_3_sets_our_levels_beside_the_chapters():
    result = execute(preset="book-32.3")
    multi = result.metrics["strategies"]["multi_level"]
    assert (multi["l1_hit_rate"], multi["l2_hit_rate"]) == (pytest.approx(0.43), pytest.approx(0.345))
    notes = {n.code: n.data for n in result.notes}
    assert set(notes) == {"embedding_hashed-ngrams", "book_32_3_levels", "book_32_3_mean_does_not_add_up",
                          "book_32_3_p99", "book_32_3_l1_never_hits"}
    mean = notes["book_32_3_mean_does_not_add_up"]
    assert (mean["book_floor_ms"], mean["needed_pct"]) == (200.0, 93.75)
    assert mean["mean_ms"] == pytest.approx(multi["mean_latency_ms"])
    assert mean["mean_ms"] > mean["floor_ms"] > 4 * 50.0
    assert notes["book_32_3_p99"]["p99_ms"] == pytest.approx(multi["p99_latency_ms"])


def test_book_30_1_notes_compare_latency_threshold_and_restart():
    result = execute(preset="book-30.1")
    notes = {n.code: n.data for n in result.notes}
    assert set(notes) == {"embedding_hashed-ngrams", "book_30_1_latency", "book_30_1_threshold_is_distance",
                          "book_30_1_pair_misses", "book_30_1_restart"}
    assert notes["book_30_1_latency"]["hit_p50_ms"] == 0.05
    distance = notes["book_30_1_threshold_is_distance"]
    assert distance["similarity"] == pytest.approx(0.1)
    assert distance["wrong_at_distance"] > distance["wrong_at_book"] == 0
    restart = notes["book_30_1_restart"]
    assert restart["remaining"] == 20
    assert (restart["in_memory_pct"], restart["sqlite_pct"]) == (pytest.approx(20.0), pytest.approx(55.0))


def test_book_notes_need_the_presets_values():
    codes = {n.code for n in execute(preset="book-32.3", requests=190).notes}
    assert codes == {"embedding_hashed-ngrams"}


def test_every_preset_parses():
    for name in SPEC.presets:
        assert SPEC.parse({}, name)["model"] == "gpt-4o-mini"


@pytest.mark.parametrize("raw, field", [
    ({"requests": 5}, "requests"),
    ({"requests": 301}, "requests"),
    ({"restart_at": 300}, "restart_at"),
    ({"semantic_threshold": 0.4}, "semantic_threshold"),
    ({"embedding": "word2vec"}, "embedding"),
    ({"model": "gpt-5"}, "model"),
    ({"warmup": "maybe"}, "warmup"),
    ({"colour": "red"}, "colour"),
])
def test_bad_parameters_are_refused(raw, field):
    with pytest.raises(ParamError) as refused:
        execute(**raw)
    assert refused.value.field == field


def test_a_run_leaves_nothing_behind_in_redis(real_redis_url):
    execute(seed=424242, requests=20)
    redis = client(real_redis_url)
    try:
        assert not list(redis.scan_iter(match="llmops:*:caching-424242-*"))
    finally:
        redis.close()


def test_percentile_interpolates_between_ranks():
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 95) == 5.0
    assert percentile([], 50) == 0.0
