"""The autoscaler against the worked cases of Kubernetes' own HPA tests.

Each test names the case of pkg/controller/podautoscaler (replica_calculator_test.go,
horizontal_test.go) it follows; CPU levels are millicores with 1-core requests, custom
metrics milli-units, as there.  Times are seconds before "now" (t = 1000).
"""

from __future__ import annotations

import pytest

from simulations.architecture.book import BURST_ROWS, QUEUE_ROWS, burst_rows, queue_rows
from simulations.architecture.hpa import (Behavior, HorizontalAutoscaler, PodSample, Policy, Proposal, Rules,
                                          ScaleEvent, change_in_period, default_scale_down, default_scale_up,
                                          external_average_replicas, external_value_replicas,
                                          pod_metric_replicas, scale_down_limit, scale_up_limit)

NOW = 1000.0


def cpu(levels, ready=None, requests=None, gone=None):
    ready = ready or [True] * len(levels)
    requests = requests or [1000] * len(levels)
    gone = gone or [False] * len(levels)
    return [PodSample(v, r, ok, g) for v, r, ok, g in zip(levels, requests, ready, gone)]


# -- replica_calculator_test.go --------------------------------------------------------

@pytest.mark.parametrize("case, current, pods, target, expected, reading", [
    ("TestReplicaCalcScaleUp", 3, cpu([300, 500, 700]), 30, 5, 50),
    ("TestReplicaCalcScaleUpUnreadyLessScale", 3, cpu([300, 500, 700], [False, True, True]), 30, 4, 60),
    ("TestReplicaCalcScaleUpUnreadyNoScale", 3, cpu([400, 500, 700], [True, False, False]), 30, 3, 40),
    ("TestReplicaCalcScaleUpIgnoresFailedPods", 2,
     cpu([500, 700, None, None], [True, True, False, False], gone=[False, False, True, True]), 30, 4, 60),
    ("TestReplicaCalcScaleDown", 5, cpu([100, 300, 500, 250, 250]), 50, 3, 28),
    ("TestReplicaCalcScaleDownIncludeUnreadyPods", 5,
     cpu([100, 300, 500, 250, 250], [True, True, True, False, False]), 50, 2, 30),
    ("TestReplicaCalcScaleDownExcludeUnscheduledPods", 5,
     cpu([100, None, None, None, None], [True, False, False, False, False],
         gone=[False, True, True, True, True]), 50, 1, 10),
    ("TestReplicaCalcTolerance", 3, cpu([1010, 1030, 1020], requests=[900, 1000, 1100]), 100, 3, 102),
])
def test_resource_metric_cases(case, current, pods, target, expected, reading):
    assert pod_metric_replicas(current, pods, target, resource=True) == (expected, reading), case


@pytest.mark.parametrize("case, current, levels, ready, target, expected", [
    ("TestReplicaCalcScaleUpCM", 3, [20000, 10000, 30000], None, 15000, 4),
    # Readiness only matters for CPU: unready pods still count for a custom metric.
    ("TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale", 3, [50000, 10000, 30000], [True, True, False], 15000, 6),
    ("TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown", 3, [50000, 15000, 30000],
     [False, True, False], 15000, 7),
    ("TestReplicaCalcScaleDownCM", 5, [12000] * 5, None, 20000, 3),
])
def test_pods_metric_cases(case, current, levels, ready, target, expected):
    pods = [PodSample(v, ready=r) for v, r in zip(levels, ready or [True] * len(levels))]
    assert pod_metric_replicas(current, pods, target)[0] == expected, case


def test_missing_metrics_count_as_target_on_the_way_down_and_zero_on_the_way_up():
    # TestReplicaCalcMissingMetricsNoChangeGt: 1900m on one pod, the other silent: up, then 95 %: no change.
    assert pod_metric_replicas(2, cpu([1900, None]), 100, resource=True)[0] == 2
    # TestReplicaCalcMissingMetricsNoChangeLt: 600m, the other silent counts as 100 %: 80 % of 2 -> 2.
    assert pod_metric_replicas(2, cpu([600, None]), 100, resource=True)[0] == 2


