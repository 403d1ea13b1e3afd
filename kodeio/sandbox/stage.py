"""`kodeio sandbox run`: execute a JSONL file of jobs, one result row per job, in order."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import Field

from kodeio.config import StageConfig
from kodeio.errors import InputError
from kodeio.files import ResumableJsonl, iter_jsonl, write_jsonl
from kodeio.progress import console, progress_bar
from kodeio.sandbox.config import SandboxConfig
from kodeio.sandbox.pool import Sandbox
from kodeio.sandbox.types import Job


class SandboxRunConfig(StageConfig):
    jobs: Path = Field(
        description="JSONL with rows {id, code, entry, input} (+ optional expr, seed, timeout)"
    )
    output: Path = Field(
        description="results JSONL: id, status, output, output_repr, error, stdout, seconds"
    )
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)


def job_from_row(path: Path, lineno: int, row: dict[str, Any]) -> Job:
    where = f"{path}:{lineno}"
    for key in ("id", "code"):
        if key not in row:
            raise InputError(f"{where}: missing key '{key}' (expected id, code, entry, input)")
    if not isinstance(row["code"], str):
        raise InputError(f"{where}: 'code' must be a string of Python source")
    entry = row.get("entry") or ""
    if not entry and not row.get("expr"):
        raise InputError(f"{where}: missing 'entry' (the function to call) or 'expr'")
    given = row.get("input")
    if given is not None and not isinstance(given, str | dict):
        raise InputError(
            f'{where}: \'input\' must be {{"args": [...], "kwargs": {{...}}}} or a call-arguments string'
        )
    if isinstance(given, dict) and not set(given) <= {"args", "kwargs"}:
        raise InputError(f"{where}: 'input' object may only have keys 'args' and 'kwargs'")
    return Job(
        id=str(row["id"]),
        code=row["code"],
        entry=entry,
        input=given,
        expr=row.get("expr"),
        seed=int(row.get("seed") or 0),
        timeout=row.get("timeout"),
    )


def _read_jobs(path: Path) -> list[tuple[int, dict[str, Any]]]:
    rows = list(iter_jsonl(path))
    seen: set[str] = set()
    for lineno, row in rows:
        key = str(row.get("id"))
        if key in seen:
            raise InputError(f"{path}:{lineno}: duplicate id {key!r}; job ids must be unique")
        seen.add(key)
    return rows


def run_stage(config: SandboxRunConfig) -> Path:
    rows = _read_jobs(config.jobs)
    jobs_all = [job_from_row(config.jobs, n, r) for n, r in rows]  # validate everything first
    out = ResumableJsonl(config.output)
    todo = [j for j in jobs_all if j.id not in out.done_keys]
    counts: Counter[str] = Counter()

    with progress_bar("sandbox", total=len(jobs_all)) as bar, Sandbox(config.sandbox) as sb:
        bar.update(0, completed=out.resumed)
        console.print(f"[dim]sandbox limits: {sb.limits_note}[/]")
        for result in sb.run(todo):
            counts[result.status] += 1
            bar.update(0, advance=1, info=f"ok {counts['ok']}")
            out.write(result.to_row())
    # Results stream in job order, so a resumed file is already ordered unless the jobs file
    # itself was reordered between runs; only then rewrite.
    if [row["id"] for row in out.rows()] == [j.id for j in jobs_all]:
        return out.finish()
    by_id = {row["id"]: row for row in out.rows()}
    out.close()
    write_jsonl(config.output, (by_id[j.id] for j in jobs_all))
    out.partial.unlink(missing_ok=True)
    return config.output
