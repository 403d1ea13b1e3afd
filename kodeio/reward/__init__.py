"""Execution-verified rewards for RL (GRPO): kodeio's verifier as a reward function.

    from kodeio.reward import ExecutionReward
    trainer = GRPOTrainer(..., reward_funcs=[ExecutionReward()], train_dataset=rl_dataset)

See docs/rl.md.
"""

from kodeio.reward.config import RewardConfig
from kodeio.reward.execution import ExecutionReward
from kodeio.reward.format import FormatReward
from kodeio.reward.verl import compute_score

__all__ = ["ExecutionReward", "FormatReward", "RewardConfig", "compute_score"]
