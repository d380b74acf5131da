"""A class of students dragging sliders, against a server this benchmark starts on 127.0.0.1.

    python -m bench.class_load [--students 100] [--duration 60] [--servers 1] [--url http://127.0.0.1:PORT]

Each student opens a lesson (the class arrives over the first 15 s), then reads,
drags a slider (or, one time in five, picks a preset), reads again.  A drag is a few input events 50-150 ms apart; the
page re-runs 300 ms after the last one (htmx's ``delay:300ms``), and a pause in
the middle of a drag fires a re-run that the next one replaces (``hx-sync
replace``), as in the browser.  Every other student follows a neighbour and asks
for the very values the neighbour just chose.  A refused re-run (503 or 429) is
retried after its ``Retry-After``, as the page does, unless a newer drag replaced it.
A result that leaves a slow part for later (the experiments lab's repetitions) is
followed by its batches, one request each, as the progress line asks for them; a
refused batch makes the student ask for the result again after ``Retry-After``.
Components, lessons and parameters come from ``manage.py simulate --list``.

Printed: requests by status, latency of re-runs (p50/p95/p99), time from the end
of a drag to its result (retries included), the cache hit rate, refusals (busy,
rate limited, a run stopped at its time limit, which would blame the learner for
the server's load, and values over a cap, with what each 400 said), and errors.
Target: no 5xx, no run stopped at its time limit, p95 under 1 s.  Loopback only; at most 200 students
and 300 s.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import random
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from .server import OUT, ROOT, loopback_only, started
from .stats import p95

MAX_STUDENTS, MAX_DURATION_S = 200, 300
DEBOUNCE_S = 0.3
CACHED_MARK = "served from the result cache"
# The progress line of a deferred part: its id and the request for the next batch.
PENDING = re.compile(r'<div id="(lab-[\w-]+-pending)"[^>]*hx-get="([^"]+)"')
TIME_LIMIT_MARK = "of real time"  # in the refusal of a run stopped at its wall-time limit
ERROR_TEXT = re.compile(r'<span class="error">(.*?)</span>', re.S)  # the status line of a refusal


def components() -> list[dict[str, Any]]:
    listed = subprocess.run([sys.executable, "manage.py", "simulate", "--list"], cwd=ROOT, check=True,
                            capture_output=True, text=True,
                            env={"REDIS_URL": "redis://127.0.0.1:1/0", "PATH": "/usr/bin:/bin"})
    return json.loads(listed.stdout)


@dataclass
class Record:
    kind: str  # page, rerun, batch
    status: int  # 0: no answer (error)
    latency_s: float
    cached: bool = False
    retry: bool = False


@dataclass
class Stats:
    records: list[Record] = field(default_factory=list)
    to_result_s: list[float] = field(default_factory=list)
    replaced: int = 0
    gave_up: int = 0
    errors: Counter = field(default_factory=Counter)
    refusals_400: Counter = field(default_factory=Counter)  # what a 400 said, so its cause can be fixed


class Student:
    def __init__(self, index: int, component: dict[str, Any], rng: random.Random, base: str, stats: Stats,
                 leader: Student | None) -> None:
        self.index, self.component, self.rng, self.stats, self.leader = index, component, rng, stats, leader
        self.base = base
        self.page = base + (component["path"] or component["lab_path"])
        self.target = f"lab-{component['name']}-result"
        self.defaults = {p["name"]: _text(p["default"]) for p in component["params"]}
        self.values = dict(self.defaults)
        self.sliders = [p for p in component["params"] if p["kind"] in ("int", "float") and p.get("step")]
        self.followers: list[Student] = []
        self.pending: asyncio.Task | None = None
        self.until = 0.0
        self.client = httpx.AsyncClient(timeout=60, headers={"Accept-Language": "en"})
        if leader is not None:
            leader.followers.append(self)

    async def attend(self, until: float) -> None:
        self.until = until
        await asyncio.sleep(self.rng.uniform(0, 15))  # the class arrives
        await self._page()
        while time.monotonic() < until:
            await asyncio.sleep(self.rng.uniform(3, 10))  # reading the chart
            if self.leader is None and time.monotonic() < until:
                await self._drag()
        if self.pending is not None:
            await asyncio.wait({self.pending}, timeout=15)
            self.pending.cancel()
        await self.client.aclose()

    async def _page(self) -> None:
        started_at = time.monotonic()
        try:
            response = await self.client.get(self.page)
            self.stats.records.append(Record("page", response.status_code, time.monotonic() - started_at))
        except httpx.HTTPError as exc:
            self.stats.records.append(Record("page", 0, time.monotonic() - started_at))
            self.stats.errors[type(exc).__name__] += 1

    async def _drag(self) -> None:
        presets = self.component["presets"]
        if presets and (not self.sliders or self.rng.random() < 0.2):  # a preset's link instead of a slider
            chosen = presets[self.rng.choice(sorted(presets))]
            self._fire({**self.defaults, **{name: _text(value) for name, value in chosen.items()}})
            return
        if not self.sliders:
            return
        param = self.rng.choice(self.sliders)
        steps = int(round((param["max"] - param["min"]) / param["step"]))
        target = param["min"] + self.rng.randint(0, steps) * param["step"]
        current = float(self.values[param["name"]])
        for i in range(1, self.rng.randint(2, 8) + 1):
            value = current + (target - current) * i / 8
            value = param["min"] + round((value - param["min"]) / param["step"]) * param["step"]
            self.values[param["name"]] = _text(int(round(value)) if param["kind"] == "int" else round(value, 6))
            if self.rng.random() < 0.15:  # a pause mid-drag: the debounce fires
                await asyncio.sleep(DEBOUNCE_S)
                self._fire()
                await asyncio.sleep(0.1)
            else:
                await asyncio.sleep(self.rng.uniform(0.05, 0.15))
        await asyncio.sleep(DEBOUNCE_S)
        self._fire()

    def _fire(self, values: dict[str, str] | None = None) -> None:
        """A re-run with the form's values; it replaces the one still pending (hx-sync replace)."""
        if time.monotonic() >= self.until:
            return  # the class is over
        if values is not None:
            self.values = dict(values)
        if self.pending is not None and not self.pending.done():
            self.pending.cancel()
            self.stats.replaced += 1
        self.pending = asyncio.create_task(self._rerun(dict(self.values)))
        for follower in self.followers:  # they look over and set the same values, a moment later
            asyncio.get_running_loop().call_later(self.rng.uniform(0.5, 3.0), follower._fire, dict(self.values))

    async def _rerun(self, values: dict[str, str]) -> None:
        url = f"{self.page}?{urlencode({**values, 'seed': '0'})}"
        headers = {"HX-Request": "true", "HX-Target": self.target}
        fired = time.monotonic()
        for attempt in range(20):
            started_at = time.monotonic()
            try:
                response = await self.client.get(url, headers=headers)
            except httpx.HTTPError as exc:
                self.stats.records.append(Record("rerun", 0, time.monotonic() - started_at, retry=attempt > 0))
                self.stats.errors[type(exc).__name__] += 1
                return
            self.stats.records.append(Record("rerun", response.status_code, time.monotonic() - started_at,
                                             cached=CACHED_MARK in response.text, retry=attempt > 0))
            if response.status_code in (429, 503) and "Retry-After" in response.headers:
                await asyncio.sleep(int(response.headers["Retry-After"]))
                if time.monotonic() >= self.until:
                    return  # the class is over: the student has left
                continue
            if response.status_code == 400:
                said = ERROR_TEXT.search(response.text)
                self.stats.refusals_400[f"{self.component['name']}: {html.unescape(said.group(1)) if said else '?'}"] += 1
            if response.status_code == 200:
                retry_after = await self._batches(response.text)
                if retry_after is None:
                    self.stats.to_result_s.append(time.monotonic() - fired)
                    return
                await asyncio.sleep(retry_after)  # the busy line asks for the result again
                if time.monotonic() >= self.until:
                    return
                continue
            return
        self.stats.gave_up += 1

    async def _batches(self, text: str) -> int | None:
        """The batches of a deferred part, one after the other; a refused one's Retry-After, else None."""
        while found := PENDING.search(text):
            headers = {"HX-Request": "true", "HX-Target": found.group(1)}
            started_at = time.monotonic()
            try:
                response = await self.client.get(self.base + html.unescape(found.group(2)), headers=headers)
            except httpx.HTTPError as exc:
                self.stats.records.append(Record("batch", 0, time.monotonic() - started_at))
                self.stats.errors[type(exc).__name__] += 1
                return None
            self.stats.records.append(Record("batch", response.status_code, time.monotonic() - started_at,
                                             cached=CACHED_MARK in response.text))
            if response.status_code in (429, 503) and "Retry-After" in response.headers:
                return int(response.headers["Retry-After"])
            if response.status_code != 200:
                return None
            text = response.text
        return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


