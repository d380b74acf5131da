"""Retries: langchain's with_retry made reproducible, retry-after, what is never retried, budgets, layers, batches."""

from __future__ import annotations

import asyncio
import random

import pytest
from tenacity import RetryCallState, wait_exponential_jitter

from simulations.clock import run_virtual
from simulations.mock_llm import REJECT_AFTER_S, FaultMix, MockChatModel, RateLimitError, ServerError
from simulations.reliability import book
from simulations.reliability.errors import RETRY_ON, TRANSIENT_ERRORS
from simulations.reliability.measures import CALL_LAYERS, call_layer
from simulations.reliability.retry import RetryBudget, SeededExponentialJitter, SeededRetry, attempt_key, retrying

QUESTION = "What is LangChain?"


def _state(attempt: int) -> RetryCallState:
    state = RetryCallState(None, None, (), {})
    state.attempt_number = attempt
    return state


def _model(**faults) -> MockChatModel:
    return MockChatModel(faults=FaultMix(**faults), keyed_draws=True,
                         record_metadata=(attempt_key("chain"), attempt_key("gateway")))


def _retry(model, *, attempts=3, retry_on=TRANSIENT_ERRORS, jitter=0.0, **kwargs) -> SeededRetry:
    return retrying(model, attempts=attempts, retry_on=retry_on, base_s=1.0, cap_s=10.0, jitter_s=jitter, seed=0,
                    **kwargs)


def _send(runnable, request_id="r1"):
    async def main():
        try:
            return await runnable.ainvoke(QUESTION, config={"metadata": {"request_id": request_id}})
        except Exception as error:
            return error

    return run_virtual(main)


def _waits(model: MockChatModel) -> list[float]:
    calls = model.calls
    return [later.start_s - earlier.end_s for earlier, later in zip(calls, calls[1:])]


# -- the wait ---------------------------------------------------------------------------


def test_our_jitter_is_tenacitys_formula_with_a_generator_of_our_own():
    saved = random.getstate()
    try:
        for attempt in range(1, 7):
            random.seed(attempt)
            theirs = wait_exponential_jitter(max=10, jitter=1.5)(_state(attempt))
            ours = SeededExponentialJitter(random.Random(attempt), max=10, jitter=1.5)(_state(attempt))
            assert ours == theirs
    finally:
        random.setstate(saved)


def test_a_run_never_touches_the_global_random_generator():
    before = random.getstate()
    model = _model(unavailable=1.0)
    _send(_retry(model, jitter=1.0))
    assert random.getstate() == before
    assert len(model.calls) == 3


def test_the_same_seed_gives_the_same_jittered_waits():
    first, second = _model(unavailable=1.0), _model(unavailable=1.0)
    _send(_retry(first, jitter=1.0))
    _send(_retry(second, jitter=1.0))
    assert _waits(first) == _waits(second)
    assert all(1.0 <= w < 2.0 for w in _waits(first)[:1]) and 2.0 <= _waits(first)[1] < 3.0


def test_waits_double_from_the_base_up_to_the_cap():
    model = _model(unavailable=1.0)
    _send(retrying(model, attempts=6, retry_on=TRANSIENT_ERRORS, base_s=1.0, cap_s=5.0, jitter_s=0.0, seed=0))
    assert _waits(model) == pytest.approx([1.0, 2.0, 4.0, 5.0, 5.0])


def test_initial_is_accepted_without_tenacitys_deprecation_warning(recwarn):
    _send(retrying(_model(unavailable=1.0), attempts=2, retry_on=TRANSIENT_ERRORS, base_s=0.5, cap_s=5.0,
                   jitter_s=0.0, seed=0))
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning) and "initial" in str(w.message)]


# -- what is retried ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["bad_request", "unauthorized"])
def test_permanent_errors_are_never_retried_when_only_transient_ones_are(kind):
    model = _model(**{kind: 1.0})
    error = _send(_retry(model))
    assert error.status_code in (400, 401)
    assert len(model.calls) == 1


def test_with_retrys_default_retries_permanent_errors_too():
    model = _model(bad_request=1.0)
    _send(_retry(model, retry_on=RETRY_ON["all"]))
    assert [c.status_code for c in model.calls] == [400, 400, 400]  # the same request, refused three times


@pytest.mark.parametrize("kind", ["timeout", "rate_limited", "server_error", "unavailable", "cut"])
def test_transient_errors_are_retried(kind):
    model = MockChatModel(faults=FaultMix(**{kind: 1.0}), keyed_draws=True, timeout_s=2.0)
    _send(_retry(model))
    assert len(model.calls) == 3


# -- retry-after -------------------------------------------------------------------------------


def test_retry_after_honoured_the_second_attempt_starts_exactly_when_asked():
    model = _model(rate_limited=1.0, retry_after_s=2.0)
    _send(_retry(model, jitter=1.0, honour_retry_after=True))
    first, second, third = model.calls
    assert second.start_s == pytest.approx(first.end_s + 2.0)
    assert third.start_s == pytest.approx(second.end_s + 2.0)
    # Each came back on time, so each 429 is a fresh one (the rate is 100 %), never "too early".
    assert first.end_s - first.start_s == pytest.approx(REJECT_AFTER_S)


def test_with_retry_alone_comes_back_too_early_and_is_refused_again():
    model = _model(rate_limited=1.0, retry_after_s=2.5)
    error = _send(_retry(model, jitter=0.0))  # waits 1 s, then 2 s
    assert isinstance(error, RateLimitError)
    first, second, third = model.calls
    assert second.start_s == pytest.approx(first.end_s + 1.0)  # with_retry's own wait, not the 2.5 s asked
    assert second.start_s + REJECT_AFTER_S < first.end_s + 2.5 and second.outcome == "rate_limited"
    assert third.start_s == pytest.approx(second.end_s + 2.0)


