"""What the streaming demo offers: the model profiles and a few questions, for any page."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.utils.translation import get_language

from simulations import intents
from simulations.profiles import PROFILES, ModelProfile
from webapp.lab.consumers import MAX_QUESTION_CHARS

register = template.Library()

DEFAULT_MODEL = "gpt-4o-mini"
# Questions from the mock's catalogue, from a long answer to a short one, so the
# difference between time to first token and total time is easy to see.
QUESTION_INTENTS = ("poem-winter", "rate-limit-429", "what-is-rag", "capital-france")


@dataclass(frozen=True)
class StreamChoices:
    models: tuple[ModelProfile, ...]
    default_model: str
    questions: tuple[str, ...]
    max_question_chars: int


@register.simple_tag
def stream_demo_choices() -> StreamChoices:
    """Use as ``{% stream_demo_choices as demo %}``: the questions are in the page's language."""
    language = get_language() or "en"
    return StreamChoices(
        models=tuple(PROFILES.values()),
        default_model=DEFAULT_MODEL,
        questions=tuple(intents.questions_in(intent, language)[0] for intent in QUESTION_INTENTS),
        max_question_chars=MAX_QUESTION_CHARS,
    )
