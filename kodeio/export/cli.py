"""`kodeio export adapter|merged|gguf|all` and `kodeio export setup`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kodeio.cli.options import ConfigOption, SetOption

export_app = typer.Typer(
    help="Export a trained run: PEFT adapter, merged 16-bit weights, GGUF files (offline, "
    "parity-checked), Ollama Modelfiles, optional push to the Hugging Face Hub.",
    no_args_is_help=True,
)

RunOpt = Annotated[
    Path | None,
    typer.Option("--run", help="Training run directory (RUN/adapter, RUN/config.yaml)."),
]
AdapterOpt = Annotated[Path | None, typer.Option("--adapter", help="PEFT adapter directory.")]
BaseOpt = Annotated[
    str | None,
    typer.Option(
        "--base",
        help="Base to merge onto: name (smollm2-135m), directory or hub id; for a 4-bit "
        "training model, its 16-bit original (found by itself when known).",
    ),
]
Onto4bitOpt = Annotated[
    bool | None,
    typer.Option(
        "--merge-onto-4bit",
        help="Merge onto the dequantized 4-bit weights of a bnb-4bit base instead of its 16-bit "
        "original (about +20% perplexity; only when the original is not available).",
    ),
]
OutOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Output directory (default RUN/export).")
]
QuantOpt = Annotated[
    str | None,
    typer.Option(
        "--quant", help="GGUF types, comma-separated: f16,q8_0,q4_k_m (default), q5_k_m, q6_k..."
    ),
]
LlamaOpt = Annotated[
    Path | None,
    typer.Option(
        "--llama-cpp",
        help="Your llama.cpp checkout (else $KODEIO_LLAMA_CPP, else the cached sdist).",
    ),
]
VerifyOpt = Annotated[
    bool | None,
    typer.Option(
        "--verify/--no-verify",
        help="Parity check GGUF vs transformers (default: on for small models).",
    ),
]
PushOpt = Annotated[
    str | None, typer.Option("--push-to-hub", help="Upload to this hub repo (owner/name).")
]
PrivateOpt = Annotated[
    bool | None, typer.Option("--private", help="Create the hub repo as private.")
]
NameOpt = Annotated[
    str | None, typer.Option("--name", help="File name stem (default: the run's name).")
]
DtypeOpt = Annotated[
    str | None,
    typer.Option("--dtype", help="Merged dtype: auto (bf16), bfloat16, float16, float32."),
]


def _run(
    targets: list[str],
    run: Path | None,
    adapter: Path | None,
    base: str | None,
    output: Path | None,
    quant: str | None,
    llama_cpp: Path | None,
    verify: bool | None,
    push_to_hub: str | None,
    private: bool | None,
    name: str | None,
    dtype: str | None,
    merge_onto_4bit: bool | None,
    config: Path | None,
    set_: list[str] | None,
) -> None:
    from kodeio.config import load_config
    from kodeio.export.config import ExportConfig
    from kodeio.export.stage import run_stage

    cfg = load_config(
        ExportConfig,
        config,
        set_,
        values={
            "targets": targets,
            "run_dir": str(run) if run else None,
            "adapter": str(adapter) if adapter else None,
            "base": base,
            "output": str(output) if output else None,
            "quant": quant,
            "llama_cpp": str(llama_cpp) if llama_cpp else None,
            "verify": verify,
            "push_to_hub": push_to_hub,
            "private": private,
            "name": name,
            "dtype": dtype,
            "merge_onto_4bit": merge_onto_4bit,
        },
        section="export",
    )
    out = run_stage(cfg)
    typer.echo(str(out))


def _make(targets: list[str], doc: str) -> None:
    def command(
        run: RunOpt = None,
        adapter: AdapterOpt = None,
        base: BaseOpt = None,
        output: OutOpt = None,
        quant: QuantOpt = None,
        llama_cpp: LlamaOpt = None,
        verify: VerifyOpt = None,
        push_to_hub: PushOpt = None,
        private: PrivateOpt = None,
        name: NameOpt = None,
        dtype: DtypeOpt = None,
        merge_onto_4bit: Onto4bitOpt = None,
        config: ConfigOption = None,
        set_: SetOption = None,
    ) -> None:
        _run(
            targets,
            run,
            adapter,
            base,
            output,
            quant,
            llama_cpp,
            verify,
            push_to_hub,
            private,
            name,
            dtype,
            merge_onto_4bit,
            config,
            set_,
        )

    command.__doc__ = doc
    export_app.command(targets[0] if len(targets) == 1 else "all")(command)


_make(["adapter"], "The PEFT adapter with its tokenizer and chat template.")
_make(["merged"], "The adapter merged into the base: 16-bit safetensors shards + index (streamed).")
_make(["gguf"], "GGUF files (llama.cpp's converter + quantizer), Ollama Modelfiles, parity check.")
_make(
    ["adapter", "merged", "gguf"],
    "Adapter, merged weights and GGUF files, with one manifest and model card.",
)


@export_app.command("setup")
def setup(
    llama_cpp: LlamaOpt = None,
) -> None:
    """Fetch (from PyPI, pinned to the installed llama-cpp-python) and cache the GGUF converter."""
    from kodeio.export.llamacpp import find_llama_cpp

    typer.echo(str(find_llama_cpp(llama_cpp, fetch=True)))


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
