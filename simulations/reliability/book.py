"""The chapter's retry and fallback code (30.5, 30.6), run against today's libraries.

Each function runs a piece of the chapter's code, or the call it means, on the
mock model and reports what really happens: the lessons' errata boxes and the
``book-30.5`` / ``book-30.6`` notes print these results rather than claims typed
by hand.  None of them depends on the lab's sliders, so each runs once per
process.
"""

from __future__ import annotations

import functools
from typing import Any

from langchain_core.runnables import RunnableLambda
from tenacity import RetryCallState, wait_exponential

from ..clock import now, run_virtual
from ..intents import intent_of
from ..mock_llm import DEFAULT_CLIENT_TIMEOUT_S, FaultMix, MockChatModel, ServerError
from .errors import error_class
from .retry import SeededExponentialJitter, SeededRetry

# The OpenAI Python client under ChatOpenAI retries twice by default (openai's
# DEFAULT_MAX_RETRIES) and waits up to 600 s for a reply; a test checks both
# against the installed package.
OPENAI_SDK_MAX_RETRIES = 2
OPENAI_SDK_TIMEOUT_S = DEFAULT_CLIENT_TIMEOUT_S

# 30.5.1 as printed.
CHAPTER_WITH_RETRY_KWARGS = {"stop_after_attempt": 3, "wait_exponential_multiplier": 1, "wait_exponential_max": 10}
CHAPTER_ATTEMPTS = 3
CHAPTER_SAYS_RETRIES = 3  # "最多重试 3 次"
CHAPTER_WAITS_30_5_1 = (1, 2, 4)  # "指数退避：1s, 2s, 4s"
CHAPTER_MAX_WAIT_S = 10
# 30.5.2 as printed: tenacity's own decorator.
CHAPTER_TENACITY_ATTEMPTS = 5
CHAPTER_TENACITY_WAIT = {"multiplier": 1, "min": 2, "max": 30}
CHAPTER_WAITS_30_5_2 = (1, 2, 4, 8)  # "1s → 2s → 4s → 8s"
# 30.6.2 as printed: gpt-4o (5 s) -> gpt-4o-mini (10 s) -> gpt-3.5-turbo (15 s), one provider.
CHAPTER_CHAIN_30_6_2 = (("gpt-4o", 5.0), ("gpt-4o-mini", 10.0), ("gpt-3.5-turbo", 15.0))
QUESTION = "What is LangChain?"


class _Top:
    """A stand-in generator whose every uniform(a, b) draw is b: the longest wait."""

    def uniform(self, low: float, high: float) -> float:
        return high


class _Bottom:
    def uniform(self, low: float, high: float) -> float:
        return low


def _state(attempt_number: int) -> RetryCallState:
    state = RetryCallState(None, None, (), {})
    state.attempt_number = attempt_number
    return state


@functools.cache
def with_retry_rejects_chapter_kwargs() -> str:
    """30.5.1's ``llm.with_retry(...)`` call: the error today's langchain-core raises."""
    try:
        MockChatModel().with_retry(**CHAPTER_WITH_RETRY_KWARGS)
    except TypeError as error:
        return str(error)
    return ""


@functools.cache
def runnable_retry_import() -> str:
    """30.5.1's ``from langchain_core.runnables import RunnableRetry``: the error, if any."""
    try:
        exec("from langchain_core.runnables import RunnableRetry", {})  # noqa: S102 - a fixed statement
    except ImportError as error:
        return str(error)
    return ""


def _always_failing() -> MockChatModel:
    return MockChatModel(faults=FaultMix(unavailable=1.0))


@functools.cache
def attempts_made(stop_after_attempt: int = CHAPTER_ATTEMPTS) -> int:
    """Calls ``with_retry(stop_after_attempt=n)`` makes on a model that always fails: n, i.e. n - 1 retries."""
    model = _always_failing()
    retrying = model.with_retry(stop_after_attempt=stop_after_attempt,
                                exponential_jitter_params={"jitter": 0.0})

    async def main() -> None:
        try:
            await retrying.ainvoke(QUESTION)
        except ServerError:
            pass

    run_virtual(main)
    return len(model.calls)


