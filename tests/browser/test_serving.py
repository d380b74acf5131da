"""A learner in a class that pushes the server, and while Redis is away; every lab under the CSP.

The busy and Redis cases use servers of their own (tests/servers.py), with one
worker and no queue, or with their Redis stopped, so nothing else is disturbed.
"""

from __future__ import annotations

import os
import random
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from simulations import registry
from tests.servers import launched
from webapp.lessons.course import LANGUAGES, LESSONS

from .harness import ROOT

VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  e => window.__csp.push(`${e.violatedDirective} ${e.sourceFile}:${e.lineNumber} ${e.sample}`));
"""


def watch_csp(page) -> None:
    page.add_init_script(VIOLATIONS)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("name", sorted(registry.COMPONENTS))
def test_every_lab_draws_its_charts_without_breaking_the_content_security_policy(page, live_url, name,
                                                                                 language):
    watch_csp(page)
    page.goto(f"{live_url}/{language}/lab/{name}/")
    expect(page.locator(f"#lab-{name}-result .plot .main-svg").first).to_be_attached()
    page.wait_for_timeout(300)
    assert page.evaluate("window.__csp") == []
    header = page.evaluate("""async () => (await fetch(location.href)).headers.get('content-security-policy')""")
    assert "script-src 'self'" in header and "unsafe-inline" not in header and "unsafe-eval" not in header


PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}


def assert_no_violations(page, where: str) -> None:
    page.wait_for_timeout(300)  # a violation is reported as an event, after the fact
    assert page.evaluate("window.__csp") == [], where


def assert_strict_policy(response) -> None:
    header = response.headers["content-security-policy"]
    assert "script-src 'self'" in header and "unsafe-inline" not in header and "unsafe-eval" not in header


def charts_drawn(page) -> None:
    plots = page.locator("[data-figure]")
    for i in range(plots.count()):
        expect(plots.nth(i).locator(".main-svg").first).to_be_attached()


@pytest.fixture
def csp_page(browser):
    """A page that records every CSP violation, starting at phone width."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    watch_csp(page)
    yield page
    context.close()


def move_a_slider(page) -> None:
    """Nudge the first slider of the page's first lab with the keyboard, as a learner would; wait for the answer."""
    labs = page.locator("section.lab[data-lab]")
    if not labs.count():
        return
    name = labs.first.get_attribute("data-lab")
    slider = labs.first.locator("input[type=range]").first
    if not slider.count():
        return
    slider.focus()
    key = "ArrowLeft" if slider.input_value() == slider.get_attribute("max") else "ArrowRight"
    with page.expect_response(lambda r: r.request.headers.get("hx-target") == f"lab-{name}-result",
                              timeout=30_000) as answer:
        page.keyboard.press(key)
    assert answer.value.status == 200, f"{name}: {answer.value.status}"
    expect(page.locator(f"#lab-{name}.htmx-request")).to_have_count(0, timeout=30_000)
    charts_drawn(page)


def lesson_pages() -> list:
    """Every lesson in both languages; `make test` opens each lesson once, in one language or the other.

    The markup of every page in both languages is checked without a browser
    (tests/webapp/test_csp_markup.py); the long suite opens them all here too.
    """
    pages = []
    for index, lesson in enumerate(LESSONS):
        for language in LANGUAGES:
            short = language == LANGUAGES[index % len(LANGUAGES)]
            pages.append(pytest.param(lesson.slug, language, id=f"{lesson.slug}-{language}",
                                      marks=() if short else pytest.mark.long))
    return pages


