"""`run_stage(TrainConfig) -> Path`: LoRA SFT that keeps the R1 reasoning.

Run directory (OUTPUT = train.output_dir, default RUN_DIR/train or runs/train):

    OUTPUT/config.yaml          resolved TrainConfig (`model` is the base model)
    OUTPUT/adapter/             PEFT adapter + tokenizer + inference chat template
    OUTPUT/trainer_state.json   HF TrainerState of the finished run (log_history has the losses)
    OUTPUT/loss.png             loss curve
    OUTPUT/samples.md           before/after generations on the fixed prompts
    OUTPUT/train_summary.json   backend, precision, lengths, padding waste, tokens/s, ...
    OUTPUT/checkpoints/checkpoint-N/   every save_steps; `--resume` continues from the latest

Order matters: data and config problems are found before any model is loaded, and
Unsloth is imported before transformers so its patches apply.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from kodeio.config import dump_config
from kodeio.errors import ConfigError, InputError
from kodeio.files import atomic_write_text
from kodeio.progress import console
from kodeio.train.config import TrainConfig

log = logging.getLogger(__name__)

CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")


def latest_checkpoint(ckpt_dir: Path) -> Path | None:
    """The newest checkpoint that was written completely (trainer_state.json is saved last)."""
    if not ckpt_dir.is_dir():
        return None
    found = []
    for child in ckpt_dir.iterdir():
        m = CHECKPOINT_RE.match(child.name)
        state = child / "trainer_state.json"
        if m and state.is_file():
            try:
                json.loads(state.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue  # killed while writing this checkpoint
            found.append((int(m.group(1)), child))
    return max(found)[1] if found else None


def _check_output_dir(out: Path, resume: bool) -> Path | None:
    ckpt = latest_checkpoint(out / "checkpoints")
    if resume:
        if ckpt is None:
            console.print(
                f"[yellow]--resume: no complete checkpoint in {out / 'checkpoints'}; starting from step 0"
            )
        return ckpt
    if ckpt is not None or (out / "adapter").exists():
        raise ConfigError(
            f"{out}: already holds a training run; pass --resume to continue it or choose another --output-dir"
        )
    return None


def _configure_reporting(config: TrainConfig) -> list[str] | str:
    # wandb stays off unless named: some installs auto-enable it when the package is present.
    if "wandb" not in config.report_to:
        os.environ["WANDB_DISABLED"] = "true"
        os.environ["WANDB_MODE"] = "disabled"
    return list(config.report_to) or "none"


def _load_tokenizer(model: str) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(model)
    except OSError as exc:
        raise ConfigError(
            f"train.model {model!r}: cannot load its tokenizer ({str(exc).splitlines()[0]})"
        ) from None


def _optim(config: TrainConfig, device: str) -> str:
    if config.optim != "auto":
        return config.optim
    return "adamw_8bit" if device == "cuda" else "adamw_torch"


class _RichProgress:
    """A TrainerCallback-compatible object driving kodeio's rich progress bar."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar
        self.last_loss: float | None = None

    def as_callback(self) -> Any:
        from transformers import TrainerCallback

        outer = self

        class Callback(TrainerCallback):
            def on_train_begin(self, args, state, control, **kw):  # type: ignore[no-untyped-def]
                outer.bar.update(0, total=state.max_steps, completed=state.global_step)

            def on_step_end(self, args, state, control, **kw):  # type: ignore[no-untyped-def]
                outer.bar.update(0, completed=state.global_step)

            def on_log(self, args, state, control, logs=None, **kw):  # type: ignore[no-untyped-def]
                if logs and "loss" in logs:
                    outer.last_loss = float(logs["loss"])
                    outer.bar.update(0, info=f"loss {outer.last_loss:.4f}")

        return Callback()


