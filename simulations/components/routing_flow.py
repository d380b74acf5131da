"""Model routing (section 32.5): where every request goes, and what each policy does to cost, latency and quality.

One seeded day of traffic (simple, medium, complex and coding requests, some in
Chinese, some with a long document, from free, premium and enterprise users) is
routed by every policy: all to the strong model, the chapter's router exactly as
written, 30.4.2's length rule, our classifier with a consistent table, a
threshold router and a cascade.  Cost, latency and quality follow the mock
model's rules request by request; the first requests also run through the real
``RunnableBranch`` chain.  The threshold router and the cascade are swept to draw
their cost-quality curves and scored the RouteLLM way against a random router.
With ``shift`` on, the same routers meet tomorrow's, harder traffic.

The chapter's notes appear with the ``book-32.5`` preset: its mix, its flat
prices per request, enterprise users (the only tier its table describes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..component import CodeRef, Component, Note, Result, note
from ..params import Param, ParamSpec, Value
from ..profiles import profile
from ..routing import accounting, book, routellm
from ..routing.accounting import REFUSED, TOO_LONG, Decisions, Matrix, Outcome
from ..routing.chain import Ran, build_cascade, build_chain, mock_models, model_branch, run_requests
from ..routing.classifier import classify
from ..routing.models import MODELS, SPECIALIST, STRONG, WEAK
from ..routing.policies import (DEFAULT_THRESHOLD, POLICIES, PRIORITIES, Request, guarded, improved,
                                router, weakest)
from ..routing.prompts import CLASSES, cases, document
from ..routing.traffic import TIER_MIXES, TIERS, Traffic, generate, language, true_kind
from ..text import gettext_noop

TRACE_ROWS = 4

POLICY_LABELS = {
    "strongest": gettext_noop("all to gpt-4"),
    "book": gettext_noop("the chapter's router"),
    "length": gettext_noop("length only (30.4.2)"),
    "improved": gettext_noop("our router"),
    "threshold": gettext_noop("threshold router"),
    "cascade": gettext_noop("cascade"),
}

# xgettext:no-python-format
PCT = gettext_noop("% of requests")

SPEC = ParamSpec(
    params=(
        Param("requests", 1000, min=100, max=20_000, step=100, label=gettext_noop("Requests"),
              unit=gettext_noop("requests"), help=gettext_noop("How many requests the simulated day holds.")),
        Param("simple_pct", 60, min=0, max=100, step=5, label=gettext_noop("Simple requests"), unit=PCT,
              help=gettext_noop("Look-ups, translations, how-tos. The four shares are scaled to add up to 100%.")),
        Param("medium_pct", 25, min=0, max=100, step=5, label=gettext_noop("Medium requests"), unit=PCT,
              help=gettext_noop("Explanations, summaries, short writing tasks.")),
        Param("complex_pct", 10, min=0, max=100, step=5, label=gettext_noop("Complex requests"), unit=PCT,
              help=gettext_noop("Analysis, design, proofs, plans with constraints.")),
        Param("code_pct", 5, min=0, max=100, step=5, label=gettext_noop("Coding requests"), unit=PCT,
              help=gettext_noop("Writing, fixing or reviewing code.")),
        Param("chinese_pct", 30, min=0, max=100, step=5, label=gettext_noop("Prompts in Chinese"), unit=PCT,
              help=gettext_noop("Share of requests written in Chinese.")),
        Param("document_pct", 0, min=0, max=50, step=1, label=gettext_noop("Requests with a long document"),
              unit=PCT, help=gettext_noop("Share of requests that attach a document of 3,500 to 30,000 tokens.")),
        Param("tiers", "premium", choices=tuple(TIER_MIXES), label=gettext_noop("User tiers"),
              choice_labels={"mixed": gettext_noop("60% free, 30% premium, 10% enterprise"),
                             "free": gettext_noop("all free"), "premium": gettext_noop("all premium"),
                             "enterprise": gettext_noop("all enterprise")}),
        Param("priority", "balanced", choices=PRIORITIES, label=gettext_noop("Priority"),
              help=gettext_noop("What the caller asks the router to favour."),
              choice_labels={"balanced": gettext_noop("balanced"), "cost": gettext_noop("cost"),
                             "speed": gettext_noop("speed"), "quality": gettext_noop("quality")}),
        Param("threshold", DEFAULT_THRESHOLD, min=0.0, max=1.0, step=0.02, label=gettext_noop("Router threshold"),
              unit=gettext_noop("score"),
              help=gettext_noop("The threshold router sends a request to gpt-4 when our classifier's score "
                                "reaches this.")),
        Param("cascade_threshold", 0.5, min=0.0, max=1.0, step=0.05, label=gettext_noop("Cascade: escalate below"),
              unit=gettext_noop("score"),
              help=gettext_noop("The cascade asks gpt-3.5-turbo first and escalates to gpt-4 when the "
                                "verifier scores the answer below this.")),
        Param("shift", False, label=gettext_noop("Tomorrow's traffic (harder)"),
              help=gettext_noop("Twice as many complex requests, most of them hard questions in everyday words: the "
                                "same routers, tuned on today's traffic.")),
        Param("pricing", "list", choices=("list", "book"), label=gettext_noop("Prices"),
              choice_labels={"list": gettext_noop("list prices per token"),
                             "book": gettext_noop("the chapter's flat price per request")}),
        Param("monthly_requests", 1_000_000, min=1000, max=100_000_000, step=1000,
              label=gettext_noop("Requests per month"), unit=gettext_noop("requests"),
              help=gettext_noop("Scales the cost per request to a monthly bill.")),
        Param("policy", "improved", choices=POLICIES, label=gettext_noop("Policy in the flow"),
              help=gettext_noop("Which policy the flow diagram and the trace show."),
              choice_labels=POLICY_LABELS),
    ),
    presets={
        # The chapter's example: its 60/30/10 mix of English requests, its prices per
        # request, and enterprise users, the only tier for which its code matches its table.
        "book-32.5": {"requests": 1000, **{f"{kind}_pct": round(share * 100) for kind, share in book.MIX.items()},
                      "code_pct": 0, "chinese_pct": 0, "document_pct": 0, "tiers": "enterprise", "priority": "balanced",
                      "pricing": "book", "monthly_requests": book.MONTHLY_REQUESTS, "policy": "book",
                      "shift": False},
    },
)


def weights(params: Mapping[str, Value]) -> dict[str, float]:
    return {"simple": params["simple_pct"], "medium": params["medium_pct"],
            "complex": params["complex_pct"], "specialized": params["code_pct"]}


def traffic_for(params: Mapping[str, Value], seed: int, shifted: bool) -> Traffic:
    return generate(params["requests"], weights(params), params["chinese_pct"] / 100,
                    params["document_pct"] / 100, params["tiers"], seed, shifted)


class Day:
    """Every policy on one day's traffic: decisions, outcomes, figures."""

    def __init__(self, params: Mapping[str, Value], seed: int, shifted: bool) -> None:
        self.traffic = traffic_for(params, seed, shifted)
        self.draws = accounting.draw(len(self.traffic), seed, 1 if shifted else 0)
        self.matrix: Matrix = accounting.matrix(self.traffic, self.draws, params["pricing"])
        priority = params["priority"]
        self.decisions: dict[str, Decisions] = {
            name: accounting.decide_all(self.traffic, name, priority, params["threshold"])
            for name in ("strongest", "book", "length", "improved", "threshold")}
        self.weak = accounting.decide_all(self.traffic, "weakest", priority)
        self.strong = self.decisions["strongest"]
        self.outcomes: dict[str, Outcome] = {
            name: accounting.outcome(d, self.matrix) for name, d in self.decisions.items()}
        self.outcomes["cascade"] = accounting.cascade_outcome(self.weak, self.strong, self.matrix, self.draws,
                                                              params["cascade_threshold"])
        self.summaries = {name: accounting.summary(self.outcomes[name], params["monthly_requests"])
                          for name in POLICIES}
        weak_out = accounting.outcome(self.weak, self.matrix)
        strong_out = self.outcomes["strongest"]
        self.pair = routellm.Pair(weak_out.correct, strong_out.correct, weak_out.cost, strong_out.cost)
        self.score = self.decisions["threshold"].score
        self.verifier = accounting.verifier_scores(self.draws, weak_out.correct)
        self.curves = {
            "threshold": routellm.threshold_curve(self.score, self.pair),
            "random": routellm.random_curve(self.draws.coin, self.pair),
            "cascade": routellm.cascade_curve(self.verifier, accounting.can_escalate(self.weak, self.strong),
                                              self.pair),
        }