@functools.cache
def with_retry_wait_ranges(attempts: int = CHAPTER_ATTEMPTS, max_s: float = CHAPTER_MAX_WAIT_S
                           ) -> tuple[tuple[float, float], ...]:
    """(shortest, longest) wait before each retry of ``with_retry`` with its default jitter of 1 s.

    Computed with tenacity's own formula, drawing the jitter's lowest and highest values.
    """
    shortest = SeededExponentialJitter(_Bottom(), max=max_s)
    longest = SeededExponentialJitter(_Top(), max=max_s)
    return tuple((shortest(_state(n)), longest(_state(n))) for n in range(1, attempts))


@functools.cache
def tenacity_waits_30_5_2() -> tuple[float, ...]:
    """The waits of 30.5.2's ``wait_exponential(multiplier=1, min=2, max=30)`` over 5 attempts."""
    wait = wait_exponential(**CHAPTER_TENACITY_WAIT)
    return tuple(float(wait(_state(n))) for n in range(1, CHAPTER_TENACITY_ATTEMPTS))


@functools.cache
def waits_without_jitter_flag() -> tuple[float, ...]:
    """Waits between attempts with ``with_retry(wait_exponential_jitter=False)``: none at all."""
    model = _always_failing()
    retrying = model.with_retry(stop_after_attempt=CHAPTER_ATTEMPTS, wait_exponential_jitter=False)

    async def main() -> None:
        try:
            await retrying.ainvoke(QUESTION)
        except ServerError:
            pass

    run_virtual(main)
    calls = model.calls
    return tuple(later.start_s - earlier.end_s for earlier, later in zip(calls, calls[1:]))


def calls_per_request(attempts: int, sdk_retries: int = OPENAI_SDK_MAX_RETRIES) -> int:
    """Worst case when a retry layer sits on a client that retries too."""
    return attempts * (sdk_retries + 1)


@functools.cache
def stream_is_not_retried() -> int:
    """Calls ``with_retry(stop_after_attempt=3).astream()`` makes on a failing model: one."""
    model = _always_failing()
    retrying = model.with_retry(stop_after_attempt=CHAPTER_ATTEMPTS)

    async def main() -> None:
        try:
            async for _ in retrying.astream(QUESTION):
                pass
        except ServerError:
            pass

    run_virtual(main)
    return len(model.calls)


@functools.cache
def chapter_chain_worst_case_s() -> float:
    """30.6.2's chain when every model hangs: seconds until the user gets an error.

    Each model waits its timeout, and the OpenAI client retries it twice first.
    """
    models = [MockChatModel(model=name, faults=FaultMix(timeout=1.0), timeout_s=timeout,
                            max_retries=OPENAI_SDK_MAX_RETRIES) for name, timeout in CHAPTER_CHAIN_30_6_2]
    chain = models[0].with_fallbacks(models[1:])

    async def main() -> float:
        try:
            await chain.ainvoke(QUESTION)
        except Exception:
            pass
        return now()

    return run_virtual(main)


def chapter_chain_timeouts_s() -> float:
    """The same, counting only the timeouts (the client's back-off between retries comes on top)."""
    return sum(timeout * (OPENAI_SDK_MAX_RETRIES + 1) for _, timeout in CHAPTER_CHAIN_30_6_2)


def _chapter_cached_or_default(input_dict: Any) -> str:
    # 30.6.3 as printed (its check_cache is never defined).
    cached = check_cache(input_dict["question"])  # type: ignore[name-defined]  # noqa: F821
    if cached:
        return cached
    return "Service temporarily unavailable. Please try again later."


