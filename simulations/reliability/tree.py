"""The reliability decision tree (section 30.11), as data.

A learner answers yes or no to a few questions about the failure in front of
them and reaches a leaf: a recommended strategy, the reason for it, and the
preset that opens the simulation with it.  A position in the tree is a *path*:
``start`` for the first question, then one letter per answer (``y``/``n``), so
``yyn`` is "transient: yes, overloaded: yes, another model acceptable: no".  The
path is a parameter of the component, so it is in every link.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..text import gettext_noop

ROOT = "start"
YES, NO = "y", "n"


@dataclass(frozen=True)
class Leaf:
    id: str
    title: str
    advice: str
    strategy: str  # the strategy of the simulation the leaf recommends
    preset: str  # the component's preset that shows it


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    help: str
    yes: Question | Leaf
    no: Question | Leaf


Node = Question | Leaf

TREE = Question(
    "transient",
    gettext_noop("Would the same request succeed if it were sent again a little later?"),
    gettext_noop("Yes for timeouts, 429 (rate limited) and 5xx (server errors); no for 400 (bad request) "
                 "and 401 (bad API key)."),
    yes=Question(
        "overloaded",
        gettext_noop("Are many requests failing at once: the provider overloaded or down?"),
        gettext_noop("A burst of 429s, an outage, a model that stopped answering, rather than a few "
                     "scattered errors."),
        yes=Question(
            "other_model",
            gettext_noop("Is an answer from another model (cheaper, or from another provider) acceptable?"),
            gettext_noop("It may be less accurate, and it costs a call of its own."),
            yes=Question(
                "stale_too",
                gettext_noop("When every model fails, is a stale answer from the cache acceptable?"),
                gettext_noop("An answer given earlier to the same question: fine for a FAQ, wrong for "
                             "today's prices."),
                yes=Leaf("full", gettext_noop("Everything, in layers"),
                         gettext_noop("Retry transient errors once or twice, honouring retry-after; put a "
                                      "circuit breaker in front of the primary; fall back to a model of another "
                                      "provider, then the cache, then a default answer."),
                         "full", "tree-full"),
                no=Leaf("fallback_model", gettext_noop("Circuit breaker and a fallback model"),
                        gettext_noop("Stop calling the failing model with a circuit breaker, answer from a "
                                     "model of another provider, and give a clear default answer when that "
                                     "fails too."),
                        "breaker", "tree-fallback-model"),
            ),
            no=Question(
                "stale",
                gettext_noop("Is a stale answer from the cache acceptable?"),
                gettext_noop("An answer given earlier to the same question."),
                yes=Leaf("cache", gettext_noop("Circuit breaker and the cache"),
                         gettext_noop("Stop calling the failing provider, serve the last good answer when "
                                      "there is one, and a default answer when there is not."),
                         "breaker", "tree-cache"),
                no=Leaf("default", gettext_noop("Fail fast with a default answer"),
                        gettext_noop("A circuit breaker and an honest default answer: the user learns at "
                                     "once, and the provider is left alone to recover."),
                        "breaker", "tree-default"),
            ),
        ),
        no=Leaf("retry", gettext_noop("Retry with exponential back-off and jitter"),
                gettext_noop("Retry transient errors a few times, waiting longer each time with some "
                             "randomness, and wait what a 429's retry-after asks. Retry in one layer only."),
                "retry_after", "tree-retry"),
    ),
    no=Leaf("fail_fast", gettext_noop("Do not retry: fix the request"),
            gettext_noop("A 400 or 401 fails again however often it is sent. Retry only transient errors, "
                         "report this one, and fix the request or the key."),
            "no_retry", "tree-fail-fast"),
)


def walk(node: Node = TREE, path: str = ROOT) -> Iterator[tuple[str, Node]]:
    """Every (path, node) of the tree, depth first, yes before no."""
    yield path, node
    if isinstance(node, Question):
        prefix = "" if path == ROOT else path
        yield from walk(node.yes, prefix + YES)
        yield from walk(node.no, prefix + NO)


NODES: dict[str, Node] = dict(walk())
PATHS: tuple[str, ...] = tuple(NODES)
LEAVES: dict[str, tuple[str, Leaf]] = {node.id: (path, node) for path, node in NODES.items()
                                       if isinstance(node, Leaf)}


def node_at(path: str) -> Node:
    return NODES[path]


def child(path: str, answer: str) -> str:
    """The path one answer further."""
    return ("" if path == ROOT else path) + answer


def trail(path: str) -> list[tuple[str, Question, str]]:
    """(path of the question, the question, the answer given) for every answer on ``path``."""
    steps = []
    here = ROOT
    for answer in ("" if path == ROOT else path):
        question = NODES[here]
        assert isinstance(question, Question)
        steps.append((here, question, answer))
        here = child(here, answer)
    return steps


def describe(path: str) -> dict[str, object]:
    """Where ``path`` leads, as plain data for a result."""
    node = NODES[path]
    leaf = node if isinstance(node, Leaf) else None
    return {"path": path, "node": node.id, "leaf": leaf.id if leaf else None,
            "strategy": leaf.strategy if leaf else None, "preset": leaf.preset if leaf else None,
            "answers": [[question.id, answer] for _, question, answer in trail(path)]}


# A short label per node, for the form's menu of positions (the widget shows the full questions).
SHORT_LABELS = {
    "transient": gettext_noop("Q1: transient error?"),
    "overloaded": gettext_noop("Q2: provider overloaded or down?"),
    "other_model": gettext_noop("Q3: another model acceptable?"),
    "stale_too": gettext_noop("Q4: stale answer acceptable too?"),
    "stale": gettext_noop("Q4: stale answer acceptable?"),
    "full": gettext_noop("Leaf: everything, in layers"),
    "fallback_model": gettext_noop("Leaf: circuit breaker and a fallback model"),
    "cache": gettext_noop("Leaf: circuit breaker and the cache"),
    "default": gettext_noop("Leaf: fail fast with a default answer"),
    "retry": gettext_noop("Leaf: retry with back-off and jitter"),
    "fail_fast": gettext_noop("Leaf: do not retry"),
}
PATH_LABELS: dict[str, str] = {path: SHORT_LABELS[node.id] for path, node in NODES.items()}
