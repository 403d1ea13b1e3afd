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


def change_interval(
    a: float, a_interval: tuple[float, float], b: float, b_interval: tuple[float, float]
) -> tuple[float, float]:
    """95% interval of the change b - a from each side's own 95% interval (Zou and Donner's
    MOVER; with Wilson intervals it is Newcombe's interval for a difference of proportions).

    It treats the two runs as independent samples. Base and tuned models scored on the same
    items are positively correlated, which makes the true interval narrower: this one errs
    on the side of "no measurable change", never of a change that is not there.
    """
    (la, ua), (lb, ub) = a_interval, b_interval
    d = b - a
    return (d - math.hypot(b - lb, ua - a), d + math.hypot(ub - b, a - la))


def bootstrap_corpus_interval(
    metric: object, hypotheses: Sequence[str], references: Sequence[str], n_bootstrap: int = 1000
) -> tuple[float, float]:
    """95% percentile interval of a corpus-level sacrebleu metric (chrF, BLEU), resampling
    sentences with replacement.

    sacrebleu extracts each sentence's statistics once and rescores resampled sums (seeded
    by SACREBLEU_SEED, 12345 unless set); kodeio takes the 2.5th and 97.5th percentiles.
    `corpus_score(n_bootstrap=...)` itself is not used: its summary step fails on a mix of
    float and float32 scores (a run where some resamples score exactly 0).
    """
    from sacrebleu.significance import _bootstrap_resample

    stats = metric._extract_corpus_statistics(list(hypotheses), [list(references)])  # type: ignore[attr-defined]
    _, scores = _bootstrap_resample(stats, metric, n_bootstrap)  # type: ignore[arg-type]
    values = sorted(float(s.score) for s in scores)
    lo, hi = values[int(0.025 * len(values))], values[int(0.975 * len(values)) - 1]
    return (min(100.0, max(0.0, lo)), max(0.0, min(100.0, hi)))


def describe_change(
    a: float,
    a_interval: tuple[float, float] | None,
    b: float,
    b_interval: tuple[float, float] | None,
) -> str:
    """'+3.10 [-1.2, +7.4]: no measurable change', or the signed change with its interval.

    Without an interval on both sides there is no way to tell a change from noise, and the
    text says so rather than printing a bare difference."""
    d = b - a
    if a_interval is None or b_interval is None:
        return f"{d:+.2f} (no interval: cannot tell from noise)"
    lo, hi = change_interval(a, a_interval, b, b_interval)
    verdict = "no measurable change" if lo <= 0.0 <= hi else ("up" if lo > 0 else "down")
    return f"{d:+.2f} [{lo:+.1f}, {hi:+.1f}]: {verdict}"
