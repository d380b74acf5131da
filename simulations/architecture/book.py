"""The chapter's own scaling tables, code and numbers, checked against real code.

* 32.4's two tables are replayed through :mod:`.hpa` with the chapter's manifest
  (min 3, max 50, CPU 70 %, queue 10 per pod; scale up by 100 % or 5 pods per 15 s,
  Max; scale down after a 300 s window by 50 % or 2 pods per 60 s, Min), row by row
  on the chapter's own numbers, and, for the burst, as a timeline whose CPU follows
  its QPS column (calibrated on its first row: 50 QPS at 30 % on 3 replicas).
* 32.2's limiters: its sliding-window script stores each request under its own
  timestamp, so two requests at the same instant count once; each app server
  passes its own clock; its token buckets live in each process; its retry-after is
  truncated to whole seconds.  Each flaw is run here, beside the fix.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import redis

from ..ratelimit import SlidingWindowLimiter, TokenBucketLimiter, hit_many
from .gateway import max_in_any_window
from .hpa import (SYNC_PERIOD_S, Behavior, HorizontalAutoscaler, PodSample, Policy, Proposal, Rules,
                  external_average_replicas, pod_metric_replicas)

# -- the chapter's manifest -----------------------------------------------------------

BOOK_MIN, BOOK_MAX = 3, 50
BOOK_CPU_TARGET = 70
BOOK_QUEUE_TARGET = 10
BOOK_LATENCY_TARGET_MS = 1000
BOOK_POD_STARTUP_S = 30  # image already on the node, readiness probe after 5 s and every 5 s
CPU_REQUEST_M = 500.0
CPU_LIMIT_PCT = 400  # limits 2000m over requests 500m: utilisation can reach 400 %


def book_behavior() -> Behavior:
    return Behavior(
        scale_up=Rules((Policy("Percent", 100, 15), Policy("Pods", 5, 15)), "Max", 0),
        scale_down=Rules((Policy("Percent", 50, 60), Policy("Pods", 2, 60)), "Min", 300),
    )


@dataclass(frozen=True)
class BurstRow:
    clock: str
    t_s: int
    qps: int
    cpu: int
    replicas: int
    action: str


# Scenario 1 as the chapter prints it (09:00 is t = 0).
BURST_ROWS = (
    BurstRow("09:00:00", 0, 50, 30, 3, "stable"),
    BurstRow("09:15:00", 900, 500, 85, 3, "scale up"),
    BurstRow("09:15:15", 915, 500, 45, 6, "scaled (doubled)"),
    BurstRow("09:15:30", 930, 500, 45, 6, "stable"),
    BurstRow("09:30:00", 1800, 1000, 75, 6, "scale up again"),
    BurstRow("09:30:15", 1815, 1000, 40, 12, "scaled"),
    BurstRow("10:00:00", 3600, 100, 15, 12, "traffic falls"),
    BurstRow("10:05:00", 3900, 100, 15, 6, "scale down (5-minute window)"),
    BurstRow("10:10:00", 4200, 100, 30, 3, "scale down again"),
)
CPU_PER_QPS_PCT = BURST_ROWS[0].cpu * BURST_ROWS[0].replicas / BURST_ROWS[0].qps  # % of one pod per QPS


@dataclass(frozen=True)
class QueueRow:
    queue: int
    replicas: int
    action: str


# Scenario 2 as the chapter prints it (no times given).
QUEUE_ROWS = (
    QueueRow(50, 3, "normal"),
    QueueRow(150, 5, "scale up (average > 10)"),
    QueueRow(300, 10, "keep scaling"),
    QueueRow(50, 10, "queue drained"),
    QueueRow(20, 5, "scale down"),
    QueueRow(10, 3, "back to normal"),
)


def qps_at(t_s: float) -> int:
    level = BURST_ROWS[0].qps
    for row in BURST_ROWS:
        if t_s >= row.t_s:
            level = row.qps
    return level


def replay_burst(end_s: int = 4500) -> list[dict]:
    """The chapter's morning through the HPA: CPU follows QPS over the ready pods, every 15 s.

    Returns one sample per second: time, QPS, CPU seen, replicas set, pods ready.
    """
    hpa = HorizontalAutoscaler(BOOK_MIN, BOOK_MAX, book_behavior())
    ready_at = [0.0] * BOOK_MIN  # one start time per pod
    spec = BOOK_MIN
    cpu = 0
    out = []
    for t in range(end_s + 1):
        ready = sum(1 for r in ready_at if r <= t)
        if t and t % SYNC_PERIOD_S == 0:
            per_pod = min(CPU_LIMIT_PCT, CPU_PER_QPS_PCT * qps_at(t) / max(1, ready))
            samples = [PodSample(per_pod / 100 * CPU_REQUEST_M, CPU_REQUEST_M)] * ready
            samples += [PodSample(0.0, CPU_REQUEST_M, ready=False)] * (len(ready_at) - ready)
            replicas, cpu = pod_metric_replicas(spec, samples, BOOK_CPU_TARGET, resource=True)
            decision = hpa.reconcile(t, spec, [Proposal("cpu", cpu, BOOK_CPU_TARGET, replicas)])
            if decision.desired > spec:
                ready_at += [t + BOOK_POD_STARTUP_S] * (decision.desired - spec)
            elif decision.desired < spec:
                ready_at.sort()
                ready_at = ready_at[:decision.desired]  # unready (newest) pods go first
            spec = decision.desired
        out.append({"t_s": t, "qps": qps_at(t), "cpu": cpu, "replicas": spec, "ready": ready})
    return out


def cpu_formula(replicas: int, cpu: int) -> int:
    """What the replica calculator answers for the chapter's own CPU figure on its own replicas."""
    samples = [PodSample(cpu / 100 * CPU_REQUEST_M, CPU_REQUEST_M)] * replicas
    return pod_metric_replicas(replicas, samples, BOOK_CPU_TARGET, resource=True)[0]


