"""The cost lab: token counts, prices, the callback, each lever, the waterfall, the budget race, Prometheus."""

from __future__ import annotations

import asyncio
import functools
from decimal import Decimal
from fractions import Fraction

import pytest
from langchain_core.caches import InMemoryCache
from prometheus_client.parser import text_string_to_metric_families

from simulations.clock import now, run_virtual
from simulations.components import cost_dashboard
from simulations.costs import book, budget, compression, metrics, pricing, tokencount, traffic
from simulations.costs.levers import LEVERS, Levers, is_short, is_simple
from simulations.costs.serving import Setup, run_system
from simulations.costs.tracker import CostTracker
from simulations.costs.waterfall import _first_calls
from simulations.mock_llm import COMPRESSION_KEPT, MockChatModel, compression_quality
from simulations.registry import get
from simulations.tokens import count_chat_tokens, count_tokens

COMPONENT = get("cost-dashboard")


@functools.cache
def _run(seed: int = 0, preset: str | None = None, **params) -> object:
    return COMPONENT.execute(params, preset=preset, seed=seed)


def _saved(result) -> dict[str, float]:
    return {row["lever"]: row["saved_usd"] for row in result.series["waterfall"]}


# -- tokens and prices ------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "o200k", "cl100k"), [
    ("This is a sample text for token counting.", 9, 9),
    ("Why was I charged twice this month?", 8, 8),
    ("为什么这个月扣了我两次费用？", 10, 16),
    ("请用三句话总结这张工单，并给出回复建议。", 15, 20),
])
def test_token_counts_of_known_strings(text, o200k, cl100k):
    assert count_tokens(text, "o200k_base") == o200k
    assert count_tokens(text, "cl100k_base") == cl100k


def test_chinese_costs_more_tokens_per_character_than_english():
    english = tokencount.count(tokencount.SAMPLES[2][1], "gpt-4o")
    chinese = tokencount.count(tokencount.SAMPLES[3][1], "gpt-4o")
    assert chinese.tokens_per_char > 3 * english.tokens_per_char


def test_a_chat_message_costs_its_text_plus_the_framing():
    assert count_tokens("Tell me a joke", "o200k_base") == 4
    assert count_chat_tokens(["Tell me a joke"], "o200k_base") == 10 == book.callback_prompt_tokens()
    report = tokencount.count("Tell me a joke", "gpt-4o-mini")
    assert (report.tokens, report.chat_tokens) == (4, 10)
    assert "".join(s.text for s in report.segments) == "Tell me a joke"


def test_the_tool_refuses_long_text_and_unknown_models():
    with pytest.raises(tokencount.ToolError) as refused:
        tokencount.parse({"text": "x" * (tokencount.MAX_CHARS + 1)})
    assert refused.value.field == "text"
    with pytest.raises(tokencount.ToolError) as refused:
        tokencount.parse({"text": "hi", "model": "gpt-5"})
    assert refused.value.field == "model"
    assert tokencount.parse({"text": "x" * tokencount.MAX_CHARS}) == ("x" * tokencount.MAX_CHARS, "gpt-4o")


def test_a_character_made_of_several_tokens_is_one_segment():
    report = tokencount.count("饕餮", "gpt-4o")  # rare characters: more tokens than characters
    assert report.tokens > 2
    assert "".join(s.text for s in report.segments) == "饕餮"
    assert sum(s.tokens for s in report.segments) == report.tokens


def test_input_and_output_are_priced_apart_per_model_exactly():
    prices = pricing.list_table()
    assert prices.cost("gpt-4o", 1_000_000, 0) == Fraction(5, 2)
    assert prices.cost("gpt-4o", 0, 1_000_000) == 10
    assert prices.cost("gpt-4o-mini", 12, 33) == Fraction(12 * 15 + 33 * 60, 100_000_000)
    assert prices.cost("gpt-4o", 12, 33) == Fraction(36, 100_000)
    chapter = pricing.book_table()  # one price for input and output, as the chapter writes it
    assert chapter.cost("gpt-4o", 0, 1_000_000) == Fraction(5, 2)
    assert pricing.usd(Fraction(1, 3)) == Decimal("0.333333")


