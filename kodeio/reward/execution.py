"""`ExecutionReward`: a reward function for TRL (and, through `compute_score`, verl).

    reward = ExecutionReward()
    reward(prompts, completions, verification_info=[{...}, ...])  # -> [1.0, 0.0, ...]

Each completion is judged by kodeio's verifier (`kodeio.synth.verify.verify`): the answer
is extracted from the text, an output prediction is compared with the known output by
value, and an input prediction is run inside the sandbox and what it returns is compared
with the target output. 1.0 for a verified answer, else 0.0, plus `format_bonus` (off by
default) for a well-formed `<think>...</think>` and a parsable answer.

All executions of one call go through one Sandbox that lives as long as the reward: it
starts on the first execution and is closed when the reward is collected or the
interpreter exits. The reward pickles without it (for dataloader workers and Ray) and
opens a fresh one where it is unpickled.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import Any

from kodeio.reward.config import RewardConfig
from kodeio.reward.score import completion_text, info_dict, make_item, well_formed
from kodeio.sandbox import Sandbox
from kodeio.synth.verify import Verdict, VerifyConfig, verify


class ExecutionReward:
    """TRL's reward-function signature: `reward(prompts, completions, **columns) -> list[float]`.

    `verification_info` is the dataset column TRL passes by name: one dict per completion
    with `code, entry, mode, input, output` (optionally `output_repr, policy, seed,
    prediction_is_answer, cruxeval_rules`), or the same dict as a JSON string.
    """

    def __init__(self, config: RewardConfig | None = None, **overrides: Any) -> None:
        base = config or RewardConfig()
        self.config = base.model_copy(update=overrides) if overrides else base
        self.__name__ = "execution"  # TRL logs each reward function under its __name__
        self._verify_config = VerifyConfig(
            rel_tol=self.config.rel_tol,
            abs_tol=self.config.abs_tol,
            reject_unterminated=self.config.require_think,
            literal_inputs=not self.config.trust_model_code,
            sandbox=self.config.sandbox,
        )
        self._sandbox: Sandbox | None = None
        self._lock = threading.Lock()
        self.last_verdicts: list[Verdict] = []
        # Running totals for the trainer's verified rate (read and reset by take_counts).
        self.verified_count = 0
        self.scored_count = 0

    # ---- the sandbox, shared across calls ----------------------------------------------
    def sandbox(self) -> Sandbox:
        """The reward's sandbox (its workers start on the first execution)."""
        if self._sandbox is None:
            sb = Sandbox(self.config.sandbox)
            # Closed when the reward is collected or at interpreter exit, whichever is first;
            # the finalizer holds the sandbox, not the reward, so it does not keep it alive.
            weakref.finalize(self, sb.close)
            self._sandbox = sb
        return self._sandbox

    def close(self) -> None:
        """Stop the sandbox now; a later call starts a new one."""
        with self._lock:
            if self._sandbox is not None:
                self._sandbox.close()
                self._sandbox = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_sandbox"] = None  # processes and pipes do not travel; reopened on first use
        state["_lock"] = None
        state["last_verdicts"] = []
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def take_counts(self) -> tuple[int, int]:
        """(verified, scored) since the last call, and start counting again."""
        counts = (self.verified_count, self.scored_count)
        self.verified_count = self.scored_count = 0
        return counts

    # ---- scoring ------------------------------------------------------------------------
    def __call__(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] = (),
        verification_info: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> list[float]:
        if verification_info is None:
            raise TypeError(
                "ExecutionReward needs the dataset column verification_info "
                "(kodeio synth export --format rl writes it)"
            )
        if len(verification_info) != len(completions):
            raise ValueError(
                f"{len(completions)} completions but {len(verification_info)} verification_info"
            )
        return self.score([completion_text(c) for c in completions], verification_info)

    def score(self, texts: Sequence[str], infos: Sequence[Any]) -> list[float]:
        """Scores of model texts against their verification_info, in order."""
        trust = self.config.trust_model_code
        items = [
            make_item(info_dict(info, i), text, i, trust)
            for i, (text, info) in enumerate(zip(texts, infos, strict=True))
        ]
        with self._lock:
            verdicts = list(verify(items, self._verify_config, sandbox=self.sandbox()))
        self.last_verdicts = verdicts
        self.verified_count += sum(v.correct for v in verdicts)
        self.scored_count += len(verdicts)
        bonus = self.config.format_bonus
        return [
            float(v.correct) + (bonus if bonus and well_formed(t, v.extraction) else 0.0)
            for t, v in zip(texts, verdicts, strict=True)
        ]
