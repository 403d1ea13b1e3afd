"""`kodeio synth ...`: generate verified reasoning traces, report on them, export them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kodeio.cli.options import ConfigOption, RayOption, SetOption, ShardOption

synth_app = typer.Typer(
    help="Reasoning traces from a model, checked by execution, revised CodeI/O++ style.",
    no_args_is_help=True,
)


def _modes(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [m.strip() for m in value.split(",") if m.strip()]


@synth_app.command("run")
def run(
    pairs: Annotated[
        Path | None, typer.Option("--pairs", help="I/O pairs JSONL from `kodeio io run`.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Traces JSONL to write (resumable).")
    ] = None,
    backend: Annotated[
        str | None, typer.Option(help="vllm (in-process), openai (any server) or transformers.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model name or path.")] = None,
    base_url: Annotated[
        list[str] | None,
        typer.Option("--base-url", help="OpenAI-compatible base URL (repeat for replicas)."),
    ] = None,
    modes: Annotated[
        str | None, typer.Option(help="Comma-separated: output,input (default both).")
    ] = None,
    revisions: Annotated[
        int | None, typer.Option(help="Revision turns after a wrong answer (default 1).")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Requests in flight for the openai backend.")
    ] = None,
    reasoning_language: Annotated[
        str | None, typer.Option(help="Language of the chain of thought: en or ko.")
    ] = None,
    n_samples: Annotated[int | None, typer.Option(help="Samples per prompt.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Completion budget per turn.")] = None,
    shard: ShardOption = None,
    ray: RayOption = None,
    config: ConfigOption = None,
    set_: SetOption = None,
) -> None:
    """Build prompts from I/O pairs, generate, verify by execution, revise and write traces.

    Rerunning the same command after an interruption (even kill -9) generates only what is
    missing.
    """
    from kodeio.config import load_config
    from kodeio.synth.config import SynthConfig

    cfg = load_config(
        SynthConfig,
        config,
        set_,
        values={
            "pairs": str(pairs) if pairs else None,
            "output": str(output) if output else None,
            "backend": backend,
            "model": model,
            "openai.base_urls": list(base_url) if base_url else None,
            "modes": _modes(modes),
            "revisions": revisions,
            "concurrency": concurrency,
            "reasoning_language": reasoning_language,
            "sampling.n_samples": n_samples,
            "sampling.max_tokens": max_tokens,
            "shard": shard,
            "ray": ray,
        },
        section="synth",
    )
    from kodeio.synth.pipeline import SynthRun
    from kodeio.synth.report import print_run_summary

    stats = SynthRun(cfg).run()
    print_run_summary(cfg, stats)


@synth_app.command("stats")
def stats(
    traces: Annotated[Path, typer.Argument(help="Traces JSONL from `kodeio synth run`.")],
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the numbers as JSON instead of a table.")
    ] = False,
) -> None:
    """Accuracy by mode and turn, yield, and tokens per verified sample."""
    from kodeio.synth.report import print_stats
    from kodeio.synth.traces import compute_stats

    print_stats(compute_stats(traces), as_json=json_out)


@synth_app.command("export")
def export(
    traces: Annotated[
        Path,
        typer.Argument(
            help="Traces JSONL from `kodeio synth run` (with --format rl: I/O pairs JSONL "
            "from `kodeio io run`)."
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="OUT.jsonl, or a directory for a `datasets` dataset on disk."
        ),
    ],
    include_failed: Annotated[
        bool, typer.Option("--include-failed", help="Also export samples never verified.")
    ] = False,
    style: Annotated[
        str,
        typer.Option(help="multi: the turns as a conversation; single: one response."),
    ] = "multi",
    format_: Annotated[
        str,
        typer.Option(
            "--format", help="sft: conversations from traces; rl: prompts for GRPO from pairs."
        ),
    ] = "sft",
    language: Annotated[
        str, typer.Option(help="rl: language of the prompt templates, en or ko.")
    ] = "en",
    modes: Annotated[
        str | None, typer.Option(help="rl: comma-separated output,input (default both).")
    ] = None,
    pass_rate: Annotated[
        str | None,
        typer.Option(
            "--pass-rate",
            help="LO:HI, keep pairs whose pass rate lies in [LO, HI] (e.g. 0.1:0.6); "
            "needs traces of a run with sampling.n_samples > 1.",
        ),
    ] = None,
    keep_language_mismatch: Annotated[
        bool,
        typer.Option(
            "--keep-language-mismatch",
            help="Also export verified Korean traces whose reasoning drifted out of Korean.",
        ),
    ] = False,
) -> None:
    """Write SFT conversations {"id","messages","source"} with the reasoning inside <think>.

    With --format rl: one GRPO prompt per I/O pair and mode, {"prompt", "verification_info"}
    for `kodeio.reward.ExecutionReward` (docs/rl.md).
    """
    from kodeio.errors import ConfigError
    from kodeio.progress import console

    if format_ not in ("sft", "rl"):
        raise ConfigError(f"--format: expected 'sft' or 'rl', got {format_!r}")
    if format_ == "rl":
        from kodeio.synth.rl_data import MODES, export_rl

        n, path = export_rl(traces, output, _modes(modes) or MODES, language)
        console.print(f"wrote {n} RL prompts ({language}) to {path}", highlight=False)
        return
    from kodeio.synth.difficulty import parse_range
    from kodeio.synth.traces import export as export_traces

    if style not in ("multi", "single"):
        raise ConfigError(f"--style: expected 'multi' or 'single', got {style!r}")
    band = parse_range(pass_rate) if pass_rate is not None else None
    n, path = export_traces(
        traces,
        output,
        style=style,  # type: ignore[arg-type]
        include_failed=include_failed,
        pass_rate=band,
        keep_language_mismatch=keep_language_mismatch,
    )
    console.print(f"wrote {n} conversations ({style}) to {path}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(synth_app, name="synth")
