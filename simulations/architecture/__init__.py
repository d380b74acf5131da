"""The architecture lab (sections 32.1, 32.2 and 32.4): one concept per module.

``traffic`` (who sends what, when), ``gateway`` (per-tier rate limits on the real
Redis), ``queue`` (a priority queue with at-least-once delivery on the real
Redis), ``hpa`` (the Kubernetes horizontal pod autoscaler's algorithm),
``services`` (the service graph: which route needs which service), ``cluster``
(the run that ties them together on the virtual clock) and ``book`` (the
chapter's own tables and code, checked).
"""
