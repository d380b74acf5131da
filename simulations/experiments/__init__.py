"""Experiments on live traffic: stable assignment, A/B statistics, sequential tests, canaries.

Pure Python and numpy/scipy/statsmodels, no Django: the experiments lab and the
classroom's live A/B test share these functions, so a class sees the same
assignment and the same statistics as a learner alone.

* :mod:`.assignment`: which variant a unit (a user, a session) sees, by hashing.
* :mod:`.stats`: differences of proportions and of means, the sample-ratio check,
  the exact test for a canary's extra errors.
* :mod:`.power`: the sample size an A/B test needs.
* :mod:`.sequential`: the mixture SPRT, its boundary and its confidence sequence.
* :mod:`.abtest`: one A/B test on simulated traffic, looked at as it runs.
* :mod:`.repetitions`: the same test over many seeds, in batches.
* :mod:`.canary`: weighted routing, the canary controller and what it can detect.
* :mod:`.book`: the chapter's own rules, re-expressed to measure them.
* :mod:`.facts`: the figures the lessons quote.
"""

from .assignment import BUCKETS, assign, bucket
from .stats import compare_means, compare_proportions, srm_check

__all__ = ["BUCKETS", "assign", "bucket", "compare_means", "compare_proportions", "srm_check"]
