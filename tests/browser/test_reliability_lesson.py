"""A learner walks the reliability decision tree by keyboard to a leaf and runs its preset."""

import re

from playwright.sync_api import expect

PATH = "/en/lessons/reliability-tree/"
CURRENT = "#lab-reliability-tree-tree-current"
STATUS = "#lab-reliability-tree-status"
RESULT = "#lab-reliability-tree-result"
# Content-Security-Policy violations (the tree's script, htmx swaps, Plotly) collected in the page.
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  e => window.__csp.push(`${e.violatedDirective} ${e.sourceFile}:${e.lineNumber} ${e.sample}`));
"""


def _answer(page, key_presses: int, path: str) -> None:
    """From the focused question, Tab to an answer (1: yes, 2: no), press Enter, wait for the next node."""
    for _ in range(key_presses):
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"[?&]tree={path}(&|#|$)"))
    expect(page.locator(CURRENT)).to_be_focused()


def test_walking_the_tree_by_keyboard_to_a_leaf_runs_its_preset(page, live_url):
    page.add_init_script(WATCH_CSP)
    page.goto(live_url + PATH + "?seed=301")
    expect(page.locator(f"{RESULT} .plot .main-svg").first).to_be_attached()
    page.locator("#lab-reliability-tree-tree-yes").focus()
    page.keyboard.press("Enter")  # transient: yes
    expect(page).to_have_url(re.compile(r"[?&]tree=y(&|#|$)"))
    expect(page.locator(CURRENT)).to_be_focused()
    expect(page.locator(CURRENT)).to_contain_text("Are many requests failing at once")

    _answer(page, 1, "yy")  # overloaded or down: yes
    _answer(page, 2, "yyn")  # another model acceptable: no
    _answer(page, 1, "yyny")  # a stale answer acceptable: yes
    expect(page.locator(CURRENT)).to_contain_text("Circuit breaker and the cache")
    expect(page.locator(".tree-trail li")).to_have_count(4)  # every answer, each a link back

    page.keyboard.press("Tab")
    expect(page.locator("#lab-reliability-tree-tree-open")).to_be_focused()
    page.keyboard.press("Enter")  # run the leaf's preset
    expect(page).to_have_url(re.compile(r"[?&]preset=tree-cache(&|#|$)"))
    expect(page.locator(CURRENT)).to_contain_text("is running this leaf's preset (tree-cache)")
    expect(page.locator(CURRENT)).to_be_focused()
    expect(page.locator(STATUS)).to_contain_text("30 requests to gpt-4o")  # the preset's traffic
    expect(page.locator("#reliability-tree-fallbacks")).to_have_value("none")
    expect(page.locator(f"{RESULT} [data-chart=served] .main-svg").first).to_be_attached()
    # The served-per-second chart shows the breaker strategy of this leaf, with cached answers in it.
    expect(page.locator(f"{RESULT} [data-chart=served] .legendtext", has_text="cache")).to_have_count(1)
    assert page.evaluate("window.__csp") == []


def test_a_slider_move_keeps_the_tree_where_it_is(page, live_url):
    page.add_init_script(WATCH_CSP)
    page.goto(live_url + PATH + "?tree=yn&seed=302")
    wanted = int(page.locator("#reliability-tree-requests").input_value()) + 5
    slider = page.locator("input[type=range][data-mirror=reliability-tree-requests]")
    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    expect(page.locator(STATUS)).to_contain_text(f"{wanted} requests")
    expect(page).to_have_url(re.compile(rf"[?&]requests={wanted}(&|$)"))
    assert "tree=yn" in page.url
    expect(page.locator(CURRENT)).to_contain_text("Retry with exponential back-off and jitter")
    # The whole tree, opened and followed by keyboard: its links swap the panel like the answers do.
    page.locator("#lab-reliability-tree-tree summary").focus()
    page.keyboard.press("Enter")
    page.locator(".tree-outline a", has_text="Fail fast with a default answer").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]tree=yynn(&|#|$)"))
    expect(page.locator(CURRENT)).to_be_focused()
    expect(page.locator(CURRENT)).to_contain_text("Fail fast with a default answer")
    assert f"requests={wanted}" in page.url  # the slider's value kept
    assert page.evaluate("window.__csp") == []


def test_the_tree_works_without_javascript(browser, live_url):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 900})
    page = context.new_page()
    try:
        page.goto(live_url + "/zh-hans" + PATH.removeprefix("/en") + "?seed=303")
        page.locator("#lab-reliability-tree-tree-no").click()  # a plain link: a whole page comes back
        expect(page).to_have_url(re.compile(r"tree=n#lab-reliability-tree-tree$"))
        expect(page.locator(CURRENT)).to_contain_text("不要重试")
        page.locator("#lab-reliability-tree-tree-open").click()
        expect(page).to_have_url(re.compile(r"preset=tree-fail-fast"))
        expect(page.locator(CURRENT)).to_contain_text("tree-fail-fast")
    finally:
        context.close()
