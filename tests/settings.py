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
