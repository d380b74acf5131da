"""Every lesson page, on a phone and on a laptop, in both languages: it fits, it draws, axe finds nothing.

(The laptop in the second language of each lesson runs in the long suite.)

The pages are read from the course map and the component registry, so a lesson
or a lab added later is covered without touching this file.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from simulations import registry
from webapp.lessons.course import LANGUAGES, LESSONS

from . import axe

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
WIDTHS = {"phone": PHONE, "laptop": LAPTOP}


@pytest.fixture
def sized_page(browser, request):
    context = browser.new_context(viewport=WIDTHS[request.param])
    yield context.new_page()
    context.close()


def _charts_drawn(page) -> None:
    """Every chart the server sent is drawn by Plotly, inside its own figure's box."""
    plots = page.locator("[data-figure]")
    for i in range(plots.count()):
        plot = plots.nth(i)
        expect(plot.locator(".main-svg").first).to_be_attached()
        fits = plot.evaluate("el => el.getBoundingClientRect().right <= el.closest('figure').getBoundingClientRect().right + 1")
        assert fits, f"chart {plot.get_attribute('data-figure')} is wider than its figure"


def _no_sideways_scroll(page) -> None:
    if page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
        return
    # Name the culprits: elements poking out that are not inside a box that scrolls.
    wide = page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        const inScroller = el => { for (let p = el.parentElement; p; p = p.parentElement) {
            const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll') return true; } return false; };
        return [...document.body.querySelectorAll('*')]
            .filter(el => el.getBoundingClientRect().right > width + 1 && !inScroller(el))
            .slice(0, 5).map(el => el.outerHTML.slice(0, 120));
    }""")
    raise AssertionError(f"the page scrolls sideways; too wide: {wide}")


def _check(page, url: str) -> None:
    response = page.goto(url)
    assert response.status == 200
    _charts_drawn(page)
    _no_sideways_scroll(page)
    found = axe.violations(page)
    assert not found, "axe-core found:\n" + axe.report(found)


def lesson_pages() -> list:
    """Every lesson in both languages at both widths.

    `make test` opens every lesson on a phone in both languages (where Chinese and English
    wrap differently) and on a laptop in one language or the other; the long suite adds the
    laptop in the other language.
    """
    pages = []
    for index, lesson in enumerate(LESSONS):
        for language in LANGUAGES:
            for width in WIDTHS:
                short = width == "phone" or language == LANGUAGES[index % len(LANGUAGES)]
                pages.append(pytest.param(lesson.slug, language, width, id=f"{lesson.slug}-{language}-{width}",
                                          marks=() if short else pytest.mark.long))
    return pages


@pytest.mark.parametrize(("slug", "language", "sized_page"), lesson_pages(), indirect=["sized_page"])
def test_lesson_page_fits_draws_and_passes_axe(sized_page, live_url, slug, language):
    _check(sized_page, f"{live_url}/{language}/lessons/{slug}/")
    lesson = next(lesson for lesson in LESSONS if lesson.slug == slug)
    if lesson.component and sized_page.viewport_size == LAPTOP:
        _controls_stay_beside_the_results(sized_page, f"#lab-{lesson.component}")


@pytest.mark.parametrize("sized_page", ["phone"], indirect=True)
@pytest.mark.parametrize("name", list(registry.COMPONENTS))
def test_lab_page_fits_draws_and_passes_axe(sized_page, live_url, name):
    _check(sized_page, f"{live_url}/en/lab/{name}/")


def _controls_stay_beside_the_results(page, lab: str) -> None:
    """On a laptop, scrolled to the end of the results, the controls are still on screen, to their left."""
    form, result = page.locator(f"{lab}-form"), page.locator(f"{lab}-result")
    result.evaluate("el => el.lastElementChild.scrollIntoView({block: 'end'})")
    box, results_box = form.bounding_box(), result.bounding_box()
    assert box["x"] + box["width"] <= results_box["x"], "the controls are not beside the results"
    assert 0 <= box["y"] < LAPTOP["height"] / 2, "the controls scrolled out of view"