def run(params: Mapping[str, Value], seed: int) -> Result:
    shifted = params["shift"]
    today = Day(params, seed, shifted=False)
    day = Day(params, seed, shifted=True) if shifted else today
    policy = params["policy"]
    flow_policy = day.summaries[policy]
    baseline = day.summaries["strongest"]
    reduction = 1 - flow_policy["avg_cost_per_request_usd"] / baseline["avg_cost_per_request_usd"] \
        if baseline["avg_cost_per_request_usd"] > 0 else 0.0
    routellm_metrics = _routellm_metrics(day)
    metrics: dict[str, Any] = {
        "policy": policy,
        "requests": len(day.traffic),
        "avg_cost_per_request_usd": flow_policy["avg_cost_per_request_usd"],
        "baseline_avg_cost_per_request_usd": baseline["avg_cost_per_request_usd"],
        "cost_reduction_pct": reduction * 100,
        "policies": day.summaries,
        "routellm": routellm_metrics,
        "classifiers": _classifier_metrics(day),
        "book_preset": SPEC.matches(params, "book-32.5"),
    }
    if shifted:
        metrics["shift"] = _shift_metrics(today, day, params["threshold"])
    series = {
        "flow": _flow(day, policy),
        "curves": _curves(today, day, shifted),
        "classes_by_language": _classes_by_language(day),
        "book_check": _book_check(day),
    }
    trace = _trace(day, params, seed)
    return Result(component="routing-flow", params=dict(params), seed=seed, metrics=metrics, series=series,
                  trace=trace, notes=_notes(params, day, today, metrics, trace))


