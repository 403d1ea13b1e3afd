"""`CleanOptions`: the thresholds and benchmarks of a clean (the recipe's `io.clean` section).

Kept apart from the stage so `IoConfig` can carry them (to check seeds a unifier rewrote)
without importing the clean stage, which imports the io config.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from kodeio.config import StageConfig


class CleanOptions(StageConfig):
    """The thresholds and the benchmarks; the recipe's `io.clean` section holds only these."""

    against: list[str] = Field(
        default_factory=list,
        description="benchmark files (JSONL, .py, directories) or hf:NAME[:SPLIT]",
    )
    dedup: bool = Field(True, description="drop seeds that repeat an earlier seed")
    ngram: int = Field(8, ge=1, description="token n-gram length of the overlap test")
    ngram_threshold: float = Field(
        0.7, gt=0, le=1, description="shared n-grams over the larger function's, to match"
    )
    boilerplate_share: float = Field(
        0.01, ge=0, le=1, description="n-grams in more benchmark functions than this are ignored"
    )
    shingle: int = Field(5, ge=1, description="token shingle length of MinHash")
    num_perm: int = Field(128, ge=16, description="MinHash permutations (a multiple of 16)")
    minhash_threshold: float = Field(
        0.8, gt=0, le=1, description="estimated Jaccard similarity that counts as a match"
    )
    io_min_chars: int = Field(
        16, ge=0, description="a (call, result) match counts only when its key is this long"
    )

    part_min_tokens: int = Field(
        24, ge=1, description="a function inside a larger seed is matched when this long"
    )

    @model_validator(mode="after")
    def _bands(self) -> CleanOptions:
        if self.num_perm % 16:
            raise ValueError("num_perm must be a multiple of 16 (the LSH bands)")
        return self
