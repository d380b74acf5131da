"""A class moved through the labs: a student (phone) and the projector follow the instructor in each.

Every page is watched for Content-Security-Policy violations.  The A/B lab's
repetitions arrive batch by batch: the followers must end with the whole result,
not a progress line.  Two changes in quick succession leave the followers on the
second.  Screenshots of each page go to var/screens/classroom/ for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from simulations import registry

from .harness import ROOT
from .test_classroom import PASSWORD, instructor  # noqa: F401  (the module's instructor account)

expect.set_options(timeout=30_000)

SHOTS = ROOT / "var" / "screens" / "classroom"
CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  e => window.__csp.push(`${e.violatedDirective} ${e.sourceFile}:${e.lineNumber} ${e.sample}`));
"""


@pytest.fixture
def fresh_results(redis_client):
    """The A/B lab's A/A repetitions are computed batch by batch here, not found whole in the cache,
    and none of this test's results is left there for the next test to find instead of running."""
    def empty() -> None:
        for key in redis_client.scan_iter("llmopslab:result:*", count=1000):
            redis_client.delete(key)

    empty()
    yield
    empty()


def _context(browser, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_init_script(CSP)
    return context, context.new_page()


def _no_violations(*pages) -> None:
    for page in pages:
        assert page.evaluate("window.__csp") == [], page.url


def _first_number(component: str):
    for param in registry.get(component).spec.params:
        if param.kind in ("int", "float") and param.max is not None and param.default + param.step <= param.max:
            value = param.default + param.step
            return param.name, (str(int(value)) if param.kind == "int" else f"{value:g}")
    raise AssertionError(f"{component} has no number to move")


def _status(page, component: str) -> str:
    return page.locator(f"#lab-{component}-status").inner_text()


def _same_result(teacher, followers, component: str) -> None:
    """Each follower shows the instructor's result: the whole of it, with the same summary."""
    for page in (teacher, *followers):
        expect(page.locator(f"#lab-{component}-pending")).to_have_count(0)
        expect(page.locator(f"#lab-{component}-status")).to_have_attribute("data-state", "result")
    summary = _status(teacher, component)
    for page in followers:
        expect(page.locator(f"#lab-{component}-status")).to_have_text(summary)
        assert _metrics(page, component) == _metrics(teacher, component)


def _metrics(page, component: str) -> str:
    return " ".join(page.locator(f"#lab-{component}-result .metrics").text_content().split())


def _move(teacher, student, projector, component: str) -> None:
    value = teacher.locator("#room-move-place option").evaluate_all(
        f"(options) => options.map(o => o.value).find(v => v.endsWith('|{component}'))")
    teacher.select_option("#room-move-place", value)
    teacher.click("#room-move button[type=submit]")
    for page in (teacher, student, projector):
        expect(page.locator(f"#lab-{component}")).to_be_attached()
        expect(page.locator("#room-connection")).to_have_attribute("data-state", "open")


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_student_and_the_projector_follow_the_instructor_through_every_lab(browser, live_url, instructor,  # noqa: F811
                                                                             language, fresh_results):
    teacher_ctx, teacher = _context(browser, 1366, 900)
    teacher.goto(f"{live_url}/{language}/accounts/login/")
    teacher.fill("input[name=username]", instructor)
    teacher.fill("input[name=password]", PASSWORD)
    teacher.click("form.join-form button[type=submit]")
    teacher.goto(f"{live_url}/{language}/lessons/batching-async/")
    teacher.click(".start-classroom button")
    teacher.wait_for_url(re.compile(rf"/{language}/classroom/[A-Z0-9]{{6}}/$"))
    code = teacher.locator("[data-join-code]").get_attribute("data-join-code")
    # The QR code: inline SVG with presentation attributes only, drawn under the CSP.
    expect(teacher.locator("figure.qr svg path.qrline")).to_have_count(1)
    assert teacher.locator("figure.qr svg").bounding_box()["width"] >= 120
    student_ctx, student = _context(browser, 390, 844)
    student.goto(f"{live_url}/{language}/join/{code}/")
    student.click("form.join-form button[type=submit]")
    student.wait_for_url(re.compile(rf"/{language}/room/{code}/$"))
    projector_ctx, projector = _context(browser, 1920, 1080)
    projector.context.add_cookies(teacher_ctx.cookies())
    projector.goto(f"{live_url}/{language}/classroom/{code}/projector/")
    for page in (teacher, student, projector):
        expect(page.locator("#room-connection")).to_have_attribute("data-state", "open")
    expect(teacher.locator("#room-present")).to_have_text("1")
    fetched = []  # results a follower asked for itself, rather than receiving them over its socket
    for page in (student, projector):
        page.on("request", lambda r: fetched.append(r.url) if "/result/" in r.url and "batch=" not in r.url else None)

    names = ["batching", *sorted(set(registry.COMPONENTS) - {"batching"})]
    for component in names:
        if component != "batching":
            _move(teacher, student, projector, component)
        name, value = _first_number(component)
        box = f"#{component}-{name}"
        teacher.fill(box, value)
        expect(student.locator(box)).to_have_value(value)
        expect(projector.locator(box)).to_have_value(value)
        expect(student.locator(box)).to_be_disabled()
        _same_result(teacher, (student, projector), component)
        if component == "ab-dashboard":
            # The A/A preset's repetitions come in several batches, on every page.
            batches = []
            for page in (teacher, student, projector):
                page.on("response", lambda r: batches.append(r.status) if "batch=" in r.url else None)
            teacher.click("#lab-ab-dashboard-preset-aa-test")
            expect(student.locator("#ab-dashboard-repetitions")).to_have_value("500")
            _same_result(teacher, (student, projector), component)
            assert len(batches) >= 3 and set(batches) == {200}
        _shoot(student, f"{language}-{component}-student-390")
        _shoot(projector, f"{language}-{component}-projector-1920")
        _no_violations(teacher, student, projector)
    _shoot(teacher, f"{language}-instructor-1366")

    # Two changes in quick succession (as a drag sends them): the followers end on the second.
    _move(teacher, student, projector, "batching")
    teacher.evaluate("""(query) => new Promise((done) => {
        const config = JSON.parse(document.getElementById("classroom-config").textContent);
        const ws = new WebSocket(`ws://${location.host}${config.socket}?lang=en`);
        ws.onopen = () => {
          ws.send(JSON.stringify({type: "set_params", params: {requests: "41"}}));
          ws.send(JSON.stringify({type: "set_params", params: {requests: "42"}}));
          setTimeout(() => { ws.close(); done(); }, 500);
        };
      })""", None)
    for page in (student, projector):
        expect(page.locator("#batching-requests")).to_have_value("42")
        expect(page.locator("#lab-batching-status")).to_contain_text("42")
        expect(page.locator("#lab-batching-status")).not_to_contain_text("41")
    _no_violations(teacher, student, projector)
    assert fetched == []
    for context in (teacher_ctx, student_ctx, projector_ctx):
        context.close()