@pytest.mark.parametrize(("slug", "language"), lesson_pages())
def test_every_lesson_page_keeps_to_the_content_security_policy(csp_page, live_url, slug, language):
    """On a phone, then on a laptop after a slider move: Plotly's runtime styles and every script obey the policy."""
    page = csp_page
    url = f"{live_url}/{language}/lessons/{slug}/"
    response = page.goto(url)
    assert response.status == 200
    assert_strict_policy(response)
    charts_drawn(page)
    assert_no_violations(page, f"{url} at 390 px")
    page.set_viewport_size(LAPTOP)
    move_a_slider(page)
    assert_no_violations(page, f"{url} at 1366 px after a slider move")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_pages_around_the_lessons_keep_to_the_content_security_policy(csp_page, live_url, language):
    page = csp_page
    for path in ("/", "/sections/30.1/", "/join/", "/accounts/login/"):
        response = page.goto(f"{live_url}/{language}{path}")
        assert response.status == 200, path
        assert_strict_policy(response)
        assert_no_violations(page, path)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_token_tool_keeps_to_the_content_security_policy(csp_page, live_url, language):
    page = csp_page
    response = page.goto(f"{live_url}/{language}/tools/tokens/?text=hello")
    assert_strict_policy(response)
    result = page.locator("#tokens-tool-result")
    expect(result).to_have_attribute("data-tokens", re.compile(r"\d+"))
    page.fill("#tokens-tool-text", "缓存命中率 and a few more words")
    page.select_option("#tokens-tool-model", index=1)
    expect(result).not_to_have_attribute("data-tokens", result.get_attribute("data-tokens"), timeout=15_000)
    assert_no_violations(page, "tokens tool")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_stream_demo_streams_without_breaking_the_content_security_policy(csp_page, live_url, language):
    page = csp_page
    page.goto(f"{live_url}/{language}/lessons/batching-async/")
    page.select_option("#stream-model", "gpt-4o-mini")
    page.click("[data-stream-start]")
    expect(page.locator("[data-stream-figure=tokens]")).not_to_have_text("–", timeout=30_000)
    expect(page.locator("[data-stream-stop]")).to_be_disabled(timeout=60_000)  # the reply is complete
    assert_no_violations(page, "stream demo")


PASSWORD = "csp-" + secrets.token_urlsafe(10)


@pytest.fixture(scope="module")
def instructor() -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    name = "csp-" + secrets.token_hex(4)
    script = ("from django.core.management import call_command as c; c('migrate', verbosity=0); "
              f"c('create_instructor', {name!r}, password={PASSWORD!r})")
    subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return name


def test_a_classroom_keeps_to_the_content_security_policy(browser, live_url, instructor):
    """The instructor's room, its projector and summary, and a student's page, while the class moves a slider."""
    teacher_ctx = browser.new_context(viewport=LAPTOP)
    student_ctx = browser.new_context(viewport=PHONE)
    try:
        teacher = teacher_ctx.new_page()
        watch_csp(teacher)
        teacher.goto(f"{live_url}/en/accounts/login/")
        teacher.fill("input[name=username]", instructor)
        teacher.fill("input[name=password]", PASSWORD)
        teacher.click("form.join-form button[type=submit]")
        teacher.goto(f"{live_url}/en/lessons/batching-async/")
        teacher.click(".start-classroom button")
        teacher.wait_for_url(re.compile(r"/en/classroom/[A-Z0-9]{6}/$"))
        expect(teacher.locator("#room-connection")).to_have_attribute("data-state", "open", timeout=20_000)
        code = teacher.locator("[data-join-code]").get_attribute("data-join-code")

        student = student_ctx.new_page()
        watch_csp(student)
        student.goto(f"{live_url}/zh-hans/join/{code}/")
        student.click("form.join-form button[type=submit]")
        student.wait_for_url(re.compile(rf"/zh-hans/room/{code}/$"))
        expect(student.locator("#room-connection")).to_have_attribute("data-state", "open", timeout=20_000)
        expect(teacher.locator("#room-present")).to_have_text("1", timeout=20_000)

        teacher.fill("#batching-requests", "25")
        expect(student.locator("#batching-requests")).to_have_value("25", timeout=20_000)
        charts_drawn(student)
        assert_no_violations(teacher, "instructor page")
        assert_no_violations(student, "student page")
        for path in ("projector/", "summary/"):
            response = teacher.goto(f"{live_url}/en/classroom/{code}/{path}")
            assert response.status == 200, path
            assert_strict_policy(response)
            charts_drawn(teacher)
            assert_no_violations(teacher, path)
    finally:
        teacher_ctx.close()
        student_ctx.close()


class Hog:
    """Clients that keep every worker of a server busy with the heaviest runs."""

    def __init__(self, base: str, clients: int = 3) -> None:
        self.base, self.stop = base, threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def _run(self) -> None:
        while not self.stop.is_set():
            url = (f"{self.base}/en/lab/caching-comparison/?requests=300&distinct_intents=60"
                   f"&seed={random.randrange(10**9)}")
            try:
                urllib.request.urlopen(url, timeout=30).read()
            except OSError:
                pass

    def __enter__(self) -> Hog:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()


