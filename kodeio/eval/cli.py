"""`kodeio eval ...`: measure what a fine-tune changed.

Imports here stay light (typer, pydantic configs); every command imports its engine
inside the function so `kodeio eval --help` never loads torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kodeio.cli.options import ConfigOption, SetOption

eval_app = typer.Typer(
    help="Evaluate models: CRUXEval-style I/O prediction, translation, medical MCQA, "
    "official CRUXEval scoring, and before/after comparison.",
    no_args_is_help=True,
)

ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="Model id or local directory.")]
AdapterOpt = Annotated[
    Path | None, typer.Option("--adapter", help="PEFT LoRA adapter applied to the model.")
]
BackendOpt = Annotated[
    str | None, typer.Option("--backend", help="vllm (default), openai, transformers, scripted.")
]
BaseUrlOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--base-url", help="openai backend: server URL(s), e.g. http://127.0.0.1:8000/v1."
    ),
]
OutDirOpt = Annotated[
    Path | None,
    typer.Option("--output-dir", "-o", help="Directory for report.json and per-item results."),
]
NameOpt = Annotated[str | None, typer.Option("--name", help="Label of this run in reports.")]
MaxItemsOpt = Annotated[
    int | None, typer.Option("--max-items", help="Evaluate only the first N items.")
]
SamplesOpt = Annotated[
    int | None, typer.Option("--n-samples", "-n", help="Samples per prompt (pass@k for k <= n).")
]
TemperatureOpt = Annotated[
    float | None, typer.Option("--temperature", help="Sampling temperature.")
]
MaxTokensOpt = Annotated[
    int | None, typer.Option("--max-tokens", help="Completion budget per answer.")
]


def _model_values(
    model: str | None,
    adapter: Path | None,
    backend: str | None,
    base_url: list[str] | None,
    output_dir: Path | None,
    name: str | None,
    max_items: int | None,
    n_samples: int | None,
    temperature: float | None,
    max_tokens: int | None,
) -> dict[str, object]:
    return {
        "model": model,
        "adapter": str(adapter) if adapter else None,
        "backend": backend,
        "openai.base_urls": base_url or None,
        "output_dir": str(output_dir) if output_dir else None,
        "name": name,
        "max_items": max_items,
        "sampling.n_samples": n_samples,
        "sampling.temperature": temperature,
        "sampling.max_tokens": max_tokens,
    }


def _print_report(path: Path) -> None:
    from kodeio.eval.compare import print_report

    print_report(path)


@eval_app.command("score-cruxeval")
def score_cruxeval(
    data: Annotated[Path, typer.Option("--data", help="cruxeval.jsonl (code, input, output).")],
    generations: Annotated[
        Path,
        typer.Option("--generations", "-g", help="JSON {'sample_N': [prediction, ...]}."),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Scored JSON (official shape).")],
    mode: Annotated[
        str | None,
        typer.Option(
            "--mode", help="input or output (default: inferred from the file name, as officially)."
        ),
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Sandbox workers (default: CPUs).")] = None,
    config: ConfigOption = None,
    set_: SetOption = None,
) -> None:
    """Score CRUXEval generations with the official rules, every prediction in the sandbox."""
    from kodeio.eval.config import CruxevalScoreConfig, load_eval_config
    from kodeio.eval.cruxeval_stage import run_stage, sidecar

    cfg = load_eval_config(
        CruxevalScoreConfig,
        config,
        set_,
        command="cruxeval_score",
        values={
            "data": str(data),
            "generations": str(generations),
            "output": str(output),
            "mode": mode,
            "sandbox.workers": workers,
        },
    )
    if cfg.mode is None:
        from kodeio.eval.cruxeval import infer_mode
        from kodeio.progress import console

        console.print(
            f"mode: {infer_mode(cfg.generations)} (inferred from the file name, as the official "
            "script does; pass --mode to set it)"
        )
    path = run_stage(cfg)
    _print_report(sidecar(path, ".report.json"))


@eval_app.command("io")
def io(
    data: Annotated[
        Path,
        typer.Option("--data", help="CRUXEval JSONL (code, input, output) or kodeio I/O pairs."),
    ],
    model: ModelOpt = None,
    adapter: AdapterOpt = None,
    backend: BackendOpt = None,
    base_url: BaseUrlOpt = None,
    mode: Annotated[
        list[str] | None, typer.Option("--mode", help="output and/or input (default: both).")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="Prompt language: en (default) or ko.")
    ] = None,
    output_dir: OutDirOpt = None,
    name: NameOpt = None,
    max_items: MaxItemsOpt = None,
    n_samples: SamplesOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
    config: ConfigOption = None,
    set_: SetOption = None,
) -> None:
    """Input/output prediction (CRUXEval-style): pass@1 and pass@k per mode, 95% intervals."""
    from kodeio.eval.config import IoEvalConfig, load_eval_config
    from kodeio.eval.io_eval import run_stage

    values = _model_values(
        model, adapter, backend, base_url, output_dir, name, max_items, n_samples,
        temperature, max_tokens,
    )  # fmt: skip
    values.update({"data": str(data), "modes": mode or None, "language": language})
    cfg = load_eval_config(IoEvalConfig, config, set_, values, command="io")
    _print_report(run_stage(cfg))


@eval_app.command("translate")
def translate(
    data: Annotated[
        Path,
        typer.Option(
            "--data",
            help="Held-out pairs JSONL {ko, en, source}, or a `kodeio data mix` dataset directory.",
        ),
    ],
    model: ModelOpt = None,
    adapter: AdapterOpt = None,
    backend: BackendOpt = None,
    base_url: BaseUrlOpt = None,
    direction: Annotated[
        list[str] | None,
        typer.Option("--direction", help="ko-en and/or en-ko (default: both)."),
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="Dataset directory: the translation source name(s)."),
    ] = None,
    split: Annotated[
        str | None, typer.Option("--split", help="Dataset directory: split (default eval).")
    ] = None,
    output_dir: OutDirOpt = None,
    name: NameOpt = None,
    max_items: MaxItemsOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
    config: ConfigOption = None,
    set_: SetOption = None,
) -> None:
    """Translation quality, both directions: corpus chrF and BLEU (sacrebleu)."""
    from kodeio.eval.config import TranslateEvalConfig, load_eval_config
    from kodeio.eval.translate import run_stage

    values = _model_values(
        model, adapter, backend, base_url, output_dir, name, max_items, None,
        temperature, max_tokens,
    )  # fmt: skip
    values.update(
        {
            "data": str(data),
            "directions": direction or None,
            "sources": source or None,
            "split": split,
        }
    )
    cfg = load_eval_config(TranslateEvalConfig, config, set_, values, command="translate")
    _print_report(run_stage(cfg))


@eval_app.command("mcqa")
def mcqa(
    data: Annotated[
        Path,
        typer.Option("--data", help="JSONL or datasets directory: question, A..E, answer."),
    ],
    model: ModelOpt = None,
    adapter: AdapterOpt = None,
    backend: BackendOpt = None,
    base_url: BaseUrlOpt = None,
    split: Annotated[
        str | None, typer.Option("--split", help="Dataset directory: split (default test).")
    ] = None,
    output_dir: OutDirOpt = None,
    name: NameOpt = None,
    max_items: MaxItemsOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
    config: ConfigOption = None,
    set_: SetOption = None,
) -> None:
    """Multiple-choice medical QA (KorMedMCQA layout): accuracy, letter read after </think>."""
    from kodeio.eval.config import McqaEvalConfig, load_eval_config
    from kodeio.eval.mcqa import run_stage

    values = _model_values(
        model, adapter, backend, base_url, output_dir, name, max_items, None,
        temperature, max_tokens,
    )  # fmt: skip
    values.update({"data": str(data), "split": split})
    cfg = load_eval_config(McqaEvalConfig, config, set_, values, command="mcqa")
    _print_report(run_stage(cfg))


@eval_app.command("compare")
def compare(
    run_a: Annotated[Path, typer.Argument(help="Base run: a run dir, eval dir or report file.")],
    run_b: Annotated[Path, typer.Argument(help="Fine-tuned run, same forms.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="PNG chart (default RUN_B/compare.png).")
    ] = None,
    label_a: Annotated[str | None, typer.Option(help="Name of run A in the table.")] = None,
    label_b: Annotated[str | None, typer.Option(help="Name of run B in the table.")] = None,
) -> None:
    """Every metric of two runs side by side: a table, and a PNG bar chart."""
    from kodeio.eval.compare import run_stage
    from kodeio.eval.config import CompareConfig, load_eval_config
    from kodeio.progress import console

    values = {
        "run_a": str(run_a),
        "run_b": str(run_b),
        "output": str(output) if output else None,
        "label_a": label_a,
        "label_b": label_b,
    }
    cfg = load_eval_config(CompareConfig, None, None, values, command="compare")
    console.print(f"chart: {run_stage(cfg)}")


@eval_app.command("all")
def all_evals(
    config: Annotated[
        Path,
        typer.Option("--config", "-c", help="Recipe with an eval: section (io/translate/mcqa)."),
    ],
    model: ModelOpt = None,
    adapter: AdapterOpt = None,
    backend: BackendOpt = None,
    base_url: BaseUrlOpt = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir", "-o", help="Reports go to DIR/<kind>/ (default: each section's own)."
        ),
    ] = None,
    name: NameOpt = None,
    max_items: MaxItemsOpt = None,
    set_: SetOption = None,
) -> None:
    """Every eval the recipe configures, for one model, sharing one engine."""
    from kodeio.eval.suite import load_suite, run_suite

    values = _model_values(
        model, adapter, backend, base_url, None, name, max_items, None, None, None
    )
    for path in run_suite(load_suite(config, set_, values, output_dir)):
        _print_report(path)


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")
