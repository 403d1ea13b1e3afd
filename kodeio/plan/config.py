"""The `plan` config: which recipe, which GPU, and the assumptions behind the hours."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from kodeio.config import StageConfig

GpuName = Literal["4090", "a100-80", "h100", "h200"]


class PlanConfig(StageConfig):
    """A recipe checked against one GPU. The assumptions are printed with every figure."""

    recipe: Path = Field(..., description="the recipe YAML (configs/*.yaml)")
    overrides: list[str] = Field(default_factory=list, description="--set key=value items")
    gpu: GpuName | None = Field(None, description="a preset card (docs/gpu.md lists its sources)")
    vram_gb: float | None = Field(None, gt=0, description="any card, by its memory in GiB")
    disk_gb: float | None = Field(None, gt=0, description="free disk in GB; unset: not checked")
    overhead_gb: float = Field(
        2.0,
        ge=0,
        description="GiB per GPU process beyond weights and cache: CUDA context, cuBLAS "
        "workspace, CUDA graphs, the activations of one prefill chunk or training step",
    )
    mean_fraction: float = Field(
        0.5, gt=0, le=1, description="mean completion (or training row) as a share of its cap"
    )
    prompt_tokens: int = Field(1024, ge=0, description="mean prompt length in tokens")
    revision_rate: float = Field(
        0.5, ge=0, le=1, description="share of first answers that get a revision turn"
    )
    train_utilization: float = Field(
        0.35, gt=0, le=1, description="assumed share of peak bf16 FLOPS training reaches"
    )
    offline: bool | None = Field(None, description="never ask the Hub (None: HF_HUB_OFFLINE)")
    this_machine: bool = Field(
        False, description="planning for the GPU in this machine: missing packages are errors"
    )
    stages: list[str] | None = Field(
        None, description="only these stages' problems stop the plan (None: every stage)"
    )
    skip_unknown_models: bool = Field(
        False, description="a model whose config.json is nowhere skips its stage with a note"
    )

    @model_validator(mode="after")
    def _one_card(self) -> PlanConfig:
        if self.gpu is not None and self.vram_gb is not None:
            raise ValueError("give --gpu or --vram-gb, not both")
        return self
