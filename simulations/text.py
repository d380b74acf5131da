"""Marking English texts for translation without importing Django.

``gettext_noop`` returns its argument unchanged; its only job is to let the
web app's ``makemessages`` find the string (it looks for calls by this name),
so the web app can translate the template when it shows it.
"""


def gettext_noop(text: str) -> str:
    return text


def percent(share: float, digits: int = 1) -> str:
    """A share (0.25) as a percentage ("25.0%"), for notes and lesson facts."""
    return f"{share * 100:.{digits}f}%"


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def scientific(value: float, digits: int = 1) -> str:
    """A small number as a person writes it: 2.3e-06 -> "2 × 10⁻⁶" (``digits`` significant digits)."""
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    return f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"