# -- figures ------------------------------------------------------------------------------


def _routellm_metrics(day: Day) -> dict[str, Any]:
    return {"weak_quality": day.pair.q_weak, "strong_quality": day.pair.q_strong,
            **{name: routellm.scores(points) for name, points in day.curves.items()}}


def _shift_metrics(today: Day, tomorrow: Day, threshold: float) -> dict[str, Any]:
    before = routellm.point_at(today.curves["threshold"], threshold)
    after = routellm.point_at(tomorrow.curves["threshold"], threshold)
    again = routellm.retuned(tomorrow.curves["threshold"], before["pgr"])
    return {"threshold": threshold, "today": before, "tomorrow": after,
            "retuned": again, "today_routellm": _routellm_metrics(today)}


def _classifier_metrics(day: Day) -> dict[str, Any]:
    """How often each classifier's class is the true one, overall and per language."""
    truth = np.array(CLASSES, dtype=object)[true_kind(day.traffic)]
    zh = language(day.traffic) == 1
    out = {}
    for name in ("book", "improved"):
        right = day.decisions[name].kind == truth
        out[name] = {"accuracy": float(right.mean()),
                     **{f"accuracy_{lang}": float(right[mask].mean()) if mask.any() else None
                        for lang, mask in (("en", ~zh), ("zh", zh))}}
    return out


def _flow(day: Day, policy: str) -> dict[str, Any]:
    """The Sankey's links: all requests -> the policy's class -> tier -> model (or failure)."""
    out = day.outcomes[policy]
    tiers = np.array(TIERS, dtype=object)[day.traffic.tier]
    ends = np.where(out.status == TOO_LONG, "too-long",
                    np.where(out.status == REFUSED, "refused",
                             np.array([MODELS[max(i, 0)] for i in out.answered_by], dtype=object)))
    links: Counter[tuple[str, str]] = Counter()
    for kind, tier, end in zip(out.kind, tiers, ends):
        links[("all", f"class:{kind}")] += 1
        links[(f"class:{kind}", f"tier:{tier}")] += 1
        links[(f"tier:{tier}", f"model:{end}")] += 1
    order = {"all": 0, "class": 1, "tier": 2, "model": 3}
    nodes = sorted({key for pair in links for key in pair}, key=lambda k: (order[k.split(":")[0]], _node_rank(k)))
    counts = Counter()
    for (source, target), value in links.items():
        counts[target] += value
    counts["all"] = len(day.traffic)
    return {"policy": policy, "nodes": [{"key": k, "count": counts[k]} for k in nodes],
            "links": [{"source": s, "target": t, "value": v}
                      for (s, t), v in sorted(links.items(), key=lambda kv: (nodes.index(kv[0][0]),
                                                                            nodes.index(kv[0][1])))]}


