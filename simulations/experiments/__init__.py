"""Experiments on live traffic: stable assignment, A/B statistics, sequential tests, canaries.

Pure Python and numpy/scipy/statsmodels, no Django: the experiments lab and the
classroom's live A/B test share these functions, so a class sees the same
assignment and the same statistics as a learner alone.

* :mod:`.assignment`: which variant a unit (a user, a session) sees, by hashing.
* :mod:`.stats`: differences of proportions and of means, the sample-ratio check.
"""

from .assignment import BUCKETS, assign, bucket
from .stats import compare_means, compare_proportions, srm_check

__all__ = ["BUCKETS", "assign", "bucket", "compare_means", "compare_proportions", "srm_check"]
