"""Stable assignment by hashing: same answer in every process, accurate splits, sticky ramps."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simulations.experiments import assignment
from simulations.experiments.assignment import BUCKETS, assign, bucket, buckets, threshold
from simulations.experiments.stats import srm_check

ROOT = Path(__file__).resolve().parents[2]

# Pinned once: if these change, every running experiment would reshuffle its users.
GOLDEN = {("checkout-button", "user-0"): 9788, ("checkout-button", "user-1"): 4437,
          ("checkout-button", "user-4"): 2500, ("实验", "用户"): 2458}


def test_bucket_is_sha256_of_the_length_prefixed_names() -> None:
    def spec(experiment: str, unit: str) -> int:
        framed = b"".join(len(p).to_bytes(4, "big") + p for p in (experiment.encode(), unit.encode()))
        return int.from_bytes(hashlib.sha256(framed).digest()[:8], "big") % BUCKETS

    for (experiment, unit), expected in GOLDEN.items():
        assert bucket(experiment, unit) == expected == spec(experiment, unit)


def test_names_cannot_run_into_each_other() -> None:
    # With a plain "exp:user" string these pairs would hash alike.
    assert bucket("a:b", "c") != bucket("a", "b:c")
    assert bucket("ab", "c") != bucket("a", "bc")


def test_same_bucket_in_another_process_with_another_hash_seed() -> None:
    code = ("from simulations.experiments import bucket; "
            "print(','.join(str(bucket('checkout-button', f'user-{i}')) for i in range(50)))")
    here = ",".join(str(bucket("checkout-button", f"user-{i}")) for i in range(50))
    for hash_seed in ("1", "12345"):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": hash_seed})
        assert out.stdout.strip() == here


def test_vectorised_buckets_match_one_by_one() -> None:
    units = [f"u{i}" for i in range(300)] + ["用户-7", ""]
    assert list(buckets("exp", units)) == [bucket("exp", u) for u in units]
    assert list(buckets("exp", units, biased=True)) == [assignment.biased_bucket("exp", u) for u in units]


@pytest.mark.parametrize("split", [0.5, 0.1, 0.05, 0.9])
def test_split_accuracy_on_many_units(split: float) -> None:
    n = 40_000
    share = float(assignment.in_b(buckets("split-test", [f"user-{i}" for i in range(n)]), split).mean())
    sigma = (split * (1 - split) / n) ** 0.5
    assert abs(share - split) < 4 * sigma
    # and the counts pass the sample-ratio check
    b = round(share * n)
    assert not srm_check(n - b, b, split)["alert"]


def test_assign_answers_a_or_b_and_respects_the_edges() -> None:
    assert {assign("e", f"x{i}") for i in range(200)} == {"A", "B"}
    assert all(assign("e", f"x{i}", 0.0) == "A" for i in range(200))
    assert all(assign("e", f"x{i}", 1.0) == "B" for i in range(200))
    with pytest.raises(ValueError):
        assign("e", "x", 1.5)
    assert threshold(0.0001) == 1  # a split can be as fine as one bucket


def test_ramping_up_keeps_every_b_unit_in_b() -> None:
    units = [f"user-{i}" for i in range(5000)]
    previous: set[str] = set()
    for split in (0.05, 0.15, 0.30, 0.50, 1.0):
        in_b = {u for u in units if assign("canary", u, split) == "B"}
        assert previous <= in_b
        previous = in_b


def test_experiments_are_independent_of_each_other() -> None:
    units = [f"user-{i}" for i in range(20_000)]
    first = assignment.in_b(buckets("exp-one", units), 0.5)
    second = assignment.in_b(buckets("exp-two", units), 0.5)
    # Being in B of one experiment says nothing about the other: a quarter are in both.
    assert abs(float((first & second).mean()) - 0.25) < 0.015


def test_biased_bucketing_gives_a_real_sample_ratio_mismatch() -> None:
    assert assignment.biased_share(0.5) == pytest.approx(150 / 256)
    n = 10_000
    b = int(assignment.in_b(buckets("exp", [f"user-{i}" for i in range(n)], biased=True), 0.5).sum())
    assert abs(b / n - 150 / 256) < 0.02
    check = srm_check(n - b, b, 0.5)
    assert check["alert"] and check["p_value"] < 1e-10
