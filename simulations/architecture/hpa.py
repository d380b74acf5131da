"""A horizontal autoscaler that follows the Kubernetes HPA algorithm (autoscaling/v2).

Written from the controller's documented behaviour and checked against the worked
cases of its own tests (``tests/simulations/test_hpa.py``):

1. **Per metric**, the replica calculator: ``desired = ceil(current x value / target)``,
   computed on the *ready* pods; if the ratio ``value / target`` is within the
   tolerance (0.1) of 1 the answer is the current count.  Pods without a metric
   count as 100 % of the target on a scale-down and 0 % on a scale-up; for CPU,
   pods not yet ready are left out, and count as 0 % on a scale-up.  If filling
   in those pods would flip the direction or land within the tolerance, nothing
   changes.  Resource utilisation is an integer percentage (truncated) of the pods'
   requests; per-pod averages are integer milli-units, as the metrics APIs give them.
2. **Largest wins** across metrics.
3. **Stabilisation**: the recommendation is held between the lowest of the
   recommendations in the scale-up window and the highest in the scale-down window
   (300 s unless set), starting from the current count.
4. **Rate policies**: a scale-up may not pass the largest (``selectPolicy: Max``)
   or smallest (``Min``) of the policies' limits, each measured from the replica
   count at the start of its period; a scale-down likewise (``Disabled``: no change).
5. **min/max replicas** bound the result.

Time is passed in (``now_s``), so the autoscaler runs on a simulation's virtual
clock; "within a window" means strictly after ``now - window``, as in Go's
``time.After``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

TOLERANCE = 0.1
SYNC_PERIOD_S = 15.0
DEFAULT_SCALE_DOWN_WINDOW_S = 300  # the controller's --horizontal-pod-autoscaler-downscale-stabilization
# Without a behaviour section the controller caps one step at max(2 x current, 4).
SCALE_UP_LIMIT_FACTOR = 2.0
SCALE_UP_LIMIT_MINIMUM = 4.0
SELECT_POLICIES = ("Max", "Min", "Disabled")


# -- the replica calculator ---------------------------------------------------------


@dataclass(frozen=True)
class PodSample:
    """One pod as the calculator sees it.

    ``value`` is its metric (None: no metric reported); ``request`` its resource
    request (resource metrics only); ``ready`` its readiness; ``gone`` marks a
    failed, pending or deleting pod, which is left out altogether.
    """

    value: float | None
    request: float = 1.0
    ready: bool = True
    gone: bool = False


def _direction_kept(ratio: float, new_ratio: float, tolerance: float) -> bool:
    if abs(1.0 - new_ratio) <= tolerance:
        return False
    return not ((ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio))


def pod_metric_replicas(current: int, pods: Sequence[PodSample], target: float, *,
                        resource: bool = False, tolerance: float = TOLERANCE) -> tuple[int, float]:
    """Replicas wanted for one per-pod metric, and the value the calculator read.

    ``resource=True``: ``value`` and ``request`` are resource amounts and ``target``
    a utilisation percentage (CPU, memory); otherwise ``value`` is a per-pod
    average value (milli-units) and ``target`` its target.  Readiness only
    matters for CPU (``resource=True``), as in Kubernetes.
    """
    metrics: dict[int, float] = {}
    requests: dict[int, float] = {}
    ready = 0
    unready: list[int] = []
    missing: list[int] = []
    for index, pod in enumerate(pods):
        if pod.gone:
            continue
        if pod.value is None:
            missing.append(index)
            requests[index] = pod.request
            continue
        if resource and not pod.ready:
            unready.append(index)
            requests[index] = pod.request
            continue
        metrics[index] = pod.value
        requests[index] = pod.request
        ready += 1
    if not metrics:
        raise ValueError("no ready pod reports this metric")

    def ratio_of(values: dict[int, float]) -> tuple[float, float]:
        if resource:
            utilization = math.floor(sum(values.values()) * 100 / sum(requests[i] for i in values))
            return utilization / target, utilization
        average = math.floor(sum(values.values()) / len(values))
        return average / target, average

    ratio, reading = ratio_of(metrics)
    rebalance = bool(unready) and ratio > 1.0
    if not rebalance and not missing:
        if abs(1.0 - ratio) <= tolerance:
            return current, reading
        return math.ceil(ratio * ready), reading
    filled = dict(metrics)
    for index in missing:
        if ratio < 1.0:
            filled[index] = requests[index] if resource else target  # as if at 100 % of the target
        else:
            filled[index] = 0.0
    if rebalance:
        for index in unready:
            filled[index] = 0.0
    new_ratio, _ = ratio_of(filled)
    if not _direction_kept(ratio, new_ratio, tolerance):
        return current, reading
    replicas = math.ceil(new_ratio * len(filled))
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return current, reading
    return replicas, reading


def external_average_replicas(status_replicas: int, total: float, target_per_pod: float, *,
                              tolerance: float = TOLERANCE) -> tuple[int, float]:
    """Replicas wanted for an External (or Object) metric with an ``AverageValue`` target.

    The metric is one number for the whole deployment (a queue length): the ratio
    is ``total / (target x replicas)``, and past the tolerance the answer is
    ``ceil(total / target)``.  Returns the per-pod value the HPA reports too.
    """
    replicas = status_replicas
    ratio = total / (target_per_pod * status_replicas)
    if abs(1.0 - ratio) > tolerance:
        replicas = math.ceil(total / target_per_pod)
    return replicas, math.ceil(total / status_replicas)


def external_value_replicas(current: int, ready_pods: int, value: float, target: float, *,
                            tolerance: float = TOLERANCE) -> int:
    """Replicas wanted for an External metric with a ``Value`` target (scaled by the ready pods)."""
    ratio = value / target
    if current == 0:
        return math.ceil(ratio)
    if abs(1.0 - ratio) <= tolerance:
        return current
    return math.ceil(ratio * ready_pods)


# -- behaviour: policies, stabilisation ----------------------------------------------


@dataclass(frozen=True)
class Policy:
    kind: str  # "Pods" or "Percent"
    value: int
    period_s: int


@dataclass(frozen=True)
class Rules:
    """One direction of ``spec.behavior``; ``stabilization_s`` None means the default."""

    policies: tuple[Policy, ...]
    select: str = "Max"
    stabilization_s: int | None = None

    def longest_period(self) -> int:
        return max((p.period_s for p in self.policies), default=0)


def default_scale_up(rules: Rules | None = None) -> Rules:
    """Kubernetes' defaults for a scale-up section: no window; 4 pods or 100 % per 15 s, Max."""
    rules = rules or Rules(())
    return Rules(rules.policies or (Policy("Pods", 4, 15), Policy("Percent", 100, 15)),
                 rules.select or "Max", 0 if rules.stabilization_s is None else rules.stabilization_s)


