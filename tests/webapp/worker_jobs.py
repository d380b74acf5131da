"""Jobs for the worker-pool tests.  Like the simulations, this module never imports Django."""

from __future__ import annotations

import os
import sys
import time


def pid(_: object) -> int:
    return os.getpid()


def imported_django(_: object) -> bool:
    return any(name == "django" or name.startswith("django.") for name in sys.modules)


def nap(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def spin(_: object) -> None:
    """A run that never looks at its clock: only killing its process stops it."""
    while True:
        pass


def crash(_: object) -> None:
    os._exit(3)
