"""The "count my text" box: ``GET /<lang>/tools/tokens/?text=...&model=...``.

A thin view over :mod:`simulations.costs.tokencount`.  For htmx it answers the
result (when the result element is the target) or the whole box; without
JavaScript, the whole page.  The result element carries ``data-tokens``.  A text
over the cap or an unknown model answers 400 with the field's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from simulations.costs import tokencount

BOX_ID = "tokens-tool"
RESULT_ID = f"{BOX_ID}-result"
COLOURS = 5  # piece backgrounds cycle through this many CSS classes


def box(query: Mapping[str, Any], example: str = "", heading_level: int = 3) -> tuple[dict[str, Any], int]:
    """The box's template context for ``query`` and the status to answer with.

    ``heading_level`` is the box title's: 3 inside a lesson's section, 2 on the tool's own page.
    """
    text = str(query.get("text", example) or "")
    model = str(query.get("model", "") or tokencount.DEFAULT_MODEL)
    context: dict[str, Any] = {
        "box_id": BOX_ID, "result_id": RESULT_ID, "action": reverse("lab:tokens-tool"),
        "text": text, "model": model, "models": tokencount.MODELS, "max_chars": tokencount.MAX_CHARS,
        "report": None, "error": "", "error_field": "", "heading_level": heading_level,
    }
    try:
        text, model = tokencount.parse({"text": text, "model": model})
    except tokencount.ToolError as refused:
        context["error"] = _("%(field)s: %(message)s") % {
            "field": refused.field, "message": gettext(refused.template) % refused.data}
        context["error_field"] = refused.field
        return context, 400
    report = tokencount.count(text, model)
    context["report"] = report
    context["pieces"] = [(s.text, s.tokens, i % COLOURS) for i, s in enumerate(report.segments)]
    context["cost"] = f"${float(report.input_cost):.8f}".rstrip("0")
    return context, 200


@require_safe
def tokens(request: HttpRequest) -> HttpResponse:
    context, status = box(request.GET, heading_level=2)
    target = request.htmx.target if request.htmx else None
    if target == RESULT_ID:
        template = "lab/tools/tokens_box.html#tokens-update"
    elif request.htmx:
        template = "lab/tools/tokens_box.html#tokens-box"
    else:
        template = "lab/tools/tokens.html"
    response = render(request, template, {"box": context}, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response
