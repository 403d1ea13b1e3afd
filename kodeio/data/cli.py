"""`kodeio data ...`: Korean corpora (AI Hub, Hugging Face) and the training mix."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kodeio.cli.options import ConfigOption, SetOption, ShardOption

data_app = typer.Typer(
    help="Korean corpora (AI Hub parallel text, HF instruction/medical sets) and the training mix.",
    no_args_is_help=True,
)


@data_app.command("aihub")
def aihub(
    inputs: Annotated[
        list[Path] | None,
        typer.Argument(help="AI Hub .xlsx files (or .csv/.tsv/.jsonl), or directories of them."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="pairs JSONL: {ko, en, source} per row.")
    ] = None,
    ko_column: Annotated[
        str | None, typer.Option(help="Header of the Korean column (default 원문).")
    ] = None,
    en_column: Annotated[
        str | None, typer.Option(help="Header of the English column (default 번역문).")
    ] = None,
    sheet: Annotated[
        str | None, typer.Option(help="Sheet to read (default: every sheet with both columns).")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="CSV/TSV encoding (default utf-8-sig; AI Hub CSVs: cp949).")
    ] = None,
    recursive: Annotated[
        bool | None,
        typer.Option("--recursive/--no-recursive", help="Descend into sub-directories."),
    ] = None,
    shard: ShardOption = None,
    config: ConfigOption = None,
    set_: SetOption = None,
) -> None:
    """Read AI Hub Korean-English corpora into pairs.jsonl (streaming, flat memory)."""
    from kodeio.config import load_config
    from kodeio.data.pairs import AihubConfig, run_stage, stats_path

    cfg = load_config(
        AihubConfig,
        config,
        set_,
        values={
            "inputs": [str(p) for p in inputs] if inputs else None,
            "output": str(output) if output else None,
            "ko_column": ko_column,
            "en_column": en_column,
            "sheet": sheet,
            "encoding": encoding,
            "recursive": recursive,
            "shard": shard,
        },
        section="data_aihub",
    )
    path = run_stage(cfg)
    import json

    from kodeio.progress import console

    s = json.loads(stats_path(path).read_text(encoding="utf-8"))
    console.print(
        f"wrote {s['written']:,} pairs from {len(s['files'])} file(s) to {path} "
        f"(rows {s['rows']:,}; dropped blank {s['blank']:,}, Korean only {s['ko_only']:,}, "
        f"English only {s['en_only']:,})",
        highlight=False,
    )


@data_app.command("hf")
def hf(
    path: Annotated[
        str | None, typer.Argument(help="Hub name (e.g. sean0042/KorMedMCQA) or local path.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Conversations JSONL {id, source, messages}."),
    ] = None,
    layout: Annotated[
        str | None, typer.Option(help="instruction | mcqa (KorMedMCQA) | qa.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Dataset config name (e.g. doctor).")] = None,
    split: Annotated[str | None, typer.Option(help="Split to read (default train).")] = None,
    column: Annotated[
        list[str] | None,
        typer.Option(help="FIELD=COLUMN mapping, repeatable, e.g. --column question=Question."),
    ] = None,
    style: Annotated[
        str | None, typer.Option(help="chat or prompt_style (the brief's ### sections).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Read at most N rows.")] = None,
    shard: ShardOption = None,
    config: ConfigOption = None,
    set_: SetOption = None,
) -> None:
    """Format a Hugging Face dataset (instruction / KorMedMCQA / QA) into conversations."""
    from kodeio.config import load_config
    from kodeio.data.hf import HfConfig, run_stage
    from kodeio.errors import ConfigError

    columns = None
    if column:
        columns = {}
        for item in column:
            field, sep, col = item.partition("=")
            if not sep or not field.strip() or not col.strip():
                raise ConfigError(
                    f"--column {item!r}: expected FIELD=COLUMN, e.g. question=Question"
                )
            columns[field.strip()] = col.strip()
    values: dict[str, object] = {
        "dataset.path": path,
        "dataset.layout": layout,
        "dataset.name": name,
        "dataset.split": split,
        "dataset.columns": columns,
        "dataset.style": style,
        "dataset.limit": limit,
        "output": str(output) if output else None,
        "shard": shard,
    }
    cfg = load_config(HfConfig, config, set_, values=values, section="data_hf")
    run_stage(cfg)


@data_app.command("mix")
def mix(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Directory for the mixed DatasetDict (--shard: the shard's JSONL file).",
        ),
    ] = None,
    push_to_hub: Annotated[
        str | None,
        typer.Option(help="Also upload to this HF dataset repo (token: HF_TOKEN or login cache)."),
    ] = None,
    fmt: Annotated[
        list[str] | None, typer.Option("--format", help="Extra copies: parquet and/or jsonl.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of every random choice.")] = None,
    shard: ShardOption = None,
    config: ConfigOption = None,
    set_: SetOption = None,
) -> None:
    """Mix traces, translation pairs and HF sets into one train/eval dataset with a card."""
    from kodeio.config import load_config
    from kodeio.data.mix import MixConfig, run_stage

    cfg = load_config(
        MixConfig,
        config,
        set_,
        values={
            "output": str(output) if output else None,
            "push_to_hub": push_to_hub,
            "formats": fmt,
            "seed": seed,
            "shard": shard,
        },
        section="data_mix",
    )
    path = run_stage(cfg)
    if cfg.shard:
        return  # a shard file for kodeio merge; run_stage said so
    import json

    from kodeio.progress import console

    stats = json.loads((path / "mix_stats.json").read_text(encoding="utf-8"))
    per_source = ", ".join(
        f"{s['name']} {s['rows']['train']:,}/{s['rows']['eval']:,}" for s in stats["sources"]
    )
    filtered = "; ".join(_length_filtered(s) for s in stats["sources"] if s["length_filtered"])
    console.print(
        f"wrote {path}: train {stats['splits']['train']['count']:,}, eval "
        f"{stats['splits']['eval']['count']:,} (train/eval per source: {per_source}; "
        + (f"length-filtered: {filtered}; " if filtered else "")
        + f"fingerprint {stats['fingerprint']})",
        highlight=False,
    )


def _length_filtered(source: dict[str, Any]) -> str:
    """A source's length-filtered rows, traces also by turn: "codeio 6 (output/turn 2: 3)"."""
    by_turn = source.get("length_filtered_by_turn") or {}
    turns = ", ".join(f"{group}: {n:,}" for group, n in by_turn.items())
    return f"{source['name']} {source['length_filtered']:,}" + (f" ({turns})" if turns else "")


@data_app.command("samples")
def samples(
    output: Annotated[Path, typer.Argument(help="Directory to copy the sample files into.")],
) -> None:
    """Copy the bundled quickstart samples (AI Hub-style xlsx, KorMedMCQA-style JSONL)."""
    from kodeio.data.samples import copy_samples
    from kodeio.progress import console

    for path in copy_samples(output):
        console.print(f"wrote {path}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