@functools.cache
def chapter_cache_fallback() -> dict[str, str]:
    """30.6.3's cache fallback when the model fails: what the caller sees, and what the fallback did."""
    llm = _always_failing()
    chain = llm.with_fallbacks([RunnableLambda(_chapter_cached_or_default)])
    seen = hidden = hidden_with_dict = ""

    async def main() -> str:
        try:
            await chain.ainvoke(QUESTION)
        except Exception as error:
            return f"{type(error).__name__}: {error}"
        return ""

    seen = run_virtual(main)
    try:
        _chapter_cached_or_default(QUESTION)
    except Exception as error:
        hidden = f"{type(error).__name__}: {error}"
    try:
        _chapter_cached_or_default({"question": QUESTION})
    except Exception as error:
        hidden_with_dict = f"{type(error).__name__}: {error}"
    return {"seen": seen, "hidden": hidden, "hidden_with_dict": hidden_with_dict}


@functools.cache
def exception_key_needs_a_dict() -> str:
    """``with_fallbacks(..., exception_key=...)`` on a plain string input: the error."""
    chain = MockChatModel().with_fallbacks([MockChatModel()], exception_key="error")

    async def main() -> str:
        try:
            await chain.ainvoke(QUESTION)
        except ValueError as error:
            return str(error)
        return ""

    return run_virtual(main)


# -- langchain #35475: with_retry().abatch can give one input another's answer --------------

BATCH_QUESTIONS = ("What is LangChain?", "How do I install LangChain?", "What is a vector store?")


async def _scripted(question: str, model: MockChatModel, seen: dict[str, int]) -> Any:
    """The first question always answers; the second fails once; the third always fails."""
    seen[question] = seen.get(question, 0) + 1
    if question == BATCH_QUESTIONS[2] or (question == BATCH_QUESTIONS[1] and seen[question] == 1):
        raise ServerError(503)
    return await model.ainvoke(question)


def _batch_with(build_retry) -> dict[str, Any]:
    model = MockChatModel()
    seen: dict[str, int] = {}
    flaky = RunnableLambda(functools.partial(_scripted, model=model, seen=seen))
    retrying = build_retry(flaky)

    async def main() -> list[Any]:
        return await retrying.abatch(list(BATCH_QUESTIONS), return_exceptions=True)

    outputs = run_virtual(main)
    answers = []
    for question, output in zip(BATCH_QUESTIONS, outputs, strict=True):
        if isinstance(output, BaseException):
            answers.append({"question": question, "answer_to": None, "error": error_class(output)})
        else:
            answered = next(q for q in BATCH_QUESTIONS
                            if output.response_metadata["intent"] == intent_of(q))
            answers.append({"question": question, "answer_to": answered, "error": None})
    swapped = any(a["answer_to"] not in (None, a["question"]) for a in answers)
    return {"answers": answers, "swapped": swapped}


def _langchain_retry(runnable: Any) -> Any:
    return runnable.with_retry(stop_after_attempt=2, exponential_jitter_params={"jitter": 0.0})


def _our_retry(runnable: Any) -> Any:
    return SeededRetry.from_retry(_langchain_retry(runnable))


@functools.cache
def batch_swap_check() -> dict[str, Any]:
    """``with_retry().abatch`` on three inputs, langchain-core's and ours: who got whose answer."""
    return {"langchain": _batch_with(_langchain_retry), "ours": _batch_with(_our_retry)}


def all_facts() -> dict[str, Any]:
    """Everything above, for the notes and the lessons' errata."""
    return {
        "with_retry_error": with_retry_rejects_chapter_kwargs(),
        "runnable_retry_import_error": runnable_retry_import(),
        "attempts_made": attempts_made(),
        "wait_ranges": [list(pair) for pair in with_retry_wait_ranges()],
        "tenacity_waits": list(tenacity_waits_30_5_2()),
        "waits_without_jitter_flag": list(waits_without_jitter_flag()),
        "calls_per_request_30_5_1": calls_per_request(CHAPTER_ATTEMPTS),
        "calls_per_request_30_5_2": calls_per_request(CHAPTER_TENACITY_ATTEMPTS),
        "stream_calls": stream_is_not_retried(),
        "chain_worst_case_s": chapter_chain_worst_case_s(),
        "chain_timeouts_s": chapter_chain_timeouts_s(),
        "cache_fallback": chapter_cache_fallback(),
        "exception_key_error": exception_key_needs_a_dict(),
        "batch": batch_swap_check(),
    }
