"""Routing policies: from a request to a model, with the reasons a learner can read.

Every policy is a plain function ``(Request) -> Route``.  The chapter's router
(``book``) runs exactly as written, context windows ignored.  All the others go
through the same context-window guard: a request whose prompt does not leave
room for the answer in the chosen model's window goes to a model that fits
(one at least as capable, the cheapest first), or is refused with a clear reason.

The cascade is not here: it decides after seeing the weak model's answer, so it
lives with the chain that runs it (:mod:`.chain`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from ..component import Note, note
from ..profiles import profile
from ..text import gettext_noop
from ..tokens import count_chat_tokens
from . import book
from .classifier import classify
from .models import ANSWER_BUDGET, MODELS, SPECIALIST, STRONG, WEAK, capability, fits
from .prompts import document

TIERS = ("free", "premium", "enterprise")
PRIORITIES = ("balanced", "cost", "speed", "quality")
ROUTER_POLICIES = ("improved", "book", "threshold", "length", "strongest")  # decide before the call
POLICIES = ("strongest", "book", "length", "improved", "threshold", "cascade")
LENGTH_LIMIT = 50  # 30.4.2's rule: a question under 50 characters is "simple"
DEFAULT_THRESHOLD = 0.36
CONTEXT_HEADER = "Answer from this document:"

# Our table: the class decides the model, the priority moves it; the tier only
# limits which models may be used (free: the weak one).  In this catalogue the
# cheapest model is also the fastest, so cost and speed agree.
IMPROVED_TABLE = {
    "balanced": {"simple": WEAK, "medium": STRONG, "complex": STRONG, "specialized": SPECIALIST},
    "cost": {"simple": WEAK, "medium": WEAK, "complex": STRONG, "specialized": STRONG},
    "speed": {"simple": WEAK, "medium": WEAK, "complex": STRONG, "specialized": STRONG},
    "quality": {"simple": STRONG, "medium": STRONG, "complex": SPECIALIST, "specialized": SPECIALIST},
}
ALLOWED = {"free": (WEAK,), "premium": MODELS, "enterprise": MODELS}


@dataclass(frozen=True)
class Request:
    prompt: str
    document: str = ""  # a key of prompts.DOCUMENTS, attached as context
    tier: str = "premium"
    priority: str = "balanced"

    @property
    def context(self) -> str:
        return document(self.document) if self.document else ""


@dataclass(frozen=True)
class Route:
    """Where a policy sends a request, and why."""

    policy: str
    model: str | None  # None: refused, no allowed model fits
    kind: str  # the policy's own class for the request (a node of the flow)
    input_tokens: int  # what the chosen model (or the first one tried) would read
    reasons: tuple[Note, ...]
    score: float | None = None  # our classifier's score, when the policy uses it

    @property
    def refused(self) -> bool:
        return self.model is None


ROUTE_TEXTS = {
    "strongest": gettext_noop("Everything goes to the strong model, %(model)s."),
    "length_short": gettext_noop("%(chars)s characters, under %(limit)s: the weak model, %(model)s."),
    "length_long": gettext_noop("%(chars)s characters, %(limit)s or more: the strong model, %(model)s."),
    "improved": gettext_noop("Class %(kind)s with priority %(priority)s: %(model)s."),
    "free_tier": gettext_noop("Free tier: only %(model)s may be used."),
    "threshold_strong": gettext_noop("Score %(score)s is at or above the threshold %(threshold)s: %(model)s."),
    "threshold_weak": gettext_noop("Score %(score)s is below the threshold %(threshold)s: %(model)s."),
    "fallback": gettext_noop(
        "%(tokens)s prompt tokens plus %(budget)s for the answer do not fit %(model)s's %(window)s-token "
        "window: %(fallback)s instead."),
    "refused": gettext_noop(
        "%(tokens)s prompt tokens plus %(budget)s for the answer fit none of the models this tier may use "
        "(largest window: %(window)s tokens): refused."),
    "book_too_long": gettext_noop(
        "%(tokens)s prompt tokens do not fit %(model)s's %(window)s-token window: the call fails with 400, "
        "because the chapter's router never checks."),
}


@lru_cache(maxsize=8192)
def input_tokens(prompt: str, doc: str, model: str) -> int:
    """Prompt tokens of the request as sent to ``model``: the document (if any), then the question."""
    texts = [f"{CONTEXT_HEADER}\n\n{document(doc)}", prompt] if doc else [prompt]
    return count_chat_tokens(texts, profile(model).encoding)


def guarded(policy: str, request: Request, desired: str, allowed: Sequence[str], kind: str,
            reasons: list[Note], score: float | None = None) -> Route:
    """``desired`` if the request fits it, else a model that fits (as capable, cheapest first), else refusal."""
    tokens = input_tokens(request.prompt, request.document, desired)
    if fits(desired, tokens):
        return Route(policy, desired, kind, tokens, tuple(reasons), score)
    fitting = [m for m in allowed if fits(m, input_tokens(request.prompt, request.document, m))]
    if not fitting:
        window = max(profile(m).context_window for m in allowed)
        reasons.append(note(ROUTE_TEXTS, "refused", tokens=f"{tokens:,}", budget=f"{ANSWER_BUDGET:,}",
                            window=f"{window:,}"))
        return Route(policy, None, kind, tokens, tuple(reasons), score)
    fallback = min(fitting, key=lambda m: (capability(m) < capability(desired), profile(m).price_in_per_1m))
    reasons.append(note(ROUTE_TEXTS, "fallback", tokens=f"{tokens:,}", budget=f"{ANSWER_BUDGET:,}",
                        model=desired, window=f"{profile(desired).context_window:,}", fallback=fallback))
    return Route(policy, fallback, kind, input_tokens(request.prompt, request.document, fallback),
                 tuple(reasons), score)


def strongest(request: Request) -> Route:
    """Everything to the strong model (the chapter's "without routing" baseline)."""
    reasons = [note(ROUTE_TEXTS, "strongest", model=STRONG)]
    return guarded("strongest", request, STRONG, MODELS, "all", reasons)


def weakest(request: Request) -> Route:
    """Everything to the weak model: the other end of a router's cost-quality curve."""
    return guarded("weakest", request, WEAK, MODELS, "all", [])


def length_only(request: Request) -> Route:
    """30.4.2's rule: the length of the question in characters, nothing else."""
    chars = len(request.prompt)
    if chars < LENGTH_LIMIT:
        return guarded("length", request, WEAK, MODELS, "short",
                       [note(ROUTE_TEXTS, "length_short", chars=chars, limit=LENGTH_LIMIT, model=WEAK)])
    return guarded("length", request, STRONG, MODELS, "long",
                   [note(ROUTE_TEXTS, "length_long", chars=chars, limit=LENGTH_LIMIT, model=STRONG)])


def book_router(request: Request) -> Route:
    """The chapter's ``select_model``, exactly; its class and the branch that returned, as reasons."""
    context = request.context
    complexity = book.classify_task(request.prompt, context)
    model = book.select_model(request.prompt, context, request.tier, request.priority)
    reasons = [book.explain_class(request.prompt, context),
               book.explain_selection(complexity, request.tier, request.priority)]
    tokens = input_tokens(request.prompt, request.document, model)
    window = profile(model).context_window
    if tokens >= window:  # what the provider answers; the chapter's code never looks
        reasons.append(note(ROUTE_TEXTS, "book_too_long", tokens=f"{tokens:,}", model=model,
                            window=f"{window:,}"))
    return Route("book", model, complexity.value, tokens, tuple(reasons))


def improved(request: Request) -> Route:
    """Our classifier and table; the tier limits the models; the context-window guard."""
    found = classify(request.prompt)
    reasons = list(found.reasons)
    allowed = ALLOWED[request.tier]
    desired = IMPROVED_TABLE[request.priority][found.kind]
    if desired not in allowed:
        desired = allowed[0]
        reasons.append(note(ROUTE_TEXTS, "free_tier", model=desired))
    else:
        reasons.append(note(ROUTE_TEXTS, "improved", kind=found.kind, priority=request.priority,
                            model=desired))
    return guarded("improved", request, desired, allowed, found.kind, reasons, found.score)


def threshold_router(request: Request, threshold: float = DEFAULT_THRESHOLD) -> Route:
    """A two-model router: the strong model when our score reaches ``threshold``."""
    found = classify(request.prompt)
    score = found.score
    if score >= threshold:
        desired, code = STRONG, "threshold_strong"
    else:
        desired, code = WEAK, "threshold_weak"
    reasons = [*found.reasons,
               note(ROUTE_TEXTS, code, score=f"{score:.2f}", threshold=f"{threshold:.2f}", model=desired)]
    return guarded("threshold", request, desired, MODELS, found.kind, reasons, score)


def router(policy: str, threshold: float = DEFAULT_THRESHOLD) -> Callable[[Request], Route]:
    """The decision function of ``policy`` (one of ROUTER_POLICIES)."""
    if policy == "threshold":
        return lambda request: threshold_router(request, threshold)
    return {"strongest": strongest, "book": book_router, "length": length_only,
            "improved": improved, "weakest": weakest}[policy]
