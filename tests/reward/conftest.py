from __future__ import annotations

import pytest

from kodeio.reward import ExecutionReward, RewardConfig
from kodeio.sandbox import SandboxConfig

SMALL_SANDBOX = SandboxConfig(workers=2, timeout=1.0, memory_mb=512, wall_factor=2.0)


@pytest.fixture(scope="session")
def reward_config() -> RewardConfig:
    return RewardConfig(sandbox=SMALL_SANDBOX)


@pytest.fixture(scope="module")
def reward(reward_config: RewardConfig):
    """One reward, and so one real sandbox, per test module (closed with it: no sandbox
    workers outlive the reward tests into the rest of the suite)."""
    fn = ExecutionReward(reward_config)
    yield fn
    fn.close()
