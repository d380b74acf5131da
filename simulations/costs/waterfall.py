"""Which lever saved what: the levers applied one after another, each step priced.

The two real runs, before (every request to gpt-4o, nothing else) and after (the
levers that are on), meet the same luck request by request (the mock model draws
each attempt's latency, fault and quality from the request and attempt), so the
steps between them can be priced from what the runs recorded, without a run per step:

0. before: what the before run was billed;
1. cache: the requests the cache answered cost nothing;
2. max_tokens: gpt-4o's answers cut at the cap (the before run's output, capped);
3. routing: each request priced on the model the branch chose, with that model's
   capped answer (the after run's first attempt);
4. compression: the same calls with the compressed prompt's input tokens
   (exactly the after run's first attempts);
5. batching and concurrency: the same calls, sent differently: the same bill;
6. retries and fallbacks: what the after run was billed, rescued calls included.

Each lever's saving is the step before it minus its step; the savings add up to
before minus after exactly, because every step is rounded to a millionth of a
dollar once and the savings are differences of those rounded steps.  The order
is a choice: a lever's share depends on what was already saved before it (a cap
saves more on gpt-4o than on gpt-4o-mini), the total does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from ..mock_llm import CallRecord
from .levers import LEVERS
from .pricing import LARGE, PriceTable, usd
from .serving import SystemRun
from .traffic import Request


@dataclass(frozen=True)
class Steps:
    """The sample's cost after each step (USD, exact), before first."""

    costs: tuple[Fraction, ...]  # len(LEVERS) + 1

    def per_day(self, scale: Fraction) -> tuple[Decimal, ...]:
        return tuple(usd(c * scale) for c in self.costs)


def steps(requests: list[Request], before: SystemRun, after: SystemRun, prices: PriceTable) -> Steps:
    cap = after.levers.max_tokens
    base = {r.request_id: r for r in before.rows if r.outcome == "ok"}  # before: one call per request
    hits = {s.request_id for s in after.served if s.cache_hit}
    first = _first_calls(after)
    full_input = {r.id: r.prompt_tokens for r in requests}
    costs = [sum((r.cost for r in before.rows), Fraction(0))]
    step_cache = step_cap = step_route = step_compress = Fraction(0)
    for request in requests:
        i = request.id
        if i in hits:
            continue
        b = base.get(i)
        if b is not None:
            step_cache += b.cost
            capped = min(b.output_tokens, cap) if cap else b.output_tokens
            step_cap += prices.cost(LARGE, b.input_tokens, capped)
        call = first.get(i)
        if call is not None and call[1].outcome == "ok":
            model, record = call
            step_route += prices.cost(model, full_input[i], record.output_tokens)
            step_compress += prices.cost(model, record.input_tokens, record.output_tokens)
    billed = sum((r.cost for r in after.rows), Fraction(0))
    costs += [step_cache, step_cap, step_route, step_compress, step_compress, billed]
    return Steps(tuple(costs))


def _first_calls(run: SystemRun) -> dict[int, tuple[str, CallRecord]]:
    """Each request's first attempt, on the model its route chose: its earliest record."""
    first: dict[int, tuple[str, CallRecord]] = {}
    # A fallback starts only after its primary failed, so the earliest record is the primary's.
    for model, call in sorted(run.attempts, key=lambda a: a[1].start_s):
        first.setdefault(call.request_id, (model, call))
    return first


def rows(day_costs: tuple[Decimal, ...]) -> list[dict[str, object]]:
    """One row per lever: the saving of its step (negative when it costs more)."""
    return [{"lever": lever, "saved_usd": float(day_costs[k] - day_costs[k + 1])}
            for k, lever in enumerate(LEVERS)]