_RANKS = [*(f"class:{c}" for c in (*CLASSES, "short", "long", "kept", "escalated", "all")),
          *(f"tier:{t}" for t in TIERS), *(f"model:{m}" for m in (*MODELS, "too-long", "refused"))]


def _node_rank(key: str) -> int:
    return _RANKS.index(key) if key in _RANKS else len(_RANKS)


def _curves(today: Day, day: Day, shifted: bool) -> list[dict[str, Any]]:
    rows = []
    days = (("today", today), ("tomorrow", day)) if shifted else (("today", today),)
    for label, d in days:
        for name, points in d.curves.items():
            rows += [{"router": name, "day": label, **p} for p in points]
    return rows


def _classes_by_language(day: Day) -> list[dict[str, Any]]:
    """How the truth, the chapter's classifier and ours label the same requests, per language."""
    zh = language(day.traffic) == 1
    truth = np.array(CLASSES, dtype=object)[true_kind(day.traffic)]
    rows = []
    for source, labels in (("truth", truth), ("book", day.decisions["book"].kind),
                           ("improved", day.decisions["improved"].kind)):
        for lang, mask in (("en", ~zh), ("zh", zh)):
            n = int(mask.sum())
            if not n:
                continue
            counts = Counter(labels[mask])
            rows.append({"source": source, "lang": lang, "requests": n,
                         **{c: counts.get(c, 0) / n for c in CLASSES}})
    return rows


def _book_check(day: Day) -> list[dict[str, Any]]:
    """The chapter's figures, recomputed from its own inputs, and this run's."""
    again = book.recompute()
    claimed = book.CLAIMED
    ours, base = day.summaries["book"], day.summaries["strongest"]
    cost, base_cost = ours["avg_cost_per_request_usd"], base["avg_cost_per_request_usd"]
    mean_ms, base_ms = ours["mean_latency_ms"], base["mean_latency_ms"]
    return [
        {"claim": "baseline_cost", "unit": "usd", "chapter": claimed.baseline_cost,
         "recomputed": again["table_baseline_cost"], "run": base_cost},
        {"claim": "avg_cost", "unit": "usd", "chapter": claimed.avg_cost, "recomputed": again["avg_cost"],
         "run": cost},
        {"claim": "reduction", "unit": "share", "chapter": claimed.reduction,
         "recomputed": again["reduction_vs_claimed_baseline"], "recomputed_own": again["reduction_vs_table_baseline"],
         "run": 1 - cost / base_cost if base_cost else 0.0},
        {"claim": "monthly", "unit": "usd", "chapter": claimed.monthly, "recomputed": again["monthly"],
         "run": ours["monthly_cost_usd"]},
        {"claim": "saving", "unit": "usd", "chapter": claimed.saving,
         "recomputed": again["saving_vs_claimed_baseline"], "recomputed_own": again["saving_vs_table_baseline"],
         "run": base["monthly_cost_usd"] - ours["monthly_cost_usd"]},
        {"claim": "avg_latency", "unit": "s", "chapter": claimed.avg_latency_s, "recomputed": again["avg_latency_s"],
         "run": mean_ms / 1000},
        {"claim": "speedup", "unit": "share", "chapter": claimed.speedup,
         "recomputed": again["speedup_vs_claimed_baseline"], "recomputed_own": again["speedup_vs_table_baseline"],
         "run": 1 - mean_ms / base_ms if base_ms else 0.0},
        {"claim": "success", "unit": "share", "chapter": claimed.success, "recomputed": None,
         "run": ours["mean_quality"], "baseline_chapter": claimed.baseline_success,
         "baseline_run": base["mean_quality"]},
    ]


