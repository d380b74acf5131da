"""What each policy costs, how long it takes and how often it is right, request by request.

The per-request figures follow the mock model's own rules (see mock_llm.py), so
they agree with what the chain reports when it really runs a request:

* tokens: the prompt as sent (document, then question) counted with the model's
  tokenizer; the answer is the mock's fixed reply for the question, cut to the
  answer budget and to the room the window leaves;
* a prompt that fills the model's whole window fails at once with 400, unbilled;
* cost: list prices per token (or, under the chapter's pricing, its flat price
  per request);
* latency: time to first token (the profile's median times a lognormal spread)
  plus one token every ``1 / tokens_per_s`` seconds after it;
* correctness: one uniform draw per request, right on model ``m`` when it falls
  under ``m``'s ``p_correct(complexity)``, so a request a weak model gets right
  is also right on a stronger one.

Everything is computed on arrays for thousands of requests at once; the chain
runs the first requests for real (see the component), and a test checks that
the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import numpy as np

from .. import answers
from ..profiles import profile
from . import book
from .models import ANSWER_BUDGET, MODELS, WEAK
from .policies import DEFAULT_THRESHOLD, TIERS, Request, Route, input_tokens, router
from .prompts import cases
from .traffic import Traffic

OK, TOO_LONG, REFUSED = 0, 1, 2
VERIFIER_RIGHT = (4.0, 2.0)  # Beta parameters of the verifier's score when the weak answer is right
VERIFIER_WRONG = (2.0, 3.0)  # and when it is wrong


def reply_length(prompt: str, model: str) -> int:
    """Tokens of the mock's full reply to ``prompt`` on ``model`` (before any cut)."""
    intent_id, lead, complexity = answers.intent(prompt)
    return len(answers.reply_tokens(intent_id, lead, complexity, model, profile(model).encoding))


def call_tokens(prompt: str, doc: str, model: str) -> tuple[int, int, bool]:
    """(input tokens, output tokens, fails with 400) of one call, by the mock's rules."""
    spec = profile(model)
    tokens_in = input_tokens(prompt, doc, model)
    room = spec.context_window - tokens_in
    if room <= 0:
        return tokens_in, 0, True
    limit = min(spec.max_output_tokens, room, ANSWER_BUDGET)
    return tokens_in, min(reply_length(prompt, model), limit), False


@dataclass(frozen=True)
class CaseTable:
    """Per case and model: input and output tokens, whether the call fails, list-price cost."""

    tokens_in: np.ndarray  # [case, model]
    tokens_out: np.ndarray
    fails: np.ndarray  # bool
    list_cost: np.ndarray


@cache
def case_table() -> CaseTable:
    shape = (len(cases()), len(MODELS))
    tokens_in, tokens_out = np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.int64)
    fails = np.zeros(shape, dtype=bool)
    cost = np.zeros(shape)
    for c in cases():
        for m, model in enumerate(MODELS):
            t_in, t_out, failed = call_tokens(c.text, c.doc, model)
            tokens_in[c.id, m], tokens_out[c.id, m], fails[c.id, m] = t_in, t_out, failed
            cost[c.id, m] = 0.0 if failed else profile(model).cost(t_in, t_out)
    return CaseTable(tokens_in, tokens_out, fails, cost)


@cache
def _complexities() -> np.ndarray:
    return np.array([c.complexity for c in cases()])


@dataclass(frozen=True)
class Draws:
    """The random part of a run, shared by every policy (common random numbers)."""

    correct_roll: np.ndarray  # [request]
    ttft_factor: np.ndarray  # [request, model]: lognormal spread of the time to first token
    verifier_if_right: np.ndarray  # [request]: the verifier's score of the weak answer if it is right
    verifier_if_wrong: np.ndarray  # and if it is wrong
    coin: np.ndarray  # [request]: the random router's coin


