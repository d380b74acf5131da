"""The words for the routing lab's policies, classes, tiers and flow nodes, in the reader's language."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext as _

from simulations.components.routing_flow import POLICY_LABELS


def policy_label(name: str) -> str:
    return gettext(POLICY_LABELS[name]) if name in POLICY_LABELS else name


def class_label(name: str) -> str:
    return {
        "simple": _("simple"), "medium": _("medium"), "complex": _("complex"), "specialized": _("coding"),
        "short": _("short (< 50 characters)"), "long": _("long (50+ characters)"),
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
