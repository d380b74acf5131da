"""Fixtures shared by every test module."""

from __future__ import annotations

import pytest

from tests.browser.harness import CHROMIUM
from tests.settings import TEST_WALL_LIMIT_S


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "browser" in r.keywords]
    if skipped and not CHROMIUM.exists():
        terminalreporter.write_sep("!", "BROWSER TESTS SKIPPED", red=True, bold=True)
        terminalreporter.write_line(
            f"{len(skipped)} browser tests did not run: {CHROMIUM} is missing. "
            "Install Debian's chromium (apt-get install chromium) to run them.",
            red=True,
        )


@pytest.fixture
def redis_client():
    """The real Redis server the app uses (embedded under var/test unless REDIS_URL is set)."""
    from webapp.redis_conn import redis_client as client

    return client()


@pytest.fixture(scope="session", autouse=True)
def patient_wall_limit():
    """Tests never assert on wall time: on a loaded machine a run may take seconds, and must not
    be stopped for it. The tests of the limit itself set their own."""
    from simulations import clock

    clock.DEFAULT_WALL_LIMIT_S = TEST_WALL_LIMIT_S


@pytest.fixture(scope="session", autouse=True)
def empty_result_cache():
    """Each session starts from an empty result cache, so a test runs the simulation it claims to test."""
    from webapp.redis_conn import redis_client as client

    redis = client()
    for key in redis.scan_iter("llmopslab:result:*", count=1000):
        redis.delete(key)