@pytest.mark.parametrize("case, status, total, per_pod_target, expected, per_pod", [
    ("TestReplicaCalcScaleUpPerPodCMExternal", 3, 8600, 2150, 4, 2867),
    ("TestReplicaCalcScaleDownPerPodCMExternal", 5, 8600, 2867, 3, 1720),
])
def test_external_average_value_cases(case, status, total, per_pod_target, expected, per_pod):
    assert external_average_replicas(status, total, per_pod_target) == (expected, per_pod), case


def test_external_value_cases():
    assert external_value_replicas(1, 1, 8600, 4400) == 2  # TestReplicaCalcScaleUpCMExternal
    assert external_value_replicas(3, 1, 8600, 4400) == 2  # ...ExternalIgnoresUnreadyPods
    assert external_value_replicas(5, 5, 8600, 14334) == 3  # TestReplicaCalcScaleDownCMExternal


# -- horizontal_test.go: rate policies (TestScalingWithRules) ---------------------------

def rules(pods=0, pods_period=0, percent=0, percent_period=0, window=0, select="Max"):
    """generateScalingRules: the non-zero policies, in the same order."""
    policies = []
    if pods:
        policies.append(Policy("Pods", pods, pods_period))
    if percent:
        policies.append(Policy("Percent", percent, percent_period))
    return Rules(tuple(policies), select, window)


def spread(changes, period_s):
    """generateEventsUniformDistribution: events centred in equal segments of the last period."""
    segment = period_s / len(changes)
    return [ScaleEvent(c, NOW - (period_s - segment * (i + 1) + segment / 2)) for i, c in enumerate(changes)]


