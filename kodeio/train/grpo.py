"""`run_grpo(TrainConfig) -> Path`: GRPO on execution rewards (`kodeio train --method grpo`).

The policy is a LoRA on the base model, trained with TRL's GRPOTrainer: it answers each
prompt `grpo.num_generations` times, kodeio's `ExecutionReward` scores every answer by
execution in one long-lived sandbox, and the group's advantages push it toward the
verified ones. Unsloth patches the trainer where it is the backend (with `use_vllm`, its
fast_inference generates); plain transformers + peft + TRL elsewhere, CPU included.

Data: `kodeio synth export PAIRS --format rl` output (a save_to_disk dir or JSONL) with
`prompt` (chat messages) and `verification_info`.

Run directory (OUTPUT, as for SFT):

    OUTPUT/config.yaml, adapter/, trainer_state.json, loss.png
    OUTPUT/checkpoints/checkpoint-N/   every save_steps; `--resume` continues from the latest
    OUTPUT/grpo_steps.jsonl  per logged step: reward mean/std, verified rate, completion length
    OUTPUT/reward.png        reward and verified rate against step
    OUTPUT/train_summary.json
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from kodeio.config import dump_config
from kodeio.errors import ConfigError, InputError
from kodeio.files import atomic_write_text, dumps
from kodeio.progress import console
from kodeio.train.config import TrainConfig
from kodeio.train.stage import _check_output_dir, _configure_reporting, _optim, _save_adapter

RL_COLUMNS = ("prompt", "verification_info")


def load_rl_prompts(paths: list[str]) -> Any:
    """The RL prompts of every path, as one `datasets.Dataset`; a bad source fails here."""
    import datasets

    if not paths:
        raise InputError("train.data: no dataset given; pass --data DIR (synth export --format rl)")
    parts = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            try:
                ds = datasets.load_from_disk(str(path))
            except (FileNotFoundError, ValueError) as exc:
                raise InputError(f"{path}: not a dataset saved with save_to_disk ({exc})") from None
            if isinstance(ds, datasets.DatasetDict):
                ds = ds["train"]
        elif path.suffix == ".jsonl" and path.is_file():
            from kodeio.files import read_jsonl

            ds = datasets.Dataset.from_list(read_jsonl(path, required=RL_COLUMNS))
        else:
            raise InputError(f"{path}: expected a save_to_disk dir or a .jsonl of RL prompts")
        missing = [c for c in RL_COLUMNS if c not in ds.column_names]
        if missing:
            raise InputError(
                f"{path}: missing column {missing[0]!r}; write RL data with "
                "`kodeio synth export PAIRS --format rl`"
            )
        if len(ds) == 0:
            raise InputError(f"{path}: no rows")
        parts.append(ds.select_columns(["id", *RL_COLUMNS] if "id" in ds.column_names
                                       else list(RL_COLUMNS)))  # fmt: skip
    return parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)


def reward_functions(config: TrainConfig) -> tuple[list[Any], list[float], Any]:
    """(reward functions, their weights, the ExecutionReward) from `grpo.reward_weights`."""
    from kodeio.reward import ExecutionReward, FormatReward

    execution = ExecutionReward(config.grpo.reward)
    funcs: list[Any] = []
    weights: list[float] = []
    for name, weight in config.grpo.reward_weights.items():
        funcs.append(execution if name == "execution" else FormatReward())
        weights.append(weight)
    return funcs, weights, execution


class StepLog:
    """Adds the verified rate to each logged step and appends the step to grpo_steps.jsonl."""

    def __init__(self, reward: Any, path: Path) -> None:
        self.reward = reward
        self.path = path

    def as_callback(self) -> Any:
        from transformers import TrainerCallback

        outer = self

        class Callback(TrainerCallback):
            def on_log(self, args, state, control, logs=None, **kw):  # type: ignore[no-untyped-def]
                if not logs or "reward" not in logs:
                    return
                verified, scored = outer.reward.take_counts()
                rate = verified / scored if scored else None
                entry = state.log_history[-1] if state.log_history else {}
                entry["verified_rate"] = rate  # into trainer_state.json's history too
                row = {
                    "step": state.global_step,
                    "reward_mean": logs.get("reward"),
                    "reward_std": logs.get("reward_std"),
                    "verified_rate": rate,
                    "completion_length": logs.get("completions/mean_length"),
                    "loss": logs.get("loss"),
                }
                with outer.path.open("a", encoding="utf-8") as fh:
                    fh.write(dumps(row) + "\n")

        return Callback()


def _load_policy(config: TrainConfig, backend: str, precision: Any) -> tuple[Any, Any, str, Any]:
    """Base model + LoRA (`init_adapter`'s weights when given); Unsloth's fast_inference when
    it generates with vLLM."""
    from kodeio.train.backend import (
        add_lora,
        load_base,
        load_init_adapter,
        lora_alpha,
        model_source,
        wants_4bit,
    )

    length = config.max_seq_length
    if backend == "unsloth" and config.grpo.use_vllm:
        from unsloth import FastLanguageModel

        model, tokenizer = FastLanguageModel.from_pretrained(
            model_name=model_source(config),
            max_seq_length=length,
            load_in_4bit=wants_4bit(config, precision),
            fast_inference=True,
            max_lora_rank=config.lora_r,
            gpu_memory_utilization=config.grpo.vllm_gpu_memory_utilization,
        )
        model = FastLanguageModel.get_peft_model(
            model,
            r=config.lora_r,
            lora_alpha=lora_alpha(config),
            target_modules=list(config.target_modules),
            use_gradient_checkpointing=config.gradient_checkpointing,
            random_state=config.seed,
        )
        return load_init_adapter(config, model), tokenizer, "unsloth", None
    model, tokenizer, backend, fallback = load_base(config, backend, length, precision)
    return add_lora(config, backend, model, length), tokenizer, backend, fallback


def grpo_args(
    config: TrainConfig, precision: Any, backend: str, out: Path, weights: list[float]
) -> Any:
    from trl import GRPOConfig

    try:
        return _grpo_config(GRPOConfig, config, precision, backend, out, weights)
    except ValueError as exc:  # TRL's own checks, e.g. batch sizes and num_generations
        raise ConfigError(f"train.grpo: {str(exc).splitlines()[0]}") from None


def _grpo_config(
    cls: Any, config: TrainConfig, precision: Any, backend: str, out: Path, weights: list[float]
) -> Any:
    g = config.grpo
    return cls(
        output_dir=str(out),
        per_device_train_batch_size=config.per_device_train_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        num_generations=g.num_generations,
        max_completion_length=g.max_completion_length,
        beta=g.beta,
        temperature=g.temperature,
        reward_weights=weights,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler_type,
        warmup_steps=config.warmup_steps,
        weight_decay=config.weight_decay,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps if config.max_steps is not None else -1,
        optim=_optim(config, precision.device),
        logging_steps=config.logging_steps,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        report_to=_configure_reporting(config),
        seed=config.seed,
        data_seed=config.seed,
        bf16=precision.bf16,
        fp16=precision.fp16,
        use_cpu=precision.device == "cpu",
        use_vllm=g.use_vllm and backend != "unsloth",  # Unsloth's fast_inference is vLLM
        vllm_mode="colocate",
        vllm_gpu_memory_utilization=g.vllm_gpu_memory_utilization,
        gradient_checkpointing=backend == "transformers" and bool(config.gradient_checkpointing),
        disable_tqdm=True,
        dataloader_num_workers=0,
        log_completions=False,
    )


def _trim_step_log(path: Path, resume_from: Path | None) -> None:
    """Keep the logged steps the resumed checkpoint has seen (all gone on a fresh start):
    steps logged after it, before a kill, are trained and logged again."""
    if resume_from is None or not path.is_file():
        path.unlink(missing_ok=True)
        return
    step = int(resume_from.name.rpartition("-")[2])
    from kodeio.files import read_jsonl, write_jsonl

    write_jsonl(path, [row for row in read_jsonl(path) if int(row["step"]) <= step])


def run_grpo(config: TrainConfig) -> Path:
    """Train with GRPO, export the adapter and reports; return OUTPUT (the run directory)."""
    from kodeio.train.backend import with_init_adapter_shape

    config = with_init_adapter_shape(config)  # the LoRA continues init_adapter's
    out = config.resolved_output_dir
    resume_from = _check_output_dir(out, config.resume)
    import datasets

    datasets.disable_progress_bars()
    prompts = load_rl_prompts(config.data)  # bad data fails here, before anything is written
    from kodeio.train.backend import pick_precision, select_backend, wants_4bit

    backend, fallback = select_backend(config.backend)
    precision = pick_precision(config)
    wants_4bit(config, precision)
    funcs, weights, execution = reward_functions(config)
    args = grpo_args(config, precision, backend, out / "checkpoints", weights)  # TRL's checks
    out.mkdir(parents=True, exist_ok=True)
    dump_config(config, out / "config.yaml")
    selected = backend
    model, tokenizer, backend, load_fallback = _load_policy(config, backend, precision)
    if backend != selected:  # Unsloth could not load the model: settings for the fallback
        args = grpo_args(config, precision, backend, out / "checkpoints", weights)
    fallback = fallback or load_fallback
    if fallback:
        console.print(f"[yellow]warning:[/] {fallback}; training with transformers + peft + TRL "
                      "instead", highlight=False, soft_wrap=True)  # fmt: skip
    console.print(
        f"grpo · backend [bold]{backend}[/] · device {precision.device} · {precision.dtype_name}"
        f" · {len(prompts)} prompts x {config.grpo.num_generations} generations"
    )
    steps_path = out / "grpo_steps.jsonl"
    _trim_step_log(steps_path, resume_from)

    from contextlib import nullcontext

    from trl import GRPOTrainer

    from kodeio.progress import progress_bar
    from kodeio.train.cpu_logprobs import cpu_logprobs
    from kodeio.train.stage import _RichProgress

    on_cpu = cpu_logprobs() if precision.device == "cpu" else nullcontext()
    try:
        with on_cpu, progress_bar("grpo", total=config.max_steps) as bar:
            progress = _RichProgress(bar)
            trainer = GRPOTrainer(
                model=model,
                reward_funcs=funcs,
                args=args,
                train_dataset=prompts,
                processing_class=tokenizer,
                callbacks=[progress.as_callback(), StepLog(execution, steps_path).as_callback()],
            )
            from transformers.trainer_callback import PrinterCallback

            trainer.remove_callback(PrinterCallback)
            start = time.perf_counter()
            result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
            seconds = time.perf_counter() - start
    finally:
        execution.close()

    _save_adapter(model, tokenizer, out / "adapter", config.model)
    trainer.state.save_to_json(str(out / "trainer_state.json"))
    from kodeio.train.plot import plot_loss, plot_rewards

    title = f"{config.model} · GRPO · LoRA r={config.lora_r}"
    plot_loss(trainer.state.log_history, out / "loss.png", title)
    plot_rewards(trainer.state.log_history, out / "reward.png", title)
    rewards = [e for e in trainer.state.log_history if "reward" in e]
    summary = {
        "method": "grpo",
        "backend": backend,
        "fallback_reason": fallback,
        "device": precision.device,
        "dtype": precision.dtype_name,
        "base_model": config.model,
        "init_adapter": str(config.init_adapter) if config.init_adapter else None,
        "global_step": trainer.state.global_step,
        "resumed_from": str(resume_from) if resume_from else None,
        "prompts": len(prompts),
        "num_generations": config.grpo.num_generations,
        "reward_first": rewards[0]["reward"] if rewards else None,
        "reward_last": rewards[-1]["reward"] if rewards else None,
        "verified_rate_first": rewards[0].get("verified_rate") if rewards else None,
        "verified_rate_last": rewards[-1].get("verified_rate") if rewards else None,
        "train_seconds": round(seconds, 2),
        "train_runtime_metrics": result.metrics,
        "output_dir": str(out),
    }
    atomic_write_text(
        out / "train_summary.json", json.dumps(summary, indent=2, ensure_ascii=False) + "\n"
    )
    return out
