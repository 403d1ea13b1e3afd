"""The loop shared by evals that ask one question per item and score one completion.

Translation and MCQA both: build one request per item, skip items whose result row is
already in `items.jsonl`, generate the rest through the journal, score each completion,
and return the rows of this run's items. Only the scoring differs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from kodeio.eval.config import ModelEvalConfig
from kodeio.eval.generate import build_request, generate_all
from kodeio.eval.items import reopen_resumable
from kodeio.eval.report import content_key
from kodeio.llm.base import Backend, Completion
from kodeio.progress import progress_bar

T = TypeVar("T")


def answer_each(
    config: ModelEvalConfig,
    items: Sequence[T],
    *,
    prompt: Callable[[T], str],
    reference: Callable[[T], str],
    score: Callable[[Completion, T], dict[str, Any]],
    version: str,
    template: str,
    out_dir: Path,
    label: str,
    backend: Backend | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """(result rows of `items`, rows resumed from an earlier run). One sample per item."""
    cfg = config.model_copy(
        update={"sampling": config.sampling.model_copy(update={"n_samples": 1})}
    )
    requests = [build_request(cfg, prompt(item), template) for item in items]
    keys = [
        content_key(version, r.key, reference(item))
        for r, item in zip(requests, items, strict=True)
    ]
    items_path = out_dir / "items.jsonl"
    journal = items_path.with_name(items_path.name + ".gen.jsonl")
    out = reopen_resumable(items_path)
    resumed = out.resumed
    try:
        todo: dict[str, list[tuple[str, T]]] = {}
        for key, request, item in zip(keys, requests, items, strict=True):
            if key not in out.done_keys:
                todo.setdefault(request.key, []).append((key, item))
        with progress_bar(label, total=len(items)) as bar:
            bar.update(0, completed=len(items) - sum(len(v) for v in todo.values()))
            wanted = [r for r in requests if r.key in todo]
            for result in generate_all(cfg, wanted, journal, backend=backend):
                completion = result.completions[0]
                for key, item in todo.pop(result.request.key, []):
                    out.write({"key": key, **score(completion, item)})
                    bar.update(0, advance=1)
        wanted_keys = set(keys)
        rows = [r for r in out.rows() if r["key"] in wanted_keys]
        out.finish()
    finally:
        out.close()
    journal.unlink(missing_ok=True)
    return rows, resumed
