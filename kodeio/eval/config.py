"""Configs of the `kodeio eval` commands (one pydantic model per command).

A recipe's `eval:` section may hold a sub-section per command (`eval.io`, `eval.translate`,
`eval.mcqa`, `eval.cruxeval_score`, `eval.compare`); each command reads its own.
The model-facing evals share `ModelEvalConfig`: the same backends, sampling and engine
settings as `kodeio synth run`, so a model is evaluated exactly as it would generate data.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, field_validator, model_validator

from kodeio.config import StageConfig
from kodeio.errors import ConfigError
from kodeio.llm.config import (
    BackendName,
    EngineConfig,
    OpenAIConfig,
    SamplingConfig,
    TransformersConfig,
    VllmConfig,
)
from kodeio.sandbox.config import SandboxConfig
from kodeio.synth.config import Language, Mode

C = TypeVar("C", bound=StageConfig)
CruxMode = Literal["input", "output"]
Direction = Literal["ko-en", "en-ko"]

# CRUXEval's checker gives each program 3 s and runs it under CPython's default
# recursion limit; the scoring sandbox mirrors both so verdicts match.
CRUXEVAL_TIMEOUT_S = 3.0
CRUXEVAL_RECURSION_LIMIT = 1000


def cruxeval_sandbox() -> SandboxConfig:
    return SandboxConfig(
        workers=os.cpu_count() or 1,
        timeout=CRUXEVAL_TIMEOUT_S,
        wall_factor=1.0,  # wall backstop 3 s * 1 + 1 s = 4 s, CRUXEval's join(timeout + 1)
        recursion_limit=CRUXEVAL_RECURSION_LIMIT,
        preload_numpy=False,  # CRUXEval code is stdlib-only; a lighter worker forks faster
    )


class CruxevalScoreConfig(StageConfig):
    """`kodeio eval score-cruxeval`: score published CRUXEval generations, officially."""

    data: Path = Field(..., description="cruxeval.jsonl (code, input, output per line)")
    generations: Path = Field(
        ..., description="JSON object {'sample_N': [prediction, ...]} (CRUXEval's format)"
    )
    mode: CruxMode | None = Field(
        None,
        description="input or output; unset: inferred from the file name like the official script",
    )
    output: Path = Field(..., description="scored JSON in the official shape")
    timeout: float = Field(CRUXEVAL_TIMEOUT_S, gt=0, description="seconds per check")
    sandbox: SandboxConfig = Field(default_factory=cruxeval_sandbox)

    @field_validator("sandbox", mode="before")
    @classmethod
    def _on_cruxeval_defaults(cls, value: Any) -> Any:
        # `--set sandbox.workers=4` changes one key; the rest keep CRUXEval's limits.
        if isinstance(value, dict):
            return {**cruxeval_sandbox().model_dump(), **value}
        return value


class ModelEvalConfig(StageConfig):
    """The model under test and how it generates (shared by io, translate and mcqa)."""

    run_dir: Path | None = Field(None, description="recipe default: reports go to RUN_DIR/eval/")
    output_dir: Path | None = Field(None, description="where report.json and items go")
    name: str | None = Field(None, description="label of this run in reports and comparisons")
    backend: BackendName = "vllm"
    model: str | None = Field(None, description="model id or local directory")
    adapter: Path | None = Field(None, description="a PEFT LoRA adapter applied to the model")
    think_prefix: bool = Field(True, description="generation prompt ends in '<think>\\n'")
    system_prompt: str | None = None
    max_items: int | None = Field(None, ge=1, description="evaluate only the first N items")
    concurrency: int = Field(16, ge=1, description="requests in flight (openai backend)")
    batch_size: int = Field(0, ge=0, description="requests per engine call; 0: backend default")
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    vllm: VllmConfig = Field(default_factory=VllmConfig)
    openai: OpenAIConfig = Field(default_factory=OpenAIConfig)
    transformers: TransformersConfig = Field(default_factory=TransformersConfig)
    script: Path | None = Field(None, description="scripted backend only: canned completions")

    @model_validator(mode="after")
    def _model_named(self) -> ModelEvalConfig:
        if self.backend != "scripted" and not self.model:
            raise ValueError("key 'model' is required (a model id or local directory)")
        return self

    def engine(self) -> EngineConfig:
        """The engine settings `kodeio.llm.make_backend` starts a backend from (no adapter)."""
        return EngineConfig.of(self, self.model or "scripted")

    def label(self) -> str:
        if self.name:
            return self.name
        base = Path(self.model or "scripted").name or str(self.model)
        return f"{base}+{self.adapter.name}" if self.adapter else base

    def model_info(self) -> dict[str, Any]:
        """The `model` block of a report."""
        return {
            "label": self.label(),
            "backend": self.backend,
            "model": self.model,
            "adapter": str(self.adapter) if self.adapter else None,
        }

    def resolve_output_dir(self, kind: str, data: Path) -> Path:
        if self.output_dir is not None:
            return self.output_dir
        root = self.run_dir if self.run_dir is not None else Path("runs")
        return root / "eval" / f"{kind}-{data.stem}"


class IoEvalConfig(ModelEvalConfig):
    """`kodeio eval io`: CRUXEval-style input/output prediction, scored by execution."""

    data: Path = Field(..., description="CRUXEval JSONL (code, input, output) or kodeio I/O pairs")
    format: Literal["auto", "cruxeval", "kodeio"] = "auto"
    modes: list[Mode] = Field(default_factory=lambda: ["output", "input"], min_length=1)
    language: Language = Field("en", description="prompt language (synthesis templates)")
    k: list[int] = Field(default_factory=lambda: [1, 5], description="pass@k reported when n >= k")
    sandbox: dict[str, Any] = Field(
        default_factory=dict,
        description="sandbox settings over the data's defaults (CRUXEval: its 3 s limit and "
        "recursion limit; kodeio pairs: the synthesis defaults)",
    )
    verify: dict[str, object] = Field(
        default_factory=dict, description="kodeio pairs: passed to the verifier's config"
    )

    @field_validator("modes")
    @classmethod
    def _unique(cls, modes: list[Mode]) -> list[Mode]:
        return list(dict.fromkeys(modes))

    @field_validator("sandbox")
    @classmethod
    def _valid_sandbox(cls, value: dict[str, Any]) -> dict[str, Any]:
        SandboxConfig.model_validate(value)  # unknown keys and bad values fail at load time
        return value

    def sandbox_config(self, data_format: str) -> SandboxConfig:
        base = cruxeval_sandbox() if data_format == "cruxeval" else SandboxConfig()
        return SandboxConfig.model_validate({**base.model_dump(), **self.sandbox})


class TranslateEvalConfig(ModelEvalConfig):
    """`kodeio eval translate`: chrF and BLEU on held-out Korean-English pairs."""

    data: Path = Field(
        ..., description="pairs JSONL {ko, en, source} or a `kodeio data mix` dataset directory"
    )
    split: str = Field("eval", description="dataset directory only: the split to read")
    sources: list[str] | None = Field(
        None, description="dataset directory only: the translation sources (default: all)"
    )
    directions: list[Direction] = Field(default_factory=lambda: ["ko-en", "en-ko"], min_length=1)
    sampling: SamplingConfig = Field(
        default_factory=lambda: SamplingConfig(temperature=0.0, max_tokens=2048)
    )


class McqaEvalConfig(ModelEvalConfig):
    """`kodeio eval mcqa`: multiple-choice accuracy in the KorMedMCQA layout."""

    data: Path = Field(
        ..., description="JSONL (or a datasets directory) with question, A..E, answer"
    )
    split: str = Field("test", description="dataset directory only: the split to read")
    letters: str = Field("ABCDE", min_length=2, description="the choice columns")
    sampling: SamplingConfig = Field(
        default_factory=lambda: SamplingConfig(temperature=0.0, max_tokens=4096)
    )


class CompareConfig(StageConfig):
    """`kodeio eval compare`: every metric of two runs, side by side, table and PNG."""

    run_a: Path
    run_b: Path
    output: Path | None = Field(None, description="PNG chart (default: RUN_B/compare.png)")
    label_a: str | None = None
    label_b: str | None = None


# Sub-sections of a recipe's `eval:` section, one per command.
COMMAND_SECTIONS = ("io", "translate", "mcqa", "cruxeval_score", "compare")


def load_eval_config(
    model: type[C],
    path: Path | None,
    overrides: list[str] | None,
    values: dict[str, Any],
    command: str,
) -> C:
    """Load a command's config from a stage file or a recipe's `eval:` section.

    In a recipe, keys directly under `eval:` (backend, model, sampling, ...) are shared by
    every eval command that has them, and `eval.<command>:` holds that command's own keys,
    which win. A plain stage file (no `eval:` key) is the command's config as a whole.
    CLI values and `--set` (with or without the `eval.` / `eval.<command>.` prefix) win.
    """
    from kodeio.config import load_config, read_yaml

    if path is None:
        return load_config(model, None, _strip(overrides, command), values)
    tree = read_yaml(Path(path))
    if "eval" not in tree:
        return load_config(model, path, _strip(overrides, command), values)
    section = tree.get("eval") or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: key 'eval' must be a mapping")
    merged: dict[str, Any] = {
        k: v for k, v in tree.items() if k in ("run_dir", "seed") and k in model.model_fields
    }
    merged.update(
        {k: v for k, v in section.items() if k not in COMMAND_SECTIONS and k in model.model_fields}
    )
    own = section.get(command) or {}
    if not isinstance(own, dict):
        raise ConfigError(f"{path}: key 'eval.{command}' must be a mapping")
    merged.update(own)
    combined = {**merged, **{k: v for k, v in values.items() if v is not None}}
    try:
        return load_config(model, None, _strip(overrides, command), combined)
    except ConfigError as exc:
        message = str(exc).replace("command line:", f"{path} (eval.{command}):", 1)
        raise ConfigError(message) from None


def _strip(overrides: list[str] | None, command: str) -> list[str]:
    out = []
    for item in overrides or []:
        for prefix in (f"eval.{command}.", "eval."):
            if item.startswith(prefix):
                item = item[len(prefix) :]
                break
        out.append(item)
    return out
