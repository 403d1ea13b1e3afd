"""The `train.grpo` settings: GRPO on TRL's GRPOTrainer with kodeio's execution reward.

Light on purpose (pydantic only): `kodeio train --help` imports this module. The keys
shared with SFT (model, data, learning_rate, max_steps, batch size, LoRA, save_steps,
resume) stay on TrainConfig; `method: grpo` picks this stage.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kodeio.config import StageConfig
from kodeio.reward.config import RewardConfig

RewardName = Literal["execution", "format"]


class GrpoOptions(StageConfig):
    """GRPO settings (TRL's GRPOConfig names where there is one)."""

    num_generations: int = Field(
        8, ge=2, description="completions per prompt; the group the advantages are taken over"
    )
    max_completion_length: int = Field(1024, ge=1, description="tokens per completion")
    beta: float = Field(0.0, ge=0, description="KL penalty to the base model (0: no reference)")
    temperature: float = Field(1.0, gt=0, description="sampling temperature of the rollouts")
    reward_weights: dict[RewardName, float] = Field(
        default_factory=lambda: {"execution": 1.0},
        description="reward functions and their weights: execution (1.0 verified, else 0.0) "
        "and format (1.0 for a closed <think> and a parsable answer)",
    )
    use_vllm: bool = Field(
        False, description="generate with vLLM (GPU): colocated, or Unsloth's fast_inference"
    )
    vllm_gpu_memory_utilization: float = Field(0.5, gt=0, le=1)
    reward: RewardConfig = Field(default_factory=RewardConfig)