def test_the_chapter_arithmetic():
    assert book.book_routing_saving() == pytest.approx(0.658)
    assert book.share_needed(0.85) == pytest.approx(0.9043, abs=1e-4)
    assert book.case_study_cost_estimate() == pytest.approx(6.84)
    assert book.tiktoken_count() == book.TIKTOKEN_CLAIMED  # the chapter's 9 is right
    costs = book.callback_costs()
    assert f"{float(costs['gpt-4o']):.4f}" == "0.0004" != "0.0003"
    assert f"{float(costs['gpt-4o-mini']):.4f}" == "0.0000"


# -- the callback ------------------------------------------------------------------------------

def test_the_tracker_prices_usage_metadata_and_knows_hits_and_errors():
    prices = pricing.table(1.0, 2.0, 0.1, 0.2)  # not the mock's list prices: the app's own table
    tracker = CostTracker(prices, clock=now)
    model = MockChatModel(model="gpt-4o", seed=3, failure_rate=0.0, timeout_rate=0.0, cache=InMemoryCache(),
                          callbacks=[tracker])
    failing = MockChatModel(model="gpt-4o-mini", seed=3, failure_rate=1.0, timeout_rate=0.0, callbacks=[tracker])

    async def main():
        first = await model.ainvoke("What is RAG?")
        await model.ainvoke("What is RAG?")  # from the cache
        with pytest.raises(Exception):
            await failing.ainvoke("What is RAG?")
        return first

    first = run_virtual(main)
    ok, hit, error = tracker.rows
    usage = first.usage_metadata
    assert (ok.outcome, ok.input_tokens, ok.output_tokens) == ("ok", usage["input_tokens"], usage["output_tokens"])
    assert ok.cost == Fraction(usage["input_tokens"] * 1 + usage["output_tokens"] * 2, 1_000_000)
    assert (hit.outcome, hit.cost, hit.input_tokens) == ("cache_hit", 0, 0)
    assert (error.outcome, error.cost, error.status_code, error.model) == ("error", 0, 500, "gpt-4o-mini")
    assert tracker.total_cost == ok.cost
    assert tracker.summary()["cache_hits"] == 1


def test_overlapping_calls_keep_their_own_start_times():
    tracker = CostTracker(pricing.list_table(), clock=now)
    model = MockChatModel(model="gpt-4o", seed=1, failure_rate=0.0, timeout_rate=0.0, callbacks=[tracker])
    questions = ["What is RAG?", "Write a long essay about AI", "What is the capital of France?"]

    async def main():
        await asyncio.gather(*(model.ainvoke(q, config={"metadata": {"request_id": i}}) for i, q in enumerate(questions)))

    run_virtual(main)
    by_request = {r.request_id: r for r in tracker.rows}
    for call in model.calls:  # the handler's latency is the call's own, though the calls overlapped
        assert by_request[call.request_id].latency_s == pytest.approx(call.end_s - call.start_s)
    assert len({round(r.latency_s, 6) for r in tracker.rows}) == len(questions)


# -- the mock model's additions ------------------------------------------------------------------

def test_keyed_draws_give_the_same_luck_in_two_runs():
    def latencies(order):
        model = MockChatModel(model="gpt-4o", seed=9, keyed_draws=True, failure_rate=0.3, timeout_rate=0.0)

        async def main():
            for i in order:
                try:
                    await model.ainvoke("What is RAG?", config={"metadata": {"request_id": i}})
                except Exception:
                    pass
            return {c.request_id: (c.outcome, round(c.end_s - c.start_s, 9)) for c in model.calls}

        return run_virtual(main)

    assert latencies(range(8)) == latencies(reversed(range(8)))


def _two_passes(levers: Levers, error_rate: float = 0.2, seed: int = 3):
    """The before pass and an after pass with ``levers``, as the component runs them."""
    params = COMPONENT.spec.parse({"sample_requests": 60, "error_rate": error_rate})
    requests = traffic.generate(cost_dashboard.traffic_of(params, params["requests_per_day"]), seed)
    setup = Setup(seed=seed, error_rate=error_rate, prices=cost_dashboard.prices_of(params), workers=8,
                  equal_sizes=False, window_s=metrics.window_for(requests[-1].arrival_s))
    before = run_system("before", requests, Levers(), setup, metrics.LLMMetrics())
    after = run_system("after", requests, levers, setup, metrics.LLMMetrics())
    return before, after


def _luck(run) -> dict[int, tuple]:
    """Each request's first attempt: its fate, how long it took, how long its answer was."""
    return {i: (call.outcome, round(call.end_s - call.start_s, 9), call.output_tokens)
            for i, (_, call) in _first_calls(run).items()}