def build_trainer(
    config: TrainConfig, *, quiet: bool = False, conversations: Any = None
) -> dict[str, Any]:
    """Validate inputs, load the model and build the SFTTrainer (no training yet).

    Returns a dict with trainer, model, tokenizer, template, lengths, backend info. Used by
    run_stage, the tests (label mask) and bench/train.py.
    """
    from kodeio.train.data import load_conversations
    from kodeio.train.samples import load_sample_prompts

    if conversations is None:
        conversations = load_conversations(config.data)
    prompts = load_sample_prompts(config.sample_prompts) if config.samples else []
    report_to = _configure_reporting(config)

    from kodeio.train.backend import (
        add_lora,
        load_base,
        model_source,
        pick_precision,
        select_backend,
        wants_4bit,
    )

    backend, fallback = select_backend(config.backend)
    precision = pick_precision(config)
    wants_4bit(config, precision)  # a CPU + 4-bit config fails here, before loading

    from kodeio.train.lengths import apply_length_policy
    from kodeio.train.templates import choose_training_template, verify_training_template

    probe_tokenizer = _load_tokenizer(model_source(config))
    template = choose_training_template(probe_tokenizer, config.chat_template)
    trained_fraction = verify_training_template(probe_tokenizer, template)
    # Over-length rows are dropped (or, opted in, left to truncate) before any model loads.
    conversations, lengths, dropped = apply_length_policy(
        probe_tokenizer, conversations, template.template, config
    )
    _say_length_policy(config, lengths, dropped, len(conversations.train), quiet)

    model, tokenizer, backend, load_fallback = load_base(
        config, backend, lengths.max_length, precision
    )
    fallback = fallback or load_fallback
    if fallback:
        if quiet:  # printed below otherwise; both would say the same thing twice
            log.warning("falling back to transformers + peft + TRL: %s", fallback)
        else:
            console.print(
                f"[yellow]warning:[/] {fallback}; training with transformers + peft + TRL instead",
                highlight=False,
                soft_wrap=True,  # one line, however long: it is what a user greps for
            )
    if not quiet:
        console.print(
            f"backend: [bold]{backend}[/] · device {precision.device} · {precision.dtype_name} · "
            f"max_length {lengths.max_length} (p{config.length_percentile:g} of {lengths.measured} rows, "
            f"cap {config.max_seq_length}) · template: {template.source}"
        )
    if tokenizer.pad_token is None or tokenizer.pad_token_id == tokenizer.eos_token_id:
        # Padding with EOS would hide the EOS label in some collators; keep them distinct when possible.
        log.info("tokenizer pad token is %r", tokenizer.pad_token)
    tokenizer.chat_template = template.inference_template
    return {
        "conversations": conversations,
        "prompts": prompts,
        "report_to": report_to,
        "backend": backend,
        "fallback": fallback,
        "precision": precision,
        "template": template,
        "trained_fraction_probe": trained_fraction,
        "lengths": lengths,
        "length_dropped": dropped,
        "model": model,
        "tokenizer": tokenizer,
        "add_lora": lambda m: add_lora(config, backend, m, lengths.max_length),
    }


def _say_length_policy(
    config: TrainConfig, lengths: Any, dropped: Any, kept_train: int, quiet: bool
) -> None:
    """One line: what was dropped, or the warning that truncated rows lose their answer."""
    if config.over_length == "drop":
        line = dropped.line(kept_train, lengths.max_length)
        if quiet:
            log.info(line)
        else:
            console.print(line, highlight=False, soft_wrap=True)
        return
    warning = (
        f"over_length: truncate: {lengths.truncated_rows} of {lengths.measured} measured rows "
        f"are longer than max_length {lengths.max_length} and will be cut, losing their final "
        "answer and EOS (the default, over_length: drop, leaves them out)"
    )
    if quiet:
        log.warning(warning)
    else:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)