CASES = [
    # name, min, max, up rules, down rules, up events, down events, current, desired, expected, reason
    ("prenormalized desired replicas within range", 3, 8, None, None, [], [], 5, 7, 7, "DesiredWithinRange"),
    ("prenormalized desired replicas < minReplicas", 2, 8, None, None, [], [], 3, 1, 2, "TooFewReplicas"),
    ("desired replicas within range when minReplicas is 0", 0, 10, None, None, [], [], 1, 0, 0,
     "DesiredWithinRange"),
    ("maxReplicas is the limit because maxReplicas < scaleUpLimit", 1, 10, None, None, [], [], 20, 1000, 10,
     "TooManyReplicas"),
    ("desired replica count is more than the maximum replica count", 100, 150, None, None, [], [], 100, 1000,
     150, "TooManyReplicas"),
    ("scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies", 1, 2000,
     rules(percent=1, percent_period=60), None, [], [], 3, 1000, 4, "ScaleUpLimit"),
    ("scaleDownLimit is the limit because scaleDownLimit > minReplicas with user defined policies", 3, 2000,
     None, rules(pods=20, pods_period=60), [], [], 1000, 3, 980, "ScaleDownLimit"),
    ("scaleUp with default behavior", 1, 1000, None, None, [], [], 10, 50, 20, "ScaleUpLimit"),
    ("scaleUp with pods policy larger than percent policy", 1, 1000, rules(100, 60, 100, 60), None, [], [],
     10, 500, 110, "ScaleUpLimit"),
    ("scaleUp with percent policy larger than pods policy", 1, 1000, rules(2, 60, 100, 60), None, [], [],
     10, 500, 20, "ScaleUpLimit"),
    ("scaleUp with spec MaxReplicas limitation with large pod policy", 1, 1000, rules(100, 60), None, [], [],
     10, 50, 50, "DesiredWithinRange"),
    ("scaleUp with pod policy limitation", 1, 1000, rules(30, 60), None, [], [], 10, 50, 40, "ScaleUpLimit"),
    ("scaleUp with percent policy limitation", 1, 1000, rules(0, 0, 200, 60), None, [], [], 10, 50, 30,
     "ScaleUpLimit"),
    ("scaleDown with percent policy larger than pod policy", 1, 1000, None, rules(20, 60, 1, 60, 300), [], [],
     100, 2, 80, "ScaleDownLimit"),
    ("scaleDown with pod policy larger than percent policy", 1, 1000, None, rules(2, 60, 1, 60, 300), [], [],
     100, 2, 98, "ScaleDownLimit"),
    ("scaleDown with spec MinReplicas limitation with large pod policy", 1, 1000, None, rules(100, 60, 0, 0, 300),
     [], [], 10, 0, 1, "TooFewReplicas"),
    ("scaleDown with spec MinReplicas limitation with large percent policy", 5, 1000, None,
     rules(0, 0, 100, 60, 300), [], [], 10, 2, 5, "TooFewReplicas"),
    ("scaleDown with pod policy limitation", 1, 1000, None, rules(5, 60, 0, 0, 300), [], [], 10, 2, 5,
     "ScaleDownLimit"),
    ("scaleDown with percent policy limitation", 1, 1000, None, rules(0, 0, 50, 60, 300), [], [], 10, 5, 5,
     "DesiredWithinRange"),
    ("scaleUp with spec MaxReplicas limitation with large pod policy and events", 1, 200, rules(300, 60), None,
     spread([1, 5, 9], 120), [], 100, 500, 200, "TooManyReplicas"),
    ("scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events",
     1, 1000, rules(5, 120), None, spread([1, 5, 9], 120), [], 100, 500, 100, "ScaleUpLimit"),
    ("scaleUp with pod policy and previous scale up events", 1, 1000, rules(150, 120), None,
     spread([1, 5, 9], 120), [], 100, 500, 235, "ScaleUpLimit"),
    ("scaleUp with percent policy and previous scale up events", 1, 1000, rules(0, 0, 200, 120), None,
     spread([1, 5, 9], 120), [], 100, 500, 255, "ScaleUpLimit"),
    ("scaleDown with default policy and previous events", 1, 1000, None, None, [], spread([1, 5, 9], 120),
     10, 5, 5, "DesiredWithinRange"),
    ("scaleDown with spec MinReplicas limitation with large pod policy and previous events", 5, 1000, None,
     rules(130, 120, 0, 0, 300), [], spread([1, 5, 9], 120), 100, 0, 5, "TooFewReplicas"),
    ("scaleDown with pod policy limitation and previous events", 1, 1000, None, rules(5, 120, 0, 0, 300), [],
     spread([1, 5, 9], 120), 100, 2, 100, "ScaleDownLimit"),
    ("scaleDown with percent policy limitation and previous events", 1, 1000, None, rules(0, 0, 50, 120, 300),
     [], spread([2, 4, 6], 120), 100, 0, 56, "ScaleDownLimit"),
    ("scaleDown with previous events preventing further scale down", 1, 1000, None, rules(0, 0, 10, 120, 300),
     [], spread([10, 10, 10], 120), 100, 0, 100, "ScaleDownLimit"),
    ("scaleDown with with previous events still allowing more scale down", 1, 1000, None,
     rules(0, 0, 1000, 120, 300), [], spread([10, 10, 10], 120), 10, 5, 5, "DesiredWithinRange"),
    ("check 'outdated' flag for events for one behavior for up", 1, 1000, rules(1000, 60), None,
     spread([8, 12, 9, 11], 120), [], 100, 200, 200, "DesiredWithinRange"),
    ("check that events were marked 'outdated' for two different policies in the behavior for down", 1, 1000,
     None, rules(1000, 30, 100, 60, 300), [], spread([8, 12, 9, 11], 120), 100, 5, 5, "DesiredWithinRange"),
]


@pytest.mark.parametrize("name, lo, hi, up, down, up_events, down_events, current, desired, expected, reason",
                         CASES, ids=[c[0] for c in CASES])
def test_rate_policies(name, lo, hi, up, down, up_events, down_events, current, desired, expected, reason):
    hpa = HorizontalAutoscaler(lo, hi, Behavior(up, down), up_events=up_events, down_events=down_events)
    assert hpa.limit_with_behavior(NOW, current, desired) == (expected, reason)


