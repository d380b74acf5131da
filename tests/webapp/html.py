"""Read one element of a page, so a test looks where a learner would, not anywhere in the body."""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Finder(HTMLParser):
    def __init__(self, match) -> None:
        super().__init__(convert_charrefs=True)
        self.match = match
        self.depth = 0  # > 0 while inside a matching element
        self.found: list[list[str]] = []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        if self.depth:
            self.depth += 1
        elif self.match(tag, dict(attrs)):
            self.depth = 1
            self.found.append([])

    def handle_endtag(self, tag):
        if self.depth and tag not in VOID:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.found[-1].append(data)


def texts(html: str, *, id: str | None = None, css_class: str | None = None, tag: str | None = None) -> list[str]:
    """The text of every element with this id, class and/or tag, whitespace collapsed."""
    def match(name, attrs):
        return ((id is None or attrs.get("id") == id)
                and (css_class is None or css_class in (attrs.get("class") or "").split())
                and (tag is None or name == tag))

    finder = _Finder(match)
    finder.feed(html)
    return [" ".join("".join(parts).split()) for parts in finder.found]


def text(html: str, **where: str) -> str:
    """The text of the one element matching ``where`` (see :func:`texts`)."""
    found = texts(html, **where)
    assert len(found) == 1, f"{len(found)} elements match {where}"
    return found[0]
