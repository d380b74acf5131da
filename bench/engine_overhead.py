"""Engine overhead: one simulated request through our virtual-time runner and
mock model, against bare langchain-core chat models, in the same process.

Two baselines: langchain-core's FakeListChatModel (whose ainvoke hands the call
to a thread, as any model without its own async path does) and a minimal model
that answers on the event loop, the fairer comparison.  Each runs N requests back
to back inside one event loop; the figure is the time per request and the ratio
of the medians.  Target: under 1.3x.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from simulations.clock import run_virtual
from simulations.mock_llm import MockChatModel

from .stats import describe_ms

REQUESTS = 200
ROUNDS = 15
QUESTION = "Translate 'dog' to French"


class InstantChatModel(BaseChatModel):
    """Answers at once, on the event loop: only langchain-core's own overhead."""

    @property
    def _llm_type(self) -> str:
        return "instant"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage("chien"))])

    async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        return self._generate(messages)


async def _round(model: BaseChatModel) -> None:
    for _ in range(REQUESTS):
        await model.ainvoke(QUESTION)


def _time_bare(model_class: type[BaseChatModel]) -> float:
    model = model_class(responses=["chien"]) if model_class is FakeListChatModel else model_class()
    started = time.perf_counter()
    asyncio.run(_round(model))
    return (time.perf_counter() - started) / REQUESTS


def _time_engine() -> float:
    model = MockChatModel(model="gpt-4o-mini", seed=1, failure_rate=0.0, timeout_rate=0.0)
    started = time.perf_counter()
    run_virtual(lambda: _round(model))
    return (time.perf_counter() - started) / REQUESTS


def main() -> None:
    _time_bare(FakeListChatModel), _time_bare(InstantChatModel), _time_engine()  # warm up
    fake, instant, engine = [], [], []
    for _ in range(ROUNDS):  # interleaved, so machine noise hits all alike
        fake.append(_time_bare(FakeListChatModel))
        instant.append(_time_bare(InstantChatModel))
        engine.append(_time_engine())
    print("Engine overhead per simulated request (virtual clock + MockChatModel vs bare langchain-core models)")
    print(f"  FakeListChatModel.ainvoke     : {describe_ms(fake)}")
    print(f"  minimal in-loop chat model    : {describe_ms(instant)}")
    print(f"  our runner + mock model       : {describe_ms(engine)}")
    for name, baseline in (("FakeListChatModel", fake), ("minimal in-loop model", instant)):
        ratio = statistics.median(engine) / statistics.median(baseline)
        print(f"  ratio vs {name:22s}: {ratio:.2f}x   (target < 1.3x)")


if __name__ == "__main__":
    main()
