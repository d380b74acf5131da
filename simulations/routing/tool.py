"""The prompt box: one prompt routed by one policy, then run through the real chain.

``route_prompt`` checks its inputs (a size cap on the prompt, known tiers,
priorities, policies and documents), routes the prompt, runs it on the mock
models on the virtual clock and returns everything the box shows: both
classifiers' view of the prompt, the rule that fired, the model, the tokens
counted before the call, what the call cost and took, and the chapter's own
estimate of that cost beside it.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..component import Note
from ..params import Param, ParamSpec
from ..profiles import profile
from ..text import gettext_noop
from . import book
from .chain import Ran, build_chain, mock_models, run_requests
from .classifier import Classification, classify
from .models import ANSWER_BUDGET
from .policies import DEFAULT_THRESHOLD, PRIORITIES, ROUTER_POLICIES, TIERS, Request, Route, router
from .prompts import DOCUMENT_KEYS

MAX_PROMPT_CHARS = 1000

SPEC = ParamSpec(params=(
    Param("tier", "premium", choices=TIERS, label=gettext_noop("Tier")),
    Param("priority", "balanced", choices=PRIORITIES, label=gettext_noop("Priority")),
    Param("policy", "improved", choices=ROUTER_POLICIES, label=gettext_noop("Policy")),
    Param("document", "none", choices=("none", *DOCUMENT_KEYS), label=gettext_noop("Attached document")),
    Param("threshold", DEFAULT_THRESHOLD, min=0.0, max=1.0, step=0.02, label=gettext_noop("Router threshold")),
))

TOOL_TEXTS = {
    "prompt_required": gettext_noop("Type a prompt to route."),
    "prompt_too_long": gettext_noop(
        "This box takes prompts of up to %(max)s characters; this one has %(n)s. To try a long input, attach "
        "one of the sample documents instead."),
}


class ToolError(ValueError):
    """A refused input: ``field`` names it; ``template`` (marked for translation) and ``data`` word it."""

    def __init__(self, field: str, template: str, **data: Any) -> None:
        self.field, self.template, self.data = field, template, data
        super().__init__(f"{field}: {template % data}")


@dataclass(frozen=True)
class Routed:
    request: Request
    policy: str
    threshold: float
    route: Route
    ran: Ran
    ours: Classification
    book_kind: str
    book_rule: Note
    window: int | None  # the chosen model's context window
    input_cost_usd: float  # the prompt's tokens at the chosen model's input price, known before the call
    worst_cost_usd: float  # plus a full answer budget at the output price
    book_words: int  # the chapter's estimate: words of the reply ...
    book_cost_usd: float  # ... times one price per 1K

    @property
    def end(self) -> str:
        """The flow's last node for this request: a model, or what went wrong."""
        if self.ran.outcome == "too_long":
            return "too-long"
        return self.route.model or "refused"

    @property
    def path(self) -> list[str]:
        return [f"class:{self.route.kind}", f"tier:{self.request.tier}", f"model:{self.end}"]


def parse(query: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The prompt and the typed options, or ToolError / ParamError naming the field."""
    prompt = str(query.get("prompt", "") or "").strip()
    if not prompt:
        raise ToolError("prompt", TOOL_TEXTS["prompt_required"])
    if len(prompt) > MAX_PROMPT_CHARS:
        raise ToolError("prompt", TOOL_TEXTS["prompt_too_long"], max=MAX_PROMPT_CHARS, n=len(prompt))
    raw = {name: query[name] for name in SPEC.names if query.get(name) not in (None, "")}
    return prompt, SPEC.parse(raw)


def route_prompt(prompt: str, options: Mapping[str, Any]) -> Routed:
    """Route ``prompt`` with ``options`` (as :func:`parse` returns them) and run it through the chain."""
    return _route(prompt, tuple(sorted(options.items())))


@lru_cache(maxsize=1024)
def _route(prompt: str, items: tuple[tuple[str, Any], ...]) -> Routed:
    # Deterministic (the mock's seed comes from the prompt), so the same question is answered once.
    options = dict(items)
    doc = "" if options["document"] == "none" else options["document"]
    request = Request(prompt, doc, options["tier"], options["priority"])
    decide = router(options["policy"], options["threshold"])
    seed = zlib.crc32(prompt.encode())  # the same prompt, the same draw of latency
    chain = build_chain(decide, mock_models(seed))
    ran = run_requests(chain, [{"request": request}], decide)[0]
    route = ran.route
    context = request.context
    book_words, book_cost = (book.estimate_cost(ran.answer, route.model)
                             if route.model in book.MODELS and ran.outcome == "ok" else (0, 0.0))
    spec = profile(route.model) if route.model else None
    return Routed(
        request=request, policy=options["policy"], threshold=options["threshold"], route=route, ran=ran,
        ours=classify(prompt), book_kind=book.classify_task(prompt, context).value,
        book_rule=book.explain_class(prompt, context),
        window=spec.context_window if spec else None,
        input_cost_usd=route.input_tokens * spec.price_in_per_1m / 1e6 if spec else 0.0,
        worst_cost_usd=spec.cost(route.input_tokens, ANSWER_BUDGET) if spec else 0.0,
        book_words=book_words, book_cost_usd=book_cost,
    )