def default_scale_down(rules: Rules | None = None,
                       window_s: int = DEFAULT_SCALE_DOWN_WINDOW_S) -> Rules:
    """Kubernetes' defaults for a scale-down section: the controller's window; 100 % per 15 s."""
    rules = rules or Rules(())
    return Rules(rules.policies or (Policy("Percent", 100, 15),), rules.select or "Max",
                 window_s if rules.stabilization_s is None else rules.stabilization_s)


@dataclass(frozen=True)
class Behavior:
    scale_up: Rules
    scale_down: Rules


@dataclass
class ScaleEvent:
    change: int  # replicas added (scale-up list) or removed (scale-down list)
    t_s: float
    outdated: bool = False


def change_in_period(period_s: float, events: Sequence[ScaleEvent], now_s: float) -> int:
    """Replicas changed by events strictly inside the last ``period_s`` seconds."""
    cutoff = now_s - period_s
    return sum(e.change for e in events if e.t_s > cutoff)


def scale_up_limit(current: int, up_events: Sequence[ScaleEvent], down_events: Sequence[ScaleEvent],
                   rules: Rules, now_s: float) -> int:
    """The most replicas the scale-up policies allow now."""
    if rules.select == "Disabled":
        return current
    pick, result = (min, math.inf) if rules.select == "Min" else (max, -math.inf)
    for policy in rules.policies:
        start = (current - change_in_period(policy.period_s, up_events, now_s)
                 + change_in_period(policy.period_s, down_events, now_s))
        if policy.kind == "Pods":
            proposed = start + policy.value
        else:  # rounded up, or a small percentage of a few pods would never add one
            proposed = math.ceil(start * (1 + policy.value / 100))
        result = pick(result, proposed)
    return int(result)


