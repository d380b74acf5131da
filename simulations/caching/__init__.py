"""The caching comparison: one seeded workload replayed against every cache strategy.

:mod:`.strategies` builds the caches, :mod:`.observed` measures each lookup,
:mod:`.replay` sends the traffic (warm-up, restart, single-flight), :mod:`.measures`
turns requests into figures, :mod:`.threshold` explores the semantic threshold,
:mod:`.keyview` shows what goes into an exact cache's key and :mod:`.book` sets
the chapters' figures beside ours.  The component itself is
``simulations.components.caching_comparison``.
"""
