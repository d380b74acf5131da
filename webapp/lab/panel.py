"""Everything a lesson page needs to show one live component for one request."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

import redis
from django.http import HttpRequest
from django.utils.translation import gettext as _

from simulations import component as components
from simulations.component import Component

from . import forms
from .presentation import Chart, CodeBlock, Presentation, Table, presentation_for
from .service import RunRefused, run_cached


@dataclass
class Panel:
    component: Component
    title: str
    form: object
    presets: list[str]
    preset: str | None
    action: str
    error: str = ""
    summary: str = ""
    charts: list[Chart] = field(default_factory=list)
    metrics: Table | None = None
    notes: list[str] = field(default_factory=list)
    code: list[CodeBlock] = field(default_factory=list)
    share_url: str = ""
    from_cache: bool = False
    status: int = 200

    def refuse(self, message: str, status: int = 400) -> None:
        self.error = message
        self.status = status


def build_panel(request: HttpRequest, component_name: str, default_preset: str | None = None) -> Panel:
    component = components.get(component_name)
    presentation = presentation_for(component_name)
    preset = request.GET.get("preset") or default_preset
    panel = Panel(
        component=component,
        title=str(presentation.title),
        form=None,
        presets=list(component.spec.presets),
        preset=preset,
        action=request.path,
    )
    if preset and preset not in component.spec.presets:
        panel.form = forms.bind(component, presentation.texts, request.GET, None)
        panel.refuse(
            _("Unknown preset “%(preset)s”. Known presets: %(known)s.")
            % {"preset": preset, "known": ", ".join(panel.presets)}
        )
        return panel
    panel.form = forms.bind(component, presentation.texts, request.GET, preset)
    if not panel.form.is_valid():
        panel.refuse(_("Some values are out of range; see the messages next to the fields."))
        return panel
    _fill_result(panel, presentation, request)
    return panel


def _fill_result(panel: Panel, presentation: Presentation, request: HttpRequest) -> None:
    data = panel.form.cleaned_data
    params = {name: data[name] for name in panel.component.spec.names}
    seed = data["seed"]
    try:
        outcome = run_cached(panel.component, params, seed)
    except RunRefused as exc:
        panel.refuse(str(exc))
        return
    except redis.RedisError:
        panel.refuse(_("The result store (Redis) is not reachable right now; try again shortly."), status=503)
        return
    result = outcome.result
    panel.from_cache = outcome.from_cache
    panel.summary = presentation.summary(result)
    panel.charts = presentation.charts(result)
    panel.metrics = presentation.metrics(result)
    panel.notes = [presentation.note(n) for n in result.notes]
    panel.code = presentation.code_blocks()
    query = {**params, "seed": seed}
    panel.share_url = request.build_absolute_uri(f"{request.path}?{urlencode(query)}#lab-panel")