# -- the chain, for real --------------------------------------------------------------------


def _trace(day: Day, params: Mapping[str, Value], seed: int) -> list[dict[str, Any]]:
    """The first requests of the day through the real chain of the flow's policy, on the mock models."""
    policy = params["policy"]
    all_cases = cases()
    count = min(TRACE_ROWS, len(day.traffic))
    inputs = []
    for i in range(count):
        case = all_cases[day.traffic.case[i]]
        request = Request(case.text, case.doc, TIERS[day.traffic.tier[i]], params["priority"])
        inputs.append({"request": request, "verifier_score": float(day.verifier[i])})
    models = mock_models(seed)
    if policy == "cascade":
        chain, decide = build_cascade(models, params["cascade_threshold"]), weakest
    else:
        decide = router(policy, params["threshold"])
        chain = build_chain(decide, models)
    rows = []
    for i, ran in enumerate(run_requests(chain, inputs, decide)):
        case = all_cases[day.traffic.case[i]]
        rows.append(_trace_row(i, case.text, case.doc, inputs[i]["request"].tier, ran))
    return rows


def _trace_row(i: int, prompt: str, doc: str, tier: str, ran: Ran) -> dict[str, Any]:
    model = ran.route.model
    # What the chapter's route_request would have reported as this call's cost.
    estimate = book.estimate_cost(ran.answer, model)[1] if ran.outcome == "ok" and model in book.MODELS else 0.0
    return {"request": i, "prompt": prompt, "document": doc, "tier": tier, "kind": ran.route.kind,
            "model": model or "", "outcome": ran.outcome, "escalated": ran.escalated,
            "input_tokens": ran.input_tokens, "output_tokens": ran.output_tokens,
            "cost_usd": ran.cost_usd, "latency_s": ran.latency_s, "book_estimate_usd": estimate,
            "why": [n.to_dict() for n in ran.route.reasons[-2:]]}


# -- notes ------------------------------------------------------------------------------------

