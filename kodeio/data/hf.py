"""Hugging Face datasets -> conversations (`kodeio data hf`, and `kind: hf` mix sources).

Three layouts, each with a column mapping (`columns: {field: dataset column}`):

- `instruction`: instruction / input / output (KoAlpaca-style Korean instruction sets);
- `mcqa`: the KorMedMCQA layout, `question`, `A`..`E`, `answer` (a letter or 1-5) and
  `cot` when present;
- `qa`: plain medical question / answer sets, with optional reasoning (`cot`).

`path` is a hub name (read through the local HF cache when offline) or a local path: a
directory `load_dataset` understands, or a single .jsonl/.json/.csv/.parquet file.

`--shard K/N` formats every N-th row from the K-th; its sidecar lists the rows it skipped,
so `kodeio merge` can put the conversations back in row order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from kodeio.config import StageConfig
from kodeio.data.formatting import (
    MCQA_LETTERS,
    Message,
    ThinkMissing,
    answer_letter,
    instruction_messages,
    mcqa_messages,
    prompt_style_messages,
)
from kodeio.data.text import clean_cell
from kodeio.errors import ConfigError, InputError
from kodeio.scale.shards import ShardOptions

if TYPE_CHECKING:
    from kodeio.scale.merge import MergeResult, ShardLedger

Layout = Literal["instruction", "mcqa", "qa"]
Style = Literal["chat", "prompt_style"]

# field -> (default column, required)
LAYOUT_FIELDS: dict[str, dict[str, tuple[str, bool]]] = {
    "instruction": {
        "instruction": ("instruction", True),
        "input": ("input", False),
        "output": ("output", True),
        "cot": ("cot", False),
    },
    "mcqa": {
        "question": ("question", True),
        **{letter: (letter, letter in ("A", "B")) for letter in MCQA_LETTERS},
        "answer": ("answer", True),
        "cot": ("cot", False),
    },
    "qa": {
        "question": ("question", True),
        "answer": ("answer", True),
        "cot": ("cot", False),
    },
}
_FILE_BUILDERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}


class HfDatasetSpec(StageConfig):
    """Where an HF dataset is and how its columns map onto a layout."""

    path: str = Field(..., description="hub name (e.g. sean0042/KorMedMCQA) or local path")
    name: str | None = Field(None, description="dataset config name (e.g. 'doctor')")
    split: str = Field("train", description="split to read")
    data_files: str | list[str] | None = Field(None, description="passed to load_dataset")
    revision: str | None = Field(None, description="hub revision (commit, tag, branch)")
    layout: Layout = Field(..., description="instruction | mcqa | qa")
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="layout field -> dataset column, e.g. {question: Question}",
    )
    style: Style | None = Field(
        None,
        description="chat (plain user turn) or prompt_style (the brief's ### Instruction/"
        "### Question form); default: prompt_style for qa, chat otherwise",
    )
    instruction: str | None = Field(
        None, description="instruction section of prompt_style (default: medical expert)"
    )
    limit: int | None = Field(None, ge=1, description="read at most this many rows")

    @model_validator(mode="after")
    def _check_columns(self) -> HfDatasetSpec:
        unknown = sorted(set(self.columns) - set(LAYOUT_FIELDS[self.layout]))
        if unknown:
            raise ValueError(
                f"columns: unknown field(s) {', '.join(unknown)} for layout {self.layout} "
                f"(fields: {', '.join(LAYOUT_FIELDS[self.layout])})"
            )
        return self

    def column(self, field: str) -> str:
        return self.columns.get(field, LAYOUT_FIELDS[self.layout][field][0])

    @property
    def effective_style(self) -> Style:
        return self.style or ("prompt_style" if self.layout == "qa" else "chat")

    @property
    def label(self) -> str:
        """Short name used in ids and messages (a local path's file/dir name, or the hub id)."""
        local = Path(self.path).expanduser()
        base = local.name if local.exists() else self.path
        return base + (f"[{self.name}]" if self.name else "") + f":{self.split}"


class HfConfig(ShardOptions):
    """`kodeio data hf`: one HF dataset -> conversations JSONL ({id, source, messages})."""

    dataset: HfDatasetSpec
    output: Path = Field(..., description="conversations JSONL to write")
    think_missing: ThinkMissing = Field(
        "empty", description="rows without reasoning: empty <think> block, or none"
    )


def load_hf_dataset(spec: HfDatasetSpec) -> Any:
    """`datasets.load_dataset` for a hub name or a local path; errors become one line."""
    import datasets

    local = Path(spec.path).expanduser()
    kwargs: dict[str, Any] = {"split": spec.split}
    if spec.revision:
        kwargs["revision"] = spec.revision
    if local.is_file():
        builder = _FILE_BUILDERS.get(local.suffix.lower())
        if builder is None:
            raise InputError(
                f"{local}: unsupported file type '{local.suffix}'; expected "
                + ", ".join(_FILE_BUILDERS)
            )
        args: tuple[Any, ...] = (builder,)
        kwargs["data_files"] = str(local)
    else:
        args = (str(local) if local.exists() else spec.path,)
        if spec.name:
            args = (*args, spec.name)
        if spec.data_files is not None:
            kwargs["data_files"] = spec.data_files
    datasets.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    try:
        return datasets.load_dataset(*args, **kwargs)
    except (FileNotFoundError, ConnectionError) as exc:
        raise InputError(
            f"{spec.label}: dataset not found locally and not reachable "
            f"({type(exc).__name__}: {_first_line(exc)}); give a local path or pre-download it"
        ) from None
    except ValueError as exc:  # unknown split / config name
        raise InputError(f"{spec.label}: {_first_line(exc)}") from None
    except Exception as exc:  # pyarrow/json parse errors on a malformed local file, etc.
        raise InputError(
            f"{spec.label}: could not load the dataset ({type(exc).__name__}: {_first_line(exc)})"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""


def check_columns(spec: HfDatasetSpec, column_names: list[str]) -> None:
    """Every required field must map onto an existing column; say which and how to fix it."""
    missing = [
        f"{field} (column '{spec.column(field)}')"
        for field, (_, required) in LAYOUT_FIELDS[spec.layout].items()
        if required and spec.column(field) not in column_names
    ]
    if missing:
        raise InputError(
            f"{spec.label}: missing {', '.join(missing)} for layout {spec.layout} "
            f"(columns: {', '.join(column_names)}); map them with columns.<field>: <column>"
        )


def _text(row: dict[str, Any], spec: HfDatasetSpec, field: str) -> str:
    column = spec.column(field)
    return clean_cell(row.get(column)) if column in row else ""


def row_messages(
    row: dict[str, Any], spec: HfDatasetSpec, think_missing: ThinkMissing = "empty"
) -> list[Message] | str:
    """The conversation of one row, or a short reason why the row is skipped."""
    cot = _text(row, spec, "cot") or None
    style = spec.effective_style
    if spec.layout == "mcqa":
        question = _text(row, spec, "question")
        options = {letter: _text(row, spec, letter) for letter in MCQA_LETTERS}
        options = {k: v for k, v in options.items() if v}
        letter = answer_letter(row.get(spec.column("answer")))
        if not question or len(options) < 2:
            return "empty question or fewer than two choices"
        if letter is None or letter not in options:
            return f"answer {row.get(spec.column('answer'))!r} is not one of {', '.join(options)}"
        return mcqa_messages(question, options, letter, cot, think_missing=think_missing)
    if spec.layout == "qa":
        question, answer = _text(row, spec, "question"), _text(row, spec, "answer")
        if not question or not answer:
            return "empty question or answer"
        if style == "prompt_style":
            return prompt_style_messages(
                question, answer, cot, instruction=spec.instruction, think_missing=think_missing
            )
        return instruction_messages(question, answer, "", cot, think_missing=think_missing)
    instruction, output = _text(row, spec, "instruction"), _text(row, spec, "output")
    input_text = _text(row, spec, "input")
    if not instruction or not output:
        return "empty instruction or output"
    if style == "prompt_style":
        question = f"{instruction}\n\n{input_text}" if input_text else instruction
        return prompt_style_messages(
            question, output, cot, instruction=spec.instruction, think_missing=think_missing
        )
    return instruction_messages(instruction, output, input_text, cot, think_missing=think_missing)


def iter_hf_conversations(
    spec: HfDatasetSpec,
    think_missing: ThinkMissing = "empty",
    skipped: dict[str, int] | None = None,
    shard: tuple[int, int] = (0, 1),
    skipped_at: list[tuple[int, str]] | None = None,
) -> Iterator[dict[str, Any]]:
    """`{id, source, messages}` per usable row of rows K-1, K-1+N, ... (`shard` (K-1, N));
    skipped rows are counted by reason, and listed with their index in `skipped_at`."""
    dataset = load_hf_dataset(spec)
    check_columns(spec, list(dataset.column_names))
    if spec.limit is not None:
        dataset = dataset.select(range(min(spec.limit, len(dataset))))
    k, n = shard
    if n > 1:
        dataset = dataset.select(range(k, len(dataset), n))
    for i, row in enumerate(dataset):
        index = k + i * n
        messages = row_messages(row, spec, think_missing)
        if isinstance(messages, str):
            if skipped is not None:
                skipped[messages] = skipped.get(messages, 0) + 1
            if skipped_at is not None:
                skipped_at.append((index, messages))
            continue
        yield {
            "id": f"{spec.label}:{index}",
            "source": f"{spec.label}:{index}",
            "messages": messages,
        }


def _no_rows(label: str, skipped: dict[str, int]) -> InputError:
    reasons = ", ".join(f"{k}: {v}" for k, v in skipped.items())
    return InputError(f"{label}: no usable rows" + (f" (skipped: {reasons})" if reasons else ""))


def run_stage(config: HfConfig) -> Path:
    from kodeio.files import atomic_path, dumps

    if config.output.suffix.lower() != ".jsonl":
        raise ConfigError(f"output: expected a .jsonl path, got '{config.output}'")
    skipped: dict[str, int] = {}
    skipped_at: list[tuple[int, str]] = []
    rows = iter_hf_conversations(
        config.dataset, config.think_missing, skipped, config.shard_index, skipped_at
    )
    n = 0
    with atomic_path(config.output) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(dumps(row) + "\n")
            n += 1
        # Raising inside the atomic write leaves any old output untouched. A shard may hold
        # no usable row; the merge checks the whole dataset.
        if config.shard:
            from kodeio.scale.shards import write_sidecar

            write_sidecar(config.output, "hf", config, config.shard, n, label=config.dataset.label,
                          units=n + len(skipped_at), skipped_at=skipped_at)  # fmt: skip
        elif n == 0:
            raise _no_rows(config.dataset.label, skipped)
    from kodeio.progress import console

    console.print(
        f"wrote {n} conversations to {config.output}"
        + (
            f"; skipped {sum(skipped.values())} ({'; '.join(f'{k}: {v}' for k, v in skipped.items())})"
            if skipped
            else ""
        ),
        highlight=False,
    )
    return config.output


def merge_shards(shards: Sequence[ShardLedger], output: Path) -> MergeResult:
    """Shards of `data hf`: the conversations in row order, as one run writes them."""
    from kodeio.scale.merge import MergeResult, check_units, interleave

    n = shards[0].count
    skipped_at: dict[int, str] = {}
    try:
        for s in shards:
            for index, reason in s.meta["skipped_at"]:
                if index % n != s.index or index in skipped_at:
                    raise InputError(f"{s.ledger}: row {index} is not one of this shard's rows")
                skipped_at[int(index)] = str(reason)
        units = sum(int(s.meta["units"]) for s in shards)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{shards[0].ledger}: not an hf shard sidecar ({exc})") from None
    check_units(shards, units)
    sizes = [0 if u in skipped_at else 1 for u in range(units)]
    if not any(sizes):
        skipped: dict[str, int] = {}
        for index in sorted(skipped_at):
            skipped[skipped_at[index]] = skipped.get(skipped_at[index], 0) + 1
        raise _no_rows(str(shards[0].meta.get("label")), skipped)
    written = interleave(shards, output, sizes)
    return MergeResult(output, None, len(shards), units, written, 0)
