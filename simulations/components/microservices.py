"""The architecture lab (sections 32.1, 32.2 and 32.4): gateway, services, queue, autoscaler.

One run sends seeded traffic through per-tier rate limits on the real Redis, the
service graph (microservices or one monolith), a priority queue on the real Redis
with worker pods that acknowledge early or late, and an autoscaler that follows the
Kubernetes HPA algorithm.  See :mod:`simulations.architecture` for each part.

The chapter notes (``book_*``) compare the chapter's tables and code with what ran.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import redis_server
from ..architecture import book, cluster, gateway, services, traffic
from ..architecture.cluster import Config, Simulation
from ..architecture.hpa import SELECT_POLICIES, Behavior, HorizontalAutoscaler, Policy, Rules, pod_metric_replicas
from ..architecture.queue import PRIORITIES, ReliableQueue, celery_settings
from ..component import CodeRef, Component, Note, Result, note
from ..params import Param, ParamSpec, Value
from ..profiles import PROFILES
from ..text import gettext_noop

MAX_REQUESTS = 600  # arrivals one run may simulate; longer timelines are shortened, and say so
FRAMES = 60
ROUTE_NAMES = traffic.ROUTES


def _p(name, default, lo, hi, step, label, unit="", help=""):
    return Param(name, default, min=lo, max=hi, step=step, label=label, unit=unit, help=help)


SPEC = ParamSpec(
    params=(
        Param("shape", "burst", choices=traffic.SHAPES, label=gettext_noop("Traffic shape"),
              choice_labels={"steady": gettext_noop("steady"), "burst": gettext_noop("burst (5× for a fifth of the run)"),
                             "spike": gettext_noop("the chapter's morning spike"),
                             "edge": gettext_noop("window edge (one user's double burst)")}),
        _p("duration_s", 240, 60, 1800, 30, gettext_noop("Timeline"), gettext_noop("s"),
           gettext_noop("Simulated seconds of traffic.")),
        _p("rate_free", 0.12, 0.0, 5.0, 0.01, gettext_noop("Free tier rate"), gettext_noop("req/s")),
        _p("rate_pro", 0.05, 0.0, 5.0, 0.01, gettext_noop("Pro tier rate"), gettext_noop("req/s")),
        _p("rate_enterprise", 0.012, 0.0, 5.0, 0.01, gettext_noop("Enterprise tier rate"), gettext_noop("req/s")),
        Param("limiter", "sliding_window", choices=gateway.ALGORITHMS, label=gettext_noop("Gateway limiter"),
              help=gettext_noop("Which algorithm the gateway uses; the other two run beside it for comparison."),
              choice_labels={"token_bucket": gettext_noop("token bucket"),
                             "sliding_window": gettext_noop("sliding window"),
                             "fixed_window": gettext_noop("fixed window")}),
        _p("limit_free", 10, 1, 1000, 1, gettext_noop("Free limit per user"), gettext_noop("requests per window")),
        _p("limit_pro", 30, 1, 1000, 1, gettext_noop("Pro limit per user"), gettext_noop("requests per window")),
        _p("limit_enterprise", 100, 1, 5000, 1, gettext_noop("Enterprise limit per user"),
           gettext_noop("requests per window")),
        _p("window_s", 60, 1, 600, 1, gettext_noop("Limit window"), gettext_noop("s")),
        Param("architecture", "microservices", choices=("microservices", services.MONOLITH),
              label=gettext_noop("Architecture"),
              choice_labels={"microservices": gettext_noop("microservices"), "monolith": gettext_noop("monolith")}),
        Param("failed_service", "none", choices=("none", *services.SERVICES), label=gettext_noop("Failed service"),
              help=gettext_noop("A service that goes down for a while."),
              choice_labels={"none": gettext_noop("none"), "llm": gettext_noop("LLM orchestrator")}),
        _p("fail_at_s", 120.0, 0.0, 1800.0, 5.0, gettext_noop("Failure starts at"), gettext_noop("s")),
        _p("fail_for_s", 60.0, 5.0, 1800.0, 5.0, gettext_noop("Failure lasts"), gettext_noop("s")),
        _p("hop_ms", 3.0, 0.0, 50.0, 0.5, gettext_noop("Network hop"), gettext_noop("ms"),
           gettext_noop("Added to every call between services; 0 inside a monolith.")),
        _p("concurrency", 1, 1, 16, 1, gettext_noop("Worker slots per pod"), gettext_noop("tasks")),
        _p("prefetch_multiplier", 1, 1, 8, 1, gettext_noop("Prefetch multiplier"),
           help=gettext_noop("Tasks a pod reserves per slot (Celery's worker_prefetch_multiplier).")),
        Param("acks_late", True, label=gettext_noop("Acknowledge late"),
              help=gettext_noop("Acknowledge a task after it ran (acks_late), not when it starts.")),
        _p("visibility_timeout_s", 300.0, 5.0, 3600.0, 5.0, gettext_noop("Visibility timeout"), gettext_noop("s"),
           gettext_noop("An unacknowledged task is delivered again after this long.")),
        _p("task_time_limit_s", 120.0, 1.0, 600.0, 1.0, gettext_noop("Task time limit"), gettext_noop("s")),
        _p("max_retries", 3, 0, 10, 1, gettext_noop("Retries"), gettext_noop("retries")),
        _p("retry_backoff_s", 5.0, 0.5, 300.0, 0.5, gettext_noop("First back-off"), gettext_noop("s"),
           gettext_noop("Doubles with each retry.")),
        _p("worker_crash_at_s", 0.0, 0.0, 1800.0, 5.0, gettext_noop("A worker pod crashes at"), gettext_noop("s"),
           gettext_noop("0: no crash.")),
        Param("model", "gpt-4o-mini", choices=tuple(PROFILES), label=gettext_noop("Model")),
        _p("failure_rate", 0.02, 0.0, 0.5, 0.01, gettext_noop("Model failure rate"), gettext_noop("share")),
        _p("min_replicas", 1, 1, 50, 1, gettext_noop("Min replicas")),
        _p("max_replicas", 10, 1, 50, 1, gettext_noop("Max replicas")),
        _p("cpu_target", 70, 0, 400, 5, gettext_noop("CPU target"), gettext_noop("percent of request"), gettext_noop("0: not a metric.")),
        _p("memory_target", 80, 0, 400, 5, gettext_noop("Memory target"), gettext_noop("percent of request"), gettext_noop("0: not a metric.")),
        _p("queue_target", 10, 0, 1000, 1, gettext_noop("Queue length target per pod"), gettext_noop("tasks"),
           gettext_noop("0: not a metric.")),
        _p("latency_target_ms", 0, 0, 60000, 100, gettext_noop("p99 latency target"), gettext_noop("ms"),
           gettext_noop("0: not a metric.")),
        _p("up_window_s", 0, 0, 3600, 15, gettext_noop("Scale-up stabilisation window"), gettext_noop("s")),
        _p("up_percent", 100, 0, 1000, 10, gettext_noop("Scale-up policy: percent"), gettext_noop("percent"), gettext_noop("0: none.")),
        _p("up_pods", 5, 0, 100, 1, gettext_noop("Scale-up policy: pods"), gettext_noop("pods"),
           gettext_noop("0: none.")),
        _p("up_period_s", 15, 1, 1800, 1, gettext_noop("Scale-up policy period"), gettext_noop("s")),
        Param("up_select", "Max", choices=SELECT_POLICIES, label=gettext_noop("Scale-up selectPolicy")),
        _p("down_window_s", 120, 0, 3600, 15, gettext_noop("Scale-down stabilisation window"), gettext_noop("s")),
        _p("down_percent", 50, 0, 100, 10, gettext_noop("Scale-down policy: percent"), gettext_noop("percent"), gettext_noop("0: none.")),
        _p("down_pods", 2, 0, 100, 1, gettext_noop("Scale-down policy: pods"), gettext_noop("pods"),
           gettext_noop("0: none.")),
        _p("down_period_s", 60, 1, 1800, 1, gettext_noop("Scale-down policy period"), gettext_noop("s")),
        Param("down_select", "Min", choices=SELECT_POLICIES, label=gettext_noop("Scale-down selectPolicy")),
        _p("pod_startup_s", 30.0, 0.0, 600.0, 5.0, gettext_noop("Pod start-up"), gettext_noop("s"),
           gettext_noop("From creation until a new pod takes work.")),
    ),
    presets={
        # The manifest of 32.4: 3-50 replicas, four metrics, its behaviour section; the chapter's
        # morning on a small scale (the tables themselves are replayed at full scale).
        "book-32.4-burst": {"shape": "spike", "duration_s": 600, "rate_free": 0.02, "rate_pro": 0.01,
                            "rate_enterprise": 0.005, "min_replicas": 3, "max_replicas": 50,
                            "cpu_target": 70, "memory_target": 80, "queue_target": 10,
                            "latency_target_ms": 1000, "up_window_s": 0, "up_percent": 100, "up_pods": 5,
                            "up_period_s": 15, "up_select": "Max", "down_window_s": 300, "down_percent": 50,
                            "down_pods": 2, "down_period_s": 60, "down_select": "Min",
                            "retry_backoff_s": 60.0, "task_time_limit_s": 300.0},
        "book-32.4-queue": {"shape": "burst", "duration_s": 600, "rate_free": 0.2, "rate_pro": 0.08,
                            "rate_enterprise": 0.02, "min_replicas": 3, "max_replicas": 50,
                            "cpu_target": 70, "memory_target": 80, "queue_target": 10,
                            "latency_target_ms": 1000, "up_window_s": 0, "up_percent": 100, "up_pods": 5,
                            "up_period_s": 15, "up_select": "Max", "down_window_s": 300, "down_percent": 50,
                            "down_pods": 2, "down_period_s": 60, "down_select": "Min",
                            "retry_backoff_s": 60.0, "task_time_limit_s": 300.0},
        "window-edge": {"shape": "edge", "duration_s": 180, "rate_free": 0.02, "rate_pro": 0.01,
                        "rate_enterprise": 0.0, "limiter": "fixed_window", "limit_free": 10, "window_s": 60},
        # Long answers (gpt-4 writes 25 tokens a second), so the crash finds tasks in flight.
        "worker-crash": {"shape": "steady", "duration_s": 240, "rate_free": 0.12, "rate_pro": 0.05,
                         "rate_enterprise": 0.02, "worker_crash_at_s": 60.0, "acks_late": True,
                         "visibility_timeout_s": 30.0, "min_replicas": 2, "concurrency": 2, "model": "gpt-4"},
    },
)


def behavior_of(params: Mapping[str, Value]) -> Behavior:
    def rules(prefix: str) -> Rules:
        policies = []
        if params[f"{prefix}_percent"]:
            policies.append(Policy("Percent", params[f"{prefix}_percent"], params[f"{prefix}_period_s"]))
        if params[f"{prefix}_pods"]:
            policies.append(Policy("Pods", params[f"{prefix}_pods"], params[f"{prefix}_period_s"]))
        return Rules(tuple(policies), params[f"{prefix}_select"], params[f"{prefix}_window_s"])
    return Behavior(rules("up"), rules("down"))


def config_of(params: Mapping[str, Value], duration_s: float) -> Config:
    return Config(
        duration_s=duration_s, architecture=params["architecture"], failed_service=params["failed_service"],
        fail_at_s=params["fail_at_s"], fail_for_s=params["fail_for_s"],
        hop_ms=0.0 if params["architecture"] == services.MONOLITH else params["hop_ms"],
        concurrency=params["concurrency"], prefetch_multiplier=params["prefetch_multiplier"],
        acks_late=params["acks_late"], visibility_timeout_s=params["visibility_timeout_s"],
        task_time_limit_s=params["task_time_limit_s"], max_retries=params["max_retries"],
        retry_backoff_s=params["retry_backoff_s"], worker_crash_at_s=params["worker_crash_at_s"],
        model=params["model"], failure_rate=params["failure_rate"],
        min_replicas=min(params["min_replicas"], params["max_replicas"]), max_replicas=params["max_replicas"],
        cpu_target=params["cpu_target"], memory_target=params["memory_target"],
        queue_target=params["queue_target"], latency_target_ms=params["latency_target_ms"],
        behavior=behavior_of(params), pod_startup_s=params["pod_startup_s"],
    )


def rates_of(params: Mapping[str, Value]) -> dict[str, float]:
    return {tier: params[f"rate_{tier}"] for tier in traffic.TIERS}


def limits_of(params: Mapping[str, Value]) -> dict[str, int]:
    return {tier: params[f"limit_{tier}"] for tier in traffic.TIERS}


def capped_duration(params: Mapping[str, Value]) -> float:
    """The timeline to simulate: as set, or shortened (to whole 15 s syncs) to stay within MAX_REQUESTS."""
    duration = float(params["duration_s"])
    expected = traffic.expected_count(rates_of(params), params["shape"], duration)
    if expected <= MAX_REQUESTS:
        return duration
    return max(60.0, 15.0 * int(duration * MAX_REQUESTS / expected / 15))


def run(params: Mapping[str, Value], seed: int) -> Result:
    duration = capped_duration(params)
    limits, window = limits_of(params), float(params["window_s"])
    arrivals = traffic.generate(rates_of(params), params["shape"], duration, seed, window, params["limit_free"])
    client = redis_server.client()
    namespace = f"run-{uuid.uuid4().hex[:12]}"
    queue = ReliableQueue(client, namespace, params["visibility_timeout_s"])
    keys: set[str] = set()
    try:
        outcomes, keys = gateway.run_all(client, namespace, arrivals, limits, window)
        chosen = outcomes[params["limiter"]]
        admitted = [a for a, d in zip(arrivals, chosen.decisions) if d.allowed]
        sim = cluster.simulate(config_of(params, duration), queue, admitted, seed)
        checks = chapter_checks(params["limit_free"], window)
    finally:
        client.delete(*queue.keys(), *keys) if keys else client.delete(*queue.keys())
        client.close()
    return _result(params, seed, duration, arrivals, outcomes, sim, checks)


@functools.lru_cache(maxsize=64)
def chapter_checks(limit: int, window_s: float) -> dict:
    """The chapter's limiter code against ours, on the real Redis; the same for a limit and window,
    so each process runs them once per pair."""
    client = redis_server.client()
    namespace = f"check-{uuid.uuid4().hex[:12]}"
    try:
        return {"same_timestamp": book.same_timestamp(client, namespace, limit, window_s),
                "clock_skew": book.clock_skew(client, namespace, limit, window_s, window_s / 4),
                "in_process_buckets": book.in_process_buckets(client, namespace, 3, 50, 10.0, 1.0),
                "retry_after": book.retry_after(0.3, 10.0)}
    finally:
        client.close()


# -- what the run measured -------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def _route_metrics(sim: Simulation) -> tuple[dict, dict]:
    availability, latency = {}, {}
    for route in ROUTE_NAMES:
        answered = [a for a in sim.answers if a[1] == route]
        failed = [f for f in sim.failures if f[1] == route]
        total = len(answered) + len(failed)
        degraded = sum(1 for a in answered if a[2] == "degraded")
        availability[route] = len(answered) / total if total else 1.0
        latency[route] = {"p50_s": _percentile([a[3] for a in answered], 50),
                          "p95_s": _percentile([a[3] for a in answered], 95),
                          "answered": len(answered), "failed": len(failed), "degraded": degraded}
    return availability, latency


def _limiter_metrics(outcome: gateway.LimiterOutcome) -> dict:
    refusals = outcome.retry_after_s
    return {"accepted": outcome.accepted, "rejected": outcome.rejected,
            "max_accepted_in_any_window": outcome.max_in_window_by_tier["free"],
            "users_over_limit": outcome.users_over_limit,
            "by_tier": {t: {**outcome.by_tier[t], "max_accepted_in_any_window": outcome.max_in_window_by_tier[t]}
                        for t in traffic.TIERS},
            "retry_after_mean_s": float(np.mean(refusals)) if refusals else 0.0,
            "retry_after_max_s": max(refusals, default=0.0)}


def _series_replicas(sim: Simulation) -> tuple[list, list]:
    """``[t, replicas]`` and ``[t, ready pods]`` at each change (the last value at any one instant)."""
    replicas, ready = [], []
    for t, spec, ready_count in sim.replicas_log:
        for rows, value in ((replicas, spec), (ready, ready_count)):
            if rows and rows[-1][0] == round(t, 3):
                rows[-1][1] = value
            elif not rows or rows[-1][1] != value:
                rows.append([round(t, 3), value])
    return replicas, ready


def _last_per_time(rows: list) -> list:
    out: dict[float, Any] = {}
    for t, v in rows:
        out[t] = v
    return [[t, v] for t, v in out.items()]


def _hpa_rows(sim: Simulation) -> list[dict]:
    rows = []
    for decision in sim.decisions:
        for proposal in decision.proposals:
            rows.append({"t_s": decision.t_s, "metric": proposal.metric, "current_replicas": decision.current,
                         "value": proposal.value, "target": proposal.target, "raw_desired": proposal.replicas,
                         "desired_replicas": decision.desired, "drove": proposal.metric == decision.driver,
                         "reason": decision.reason})
    return rows


def _queue_depth(sim: Simulation, duration: float) -> list:
    """Ready tasks per priority, the last value of each second."""
    out: dict[int, list] = {0: [0, 0, 0, 0]}
    for t, high, normal, low in sim.depth_log:
        second = min(int(t), int(duration))
        out[second] = [second, high, normal, low]
    rows, last = [], [0, 0, 0]
    for second in range(int(duration) + 1):
        if second in out:
            last = out[second][1:]
        rows.append([second, *last])
    step = max(1, len(rows) // 300)
    return rows[::step]


def _frames(params: Mapping[str, Value], sim: Simulation, arrivals: list, decisions: list, duration: float) -> list:
    """What the diagram shows at each step of the timeline."""
    step = max(5.0, 5.0 * round(duration / FRAMES / 5))
    down_window = (params["fail_at_s"], params["fail_at_s"] + params["fail_for_s"])
    down_set = services.down_services(params["failed_service"], params["architecture"])
    frames = []
    depth_iter, depth = 0, (0, 0, 0)
    log = sim.depth_log
    rep_iter, replicas, ready = 0, params["min_replicas"], params["min_replicas"]
    t0 = 0.0
    arrival_index = 0
    while t0 < duration - 1e-9:
        t1 = min(duration, t0 + step)
        edges: dict[str, float] = {}
        rejected = 0
        while arrival_index < len(arrivals) and arrivals[arrival_index].t_s < t1:
            arrival, decision = arrivals[arrival_index], decisions[arrival_index]
            down = down_set if params["failed_service"] != "none" and down_window[0] <= arrival.t_s < down_window[1] else set()
            if not decision.allowed:
                rejected += 1
                edges["client>gateway"] = edges.get("client>gateway", 0) + 1
            else:
                for a, b in services.edges(arrival.route, down):
                    edges[f"{a}>{b}"] = edges.get(f"{a}>{b}", 0) + 1
            arrival_index += 1
        while depth_iter < len(log) and log[depth_iter][0] < t1:
            depth = log[depth_iter][1:]
            depth_iter += 1
        while rep_iter < len(sim.replicas_log) and sim.replicas_log[rep_iter][0] < t1:
            _, replicas, ready = sim.replicas_log[rep_iter]
            rep_iter += 1
        failing = params["failed_service"] != "none" and down_window[0] < t1 and t0 < down_window[1]
        answered = sum(1 for a in sim.answers if t0 <= a[0] < t1)
        failed = sum(1 for f in sim.failures if t0 <= f[0] < t1)
        frames.append({"t_s": t0, "rps": {k: round(v / (t1 - t0), 3) for k, v in edges.items()},
                       "rejected_rps": round(rejected / (t1 - t0), 3),
                       "queue": dict(zip(PRIORITIES, depth)), "replicas": replicas, "ready": ready,
                       "down": sorted(down_set) if failing else [], "answered": answered, "failed": failed})
        t0 = t1
    return frames


def _result(params, seed, duration, arrivals, outcomes, sim: Simulation, checks) -> Result:
    availability, latency = _route_metrics(sim)
    replicas, ready = _series_replicas(sim)
    for rows in (replicas, ready):  # the lines reach the end of the timeline
        if rows and rows[-1][0] < duration:
            rows.append([duration, rows[-1][1]])
    chosen = outcomes[params["limiter"]]
    stats = sim.stats
    pending = stats.enqueued - stats.completed - stats.failed - stats.lost
    hpa_rows = _hpa_rows(sim)
    metrics = {
        "requests": len(arrivals), "duration_s": duration, "requested_duration_s": float(params["duration_s"]),
        "limit_per_window": params["limit_free"],
        "limits_by_tier": limits_of(params), "window_s": params["window_s"],
        "limiters": {name: _limiter_metrics(o) for name, o in outcomes.items()},
        "queue": {"enqueued": stats.enqueued, "completed": stats.completed, "lost": stats.lost,
                  "retried": stats.retried, "failed": stats.failed, "duplicates": stats.duplicates,
                  "timed_out": stats.timed_out, "deliveries": stats.deliveries, "restored": stats.restored,
                  "requeued": stats.requeued, "pending_at_end": pending},
        "availability_by_route": availability,
        "latency_by_route": latency,
        "replicas": {"max": max((r[1] for r in replicas), default=0), "final": replicas[-1][1] if replicas else 0,
                     "decisions": len(sim.decisions)},
        "checks": checks,
        "celery": celery_settings(params["acks_late"], params["prefetch_multiplier"],
                                  params["visibility_timeout_s"], params["task_time_limit_s"]),
    }
    series = {
        "replicas": replicas, "ready_pods": ready, "hpa_decisions": hpa_rows,
        "queue_depth": _queue_depth(sim, duration),
        "frames": _frames(params, sim, arrivals, chosen.decisions, duration),
        "accepted_over_time": _accepted_over_time(arrivals, outcomes, duration, params["window_s"]),
    }
    if SPEC.matches(params, "book-32.4-burst"):
        series["book_burst"] = book.burst_rows()
    if SPEC.matches(params, "book-32.4-queue"):
        series["book_queue"] = book.queue_rows()
    return Result(component="microservices", params=dict(params), seed=seed, metrics=metrics, series=series,
                  trace=sim.events[:20], notes=_notes(params, metrics, series, sim))


def _accepted_over_time(arrivals, outcomes, duration: float, window_s: int) -> list:
    """Admitted requests per limiter in each window-long bucket."""
    buckets = max(1, int(np.ceil(duration / window_s)))
    rows = [[i * window_s, 0, 0, 0, 0] for i in range(buckets)]
    for index, arrival in enumerate(arrivals):
        b = min(buckets - 1, int(arrival.t_s // window_s))
        rows[b][1] += 1
        for column, name in enumerate(gateway.ALGORITHMS, start=2):
            rows[b][column] += outcomes[name].decisions[index].allowed
    return rows


# -- notes ---------------------------------------------------------------------------

NOTE_TEXTS = {
    "capped": gettext_noop(
        "The timeline was shortened from %(requested).0f s to %(simulated).0f s: at these rates it would "
        "bring more than %(cap)s requests, the most one run simulates."),
    "same_timestamp": gettext_noop(
        "%(requests)s requests at the same instant against a limit of %(limit)s: the chapter's sliding-window "
        "script let %(book_admitted)s through, because it stores each request under its timestamp and the "
        "same timestamp is one entry; ours, with a unique member per request, let %(ours_admitted)s through."),
    "clock_skew": gettext_noop(
        "Two app servers whose clocks differ by %(skew_s).0f s, each passing its own time (as the chapter's "
        "code does): up to %(own_clocks_max)s requests got through in one %(window)s-second window against "
        "a limit of %(limit)s. With one clock for all (Redis's TIME), at most %(shared_clock_max)s."),
    "in_process": gettext_noop(
        "The chapter's token buckets live in each process: behind a load balancer with %(instances)s "
        "instances, one user gets %(per_process_total)s requests through in a second's burst instead of "
        "%(shared_total)s. The Redis bucket here is shared by every instance."),
    "retry_after": gettext_noop(
        "The chapter's retry_after is int((1 - tokens) / rate): with %(tokens)s tokens at %(rate_per_s)s a "
        "second that is %(book_s)s s, telling the client to retry at once. The wait is %(wait_s).2f s; a "
        "Retry-After header says %(header)s (whole seconds, rounded up)."),
    "fixed_window_double": gettext_noop(
        "The fixed window let %(fixed)s requests of one free user through within a single %(window)s-second "
        "span (limit %(limit)s), around a window boundary; the sliding window never more than %(sliding)s."),
    "lost": gettext_noop(
        "%(lost)s tasks were lost: they were acknowledged when they started (early acknowledgement) and the "
        "worker died while running them. With late acknowledgement they would have been delivered again."),
    "redelivered": gettext_noop(
        "%(restored)s unacknowledged tasks were delivered again after the visibility timeout of %(vt).0f s; "
        "%(duplicates)s tasks ran twice, which is harmless only when a task is idempotent."),
    "monolith_down": gettext_noop(
        "In the monolith, the failure of %(service)s took every route down for %(seconds).0f s: availability "
        "chat %(chat).0f%%, RAG %(rag).0f%%, agent %(agent).0f%%."),
    "service_down": gettext_noop(
        "With %(service)s down for %(seconds).0f s, availability was chat %(chat).0f%%, RAG %(rag).0f%%, "
        "agent %(agent).0f%%: only the routes that need it failed."),
    "latency_pins": gettext_noop(
        "The p99 latency target of %(target)s ms is below the model's own answer time (p99 %(p99).0f ms), so "
        "the latency metric always asks for more pods: the autoscaler went to %(max)s replicas."),
    "cpu_idle": gettext_noop(
        "CPU never reached its %(target)s%% target (highest reading %(highest)s%%): a worker waiting on a "
        "model call uses little CPU, so CPU alone would not have scaled it."),
}

BURST_SENTENCES = {
    "formula_differs": gettext_noop(
        "%(clock)s: the chapter has %(cpu)s%% CPU on %(book_replicas)s replicas doubling them; the formula "
        "gives ceil(%(book_replicas)s × %(cpu)s / 70) = %(formula_replicas)s. With CPU following its QPS "
        "column (%(implied_cpu)s%%), the HPA sets %(hpa_replicas)s at once, the most its policies allow."),
    "not_ready": gettext_noop(
        "%(clock)s: 15 s after the decision the new pods are still starting (%(startup_s)s s), so CPU cannot "
        "have fallen yet; the replay has %(hpa_replicas)s replicas set and %(hpa_ready)s ready."),
    "within_tolerance": gettext_noop(
        "%(clock)s: %(cpu)s%% against a 70%% target is a ratio of %(ratio).2f, within the 0.1 tolerance: "
        "the HPA does not scale at all."),
    "scale_down_rate": gettext_noop(
        "%(clock)s: the chapter has %(book_replicas)s replicas; with selectPolicy Min the scale-down removes "
        "at most 2 pods a minute after the 300 s window, so the replay still has %(hpa_replicas)s."),
    "replay_differs": gettext_noop(
        "%(clock)s: with CPU following the QPS column (calibrated on 09:00), the HPA runs %(hpa_replicas)s "
        "replicas here, not %(book_replicas)s."),
}
QUEUE_SENTENCES = {
    "queue_formula_larger": gettext_noop(
        "Queue %(queue)s on %(book_replicas)s replicas: the chapter's action is “%(action)s”; the formula "
        "asks ceil(%(queue)s / 10) = %(formula_replicas)s. As the manifest is written (type: Pods, each pod "
        "exporting the whole queue's length) it asks %(as_written_replicas)s."),
    "queue_formula_smaller": gettext_noop(
        "Queue %(queue)s on %(book_replicas)s replicas: the formula asks only %(formula_replicas)s."),
    "queue_scale_down_slower": gettext_noop(
        "Queue %(queue)s: the chapter drops to %(book_replicas)s replicas; after the 300 s window, selectPolicy "
        "Min removes at most %(scale_down_pods_per_min)s pods a minute (10, 8, 6, 4, 3): %(book_replicas)s is "
        "never a step, and the formula's answer is %(formula_replicas)s."),
}
NOTE_TEXTS.update({f"burst_{k}": v for k, v in BURST_SENTENCES.items()})
NOTE_TEXTS.update({f"queue_{k}" if not k.startswith("queue_") else k: v for k, v in QUEUE_SENTENCES.items()})


def _notes(params, metrics, series, sim: Simulation) -> list[Note]:
    notes: list[Note] = []
    if metrics["duration_s"] < metrics["requested_duration_s"]:
        notes.append(note(NOTE_TEXTS, "capped", requested=metrics["requested_duration_s"],
                          simulated=metrics["duration_s"], cap=MAX_REQUESTS))
    queue = metrics["queue"]
    if queue["lost"]:
        notes.append(note(NOTE_TEXTS, "lost", lost=queue["lost"]))
    if queue["restored"] or queue["duplicates"]:
        notes.append(note(NOTE_TEXTS, "redelivered", restored=queue["restored"], duplicates=queue["duplicates"],
                          vt=params["visibility_timeout_s"]))
    if params["failed_service"] != "none" and params["fail_at_s"] < metrics["duration_s"]:
        avail = {r: metrics["availability_by_route"][r] * 100 for r in ROUTE_NAMES}
        code = "monolith_down" if params["architecture"] == services.MONOLITH else "service_down"
        notes.append(note(NOTE_TEXTS, code, service=params["failed_service"], seconds=params["fail_for_s"], **avail))
    limiters = metrics["limiters"]
    fixed, sliding = limiters["fixed_window"], limiters["sliding_window"]
    if fixed["max_accepted_in_any_window"] > params["limit_free"]:
        notes.append(note(NOTE_TEXTS, "fixed_window_double", fixed=fixed["max_accepted_in_any_window"],
                          sliding=sliding["max_accepted_in_any_window"], limit=params["limit_free"],
                          window=params["window_s"]))
    checks = metrics["checks"]
    notes.append(note(NOTE_TEXTS, "same_timestamp", **checks["same_timestamp"]))
    if checks["clock_skew"]["own_clocks_max"] > checks["clock_skew"]["limit"]:
        notes.append(note(NOTE_TEXTS, "clock_skew", window=params["window_s"], **checks["clock_skew"]))
    notes.append(note(NOTE_TEXTS, "in_process", **checks["in_process_buckets"]))
    notes.append(note(NOTE_TEXTS, "retry_after", **checks["retry_after"]))
    latency_rows = [r for r in series["hpa_decisions"] if r["metric"] == "latency"]
    if latency_rows and all(r["raw_desired"] >= r["current_replicas"] for r in latency_rows):
        notes.append(note(NOTE_TEXTS, "latency_pins", target=params["latency_target_ms"],
                          p99=max(r["value"] for r in latency_rows), max=metrics["replicas"]["max"]))
    cpu_rows = [r for r in series["hpa_decisions"] if r["metric"] == "cpu"]
    if cpu_rows and max(r["value"] for r in cpu_rows) < params["cpu_target"] * 0.9 and metrics["replicas"]["max"] > params["min_replicas"]:
        notes.append(note(NOTE_TEXTS, "cpu_idle", target=params["cpu_target"],
                          highest=max(r["value"] for r in cpu_rows)))
    for row in series.get("book_burst", []):
        if row["code"]:
            notes.append(note(NOTE_TEXTS, f"burst_{row['code']}", ratio=row["cpu"] / book.BOOK_CPU_TARGET,
                              **{k: v for k, v in row.items() if k != "code"}))
    for row in series.get("book_queue", []):
        if row["code"]:
            notes.append(note(NOTE_TEXTS, row["code"], **{k: v for k, v in row.items() if k != "code"}))
    return notes


COMPONENT = Component(
    name="microservices", title=gettext_noop("Services, queues, rate limits and autoscaling"), section="32.1",
    spec=SPEC, run=run,
    code=(
        CodeRef(gettext_noop("Per-tier limits at the gateway"), gateway.TieredLimits.decide),
        CodeRef(gettext_noop("A worker slot: reserve, run, acknowledge"), cluster.Pod._slot),
        CodeRef(gettext_noop("Failure, retry with back-off"), cluster.Simulation.after_task),
        CodeRef(gettext_noop("A crash: what is lost, what comes back"), cluster.Pod.crash),
        CodeRef(gettext_noop("The replica calculator"), pod_metric_replicas),
        CodeRef(gettext_noop("One autoscaler sync"), HorizontalAutoscaler.reconcile),
        CodeRef(gettext_noop("Stabilisation windows"), HorizontalAutoscaler.stabilize_with_behavior),
        CodeRef(gettext_noop("Which routes a failure takes down"), services.down_services),
    ),
)
