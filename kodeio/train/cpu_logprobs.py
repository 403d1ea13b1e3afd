"""GRPO's per-token log-probabilities in plain torch, for CPU training.

TRL 1.15's GRPOTrainer computes them through a fused LM head whose inner function
(`trl.kernels.ChunkedLogProbFunction`) is a Triton kernel, and Triton has no CPU driver.
`cpu_logprobs()` swaps in `TorchLogProbs`, the same contract written with torch ops (full
logits, so only for the small models a CPU trains), for as long as the context is open.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class TorchLogProbs:
    """`apply(hidden, weight, bias, targets, temperature, chunk_size, softcap, logit_scale,
    outputs)` -> (log_probs, entropy, log_sum_sq_probs, mean_logits, is_top1), each [N] or
    None when not in `outputs`; differentiable through autograd."""

    @staticmethod
    def apply(
        hidden: Any,
        weight: Any,
        bias: Any,
        targets: Any,
        temperature: float,
        chunk_size: int,
        final_logit_softcapping: float | None = None,
        logit_scale: float = 1.0,
        outputs: tuple[str, ...] = ("log_probs",),
    ) -> tuple[Any, Any, Any, Any, Any]:
        import torch

        logits = torch.nn.functional.linear(hidden, weight, bias).float() * logit_scale
        if final_logit_softcapping is not None:
            logits = final_logit_softcapping * torch.tanh(logits / final_logit_softcapping)
        logits = logits / temperature
        logp = logits.log_softmax(-1)
        log_probs = logp.gather(-1, targets[:, None]).squeeze(-1)
        entropy = -(logp.exp() * logp).sum(-1) if "entropy" in outputs else None
        log_sum_sq = torch.logsumexp(2 * logp, -1) if "log_sum_sq_probs" in outputs else None
        mean_logits = logits.mean(-1) if "mean_logits" in outputs else None
        is_top1 = logits.argmax(-1) == targets if "is_top1" in outputs else None
        return log_probs, entropy, log_sum_sq, mean_logits, is_top1


@contextmanager
def cpu_logprobs() -> Iterator[None]:
    from trl.trainer import utils

    original = utils._ChunkedLogProbFunction
    utils._ChunkedLogProbFunction = TorchLogProbs
    try:
        yield
    finally:
        utils._ChunkedLogProbFunction = original