NOTE_TEXTS = {
    "book_keywords": gettext_noop(
        "Its keyword test is a substring test: %(share).1f%% of these requests got their class from a keyword "
        "inside a longer word (“define” in “undefined”, “code” in “decode”), and more from words such as "
        "“dress code” or “the function of the liver”. None of its keywords is Chinese: raise the share of "
        "Chinese prompts to see almost all of them become MEDIUM."),
    "book_windows": gettext_noop(
        "Its model table gives gpt-4 %(strong_book)s tokens of context and gpt-3.5-turbo %(weak_book)s; they have "
        "%(strong_window)s and %(weak_window)s (128K is gpt-4-turbo's). Its router never reads these figures, so "
        "nothing stops a prompt from going to a model too small for it."),
    "book_prices": gettext_noop(
        "Its single price per 1K tokens is the input price of gpt-4 and claude-3-opus: per 1K tokens, gpt-4 costs "
        "%(strong_in)s in and %(strong_out)s out, claude-3-opus %(specialist_in)s and %(specialist_out)s. Its "
        "%(weak_book)s for gpt-3.5-turbo is the model's launch price of 2023, for input and output alike; today "
        "it costs %(weak_in)s and %(weak_out)s."),
    "book_cost_code": gettext_noop(
        "Its cost estimate counts the words of the answer at one price and ignores the prompt: for the %(n)s "
        "requests traced below it comes to $%(estimate).5f, where the mock model billed $%(billed).5f by tokens."),
    "book_context_dropped": gettext_noop(
        "Its route_request classifies the prompt with its context but sends only the prompt to the model; "
        "this lab sends both, as an application must."),
    "mix_scaled": gettext_noop(
        "The four request shares add up to %(total)s%%; they were scaled to 100%%."),
    "book_avg_cost": gettext_noop(
        "The chapter says routing brings the average to %(claimed)s a request. Its own mix and prices give "
        "%(sum)s = %(recomputed)s, not %(claimed)s."),
    "book_reduction": gettext_noop(
        "It claims a %(claimed)s saving against %(claimed_baseline)s for all-GPT-4. From %(recomputed)s the saving "
        "is %(vs_claimed)s; and its own table prices a GPT-4 request at %(table_baseline)s, not "
        "%(claimed_baseline)s, which leaves %(vs_own)s."),
    "book_monthly": gettext_noop(
        "For %(requests)s requests a month that is %(monthly)s, not %(claimed_monthly)s, and a saving of "
        "%(saving)s, not %(claimed_saving)s (or %(saving_own)s against its own %(table_baseline)s GPT-4 price)."),
    "book_latency": gettext_noop(
        "Its %(latency)s s average latency does follow from its latency table (%(sum)s, in seconds), but the same "
        "table gives GPT-4 %(table_baseline)s s, not %(claimed_baseline)s s, so the gain is %(speedup_own)s, not "
        "%(claimed_speedup)s. In this run the mean is %(run_mean).2f s against %(strong_mean).2f s with everything "
        "on gpt-4, but the p95 is %(run_p95).2f s against %(strong_p95).2f s: the slow requests still go to a slow "
        "model."),
    "book_simulated": gettext_noop(
        "The chapter's arithmetic assumes its classifier sorts the requests perfectly. Run on %(requests)s "
        "requests with that mix, its keyword rules found only %(simple_found).0f%% of the simple requests, so "
        "%(to_strong).0f%% of all requests went to gpt-4 or claude-3-opus and the average came to $%(run_cost).4f "
        "a request."),
    "book_quality": gettext_noop(
        "The chapter's %(claimed)s versus %(claimed_baseline)s task success is not measured anywhere. With the model profiles' quality "
        "by complexity, the chapter's router answered %(run).1f%% right and all-gpt-4 %(base).1f%%."),
    "book_premium": gettext_noop(
        "Its table sends complex requests to GPT-4, but its code does that only for enterprise users or quality "
        "priority: a premium user's complex request with balanced priority gets gpt-3.5-turbo, and a free "
        "user's always does. With the table's mix, its code prices a request at %(free)s (free), "
        "%(premium)s (premium) and %(enterprise)s (enterprise)."),
    "book_too_long": gettext_noop(
        "The chapter's router sent %(share).1f%% of the requests to a model whose context window they do not fit; "
        "each call failed with a 400 error. Its model table gives gpt-4 %(book_window)s tokens; the original "
        "gpt-4 has %(window)s."),
    "book_chinese": gettext_noop(
        "The chapter's classifier put %(medium).0f%% of the Chinese prompts in MEDIUM: none of its keywords is "
        "Chinese, and MEDIUM goes to gpt-4 unless the user is on the free tier or the priority is speed."),
    "book_chinese_lookups": gettext_noop(
        "The chapter's router sent %(share).0f%% of the Chinese look-up questions past gpt-3.5-turbo, which "
        "answers them about as well."),
    "book_chinese_code": gettext_noop(
        "The chapter's classifier called %(share).0f%% of the Chinese coding tasks SPECIALIZED; only a prompt with "
        "an English keyword such as “debug” gets there."),
    "refused": gettext_noop(
        "Our router refused %(share).1f%% of the requests: their document fits no model their tier may use, "
        "and they get a message saying so instead of a failed call."),
    "cascade": gettext_noop(
        "The cascade escalated %(escalated).0f%% of the requests to gpt-4. Every request pays for the "
        "gpt-3.5-turbo answer first; the verifier here is simulated, right answers usually scoring high."),
    "stale": gettext_noop(
        "Tuned on today's traffic, threshold %(threshold).2f recovered %(pgr_today).0f%% of the quality gap with "
        "%(share_today).0f%% of requests on gpt-4. On tomorrow's harder traffic the same threshold recovers "
        "%(pgr_tomorrow).0f%% (%(share_tomorrow).0f%% on gpt-4): hard questions in plain words score low."),
    "retune": gettext_noop(
        "Getting back to %(pgr).0f%% of the gap tomorrow needs threshold %(threshold).2f, which sends %(share).0f%% "
        "of requests to gpt-4 and recovers %(reached).0f%%: many prompts share a score, so the threshold moves "
        "them in blocks."),
    "retune_impossible": gettext_noop(
        "No threshold gets back to %(pgr).0f%% of the gap tomorrow: the classifier cannot tell these questions "
        "apart."),
}