def test_when_the_server_is_busy_the_lab_says_so_calmly_and_retries_by_itself(page, tmp_path):
    with launched(tmp_path, SIMULATION_WORKERS="1", SIMULATION_QUEUE="0", SIMULATION_WALL_LIMIT_S="3",
                  ADDRESS_RATE_PER_S="0") as server:
        page.goto(f"{server.url}/en/lab/batching/?seed=5")
        expect(page.locator("#lab-batching-result .plot .main-svg").first).to_be_attached()
        status = page.locator("#lab-batching-status")
        with Hog(server.url):
            page.wait_for_timeout(500)
            box = page.locator("#batching-requests")
            box.fill("37")
            expect(status).to_have_class("status busy", timeout=15_000)
            expect(status).to_contain_text("the server is busy. Retrying in")
            expect(page.locator("#lab-batching-result .plot .main-svg").first).to_be_attached()  # kept
        # Nobody touches the page: it asks again after Retry-After and shows the result.
        expect(status).to_contain_text("37 requests", timeout=60_000)
        expect(status).not_to_have_class("status busy")


def test_while_redis_is_stopped_the_lesson_teaches_and_resumes_by_itself(page, tmp_path):
    with launched(tmp_path) as server:
        redis_pid = server.redis_pid()
        os.kill(redis_pid, signal.SIGSTOP)
        try:
            page.goto(f"{server.url}/zh-hans/lessons/caching-basics/?seed=77")
            expect(page.locator("article.lesson")).to_be_visible()  # the lesson itself is there
            status = page.locator("#lab-caching-comparison-status")
            expect(status).to_contain_text("实时结果已暂停")
            expect(status).to_have_class("status busy")
        finally:
            os.kill(redis_pid, signal.SIGCONT)
        expect(status).not_to_have_class("status busy", timeout=30_000)
        expect(page.locator("#lab-caching-comparison-result .plot .main-svg").first).to_be_attached()


def test_a_batch_refused_while_the_server_is_busy_comes_back_by_itself(page, tmp_path):
    """The experiments lab's repetitions, batch by batch, on a full server: a refused batch, then the whole result."""
    with launched(tmp_path, SIMULATION_WORKERS="1", SIMULATION_QUEUE="0", SIMULATION_WALL_LIMIT_S="3",
                  ADDRESS_RATE_PER_S="0", CLIENT_RATE_PER_S="0") as server:
        watch_csp(page)
        page.goto(f"{server.url}/en/lab/ab-dashboard/?preset=aa-test&seed=7")
        result = page.locator("#lab-ab-dashboard-result")
        expect(result.locator("[data-chart=repetitions] .main-svg").first).to_be_attached(timeout=60_000)
        status = page.locator("#lab-ab-dashboard-status")
        refused: list = []
        page.on("response", lambda r: refused.append(r) if r.status == 503
                and r.request.headers.get("hx-target") == "lab-ab-dashboard-pending" else None)
        hog = Hog(server.url)

        def busy_when_a_batch_goes(route) -> None:
            if not refused and not hog.threads[0].is_alive():
                hog.__enter__()
                time.sleep(1)  # every worker taken
            route.continue_()

        page.route(re.compile(r"[?&]batch=\d+"), busy_when_a_batch_goes)
        try:
            page.fill("#ab-dashboard-seed", "8")  # a fresh run: first the result, then its batches
            expect(result.locator(".pending")).to_be_attached(timeout=60_000)
            for _ in range(600):
                if refused:
                    break
                page.wait_for_timeout(100)
            assert refused, "no batch was refused while every worker was busy"
            assert refused[0].headers.get("retry-after")
            expect(status).to_have_class("status busy", timeout=15_000)
            expect(status).to_contain_text("the server is busy. Retrying in")
        finally:
            hog.__exit__()
        # Nobody touches the page: after Retry-After it asks again and the batches run to the end.
        expect(result.locator(".pending")).to_have_count(0, timeout=90_000)
        expect(result.locator("[data-chart=repetitions] .main-svg").first).to_be_attached(timeout=30_000)
        expect(status).not_to_have_class("status busy")
        expect(status).to_contain_text("500 A/A repetitions")
        assert page.evaluate("window.__csp") == []
