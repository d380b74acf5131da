from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from webapp.lab.limits import client_of
from webapp.lab.panel import build_panel
from webapp.lab.views import respond

from . import course


@require_safe
def home(request):
    return render(request, "lessons/home.html", {"chapters": course.CHAPTERS})


@require_safe
def section(request, number: str):
    try:
        found = course.get_section(number)
    except KeyError:
        raise Http404(f"no section {number}") from None
    if found.lesson:
        return redirect(reverse("lessons:lesson", args=[found.lesson.slug]) + "#" + found.anchor)
    return render(request, "lessons/coming.html", {"section": found})


@require_safe
def lesson(request, slug: str):
    try:
        found = course.get_lesson(slug)
    except KeyError:
        raise Http404(f"no lesson {slug}") from None
    context = {
        "lesson": found,
        "sections": course.lesson_sections(slug),
        "body_template": found.template_for(get_language()),
    }
    if not found.component:
        return render(request, "lessons/lesson.html", context)
    panel = build_panel(found.component, request.GET, request.path, found.preset, defer=bool(request.htmx),
                        client=client_of(request))
    return respond(request, panel, "lessons/lesson.html", context)
