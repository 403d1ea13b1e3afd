"""Intervals on every before/after number: their arithmetic against published values."""

from __future__ import annotations

import pytest

from kodeio.eval.stats import (
    bootstrap_corpus_interval,
    change_interval,
    describe_change,
    wilson_interval,
)


def test_wilson_matches_newcombes_published_intervals():
    # Newcombe (1998), Statistics in Medicine 17:857, table I: 81/263 -> 0.2553-0.3662.
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    # ... and 0/10 -> 0-0.2775, where the normal approximation gives the point 0.
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)


def test_change_of_two_rates_is_newcombes_method_10():
    # Newcombe (1998), Statistics in Medicine 17:873, table II, example (a): 56/70 vs 48/80,
    # difference 0.2000 with the score-based interval (method 10) 0.0524 to 0.3339.
    a, b = 48 / 80, 56 / 70
    lo, hi = change_interval(a, wilson_interval(48, 80), b, wilson_interval(56, 70))
    assert (lo, hi) == pytest.approx((0.0524, 0.3339), abs=1e-4)


def test_a_change_inside_the_noise_is_called_that():
    # 3/16 -> 5/16 reads as +12.5 points but is noise at n=16; 2/400 -> 60/400 is not.
    small = describe_change(
        100 * 3 / 16,
        tuple(100 * x for x in wilson_interval(3, 16)),
        100 * 5 / 16,
        tuple(100 * x for x in wilson_interval(5, 16)),
    )
    assert small.startswith("+12.50 [") and small.endswith(": no measurable change")
    big = describe_change(
        0.5, tuple(100 * x for x in wilson_interval(2, 400)),
        15.0, tuple(100 * x for x in wilson_interval(60, 400)),
    )  # fmt: skip
    assert big.endswith(": up")
    assert describe_change(50, None, 40, (30, 50)) == "-10.00 (no interval: cannot tell from noise)"


def test_bootstrap_interval_of_chrf_narrows_with_more_sentences():
    from sacrebleu.metrics import CHRF

    refs = ["The cat sat on the mat.", "I like green tea.", "Where is the station?", "It rains."]
    hyps = ["The cat is on the mat.", "I like tea.", "Where station?", "It is raining today."]
    score = CHRF().corpus_score(hyps, [refs]).score
    lo4, hi4 = bootstrap_corpus_interval(CHRF(), hyps, refs)
    lo64, hi64 = bootstrap_corpus_interval(CHRF(), hyps * 16, refs * 16)
    assert lo4 < score < hi4 and lo64 < score < hi64
    assert hi64 - lo64 < 0.5 * (hi4 - lo4)  # 16x the sentences: about a quarter the width
    assert bootstrap_corpus_interval(CHRF(), refs, refs) == (100.0, 100.0)
    # Resamples that score exactly 0 next to ones that do not (sacrebleu's own summary of
    # its bootstrap fails on this mix of float and float32).
    lo, hi = bootstrap_corpus_interval(CHRF(), ["zzz", "qqq", refs[0]], refs[:3])
    assert lo == 0.0 < hi
