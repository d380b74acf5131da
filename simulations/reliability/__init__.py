"""Reliability (sections 30.5, 30.6, 30.11): retries, fallbacks, a circuit breaker, a decision tree.

* :mod:`.errors`: which failures are worth another try;
* :mod:`.retry`: langchain-core's ``with_retry`` made reproducible, a retry that
  honours ``retry-after``, per-input batch retries, and an Envoy-style retry budget;
* :mod:`.breaker`: a circuit breaker (closed, open, half-open) with its history;
* :mod:`.fallback`: ``with_fallbacks`` chains ending in a cache and a default answer;
* :mod:`.streaming`: what a fallback can and cannot do once tokens have been sent;
* :mod:`.strategies` and :mod:`.measures`: one seeded traffic replayed through each strategy;
* :mod:`.tree`: the decision tree, as data;
* :mod:`.book`: the chapter's code, run against today's langchain-core and tenacity.
"""