def draw(requests: int, seed: int, stream: int = 0) -> Draws:
    rng = np.random.default_rng([seed, 7, stream])
    spreads = np.array([profile(m).latency_spread for m in MODELS])
    right = rng.beta(*VERIFIER_RIGHT, size=requests)
    wrong = rng.beta(*VERIFIER_WRONG, size=requests)
    return Draws(
        correct_roll=rng.random(requests),
        ttft_factor=np.exp(rng.standard_normal((requests, len(MODELS))) * spreads),
        verifier_if_right=right, verifier_if_wrong=wrong,
        coin=rng.random(requests),
    )


@dataclass(frozen=True)
class Matrix:
    """Every request on every model: what it would cost, take and get right."""

    cost: np.ndarray  # [request, model], USD, 0 where the call fails
    latency_s: np.ndarray
    correct: np.ndarray  # bool, False where the call fails
    fails: np.ndarray  # bool: 400, the prompt fills the window


def matrix(traffic: Traffic, draws: Draws, pricing: str) -> Matrix:
    table = case_table()
    fails = table.fails[traffic.case]
    if pricing == "book":
        flat = np.array([book.PRICE_PER_REQUEST[m] for m in MODELS])
        cost = np.where(fails, 0.0, flat[None, :])
    else:
        cost = table.list_cost[traffic.case]
    ttft = np.array([profile(m).ttft_s for m in MODELS])[None, :] * draws.ttft_factor
    speed = np.array([profile(m).tokens_per_s for m in MODELS])[None, :]
    out = table.tokens_out[traffic.case]
    latency = np.where(fails, 0.0, ttft + np.maximum(out - 1, 0) / speed)
    complexity = np.clip(_complexities()[traffic.case], 0.0, 1.0)[:, None]
    easy = np.array([profile(m).quality_easy for m in MODELS])[None, :]
    hard = np.array([profile(m).quality_hard for m in MODELS])[None, :]
    p_right = easy + (hard - easy) * complexity  # ModelProfile.p_correct, for every request and model at once
    correct = (draws.correct_roll[:, None] < p_right) & ~fails
    return Matrix(cost, latency, correct, fails)


@dataclass(frozen=True)
class Decisions:
    """Where one policy sent each request."""

    model: np.ndarray  # int index into MODELS, -1 when refused
    kind: np.ndarray  # object: the policy's class for each request
    status: np.ndarray  # OK, TOO_LONG or REFUSED
    score: np.ndarray  # float: our classifier's score (nan when the policy does not use it)


@lru_cache(maxsize=65_536)
def route_case(policy: str, case_id: int, tier: str, priority: str, threshold: float) -> Route:
    """The route ``policy`` gives one case: the real policy function, remembered (it is deterministic)."""
    case = cases()[case_id]
    return router(policy, threshold)(Request(case.text, case.doc, tier, priority))


def decide_all(traffic: Traffic, policy: str, priority: str, threshold: float = DEFAULT_THRESHOLD) -> Decisions:
    """Route every request of ``traffic``: once per distinct (case, tier), spread to the requests."""
    keys = traffic.case * len(TIERS) + traffic.tier
    unique, inverse = np.unique(keys, return_inverse=True)
    models = np.empty(len(unique), dtype=np.int64)
    kinds = np.empty(len(unique), dtype=object)
    status = np.empty(len(unique), dtype=np.int64)
    scores = np.full(len(unique), np.nan)
    fails = case_table().fails
    for j, key in enumerate(unique.tolist()):
        case_id, tier = divmod(key, len(TIERS))
        route = route_case(policy, case_id, TIERS[tier], priority, threshold if policy == "threshold" else 0.0)
        kinds[j] = route.kind
        if route.score is not None:
            scores[j] = route.score
        if route.model is None:
            models[j], status[j] = -1, REFUSED
        else:
            models[j] = MODELS.index(route.model)
            status[j] = TOO_LONG if fails[case_id, models[j]] else OK
    return Decisions(models[inverse], kinds[inverse], status[inverse], scores[inverse])


