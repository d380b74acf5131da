"""The architecture lab's Redis round trips: a fresh run at its defaults, in this process.

`python -m bench.microservices_round_trips [RUNS]` prints the median and p95 wall time
of a run and how many commands it sends to Redis (a pipeline or a script call is one),
and a digest of each run's result, so a change meant to save round trips can show that
it changed nothing else (same seeds, same digests).
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

import redis.connection


def main(argv: list[str]) -> None:
    from simulations import redis_server
    from simulations.registry import get

    redis_server.ensure_redis_url(Path(os.environ.get("VAR_DIR", "var")))
    sent = [0]
    send = redis.connection.AbstractConnection.send_packed_command

    def counted(self, command, check_health=True):
        sent[0] += 1
        return send(self, command, check_health)

    redis.connection.AbstractConnection.send_packed_command = counted
    component = get("microservices")
    params = component.spec.parse({})
    runs = int(argv[0]) if argv else 20
    times, trips, digests = [], [], []
    for seed in range(runs):
        before, started = sent[0], time.perf_counter()
        result = component.run_parsed(params, seed)
        times.append((time.perf_counter() - started) * 1000)
        trips.append(sent[0] - before)
        blob = json.dumps([result.metrics, result.series, result.notes], sort_keys=True, default=str)
        digests.append(hashlib.sha256(blob.encode()).hexdigest()[:8])
    times.sort()
    print(f"microservices at its defaults, {runs} runs: median {statistics.median(times):.0f} ms, "
          f"p95 {times[max(0, int(0.95 * runs) - 1)]:.0f} ms, Redis round trips per run {statistics.median(trips):.0f}")
    print("result digests by seed:", " ".join(digests))


if __name__ == "__main__":
    main(sys.argv[1:])
