"""The mock model's opt-in failure injection: error classes, retry-after, spikes, cuts, keyed draws."""

from __future__ import annotations

import asyncio

import pytest

from simulations.clock import now, run_virtual
from simulations.mock_llm import (
    REJECT_AFTER_S,
    AuthenticationError,
    BadRequestError,
    ConnectionCutError,
    FaultMix,
    MockChatModel,
    ModelTimeoutError,
    RateLimitError,
    ServerError,
)

QUESTION = "What is LangChain?"


def ask(model: MockChatModel, *request_ids, waits=()):
    """One ainvoke per request id (waiting ``waits[i]`` before the i-th); replies or errors."""

    async def main():
        out = []
        for index, request_id in enumerate(request_ids):
            if index < len(waits):
                await asyncio.sleep(waits[index])
            try:
                out.append(await model.ainvoke(QUESTION, config={"metadata": {"request_id": request_id}}))
            except Exception as error:
                out.append(error)
        return out

    return run_virtual(main)


def test_a_fault_mix_must_add_up_to_at_most_one():
    with pytest.raises(ValueError):
        FaultMix(timeout=0.6, server_error=0.5)
    with pytest.raises(ValueError):
        FaultMix(spike_factor=0.5)
    with pytest.raises(ValueError):
        MockChatModel(faults=FaultMix(), failure_rate=0.1)


def test_the_roll_falls_into_the_classes_in_order():
    mix = FaultMix(bad_request=0.1, unauthorized=0.1, rate_limited=0.1, server_error=0.1, unavailable=0.1,
                   timeout=0.1, cut=0.1)
    assert [mix.kind(r) for r in (0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75)] == [
        "bad_request", "unauthorized", "rate_limited", "server_error", "unavailable", "timeout", "cut", None]


@pytest.mark.parametrize(("kind", "error", "status"), [
    ("bad_request", BadRequestError, 400),
    ("unauthorized", AuthenticationError, 401),
])
def test_permanent_errors_come_back_at_once_and_the_client_never_retries_them(kind, error, status):
    model = MockChatModel(faults=FaultMix(**{kind: 1.0}), max_retries=3)
    (reply,) = ask(model, "r1")
    assert isinstance(reply, error) and reply.status_code == status
    assert len(model.calls) == 1  # max_retries=3, and still one call
    call = model.calls[0]
    assert (call.status_code, call.end_s - call.start_s, call.cost_usd) == (status, REJECT_AFTER_S, 0.0)


@pytest.mark.parametrize("kind", ["bad_request", "unauthorized"])
def test_a_request_refused_for_good_is_refused_again_whatever_the_roll(kind):
    model = MockChatModel(faults=FaultMix(**{kind: 1.0}), keyed_draws=True)
    ask(model, "r1")
    model.faults = FaultMix()  # no more injected faults: only the memory of this request's refusal
    again, other = ask(model, "r1", "r2")
    assert type(again) is type(ask(MockChatModel(faults=FaultMix(**{kind: 1.0})), None)[0])
    assert other.content


@pytest.mark.parametrize(("kind", "status"), [("server_error", 500), ("unavailable", 503)])
def test_server_errors_arrive_after_the_time_to_first_token(kind, status):
    model = MockChatModel(faults=FaultMix(**{kind: 1.0}))
    (reply,) = ask(model, None)
    assert isinstance(reply, ServerError) and reply.status_code == status
    assert model.calls[0].status_code == status
    assert model.calls[0].end_s > REJECT_AFTER_S


def test_a_hang_becomes_a_timeout_after_exactly_the_models_timeout():
    model = MockChatModel(faults=FaultMix(timeout=1.0), timeout_s=4.0)
    (reply,) = ask(model, None)
    assert isinstance(reply, ModelTimeoutError)
    assert model.calls[0].end_s == pytest.approx(4.0)


def test_a_429_is_refused_again_until_its_retry_after_has_passed():
    # A 429 answered at 0.05 s asks for 2 s: not before 2.05 s.  Back at 1 s, the
    # request is refused again (answered at 1.05 s) and told the 1 s that is left;
    # back after that, it meets a fresh roll (and a 0 % rate lets it through).
    model = MockChatModel(faults=FaultMix(rate_limited=1.0, retry_after_s=2.0), keyed_draws=True)
    first, early = ask(model, "r1", "r1", waits=(0.0, 1.0 - REJECT_AFTER_S))
    assert isinstance(first, RateLimitError) and first.retry_after_s == 2.0
    assert isinstance(early, RateLimitError)
    assert model.calls[1].start_s == pytest.approx(1.0)
    assert early.retry_after_s == pytest.approx(REJECT_AFTER_S + 2.0 - (1.0 + REJECT_AFTER_S))
    model.faults = FaultMix(retry_after_s=2.0)  # no more injected 429s

    async def later():
        await asyncio.sleep(2.0 + REJECT_AFTER_S)
        return await model.ainvoke(QUESTION, config={"metadata": {"request_id": "r1"}})

    assert run_virtual(later).content


