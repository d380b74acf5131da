"""The mock model as the app's real-time endpoints run it: the HTTP API and the streaming demo."""

from __future__ import annotations

import secrets

from simulations.mock_llm import MockChatModel


def live_model(name: str, seed: int | None = None, max_tokens: int | None = None) -> MockChatModel:
    """A mock model that only fails when asked to.

    The profiles' random 500s and hangs are off: on a live endpoint they would
    make lesson code fail at random, so failures are injected on purpose instead
    (see :mod:`webapp.mockllm.faults`).  Without a seed each call gets its own
    latency draw, as a real API's would.
    """
    return MockChatModel(
        model=name,
        seed=secrets.randbits(32) if seed is None else seed,
        failure_rate=0.0,
        timeout_rate=0.0,
        max_tokens=max_tokens,
    )
