from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_GET
from django_htmx.http import reswap, retarget

from webapp.lab.panel import build_panel

from . import course


@require_GET
def home(request):
    return render(request, "lessons/home.html", {"chapters": course.CHAPTERS})


@require_GET
def section(request, number: str):
    try:
        found = course.get_section(number)
    except KeyError:
        raise Http404(f"no section {number}") from None
    if found.lesson:
        return redirect(reverse("lessons:lesson", args=[found.lesson]) + "#" + found.anchor)
    return render(request, "lessons/coming.html", {"section": found})


@require_GET
def lesson(request, slug: str):
    try:
        found = course.get_lesson(slug)
    except KeyError:
        raise Http404(f"no lesson {slug}") from None
    panel = build_panel(request, found.component, found.preset) if found.component else None
    context = {
        "lesson": found,
        "sections": course.lesson_sections(slug),
        "body_template": found.template_for(get_language()),
        "lab": panel,
    }
    status = panel.status if panel else 200
    if panel and request.htmx and request.htmx.target in {"lab-result", "lab-panel"}:
        if panel.form.errors:
            # The messages sit next to the fields: swap the whole panel, not just the result.
            response = render(request, "lab/panel.html#lab-panel", context, status=status)
            return reswap(retarget(response, "#lab-panel"), "outerHTML")
        return render(request, f"lab/panel.html#{request.htmx.target}", context, status=status)
    return render(request, "lessons/lesson.html", context, status=status)
