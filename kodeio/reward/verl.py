"""verl's custom reward entry: `custom_reward_function.path=<this file>`, `name=compute_score`.

verl calls `compute_score(data_source, solution_str, ground_truth, extra_info)` once per
response. `ground_truth` is the `verification_info` dict (or its JSON string); one
`ExecutionReward`, and so one sandbox, serves every call of the process.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from kodeio.reward.execution import ExecutionReward


@cache
def shared_reward() -> ExecutionReward:
    return ExecutionReward()


def compute_score(
    data_source: str | None,
    solution_str: str,
    ground_truth: Any,
    extra_info: dict[str, Any] | None = None,
) -> float:
    """1.0 when the response's answer is verified by execution, else 0.0."""
    return shared_reward().score([solution_str], [ground_truth])[0]
