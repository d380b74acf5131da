"""A learner in a class that pushes the server, and while Redis is away; every lab under the CSP.

The busy and Redis cases use servers of their own (tests/servers.py), with one
worker and no queue, or with their Redis stopped, so nothing else is disturbed.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import urllib.request

import pytest
from playwright.sync_api import expect

from simulations import registry
from tests.servers import launched

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
