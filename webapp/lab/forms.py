"""Django forms built from a component's ParamSpec.

The bounds live once, in the simulation's spec; the form only turns them into
fields, widgets (a slider with a typed number box) and translated labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from simulations.component import Component
from simulations.params import Param

SEED_MAX = 2**31 - 1


@dataclass(frozen=True)
class FieldText:
    """What a learner reads next to a parameter: its label, unit and a hint."""

    label: str
    unit: str = ""
    help: str = ""


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


def _field_for(param: Param, text: FieldText) -> forms.Field:
    common = {"label": text.label, "help_text": text.help, "required": True}
    kind = param.kind
    if kind == "choice":
        return forms.ChoiceField(choices=[(c, c) for c in param.choices], **common)
    if kind == "bool":
        # An unchecked box sends nothing, which must mean False, not "missing".
        return forms.BooleanField(**{**common, "required": False})
    attrs = {"step": param.step or (1 if kind == "int" else "any")}
    field_class = forms.IntegerField if kind == "int" else forms.FloatField
    return field_class(
        min_value=param.min, max_value=param.max, widget=SliderInput(unit=str(text.unit), attrs=attrs), **common
    )


def form_class(component: Component, texts: Mapping[str, FieldText]) -> type[forms.Form]:
    fields = {p.name: _field_for(p, texts.get(p.name, FieldText(p.name))) for p in component.spec.params}
    fields["seed"] = forms.IntegerField(
        label=_("Seed"),
        min_value=0,
        max_value=SEED_MAX,
        help_text=_("Same seed, same result: change it to see another random draw."),
        widget=forms.NumberInput(attrs={"step": 1}),
    )
    return type(f"{component.name.title().replace('-', '')}Form", (forms.Form,), fields)


def bind(component: Component, texts: Mapping[str, FieldText], query: QueryDict, preset: str | None) -> forms.Form:
    """A bound form: the defaults, then the preset, then whatever the URL says."""
    data = {name: _as_field_value(value) for name, value in component.spec.parse({}, preset).items()}
    data["seed"] = "0"
    for name in (*component.spec.names, "seed"):
        if name in query:
            data[name] = query.get(name)
    return form_class(component, texts)(data)


def _as_field_value(value) -> str:
    if isinstance(value, bool):
        return "on" if value else ""
    return str(value)
