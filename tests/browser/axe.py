"""axe-core in the page under test, offline.

The engine comes from the axe-playwright-python package (pinned in
requirements.txt), which ships axe.min.js inside the wheel: nothing is fetched
at test time.  It is evaluated through Playwright, so a page's own
Content-Security-Policy does not stop it.
"""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe

_AXE = Axe()
# Every rule axe runs by default: WCAG 2.0-2.2 A and AA, and best practices.
OPTIONS = {"resultTypes": ["violations"]}
# Plotly's drawings are aria-hidden (each chart has a caption and a data table) and
# hold thousands of SVG nodes that would triple axe's time; what axe would check in
# them, that nothing inside is focusable, hidden_focusables() checks directly.
CONTEXT = {"exclude": [[".plot"]]}


def violations(page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now, plus any focusable element inside a hidden chart."""
    found = _AXE.run(page, context=CONTEXT, options=OPTIONS).response["violations"]
    focusable = hidden_focusables(page)
    if focusable:
        found.append({"id": "aria-hidden-focus", "impact": "serious",
                      "help": "ARIA hidden element must not be focusable or contain focusable elements",
                      "nodes": [{"target": [html], "html": html} for html in focusable]})
    return found


def hidden_focusables(page) -> list[str]:
    """Focusable elements inside an aria-hidden chart: a keyboard would land on something unseen."""
    return page.evaluate("""() => [...document.querySelectorAll('[aria-hidden=true]')]
        .flatMap(el => [...el.querySelectorAll(
            'a[href], button, input, select, textarea, iframe, [tabindex]:not([tabindex="-1"]), [contenteditable]')])
        .map(el => el.outerHTML.slice(0, 120))""")


def report(found: list[dict[str, Any]]) -> str:
    """One line per rule and element, enough to find and fix each."""
    lines = []
    for violation in found:
        for node in violation["nodes"]:
            lines.append(f"{violation['id']} ({violation['impact']}): {', '.join(map(str, node['target']))}"
                         f"\n    {violation['help']}\n    {node['html'][:200]}")
    return "\n".join(lines)
