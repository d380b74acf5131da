"""The cost levers, as the code an app would run: routing, output caps, fallbacks, a cache.

:func:`build_pipeline` is the whole optimised call path in a few lines of
langchain-core: each model (a cache attached, its output capped, the client's own
retries) falls back to the other, and a ``RunnableBranch`` sends simple requests
to the small model.  Prompt compression and batching happen around it
(:mod:`.compression`, :mod:`.serving`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.caches import BaseCache
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableBranch

from ..caches import LruCache
from ..mock_llm import MockChatModel
from .pricing import LARGE, SMALL
from .tracker import CostTracker
from .traffic import EQUAL_REPLY_TOKENS, class_of_question

LENGTH_LIMIT = 50  # the chapter's rule: a question under 50 characters is "simple"
CACHE_ENTRIES = 10_000
CACHE_LOOKUP_S = 0.001  # modelled: one round trip to a cache server in the same data centre
ROUTINGS = ("off", "length", "label")
# The waterfall's order: each lever's saving is measured with the ones before it on.
LEVERS = ("cache", "max_tokens", "routing", "compression", "batching", "retries_fallbacks")


@dataclass(frozen=True)
class Levers:
    cache: bool = False
    max_tokens: int = 0  # 0: no cap
    routing: str = "off"  # off, length (the chapter's rule), label (the request's complexity label)
    keep: float = 1.0  # share of context tokens compression keeps; 1.0: no compression
    concurrency: int = 0  # async requests in flight; 0: synchronous workers
    batch_size: int = 1  # requests per abatch; 1: no batching
    retries: int = 0  # the client's own retries of a failed call
    fallback: bool = False  # each model falls back to the other

    def on(self, lever: str) -> bool:
        return {"cache": self.cache, "max_tokens": self.max_tokens > 0, "routing": self.routing != "off",
                "compression": self.keep < 1.0, "batching": self.concurrency > 0 or self.batch_size > 1,
                "retries_fallbacks": self.retries > 0 or self.fallback}[lever]


BASELINE = Levers()


def is_short(messages: Sequence[BaseMessage]) -> bool:
    """The chapter's routing rule: fewer than 50 characters in the question."""
    return len(messages[-1].text) < LENGTH_LIMIT


def is_simple(messages: Sequence[BaseMessage]) -> bool:
    """Routing by the request's complexity label (here, its intent's class in the catalogue)."""
    return class_of_question(messages[-1].text) == "simple"


class RoutingRule(Runnable[Sequence[BaseMessage], bool]):
    """A routing test as a Runnable that answers inline.

    A plain function in a RunnableBranch becomes a RunnableLambda: a traced run of
    its own for every request and, under ``ainvoke``, a hop to a thread pool.  For a
    test that compares a length, that overhead costs more than the decision.
    """

    def __init__(self, test: Callable[[Sequence[BaseMessage]], bool]) -> None:
        self.test = test
        self.name = test.__name__

    def invoke(self, input: Sequence[BaseMessage], config: Any = None, **kwargs: Any) -> bool:
        return self.test(input)

    async def ainvoke(self, input: Sequence[BaseMessage], config: Any = None, **kwargs: Any) -> bool:
        return self.test(input)


ROUTING_RULES: dict[str, Callable[[Sequence[BaseMessage]], bool]] = {"length": is_short, "label": is_simple}


def build_pipeline(levers: Levers, large: Runnable, small: Runnable) -> Runnable:
    """Fallbacks between the two models, then a branch that sends simple requests to the small one."""
    if levers.fallback:
        large, small = large.with_fallbacks([small]), small.with_fallbacks([large])
    if levers.routing == "off":
        return large
    return RunnableBranch((RoutingRule(ROUTING_RULES[levers.routing]), small), large)


def make_model(name: str, levers: Levers, *, seed: int, error_rate: float, tracker: CostTracker,
               cache: BaseCache | None, equal_sizes: bool) -> MockChatModel:
    """One provider model as the app configures it: cap, retries, cache, the cost tracker."""
    return MockChatModel(
        model=name, seed=seed, keyed_draws=True,
        failure_rate=error_rate, timeout_rate=0.0,  # hangs belong to the reliability lessons
        max_retries=levers.retries, max_tokens=levers.max_tokens or None,
        reply_tokens=EQUAL_REPLY_TOKENS if equal_sizes else None,
        cache=cache if cache is not None else False,  # False: never langchain's global cache
        callbacks=[tracker],
    )


class TimedCache(LruCache):
    """The caching lab's exact cache, each lookup taking a round trip of simulated time.

    It answers exactly as a Redis cache would (and lesson 30.1 runs the real one);
    here the store stays in process so that a run costs no real round trips.
    """

    async def alookup(self, prompt: str, llm_string: str) -> Any:
        await asyncio.sleep(CACHE_LOOKUP_S)
        return self.lookup(prompt, llm_string)


def make_cache(levers: Levers) -> BaseCache | None:
    return TimedCache(CACHE_ENTRIES) if levers.cache else None


def models(levers: Levers, **kwargs) -> tuple[MockChatModel, MockChatModel]:
    cache = make_cache(levers)
    return (make_model(LARGE, levers, cache=cache, **kwargs), make_model(SMALL, levers, cache=cache, **kwargs))
