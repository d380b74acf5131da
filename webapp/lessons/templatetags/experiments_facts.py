"""``{% experiments_facts as facts %}``: the numbers lessons 32.6 and 32.7 quote, from the simulations."""

from django import template

from simulations.experiments.facts import lesson_facts

register = template.Library()


@register.simple_tag
def experiments_facts() -> dict:
    return lesson_facts()
