"""Fresh runs per second: where the cores go, for each way of serving.

    python -m bench.throughput [--seconds 20] [--clients 8]

For each layout (server processes x worker processes each, and runs in the
server's own threads as before), a server is started on 127.0.0.1 with an empty
result cache, and ``--clients`` clients ask for fresh runs back to back (a new
seed each time, components in turn, as htmx re-runs) for ``--seconds``.
Printed per layout: results per second, latency of the answers with a result
(p50/p95), and how many were refused as busy (503) or blamed on the learner (400).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

from .class_load import components
from .server import started
from .stats import p95

LAYOUTS = (  # (label, server processes, workers per server)
    ("1 server, runs in its threads (before)", 1, 0),
    ("1 server x 2 worker processes", 1, 2),
    ("2 servers x 1 worker process", 2, 1),
    ("2 servers x 2 worker processes", 2, 2),
)


def hammer(base: str, seconds: float, clients: int) -> tuple[Counter, list[float], float]:
    listed = components()
    paths = [(c["lab_path"], f"lab-{c['name']}-result") for c in listed]
    seeds = itertools.count(int(time.time()))
    lock = threading.Lock()
    statuses: Counter = Counter()
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        turn = index
        while time.monotonic() < deadline:
            path, target = paths[turn % len(paths)]
            turn += 1
            with lock:
                seed = next(seeds)
            request = urllib.request.Request(f"{base}{path}?seed={seed}",
                                             headers={"HX-Request": "true", "HX-Target": target})
            started_at = time.monotonic()
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    response.read()
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
                if status in (429, 503):
                    time.sleep(0.2)
            except OSError:
                status = 0
            with lock:
                statuses[status] += 1
                if status == 200:
                    latencies.append(time.monotonic() - started_at)

    started_at = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses, latencies, time.monotonic() - started_at


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args(argv)
    seconds, clients = min(max(args.seconds, 5.0), 120.0), min(max(args.clients, 1), 64)
    print(f"Fresh runs: {clients} clients asking back to back for {seconds:g} s, every component in turn")
    for label, servers, workers in LAYOUTS:
        with started(servers=servers, label="throughput", SIMULATION_WORKERS=str(workers),
                     ADDRESS_RATE_PER_S="0") as base:
            statuses, latencies, elapsed = hammer(base, seconds, clients)
        ok = statuses.get(200, 0)
        spread = (f"p50 {statistics.median(latencies) * 1000:7.1f} ms   p95 {p95(latencies) * 1000:7.1f} ms"
                  if latencies else "no result")
        print(f"  {label:40s} {ok / elapsed:6.2f} results/s   {spread}   busy 503: {statuses.get(503, 0)}"
              f"   400: {statuses.get(400, 0)}   other: {sum(n for s, n in statuses.items() if s not in (200, 503, 400))}")


if __name__ == "__main__":
    main()
