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
from simulations.component import Component, Result
from simulations.params import ParamError

from . import forms, limits
from .presentation import Chart, CodeBlock, Table, Widget, code_blocks, note_text
from .presenters import presentation_for
from .service import (REDIS_RETRY_AFTER_S, Outcome, RunRefused, batch_cached, cached_whole, complete_cached, first_cached,
                      paused_message, run_cached)

BATCH = "batch"  # the query parameter of a request for one batch of a deferred part


@dataclass(frozen=True)
class Pending:
    """A deferred part still being computed: how far it has got, and the request for its next batch."""

    unit: str  # what is counted, in the reader's language ("repetitions")
    done: int
    total: int
    next_batch: int

    @property
    def done_text(self) -> str:
        return f"{self.done:,}"

    @property
    def total_text(self) -> str:
        return f"{self.total:,}"


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
    cached: bool = True  # False: computed while Redis was away, so not shared
    status: int = 200
    heading_level: int = 3  # "Try it": 3 inside a lesson's section, 2 on a page of its own
    retry_after: int | None = None  # seconds: a refusal that is no one's input's fault, retried by the page
    pending: Pending | None = None  # a deferred part still to come, batch by batch

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

    @property
    def pending_id(self) -> str:
        return f"{self.dom_id}-pending"

    @property
    def next_batch_url(self) -> str:
        return f"{self.action}?{self.query}&{BATCH}={self.pending.next_batch}"

    def refuse(self, message: str, status: int = 400, retry_after: int | None = None) -> None:
        self.error = message
        self.status = status
        self.retry_after = retry_after


def build_panel(component_name: str, query: Mapping[str, Any], path: str,
                default_preset: str | None = None, *, defer: bool = False,
                client: limits.Client | None = None) -> Panel:
    """The panel for ``query`` (a QueryDict or a plain mapping of strings) shown at ``path``.

    ``default_preset`` is the lesson's own preset, used when the query names none;
    ``preset=`` (empty) in the query asks for the component's defaults.  With
    ``defer`` (a page that can fetch the rest itself), a slow deferred part is left
    out and ``pending`` says which batch to ask for next; ``batch=N`` in the query
    then computes batch N, and the last batch gives the whole result.  With a
    ``client``, its rate limit is checked before anything runs.
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
    if client is not None:
        wait_s = limits.wait_before_run(client)
        if wait_s:
            panel.refuse(limits.refusal_message(wait_s), status=429, retry_after=wait_s)
            return panel
    panel.query = _query(panel, values, seed)
    try:
        if defer and BATCH in query:
            _fill_batch(panel, values, seed, _get(query, BATCH))
        else:
            _fill_result(panel, values, seed, defer)
    except RunRefused as exc:
        panel.refuse(str(exc), exc.status, exc.retry_after)
    except ParamError as error:  # a rule between several values, checked by the run itself
        panel.refuse(_refusal(component, [error]))
    except redis.RedisError:
        panel.refuse(paused_message(REDIS_RETRY_AFTER_S), status=503, retry_after=REDIS_RETRY_AFTER_S)
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


def _fill_result(panel: Panel, values: Mapping[str, Any], seed: int, defer: bool) -> None:
    """The whole result; or, for a page that can fetch the rest, the first result of a slow deferred part."""
    component = panel.component
    sizes = _batch_sizes(component, values) if defer else []
    if len(sizes) > 1 and cached_whole(component, values, seed) is None:
        outcome = first_cached(component, values, seed)
        panel.pending = Pending(gettext(component.deferred.unit), done=0, total=sum(sizes), next_batch=0)
    else:
        outcome = run_cached(component, values, seed)
    _show(panel, outcome)


def _fill_batch(panel: Panel, values: Mapping[str, Any], seed: int, raw_index: str) -> None:
    """Compute one batch of the deferred part; after the last, show the whole result."""
    component = panel.component
    sizes = _batch_sizes(component, values)
    index = int(raw_index) if raw_index.isascii() and raw_index.isdigit() and len(raw_index) < 6 else -1
    if not 0 <= index < len(sizes):
        panel.refuse(_("%(field)s: %(message)s") % {"field": BATCH, "message": _("no such batch")})
        return
    batch_cached(component, values, seed, index)
    if index + 1 < len(sizes):
        panel.pending = Pending(gettext(component.deferred.unit), done=sum(sizes[:index + 1]), total=sum(sizes),
                                next_batch=index + 1)
        return
    outcome = complete_cached(component, values, seed)
    _show(panel, outcome)


def _batch_sizes(component: Component, values: Mapping[str, Any]) -> list[int]:
    return component.deferred.sizes(values) if component.deferred else []


def _show(panel: Panel, outcome: Outcome) -> None:
    presentation = presentation_for(panel.component.name)
    result = outcome.result
    panel.from_cache = outcome.from_cache
    panel.cached = outcome.cached
    panel.summary = presentation.summary(result)
    panel.charts = presentation.charts(result)
    panel.metrics = presentation.metrics(result)
    panel.widgets = presentation.widgets(result)
    panel.notes = [note_text(n) for n in result.notes]
    panel.code = code_blocks(panel.component.code)


def _query(panel: Panel, values: Mapping[str, Any], seed: int) -> str:
    """Every value and the seed (and the preset, when it is not the lesson's own): the link to this result."""
    query = {**values, "seed": seed}
    if panel.preset and panel.preset != panel.default_preset:
        query["preset"] = panel.preset
    return urlencode({k: _query_value(v) for k, v in query.items()})


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)
