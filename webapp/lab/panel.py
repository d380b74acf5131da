"""Everything a page needs to show one live component: built from a name, a query and a path.

No ``HttpRequest`` is needed, so a view, a Channels consumer or a command can build
a panel.  Element ids start with the panel's ``dom_id`` (``lab-<component>``), so a
page can hold more than one lab.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import redis
from django import forms as django_forms
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from simulations import registry
from simulations.component import Component
from simulations.params import ParamError

from . import forms
from .presentation import Chart, CodeBlock, Table, Widget, code_blocks, note_text
from .presenters import presentation_for
from .service import RunRefused, run_cached


@dataclass
class Panel:
    component: Component
    form: django_forms.Form
    presets: list[str]
    preset: str | None
    action: str  # the path the form submits to (the lesson's page, or the lab's own)
    default_preset: str | None = None
    error: str = ""
    summary: str = ""
    charts: list[Chart] = field(default_factory=list)
    metrics: Table | None = None
    notes: list[str] = field(default_factory=list)
    widgets: list[Widget] = field(default_factory=list)
    code: list[CodeBlock] = field(default_factory=list)
    query: str = ""  # every parameter and the seed: the link to exactly this result
    from_cache: bool = False
    status: int = 200
    heading_level: int = 3  # "Try it": 3 inside a lesson's section, 2 on a page of its own

    @property
    def title(self) -> str:
        return gettext(self.component.title)

    @property
    def dom_id(self) -> str:
        return f"lab-{self.component.name}"

    @property
    def result_id(self) -> str:
        return f"{self.dom_id}-result"

    @property
    def share_url(self) -> str:
        return f"{self.action}?{self.query}#{self.dom_id}"

    def refuse(self, message: str, status: int = 400) -> None:
        self.error = message
        self.status = status


def build_panel(component_name: str, query: Mapping[str, Any], path: str,
                default_preset: str | None = None) -> Panel:
    """The panel for ``query`` (a QueryDict or a plain mapping of strings) shown at ``path``.

    ``default_preset`` is the lesson's own preset, used when the query names none;
    ``preset=`` (empty) in the query asks for the component's defaults.
    """
    component = registry.get(component_name)
    preset = _get(query, "preset", default_preset) or None
    typed = {name: _get(query, name) for name in (*component.spec.names, "seed") if name in query}
    values, errors = component.spec.parse_all({k: v for k, v in typed.items() if k != "seed"}, preset)
    try:
        seed = forms.SEED.coerce(typed.get("seed", "0"))
    except ParamError as error:
        errors.append(error)
        seed = 0
    panel = Panel(component=component, form=forms.bound_form(component, values, typed.get("seed", seed), typed, errors),
                  presets=list(component.spec.presets), preset=preset, action=path,
                  default_preset=default_preset)
    if errors:
        panel.refuse(_refusal(component, errors))
        return panel
    _fill_result(panel, values, seed)
    return panel


def _get(query: Mapping[str, Any], name: str, default: Any = None) -> Any:
    value = query.get(name, default)
    return value if value is None or isinstance(value, str) else str(value)


def _refusal(component: Component, errors: list[ParamError]) -> str:
    if len(errors) == 1:
        error = errors[0]
        return _("%(field)s: %(message)s") % {"field": _field_label(component, error.field),
                                              "message": gettext(error.template) % error.data}
    return _("%(n)s values need fixing; see the messages next to the fields.") % {"n": len(errors)}


def _field_label(component: Component, name: str) -> str:
    """The field as the learner sees it beside its box ("Failure rate"), not its URL name."""
    if name in component.spec.names:
        return gettext(component.spec[name].label or name)
    if name == "seed":
        return str(forms.form_class(component).base_fields["seed"].label)
    if name == "preset":
        return _("Preset")
    return name  # an unknown parameter: its own name is all there is


def _fill_result(panel: Panel, values: Mapping[str, Any], seed: int) -> None:
    try:
        outcome = run_cached(panel.component, values, seed)
    except RunRefused as exc:
        panel.refuse(str(exc))
        return
    except ParamError as error:  # a rule between several values, checked by the run itself
        panel.refuse(_refusal(panel.component, [error]))
        return
    except redis.RedisError:
        panel.refuse(_("The result store (Redis) is not reachable right now; try again shortly."), status=503)
        return
    result = outcome.result
    presentation = presentation_for(panel.component.name)
    panel.from_cache = outcome.from_cache
    panel.summary = presentation.summary(result)
    panel.charts = presentation.charts(result)
    panel.metrics = presentation.metrics(result)
    panel.widgets = presentation.widgets(result)
    panel.notes = [note_text(n) for n in result.notes]
    panel.code = code_blocks(panel.component.code)
    query = {**values, "seed": seed}
    if panel.preset and panel.preset != panel.default_preset:
        query["preset"] = panel.preset
    panel.query = urlencode({k: _query_value(v) for k, v in query.items()})


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)
