"""Settings for the test suite: the app's own, with state kept under var/test.

Tests use the same real Redis server as the app (embedded unless REDIS_URL is
set), never a fake one.
"""

import os
from pathlib import Path

os.environ.setdefault("VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))

from webapp.settings import *  # noqa: E402,F403

# pytest-django runs with DEBUG off, where /metrics answers only allowed addresses:
# the test client's is 127.0.0.1.
METRICS_ALLOWED_IPS = ["127.0.0.1", "::1"]

# Tests never assert on wall time: a loaded machine must not turn a slow run into a
# refusal.  The tests of the limit itself set their own.
TEST_WALL_LIMIT_S = 120.0
SIMULATION_WALL_LIMIT_S = TEST_WALL_LIMIT_S

# Runs happen in the test's own process (one at a time, never refused for being busy),
# so a test may patch the code a run calls.  tests/webapp/test_pool.py and the live
# server tests (test_live_*.py, tests/browser/test_serving.py) run real worker processes.
SIMULATION_WORKERS = 0
SIMULATION_QUEUE_WAIT_S = TEST_WALL_LIMIT_S

# Tests create many accounts: a fast hash instead of the deliberately slow real one.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