@pytest.mark.parametrize("levers", [
    Levers(concurrency=50, batch_size=5),  # other arrival order, other interleaving of calls
    Levers(retries=2, fallback=True),  # extra calls of the same request on the same models
    Levers(cache=True),  # warm-up calls before the traffic, on the same model instances
], ids=["batching", "retries", "cache"])
def test_before_and_after_meet_the_same_luck_request_by_request(levers):
    before, after = _two_passes(levers)
    luck_before, luck_after = _luck(before), _luck(after)
    assert sum(outcome != "ok" for outcome, _, _ in luck_before.values()) >= 5  # the error rate is felt
    answered_by_model = luck_after.keys() - {s.request_id for s in after.served if s.cache_hit}
    assert len(answered_by_model) >= 30
    for request_id in answered_by_model:
        assert luck_after[request_id] == luck_before[request_id], request_id
    right = {s.request_id: s.correct for s in before.served}
    assert all(s.correct == right[s.request_id] for s in after.served
               if s.request_id in answered_by_model and s.ok and luck_before[s.request_id][0] == "ok")


def test_one_model_instance_for_both_passes_would_change_the_luck():
    """Why each pass builds its own models: the n-th call of a request is part of its key."""
    def first_attempts(model, passes):
        async def main():
            for _ in range(passes):
                for i in range(12):
                    try:
                        await model.ainvoke("What is RAG?", config={"metadata": {"request_id": i}})
                    except Exception:  # noqa: BLE001
                        pass
            return [(c.outcome, round(c.end_s - c.start_s, 9)) for c in model.calls]
        return run_virtual(main)

    def fresh():
        return MockChatModel(model="gpt-4o", seed=3, keyed_draws=True, failure_rate=0.3, timeout_rate=0.0)

    shared = first_attempts(fresh(), 2)
    assert first_attempts(fresh(), 1) == shared[:12]  # a fresh instance: the same luck again
    assert shared[12:] != shared[:12]  # the same instance a second time: other draws


def test_reply_tokens_and_the_compression_penalty():
    from langchain_core.messages import HumanMessage, SystemMessage

    model = MockChatModel(model="gpt-4o", reply_tokens=37, failure_rate=0.0, timeout_rate=0.0)

    async def ask(question):
        return await model.ainvoke(question)

    for question in ("What is RAG?", "Write a long essay about AI"):
        assert run_virtual(lambda: ask(question)).usage_metadata["output_tokens"] == 37
    plain = [SystemMessage("Context: a"), HumanMessage("q")]
    half = [SystemMessage("Context: a", additional_kwargs={COMPRESSION_KEPT: 0.5}), HumanMessage("q")]
    assert compression_quality(plain) == 1.0
    assert compression_quality(half) == pytest.approx(1 - 0.6 * 0.25)


# -- compression and routing -----------------------------------------------------------------------

def test_the_compressor_keeps_the_relevant_sentences_within_budget():
    text = ("Invoices are issued monthly. Refunds are paid to the original card within ten days. "
            "Orders ship from Rotterdam. Logs are kept for thirty days.")
    done = compression.compress(text, "When will my refund arrive?", 0.5, "o200k_base")
    assert done.tokens_after <= 0.5 * done.tokens_before
    assert "Refunds" in done.text and "Rotterdam" not in done.text
    forced = compression.compress(text, "When will my refund arrive?", 0.5, "o200k_base", force=("Rotterdam",))
    assert "Rotterdam" in forced.text
    assert compression.compress(text, "q", 1.0, "o200k_base").text == text


def test_compressed_messages_are_marked_and_the_question_untouched():
    request = traffic.generate(traffic.TrafficSpec(5, 1000, 0.6, 0.2, 0.0, 400), 1)[0]
    messages, done = compression.compress_messages(request.messages, 0.4, traffic.ENCODING)
    assert messages[-1] == request.messages[-1] and messages[0] == request.messages[0]
    assert messages[1].additional_kwargs[COMPRESSION_KEPT] == pytest.approx(done.kept_share, abs=1e-4)
    assert done.kept_share <= 0.4


def test_routing_rules():
    from langchain_core.messages import HumanMessage

    assert is_short([HumanMessage("What is 2+2?")])
    assert not is_short([HumanMessage("Analyze the geopolitical implications of EU versus US approaches to AI regulation")])
    assert is_short([HumanMessage("Prove that the square root of 2 is irrational")])  # short, and hard
    assert not is_simple([HumanMessage("Prove that the square root of 2 is irrational")])
    assert is_simple([HumanMessage("What is the capital of France?")])


