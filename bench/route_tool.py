"""Prompt box latency: server time for one routed prompt, through Django's full request path.

The box answers a fragment (the htmx request a learner's "Route it" sends): it
parses and checks the input, classifies the prompt with both classifiers, routes
it, runs it through the chain on the mock models and renders the result.  Each
prompt is new (a fresh route and a fresh chain run), in English and Chinese,
with and without a long attached document.  Target: p95 under 50 ms.
"""

from __future__ import annotations

import time

from .slider_latency import _setup_django
from .stats import describe_ms

RUNS = 200
POLICIES = ("improved", "book", "threshold", "length", "strongest")


def main() -> None:
    _setup_django()
    from django.test import Client

    client = Client(headers={"HX-Request": "true", "HX-Target": "lab-routing-flow-route"})
    client.get("/en/tools/route/", {"prompt": "warm up", "document": "zh-records"})  # load tokenizers once
    stamp = int(time.time())
    cases = {
        "English": lambda i: {"prompt": f"Compare plan {stamp}-{i} with the previous one"},
        "Chinese": lambda i: {"prompt": f"比较方案 {stamp}-{i} 和上一个方案的优缺点"},
        "with a document": lambda i: {"prompt": f"总结合同 {stamp}-{i}", "document": "zh-contract"},
    }
    print(f"Prompt box: server time per routed prompt ({RUNS} new prompts each)")
    for name, query in cases.items():
        samples = [_timed(client, {**query(i), "policy": POLICIES[i % len(POLICIES)]}) for i in range(RUNS)]
        print(f"  {name:16s}: {describe_ms(samples)}")


def _timed(client, query: dict) -> float:
    started = time.perf_counter()
    response = client.get("/en/tools/route/", query)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"the prompt box answered {response.status_code}: {response.content[:300]!r}")
    return elapsed


if __name__ == "__main__":
    main()
