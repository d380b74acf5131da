"""A lab on its own page, and the one way any page answers a lab's htmx requests."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe
from django_htmx.http import reswap, retarget

from simulations import registry

from . import limits
from .panel import Panel, build_panel


def respond(request: HttpRequest, panel: Panel, page_template: str, context: dict[str, Any]) -> HttpResponse:
    """The whole page, or for htmx the part it asked for: the panel, the result update, or a batch's progress.

    A result update carries the status line and each field's messages out of band;
    when the values were refused it swaps nothing else, so the last good result stays.
    A refusal that is no one's input's fault (busy, rate limited, Redis away)
    answers 503 or 429 with ``Retry-After`` and a status line that retries by
    itself; a whole page is still served (200), with the lab in that state.
    A batch of a deferred part answers the progress line for the next batch, and
    after the last one the result update, in place of the result it belongs to.
    """
    context = {**context, "lab": panel}
    target = request.htmx.target if request.htmx else None
    if target == panel.pending_id and panel.pending and not panel.error:
        response = render(request, "lab/panel.html#lab-pending", context)
    elif target in (panel.result_id, panel.pending_id):
        response = render(request, "lab/panel.html#lab-update", context, status=panel.status)
        if panel.error:
            response = reswap(response, "none")
        elif target == panel.pending_id:
            response = retarget(reswap(response, "outerHTML"), "closest .lab-result")
    elif target == panel.dom_id:
        response = render(request, "lab/panel.html#lab-panel", context, status=panel.status)
    else:
        limits.remember(request)
        status = 200 if panel.retry_after else panel.status
        response = render(request, page_template, context, status=status)
    if panel.retry_after:
        response["Retry-After"] = str(panel.retry_after)
    # The same URL answers a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@require_safe
def component(request: HttpRequest, name: str) -> HttpResponse:
    """``/<lang>/lab/<name>/``: one component with its controls, outside any lesson."""
    if name not in registry.COMPONENTS:
        raise Http404(f"no component {name}")
    panel = build_panel(name, request.GET, request.path, defer=bool(request.htmx), client=limits.client_of(request))
    panel.heading_level = 2  # under the page's h1
    return respond(request, panel, "lab/component.html", {})