def test_single_rule_limits():
    # TestCalculateScaleUpLimitWithScalingRules / TestCalculateScaleDownLimitWithBehaviors (selectPolicy Min)
    both = (Policy("Pods", 2, 60), Policy("Percent", 50, 60))
    assert scale_up_limit(1, [], [], Rules(both, "Min", 300), NOW) == 2
    assert scale_down_limit(5, [], [], Rules(both, "Min", 300), NOW) == 3
    assert scale_up_limit(7, [], [], Rules(both, "Disabled", 0), NOW) == 7


def test_defaults_follow_the_api():
    assert default_scale_up().policies == (Policy("Pods", 4, 15), Policy("Percent", 100, 15))
    assert default_scale_up().stabilization_s == 0
    assert default_scale_down().stabilization_s == 300
    assert default_scale_down().policies == (Policy("Percent", 100, 15),)


# -- horizontal_test.go: stabilisation -------------------------------------------------

@pytest.mark.parametrize("name, recs, current, desired, expected, stored, up_s, down_s", [
    ("empty recommendations for scaling down", [], 100, 5, 5, [5], 0, 0),
    ("simple scale down stabilization", [(4, -120), (5, -60)], 100, 3, 5, [4, 5, 3], 0, 180),
    ("simple scale up stabilization", [(4, -120), (5, -60)], 1, 7, 4, [4, 5, 7], 300, 0),
    ("no scale down stabilization", [(1, -120), (2, -60)], 100, 3, 3, [1, 2, 3], 300, 0),
    ("no scale up stabilization", [(4, -120), (5, -60)], 1, 3, 3, [4, 5, 3], 0, 300),
    ("no scale down stabilization, reuse recommendation element", [(10, -600), (9, -540)], 100, 3, 3, [10, 3], 0, 0),
    ("no scale up stabilization, reuse recommendation element", [(10, -600), (9, -540)], 1, 100, 100, [10, 100],
     0, 0),
    ("scale down stabilization, reuse one of obsolete recommendation element",
     [(10, -600), (4, -60), (5, -120), (9, -540)], 100, 3, 5, [10, 4, 5, 3], 0, 180),
    ("scale up stabilization, reuse one of obsolete recommendation element",
     [(10, -6000), (6, -60), (5, -120), (9, -180)], 1, 100, 5, [100, 6, 5, 9], 300, 0),
])
def test_stabilisation_with_behaviour(name, recs, current, desired, expected, stored, up_s, down_s):
    # TestNormalizeDesiredReplicasWithBehavior
    hpa = HorizontalAutoscaler(1, 1000, Behavior(Rules((), "Max", up_s), Rules((), "Max", down_s)),
                               recommendations=[(r, NOW + t) for r, t in recs])
    assert hpa.stabilize_with_behavior(NOW, current, desired) == expected
    assert [r for r, _ in hpa.recommendations] == stored


@pytest.mark.parametrize("name, recs, desired, expected, log_length", [
    ("empty log", [], 5, 5, 1),
    ("stabilize", [(4, -120), (5, -60)], 3, 5, 3),
    ("no stabilize", [(1, -120), (2, -60)], 3, 3, 3),
    ("no stabilize - old recommendations", [(10, -600), (9, -540)], 3, 3, 2),
    ("stabilize - old recommendations", [(10, -600), (4, -60), (5, -120), (9, -540)], 3, 5, 4),
])
def test_stabilisation_without_behaviour(name, recs, desired, expected, log_length):
    # TestNormalizeDesiredReplicas (downscale window of 5 minutes)
    hpa = HorizontalAutoscaler(1, 1000, None, recommendations=[(r, NOW + t) for r, t in recs])
    assert hpa.stabilize(NOW, desired) == expected
    assert len(hpa.recommendations) == log_length


