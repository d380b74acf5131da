"""An instructor and two students side by side: one follows, one breaks away and rejoins."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from .harness import ROOT

# A page's first visit loads plotly.js (4.8 MB) before its socket opens: on a busy machine, seconds.
expect.set_options(timeout=20_000)

PASSWORD = "browser-" + secrets.token_urlsafe(10)
STATUS = "#lab-batching-status"
REQUESTS = "#batching-requests"


@pytest.fixture(scope="module")
def instructor() -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    name = "teacher-" + secrets.token_hex(4)
    script = ("from django.core.management import call_command as c; c('migrate', verbosity=0); "
              f"c('create_instructor', {name!r}, password={PASSWORD!r})")
    subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return name


def _start_room(browser, live_url, instructor, language="en"):  # noqa: D401
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(f"{live_url}/{language}/accounts/login/")
    page.fill("input[name=username]", instructor)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.join-form button[type=submit]")
    page.goto(f"{live_url}/{language}/lessons/batching-async/")
    page.click(".start-classroom button")
    page.wait_for_url(re.compile(rf"/{language}/classroom/[A-Z0-9]{{6}}/$"))
    expect(page.locator("#room-connection")).to_have_attribute("data-state", "open")
    return context, page, page.locator("[data-join-code]").get_attribute("data-join-code")


def _student(browser, url, name=""):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(url)
    return context, page


def test_one_student_follows_and_one_breaks_away_and_rejoins(browser, live_url, instructor):
    teacher_ctx, teacher, code = _start_room(browser, live_url, instructor)
    # One types the code as read aloud; the other opens the join link (the QR code's).
    follower_ctx, follower = _student(browser, f"{live_url}/en/join/")
    follower.fill("input[name=code]", f"{code[:3].lower()} {code[3:].lower()}")
    follower.fill("input[name=name]", "Mei")
    follower.click("form.join-form button[type=submit]")
    explorer_ctx, explorer = _student(browser, f"{live_url}/en/join/{code}/")
    explorer.click("form.join-form button[type=submit]")
    # A third student reads the class in Chinese.
    chinese_ctx, chinese = _student(browser, f"{live_url}/zh-hans/join/{code}/")
    chinese.click("form.join-form button[type=submit]")
    expect(chinese.locator("#room-connection")).to_have_attribute("data-state", "open")
    expect(chinese.locator("#room-follow-status")).to_contain_text("正在跟随讲师")
    for page in (follower, explorer):
        page.wait_for_url(re.compile(rf"/en/room/{code}/$"))
        expect(page.locator("#room-connection")).to_have_attribute("data-state", "open")
        expect(page.locator("#room-follow-status")).to_contain_text("Following the instructor")
        expect(page.locator(REQUESTS)).to_be_disabled()
        expect(page.locator("#room-rejoin")).to_be_hidden()
    expect(teacher.locator("#room-present")).to_have_text("3")

    teacher.fill(REQUESTS, "25")
    expect(teacher.locator(STATUS)).to_contain_text("25 requests")
    for page in (follower, explorer):
        expect(page.locator(STATUS)).to_contain_text("25 requests")
        expect(page.locator(REQUESTS)).to_have_value("25")
    expect(chinese.locator(STATUS)).to_contain_text("25 个请求")

    explorer.click("#room-break")
    expect(explorer.locator(REQUESTS)).to_be_enabled()
    expect(explorer.locator("#room-break")).to_be_hidden()
    explorer.fill(REQUESTS, "7")
    expect(explorer.locator(STATUS)).to_contain_text("7 requests")

    teacher.fill(REQUESTS, "30")
    expect(follower.locator(STATUS)).to_contain_text("30 requests")
    expect(explorer.locator("#room-follow-status")).to_contain_text("changed the settings")
    expect(explorer.locator(STATUS)).to_contain_text("7 requests")  # exploring: not overwritten

    explorer.click("#room-rejoin")
    expect(explorer.locator(STATUS)).to_contain_text("30 requests")
    expect(explorer.locator(REQUESTS)).to_have_value("30")
    expect(explorer.locator(REQUESTS)).to_be_disabled()
    expect(explorer.locator("#room-follow-status")).to_contain_text("Following the instructor")
    assert explorer.url.endswith(f"/en/room/{code}/")  # the lab's links did not take the page away

    # Predict, then reveal: the follower answers, the instructor reveals, the truth appears.
    teacher.fill("#room-ask-prompt", "How much faster is abatch?")
    teacher.select_option("#room-ask-metric", "speedup_abatch")
    teacher.click("#room-ask button[type=submit]")
    follower.fill("#room-answer", "4")
    follower.click(".answer-form button")
    expect(follower.locator(".your-answer")).to_contain_text("4")
    expect(teacher.locator(".activity-count")).to_contain_text("Answers so far: 1")
    teacher.click(".activity-buttons .primary")
    expect(follower.locator(".truth-value")).to_contain_text("True value")
    expect(explorer.locator("table.histogram tr.truth")).to_have_count(1)
    expect(chinese.locator(".truth-value")).to_contain_text("真实值")
    for context in (teacher_ctx, follower_ctx, explorer_ctx, chinese_ctx):
        context.close()
