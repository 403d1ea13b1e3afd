"""Estimators shared by the evals: unbiased pass@k and confidence intervals.

Every metric in a report is on a 0-100 scale (like CRUXEval's pass@k and sacrebleu), so one
bar chart can hold them all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# z for a two-sided 95% interval.
Z95 = 1.959963984540054


def pass_at_k(n: int, c: int, k: int) -> float:
    """Chen et al.'s unbiased pass@k for one problem with `c` correct out of `n` samples.

    Computed as 1 - prod(1 - k/i for i in n-c+1..n), which is exact and overflow-free.
    When fewer than k samples are wrong (n - c < k) every k-subset holds a correct one.
    """
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def wilson_interval(successes: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion, as fractions in [0, 1].

    Well behaved at 0 and n successes (where the normal approximation collapses), which is
    exactly where a tiny model on CRUXEval sits.
    """
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def score_interval(per_problem: Sequence[float]) -> tuple[float, float]:
    """95% interval of a mean per-problem score in [0, 1].

    Wilson score interval with the problems as trials and the summed per-problem scores as
    successes: exact for one sample per problem, and with several samples it still
    treats the problem (not the sample) as the unit, as a bootstrap over problems would,
    while staying well behaved at 0 and 100% where a bootstrap collapses to a point.
    """
    return wilson_interval(sum(per_problem), len(per_problem))
