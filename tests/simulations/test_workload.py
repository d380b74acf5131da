"""Seeded request streams: popularity, paraphrases, tiers and traffic shapes."""

from __future__ import annotations

from collections import Counter

import pytest

from simulations import intents
from simulations.params import ParamError
from simulations.workload import (
    WorkloadSpec,
    burst_window_s,
    counts_per_window,
    generate,
    in_play,
    nominal_duration_s,
    popularity,
    rate_at,
)


def test_same_seed_same_stream_other_seed_other_stream():
    spec = WorkloadSpec(requests=500, shape="burst", paraphrase_share=0.5)
    assert generate(spec, 7) == generate(spec, 7)
    assert generate(spec, 7) != generate(spec, 8)


def test_requests_are_numbered_in_arrival_order():
    requests = generate(WorkloadSpec(requests=300, shape="wave"), 1)
    assert len(requests) == 300
    assert [r.id for r in requests] == list(range(300))
    arrivals = [r.arrival_s for r in requests]
    assert arrivals == sorted(arrivals)
    assert arrivals[0] > 0


def test_every_request_carries_its_intents_facts():
    for request in generate(WorkloadSpec(requests=400, paraphrase_share=0.5), 3):
        intent = intents.get(request.intent)
        assert intents.intent_of(request.text) == request.intent
        assert request.text in intent.questions
        assert request.paraphrase == (request.text != intent.canonical)
        assert (request.topic, request.complexity) == (intent.topic, intent.complexity)


def test_popularity_is_zipf_over_the_most_popular_intents():
    spec = WorkloadSpec(distinct_intents=5, zipf_s=1.0)
    shares = popularity(spec)
    assert [intent_id for intent_id, _ in shares] == [i.id for i in intents.CATALOGUE[:5]]
    assert sum(p for _, p in shares) == pytest.approx(1.0)
    assert shares[0][1] / shares[1][1] == pytest.approx(2.0)
    uniform = popularity(WorkloadSpec(distinct_intents=5, zipf_s=0.0))
    assert [p for _, p in uniform] == pytest.approx([0.2] * 5)


def test_top_intents_share_grows_with_zipf_exponent():
    observed = []
    for zipf_s in (0.0, 0.6, 1.2, 2.0):
        spec = WorkloadSpec(requests=4000, distinct_intents=30, zipf_s=zipf_s)
        top_id, top_p = popularity(spec)[0]
        counts = Counter(r.intent for r in generate(spec, 11))
        share = counts[top_id] / spec.requests
        assert share == pytest.approx(top_p, abs=0.03)
        observed.append(share)
    assert observed == sorted(observed)
    assert observed[-1] > 3 * observed[0]


def test_only_the_intents_in_play_are_asked():
    spec = WorkloadSpec(requests=3000, distinct_intents=6, zipf_s=0.5)
    asked = {r.intent for r in generate(spec, 5)}
    assert asked == {i.id for i in intents.CATALOGUE[:6]}


def test_complexity_range_filters_the_intents():
    spec = WorkloadSpec(requests=1000, min_complexity=0.6, max_complexity=1.0)
    chosen = in_play(spec)
    assert chosen and all(i.complexity >= 0.6 for i in chosen)
    assert all(r.complexity >= 0.6 for r in generate(spec, 2))


@pytest.mark.parametrize("share", [0.0, 0.25, 0.7, 1.0])
def test_paraphrase_share_is_close_to_the_parameter(share):
    requests = generate(WorkloadSpec(requests=5000, paraphrase_share=share), 4)
    observed = sum(r.paraphrase for r in requests) / len(requests)
    assert observed == pytest.approx(share, abs=0.02)


def test_tiers_follow_their_shares():
    tiers = {"free": 0.6, "pro": 0.3, "enterprise": 0.1}
    requests = generate(WorkloadSpec(requests=5000, tiers=tiers), 9)
    counts = Counter(r.tier for r in requests)
    assert set(counts) == set(tiers)
    for tier, share in tiers.items():
        assert counts[tier] / len(requests) == pytest.approx(share, abs=0.025)


def test_steady_traffic_runs_at_its_rate_and_stays_flat():
    spec = WorkloadSpec(requests=4000, rate_per_s=20.0)
    requests = generate(spec, 6)
    assert len(requests) / requests[-1].arrival_s == pytest.approx(20.0, rel=0.08)
    counts = counts_per_window(requests, nominal_duration_s(spec) / 8)[:8]
    assert max(counts) < 1.4 * min(counts)


def test_burst_peaks_inside_its_window():
    spec = WorkloadSpec(requests=4000, shape="burst", rate_per_s=10.0,
                        burst_start=0.5, burst_length=0.1, burst_factor=6.0)
    start, end = burst_window_s(spec)
    assert rate_at(spec, (start + end) / 2) == 60.0
    assert rate_at(spec, start / 2) == 10.0
    requests = generate(spec, 12)
    window = (end - start) / 4
    counts = counts_per_window(requests, window)
    peak = counts.index(max(counts))
    assert start <= (peak + 0.5) * window <= end
    inside = sum(start <= r.arrival_s < end for r in requests)
    # The window holds 6 x 0.1 of the 1 + 5 x 0.1 units of expected traffic.
    assert inside / len(requests) == pytest.approx(0.6 / 1.5, abs=0.04)


def test_wave_rate_rises_and_falls_over_the_run():
    spec = WorkloadSpec(requests=5000, shape="wave", wave_amplitude=0.8, wave_cycles=1.0)
    duration = nominal_duration_s(spec)
    assert rate_at(spec, 0.0) == pytest.approx(2.0)
    assert rate_at(spec, duration / 2) == pytest.approx(18.0)
    counts = counts_per_window(generate(spec, 13), duration / 10)[:10]
    assert counts.index(max(counts)) in (4, 5)
    assert max(counts) > 4 * min(counts)
    assert min(counts) in (counts[0], counts[-1])


@pytest.mark.parametrize(
    "spec",
    [
        WorkloadSpec(requests=600, rate_per_s=10.0),
        WorkloadSpec(requests=600, shape="burst", burst_length=0.2, burst_factor=3.0),
        WorkloadSpec(requests=600, shape="wave", wave_amplitude=0.5, wave_cycles=1.0),
        WorkloadSpec(requests=600, shape="wave", wave_amplitude=0.9, wave_cycles=0.25),
    ],
)
def test_expected_arrivals_over_the_nominal_duration_equal_the_request_count(spec):
    steps = 20_000
    duration = nominal_duration_s(spec)
    dt = duration / steps
    expected = sum(rate_at(spec, (i + 0.5) * dt) * dt for i in range(steps))
    assert expected == pytest.approx(spec.requests, rel=1e-3)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"paraphrase_share": 1.5}, "paraphrase_share"),
        ({"shape": "spiky"}, "shape"),
        ({"tiers": {}}, "tiers"),
        ({"min_complexity": 0.99, "max_complexity": 1.0}, "min_complexity"),
        ({"burst_start": 0.95, "burst_length": 0.1}, "burst_length"),
        ({"rate_per_s": 0.0}, "rate_per_s"),
    ],
)
def test_bad_specs_name_the_field(overrides, field):
    with pytest.raises(ParamError) as error:
        WorkloadSpec(**overrides)
    assert error.value.field == field


def test_empty_workload_is_empty():
    assert generate(WorkloadSpec(requests=0), 1) == []
    assert counts_per_window([], 1.0) == []
