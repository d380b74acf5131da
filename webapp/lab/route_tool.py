"""The prompt box: ``GET /<lang>/tools/route/?prompt=...&tier=...&priority=...&policy=...``.

A thin view over :mod:`simulations.routing.tool`.  For htmx it answers the box
(form and result) or, when the result element is the target, the result alone;
without JavaScript the whole page.  The result element carries ``data-model``,
``data-complexity`` and ``data-path`` (the flow's nodes, for the highlight).
Bad input answers 400 with the field's message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from simulations.component import Result
from simulations.params import ParamError
from simulations.routing import tool
from simulations.routing.models import ANSWER_BUDGET
from simulations.routing.policies import PRIORITIES, ROUTER_POLICIES, TIERS
from simulations.routing.prompts import DOCUMENT_KEYS, document_size, language_of

from .presentation import usd
from .routing_labels import class_label, node_label, policy_label, priority_label, reason_text, tier_label

DOM = "lab-routing-flow"
BOX_ID = f"{DOM}-box"
RESULT_ID = f"{DOM}-route"

# Prompts worth trying, each showing one thing (they are prompts, so they stay as written).
EXAMPLES: tuple[tuple[str, str], ...] = (
    ("什么是 Python？", "none"),
    ("What is the dress code for a job interview?", "none"),
    ("Why is division by zero undefined?", "none"),
    ("帮我调试这段代码：循环总是少执行一次", "none"),
    ("Analyse the trade-offs of event sourcing for an order system", "none"),
    ("总结这份合同的要点", "zh-contract"),
    ("Summarize the attached manual", "en-manual"),
)


def _document_label(key: str) -> str:
    if key == "none":
        return _("none")
    chars, tokens = document_size(key)
    name = {"en-report": _("English report"), "en-manual": _("English manual"),
            "zh-contract": _("Chinese contract"), "zh-records": _("Chinese delivery records")}[key]
    return _("%(name)s: %(chars)s characters, %(tokens)s tokens") % {
        "name": name, "chars": f"{chars:,}", "tokens": f"{tokens:,}"}


def _facts(routed: tool.Routed) -> list[tuple[str, str]]:
    """What the box says about a routed prompt, as (term, detail) pairs in the reader's language."""
    route, ran = routed.route, routed.ran
    ours = routed.ours
    facts = [
        (_("Our classifier"), _("%(kind)s, score %(score)s (%(lang)s, %(tokens)s tokens)") % {
            "kind": class_label(ours.kind), "score": f"{ours.score:.2f}",
            "lang": _("Chinese") if ours.lang == "zh" else _("English"), "tokens": ours.prompt_tokens}),
        (_("The chapter's classifier"), reason_text(routed.book_rule)),
    ]
    if route.model:
        facts.append((_("Request as sent"), _(
            "%(tokens)s tokens to %(model)s, counting the chat format's few tokens per message and any attached "
            "document; its window holds %(window)s (we keep %(budget)s for the answer)") % {
            "tokens": f"{route.input_tokens:,}", "model": route.model, "window": f"{routed.window:,}",
            "budget": f"{ANSWER_BUDGET:,}"}))
        facts.append((_("Known before the call"), _(
            "input %(input)s; at most %(worst)s with a full answer") % {
            "input": usd(routed.input_cost_usd, 5), "worst": usd(routed.worst_cost_usd, 5)}))
    if ran.outcome == "ok":
        facts.append((_("The call (mock model)"), _("%(out)s answer tokens, %(cost)s, %(seconds)s s") % {
            "out": ran.output_tokens, "cost": usd(ran.cost_usd, 5), "seconds": f"{ran.latency_s:.2f}"}))
        facts.append((_("The chapter's cost estimate"), _(
            "%(words)s words of the answer × one price = %(cost)s: no prompt tokens, words instead of tokens") % {
            "words": routed.book_words, "cost": usd(routed.book_cost_usd, 5)}))
    elif ran.outcome == "too_long":
        facts.append((_("The call (mock model)"), _("failed: %(error)s") % {"error": ran.error}))
    else:
        facts.append((_("The call"), _("none: the request was refused with a message, nothing was billed")))
    return facts


