"""The callback handler that prices every model call: tokens, cost, latency, errors.

It reads what langchain-core puts on every answer, ``AIMessage.usage_metadata``
(input and output tokens, counted by the provider), and prices input and output
apart with the app's own price table.  Three details a handler must get right:

* a **cached** answer comes back with the original ``usage_metadata`` plus
  ``"total_cost": 0`` (langchain-core 1.7): it was not billed, so it is counted
  as a cache hit and priced at zero;
* a **failed** call reaches ``on_llm_error``, not ``on_llm_end``, and bills nothing;
* calls overlap under ``abatch`` or ``asyncio.gather``, so start times are kept
  per ``run_id``, never in one attribute.

``run_inline = True``: under ``ainvoke`` langchain would otherwise hand every
event of a synchronous handler to a thread pool; this one only does arithmetic.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import ChatGeneration, LLMResult

from .metrics import LLMMetrics
from .pricing import PriceTable


@dataclass(frozen=True)
class CallRow:
    """One model call as the handler saw it."""

    request_id: Any
    model: str
    outcome: str  # ok, cache_hit, error
    start_s: float
    end_s: float
    input_tokens: int  # billed: 0 for a cache hit or an error
    output_tokens: int
    cost: Fraction  # USD, exact
    finish_reason: str = ""
    correct: bool = False
    status_code: int | None = None

    @property
    def latency_s(self) -> float:
        return self.end_s - self.start_s


class CostTracker(BaseCallbackHandler):
    """Prices each call with ``prices`` and records it; optionally fills Prometheus ``metrics``."""

    run_inline = True

    def __init__(self, prices: PriceTable, *, clock: Callable[[], float] = time.perf_counter,
                 metrics: LLMMetrics | None = None, system: str = "app") -> None:
        self.prices = prices
        self.clock = clock
        self.metrics = metrics
        self.system = system
        self.rows: list[CallRow] = []
        self._started: dict[UUID, tuple[float, str, Any]] = {}

    def on_chat_model_start(self, serialized: dict[str, Any], messages: list, *, run_id: UUID,
                            metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
        model = (kwargs.get("invocation_params") or {}).get("model_name", "unknown")
        self._started[run_id] = (self.clock(), model, (metadata or {}).get("request_id"))

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        start, model, request_id = self._started.pop(run_id, (self.clock(), "unknown", None))
        generation = response.generations[0][0]
        message = generation.message if isinstance(generation, ChatGeneration) else None
        usage = (message.usage_metadata if message is not None else None) or {}
        meta = message.response_metadata if message is not None else {}
        model = meta.get("model_name", model)
        if usage.get("total_cost") == 0:  # langchain-core's mark on an answer served from its cache
            row = CallRow(request_id, model, "cache_hit", start, self.clock(), 0, 0, Fraction(0),
                          meta.get("finish_reason", ""), bool(meta.get("correct")))
        else:
            tokens_in, tokens_out = usage.get("input_tokens", 0), usage.get("output_tokens", 0)
            row = CallRow(request_id, model, "ok", start, self.clock(), tokens_in, tokens_out,
                          self.prices.cost(model, tokens_in, tokens_out),
                          meta.get("finish_reason", ""), bool(meta.get("correct")))
        self._record(row)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        start, model, request_id = self._started.pop(run_id, (self.clock(), "unknown", None))
        self._record(CallRow(request_id, model, "error", start, self.clock(), 0, 0, Fraction(0),
                             status_code=getattr(error, "status_code", None)))

    def _record(self, row: CallRow) -> None:
        self.rows.append(row)
        if self.metrics is None:
            return
        m, labels = self.metrics, (self.system, row.model)
        m.calls.labels(*labels, row.outcome).inc()
        m.call_seconds.labels(*labels).observe(row.latency_s)
        if row.outcome == "ok":
            m.tokens.labels(*labels, "input").inc(row.input_tokens)
            m.tokens.labels(*labels, "output").inc(row.output_tokens)
            m.cost.labels(*labels).inc(float(row.cost))

    # -- what the rows add up to --------------------------------------------------

    @property
    def total_cost(self) -> Fraction:
        return sum((r.cost for r in self.rows), Fraction(0))

    def summary(self) -> dict[str, Any]:
        billed = [r for r in self.rows if r.outcome == "ok"]
        return {"calls": len(self.rows), "billed_calls": len(billed),
                "cache_hits": sum(r.outcome == "cache_hit" for r in self.rows),
                "errors": sum(r.outcome == "error" for r in self.rows),
                "input_tokens": sum(r.input_tokens for r in billed),
                "output_tokens": sum(r.output_tokens for r in billed),
                "cost_usd": float(self.total_cost)}