def test_the_sample_has_the_mix_asked_for():
    spec = traffic.TrafficSpec(40, 20_000, 0.6, 0.15, 0.4, 300)
    requests = traffic.generate(spec, 2)
    assert traffic.class_counts(spec) == {"simple": 24, "medium": 10, "complex": 6}
    assert sum(r.repeated for r in requests) == 16
    assert {r.klass for r in requests if r.klass == "simple"} and all(
        r.klass == traffic.class_of_question(r.question) for r in requests)
    repeated = [r for r in requests if r.repeated]
    assert all("Customer" not in r.messages[1].text for r in repeated)
    for context in (300, 3000):  # padded up, or cut down
        equal = traffic.generate(traffic.TrafficSpec(10, 1000, 0.7, 0.3, 0.0, context, equal_sizes=True), 0)
        assert {r.prompt_tokens for r in equal} == {traffic.EQUAL_PROMPT_TOKENS}


# -- the component: levers and the waterfall ------------------------------------------------------

def _adds_up(result) -> bool:
    rows = result.series["waterfall"]
    total = sum(Decimal(str(r["saved_usd"])) for r in rows)
    metrics_ = result.metrics
    return total == Decimal(str(metrics_["baseline_cost_usd"])) - Decimal(str(metrics_["optimized_cost_usd"]))


@pytest.mark.parametrize("params", [
    {},
    {"compression": 0.5, "max_tokens": 100, "routing": "length", "batch_size": 5, "error_rate": 0.1},
    {"cache": False, "routing": "off", "retries": 0, "fallback": False, "concurrency": 0},
])
def test_the_waterfall_adds_up_to_before_minus_after_exactly(params):
    result = _run(**params)
    assert [r["lever"] for r in result.series["waterfall"]] == list(LEVERS)
    assert _adds_up(result)
    m = result.metrics
    assert m["savings_pct"] == pytest.approx((m["baseline_cost_usd"] - m["optimized_cost_usd"]) / m["baseline_cost_usd"] * 100)


ALL_OFF = {"cache": False, "max_tokens": 0, "routing": "off", "compression": 1.0, "concurrency": 0,
           "batch_size": 1, "retries": 0, "fallback": False}


def test_with_every_lever_off_after_is_before():
    result = _run(**ALL_OFF)
    assert result.metrics["baseline_cost_usd"] == result.metrics["optimized_cost_usd"]
    assert set(_saved(result).values()) == {0.0}


@pytest.mark.parametrize(("lever", "on"), [
    ("cache", {"cache": True}),
    ("max_tokens", {"max_tokens": 60}),
    ("routing", {"routing": "label"}),
    ("compression", {"compression": 0.5}),
])
def test_each_lever_alone_saves_on_its_own_row(lever, on):
    result = _run(**{**ALL_OFF, **on})
    saved = _saved(result)
    assert saved[lever] > 0
    assert all(v == 0 for name, v in saved.items() if name != lever)
    assert _adds_up(result)


def test_batching_and_concurrency_never_change_the_bill():
    result = _run(**{**ALL_OFF, "concurrency": 50, "batch_size": 10})
    assert set(_saved(result).values()) == {0.0}
    assert result.metrics["after"]["qps"] > result.metrics["before"]["qps"]
    assert any(n.code == "batching_saves_nothing" for n in result.notes)


def test_retries_and_fallbacks_cost_what_they_rescue():
    result = _run(**{**ALL_OFF, "retries": 2, "fallback": True, "error_rate": 0.2})
    saved = _saved(result)
    assert saved["retries_fallbacks"] < 0  # rescued requests are billed
    assert all(v == 0 for name, v in saved.items() if name != "retries_fallbacks")
    after, before = result.metrics["after"], result.metrics["before"]
    assert after["availability_sample"] > before["availability_sample"]
    assert after["availability"] > before["availability"] == pytest.approx(0.8)


def test_a_cap_truncates_answers_and_counts_them_as_bad():
    result = _run(**{**ALL_OFF, "max_tokens": 40})
    after = result.metrics["after"]
    assert after["truncated_rate"] > 0.5
    assert after["good_answer_rate"] < result.metrics["before"]["good_answer_rate"]
    assert any(n.code == "truncated" for n in result.notes)