def burst_rows() -> list[dict]:
    """Each row of scenario 1 beside the formula on its own numbers and the replayed timeline."""
    timeline = replay_burst()
    rows = []
    for index, row in enumerate(BURST_ROWS):
        formula = min(BOOK_MAX, max(BOOK_MIN, cpu_formula(row.replicas, row.cpu)))
        at = timeline[row.t_s]
        code = _burst_code(index, formula, at["replicas"])
        rows.append({"clock": row.clock, "qps": row.qps, "cpu": row.cpu, "book_replicas": row.replicas,
                     "action": row.action, "formula_replicas": formula,
                     "hpa_replicas": at["replicas"], "hpa_ready": at["ready"], "hpa_cpu": at["cpu"],
                     "implied_cpu": round(CPU_PER_QPS_PCT * row.qps / row.replicas),
                     "startup_s": BOOK_POD_STARTUP_S, "differs": code is not None, "code": code})
    return rows


def _burst_code(index: int, formula: int, replayed: int) -> str | None:
    """Which sentence explains the row, or None when the row is what the HPA does."""
    row = BURST_ROWS[index]
    previous = BURST_ROWS[index - 1] if index else None
    following = BURST_ROWS[index + 1] if index + 1 < len(BURST_ROWS) else None
    if row.action.startswith("scale up"):
        if abs(1 - row.cpu / BOOK_CPU_TARGET) <= 0.1:
            return "within_tolerance"
        if following and following.replicas != formula:
            return "formula_differs"
    if previous and row.replicas > previous.replicas and row.t_s - previous.t_s < BOOK_POD_STARTUP_S:
        return "not_ready"
    if previous and row.replicas < previous.replicas and replayed > row.replicas:
        return "scale_down_rate"
    if replayed != row.replicas:
        return "replay_differs"
    return None


def queue_rows() -> list[dict]:
    """Each row of scenario 2: the External (AverageValue) formula, and the manifest's Pods metric as written."""
    behavior = book_behavior()
    rows = []
    previous = None
    for row in QUEUE_ROWS:
        formula, per_pod = external_average_replicas(row.replicas, row.queue, BOOK_QUEUE_TARGET)
        formula = min(BOOK_MAX, max(BOOK_MIN, formula))
        # type: Pods with every pod exporting the whole queue's length: the average is the whole length.
        as_written = min(BOOK_MAX, max(BOOK_MIN, math.ceil(row.replicas * row.queue / BOOK_QUEUE_TARGET)))
        step_limit = None
        if previous and row.replicas > previous.replicas:
            step_limit = max(math.ceil(previous.replicas * 2), previous.replicas + 5)
        code = None
        held = previous is not None and formula < previous.replicas == row.replicas  # the scale-down window
        if formula != row.replicas and not held:
            if previous and row.replicas < previous.replicas:
                code = "queue_scale_down_slower"
            elif formula > row.replicas:
                code = "queue_formula_larger"
            else:
                code = "queue_formula_smaller"
        rows.append({"queue": row.queue, "book_replicas": row.replicas, "action": row.action,
                     "per_pod": per_pod, "formula_replicas": formula, "as_written_replicas": as_written,
                     "step_limit": step_limit, "differs": code is not None, "code": code,
                     "scale_down_pods_per_min": behavior.scale_down.policies[1].value})
        previous = row
    return rows


