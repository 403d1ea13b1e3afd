"""Check seeds by running them in the sandbox: valid generators, small deterministic outputs.

    kodeio io validate-seeds [SEEDS.jsonl]
    python -m kodeio.synth.io.seeds.validate [SEEDS.jsonl]     (the same check)

For every seed, the input generator is called with several RNG seeds; each distinct kwargs
dict is then executed twice, in sandboxes with different PYTHONHASHSEED values. A seed passes
when it yields at least `min_inputs` distinct inputs and every output is a non-None JSON
value within CodeI/O's size filters, identical under both hash seeds.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kodeio.sandbox import Job, Sandbox, SandboxConfig
from kodeio.synth.io.filters import FilterConfig, check_pair

# The keys `validate_seeds` reads from each row (kodeio seed JSONL).
SEED_KEYS = ("id", "code", "entry", "input_generator")


@dataclass
class SeedCheck:
    id: str
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[Any] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _sandbox(hash_seed: int, workers: int) -> Sandbox:
    return Sandbox(SandboxConfig(workers=workers, timeout=5.0, hash_seed=hash_seed))


def validate_seeds(
    rows: list[dict[str, Any]],
    generator_seeds: int = 4,
    min_inputs: int = 2,
    hash_seeds: tuple[int, int] = (1, 2),
    workers: int = 2,
) -> list[SeedCheck]:
    filters = FilterConfig()
    checks = {row["id"]: SeedCheck(row["id"]) for row in rows}
    by_id = {row["id"]: row for row in rows}
    gen_jobs = [
        Job(
            f"{row['id']}@{k}",
            code=row["code"] + "\n\n" + row["input_generator"],
            entry="input_generator",
            seed=k,
        )
        for row in rows
        for k in range(generator_seeds)
    ]
    with _sandbox(hash_seeds[0], workers) as sb:
        for result in sb.run(gen_jobs):
            seed_id = result.id.rsplit("@", 1)[0]
            check = checks[seed_id]
            if not result.ok:
                check.problems.append(f"generator {result.status}: {result.error}")
            elif not isinstance(result.output, dict) or not result.output_is_json:
                check.problems.append(f"generator returned {result.output_repr!r:.80}")
            elif result.output not in check.inputs:
                check.inputs.append(result.output)
    call_jobs = [
        Job(
            f"{seed_id}@{i}",
            code=by_id[seed_id]["code"],
            entry=by_id[seed_id]["entry"],
            input={"args": [], "kwargs": kwargs},
        )
        for seed_id, check in checks.items()
        for i, kwargs in enumerate(check.inputs)
    ]
    runs: list[list[Any]] = []
    for hash_seed in hash_seeds:
        with _sandbox(hash_seed, workers) as sb:
            runs.append(list(sb.run(call_jobs)))
    for job, first, second in zip(call_jobs, runs[0], runs[1], strict=True):
        seed_id = job.id.rsplit("@", 1)[0]
        check = checks[seed_id]
        kwargs = job.input["kwargs"]  # type: ignore[index]
        if not first.ok:
            check.problems.append(f"{kwargs}: {first.status}: {first.error}")
            continue
        if not first.output_is_json:
            check.problems.append(f"{kwargs}: output is not JSON: {first.output_repr!r:.80}")
            continue
        if first.output_repr != second.output_repr:
            check.problems.append(f"{kwargs}: output differs between hash seeds")
        failed = check_pair(
            [], kwargs, first.input_repr or "", first.output, first.output_repr or "", filters
        )
        if failed:
            check.problems.append(f"{kwargs}: {failed[0]}: {failed[1]}")
        check.outputs.append(first.output)
    for check in checks.values():
        if len(check.inputs) < min_inputs:
            check.problems.append(
                f"only {len(check.inputs)} distinct input(s) from {generator_seeds} generator seeds"
            )
    return list(checks.values())


def validate_file(path: Path) -> int:
    """Validate every seed in a kodeio seed JSONL, print the problems and a summary line.

    Returns the exit status: 1 when any seed has a problem, else 0.
    """
    from kodeio.files import read_jsonl

    checks = validate_seeds(read_jsonl(path, required=SEED_KEYS))
    bad = [c for c in checks if c.problems]
    for check in bad:
        for problem in check.problems[:3]:
            print(f"{check.id}: {problem}")
    distinct = sum(len({json.dumps(o, sort_keys=True) for o in c.outputs}) for c in checks)
    print(f"{len(checks)} seeds, {len(bad)} with problems, {distinct} distinct outputs")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    from kodeio.synth.io.seeds.corpus import quickstart_path

    args = sys.argv[1:] if argv is None else argv
    return validate_file(Path(args[0]) if args else quickstart_path())


if __name__ == "__main__":
    sys.exit(main())
