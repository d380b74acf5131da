"""Cost control and monitoring (sections 30.4, 30.7, 30.8.3, 30.9, 30.10).

One concept per module: :mod:`.pricing` (prices and exact money), :mod:`.tokencount`
(the token-counting tool), :mod:`.tracker` (the callback handler that prices every
call), :mod:`.metrics` (the Prometheus registry it fills, and what a dashboard
reads from it), :mod:`.traffic` (a day's requests), :mod:`.compression` (our
prompt compressor), :mod:`.levers` (the optimised pipeline), :mod:`.serving` (one
system serving the traffic on the virtual clock), :mod:`.waterfall` (which lever
saved what), :mod:`.budget` (a daily budget on Redis, the race and its fix) and
:mod:`.book` (the chapter's figures, recomputed).
"""