def _notes(params: Mapping[str, Value], day: Day, today: Day, metrics: Mapping[str, Any],
           trace: Sequence[Mapping[str, Any]]) -> list[Note]:
    notes: list[Note] = []
    total = sum(weights(params).values())
    if total != 100:
        notes.append(note(NOTE_TEXTS, "mix_scaled", total=total))
    book_run = day.summaries["book"]
    if SPEC.matches(params, "book-32.5"):
        notes += _book_notes(day, trace)
    elif book_run["error_rate"] > 0:
        notes.append(note(NOTE_TEXTS, "book_too_long", share=book_run["error_rate"] * 100,
                          book_window=f"{book.MODELS[STRONG]['max_tokens']:,}",
                          window=f"{profile(STRONG).context_window:,}"))
    notes += _book_chinese_notes(day)
    refused = day.summaries["improved"]["refused_rate"]
    if refused > 0:
        notes.append(note(NOTE_TEXTS, "refused", share=refused * 100))
    if params["policy"] == "cascade":
        notes.append(note(NOTE_TEXTS, "cascade", escalated=day.summaries["cascade"]["strong_share"] * 100))
    if params["shift"]:
        notes += _stale_notes(metrics["shift"])
    return notes


def _book_chinese_notes(day: Day) -> list[Note]:
    """What the chapter's English keywords do with this run's Chinese prompts."""
    zh = language(day.traffic) == 1
    if not zh.any():
        return []
    decisions, truth = day.decisions["book"], true_kind(day.traffic)
    notes = [note(NOTE_TEXTS, "book_chinese", medium=float((decisions.kind[zh] == "medium").mean()) * 100)]
    lookups = zh & (truth == CLASSES.index("simple"))
    past_weak = float((decisions.model[lookups] > MODELS.index(WEAK)).mean()) if lookups.any() else 0.0
    if past_weak > 0:
        notes.append(note(NOTE_TEXTS, "book_chinese_lookups", share=past_weak * 100))
    coding = zh & (truth == CLASSES.index("specialized"))
    if coding.any():
        notes.append(note(NOTE_TEXTS, "book_chinese_code",
                          share=float((decisions.kind[coding] == "specialized").mean()) * 100))
    return notes


def _book_notes(day: Day, trace: Sequence[Mapping[str, Any]]) -> list[Note]:
    again, claimed = book.recompute(), book.CLAIMED
    ours, base = day.summaries["book"], day.summaries["strongest"]
    truth = true_kind(day.traffic)
    simple = truth == CLASSES.index("simple")
    found = float((day.decisions["book"].kind[simple] == "simple").mean()) if simple.any() else 0.0
    by_tier = {tier: book.dollars(cost) for tier, cost in book.code_cost_by_tier().items()}
    dollars, percent = book.dollars, book.percent
    return [
        note(NOTE_TEXTS, "book_avg_cost", claimed=dollars(claimed.avg_cost), sum=book.cost_sum(),
             recomputed=dollars(again["avg_cost"])),
        note(NOTE_TEXTS, "book_reduction", claimed=percent(claimed.reduction),
             claimed_baseline=dollars(claimed.baseline_cost), recomputed=dollars(again["avg_cost"]),
             vs_claimed=percent(again["reduction_vs_claimed_baseline"], 1),
             table_baseline=dollars(again["table_baseline_cost"]),
             vs_own=percent(again["reduction_vs_table_baseline"], 1)),
        note(NOTE_TEXTS, "book_monthly", requests=f"{book.MONTHLY_REQUESTS:,}", monthly=dollars(again["monthly"]),
             claimed_monthly=dollars(claimed.monthly), saving=dollars(again["saving_vs_claimed_baseline"]),
             claimed_saving=dollars(claimed.saving), saving_own=dollars(again["saving_vs_table_baseline"]),
             table_baseline=dollars(again["table_baseline_cost"])),
        note(NOTE_TEXTS, "book_latency", latency=f"{again['avg_latency_s']:.1f}", sum=book.latency_sum(),
             table_baseline=f"{again['table_baseline_latency_s']:.1f}",
             claimed_baseline=f"{claimed.baseline_latency_s:.1f}",
             speedup_own=percent(again["speedup_vs_table_baseline"]), claimed_speedup=percent(claimed.speedup),
             run_mean=ours["mean_latency_ms"] / 1000, strong_mean=base["mean_latency_ms"] / 1000,
             run_p95=ours["p95_latency_ms"] / 1000, strong_p95=base["p95_latency_ms"] / 1000),
        note(NOTE_TEXTS, "book_simulated", requests=f"{len(day.traffic):,}", simple_found=found * 100,
             to_strong=ours["strong_share"] * 100, run_cost=ours["avg_cost_per_request_usd"]),
        note(NOTE_TEXTS, "book_quality", claimed=percent(claimed.success),
             claimed_baseline=percent(claimed.baseline_success), run=ours["mean_quality"] * 100,
             base=base["mean_quality"] * 100),
        note(NOTE_TEXTS, "book_premium", **by_tier),
        note(NOTE_TEXTS, "book_keywords", share=_share_inside_a_word(day) * 100),
        note(NOTE_TEXTS, "book_windows", **{f"{role}_book": f"{book.MODELS[m]['max_tokens']:,}"
                                            for role, m in (("weak", WEAK), ("strong", STRONG))},
             **{f"{role}_window": f"{profile(m).context_window:,}" for role, m in (("weak", WEAK), ("strong", STRONG))}),
        note(NOTE_TEXTS, "book_prices", **_prices_per_1k()),
        note(NOTE_TEXTS, "book_cost_code", n=len(trace),
             estimate=sum(r["book_estimate_usd"] for r in trace), billed=sum(r["cost_usd"] for r in trace)),
        note(NOTE_TEXTS, "book_context_dropped"),
    ]


