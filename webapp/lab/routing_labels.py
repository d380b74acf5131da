"""The words for the routing lab's policies, classes, tiers and flow nodes, in the reader's language."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext as _

from simulations.component import Note
from simulations.components.routing_flow import POLICY_LABELS, SPEC
from simulations.routing.policies import LENGTH_LIMIT

from .presentation import note_text


def policy_label(name: str) -> str:
    return gettext(POLICY_LABELS[name]) if name in POLICY_LABELS else name


def priority_label(name: str) -> str:
    labels = SPEC["priority"].choice_labels
    return gettext(labels[name]) if name in labels else name


def class_label(name: str) -> str:
    return {
        "simple": _("simple"), "medium": _("medium"), "complex": _("complex"), "specialized": _("coding"),
        "short": _("short (< %(n)s characters)") % {"n": LENGTH_LIMIT},
        "long": _("long (%(n)s+ characters)") % {"n": LENGTH_LIMIT},
        "kept": _("weak answer kept"), "escalated": _("escalated"), "all": _("no classification"),
    }.get(name, name)


def tier_label(name: str) -> str:
    return {"free": _("free"), "premium": _("premium"), "enterprise": _("enterprise")}.get(name, name)


def end_label(name: str) -> str:
    return {"too-long": _("400: prompt longer than the window"), "refused": _("refused: fits no model")}.get(
        name, name)


def node_label(key: str) -> str:
    kind, _sep, name = key.partition(":")
    if kind == "all":
        return _("all requests")
    return {"class": class_label, "tier": tier_label, "model": end_label}[kind](name)


# The fields of a routing reason that name a class, a tier or a priority: shown in the reader's words.
_WORDS = {"kind": class_label, "tier": tier_label, "priority": priority_label}


def reason_text(reason: Note) -> str:
    """A routing reason in the reader's language, its class, tier and priority included."""
    data = {key: _WORDS[key](value) if key in _WORDS else value for key, value in reason.data.items()}
    return note_text(Note(reason.code, reason.template, data))