def test_waiting_the_retry_after_is_enough():
    model = MockChatModel(faults=FaultMix(rate_limited=1.0, retry_after_s=2.0), keyed_draws=True)
    ask(model, "r1", "r1", waits=(0.0, 2.0))  # 0.05 s reply + 2 s wait: exactly on time
    second = model.calls[1]
    assert second.start_s == pytest.approx(REJECT_AFTER_S + 2.0)
    # Refused, but by a fresh injected 429 (the full retry-after again), not as too early.
    assert second.outcome == "rate_limited"


def test_the_client_waits_the_retry_after_of_an_injected_429():
    model = MockChatModel(faults=FaultMix(rate_limited=1.0, retry_after_s=1.5), max_retries=1, keyed_draws=True)
    ask(model, "r1")
    first, second = model.calls
    assert second.attempt == 1 and second.start_s - first.end_s == pytest.approx(1.5)
    assert second.outcome == "rate_limited"  # a fresh 429: the fault rate is 100 %


def test_spikes_stretch_the_time_to_first_token():
    calm = MockChatModel(faults=FaultMix(), keyed_draws=True)
    spiky = MockChatModel(faults=FaultMix(spike_rate=1.0, spike_factor=5.0), keyed_draws=True)
    (a,), (b,) = ask(calm, "r1"), ask(spiky, "r1")
    assert b.response_metadata["ttft_s"] == pytest.approx(5 * a.response_metadata["ttft_s"])


def test_a_cut_stream_sends_half_its_tokens_then_fails_and_bills_them():
    model = MockChatModel(faults=FaultMix(cut=1.0), max_retries=2)

    async def main():
        pieces = []
        try:
            async for chunk in model.astream(QUESTION):
                pieces.append(chunk.content)
        except ConnectionCutError as error:
            return pieces, error, now()
        return pieces, None, now()

    pieces, error, ended = run_virtual(main)
    assert error is not None and error.tokens_sent == len(pieces) > 0
    assert len(model.calls) == 1  # no client retries a stream that has started
    call = model.calls[0]
    assert (call.outcome, call.status_code, call.output_tokens) == ("cut", 502, len(pieces))
    assert call.cost_usd > 0 and call.end_s == pytest.approx(ended)


def test_a_cut_reply_without_streaming_is_retried_by_the_client():
    model = MockChatModel(faults=FaultMix(cut=1.0), max_retries=1)
    (reply,) = ask(model, None)
    assert isinstance(reply, ConnectionCutError)
    assert [c.outcome for c in model.calls] == ["cut", "cut"]


def test_keyed_draws_give_a_request_the_same_fate_whatever_came_before():
    mix = FaultMix(server_error=0.5)
    alone = MockChatModel(faults=mix, keyed_draws=True)
    ask(alone, "r7", "r7")
    crowded = MockChatModel(faults=mix, keyed_draws=True)
    ask(crowded, "r1", "r2", "r7", "r3", "r7")
    fate = [(c.outcome, round(c.end_s - c.start_s, 9)) for c in alone.calls]
    assert [(c.outcome, round(c.end_s - c.start_s, 9)) for c in crowded.calls if c.request_id == "r7"] == fate


def test_without_keyed_draws_the_order_of_calls_decides():
    mix = FaultMix(server_error=0.5)
    a, b = MockChatModel(faults=mix), MockChatModel(faults=mix)
    ask(a, "x", "y")
    ask(b, "y", "x")
    assert [c.outcome for c in a.calls] == [c.outcome for c in b.calls]  # same sequence, other requests


def test_an_empty_fault_mix_draws_exactly_like_a_faultless_model():
    # No spike configured: no fourth draw, so latencies follow the same sequence.
    plain = MockChatModel(failure_rate=0.0, timeout_rate=0.0, seed=3)
    mixed = MockChatModel(faults=FaultMix(), seed=3)
    replies = ask(plain, *range(5)), ask(mixed, *range(5))
    assert [r.response_metadata["latency_s"] for r in replies[0]] == [
        r.response_metadata["latency_s"] for r in replies[1]]


def test_named_run_metadata_is_recorded_on_each_call():
    model = MockChatModel(record_metadata=("attempt:chain", "absent"), failure_rate=0.0, timeout_rate=0.0)

    async def main():
        await model.ainvoke(QUESTION, config={"metadata": {"request_id": 1, "attempt:chain": 2, "other": 0}})

    run_virtual(main)
    assert model.calls[0].metadata == (("attempt:chain", 2),)
    assert MockChatModel().calls == ()
