"""Every page's markup obeys the Content-Security-Policy before any browser runs it.

No ``style`` attribute, no inline script (only ``<script src>`` and JSON data
blocks), no ``on...=`` handler, no ``javascript:`` link: the policy would block
each.  The pages are every lesson and lab in both languages, read from the course
map and the registry, the tools, the home, a section, the join and login pages,
and a classroom's instructor, projector, summary and student pages; htmx's
fragments too (a slider's result, a preset's panel, a deferred part's batch).
tests/browser/test_serving.py watches for violations in Chromium, where scripts
and plotly.js run.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

from simulations import registry
from webapp.classroom import rooms
from webapp.lessons.course import LANGUAGES, LESSONS

from .classroom_helpers import make_instructor

JSON_TYPES = {"application/json", "application/ld+json"}


class _Inline(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script: str | None = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name, value in attrs:
            if name == "style":
                self.found.append(f"<{tag} style={value!r}>")
            elif name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            elif name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")
        if tag == "script" and "src" not in values and (values.get("type") or "") not in JSON_TYPES:
            self._script = ""

    def handle_data(self, data):
        if self._script is not None:
            self._script += data

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            if self._script.strip():
                self.found.append(f"inline <script>: {self._script.strip()[:80]!r}")
            self._script = None


def inline(html: str) -> list[str]:
    parser = _Inline()
    parser.feed(html)
    return parser.found


def assert_clean(response, where: str) -> None:
    assert response.status_code in (200, 400, 503), f"{where} -> {response.status_code}"
    found = inline(response.content.decode())
    assert not found, f"{where}: {found}"


def test_the_checker_finds_what_the_policy_blocks():
    assert inline('<p style="color:red">x</p><button onclick="go()">y</button><a href="javascript:go()">z</a>'
                  "<script>alert(1)</script>") == [
        "<p style='color:red'>", "<button onclick=...>", "<a href='javascript:go()'>", "inline <script>: 'alert(1)'"]
    assert inline('<script src="/static/x.js"></script><script type="application/json">{"a": 1}</script>') == []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("slug", [lesson.slug for lesson in LESSONS])
def test_every_lesson_page_has_no_inline_style_or_script(client, slug, language):
    assert_clean(client.get(f"/{language}/lessons/{slug}/"), f"{language} {slug}")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(registry.COMPONENTS))
def test_every_lab_page_and_its_fragments_have_no_inline_style_or_script(client, name, language):
    url = f"/{language}/lab/{name}/"
    assert_clean(client.get(url), url)
    component = registry.get(name)
    for target in (f"lab-{name}-result", f"lab-{name}"):
        assert_clean(client.get(url, {"seed": 3}, headers={"HX-Request": "true", "HX-Target": target}),
                     f"{url} for {target}")
    for preset in component.spec.presets:
        assert_clean(client.get(url, {"preset": preset}, headers={"HX-Request": "true", "HX-Target": f"lab-{name}"}),
                     f"{url} preset {preset}")
    if component.deferred is not None:
        pending = {"HX-Request": "true", "HX-Target": f"lab-{name}-pending"}
        for preset in component.spec.presets:
            assert_clean(client.get(url, {"preset": preset, "seed": 5, "batch": "0"}, headers=pending),
                         f"{url} preset {preset} batch 0")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_tools_and_the_pages_around_the_lessons_have_no_inline_style_or_script(client, language):
    for path in ("/", "/sections/30.1/", "/tools/tokens/?text=hello", "/tools/route/?prompt=hello", "/join/",
                 "/accounts/login/"):
        assert_clean(client.get(f"/{language}{path}", follow=True), path)
    htmx = {"HX-Request": "true", "HX-Target": "tokens-tool-result"}
    assert_clean(client.get(f"/{language}/tools/tokens/", {"text": "x" * 99_999}, headers=htmx), "tokens, refused")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_classroom_has_no_inline_style_or_script(language):
    teacher = make_instructor("csp-teacher")
    room = rooms.create_room(teacher, component_name="batching")
    instructor = Client()
    instructor.force_login(teacher)
    for path in ("", "projector/", "summary/"):
        assert_clean(instructor.get(f"/{language}/classroom/{room.code}/{path}"), f"classroom {path}")
    assert_clean(instructor.get(f"/{language}/classroom/"), "rooms")
    student = Client()
    student.get(f"/{language}/join/{room.code}/")
    joined = student.post(f"/{language}/join/", {"code": room.code, "name": "Mei"}, follow=True)
    assert joined.redirect_chain and joined.redirect_chain[-1][0].endswith(f"/room/{room.code}/")
    assert_clean(joined, "student")