@dataclass(frozen=True)
class Outcome:
    """Per request, after a policy: cost, latency (answered requests), right or not, which model answered."""

    cost: np.ndarray
    latency_s: np.ndarray  # nan where nothing was answered
    correct: np.ndarray
    answered_by: np.ndarray  # model index, -1 when refused or failed
    status: np.ndarray
    kind: np.ndarray
    strong_calls: np.ndarray  # bool: a model other than the weak one was called


def outcome(decisions: Decisions, m: Matrix) -> Outcome:
    rows = np.arange(len(decisions.model))
    chosen = np.maximum(decisions.model, 0)
    ok = decisions.status == OK
    cost = np.where(ok, m.cost[rows, chosen], 0.0)
    latency = np.where(ok, m.latency_s[rows, chosen], np.nan)
    correct = ok & m.correct[rows, chosen]
    answered = np.where(ok, decisions.model, -1)
    strong = (decisions.model >= 0) & (decisions.model != MODELS.index(WEAK))
    return Outcome(cost, latency, correct, answered, decisions.status, decisions.kind, strong)


def cascade_outcome(first: Decisions, second: Decisions, m: Matrix, draws: Draws, threshold: float) -> Outcome:
    """Weak model (``first``) for everyone; ``second`` too when the verifier scores the answer below ``threshold``."""
    rows = np.arange(len(first.model))
    one, two = np.maximum(first.model, 0), np.maximum(second.model, 0)
    ok1 = first.status == OK
    right1 = ok1 & m.correct[rows, one]
    score = verifier_scores(draws, right1)
    escalate = can_escalate(first, second) & (score < threshold)
    cost = np.where(ok1, m.cost[rows, one], 0.0) + np.where(escalate, m.cost[rows, two], 0.0)
    latency = np.where(ok1, m.latency_s[rows, one], np.nan) + np.where(escalate, m.latency_s[rows, two], 0.0)
    correct = np.where(escalate, m.correct[rows, two], right1)
    answered = np.where(escalate, second.model, np.where(ok1, first.model, -1))
    kind = np.where(escalate, "escalated", "kept").astype(object)
    strong = escalate | ((first.model >= 0) & (first.model != MODELS.index(WEAK)))
    return Outcome(cost, latency, correct, answered, first.status, kind, strong)


def can_escalate(first: Decisions, second: Decisions) -> np.ndarray:
    """Requests a cascade can send on: both calls possible, and the second model is another one."""
    return (first.status == OK) & (second.status == OK) & (first.model != second.model)


def verifier_scores(draws: Draws, weak_right: np.ndarray) -> np.ndarray:
    """The simulated verifier: a high score for most right answers, a low one for most wrong ones."""
    return np.where(weak_right, draws.verifier_if_right, draws.verifier_if_wrong)


def summary(out: Outcome, monthly_requests: int) -> dict[str, Any]:
    """The figures of one policy, as plain numbers for the result's JSON."""
    n = len(out.cost)
    answered = out.latency_s[~np.isnan(out.latency_s)]
    avg = float(out.cost.mean()) if n else 0.0
    return {
        "avg_cost_per_request_usd": avg,
        "monthly_cost_usd": avg * monthly_requests,
        "p50_latency_ms": float(np.percentile(answered, 50) * 1000) if len(answered) else 0.0,
        "p95_latency_ms": float(np.percentile(answered, 95) * 1000) if len(answered) else 0.0,
        "mean_latency_ms": float(answered.mean() * 1000) if len(answered) else 0.0,
        "mean_quality": float(out.correct.mean()) if n else 0.0,
        "strong_share": float(out.strong_calls.mean()) if n else 0.0,
        "error_rate": float((out.status == TOO_LONG).mean()) if n else 0.0,
        "refused_rate": float((out.status == REFUSED).mean()) if n else 0.0,
        "model_shares": {model: float((out.answered_by == i).mean()) if n else 0.0
                         for i, model in enumerate(MODELS)},
    }
