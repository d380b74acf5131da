"""What a page with labs puts in its <head>: plotly.js, lab.js and the charts' shared theme."""

from django import template

from webapp.lab.presentation import plotly_template_json

register = template.Library()


@register.inclusion_tag("lab/assets.html")
def lab_assets() -> dict:
    return {"plotly_template": plotly_template_json()}