def scale_down_limit(current: int, up_events: Sequence[ScaleEvent], down_events: Sequence[ScaleEvent],
                     rules: Rules, now_s: float) -> int:
    """The fewest replicas the scale-down policies allow now."""
    if rules.select == "Disabled":
        return current
    # Min means the smallest change, that is the largest replica count.
    pick, result = (max, -math.inf) if rules.select == "Min" else (min, math.inf)
    for policy in rules.policies:
        start = (current - change_in_period(policy.period_s, up_events, now_s)
                 + change_in_period(policy.period_s, down_events, now_s))
        if policy.kind == "Pods":
            proposed = start - policy.value
        else:  # truncated toward zero, as Go's int32() does
            proposed = int(start * (1 - policy.value / 100))
        result = pick(result, proposed)
    return int(result)


@dataclass(frozen=True)
class Proposal:
    """One metric's evaluation: what it read, its target and the replicas it asks for."""

    metric: str
    value: float
    target: float
    replicas: int


@dataclass(frozen=True)
class Decision:
    t_s: float
    current: int
    proposals: tuple[Proposal, ...]
    metric_desired: int  # the largest proposal
    stabilized: int  # after the stabilisation windows
    desired: int  # after policies and min/max: what the deployment is set to
    reason: str  # DesiredWithinRange, ScaleUpLimit, ScaleDownLimit, TooManyReplicas, TooFewReplicas...
    driver: str  # the metric whose proposal won ("" when none)