# -- 32.2: the limiters as the chapter writes them --------------------------------------

# The chapter's sliding window, reduced to its flaw: the member is the timestamp itself.
_BOOK_SLIDING = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[1])
  redis.call('EXPIRE', KEYS[1], 600)
  return 1
end
return 0
"""


def same_timestamp(client: redis.Redis, namespace: str, limit: int, window_s: float) -> dict:
    """``limit + 2`` requests at one instant: the chapter's script against ours."""
    requests = limit + 2
    book_key = f"llmops:limit:{namespace}:book-sliding"
    script = client.register_script(_BOOK_SLIDING)
    pipe = client.pipeline(transaction=False)
    for _ in range(requests):
        script(keys=[book_key], args=[repr(100.0), repr(window_s), limit], client=pipe)
    book = sum(int(r) for r in pipe.execute())
    ours = SlidingWindowLimiter(client, f"llmops:limit:{namespace}:ours-sliding", limit, window_s)
    admitted = sum(d.allowed for d in hit_many([(ours, 100.0)] * requests))
    client.delete(book_key, *ours.keys())
    return {"requests": requests, "limit": limit, "book_admitted": book, "ours_admitted": admitted}


def clock_skew(client: redis.Redis, namespace: str, limit: int, window_s: float,
               skew_s: float) -> dict:
    """Two app servers whose clocks differ by ``skew_s``, one user sending steadily through both.

    Each server passing its own clock (the chapter) lets more than the limit through in
    some window; one clock for all (Redis's ``TIME``, here the true time) never does.
    """
    times = [i * window_s / limit / 2 for i in range(limit * 6)]  # twice the allowed rate
    offsets = [0.0 if i % 2 else -skew_s for i in range(len(times))]  # the second server lags
    own = SlidingWindowLimiter(client, f"llmops:limit:{namespace}:skew-own", limit, window_s)
    shared = SlidingWindowLimiter(client, f"llmops:limit:{namespace}:skew-shared", limit, window_s)
    own_answers = hit_many([(own, t + o) for t, o in zip(times, offsets)])
    shared_answers = hit_many([(shared, t) for t in times])
    most_own = max_in_any_window([t for t, d in zip(times, own_answers) if d.allowed], window_s)
    most_shared = max_in_any_window([t for t, d in zip(times, shared_answers) if d.allowed], window_s)
    client.delete(*own.keys(), *shared.keys())
    return {"limit": limit, "skew_s": skew_s, "own_clocks_max": most_own, "shared_clock_max": most_shared}


class InProcessBucket:
    """The chapter's token bucket as it runs: plain attributes in one process (time passed in)."""

    def __init__(self, rate_per_s: float, capacity: int) -> None:
        self.rate, self.capacity = rate_per_s, capacity
        self.tokens, self.last = float(capacity), 0.0

    def consume(self, now_s: float, tokens: int = 1) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now_s - self.last) * self.rate)
        self.last = now_s
        if self.tokens >= tokens:
            self.tokens -= tokens
            return True
        return False


def in_process_buckets(client: redis.Redis, namespace: str, instances: int, capacity: int,
                       rate_per_s: float, seconds: float) -> dict:
    """One user's burst, spread by a load balancer over ``instances`` processes for ``seconds``.

    Each process keeps its own bucket (the chapter's ``defaultdict``); the Redis bucket is
    one for all.  Returns how many requests each design let through.
    """
    times = [i * seconds / (capacity * instances * 4) for i in range(capacity * instances * 4)]
    buckets = [InProcessBucket(rate_per_s, capacity) for _ in range(instances)]
    per_process = sum(buckets[i % instances].consume(t) for i, t in enumerate(times))
    shared = TokenBucketLimiter(client, f"llmops:limit:{namespace}:shared-bucket", rate_per_s, capacity)
    shared_total = sum(d.allowed for d in hit_many([(shared, t) for t in times]))
    client.delete(*shared.keys())
    return {"instances": instances, "per_process_total": per_process, "shared_total": shared_total,
            "capacity": capacity, "rate_per_s": rate_per_s, "requests": len(times)}


def retry_after(tokens: float, rate_per_s: float) -> dict:
    """The chapter's ``int((1 - tokens) / rate)`` against the real wait, rounded up for the header."""
    wait = (1 - tokens) / rate_per_s
    return {"tokens": tokens, "rate_per_s": rate_per_s, "book_s": int(wait), "wait_s": wait,
            "header": str(max(1, math.ceil(wait)))}


def differing(rows: Sequence[dict]) -> int:
    return sum(1 for r in rows if r["differs"])