def _share_inside_a_word(day: Day) -> float:
    all_cases = cases()
    inside = np.array([book.keyword_inside_a_word(c.text, document(c.doc) if c.doc else "") for c in all_cases])
    return float(inside[day.traffic.case].mean()) if len(day.traffic) else 0.0


def _prices_per_1k() -> dict[str, str]:
    out = {"weak_book": book.dollars(book.MODELS[WEAK]["cost_per_1k_tokens"])}
    for role, model in (("weak", WEAK), ("strong", STRONG), ("specialist", SPECIALIST)):
        spec = profile(model)
        out[f"{role}_in"] = f"${spec.price_in_per_1m / 1000:.4f}"
        out[f"{role}_out"] = f"${spec.price_out_per_1m / 1000:.4f}"
    return out


def _stale_notes(shift: Mapping[str, Any]) -> list[Note]:
    before, after, again = shift["today"], shift["tomorrow"], shift["retuned"]
    notes = [note(NOTE_TEXTS, "stale", threshold=shift["threshold"], pgr_today=before["pgr"] * 100,
                  share_today=before["strong_share"] * 100, pgr_tomorrow=after["pgr"] * 100,
                  share_tomorrow=after["strong_share"] * 100)]
    if again is None:
        notes.append(note(NOTE_TEXTS, "retune_impossible", pgr=before["pgr"] * 100))
    elif after["pgr"] < before["pgr"]:
        notes.append(note(NOTE_TEXTS, "retune", pgr=before["pgr"] * 100, threshold=again["knob"],
                          share=again["strong_share"] * 100, reached=again["pgr"] * 100))
    return notes


COMPONENT = Component(
    name="routing-flow", title=gettext_noop("Model routing"), section="32.5", spec=SPEC, run=run,
    code=(
        CodeRef(gettext_noop("The chain: a decision, then a RunnableBranch over the models"), build_chain),
        CodeRef(gettext_noop("One branch per model, a refusal by default"), model_branch),
        CodeRef(gettext_noop("Our policy: classifier, table, tier"), improved),
        CodeRef(gettext_noop("The context-window guard"), guarded),
        CodeRef(gettext_noop("Our classifier"), classify),
        CodeRef(gettext_noop("The chapter's classifier, exactly"), book.classify_task),
        CodeRef(gettext_noop("The chapter's selection rules, exactly"), book.select_for_class),
        CodeRef(gettext_noop("The cascade"), build_cascade),
        CodeRef(gettext_noop("RouteLLM's CPT and APGR"), routellm.cpt),
    ),
)