@dataclass
class HorizontalAutoscaler:
    """One HPA object: its limits, its behaviour, and the history the controller keeps for it."""

    min_replicas: int
    max_replicas: int
    behavior: Behavior | None = None
    downscale_window_s: int = DEFAULT_SCALE_DOWN_WINDOW_S
    recommendations: list[tuple[int, float]] = field(default_factory=list)
    up_events: list[ScaleEvent] = field(default_factory=list)
    down_events: list[ScaleEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.behavior is not None:
            self.behavior = Behavior(default_scale_up(self.behavior.scale_up),
                                     default_scale_down(self.behavior.scale_down, self.downscale_window_s))

    def reconcile(self, now_s: float, current: int, proposals: Sequence[Proposal]) -> Decision:
        """One sync of the controller: the replica count the deployment should have."""
        if current > self.max_replicas:
            return self._decided(now_s, current, proposals, self.max_replicas, self.max_replicas,
                                 self.max_replicas, "TooManyReplicas", "")
        if current < self.min_replicas:
            return self._decided(now_s, current, proposals, self.min_replicas, self.min_replicas,
                                 self.min_replicas, "TooFewReplicas", "")
        if not proposals:
            return Decision(now_s, current, (), current, current, current, "NoMetrics", "")
        winner = proposals[0]
        for proposal in proposals[1:]:
            if proposal.replicas > winner.replicas:
                winner = proposal
        metric_desired = winner.replicas
        if self.behavior is None:
            stabilized = self.stabilize(now_s, metric_desired)
            desired, reason = self.limit_without_behavior(current, stabilized)
        else:
            stabilized = self.stabilize_with_behavior(now_s, current, metric_desired)
            desired, reason = self.limit_with_behavior(now_s, current, stabilized)
        return self._decided(now_s, current, proposals, metric_desired, stabilized, desired, reason,
                             winner.metric)

    def _decided(self, now_s: float, current: int, proposals: Sequence[Proposal], metric_desired: int,
                 stabilized: int, desired: int, reason: str, driver: str) -> Decision:
        if desired != current:
            self.store_event(now_s, current, desired)
        return Decision(now_s, current, tuple(proposals), metric_desired, stabilized, desired, reason, driver)

    # -- stabilisation

    def stabilize(self, now_s: float, desired: int) -> int:
        """Without a behaviour section: the highest recommendation of the downscale window."""
        cutoff = now_s - self.downscale_window_s
        highest = desired
        reuse = None
        for index, (replicas, t_s) in enumerate(self.recommendations):
            if t_s > cutoff:
                highest = max(highest, replicas)
            else:
                reuse = index
        self._record(reuse, desired, now_s)
        return highest

    def stabilize_with_behavior(self, now_s: float, current: int, desired: int) -> int:
        """Hold the recommendation between the scale-up window's lowest and the scale-down window's highest."""
        assert self.behavior is not None
        up_cutoff = now_s - self.behavior.scale_up.stabilization_s
        down_cutoff = now_s - self.behavior.scale_down.stabilization_s
        up, down = desired, desired
        reuse = None
        for index, (replicas, t_s) in enumerate(self.recommendations):
            if t_s > up_cutoff:
                up = min(up, replicas)
            if t_s > down_cutoff:
                down = max(down, replicas)
            if t_s < up_cutoff and t_s < down_cutoff:
                reuse = index
        recommendation = current
        if recommendation < up:
            recommendation = up
        if recommendation > down:
            recommendation = down
        self._record(reuse, desired, now_s)
        return recommendation

    def _record(self, reuse: int | None, desired: int, now_s: float) -> None:
        if reuse is None:
            self.recommendations.append((desired, now_s))
        else:  # the controller reuses an obsolete slot rather than growing the list
            self.recommendations[reuse] = (desired, now_s)

    # -- rate limits and bounds

    def limit_without_behavior(self, current: int, desired: int) -> tuple[int, str]:
        up_limit = int(max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM))
        if self.max_replicas > up_limit:
            maximum, reason = up_limit, "ScaleUpLimit"
        else:
            maximum, reason = self.max_replicas, "TooManyReplicas"
        if desired < self.min_replicas:
            return self.min_replicas, "TooFewReplicas"
        if desired > maximum:
            return maximum, reason
        return desired, "DesiredWithinRange"

    def limit_with_behavior(self, now_s: float, current: int, desired: int) -> tuple[int, str]:
        assert self.behavior is not None
        if desired > current:
            limit = max(scale_up_limit(current, self.up_events, self.down_events,
                                       self.behavior.scale_up, now_s), current)
            if self.max_replicas > limit:
                maximum, reason = limit, "ScaleUpLimit"
            else:
                maximum, reason = self.max_replicas, "TooManyReplicas"
            if desired > maximum:
                return maximum, reason
        elif desired < current:
            limit = min(scale_down_limit(current, self.up_events, self.down_events,
                                         self.behavior.scale_down, now_s), current)
            if self.min_replicas < limit:
                minimum, reason = limit, "ScaleDownLimit"
            else:
                minimum, reason = self.min_replicas, "TooFewReplicas"
            if desired < minimum:
                return minimum, reason
        return desired, "DesiredWithinRange"

    def store_event(self, now_s: float, previous: int, new: int) -> None:
        """Remember a scale change for the policies' periods (only with a behaviour section)."""
        if self.behavior is None:
            return
        if new > previous:
            events, rules, change = self.up_events, self.behavior.scale_up, new - previous
        else:
            events, rules, change = self.down_events, self.behavior.scale_down, previous - new
        cutoff = now_s - rules.longest_period()
        reuse = None
        for index, event in enumerate(events):
            if event.t_s < cutoff:
                event.outdated = True
                reuse = index
        if reuse is None:
            events.append(ScaleEvent(change, now_s))
        else:
            events[reuse] = ScaleEvent(change, now_s)