def test_the_cache_answers_the_repeated_questions():
    result = _run(**{**ALL_OFF, "cache": True, "repeat_share": 0.6})
    assert result.metrics["after"]["cache_hit_rate"] == pytest.approx(0.6)
    assert result.metrics["after"]["p50_latency_ms"] < 10  # the median request is a hit: one round trip


def test_the_length_rule_sends_complex_requests_to_the_small_model():
    result = _run(seed=4, **{**ALL_OFF, "routing": "length", "complex_share": 0.5, "simple_share": 0.3})
    assert result.metrics["routing"]["complex_to_small"] > 0
    assert any(n.code == "misrouted" for n in result.notes)


def test_compression_costs_quality_on_a_large_sample():
    plain = _run(**{**ALL_OFF, "sample_requests": 200})
    squeezed = _run(**{**ALL_OFF, "sample_requests": 200, "compression": 0.2})
    assert squeezed.metrics["after"]["good_answer_rate"] < plain.metrics["after"]["good_answer_rate"]
    assert squeezed.metrics["compression"]["context_kept"] <= 0.2


# -- the chapter's examples -----------------------------------------------------------------------

def test_book_30_4_2_gives_the_saving_its_prices_really_give():
    result = _run(preset="book-30.4.2")
    assert result.metrics["savings_pct"] == pytest.approx(65.8, abs=1e-6)
    assert _saved(result)["routing"] > 0 and _adds_up(result)
    text = " ".join(n.text for n in result.notes)
    assert "85%" in text and "65.8%" in text


def test_book_30_9_calibrates_the_before_system_to_fifty_dollars():
    result = _run(preset="book-30.9")
    before, after = result.metrics["before"], result.metrics["after"]
    assert result.metrics["baseline_cost_usd"] == before["cost_per_day_usd"] == 50.0
    for system in (before, after):
        assert {"qps", "p95_latency_ms", "cost_per_day_usd", "cache_hit_rate", "availability"} <= system.keys()
    assert after["cache_hit_rate"] == pytest.approx(0.6)
    assert after["cost_per_day_usd"] < 0.3 * 50  # 40% of requests reach a model, most of them the small one
    assert _saved(result)["batching"] == 0
    codes = {n.code for n in result.notes}
    assert {"book_30_9_qps", "book_30_9_p95_latency_ms", "book_30_9_cost_per_day_usd",
            "book_30_9_cache_hit_rate", "book_30_9_availability"} <= codes


# -- monitoring ---------------------------------------------------------------------------------

def test_the_exposition_parses_and_counts_every_request():
    result = _run()
    families = {f.name: f for f in text_string_to_metric_families(result.series["exposition"])}
    assert {"llm_calls", "llm_tokens", "llm_cost_usd", "llm_call_duration_seconds", "app_requests",
            "app_request_duration_seconds", "app_requests_in_flight"} <= families.keys()
    assert families["app_request_duration_seconds"].type == "histogram"
    assert families["app_requests_in_flight"].type == "gauge"
    served = {s.labels["system"]: 0.0 for s in families["app_requests"].samples}
    for sample in families["app_requests"].samples:
        served[sample.labels["system"]] += sample.value
    n = result.metrics["sample_requests"]
    assert served == {"before": n, "after": n}
    cost = sum(s.value for s in families["llm_cost_usd"].samples if s.labels["system"] == "before")
    sample_cost = result.metrics["baseline_cost_usd"] * n / result.metrics["requests_per_day"]
    assert cost == pytest.approx(sample_cost, rel=1e-4)
    hits = sum(s.value for s in families["llm_calls"].samples
               if s.labels["system"] == "after" and s.labels["outcome"] == "cache_hit")
    assert hits == round(result.metrics["after"]["cache_hit_rate"] * n)
    assert "_created" not in result.series["exposition"]  # nothing that changes from run to run


def test_histogram_quantile_interpolates_inside_the_bucket():
    buckets = [(1.0, 10), (2.0, 30), (5.0, 40), (float("inf"), 40)]
    assert metrics.histogram_quantile(0.5, buckets) == pytest.approx(1.5)
    assert metrics.histogram_quantile(0.95, buckets) == pytest.approx(2 + 3 * (38 - 30) / 10)
    assert metrics.histogram_quantile(0.99, [(1.0, 1), (float("inf"), 10)]) == 1.0  # in +Inf: the last bound
    assert metrics.histogram_quantile(0.5, [(1.0, 0), (float("inf"), 0)]) is None


