"""The circuit breaker's transitions, the fallback chain's order and timeouts, and streams cut mid-answer."""

from __future__ import annotations

import asyncio

import pytest

from simulations.clock import now, run_virtual
from simulations.mock_llm import BadRequestError, FaultMix, MockChatModel, ServerError
from simulations.reliability import streaming
from simulations.reliability.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker, CircuitOpenError
from simulations.reliability.fallback import CACHE, DEFAULT, AnswerCache, fallback_chain, keyed_chain, served_by

QUESTION = "What is LangChain?"


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def _fail(breaker: CircuitBreaker, error: BaseException = ServerError(503)) -> None:
    probe = breaker.before_call()
    breaker.on_failure(error, probe)


def _succeed(breaker: CircuitBreaker) -> None:
    probe = breaker.before_call()
    breaker.on_success(probe)


# -- the breaker ---------------------------------------------------------------------------


def test_closed_open_half_open_closed():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=3, cooldown_s=5.0, clock=clock)
    for t in (1.0, 2.0):
        clock.t = t
        _fail(breaker)
    assert breaker.state == CLOSED
    clock.t = 3.0
    _fail(breaker)
    assert breaker.state == OPEN
    clock.t = 7.9
    with pytest.raises(CircuitOpenError) as refused:
        breaker.before_call()  # still cooling down: refused without a call
    assert refused.value.retry_in_s == pytest.approx(0.1)
    clock.t = 8.0
    probe = breaker.before_call()
    assert probe and breaker.state == HALF_OPEN
    with pytest.raises(CircuitOpenError):
        breaker.before_call()  # one probe at a time
    clock.t = 8.5
    breaker.on_success(probe)
    assert breaker.state == CLOSED
    assert breaker.history == [(0.0, CLOSED), (3.0, OPEN), (8.0, HALF_OPEN), (8.5, CLOSED)]
    assert breaker.rejected == 2
    assert breaker.time_in(OPEN, 10.0) == pytest.approx(5.0)


def test_a_failed_probe_opens_it_again_for_a_whole_cool_down():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=5.0, clock=clock)
    _fail(breaker)
    clock.t = 5.0
    _fail(breaker)  # the probe fails
    assert breaker.state == OPEN and breaker.opened_at == 5.0
    clock.t = 9.9
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
    clock.t = 10.0
    _succeed(breaker)
    assert [state for _, state in breaker.history] == [CLOSED, OPEN, HALF_OPEN, OPEN, HALF_OPEN, CLOSED]


def test_a_success_resets_the_count_of_failures_in_a_row():
    breaker = CircuitBreaker(failure_threshold=3, cooldown_s=5.0, clock=Clock())
    _fail(breaker), _fail(breaker), _succeed(breaker), _fail(breaker), _fail(breaker)
    assert breaker.state == CLOSED


def test_400_and_401_do_not_open_the_breaker():
    breaker = CircuitBreaker(failure_threshold=2, cooldown_s=5.0, clock=Clock())
    for _ in range(5):
        _fail(breaker, BadRequestError())
    assert breaker.state == CLOSED and breaker.failures == 0


def test_the_breaker_in_front_of_a_model_stops_calls_during_an_outage():
    model = MockChatModel(faults=FaultMix(), outages=((0.0, 20.0),))
    breaker = CircuitBreaker(failure_threshold=3, cooldown_s=5.0)
    guarded = breaker.guard(model)

    async def main():
        for _ in range(20):
            try:
                await guarded.ainvoke(QUESTION)
            except (ServerError, CircuitOpenError):
                pass
            await asyncio.sleep(1.0)

    run_virtual(main)
    assert len(model.calls) < 10 and breaker.rejected > 10
    states = [state for _, state in breaker.history]
    assert states[:4] == [CLOSED, OPEN, HALF_OPEN, OPEN]


# -- fallback chains --------------------------------------------------------------------------


def _serve(runnable, question=QUESTION, request_id=1):
    async def main():
        reply = await runnable.ainvoke(question, config={"metadata": {"request_id": request_id}})
        return reply, now()

    return run_virtual(main)


