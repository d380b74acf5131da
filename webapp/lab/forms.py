"""The lab's form, generated from a component's ParamSpec.

Bounds, labels, units and help live once, on the simulation's Params; this module
turns them into fields and widgets (a slider paired with a typed number box).
It validates nothing itself: the values are parsed by ``spec.parse_all``, the same
code the command line runs, and its refusals are attached to the fields here,
translated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from simulations.component import Component
from simulations.params import Param, ParamError, Value

SEED_MAX = 2**31 - 1


class SliderInput(forms.NumberInput):
    """A number box paired with a range slider; the number box carries the value.

    Both are keyboard-operable; the number box is the typed alternative and the
    only one submitted, so the page also works with JavaScript off.
    """

    template_name = "lab/widgets/slider.html"

    def __init__(self, unit: str = "", attrs=None):
        super().__init__(attrs)
        self.unit = unit

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["unit"] = self.unit
        return context


class Checkbox(forms.CheckboxInput):
    """A checkbox that says "off" when unticked, so a submitted form never falls back to the default."""

    template_name = "lab/widgets/checkbox.html"

    def value_from_datadict(self, data, files, name):
        return data.get(name) not in (None, "", "off", "false", "0")


def _field_for(param: Param) -> forms.Field:
    text = {"label": gettext(param.label or param.name),
            "help_text": gettext(param.help) if param.help else "", "required": False}
    kind = param.kind
    if kind == "choice":
        choices = [(c, gettext(param.choice_labels[c]) if c in param.choice_labels else c) for c in param.choices]
        return forms.CharField(widget=forms.Select(choices=choices), **text)
    if kind == "bool":
        return forms.BooleanField(widget=Checkbox, **text)
    attrs = {"step": param.step or (1 if kind == "int" else "any"), "inputmode": "decimal"}
    if param.min is not None:
        attrs["min"] = f"{param.min:g}"
    if param.max is not None:
        attrs["max"] = f"{param.max:g}"
    unit = gettext(param.unit) if param.unit else ""
    # A CharField: the number is parsed by Param.coerce, not by Django.
    return forms.CharField(widget=SliderInput(unit=unit, attrs=attrs), **text)


def _seed_field() -> forms.Field:
    return forms.CharField(
        label=_("Seed"), required=False,
        help_text=_("Same seed, same result: change it to see another random draw."),
        widget=forms.NumberInput(attrs={"step": 1, "min": 0, "max": SEED_MAX, "inputmode": "numeric"}),
    )


SEED = Param("seed", 0, min=0, max=SEED_MAX, step=1)


def form_class(component: Component) -> type[forms.Form]:
    fields = {p.name: _field_for(p) for p in component.spec.params}
    fields["seed"] = _seed_field()
    return type(f"{component.name.title().replace('-', '')}Form", (forms.Form,), fields)


def bound_form(component: Component, values: Mapping[str, Value], seed: Any, typed: Mapping[str, Any],
               errors: list[ParamError]) -> forms.Form:
    """The form as the learner sees it: what they typed where they typed it, errors beside it.

    ``values`` are the parsed values (defaults or the preset where nothing was
    typed); ``typed`` is what came in the query, shown as typed, so a bad entry is
    never replaced under the learner's cursor.
    """
    data = {name: _as_field_value(value) for name, value in values.items()}
    data["seed"] = str(seed)
    for name in (*component.spec.names, "seed"):
        if name in typed:
            data[name] = typed[name]
    form = form_class(component)(data, auto_id=f"{component.name}-%s")
    form.is_valid()  # every field accepts any text; the errors come from the spec
    for error in errors:
        target = error.field if error.field in form.fields else None
        form.add_error(target, gettext(error.template) % error.data)
    return form


def _as_field_value(value: Value) -> str:
    if isinstance(value, bool):
        return "on" if value else ""
    return str(value)