def make_trainer(
    config: TrainConfig, parts: dict[str, Any], output_dir: Path, callbacks: list[Any]
) -> Any:
    """Attach LoRA and construct TRL's SFTTrainer with assistant-only loss."""
    import datasets
    from trl import SFTConfig, SFTTrainer

    model = parts["add_lora"](parts["model"])
    parts["model"] = model
    tokenizer = parts["tokenizer"]
    conversations = parts["conversations"]
    precision = parts["precision"]
    train_ds = datasets.Dataset.from_list([{"messages": m} for m in conversations.train])
    eval_ds = (
        datasets.Dataset.from_list([{"messages": m} for m in conversations.eval])
        if conversations.eval
        else None
    )
    do_eval = eval_ds is not None and config.eval_steps is not None
    gc = config.gradient_checkpointing
    args = SFTConfig(
        output_dir=str(output_dir),
        per_device_train_batch_size=config.per_device_train_batch_size,
        per_device_eval_batch_size=config.per_device_train_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps if config.max_steps is not None else -1,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler_type,
        warmup_steps=config.warmup_steps,
        weight_decay=config.weight_decay,
        optim=_optim(config, precision.device),
        logging_steps=config.logging_steps,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        eval_strategy="steps" if do_eval else "no",
        eval_steps=config.eval_steps if do_eval else None,
        report_to=parts["report_to"],
        seed=config.seed,
        data_seed=config.seed,
        bf16=precision.bf16,
        fp16=precision.fp16,
        use_cpu=precision.device == "cpu",
        max_length=parts["lengths"].max_length,
        packing=config.packing,
        packing_strategy="bfd",
        # The trap: without this the R1 template drops the reasoning and the prompt is trained.
        assistant_only_loss=True,
        # Unsloth applies its own (offloaded) checkpointing in get_peft_model.
        gradient_checkpointing=parts["backend"] == "transformers" and bool(gc),
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    # Tokenize with the training template (generation markers, reasoning kept); the
    # inference template goes back on the tokenizer before anything is saved.
    tokenizer.chat_template = parts["template"].template
    trainer_cls = SFTTrainer
    if parts["backend"] == "transformers" and precision.device == "cpu":
        trainer_cls = _cpu_sft_trainer_class(SFTTrainer)
    trainer = trainer_cls(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tokenizer,
        callbacks=callbacks,
    )
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # the rich bar and the summary replace raw dict prints
    # Unsloth's CPU path turns packing off (no FlashAttention to keep packed examples apart).
    parts["packing_effective"] = bool(trainer.args.packing)
    if config.packing and not trainer.args.packing:
        console.print(
            f"[yellow]note:[/] the {parts['backend']} backend on {precision.device} does not support "
            "packing; using padded batches"
        )
    return trainer


def _cpu_sft_trainer_class(base: type) -> type:
    """TRL 1.15 computes the SFT loss with a Triton fused LM head, which has no CPU driver.

    On CPU the plain backend uses the model's own cross-entropy instead (same labels, same
    assistant mask, same token-count normalisation through num_items_in_batch).
    """
    from transformers import Trainer

    class CpuSFTTrainer(base):  # type: ignore[misc, valid-type]
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # type: ignore[no-untyped-def]
            # Without a KV cache transformers builds per-document masks from packed position ids;
            # with one (use_cache defaults to True) packed examples would attend to each other.
            inputs = {**inputs, "use_cache": False}
            # TRL's `num_tokens` bookkeeping, which its compute_loss would have done.
            if model.training:
                if "attention_mask" in inputs:
                    seen = int(inputs["attention_mask"].sum())
                else:
                    seen = int(inputs["position_ids"].size(1))
                self._total_train_tokens += seen
                self._metrics["train"]["num_tokens"] = [self._total_train_tokens]
            return Trainer.compute_loss(
                self,
                model,
                inputs,
                return_outputs=return_outputs,
                num_items_in_batch=num_items_in_batch,
            )

    return CpuSFTTrainer


def _summary_table(summary: dict[str, Any]) -> Any:
    from rich.table import Table

    table = Table(title="train summary", show_header=False)
    for key in (
        "backend",
        "device",
        "dtype",
        "global_step",
        "train_loss_first",
        "train_loss_last",
        "eval_loss",
        "max_length",
        "padding_waste",
        "tokens_per_second",
        "train_seconds",
        "peak_vram_gb",
        "output_dir",
    ):
        if summary.get(key) is not None:
            value = summary[key]
            table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
    return table


def run_stage(config: TrainConfig) -> Path:
    """Train, export the adapter and reports; return OUTPUT (the run directory)."""
    from kodeio.train.backend import with_init_adapter_shape

    config = with_init_adapter_shape(config)  # the LoRA continues init_adapter's, if any
    out = config.resolved_output_dir
    resume_from = _check_output_dir(out, config.resume)
    import datasets

    from kodeio.train.data import load_conversations

    datasets.disable_progress_bars()
    conversations = load_conversations(
        config.data
    )  # bad data fails here, before any file is written
    out.mkdir(parents=True, exist_ok=True)
    dump_config(config, out / "config.yaml")
    parts = build_trainer(config, conversations=conversations)
    tokenizer = parts["tokenizer"]
    prompts = parts["prompts"]

    from kodeio.train.samples import generate, render_samples

    before: list[str] | None = None
    before_path = out / "samples_before.json"
    if prompts:
        if (
            before_path.is_file()
        ):  # a resumed run keeps the base model's answers from the first start
            before = json.loads(before_path.read_text(encoding="utf-8"))
        else:
            console.print(f"generating {len(prompts)} base-model samples …")
            before = generate(parts["model"], tokenizer, prompts, config.sample_max_new_tokens)
            atomic_write_text(before_path, json.dumps(before, ensure_ascii=False, indent=1))

    from kodeio.progress import progress_bar

    with progress_bar("train", total=config.max_steps) as bar:
        progress = _RichProgress(bar)
        trainer = make_trainer(config, parts, out / "checkpoints", [progress.as_callback()])
        from kodeio.train.lengths import measure_padding

        padding = measure_padding(trainer.get_train_dataloader())
        from transformers import set_seed

        set_seed(
            config.seed
        )  # measuring drew from the sampler's RNG; training starts from the seed
        import torch

        if parts["precision"].device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
        seconds = time.perf_counter() - start

    model = parts["model"]
    template = parts["template"]
    tokenizer.chat_template = template.inference_template
    eval_loss = None
    if parts["conversations"].eval:
        eval_loss = float(trainer.evaluate()["eval_loss"])

    _save_adapter(model, tokenizer, out / "adapter", config.model)
    trainer.state.save_to_json(str(out / "trainer_state.json"))

    from kodeio.train.plot import plot_loss

    plot_loss(
        trainer.state.log_history, out / "loss.png", f"{config.model} · LoRA r={config.lora_r}"
    )
    if prompts:
        after = generate(model, tokenizer, prompts, config.sample_max_new_tokens)
        atomic_write_text(out / "samples.md", render_samples(prompts, before, after, config.model))

    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    tokens = next(
        (e.get("num_tokens") for e in reversed(trainer.state.log_history) if "num_tokens" in e),
        None,
    )
    lengths = parts["lengths"]
    summary = {
        "backend": parts["backend"],
        "fallback_reason": parts["fallback"],
        "device": parts["precision"].device,
        "dtype": parts["precision"].dtype_name,
        "base_model": config.model,
        "training_template": template.source,
        "trained_fraction_probe": round(parts["trained_fraction_probe"], 4),
        "global_step": trainer.state.global_step,
        "resumed_from": str(resume_from) if resume_from else None,
        "train_loss_first": losses[0] if losses else None,
        "train_loss_last": losses[-1] if losses else None,
        "eval_loss": eval_loss,
        "max_length": lengths.max_length,
        "lengths": lengths.as_dict(),
        "length_dropped": parts["length_dropped"].as_dict(),
        "packing": config.packing,
        "packing_effective": parts["packing_effective"],
        "padding": padding.as_dict(),
        "padding_waste": round(padding.waste, 4),
        "train_rows": len(parts["conversations"].train),
        "eval_rows": len(parts["conversations"].eval),
        "train_seconds": round(seconds, 2),
        # num_tokens counts real (non-padding) tokens since step 0, so only a fresh run gives a rate.
        "tokens_per_second": round(float(tokens) / seconds, 1)
        if tokens and seconds > 0 and not resume_from
        else None,
        "peak_vram_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2)
        if torch.cuda.is_available()
        else None,
        "peak_vram_reserved_gb": round(torch.cuda.max_memory_reserved() / 2**30, 2)
        if torch.cuda.is_available()
        else None,
        "train_runtime_metrics": result.metrics,
        "output_dir": str(out),
    }
    atomic_write_text(
        out / "train_summary.json", json.dumps(summary, indent=2, ensure_ascii=False) + "\n"
    )
    dump_config(config, out / "config.yaml")
    console.print(_summary_table(summary))
    return out


def _save_adapter(model: Any, tokenizer: Any, path: Path, base_model: str) -> None:
    """Write adapter + tokenizer to a temp dir and swap it in, so a kill never leaves half an adapter."""
    tmp = path.with_name(path.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    cfg_path = tmp / "adapter_config.json"
    if not cfg_path.is_file():
        raise InputError(
            f"{tmp}: the backend saved no adapter_config.json (is the model a PEFT model?)"
        )
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    if cfg.get("base_model_name_or_path") != base_model:
        # Unsloth may record its own repo id; export/eval read the base from here and config.yaml.
        cfg["base_model_name_or_path"] = base_model
        cfg_path.write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
    if path.exists():
        shutil.rmtree(path)
    tmp.rename(path)