def test_the_chain_tries_primary_then_backups_in_order():
    primary = MockChatModel(model="gpt-4o", faults=FaultMix(unavailable=1.0))
    first = MockChatModel(model="gpt-4o-mini", faults=FaultMix(server_error=1.0))
    second = MockChatModel(model="claude-3-haiku", faults=FaultMix())
    reply, _ = _serve(fallback_chain(primary, [first, second], default=True))
    assert served_by(reply) == "claude-3-haiku"
    order = sorted([(c.start_s, m.model) for m in (primary, first, second) for c in m.calls])
    assert [name for _, name in order] == ["gpt-4o", "gpt-4o-mini", "claude-3-haiku"]


def test_a_hung_primary_hands_over_after_exactly_its_timeout():
    primary = MockChatModel(model="gpt-4o", faults=FaultMix(timeout=1.0), timeout_s=3.0)
    backup = MockChatModel(model="claude-3-haiku", faults=FaultMix())
    reply, _ = _serve(fallback_chain(primary, [backup], default=False))
    assert served_by(reply) == "claude-3-haiku"
    assert backup.calls[0].start_s == pytest.approx(3.0)


def test_then_the_cache_then_the_default_answer():
    primary = MockChatModel(faults=FaultMix(unavailable=1.0))
    cache = AnswerCache()
    chain = fallback_chain(primary, [], cache=cache, default=True)
    miss, _ = _serve(chain)
    assert served_by(miss) == DEFAULT
    earlier, _ = _serve(MockChatModel(faults=FaultMix()))  # an answer from a day when the model was up
    cache.remember(QUESTION, earlier)
    hit, _ = _serve(chain)
    assert served_by(hit) == CACHE and hit.response_metadata["intent"] == "what-is-langchain"
    assert (cache.hits, cache.misses) == (1, 1)


def test_without_a_default_every_failure_raises_the_primarys_error():
    primary = MockChatModel(faults=FaultMix(unavailable=1.0))
    backup = MockChatModel(model="claude-3-haiku", faults=FaultMix(bad_request=1.0))

    async def main():
        try:
            await fallback_chain(primary, [backup], default=False).ainvoke(QUESTION)
        except Exception as error:
            return error

    error = run_virtual(main)
    assert isinstance(error, ServerError) and error.status_code == 503  # not the backup's 400


def test_exception_key_lets_the_default_answer_say_when_to_come_back():
    primary = MockChatModel(faults=FaultMix(rate_limited=1.0, retry_after_s=7.0))
    backup = MockChatModel(model="claude-3-haiku", faults=FaultMix(rate_limited=1.0, retry_after_s=7.0))

    async def main():
        return await keyed_chain(primary, [backup]).ainvoke({"question": QUESTION})

    reply = run_virtual(main)
    assert served_by(reply) == DEFAULT and "7 s" in reply.content
    assert reply.response_metadata["reason"] == "RateLimitError"


# -- streams ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def streams():
    return {case["case"]: case for case in streaming.stream_cases("gpt-4o", "claude-3-haiku", seed=0)}


def test_a_fallback_streams_the_answer_when_the_primary_fails_before_its_first_token(streams):
    case = streams["before_first_token"]
    assert case["complete"] and case["primary_tokens"] == 0
    assert case["kept_tokens"] == case["fallback_tokens"] == streaming.MAX_TOKENS


def test_a_cut_after_the_first_token_reaches_the_reader_and_no_fallback_runs(streams):
    case = streams["mid_stream"]
    assert not case["complete"] and case["error"] == "cut"
    assert case["fallback_tokens"] == 0
    assert case["kept_tokens"] == case["primary_tokens"] == streaming.MAX_TOKENS // 2


def test_restarting_on_the_fallback_gives_a_whole_answer_later(streams):
    case = streams["restart"]
    assert case["complete"] and case["kept_tokens"] == case["fallback_tokens"] == streaming.MAX_TOKENS
    assert case["primary_tokens"] == streams["mid_stream"]["primary_tokens"]  # sent, then thrown away
    assert case["end_s"] > streams["mid_stream"]["end_s"]