def test_a_retry_after_longer_than_we_wait_ends_the_retries():
    model = _model(rate_limited=1.0, retry_after_s=30.0)
    standard = model.with_retry(retry_if_exception_type=TRANSIENT_ERRORS, stop_after_attempt=3)
    _send(SeededRetry.from_retry(standard, honour_retry_after=True, max_retry_after_s=10.0))
    assert len(model.calls) == 1


# -- the budget --------------------------------------------------------------------------------


def test_the_budget_allows_a_share_of_active_requests_and_never_fewer_than_its_minimum():
    budget = RetryBudget(share=0.2, min_retries=3)
    tickets = [budget.enter() for _ in range(20)]
    granted = [budget.allow(t) for t in tickets]
    assert granted.count(True) == 4 and budget.denied == 16  # 20 % of 20
    small = RetryBudget(share=0.2, min_retries=3)
    few = [small.enter() for _ in range(4)]
    assert [small.allow(t) for t in few] == [True, True, True, False]  # the floor of 3
    small.leave(few[0])
    assert small.allow(few[3])  # a retry that ended frees its place


def test_a_request_retrying_again_does_not_take_a_second_place():
    budget = RetryBudget(share=0.0, min_retries=1)
    ticket = budget.enter()
    assert budget.allow(ticket) and budget.allow(ticket)
    assert budget.active_retries == 1


def test_a_budget_caps_retries_when_everything_fails():
    def total_calls(budget):
        model = _model(unavailable=1.0)
        retry = _retry(model, attempts=4, budget=budget)

        async def main():
            await asyncio.gather(*(retry.ainvoke(QUESTION, config={"metadata": {"request_id": i}})
                                   for i in range(30)), return_exceptions=True)

        run_virtual(main)
        return len(model.calls), budget.denied if budget else 0

    unlimited, _ = total_calls(None)
    capped, denied = total_calls(RetryBudget(0.2))
    assert unlimited == 30 * 4
    assert capped < 30 + 30 * 0.2 * 3 + 3 * 3 and denied > 0


# -- layers ------------------------------------------------------------------------------------


def test_three_layers_of_three_attempts_make_27_calls_attributed_to_their_layer():
    model = MockChatModel(faults=FaultMix(unavailable=1.0), keyed_draws=True, max_retries=2,
                          record_metadata=(attempt_key("chain"), attempt_key("gateway")))
    chain = _retry(model)
    gateway = _retry(chain, layer="gateway")
    error = _send(gateway)
    assert isinstance(error, ServerError)
    assert len(model.calls) == 27
    layers = [call_layer(model.model, c, model.model) for c in model.calls]
    assert {layer: layers.count(layer) for layer in CALL_LAYERS} == {
        "first": 1, "sdk_retry": 18, "chain_retry": 6, "gateway_retry": 2, "fallback": 0}
    assert chain.retries == 6 and gateway.retries == 2


# -- batches (langchain #35475) ----------------------------------------------------------------------


def test_langchains_batch_retry_still_swaps_answers_and_ours_does_not():
    check = book.batch_swap_check()
    # If langchain-core fixes #35475, the first assertion fails: then the note and errata go.
    assert check["langchain"]["swapped"]
    assert not check["ours"]["swapped"]
    ours = check["ours"]["answers"]
    assert [a["answer_to"] for a in ours[:2]] == [a["question"] for a in ours[:2]] and ours[2]["error"]


def test_our_batch_keeps_every_answer_with_its_question_under_random_failures():
    from simulations.intents import CATALOGUE

    questions = [intent.canonical for intent in CATALOGUE[:12]]
    model = MockChatModel(faults=FaultMix(unavailable=0.4), keyed_draws=True)
    retry = SeededRetry.from_retry(model.with_retry(stop_after_attempt=3, exponential_jitter_params={"jitter": 0.0}))

    async def main():
        configs = [{"metadata": {"request_id": i}, "max_concurrency": 4} for i in range(len(questions))]
        return await retry.abatch(questions, configs, return_exceptions=True)

    outputs = run_virtual(main)
    assert len(outputs) == len(questions)
    answered = [(q, o) for q, o in zip(questions, outputs) if not isinstance(o, Exception)]
    assert answered and len(answered) < len(questions) + 1
    from simulations.intents import intent_of

    assert all(o.response_metadata["intent"] == intent_of(q) for q, o in answered)


@pytest.mark.long  # the mock's synchronous calls take their latency in real time
def test_our_synchronous_batch_keeps_every_answer_with_its_question_too():
    from simulations.intents import CATALOGUE, intent_of

    questions = [intent.canonical for intent in CATALOGUE[:6]]
    configs = [{"metadata": {"request_id": i}} for i in range(len(questions))]
    model = MockChatModel(faults=FaultMix(unavailable=0.5), keyed_draws=True)
    retry = SeededRetry.from_retry(model.with_retry(stop_after_attempt=3, wait_exponential_jitter=False))
    outputs = retry.batch(questions, configs, return_exceptions=True)
    answered = [(q, o) for q, o in zip(questions, outputs, strict=True) if not isinstance(o, Exception)]
    assert answered
    assert all(o.response_metadata["intent"] == intent_of(q) for q, o in answered)
    # Each input retried on its own: no input made more than three calls.
    per_request = [sum(call.request_id == i for call in model.calls) for i in range(len(questions))]
    assert max(per_request) <= 3 and sum(per_request) > len(questions)
