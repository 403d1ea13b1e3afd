"""`kodeio verify`: judge a JSONL file of predictions, one verdict row per prediction.

The file is read twice, streaming: once to validate every row (so a bad row stops the run
before anything is written), once to judge. Verdicts go to `OUT.partial` as they come and
the file is renamed to `OUT` when complete; a rerun after a kill skips the ids already
judged.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from kodeio.errors import InputError
from kodeio.files import ResumableJsonl, iter_jsonl, write_jsonl
from kodeio.progress import progress_bar
from kodeio.synth.verify.config import VerifyRunConfig
from kodeio.synth.verify.engine import VerifyItem, verify
from kodeio.synth.verify.formats import item_from_row


def _items(config: VerifyRunConfig) -> Iterator[VerifyItem]:
    for lineno, row in iter_jsonl(config.predictions):
        yield item_from_row(config.predictions, lineno, row, config.format, config.mode)


def _validate(config: VerifyRunConfig) -> list[str]:
    """Every row checked before any verdict is written; returns the ids in file order."""
    ids: list[str] = []
    seen: set[str] = set()
    for lineno, row in iter_jsonl(config.predictions):
        item = item_from_row(config.predictions, lineno, row, config.format, config.mode)
        if item.id in seen:
            raise InputError(
                f"{config.predictions}:{lineno}: duplicate id {item.id!r}; ids must be unique"
            )
        seen.add(item.id)
        ids.append(item.id)
    return ids


def verdicts_task(config_json: dict[str, Any], items: list[VerifyItem]) -> list[dict[str, Any]]:
    """One Ray task (`--ray`): the verdict rows of a batch of predictions, in order."""
    return [v.to_row() for v in verify(items, VerifyRunConfig.model_validate(config_json))]


def _verdict_rows(config: VerifyRunConfig, todo: Iterator[VerifyItem]) -> Iterator[dict]:
    """Verdict rows in `todo` order: here, or as Ray tasks of `batch_size` items each."""
    if config.ray:
        from kodeio.scale.ray_runner import run_in_order

        chunks = iter(lambda: list(islice(todo, config.batch_size)), [])
        yield from run_in_order(config, verdicts_task, chunks)
        return
    for verdict in verify(todo, config):
        yield verdict.to_row()


def run_stage(config: VerifyRunConfig) -> Path:
    k, n = config.shard_index
    ids = _validate(config)[k::n]  # a shard judges every N-th row, from the K-th
    if config.ray:
        from kodeio.scale.ray_runner import connect

        connect(config.ray)  # a wrong address fails now, before any file is written
    out = ResumableJsonl(config.output)
    correct = 0
    todo = (
        item for i, item in enumerate(_items(config)) if i % n == k and item.id not in out.done_keys
    )
    with out, progress_bar("verify", total=len(ids)) as bar:
        bar.update(0, completed=out.resumed)
        for done, row in enumerate(_verdict_rows(config, todo), 1):
            out.write(row)
            correct += bool(row["correct"])
            bar.update(0, advance=1, info=f"correct {correct}/{done}")
        in_order = [str(row["id"]) for row in out.rows()] == ids
        if not in_order:
            # Resumed against a reordered file: the verdicts go in the file's order.
            by_id = {str(row["id"]): row for row in out.rows()}
    if config.shard:
        from kodeio.scale.shards import write_sidecar

        write_sidecar(config.output, "verify", config, config.shard, len(ids))
    if in_order:
        return out.finish()
    write_jsonl(config.output, (by_id[i] for i in ids))
    out.partial.unlink(missing_ok=True)
    return config.output