def test_panels_cover_the_run_for_both_systems():
    result = _run()
    rows = result.series["monitoring"]
    for system in ("before", "after"):
        mine = [r for r in rows if r["system"] == system]
        assert len(mine) >= 5
        assert sum(r["requests_per_min"] * r["window_s"] / 60 for r in mine) == pytest.approx(
            result.metrics["sample_requests"])


def test_the_panels_count_failed_calls_apart_from_failed_requests():
    """Lesson 30.7: a fallback rescues requests whose calls failed; the client's own retries hide the failures."""
    def panels(**levers):
        rows = _run(**{**ALL_OFF, "error_rate": 0.2, **levers}).series["monitoring"]
        return {s: [r for r in rows if r["system"] == s] for s in ("before", "after")}

    fallback = panels(fallback=True)
    assert all(r["error_rate"] == r["call_error_rate"] for r in fallback["before"])  # one call per request
    assert max(r["error_rate"] for r in fallback["before"]) > 0.2
    calls_failed = sum(r["call_error_rate"] for r in fallback["after"])
    assert calls_failed > 0.5 and sum(r["error_rate"] for r in fallback["after"]) < calls_failed / 2
    retried = panels(fallback=True, retries=2)["after"]  # retries inside the call: the callback sees none
    assert max(r["call_error_rate"] for r in retried) == 0 and max(r["error_rate"] for r in retried) == 0


def test_the_in_flight_gauge_fills_the_workers_when_traffic_outruns_them():
    rows = _run(requests_per_day=2_000_000, **ALL_OFF).series["monitoring"]
    assert max(r["in_flight"] for r in rows if r["system"] == "before") == 8  # the eight workers, all busy
    quiet = _run(**ALL_OFF).series["monitoring"]
    assert max(r["in_flight"] for r in quiet if r["system"] == "before") <= 2


# -- the budget -------------------------------------------------------------------------------------

def test_check_then_spend_overspends_and_reserving_holds(real_redis_url):
    calls = [budget.Call(cost_micros=2_000, estimate_micros=2_500, latency_s=1.0 + 0.1 * i) for i in range(20)]
    store = budget.BudgetStore()
    outcomes = budget.race(calls, limit_micros=10_000_000, start_micros=10_000_000 - 10_000, seed=1, store=store)
    naive, reserve = outcomes["naive"], outcomes["reserve"]
    assert naive.admitted > 5 and naive.overspend_micros > 0  # all read the same room left
    assert reserve.admitted == 4 and reserve.overspend_micros == 0  # 4 x 2,500 fits the 10,000 left
    assert reserve.spent_micros == 10_000_000 - 10_000 + 4 * 2_000
    keys = list(store.keys)
    assert keys and all(k.startswith(store.prefix) for k in keys)
    store.close()
    assert store.client.exists(*keys) == 0  # exactly the run's keys are gone, without a SCAN


def test_the_component_budget_never_overspends_when_reserving():
    for params in ({}, {"max_tokens": 0}, {"burst_requests": 40}):
        race = _run(**params).metrics["budget"]["race"]
        assert race["reserve"]["overspend_usd"] == 0
        assert race["naive"]["overspend_usd"] > 0


def test_a_burst_no_reservation_fits_says_why():
    capped = _run(seed=5, routing="length", compression=0.5)  # cap 300: each worst case above the room left
    budget_ = capped.metrics["budget"]
    assert budget_["race"]["reserve"]["admitted"] == 0
    assert budget_["smallest_estimate_usd"] > budget_["headroom_usd"]
    assert [n.data["tokens"] for n in capped.notes if n.code == "budget_reserve_none"] == [300]
    fits = _run()  # the defaults: some reservations fit, nothing to explain
    assert fits.metrics["budget"]["race"]["reserve"]["admitted"] > 0
    assert not any(n.code == "budget_reserve_none" for n in fits.notes)
    uncapped = _run(max_tokens=0)  # no cap: every reservation refused (lesson 30.10), the cap's note says why
    assert uncapped.metrics["budget"]["race"]["reserve"]["admitted"] == 0
    assert any(n.code == "budget_no_cap" for n in uncapped.notes)
    assert not any(n.code == "budget_reserve_none" for n in uncapped.notes)


def test_alerts_fire_at_the_thresholds_through_the_day():
    hours = budget.alert_hours(cost_per_day=48.0, budget=30.0)
    assert hours[0.5] == pytest.approx(7.5) and hours[1.0] == pytest.approx(15.0)
    assert budget.alert_hours(cost_per_day=10.0, budget=30.0)[0.5] is None
