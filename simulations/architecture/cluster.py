"""The run: traffic through the gateway, the services, the queue and autoscaled workers.

Everything happens on one virtual clock (:func:`simulations.clock.run_virtual`):

1. the gateway's limiters decide every request up front (real Redis, one call per
   algorithm); the chosen algorithm's refusals are answered 429;
2. an admitted request walks its route's services (:mod:`.services`): a hard
   dependency that is down fails it, a soft one degrades it; then its model call
   is published to the priority queue (:mod:`.queue`, real Redis);
3. worker pods of the LLM orchestrator (the whole monolith, in monolith mode) take
   tasks, acknowledge them early or late, retry failures with back-off, stop a task
   at its time limit; a crash loses or redelivers tasks depending on the ack mode;
4. every 15 s the autoscaler (:mod:`.hpa`) reads CPU, memory, queue length and p99
   latency from the pods and sets the replica count; new pods serve after their
   start-up delay.

Worker pods' CPU and memory are modelled from what they do: a model call is mostly
waiting on the network, so a busy worker uses little CPU; a monolith pod also does
the retrieval and agent work itself, and holds all of it in memory.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..clock import now, run_virtual
from ..profiles import profile
from . import services
from .hpa import SYNC_PERIOD_S, Behavior, HorizontalAutoscaler, PodSample, Proposal
from .hpa import external_average_replicas, pod_metric_replicas
from .queue import PRIORITIES, Delivery, ReliableQueue
from .traffic import Arrival

# Pod resources (the chapter's deployment requests 500m CPU and 512Mi).
CPU_REQUEST_M = 500.0
CPU_IDLE_M = 25.0
CPU_PER_CALL_M = 20.0  # a model call in flight: serialising, TLS, parsing; mostly waiting
MEMORY_REQUEST_MI = {"microservices": 512.0, "monolith": 2048.0}
MEMORY_BASE_MI = {"microservices": 260.0, "monolith": 1400.0}  # a monolith holds the index and every client
MEMORY_PER_CALL_MI = 24.0
# CPU milliseconds of a monolith pod's own retrieval and agent work per request of the route.
MONOLITH_CPU_MS = {"chat": 10.0, "rag": 120.0, "agent": 40.0}
LATENCY_WINDOW_S = 60.0  # the p99 metric looks at the last minute of answers
ANSWER_TOKENS = 180
TOKEN_SPREAD = 0.5


@dataclass(frozen=True)
class Config:
    duration_s: float
    architecture: str
    failed_service: str
    fail_at_s: float
    fail_for_s: float
    hop_ms: float
    concurrency: int
    prefetch_multiplier: int
    acks_late: bool
    visibility_timeout_s: float
    task_time_limit_s: float
    max_retries: int
    retry_backoff_s: float
    worker_crash_at_s: float
    model: str
    failure_rate: float
    min_replicas: int
    max_replicas: int
    cpu_target: int
    memory_target: int
    queue_target: int
    latency_target_ms: int
    behavior: Behavior
    pod_startup_s: float


@dataclass
class Task:
    id: str
    arrival: Arrival
    route_outcome: str
    enqueued_s: float
    retries: int = 0
    done_s: float | None = None
    final_failure: bool = False
    lost: bool = False


@dataclass
class Stats:
    enqueued: int = 0
    completed: int = 0
    duplicates: int = 0
    retried: int = 0
    lost: int = 0
    failed: int = 0
    timed_out: int = 0
    deliveries: int = 0
    restored: int = 0
    requeued: int = 0


class Pod:
    """One worker pod: ``concurrency`` slots and a buffer of reserved (prefetched) tasks."""

    def __init__(self, sim: Simulation, number: int, ready_at: float) -> None:
        self.sim, self.name = sim, f"pod-{number}"
        self.created_at = now()
        self.ready_at = ready_at
        self.state = "starting"
        self.buffer: deque[Delivery] = deque()
        self.running: set[Delivery] = set()
        self.idle = False
        self.early_acked: set[Delivery] = set()
        self.busy_area = 0.0
        self._busy_since = now()
        self._area_at_sync = 0.0
        self._work = asyncio.Event()
        self._slots: list[asyncio.Task] = []
        self._boot = asyncio.get_running_loop().call_at(ready_at, self._become_ready)

    @property
    def capacity(self) -> int:
        return self.sim.config.concurrency * max(1, self.sim.config.prefetch_multiplier)

    @property
    def held(self) -> int:
        return len(self.buffer) + len(self.running)

    def _become_ready(self) -> None:
        if self.state != "starting":
            return
        self.state = "ready"
        self._busy_since = now()
        self._slots = [asyncio.ensure_future(self._slot()) for _ in range(self.sim.config.concurrency)]
        self.refill()

    def _account(self) -> None:
        t = now()
        self.busy_area += len(self.running) * (t - self._busy_since)
        self._busy_since = t

    def busy_since_sync(self) -> float:
        """Mean busy slots since the last autoscaler sync (and start a new period)."""
        self._account()
        span = min(SYNC_PERIOD_S, now() - self.ready_at)
        busy = (self.busy_area - self._area_at_sync) / span if span > 0 else 0.0
        self._area_at_sync = self.busy_area
        return busy

    def refill(self, ack: list[Delivery] = (), publish: tuple[str, str] | None = None) -> None:
        """Acknowledge ``ack`` and reserve tasks up to the prefetch limit (one Redis call)."""
        if self.state != "ready":
            if ack:
                self.sim.ack(ack)
            return
        want = self.capacity - self.held
        if want <= 0 and not ack and publish is None:
            return
        got = self.sim.fetch(max(want, 0), ack, publish)
        self.buffer.extend(got)
        if got:
            self._work.set()
        if want > len(got) and not self.idle:
            self.idle = True
            self.sim.idle_pods.append(self)

    async def _slot(self) -> None:
        while self.state == "ready":
            if not self.buffer:
                self._work.clear()
                await self._work.wait()
                continue
            delivery = self.buffer.popleft()
            if not self.sim.config.acks_late:  # acknowledged on receipt, before the work
                self.sim.ack([delivery])
                self.early_acked.add(delivery)
            self._account()
            self.running.add(delivery)
            outcome = await self.sim.execute(delivery)
            self._account()
            self.running.discard(delivery)
            self.early_acked.discard(delivery)
            self.refill(self.sim.after_task(delivery, outcome))

    def crash(self) -> None:
        """The process dies: in-flight work is gone; only unacknowledged tasks can come back."""
        self._account()
        self.state = "crashed"
        self._boot.cancel()
        for delivery in self.running:
            if delivery in self.early_acked:
                self.sim.lose(delivery)
        for slot in self._slots:
            slot.cancel()
        self.running.clear()
        self.buffer.clear()  # reserved but unacknowledged: restored after the visibility timeout

    def stop(self) -> None:
        """A graceful stop (scale-down): hand back reserved tasks, finish what runs."""
        self._boot.cancel()
        self.state = "stopping"
        self.sim.requeue(list(self.buffer))
        self.buffer.clear()
        self._work.set()  # idle slots wake, see the state and end


class Simulation:
    def __init__(self, config: Config, queue: ReliableQueue, admitted: list[Arrival],
                 seed: int) -> None:
        self.config, self.queue, self.admitted, self.seed = config, queue, admitted, seed
        self.profile = profile(config.model)
        self.stats = Stats()
        self.tasks: dict[str, Task] = {}
        self.depths = {p: 0 for p in PRIORITIES}
        self.depth_log: list[tuple[float, int, int, int]] = []
        self.pods: list[Pod] = []
        self.idle_pods: deque[Pod] = deque()
        self.outstanding: set[Delivery] = set()
        self.pod_count = 0
        self.spec_replicas = config.min_replicas
        self.replicas_log: list[tuple[float, int, int]] = []
        self.decisions: list[Any] = []
        self.answers: list[tuple[float, str, str, float]] = []  # (answered at, route, outcome, latency)
        self.failures: list[tuple[float, str, str]] = []  # (at, route, why)
        self.events: list[dict[str, Any]] = []
        self.request_cpu_ms = 0.0
        self.outage_until = -1.0
        self.down: set[str] = set()
        self.hpa = HorizontalAutoscaler(config.min_replicas, config.max_replicas, config.behavior)

    # -- Redis operations, each mirrored in Python for the charts

    def _saw(self, depths: Mapping[str, int]) -> None:
        if depths:
            self.depths.update(depths)
            self.depth_log.append((now(), *(self.depths[p] for p in PRIORITIES)))

    def fetch(self, want: int, ack: list[Delivery], publish: tuple[str, str] | None = None) -> list[Delivery]:
        for delivery in ack:
            self.outstanding.discard(delivery)
        result = self.queue.fetch(now(), want, list(ack), publish)
        self._saw(result.depths)
        if result.restored:
            self.stats.restored += result.restored
            self.note("restored", count=result.restored)
        for delivery in result.deliveries:
            self.stats.deliveries += 1
            self.outstanding.add(delivery)
            asyncio.get_running_loop().call_at(now() + self.config.visibility_timeout_s + 1e-6,
                                               self._deadline, delivery)
            if delivery.number > 1:
                self.note("redelivered", task=delivery.task_id, delivery=delivery.number)
        return result.deliveries

    def ack(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            self.outstanding.discard(delivery)
        self._saw(self.queue.ack(now(), list(deliveries)).depths)

    def requeue(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            self.outstanding.discard(delivery)
        self.stats.requeued += len(deliveries)
        self._saw(self.queue.requeue(deliveries))
        self.wake(len(deliveries))

    def _deadline(self, delivery: Delivery) -> None:
        if delivery in self.outstanding:  # still unacknowledged: the queue will hand it out again
            self.outstanding.discard(delivery)
            self.wake(1, force=True)

    def wake(self, count: int = 1, force: bool = False, publish: tuple[str, str] | None = None) -> int:
        """Let idle pods fetch (the broker's wake-up of a blocking pop); returns how many woke.

        With ``publish``, the first pod's fetch publishes that task first, in the same call.
        """
        woken = 0
        while self.idle_pods and woken < count:
            pod = self.idle_pods.popleft()
            pod.idle = False
            if pod.state == "ready" and pod.held < pod.capacity:
                pod.refill(publish=publish)
                publish = None
                woken += 1
        if force and not woken:  # nobody idle: restore now, a busy pod takes it when free
            result = self.queue.fetch(now(), 0, [])
            self._saw(result.depths)
            self.stats.restored += result.restored
        return woken

    def note(self, event: str, **data: Any) -> None:
        if len(self.events) < 40:
            self.events.append({"t_s": round(now(), 3), "event": event, **data})

    # -- tasks

    def llm_seconds(self, task_id: str, delivery: int) -> tuple[float, bool]:
        """How long this attempt takes and whether it fails (seeded per task and attempt)."""
        rng = np.random.default_rng([self.seed, int(task_id), delivery, self.tasks[task_id].retries])
        ttft = self.profile.ttft_s * float(np.exp(rng.normal(0.0, self.profile.latency_spread)))
        tokens = max(1, int(ANSWER_TOKENS * float(np.exp(rng.normal(0.0, TOKEN_SPREAD)))))
        fails = bool(rng.random() < self.config.failure_rate)
        return (ttft if fails else ttft + (tokens - 1) / self.profile.tokens_per_s), fails

    async def execute(self, delivery: Delivery) -> str:
        seconds, fails = self.llm_seconds(delivery.task_id, delivery.number)
        limit = self.config.task_time_limit_s
        if seconds > limit:
            await asyncio.sleep(limit)
            return "timeout"
        await asyncio.sleep(seconds)
        return "error" if fails else "ok"

    def after_task(self, delivery: Delivery, outcome: str) -> list[Delivery]:
        """Record the task's end; returns what to acknowledge with the next fetch."""
        task = self.tasks[delivery.task_id]
        if outcome == "ok":
            if task.done_s is None:
                task.done_s = now()
                self.stats.completed += 1
                self.answers.append((now(), task.arrival.route, task.route_outcome,
                                     now() - task.arrival.t_s))
            else:  # it ran twice: an idempotent task just overwrites the same result
                self.stats.duplicates += 1
                self.note("duplicate", task=delivery.task_id)
            return [delivery] if self.config.acks_late else []
        if outcome == "timeout":
            self.stats.timed_out += 1
        if task.done_s is None and not task.final_failure and task.retries < self.config.max_retries:
            task.retries += 1
            self.stats.retried += 1
            due = now() + self.config.retry_backoff_s * 2 ** (task.retries - 1)
            self.outstanding.discard(delivery)
            self._saw(self.queue.retry(delivery, due))
            asyncio.get_running_loop().call_at(due + 1e-6, self.wake, 1)
            self.note("retry", task=delivery.task_id, due_s=round(due, 3), why=outcome)
            return []
        if task.done_s is None and not task.final_failure:
            task.final_failure = True
            self.stats.failed += 1
            self.failures.append((now(), task.arrival.route, "task_failed"))
        return [delivery] if self.config.acks_late else []

    def lose(self, delivery: Delivery) -> None:
        task = self.tasks[delivery.task_id]
        if task.done_s is None and not task.lost:
            task.lost = True
            self.stats.lost += 1
            self.failures.append((now(), task.arrival.route, "lost"))
            self.note("lost", task=delivery.task_id)

    # -- requests

    async def request(self, arrival: Arrival) -> None:
        down = self.down
        if "gateway" in down:
            self.failures.append((arrival.t_s, arrival.route, "unavailable"))
            return
        route_outcome = services.outcome(arrival.route, down)
        if route_outcome == "failed":
            self.failures.append((arrival.t_s, arrival.route, "unavailable"))
            return
        if self.config.architecture == services.MONOLITH:
            self.request_cpu_ms += MONOLITH_CPU_MS[arrival.route]  # done in the worker pod itself
        await asyncio.sleep(services.path_latency_ms(arrival.route, down, self.config.hop_ms) / 1000)
        task = Task(str(arrival.id), arrival, route_outcome, now())
        self.tasks[task.id] = task
        self.stats.enqueued += 1
        if not self.wake(1, publish=(task.id, arrival.priority)):
            self._saw(self.queue.publish_later(task.id, arrival.priority))  # goes with the next call

    # -- the deployment and its autoscaler

    def new_pod(self) -> Pod:
        self.pod_count += 1
        start = max(now(), self.outage_until)
        pod = Pod(self, self.pod_count, start + self.config.pod_startup_s)
        self.pods.append(pod)
        return pod

    def scale_to(self, replicas: int) -> None:
        self.spec_replicas = replicas
        live = [p for p in self.pods if p.state in ("starting", "ready")]
        for _ in range(replicas - len(live)):
            self.new_pod()
        if replicas < len(live):
            # A ReplicaSet removes pods that are not ready first, then the newest.
            order = sorted(live, key=lambda p: (p.state == "ready", p.created_at))
            for pod in order[:len(live) - replicas]:
                pod.stop()
        self.log_replicas()

    def log_replicas(self) -> None:
        ready = sum(p.state == "ready" for p in self.pods)
        self.replicas_log.append((now(), self.spec_replicas, ready))

    def heal(self) -> None:
        """The ReplicaSet replaces pods that died."""
        live = [p for p in self.pods if p.state in ("starting", "ready")]
        for _ in range(self.spec_replicas - len(live)):
            self.new_pod()

    def crash_one(self) -> None:
        ready = [p for p in self.pods if p.state == "ready"]
        if ready:
            victim = max(ready, key=lambda p: (len(p.running), -p.created_at))
            self.note("crash", pod=victim.name, running=len(victim.running))
            victim.crash()
            self.heal()
            self.log_replicas()

    def fail(self) -> None:
        self.down = services.down_services(self.config.failed_service, self.config.architecture)
        self.note("down", services=sorted(self.down))
        if "llm" in self.down:
            self.outage_until = self.config.fail_at_s + self.config.fail_for_s
            for pod in [p for p in self.pods if p.state in ("starting", "ready")]:
                pod.crash()
            self.heal()
            self.log_replicas()

    def recover(self) -> None:
        self.down = set()
        self.note("recovered")

    def measure(self) -> list[Proposal]:
        """Each enabled metric's reading and the replicas it asks for."""
        config = self.config
        arch = config.architecture
        live = [p for p in self.pods if p.state in ("starting", "ready")]
        ready = [p for p in live if p.state == "ready"]
        current = self.spec_replicas
        proposals: list[Proposal] = []
        busy = {p: p.busy_since_sync() for p in ready}
        extra_cpu = self.request_cpu_ms / SYNC_PERIOD_S / max(1, len(ready))  # monolith's own work, shared
        self.request_cpu_ms = 0.0
        if not ready:
            return proposals
        if config.cpu_target:
            samples = [PodSample(CPU_IDLE_M + CPU_PER_CALL_M * busy[p] + extra_cpu, CPU_REQUEST_M)
                       for p in ready]
            samples += [PodSample(CPU_IDLE_M, CPU_REQUEST_M, ready=False) for p in live if p not in busy]
            replicas, value = pod_metric_replicas(current, samples, config.cpu_target, resource=True)
            proposals.append(Proposal("cpu", value, config.cpu_target, replicas))
        if config.memory_target:
            samples = [PodSample(MEMORY_BASE_MI[arch] + MEMORY_PER_CALL_MI * busy[p], MEMORY_REQUEST_MI[arch])
                       for p in ready]
            replicas, value = pod_metric_replicas(current, samples, config.memory_target, resource=True)
            proposals.append(Proposal("memory", value, config.memory_target, replicas))
        if config.queue_target:
            total = sum(self.depths.values())
            replicas, per_pod = external_average_replicas(current, total, config.queue_target)
            proposals.append(Proposal("queue", per_pod, config.queue_target, replicas))
        if config.latency_target_ms:
            recent = [lat for t, _, _, lat in self.answers if t > now() - LATENCY_WINDOW_S]
            if recent:
                p99_ms = float(np.percentile(recent, 99)) * 1000
                samples = [PodSample(math.floor(p99_ms)) for _ in ready]
                samples += [PodSample(None) for p in live if p not in busy]
                replicas, value = pod_metric_replicas(current, samples, config.latency_target_ms)
                proposals.append(Proposal("latency", value, config.latency_target_ms, replicas))
        return proposals

    async def autoscaler(self) -> None:
        while True:
            await asyncio.sleep(SYNC_PERIOD_S)
            proposals = self.measure()
            decision = self.hpa.reconcile(now(), self.spec_replicas, proposals)
            self.decisions.append(decision)
            if decision.desired != self.spec_replicas:
                self.scale_to(decision.desired)

    async def main(self) -> None:
        loop = asyncio.get_running_loop()
        config = self.config
        self.scale_to(config.min_replicas)
        for pod in self.pods:  # the deployment was running before the traffic started
            pod._boot.cancel()
            pod.ready_at = 0.0
            pod._become_ready()
        self.log_replicas()
        if config.failed_service != "none" and config.fail_at_s < config.duration_s:
            loop.call_at(config.fail_at_s, self.fail)
            loop.call_at(config.fail_at_s + config.fail_for_s, self.recover)
        if 0 < config.worker_crash_at_s < config.duration_s:
            loop.call_at(config.worker_crash_at_s, self.crash_one)
        for arrival in self.admitted:
            loop.call_at(arrival.t_s, lambda a=arrival: asyncio.ensure_future(self.request(a)))
        ready_watch = asyncio.ensure_future(self._watch_ready())
        scaler = asyncio.ensure_future(self.autoscaler())
        await asyncio.sleep(config.duration_s)
        scaler.cancel()
        ready_watch.cancel()
        for pod in self.pods:
            if pod.state in ("ready", "starting"):
                pod._account()

    async def _watch_ready(self) -> None:
        """Log the ready count whenever a pod becomes ready (for the replicas chart)."""
        seen = 0
        while True:
            await asyncio.sleep(1.0)
            ready = sum(p.state == "ready" for p in self.pods)
            if ready != seen:
                seen = ready
                self.log_replicas()


def simulate(config: Config, queue: ReliableQueue, admitted: list[Arrival], seed: int) -> Simulation:
    sim = Simulation(config, queue, admitted, seed)
    run_virtual(sim.main)
    return sim
