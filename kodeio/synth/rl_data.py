"""RL prompts from I/O pairs (`kodeio synth export PAIRS --format rl -o DIR`).

One row per I/O pair and mode, with the prompt synthesis itself would send:

- `id`: `<pair id>:<mode>`; `pair_id`, `mode`;
- `prompt`: chat messages (`[{"role": "user", "content": ...}]`, the synthesis template
  of that mode in `en` or `ko`), TRL's conversational prompt column;
- `verification_info`: what `kodeio.reward.ExecutionReward` judges against: `code`,
  `entry`, `mode`, `input` (call arguments as Python source, or null), `output_repr`
  (the output as a Python literal), `policy`, `seed`.

`input` and `output` are written as source text, not as values, so that every row has the
same Arrow types whatever the functions take and return; the reward reads them back as
values and never evaluates them.

`synthesized(traces, band)` picks the (pair, mode)s a synthesis run wrote traces for, inside
a pass-rate band when given (the pipeline's grpo stage: RL on the pairs SFT saw, never on
the held-out ones the eval scores).
"""

from __future__ import annotations

import shutil
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

from kodeio.errors import InputError
from kodeio.files import atomic_path, dumps, iter_jsonl
from kodeio.sandbox.values import format_call_args, literal_repr
from kodeio.synth.prompts import Pair, prediction_prompt

MODES = ("output", "input")
LANGUAGES = ("en", "ko")


def verification_info(pair: Pair, mode: str) -> dict[str, Any]:
    inp = pair.input
    if isinstance(inp, dict):
        inp = format_call_args(inp.get("args", []), inp.get("kwargs", {}))
    output_repr = pair.output_repr if pair.output_repr is not None else literal_repr(pair.output)
    return {
        "code": pair.code,
        "entry": pair.entry,
        "mode": mode,
        "input": inp,
        "output_repr": output_repr,
        "policy": pair.policy,
        "seed": 0,
    }


def synthesized(traces: Path, band: tuple[float, float] | None = None) -> set[tuple[str, str]]:
    """(pair id, mode) of every trace in `traces`; with `band` (lo, hi) only those whose
    `pass_rate` lies in [lo, hi] (rows of a run with sampling.n_samples > 1 carry one)."""
    keep: set[tuple[str, str]] = set()
    for lineno, row in iter_jsonl(traces):
        item = (str(row.get("pair_id")), str(row.get("mode")))
        if band is None:
            keep.add(item)
            continue
        rate = row.get("pass_rate")
        if not isinstance(rate, int | float):
            raise InputError(
                f"{traces}:{lineno}: no 'pass_rate' to filter by; a pass-rate band needs "
                "traces of a run with synth.sampling.n_samples > 1"
            )
        if band[0] <= rate <= band[1]:
            keep.add(item)
    return keep


def rl_rows(
    pairs: Path,
    modes: Sequence[str],
    language: str,
    only: Collection[tuple[str, str]] | None = None,
) -> Iterator[dict[str, Any]]:
    seen: set[str] = set()
    for lineno, row in iter_jsonl(pairs):
        where = f"{pairs}:{lineno}"
        pair = Pair.from_row(row, where)
        if pair.id in seen:
            raise InputError(f"{where}: duplicate pair id {pair.id!r}")
        seen.add(pair.id)
        for mode in modes:
            if only is not None and (pair.id, mode) not in only:
                continue
            prompt = prediction_prompt(pair, mode, language)
            yield {
                "id": f"{pair.id}:{mode}",
                "pair_id": pair.id,
                "mode": mode,
                "prompt": [{"role": "user", "content": prompt}],
                "verification_info": verification_info(pair, mode),
            }


def export_rl(
    pairs: Path,
    out: Path,
    modes: Sequence[str] = MODES,
    language: str = "en",
    only: Collection[tuple[str, str]] | None = None,
) -> tuple[int, Path]:
    """Write the RL prompts as JSONL (`*.jsonl`) or a `datasets` dataset on disk (a dir);
    with `only`, just those (pair id, mode)s.

    Every pair is read and checked before anything is written.
    """
    for mode in modes:
        if mode not in MODES:
            raise InputError(f"--modes: expected output and/or input, got {mode!r}")
    if language not in LANGUAGES:
        raise InputError(f"--language: expected en or ko, got {language!r}")
    data = list(rl_rows(pairs, modes, language, only))
    if out.suffix == ".jsonl":
        with atomic_path(out) as tmp, tmp.open("w", encoding="utf-8") as fh:
            fh.writelines(dumps(row) + "\n" for row in data)
        return len(data), out
    import datasets

    text = datasets.Value("string")
    features = datasets.Features(
        {
            "id": text,
            "pair_id": text,
            "mode": text,
            "prompt": [{"role": text, "content": text}],
            "verification_info": {
                "code": text,
                "entry": text,
                "mode": text,
                "input": text,
                "output_repr": text,
                "policy": text,
                "seed": datasets.Value("int64"),
            },
        }
    )
    dataset = datasets.Dataset.from_list(data, features=features)
    # Saved beside the target and swapped in: a failed export never leaves half a dataset.
    tmp = out.with_name(out.name + ".tmp-export")
    shutil.rmtree(tmp, ignore_errors=True)
    dataset.save_to_disk(str(tmp))
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return len(data), out