@pytest.mark.parametrize("name, previous, expected_change, stored, outdated, rules_", [
    ("empty entries with two-policy-behavior", [], 0, [5], [False], rules(10, 60, 100, 60)),
    ("one outdated entry to be replaced with behavior", [(7, -61)], 0, [5], [False], rules(10, 60, 100, 60)),
    ("one actual entry to be not touched with behavior", [(7, -58)], 7, [7, 5], [False, False],
     rules(10, 60, 100, 60)),
    ("two entries, one of them to be replaced", [(7, -61), (6, -59)], 6, [5, 6], [False, False], rules(10, 60)),
    ("replace one entry, use policies with different periods", [(8, -29), (6, -59), (7, -61), (9, -61)], 14,
     [8, 6, 7, 5], [False, False, True, False], rules(10, 60, 100, 30)),
    ("two entries, both actual", [(7, -58), (6, -59)], 13, [7, 6, 5], [False, False, False],
     rules(10, 120, 100, 30)),
])
def test_scale_events_are_stored_and_reused(name, previous, expected_change, stored, outdated, rules_):
    # TestStoreScaleEvents, in both directions
    for direction in ("up", "down"):
        events = [ScaleEvent(c, NOW + t) for c, t in previous]
        behavior = Behavior(rules_, rules_)
        hpa = HorizontalAutoscaler(1, 1000, behavior, **{f"{direction}_events": events})
        assert change_in_period(60, events, NOW) == expected_change
        hpa.store_event(NOW, 10, 15 if direction == "up" else 5)
        kept = hpa.up_events if direction == "up" else hpa.down_events
        assert [e.change for e in kept] == stored
        assert [e.outdated for e in kept] == outdated


# -- a whole sync -------------------------------------------------------------------------

def test_the_largest_metric_wins_and_tolerance_holds():
    hpa = HorizontalAutoscaler(1, 10, None)
    decision = hpa.reconcile(15, 3, [Proposal("cpu", 40, 70, 2), Proposal("queue", 20, 10, 6)])
    assert (decision.metric_desired, decision.desired, decision.driver) == (6, 6, "queue")
    assert pod_metric_replicas(6, [PodSample(75.0)] * 6, 70)[0] == 6  # 75 / 70 = 1.07: within 0.1


def test_a_scale_down_waits_for_its_window():
    hpa = HorizontalAutoscaler(1, 10, Behavior(Rules(()), Rules((), "Max", 60)))
    assert hpa.reconcile(0, 5, [Proposal("cpu", 100, 50, 10)]).desired == 10
    for t in (15, 30, 45):
        assert hpa.reconcile(t, 10, [Proposal("cpu", 10, 50, 2)]).desired == 10  # held by the 0 s recommendation
    assert hpa.reconcile(60, 10, [Proposal("cpu", 10, 50, 2)]).desired == 2


# -- the chapter's tables -------------------------------------------------------------------

def test_every_row_of_the_burst_table_is_checked():
    rows = burst_rows()
    assert len(rows) == len(BURST_ROWS)
    by_clock = {r["clock"]: r for r in rows}
    assert by_clock["09:00:00"]["differs"] is False
    assert by_clock["09:15:00"]["formula_replicas"] == 4  # ceil(3 x 85 / 70), not the table's 6
    assert by_clock["09:30:00"]["code"] == "within_tolerance"  # 75 / 70 = 1.07
    assert by_clock["10:05:00"]["code"] == "scale_down_rate"  # 12 -> 6 in one step is not allowed
    assert by_clock["09:15:15"]["hpa_ready"] == 3  # new pods are still starting 15 s later


def test_every_row_of_the_queue_table_is_checked():
    rows = queue_rows()
    assert len(rows) == len(QUEUE_ROWS)
    assert [r["formula_replicas"] for r in rows] == [5, 15, 30, 5, 3, 3]
    assert [r["differs"] for r in rows] == [True, True, True, False, True, False]
    assert rows[1]["as_written_replicas"] == 50  # a Pods metric of the global length runs away to maxReplicas
