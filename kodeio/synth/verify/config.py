"""Settings of the verification stage (light: the CLI imports this module)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from kodeio.config import StageConfig
from kodeio.sandbox.config import SandboxConfig
from kodeio.scale.shards import ScaleOutOptions

FORMATS = ("kodeio", "codeio", "cruxeval")


class VerifyConfig(StageConfig):
    """How answers are judged and executed. The `verify:` section of a recipe."""

    rel_tol: float = Field(1e-6, ge=0, description="relative float tolerance (json/python)")
    abs_tol: float = Field(0.0, ge=0, description="absolute float tolerance (json/python)")
    reject_unterminated: bool = Field(
        False,
        description="judge traces without </think> wrong (reason 'unterminated'); "
        "turn on for R1-style synthesis, off for models that do not think aloud",
    )
    literal_inputs: bool = Field(
        False,
        description="run a predicted input only when its arguments are literals (reason "
        "'non_literal_input' otherwise): code in the arguments runs in the job's own process "
        "and could write its own result; on for RL rewards",
    )
    batch_size: int = Field(
        1024, ge=1, description="items read, extracted and sent to the sandbox per batch"
    )
    dedupe: bool = Field(
        True, description="run identical (code, entry, input) executions once per batch"
    )
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)


class VerifyRunConfig(VerifyConfig, ScaleOutOptions):
    """`kodeio verify PRED.jsonl -o VERDICTS.jsonl`."""

    predictions: Path = Field(description="JSONL of predictions to judge")
    output: Path = Field(description="verdicts JSONL: id, correct, reason, produced, ...")
    format: Literal["kodeio", "codeio", "cruxeval"] = Field(
        "kodeio", description="row layout of the predictions file"
    )
    mode: Literal["output", "input"] | None = Field(
        None, description="mode for rows that do not name one (e.g. CRUXEval rows)"
    )
