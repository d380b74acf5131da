"""A learner fails a service in the architecture lab and sees the diagram and the numbers change."""

import re

from playwright.sync_api import expect

PATH = "/en/lessons/architecture/"
STATUS = "#lab-microservices-status"
DIAGRAM = "#lab-microservices-diagram"
SEEK = "#lab-microservices-diagram-frame"


def _frame_at(page, seconds: float) -> None:
    """Move the diagram's timeline to the frame that starts at ``seconds`` (keyboard, as a person would)."""
    seek = page.locator(SEEK)
    seek.focus()
    page.keyboard.press("Home")
    for _ in range(60):
        shown = float(page.locator(f"{DIAGRAM} [data-time]").inner_text().split()[0])
        if shown >= seconds:
            return
        page.keyboard.press("ArrowRight")
    raise AssertionError(f"no frame at {seconds} s")


def test_failing_a_service_changes_the_diagram_and_the_numbers(page, live_url):
    page.goto(live_url + PATH + "?seed=201")
    expect(page.locator(f"{DIAGRAM} svg")).to_be_visible()
    expect(page.locator(STATUS)).to_contain_text("RAG 100.0%")
    assert page.locator(f"{DIAGRAM} .arch-node.down").count() == 0

    page.select_option("#microservices-failed_service", "rag")
    expect(page.locator(STATUS)).not_to_contain_text("RAG 100.0%")
    expect(page.locator(STATUS)).to_contain_text("chat 100.0%")  # chat does not need RAG
    assert re.search(r"[?&]failed_service=rag(&|$)", page.url)

    before = page.locator(f"{DIAGRAM} [data-words]").inner_text()
    _frame_at(page, 130)  # the failure lasts from 120 s to 180 s
    assert page.locator(f"{DIAGRAM} [data-words]").inner_text() != before
    expect(page.locator(f"{DIAGRAM} [data-node=rag]")).to_have_class(re.compile(r"\bdown\b"))
    expect(page.locator(f"{DIAGRAM} [data-node=chat]")).not_to_have_class(re.compile(r"\bdown\b"))
    expect(page.locator(f"{DIAGRAM} [data-words]")).to_contain_text("Down: RAG service")

    page.select_option("#microservices-architecture", "monolith")
    expect(page.locator(STATUS)).not_to_contain_text("chat 100.0%")  # one process: every route goes down
    _frame_at(page, 130)
    expect(page.locator(f"{DIAGRAM} .arch-node.down")).to_have_count(6)  # every function of the process
    expect(page.locator(f"{DIAGRAM} [data-node=storage]")).not_to_have_class(re.compile(r"\bdown\b"))


def test_the_diagram_plays_pauses_and_steps(page, live_url):
    page.add_init_script("window.violations = []; document.addEventListener('securitypolicyviolation',"
                         " e => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));")
    page.goto(live_url + PATH + "?seed=202")
    play = page.locator(f"{DIAGRAM} [data-action=play]")
    time = page.locator(f"{DIAGRAM} [data-time]")
    expect(time).to_have_text("0 s")
    play.click()
    expect(play).to_have_attribute("aria-pressed", "true")
    expect(time).not_to_have_text("0 s")
    play.click()
    expect(play).to_have_attribute("aria-pressed", "false")
    paused_at = time.inner_text()
    page.wait_for_timeout(900)
    assert time.inner_text() == paused_at  # paused means paused
    page.locator(f"{DIAGRAM} [data-action=forward]").click()
    assert time.inner_text() != paused_at
    page.select_option("#microservices-failed_service", "rag")  # a new result: a new diagram to wire up
    expect(page.locator(STATUS)).not_to_contain_text("RAG 100.0%")
    play.click()
    expect(time).not_to_have_text("0 s")
    expect(page.locator(DIAGRAM)).to_have_class(re.compile(r"\bplaying\b"))
    assert page.evaluate("window.violations") == []  # the animation sets classes and attributes, no inline style


def test_reduced_motion_keeps_the_edges_still(browser, live_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    page = context.new_page()
    page.goto(live_url + PATH + "?seed=203")
    page.locator(f"{DIAGRAM} [data-action=play]").click()
    expect(page.locator(f"{DIAGRAM} [data-time]")).not_to_have_text("0 s", timeout=5000)
    assert "playing" not in page.locator(DIAGRAM).get_attribute("class")
    context.close()


def test_the_lab_reads_in_chinese(page, live_url):
    page.goto(live_url + "/zh-hans" + PATH.removeprefix("/en") + "?seed=204")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator(STATUS)).to_contain_text("可用性")
    expect(page.locator(f"{DIAGRAM} [data-node=gateway]")).to_contain_text("API 网关")
