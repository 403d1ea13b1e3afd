"""Settings of the execution reward (light: the train config imports this module)."""

from __future__ import annotations

from pydantic import Field

from kodeio.config import StageConfig
from kodeio.sandbox.config import SandboxConfig


class RewardConfig(StageConfig):
    """How completions are scored. The `reward:` section of a GRPO config.

    The reward keeps to the literal path unless `trust_model_code` is set: a predicted
    input must be literal arguments, and CRUXEval's expression checks are never used. Code
    a model writes runs in the job's own process, where it could print whatever result it
    likes and mark itself right; a policy under RL pressure finds that (docs/sandbox.md,
    Known limits).
    """

    format_bonus: float = Field(
        0.0,
        ge=0,
        description="added for a well-formed `<think>...</think>` followed by a parsable "
        "answer (off by default: the verified answer is the whole reward)",
    )
    require_think: bool = Field(
        False,
        description="score a completion without `</think>` 0 (truncated, or never closed "
        "its reasoning); on for R1-style models, off for models that do not think aloud",
    )
    rel_tol: float = Field(1e-6, ge=0, description="relative float tolerance")
    abs_tol: float = Field(0.0, ge=0, description="absolute float tolerance")
    trust_model_code: bool = Field(
        False,
        description="let predicted inputs be code and honour `cruxeval_rules`; a policy can "
        "then forge its own result (see docs/rl.md)",
    )
    sandbox: SandboxConfig = Field(
        default_factory=lambda: SandboxConfig(timeout=2.0),
        description="the sandbox the predicted inputs run in (one for the reward's life)",
    )
