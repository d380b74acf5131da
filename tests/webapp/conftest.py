"""Fixtures for the web app's tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def simulation_workers():
    """The worker processes that run fresh simulations, started once and ready before the first test."""
    from webapp.lab.service import pool

    assert pool().start(wait_s=120), "no simulation worker started within 2 minutes"
    yield pool()


@pytest.fixture(autouse=True)
def database(db):
    """Every page a learner opens starts a session, which lives in the database."""
