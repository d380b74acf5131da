"""The mock chat model: prices, tokens, determinism, answers, streaming, errors, virtual time."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from simulations import intents
from simulations.clock import now, run_virtual
from simulations.mock_llm import (
    ContextLengthError,
    MockChatModel,
    ModelTimeoutError,
    Provider,
    RateLimitError,
    ServerError,
)
from simulations.profiles import PROFILES
from simulations.tokens import count_chat_tokens, count_tokens

DOG = "Translate 'dog' to French"
DOG_PARAPHRASES = ("How do you say dog in French?", "what is the french word for DOG")
NO_FAULTS = {"failure_rate": 0.0, "timeout_rate": 0.0}


def ask(model: MockChatModel, *questions: str, **kwargs):
    """Ask each question in turn on the virtual clock; return the messages (or exceptions)."""

    async def main():
        replies = []
        for question in questions:
            try:
                replies.append(await model.ainvoke(question, **kwargs))
            except Exception as error:  # the tests look at which error
                replies.append(error)
        return replies

    return run_virtual(main)


# -- profiles and prices ---------------------------------------------------------

def test_catalogue_uses_list_prices_per_million_tokens():
    expected = {
        "gpt-4o": (2.50, 10.00), "gpt-4o-mini": (0.15, 0.60), "gpt-4": (30.0, 60.0),
        "gpt-3.5-turbo": (0.50, 1.50), "claude-3-opus": (15.0, 75.0),
    }
    for name, (price_in, price_out) in expected.items():
        spec = PROFILES[name]
        assert (spec.price_in_per_1m, spec.price_out_per_1m) == (price_in, price_out)
        assert spec.cost(1_000_000, 0) == pytest.approx(price_in)
        assert spec.cost(0, 1_000_000) == pytest.approx(price_out)
    # The chapters' single figures are the input price (or an old one), recorded beside it.
    assert PROFILES["gpt-3.5-turbo"].book_price_per_1m == 2.00
    assert PROFILES["gpt-4o"].book_price_per_1m == PROFILES["gpt-4o"].price_in_per_1m


def test_quality_falls_with_complexity():
    for spec in PROFILES.values():
        assert spec.p_correct(0.0) == spec.quality_easy
        assert spec.p_correct(1.0) == pytest.approx(spec.quality_hard)
        assert spec.p_correct(0.0) > spec.p_correct(0.5) > spec.p_correct(1.0)


def test_unknown_model_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match="gpt-4o-mini"):
        MockChatModel(model="gpt-5")


@pytest.mark.parametrize("name", ["gpt-4o", "gpt-4o-mini", "gpt-4", "claude-3-opus"])
def test_usage_and_cost_match_the_profile(name):
    model = MockChatModel(model=name, **NO_FAULTS)
    (reply,) = ask(model, DOG)
    spec = PROFILES[name]
    usage = reply.usage_metadata
    assert usage["input_tokens"] == count_chat_tokens([DOG], spec.encoding)
    assert usage["output_tokens"] == count_tokens(reply.content, spec.encoding)
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    expected_cost = (usage["input_tokens"] * spec.price_in_per_1m
                     + usage["output_tokens"] * spec.price_out_per_1m) / 1_000_000
    assert reply.response_metadata["cost_usd"] == pytest.approx(expected_cost, rel=1e-12)
    assert reply.response_metadata["cost_usd"] == model.calls[0].cost_usd
    assert reply.response_metadata["model_name"] == name


def test_every_message_counts_towards_input_tokens():
    model = MockChatModel(**NO_FAULTS)
    messages = [SystemMessage("Answer in one word."), HumanMessage(DOG)]
    (reply,) = ask(model, messages)
    assert reply.usage_metadata["input_tokens"] == count_chat_tokens(
        ["Answer in one word.", DOG], "o200k_base")
    assert reply.response_metadata["intent"] == "translate-dog-fr"  # the human message decides


def test_prompt_over_the_context_window_is_refused():
    model = MockChatModel(model="gpt-4", **NO_FAULTS)
    (error,) = ask(model, "word " * 9000)
    assert isinstance(error, ContextLengthError)
    assert error.status_code == 400
    assert model.calls[0].outcome == "too_long"


# -- answers -----------------------------------------------------------------------

def test_same_seed_gives_the_same_answers_latencies_and_errors():
    def run(seed: int):
        model = MockChatModel(seed=seed, failure_rate=0.3)
        replies = ask(model, *(f"question {i}" for i in range(40)))
        return [r.content if not isinstance(r, Exception) else repr(r) for r in replies], model.calls

    first, second, other = run(7), run(7), run(8)
    assert first == second
    assert any("500 server error" in text for text in first[0])
    assert [c.end_s for c in first[1]] != [c.end_s for c in other[1]]


def test_paraphrases_share_an_answer_and_other_intents_do_not():
    model = MockChatModel(**NO_FAULTS)
    canonical, *paraphrased = ask(model, DOG, *DOG_PARAPHRASES)
    assert {r.content for r in paraphrased} == {canonical.content}
    assert {r.response_metadata["intent"] for r in paraphrased} == {"translate-dog-fr"}
    others = ask(model, "Translate 'dog' to Spanish", "Describe a blue giraffe on skates")
    assert canonical.content.startswith(intents.get("translate-dog-fr").answer)
    assert len({canonical.content} | {r.content for r in others}) == 3
    assert len({r.response_metadata["intent"] for r in (canonical, *others)}) == 3


def test_a_question_in_chinese_gets_its_intents_answer_in_chinese():
    model = MockChatModel(**NO_FAULTS)
    english, chinese, paraphrase, unknown = ask(
        model, "What is the capital of France?", "法国的首都是哪里？", "法国首都是哪个城市？", "量子计算机怎么工作？")
    assert chinese.response_metadata["intent"] == english.response_metadata["intent"] == "capital-france"
    assert chinese.content.startswith(intents.answer_in("capital-france", "zh-hans"))
    assert paraphrase.content == chinese.content
    assert english.content.startswith("Paris.")
    assert not any("\u4e00" <= c <= "\u9fff" for c in english.content)
    assert unknown.content.startswith("关于“量子计算机怎么工作”：")
    assert " " not in chinese.content  # Chinese sentences follow each other without spaces


def test_answer_text_depends_on_the_model_but_not_on_the_seed():
    mini_a, = ask(MockChatModel(seed=1, **NO_FAULTS), "What is a vector database?")
    mini_b, = ask(MockChatModel(seed=2, **NO_FAULTS), "What is a vector database?")
    big, = ask(MockChatModel(model="gpt-4o", **NO_FAULTS), "What is a vector database?")
    assert mini_a.content == mini_b.content
    assert big.content != mini_a.content


def test_max_tokens_cuts_the_reply_and_says_length():
    model = MockChatModel(**NO_FAULTS)
    full, = ask(model, DOG)
    cut, = ask(model, DOG, max_tokens=5)
    capped = MockChatModel(max_tokens=5, **NO_FAULTS)
    capped_reply, = ask(capped, DOG)
    assert full.response_metadata["finish_reason"] == "stop"
    assert full.usage_metadata["output_tokens"] > 5
    for reply in (cut, capped_reply):
        assert reply.usage_metadata["output_tokens"] == 5
        assert reply.response_metadata["finish_reason"] == "length"
        assert full.content.startswith(reply.content) and reply.content != full.content


def test_correct_answers_follow_the_profile_quality():
    model = MockChatModel(model="gpt-3.5-turbo", **NO_FAULTS)
    replies = ask(model, *([DOG] * 2000))
    share = sum(r.response_metadata["correct"] for r in replies) / len(replies)
    assert share == pytest.approx(PROFILES["gpt-3.5-turbo"].p_correct(0.1), abs=0.03)


# -- time ------------------------------------------------------------------------------

def test_latency_is_time_to_first_token_plus_generation():
    model = MockChatModel(**NO_FAULTS)
    reply, = ask(model, DOG)
    meta, call = reply.response_metadata, model.calls[0]
    tokens = reply.usage_metadata["output_tokens"]
    assert meta["latency_s"] == pytest.approx(meta["ttft_s"] + (tokens - 1) / 85.0)
    assert call.end_s - call.start_s == pytest.approx(meta["latency_s"])


def test_streaming_sends_one_token_at_a_time_in_virtual_time():
    async def main():
        stamps, chunks = [], []
        async for chunk in MockChatModel(**NO_FAULTS).astream(DOG):
            stamps.append(now())
            chunks.append(chunk)
        return stamps, chunks

    stamps, chunks = run_virtual(main)
    whole, = ask(MockChatModel(**NO_FAULTS), DOG)  # same seed: same draws
    final = chunks[-1]
    tokens = whole.usage_metadata["output_tokens"]
    assert len(chunks) == tokens
    assert "".join(c.content for c in chunks) == whole.content
    assert stamps[0] == pytest.approx(whole.response_metadata["ttft_s"])
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert gaps == pytest.approx([1 / PROFILES["gpt-4o-mini"].tokens_per_s] * (tokens - 1))
    assert final.usage_metadata == whole.usage_metadata
    assert final.response_metadata["intent"] == "translate-dog-fr"
    assert all(c.usage_metadata is None for c in chunks[:-1])


def test_a_thousand_concurrent_calls_take_virtual_not_real_time():
    model = MockChatModel(**NO_FAULTS)
    questions = [f"question number {i}" for i in range(1000)]

    async def main():
        replies = await model.abatch(questions)
        return now(), replies

    elapsed, replies = run_virtual(main)
    assert len(replies) == 1000
    slowest = max(r.response_metadata["latency_s"] for r in replies)
    assert elapsed == pytest.approx(slowest)
    assert 1.5 < elapsed < 4.0  # every call overlapped: about one call's latency, not 1000


def test_sync_invoke_and_stream_work_outside_a_loop():
    model = MockChatModel(max_tokens=2, **NO_FAULTS)
    reply = model.invoke(DOG)
    pieces = [chunk.content for chunk in model.stream(DOG)]
    assert reply.usage_metadata["output_tokens"] == 2
    assert "".join(pieces) == reply.content
    assert [c.outcome for c in model.calls] == ["ok", "ok"]


# -- errors ----------------------------------------------------------------------------

def test_failure_rate_one_always_fails_after_the_first_token_time():
    model = MockChatModel(failure_rate=1.0)
    errors = ask(model, *(f"q{i}" for i in range(20)))
    assert all(isinstance(e, ServerError) and e.status_code == 500 for e in errors)
    assert all(c.outcome == "server_error" and c.end_s > c.start_s for c in model.calls)
    assert sum(c.cost_usd for c in model.calls) == 0.0


def test_outage_window_returns_503_only_inside_it():
    model = MockChatModel(outages=((2.0, 6.0),), **NO_FAULTS)

    async def main():
        outcomes = []
        for at in (0.0, 2.0, 5.9, 6.0, 9.0):
            await asyncio.sleep(at - now())
            try:
                await model.ainvoke(DOG)
                outcomes.append("ok")
            except ServerError as error:
                outcomes.append(error.status_code)
        return outcomes

    assert run_virtual(main) == ["ok", 503, 503, "ok", "ok"]


def test_timeout_fails_after_exactly_timeout_seconds():
    slow = MockChatModel(model="claude-3-opus", timeout_s=0.5, **NO_FAULTS)
    error, = ask(slow, "Write a long essay about caching")
    assert isinstance(error, ModelTimeoutError) and error.status_code == 504
    assert slow.calls[0].end_s - slow.calls[0].start_s == pytest.approx(0.5)

    hanging = MockChatModel(timeout_rate=1.0, failure_rate=0.0, timeout_s=3.0)
    error, = ask(hanging, DOG)
    assert isinstance(error, ModelTimeoutError)
    assert hanging.calls[0].end_s == pytest.approx(3.0)


def test_provider_rate_limit_says_when_the_window_frees():
    provider = Provider(requests_per_minute=3)
    model = MockChatModel(provider=provider, **NO_FAULTS)
    replies = ask(model, *(f"q{i}" for i in range(5)))
    assert [type(r).__name__ for r in replies] == ["AIMessage"] * 3 + ["RateLimitError"] * 2
    rejected_at = model.calls[3].start_s
    assert replies[3].status_code == 429
    assert replies[3].retry_after_s == pytest.approx(60.0 - rejected_at)  # first call was at 0
    assert model.calls[3].end_s == rejected_at  # a 429 takes no time
    assert provider.rejected == 2


def test_waiting_retry_after_gets_through():
    model = MockChatModel(provider=Provider(requests_per_minute=3), **NO_FAULTS)

    async def honour_retry_after():
        for i in range(3):
            await model.ainvoke(f"q{i}")
        try:
            await model.ainvoke("q3")
        except RateLimitError as error:
            await asyncio.sleep(error.retry_after_s)
        return await model.ainvoke("q3")

    assert run_virtual(honour_retry_after).usage_metadata["output_tokens"] > 0
    assert [c.outcome for c in model.calls] == ["ok"] * 3 + ["rate_limited", "ok"]
    assert model.calls[-1].start_s == pytest.approx(60.0)


def test_provider_concurrency_limit_is_shared_between_models():
    provider = Provider(max_concurrent=2)
    models = [MockChatModel(provider=provider, seed=i, **NO_FAULTS) for i in range(3)]

    async def main():
        return await asyncio.gather(*(m.ainvoke(DOG) for m in models), return_exceptions=True)

    first, second, third = run_virtual(main)
    assert isinstance(third, RateLimitError)
    earliest_end = min(first.response_metadata["latency_s"], second.response_metadata["latency_s"])
    assert third.retry_after_s == pytest.approx(earliest_end)


def test_with_retry_recovers_from_transient_errors():
    model = MockChatModel(failure_rate=0.6, timeout_rate=0.0, seed=0)  # fails three times
    retrying = model.with_retry(
        stop_after_attempt=10, exponential_jitter_params={"jitter": 0.0})

    async def main():
        return await retrying.ainvoke(DOG, config={"metadata": {"request_id": "r1"}})

    reply = run_virtual(main)
    outcomes = [c.outcome for c in model.calls]
    assert reply.response_metadata["intent"] == "translate-dog-fr"
    assert outcomes[-1] == "ok" and "server_error" in outcomes[:-1]
    assert {c.request_id for c in model.calls} == {"r1"}
    waits = [b.start_s - a.end_s for a, b in zip(model.calls, model.calls[1:])]
    assert waits == pytest.approx([1.0, 2.0, 4.0])  # langchain's back-off, in virtual seconds


def test_client_retries_back_off_like_the_openai_sdk():
    model = MockChatModel(failure_rate=1.0, timeout_rate=0.0, max_retries=2)
    error, = ask(model, DOG)
    assert isinstance(error, ServerError)
    assert [c.attempt for c in model.calls] == [0, 1, 2]
    first_wait, second_wait = (b.start_s - a.end_s for a, b in zip(model.calls, model.calls[1:]))
    assert 0.375 <= first_wait <= 0.5 and 0.75 <= second_wait <= 1.0  # 0.5 s, 1 s, minus jitter


def test_client_retries_honour_retry_after_when_streaming():
    model = MockChatModel(provider=Provider(requests_per_minute=1), max_retries=1, **NO_FAULTS)

    async def main():
        await model.ainvoke("first")
        return [chunk.content async for chunk in model.astream(DOG)]

    pieces = run_virtual(main)
    assert "".join(pieces).startswith(intents.get("translate-dog-fr").answer)
    assert [(c.attempt, c.outcome) for c in model.calls] == [(0, "ok"), (0, "rate_limited"), (1, "ok")]
    assert model.calls[-1].start_s == pytest.approx(60.0)


def test_a_too_long_prompt_is_not_retried():
    model = MockChatModel(model="gpt-4", max_retries=3, **NO_FAULTS)
    error, = ask(model, "word " * 9000)
    assert isinstance(error, ContextLengthError) and len(model.calls) == 1
