"""Marking English texts for translation without importing Django.

``gettext_noop`` returns its argument unchanged; its only job is to let the
web app's ``makemessages`` find the string (it looks for calls by this name),
so the web app can translate the template when it shows it.
"""


def gettext_noop(text: str) -> str:
    return text
