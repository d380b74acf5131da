"""Stable assignment of units (users, sessions) to variants by hashing.

A unit's variant must be the same in every process, on every machine, after every
restart, and independent between experiments.  So the bucket is a cryptographic
hash (SHA-256) of the experiment's name and the unit's id, never Python's
``hash()`` (salted per process for strings) and never a counter or a random draw.

The two names are length-prefixed before hashing, so ``("ab", "c")`` and
``("a", "bc")`` (or ``"a:b" + "c"`` and ``"a" + "b:c"`` with a separator) can
never hash alike.

``split`` is the share of units that see **B** (the treatment, or the new
version of a canary): a unit is in B when its bucket is below
``round(split * BUCKETS)``.  Raising the split only adds buckets to B, so a unit
already in B stays there as a canary ramps from 5% to 15% to 50%.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

BUCKETS = 10_000  # a split can be set to 0.01%


def _framed(text: str) -> bytes:
    raw = str(text).encode("utf-8")
    return len(raw).to_bytes(4, "big") + raw


def _digest(experiment: str, unit_id: str) -> bytes:
    return hashlib.sha256(_framed(experiment) + _framed(unit_id)).digest()


def bucket(experiment: str, unit_id: str) -> int:
    """The unit's bucket in ``[0, BUCKETS)``: the same everywhere, for ever.

    64 bits of the digest modulo 10,000: the modulo bias is below 1e-15.
    """
    return int.from_bytes(_digest(experiment, unit_id)[:8], "big") % BUCKETS


def threshold(split: float) -> int:
    """How many buckets (from 0 up) go to B for a ``split`` between 0 and 1."""
    if not 0.0 <= split <= 1.0:
        raise ValueError(f"split must be between 0 and 1, got {split!r}")
    return round(split * BUCKETS)


def assign(experiment: str, unit_id: str, split: float = 0.5) -> str:
    """``"A"`` or ``"B"`` for this unit in this experiment; ``split`` is B's share."""
    return "B" if bucket(experiment, unit_id) < threshold(split) else "A"


def biased_bucket(experiment: str, unit_id: str) -> int:
    """A home-made bucketing that looks right and is not (kept to show a real SRM).

    It keeps one byte of the digest and takes it modulo 100.  256 values do not
    divide into 100 buckets: buckets 0-55 each receive 3 byte values and buckets
    56-99 only 2, so at a 50/50 split B (buckets 0-49) gets 150/256 = 58.6% of
    units.  Scaled to :data:`BUCKETS` so it drops in for :func:`bucket`.
    """
    return (_digest(experiment, unit_id)[0] % 100) * (BUCKETS // 100)


def biased_share(split: float) -> float:
    """The share of units :func:`biased_bucket` really sends to B at ``split``."""
    cut = threshold(split)
    return sum(1 for byte in range(256) if (byte % 100) * (BUCKETS // 100) < cut) / 256


def buckets(experiment: str, unit_ids: Sequence[str], *, biased: bool = False) -> np.ndarray:
    """:func:`bucket` (or :func:`biased_bucket`) of many units at once, as an int64 array."""
    prefix = _framed(experiment)
    sha256 = hashlib.sha256
    length_prefix = [n.to_bytes(4, "big") for n in range(256)]  # ids are short: frame them from a table
    encoded = [str(u).encode("utf-8") for u in unit_ids]
    digests = [sha256(prefix + (length_prefix[len(raw)] if len(raw) < 256 else len(raw).to_bytes(4, "big"))
                      + raw).digest() for raw in encoded]
    if biased:
        first = np.frombuffer(b"".join(d[:1] for d in digests), dtype=np.uint8).astype(np.int64)
        return (first % 100) * (BUCKETS // 100)
    head = np.frombuffer(b"".join(d[:8] for d in digests), dtype=">u8")
    return (head % np.uint64(BUCKETS)).astype(np.int64)


def in_b(bucket_values: np.ndarray, split: float) -> np.ndarray:
    """Which of these buckets see B at ``split`` (a boolean array)."""
    return bucket_values < threshold(split)