async def run_class(base: str, students: int, duration_s: float, seed: int) -> tuple[Stats, float]:
    listed = components()
    rng = random.Random(seed)
    stats = Stats()
    class_: list[Student] = []
    for i in range(students):
        leader = class_[i - 1] if i % 2 == 1 else None  # every other student follows a neighbour
        component = leader.component if leader else listed[(i // 2) % len(listed)]
        class_.append(Student(i, component, random.Random(rng.random()), base, stats, leader))
    started_at = time.monotonic()
    until = started_at + duration_s
    await asyncio.gather(*(s.attend(until) for s in class_))
    return stats, time.monotonic() - started_at


def metric(text: str, name: str) -> float:
    return sum(float(v) for v in re.findall(rf"^{name}\{{[^}}]*\}} (\S+)$", text, re.MULTILINE))


def scrape(base: str) -> str:
    return httpx.get(base + "/metrics", timeout=10).text


def report(stats: Stats, elapsed_s: float, before: str, after: str, students: int) -> dict[str, Any]:
    reruns = [r for r in stats.records if r.kind == "rerun"]
    ok = [r for r in reruns if r.status == 200]
    statuses = Counter(r.status for r in stats.records)
    hits = metric(after, "llmopslab_result_cache_hits_total") - metric(before, "llmopslab_result_cache_hits_total")
    misses = (metric(after, "llmopslab_result_cache_misses_total")
              - metric(before, "llmopslab_result_cache_misses_total"))

    def quantiles(samples: list[float]) -> dict[str, float]:
        if not samples:
            return {}
        ordered = sorted(samples)
        return {"p50_ms": round(ordered[len(ordered) // 2] * 1000, 1), "p95_ms": round(p95(ordered) * 1000, 1),
                "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000, 1),
                "max_ms": round(ordered[-1] * 1000, 1)}

    summary = {
        "students": students, "seconds": round(elapsed_s, 1), "requests": len(stats.records),
        "statuses": dict(sorted(statuses.items())),
        "rerun_latency_ok": quantiles([r.latency_s for r in ok]),
        "rerun_latency_all": quantiles([r.latency_s for r in reruns]),
        "page_latency": quantiles([r.latency_s for r in stats.records if r.kind == "page" and r.status == 200]),
        "batch_latency_ok": quantiles([r.latency_s for r in stats.records if r.kind == "batch" and r.status == 200]),
        "batches": sum(r.kind == "batch" for r in stats.records),
        "drag_to_result": quantiles(stats.to_result_s),
        "cache_hit_rate_seen": round(sum(r.cached for r in ok) / len(ok), 3) if ok else None,
        "cache_hit_rate_server": round(hits / (hits + misses), 3) if hits + misses else None,
        "fresh_runs_per_s": round(misses / elapsed_s, 2),
        "refused_busy_503": statuses.get(503, 0), "refused_rate_limited_429": statuses.get(429, 0),
        # A 400 for values over a cap is the learner's own input, told what to change; a run stopped
        # at its time limit may be the server's load, which must never be blamed on the learner.
        "blamed_learner_400": sum(n for said, n in stats.refusals_400.items() if TIME_LIMIT_MARK in said),
        "values_refused_400": sum(n for said, n in stats.refusals_400.items() if TIME_LIMIT_MARK not in said),
        "errors_5xx": sum(n for s, n in statuses.items() if s >= 500 and s != 503),
        "errors_no_answer": statuses.get(0, 0), "error_kinds": dict(stats.errors),
        "refusals_400": dict(stats.refusals_400.most_common(5)),
        "replaced_by_a_newer_drag": stats.replaced, "gave_up_after_20_tries": stats.gave_up,
    }
    return summary


def print_summary(summary: dict[str, Any]) -> None:
    print(f"Classroom: {summary['students']} students for {summary['seconds']} s, "
          f"{summary['requests']} requests {summary['statuses']}, {summary['batches']} of them batches of a slow part")
    for key in ("rerun_latency_ok", "rerun_latency_all", "drag_to_result", "page_latency", "batch_latency_ok"):
        q = summary[key]
        if q:
            print(f"  {key:18s} p50 {q['p50_ms']:8.1f} ms   p95 {q['p95_ms']:8.1f} ms   "
                  f"p99 {q['p99_ms']:8.1f} ms   max {q['max_ms']:8.1f} ms")
    print(f"  cache hit rate     {summary['cache_hit_rate_seen']} (seen by students), "
          f"{summary['cache_hit_rate_server']} (server)   fresh runs {summary['fresh_runs_per_s']}/s")
    print(f"  refusals           busy 503: {summary['refused_busy_503']}   rate limited 429: "
          f"{summary['refused_rate_limited_429']}   blaming the learner (400 at the time limit): "
          f"{summary['blamed_learner_400']}   values over a cap (400): {summary['values_refused_400']}")
    print(f"  errors             5xx: {summary['errors_5xx']}   no answer: {summary['errors_no_answer']} "
          f"{summary['error_kinds'] or ''}   replaced by a newer drag: {summary['replaced_by_a_newer_drag']}")
    for said, count in summary["refusals_400"].items():
        print(f"    400 x{count}: {said}")
    ok = (summary["errors_5xx"] == 0 and summary["blamed_learner_400"] == 0 and summary["errors_no_answer"] == 0
          and summary["rerun_latency_ok"].get("p95_ms", 1e9) < 1000)
    print(f"  target (no 5xx, no run stopped at its time limit, p95 < 1 s): {'met' if ok else 'NOT met'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.class_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of class after the first arrival")
    parser.add_argument("--servers", type=int, default=1)
    parser.add_argument("--url", help="an already running server on 127.0.0.1 (its /metrics must answer)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    students = max(2, min(args.students, MAX_STUDENTS))
    duration = max(5.0, min(args.duration, MAX_DURATION_S))

    def measure(base: str) -> None:
        before = scrape(base)
        stats, elapsed = asyncio.run(run_class(base, students, duration, args.seed))
        summary = report(stats, elapsed, before, scrape(base), students)
        print_summary(summary)
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "class_load.json").write_text(json.dumps(summary, indent=2))

    if args.url:
        measure(loopback_only(args.url))
    else:
        with started(servers=args.servers, label="class-load") as base:
            measure(base)


if __name__ == "__main__":
    main()
