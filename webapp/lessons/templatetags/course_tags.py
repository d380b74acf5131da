from django import template
from django.urls import translate_url

from webapp.lessons.course import localized

register = template.Library()


@register.simple_tag(takes_context=True)
def url_in_language(context, language: str) -> str:
    """This page's URL (query string included) in another language."""
    request = context["request"]
    return translate_url(request.get_full_path(), language)


@register.filter
def in_language(texts, language: str) -> str:
    """Pick the reader's language from a {'en': ..., 'zh-hans': ...} mapping."""
    return localized(texts, language)
