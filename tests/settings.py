"""Settings for the test suite: the app's own, with state kept under var/test.

Tests use the same real Redis server as the app (embedded unless REDIS_URL is
set), never a fake one.
"""

import os
from pathlib import Path

os.environ.setdefault("VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))

from webapp.settings import *  # noqa: E402,F403

# Tests never assert on wall time: a loaded machine must not turn a slow run into a
# refusal.  The tests of the limit itself set their own.
TEST_WALL_LIMIT_S = 120.0
SIMULATION_WALL_LIMIT_S = TEST_WALL_LIMIT_S

# Tests create many accounts: a fast hash instead of the deliberately slow real one.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
