"""Engine overhead: one simulated request through our virtual-time runner and
mock model, against a bare langchain-core fake chat model, in the same process.

Both run N requests back to back inside one event loop; the figure is the time
per request and the ratio of the two medians.  Target: under 1.3x.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from simulations.clock import run_virtual
from simulations.mock_llm import MockChatModel

from .stats import describe_ms

REQUESTS = 200
ROUNDS = 15
QUESTION = "Translate 'dog' to French"


async def _bare_round() -> None:
    model = FakeListChatModel(responses=["chien"])
    for _ in range(REQUESTS):
        await model.ainvoke(QUESTION)


async def _engine_round() -> None:
    model = MockChatModel(model="gpt-4o-mini", seed=1, failure_rate=0.0, timeout_rate=0.0)
    for _ in range(REQUESTS):
        await model.ainvoke(QUESTION)


def _time_bare() -> float:
    started = time.perf_counter()
    asyncio.run(_bare_round())
    return (time.perf_counter() - started) / REQUESTS


def _time_engine() -> float:
    started = time.perf_counter()
    run_virtual(_engine_round)
    return (time.perf_counter() - started) / REQUESTS


def main() -> None:
    _time_bare(), _time_engine()  # warm imports and caches
    bare, engine = [], []
    for _ in range(ROUNDS):  # interleaved, so machine noise hits both alike
        bare.append(_time_bare())
        engine.append(_time_engine())
    ratio = statistics.median(engine) / statistics.median(bare)
    print("Engine overhead per simulated request (virtual clock + MockChatModel vs FakeListChatModel.ainvoke)")
    print(f"  bare langchain-core fake : {describe_ms(bare)}")
    print(f"  our runner + mock model  : {describe_ms(engine)}")
    print(f"  ratio of medians         : {ratio:.2f}x   (target < 1.3x)")


if __name__ == "__main__":
    main()
