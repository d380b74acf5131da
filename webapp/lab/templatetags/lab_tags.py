"""What a page with labs puts in its <head>: plotly.js, lab.js, the charts' shared theme, each lab's own files."""

from django import template
from django.contrib.staticfiles import finders

from webapp.lab.presentation import plotly_template_json

register = template.Library()


@register.inclusion_tag("lab/assets.html")
def lab_assets(*names: str) -> dict:
    """``{% lab_assets "routing-flow" %}``: also ``css/labs/<name>.css`` and ``js/labs/<name>.js`` where they exist."""
    return {"plotly_template": plotly_template_json(),
            "styles": [path for name in names if finders.find(path := f"css/labs/{name}.css")],
            "scripts": [path for name in names if finders.find(path := f"js/labs/{name}.js")]}