def box_values(query: Mapping[str, Any], defaults: Mapping[str, Any] | None = None) -> dict[str, Any]:
    values = {"prompt": "", **tool.SPEC.defaults(), **(defaults or {})}
    for name in values:
        if query.get(name) not in (None, ""):
            values[name] = query[name]
    return values


def box(query: Mapping[str, Any], defaults: Mapping[str, Any] | None = None,
        require_prompt: bool = True) -> tuple[dict[str, Any], int]:
    """The box's template context for ``query``, and the status to answer with."""
    context: dict[str, Any] = {
        "dom": DOM, "box_id": BOX_ID, "result_id": RESULT_ID, "action": reverse("lab:route-tool"),
        "values": box_values(query, defaults), "max_chars": tool.MAX_PROMPT_CHARS,
        "tiers": [(t, tier_label(t)) for t in TIERS], "priorities": [(p, priority_label(p)) for p in PRIORITIES],
        "policies": [(p, policy_label(p)) for p in ROUTER_POLICIES],
        "documents": [(d, _document_label(d)) for d in ("none", *DOCUMENT_KEYS)],
        "examples": [(text, _example_url(text, doc, defaults), "zh-Hans" if language_of(text) == "zh" else "en")
                     for text, doc in EXAMPLES],
        "routed": None, "error": "",
    }
    if not require_prompt and not str(query.get("prompt", "")).strip():
        return context, 200
    try:
        prompt, options = tool.parse(query)
    except tool.ToolError as refused:
        context["error"] = gettext(refused.template) % refused.data
        return context, 400
    except ParamError as refused:
        context["error"] = _("%(field)s: %(message)s") % {"field": refused.field,
                                                          "message": gettext(refused.template) % refused.data}
        return context, 400
    routed = tool.route_prompt(prompt, options)
    context.update(routed=routed, facts=_facts(routed), path_json=json.dumps(routed.path),
                   reasons=[reason_text(n) for n in routed.route.reasons],
                   route_path=[node_label(key) for key in routed.path],
                   policy_label=policy_label(routed.policy))
    return context, 200


def _example_url(text: str, doc: str, defaults: Mapping[str, Any] | None) -> str:
    query = {"prompt": text, **{k: v for k, v in (defaults or {}).items() if k != "prompt"}}
    if doc != "none":
        query["document"] = doc
    return reverse("lab:route-tool") + "?" + urlencode(query)


def box_context(result: Result) -> dict[str, Any]:
    """The box as the lab first shows it: an example routed with the lab's priority and threshold."""
    params = result.params
    policy = params["policy"] if params["policy"] in ROUTER_POLICIES else "improved"
    defaults = {"priority": params["priority"], "threshold": params["threshold"], "policy": policy}
    context, _status = box({"prompt": EXAMPLES[0][0]}, defaults)
    return {"box": context}


def _heading_level(raw: str | None) -> int:
    return int(raw) if raw in ("1", "2", "3") else 3


@require_safe
def route(request: HttpRequest) -> HttpResponse:
    """The prompt box as an endpoint: the routed prompt, its class, rule, model, tokens, cost and latency."""
    context, status = box(request.GET, require_prompt=request.htmx or "prompt" in request.GET)
    # The box's heading sits one level below the one above it: the tool page's h1, or on a lab
    # page the level its hx-vals sends back (h2 on the lab's own page, h3 in a lesson).
    context["level"] = _heading_level(request.GET.get("level")) if request.htmx else 1
    target = request.htmx.target if request.htmx else None
    if target == RESULT_ID:
        template = "lab/routing_flow_route.html#route-result"
    elif request.htmx:
        template = "lab/routing_flow_route.html#route-box"
    else:
        template = "lab/route_tool.html"
    response = render(request, template, {"box": context}, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response
