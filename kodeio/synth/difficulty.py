"""Difficulty from pass rate: of the k samples of one (pair, mode), how many were verified.

With `sampling.n_samples: k > 1` every trace row of a (pair, mode) gets the same
`pass_rate` (verified / k, revisions included) and `band`; `kodeio synth export --pass-rate
LO:HI` keeps the pairs inside a band (open-r1 and OpenThoughts3 filter this way: an item
every sample solves teaches little, one none solves has no verified trace to teach with).
"""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from kodeio.errors import ConfigError

BANDS = ("easy", "medium", "hard", "unsolved")


class DifficultyConfig(BaseModel):
    """Band limits on the pass rate: unsolved is 0, hard below `medium_from`, medium below
    `easy_from`, easy from there up to 1."""

    easy_from: float = Field(0.75, gt=0, le=1, description="pass rate from which a pair is easy")
    medium_from: float = Field(
        0.25, gt=0, le=1, description="pass rate from which a pair is medium (below: hard)"
    )

    @model_validator(mode="after")
    def _ordered(self) -> DifficultyConfig:
        if self.medium_from > self.easy_from:
            raise ValueError(
                f"difficulty.medium_from ({self.medium_from}) must not exceed "
                f"difficulty.easy_from ({self.easy_from})"
            )
        return self

    def band(self, pass_rate: float) -> str:
        if pass_rate <= 0:
            return "unsolved"
        if pass_rate >= self.easy_from:
            return "easy"
        if pass_rate >= self.medium_from:
            return "medium"
        return "hard"


def pass_rate(verified: int, samples: int) -> float:
    return round(verified / samples, 4) if samples else 0.0


def parse_range(text: str) -> tuple[float, float]:
    """`LO:HI` (either side may be empty) -> (lo, hi), both within [0, 1]."""
    lo_text, sep, hi_text = text.partition(":")
    try:
        if not sep:
            raise ValueError
        lo = float(lo_text) if lo_text.strip() else 0.0
        hi = float(hi_text) if hi_text.strip() else 1.0
    except ValueError:
        raise ConfigError(f"--pass-rate: expected LO:HI such as 0.1:0.6, got {text!r}") from None
    if not 0.0 <= lo <= hi <= 1.0:
        raise ConfigError(f"--pass-rate: expected 0 <= LO <= HI <= 1, got {text!r}")
    return lo, hi
