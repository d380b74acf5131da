"""Time for the caches: an injectable clock and the expiry rule they all share.

Every cache asks its ``clock`` for "now" instead of reading wall time, so a TTL of
an hour can be tested on the virtual clock in a fraction of a second.  Expiry
instants are absolute values on that clock's timeline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

Clock = Callable[[], float]


def loop_clock() -> float:
    """The running event loop's time (virtual inside a simulation).

    Outside a loop it falls back to ``time.monotonic()``, which is also what a
    normal asyncio loop returns, so the two timelines agree.  Monotonic time does
    not survive a reboot: pass ``clock=time.time`` to a persistent cache whose TTL
    must hold across machine restarts.
    """
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()


def checked_ttl(ttl_s: float | None) -> float | None:
    """``ttl_s`` itself, refusing values that would make every entry dead on arrival."""
    if ttl_s is not None and not ttl_s > 0:
        raise ValueError(f"ttl_s must be positive or None, got {ttl_s!r}")
    return ttl_s


def expiry_for(now: float, ttl_s: float | None) -> float | None:
    """When an entry written at ``now`` expires; ``None`` means never."""
    return None if ttl_s is None else now + ttl_s


def is_expired(expires_at: float | None, now: float) -> bool:
    # Expired at the instant itself: a TTL of 60 s gives exactly 60 s of hits.
    return expires_at is not None and expires_at <= now
