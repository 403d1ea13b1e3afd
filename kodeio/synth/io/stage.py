"""Seeds -> ground-truth (input, output) pairs: `kodeio io run`.

For each chunk of seeds, in seed order:
  1. raw code goes through the `Unifier` (when one is configured);
  2. inputs: the seed's own, else its `input_generator` run in the sandbox (twice, with
     different hash seeds, keeping tries that agree) until `per_seed` distinct inputs or
     `generator_tries`, else hypothesis draws from the signature;
  3. every (seed, input) runs in sandbox A; pairs that succeed run again in sandbox B, a
     separate pool with another PYTHONHASHSEED and another RNG seed. Differing outputs
     withhold the pair and every other pair of that seed (`nondeterministic`);
  4. agreed outputs pass the value policy and the size filters, duplicates of an earlier
     (code, entry, input) are dropped, and each pair becomes a row or a reject with a reason.

Resumability: rows go to OUTPUT.partial and rejects to REJECTS.partial (`ResumableJsonl`);
a ledger (OUTPUT.seeds.partial) records each finished seed. A rerun skips finished seeds,
recomputes an unfinished one and writes only its rows that are not already there, so there
are no duplicates and nothing is lost. Results come back from the sandbox in job order and
nothing depends on timing or worker count, so the same inputs and config give the same bytes.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kodeio.errors import InputError
from kodeio.files import ResumableJsonl, iter_jsonl, partial_path
from kodeio.progress import progress_bar
from kodeio.sandbox import Job, Result, Sandbox
from kodeio.sandbox.values import NotALiteral, parse_call_args, parse_literal, to_json_lossless
from kodeio.scale.shards import merge_fingerprint
from kodeio.synth.io.config import IoConfig
from kodeio.synth.io.derive import derive_task
from kodeio.synth.io.filters import check_pair
from kodeio.synth.io.inputs import (
    GeneratorState,
    PlannedInput,
    generator_state,
    given_inputs,
    reference_matches,
    stable_id,
    stable_int,
)
from kodeio.synth.io.seeds import RawCode, Seed, read_hf_seeds, read_seeds
from kodeio.synth.io.unifier import Unifier, load_unifier

CONFIG_KEY = "#config"
END_KEY = "#end"  # last ledger row of a finished shard: how many seeds it read
# Below this many hypothesis seeds in a chunk, starting worker processes costs more than it saves.
PARALLEL_DERIVE_MIN = 16
# Keys that change speed, not results: left out of the resume fingerprint.
SPEED_ONLY = {
    "workers",
    "window",
    "jobs_per_worker",
    "chunk_seeds",
    "ray",
    "ray_task_cpus",
    "ray_retries",
}


@dataclass
class SeedWork:
    ordinal: int
    key: str  # ledger key: stable across reruns of the same inputs
    seed: Seed
    inputs: list[PlannedInput] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    generator: GeneratorState | None = None
    derive: bool = False  # inputs to be drawn by hypothesis


@dataclass
class IoStats:
    output: Path
    rejects: Path
    seeds_read: int = 0
    seeds_with_pairs: int = 0
    pairs_kept: int = 0
    rejects_by_reason: Counter[str] = field(default_factory=Counter)
    nondeterministic_seeds: int = 0
    reference_mismatches: int = 0
    resumed_seeds: int = 0


# ---- rows -------------------------------------------------------------------------------------


def seed_reject(work: SeedWork, stage: str, reason: str, detail: str | None) -> dict[str, Any]:
    seed = work.seed
    return {
        "id": stable_id("reject", work.key, reason),
        "seed_id": seed.id,
        "entry": seed.entry,
        "source": seed.source,
        "stage": stage,
        "reason": reason,
        "status": None,
        "error": None,
        "input_repr": None,
        "detail": detail,
    }


def pair_reject(
    seed: Seed,
    row_id: str,
    stage: str,
    reason: str,
    planned: PlannedInput,
    result: Result | None,
    detail: str | None,
) -> dict[str, Any]:
    return {
        "id": row_id,
        "seed_id": seed.id,
        "entry": seed.entry,
        "source": seed.source,
        "stage": stage,
        "reason": reason,
        "status": result.status if result else None,
        "error": _stable_error(result),
        "input_repr": (
            result.input_repr if result and result.input_repr is not None else planned.key
        ),
        "detail": detail,
    }


def _stable_error(result: Result | None) -> str | None:
    """The sandbox's error text, except for timeouts: whether the CPU limit or the wall-clock
    backstop fired first depends on machine load, and the rejects file must not."""
    if result is None:
        return None
    if result.status == "timeout":
        return "time limit exceeded"
    return result.error


def _clip(text: str | None, limit: int = 200) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- the stage --------------------------------------------------------------------------------


class IoStage:
    def __init__(self, config: IoConfig, unifier: Unifier | None = None) -> None:
        self.config = config
        self.unifier = (
            unifier
            if unifier is not None
            else (load_unifier(config.unifier) if config.unifier else None)
        )
        self.out_path = config.output
        self.rejects_path = config.rejects_path
        self.ledger_path = config.ledger_path
        self.sandboxes: list[Sandbox] = []
        self._derive_pool: Any = None
        self.dedup: dict[str, str] = {}
        self._unified_check: Any = None  # built on the first unified seed (clean_unified)

    # -- inputs --
    def items(self) -> Iterator[Seed | RawCode]:
        if self.config.exclude_seeds is None:
            yield from self._all_items()
            return
        from kodeio.synth.io.clean.stage import RemovedSeeds

        # A seed is named by id and file:line together: ids repeat across files.
        gone = RemovedSeeds(self.config.exclude_seeds)
        for item in self._all_items():
            if not (gone.has_seed(item) if isinstance(item, Seed) else gone.has_raw(item)):
                yield item

    def _all_items(self) -> Iterator[Seed | RawCode]:
        raw = self.unifier is not None
        if self.config.seeds:
            yield from read_seeds(self.config.seeds, self.config.format, raw_python=raw)
        if self.config.hf_dataset:
            c = self.config
            yield from read_hf_seeds(
                c.hf_dataset, c.hf_split, c.hf_code_field, raw=raw, config_name=c.hf_config
            )

    def count_seeds(self) -> int:
        """Read every source once before writing anything: a malformed row anywhere stops the
        run here, with nothing half-written, and the count sizes the progress bar."""
        k, n = self.config.shard_index
        return sum(1 for ordinal, _ in enumerate(self.items()) if ordinal % n == k)

    def fingerprint(self) -> str:
        """Digest of the config keys that change results (resume checks against it)."""
        data = self.config.model_dump(mode="json")
        for key in SPEED_ONLY:
            data.pop(key, None)
            data["sandbox"].pop(key, None)
        return stable_id(json.dumps(data, sort_keys=True))

    # -- files --
    def _repair_interrupted_finish(self) -> None:
        out_partial, rej_partial = partial_path(self.out_path), partial_path(self.rejects_path)
        ledger_partial = partial_path(self.ledger_path)
        if out_partial.exists() and self.rejects_path.exists() and not rej_partial.exists():
            os.replace(self.rejects_path, rej_partial)  # killed between the two renames
        if ledger_partial.exists() and not out_partial.exists():
            ledger_partial.unlink()  # the previous run finished; start afresh

    def _open(self) -> tuple[ResumableJsonl, ResumableJsonl, ResumableJsonl]:
        self._repair_interrupted_finish()
        out = ResumableJsonl(self.out_path)
        rejects = ResumableJsonl(self.rejects_path)
        ledger = ResumableJsonl(self.ledger_path, key="key")
        fingerprint = self.fingerprint()
        rows = list(ledger.rows())
        if rows and rows[0].get("fingerprint") != fingerprint:
            for f in (out, rejects, ledger):
                f.close()
            raise InputError(
                f"{partial_path(self.out_path)}: an unfinished run with a different config is there; "
                "rerun with the same config to resume it, or delete the .partial files to start over"
            )
        if not rows:
            ledger.write(
                {
                    "key": CONFIG_KEY,
                    "stage": "io",
                    "fingerprint": fingerprint,
                    "merge_fingerprint": merge_fingerprint(self.config),
                    "shard": self.config.shard,
                }
            )
        for row in rows[1:]:
            self.dedup.update(row.get("dedup", {}))
        return out, rejects, ledger

    # -- running --
    def run(self) -> IoStats:
        stats = IoStats(output=self.out_path, rejects=self.rejects_path)
        total = self.count_seeds()
        if self.config.ray:
            from kodeio.scale.ray_runner import connect

            connect(self.config.ray)  # a wrong address fails now, before any file is written
        else:
            self._sandbox(1)  # checks isolation (bubblewrap) now, before any file is written
        out, rejects, ledger = self._open()
        c = self.config
        k, n = c.shard_index
        sharded = c.shard is not None
        todo: list[tuple[int, Seed | RawCode]] = []
        try:
            with progress_bar("io", total=total) as bar:
                chunk: list[tuple[int, Seed | RawCode]] = []
                for ordinal, item in enumerate(self.items()):
                    if ordinal % n != k:
                        continue
                    stats.seeds_read += 1
                    if _ledger_key(ordinal, item) in ledger.done_keys:
                        stats.resumed_seeds += 1
                        bar.update(0, advance=1)
                        continue
                    if c.ray:
                        todo.append((ordinal, item))
                        continue
                    chunk.append((ordinal, item))
                    if len(chunk) >= c.chunk_seeds:
                        self._chunk(chunk, out, rejects, ledger, bar, sharded)
                        chunk = []
                if chunk:
                    self._chunk(chunk, out, rejects, ledger, bar, sharded)
                if c.ray and todo:
                    from kodeio.scale.ray_runner import chunked, run_in_order

                    chunks = chunked(todo, c.chunk_seeds)
                    for outcome in run_in_order(c, outcomes_task, chunks):
                        self.write_outcome(outcome, out, rejects, ledger, sharded)
                        bar.update(0, advance=1)
        finally:
            self.close()
            out.close()
            rejects.close()
            ledger.close()
        if sharded:
            # The ledger, with every seed's unsettled outcome, is what `kodeio merge` replays;
            # it is finished first, so a finished shard output always has one beside it.
            with ResumableJsonl(self.ledger_path, key="key") as kept:
                kept.write({"key": END_KEY, "seeds": stats.seeds_read})
                kept.finish()
        rejects.finish()
        out.finish()
        if not sharded:
            partial_path(self.ledger_path).unlink(missing_ok=True)
        return summarize(stats)

    def close(self) -> None:
        for sb in self.sandboxes:
            sb.close()
        if self._derive_pool is not None:
            self._derive_pool.shutdown(cancel_futures=True)
            self._derive_pool = None

    def _sandbox(self, index: int) -> Sandbox:
        while len(self.sandboxes) <= index:
            i = len(self.sandboxes)
            cfg = self.config.sandbox.model_copy(update={"hash_seed": self.config.hash_seeds[i]})
            self.sandboxes.append(Sandbox(cfg))
        return self.sandboxes[index]

    def _chunk(
        self,
        chunk,
        out: ResumableJsonl,
        rejects: ResumableJsonl,
        ledger: ResumableJsonl,
        bar,
        keep_outcome: bool,
    ) -> None:
        for outcome in self.outcomes(chunk):
            self.write_outcome(outcome, out, rejects, ledger, keep_outcome)
            bar.update(
                0, advance=1, info=f"pairs {out.rows_written}, rejects {rejects.rows_written}"
            )

    def outcomes(self, chunk: list[tuple[int, Seed | RawCode]]) -> list[dict[str, Any]]:
        """Everything one chunk of seeds yields before cross-seed dedup is settled: this part
        runs anywhere (a Ray task, a shard), with `self.dedup` holding what it has seen."""
        works = self._unify(chunk)
        for work in works:
            self._plan_inputs(work)
        self._derive(works)
        self._run_generators([w for w in works if w.generator is not None])
        plans = self._plan_pairs(works)
        results = self._execute(plans)
        return [self._outcome(work, results.get(work.key, [])) for work in works]

    def write_outcome(
        self,
        outcome: dict[str, Any],
        out: ResumableJsonl,
        rejects: ResumableJsonl,
        ledger: ResumableJsonl,
        keep_outcome: bool = False,
    ) -> None:
        """Settle dedup against every earlier seed (in ordinal order) and append the seed's
        rows, rejects and ledger entry. `keep_outcome` stores the unsettled outcome in the
        ledger too, which is what `kodeio merge` replays."""
        rows, seed_rejects, owned = settle(outcome, self.dedup)
        for row in seed_rejects:
            if row["id"] not in rejects.done_keys:
                rejects.write(row)
        for row in rows:
            if row["id"] not in out.done_keys:
                out.write(row)
        entry: dict[str, Any] = {"key": outcome["key"], "dedup": owned}
        if keep_outcome:
            entry["outcome"] = outcome
        ledger.write(entry)

    def _unify(self, chunk: list[tuple[int, Seed | RawCode]]) -> list[SeedWork]:
        raws = [item for _, item in chunk if isinstance(item, RawCode)]
        unified: dict[int, Seed | None] = {}
        if raws:
            assert self.unifier is not None
            answers = self.unifier.unify(raws)
            if len(answers) != len(raws):
                raise InputError(
                    f"unifier returned {len(answers)} seeds for {len(raws)} inputs; expected one each"
                )
            unified = {id(r): s for r, s in zip(raws, answers, strict=True)}
        works = []
        for ordinal, item in chunk:
            key = _ledger_key(ordinal, item)
            if isinstance(item, RawCode):
                seed = unified[id(item)]
                if seed is None:
                    stub = Seed(
                        id=item.id,
                        code="",
                        entry="",
                        format="json",
                        origin="unify",
                        source=item.source,
                    )
                    work = SeedWork(ordinal, key, stub)
                    work.rejects.append(
                        seed_reject(work, "unify", "unify_declined", "the unifier returned no seed")
                    )
                    works.append(work)
                    continue
                work = SeedWork(ordinal, key, seed)
                self._check_unified(work)
                works.append(work)
                continue
            works.append(SeedWork(ordinal, key, item))
        return works

    def _check_unified(self, work: SeedWork) -> None:
        """Reject a rewritten seed that matches a benchmark (`clean_unified`)."""
        if self.config.clean_unified is None:
            return
        if self._unified_check is None:
            from kodeio.synth.io.clean.stage import UnifiedCheck

            self._unified_check = UnifiedCheck(self.config.clean_unified)
        match = self._unified_check.match(work.seed)
        if match is not None:
            detail = f"{match.method} match of {match.source}:{match.id} (score {match.score:.2f})"
            work.rejects.append(seed_reject(work, "clean", "contaminated", detail))

    def _plan_inputs(self, work: SeedWork) -> None:
        seed, c = work.seed, self.config
        if work.rejects:
            return
        if seed.problem:
            work.rejects.append(seed_reject(work, "seed", seed.problem, seed.problem_detail))
            return
        if seed.inputs:
            work.inputs = given_inputs(seed, c.per_seed)
            return
        if seed.input_generator:
            work.generator = generator_state(seed, c.seed)
            if work.generator is None:
                work.rejects.append(
                    seed_reject(
                        work,
                        "generator",
                        "generator_invalid",
                        "input_generator defines no zero-argument function",
                    )
                )
            return
        work.derive = True  # drawn for the whole chunk at once, see _derive

    def _derive(self, works: list[SeedWork]) -> None:
        """Hypothesis inputs for the seeds that need them: in worker processes when there
        are enough of them (hypothesis runs on the host, one CPU each), else here."""
        c = self.config
        todo = [w for w in works if w.derive]
        tasks = [
            (
                w.seed.code,
                w.seed.entry,
                c.per_seed,
                stable_int(c.seed, w.seed.id, "hypothesis"),
                c.hypothesis_examples,
            )
            for w in todo
        ]
        if len(tasks) >= PARALLEL_DERIVE_MIN and c.sandbox.workers > 1:
            if self._derive_pool is None:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                # spawn: a clean interpreter, not a fork of a process holding sandbox pipes.
                ctx = multiprocessing.get_context("spawn")
                self._derive_pool = ProcessPoolExecutor(
                    max_workers=c.sandbox.workers, mp_context=ctx
                )
            answers = list(self._derive_pool.map(derive_task, tasks, chunksize=4))
        else:
            answers = [derive_task(t) for t in tasks]
        for work, (keys, problem) in zip(todo, answers, strict=True):
            if problem is not None:
                work.rejects.append(seed_reject(work, "inputs", "no_input_strategy", problem))
            elif not keys:
                work.rejects.append(
                    seed_reject(work, "inputs", "no_inputs", "hypothesis drew no inputs")
                )
            else:
                work.inputs = [PlannedInput(k, k, "hypothesis") for k in keys]

    def _run_generators(self, works: list[SeedWork]) -> None:
        c = self.config
        active = [w for w in works if w.generator is not None]
        while active:
            owners: list[tuple[GeneratorState, int]] = []
            for w in active:
                g = w.generator
                assert g is not None
                need = c.per_seed - len(g.found)
                # First round: just enough tries; later rounds: twice what is missing.
                want = need if g.tries == 0 else max(2 * need, 2)
                count = min(c.generator_tries - g.tries, want)
                owners += [(g, t) for t in range(g.tries, g.tries + count)]
                g.tries += count
            results_a = list(self._sandbox(0).run(g.job(t, "a") for g, t in owners))
            # Only tries that worked are repeated (a failure is not used either way).
            again = [i for i, r in enumerate(results_a) if r.status == "ok"]
            results_b = list(
                self._sandbox(1).run(owners[i][0].job(owners[i][1], "b") for i in again)
            )
            b_of = dict(zip(again, results_b, strict=True))
            for i, ((g, _), a) in enumerate(zip(owners, results_a, strict=True)):
                g.take(a, b_of.get(i), c.per_seed)
            active = [
                w
                for w in active
                if w.generator is not None
                and not w.generator.stalled
                and len(w.generator.found) < c.per_seed
                and w.generator.tries < c.generator_tries
            ]
        for w in works:
            g = w.generator
            assert g is not None
            w.inputs = list(g.found.values())
            if w.inputs:
                continue
            if g.errors:
                reason, detail = "generator_error", g.first_error
            elif g.bad_outputs:
                reason, detail = "generator_bad_output", g.first_bad
            else:
                reason, detail = (
                    "generator_nondeterministic",
                    "its output changed between two identical runs",
                )
            detail = f"{detail} ({g.tries} tries: {g.errors} failed, {g.bad_outputs} bad, {g.unstable} unstable)"
            w.rejects.append(seed_reject(w, "generator", reason, detail))

    def _plan_pairs(self, works: list[SeedWork]) -> dict[str, list[dict[str, Any]]]:
        plans: dict[str, list[dict[str, Any]]] = {}
        for work in works:
            seed = work.seed
            entries = []
            for planned in work.inputs:
                row_id = stable_id("pair", seed.id, seed.code, seed.entry, planned.key)
                dedup = stable_id("dedup", seed.code, seed.entry, planned.key)
                owner = self.dedup.setdefault(dedup, row_id)
                entries.append(
                    {
                        "seed": seed,
                        "planned": planned,
                        "row_id": row_id,
                        "dedup": dedup,
                        "owner": owner == row_id,
                        "first": owner,
                    }
                )
            plans[work.key] = entries
        return plans

    def _job(self, entry: dict[str, Any], run: str) -> Job:
        seed: Seed = entry["seed"]
        planned: PlannedInput = entry["planned"]
        return Job(
            id=f"{entry['row_id']}:{run}",
            code=seed.code,
            entry=seed.entry,
            input=planned.job_input,
            # A different RNG seed per run, so output that depends on random draws differs.
            seed=stable_int(self.config.seed, seed.id, planned.key, run),
        )

    def _execute(self, plans: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
        """Run owners of their (code, input) in A, and the ones that succeed again in B."""
        todo = [e for entries in plans.values() for e in entries if e["owner"]]
        results_a = list(self._sandbox(0).run(self._job(e, "a") for e in todo)) if todo else []
        for e, r in zip(todo, results_a, strict=True):
            e["a"] = r
        again = [e for e in todo if e["a"].status == "ok"]
        results_b = list(self._sandbox(1).run(self._job(e, "b") for e in again)) if again else []
        for e, r in zip(again, results_b, strict=True):
            e["b"] = r
        return plans

    def _outcome(self, work: SeedWork, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """One seed's verdicts, per input, as plain JSON: the row or reject each input gets
        if it owns its (code, entry, input), the reject it gets if an earlier seed does, and
        whether it makes the whole seed nondeterministic. `settle` turns this into rows."""
        seed = work.seed
        recorded = []
        for e in entries:
            planned: PlannedInput = e["planned"]
            item: dict[str, Any] = {
                "row_id": e["row_id"],
                "dedup": e["dedup"],
                "duplicate": pair_reject(
                    seed, e["row_id"], "dedup", "duplicate", planned, None, None
                ),
                "row": None,
                "reject": None,
                "unstable": False,
                "unstable_reject": None,
            }
            recorded.append(item)
            if not e["owner"]:
                continue  # an earlier seed of this run owns it, so every run will say duplicate
            a: Result = e["a"]
            b: Result | None = e.get("b")
            if a.status != "ok":
                item["reject"] = pair_reject(
                    seed, e["row_id"], "execute", a.status, planned, a, None
                )
                continue
            assert b is not None
            if b.status != "ok" or b.output_repr != a.output_repr:
                item["unstable"] = True
                second = b.output_repr if b.status == "ok" else f"{b.status}: {b.error}"
                detail = f"run A gave {_clip(a.output_repr, 120)}; run B gave {_clip(second, 120)}"
                item["reject"] = pair_reject(
                    seed, e["row_id"], "execute", "nondeterministic", planned, a, detail
                )
                continue
            _, item["row"], item["reject"] = self._filter(seed, e, a)
            if item["row"] is not None:
                detail = "another input of this seed gave different outputs in the two runs"
                item["unstable_reject"] = pair_reject(
                    seed, e["row_id"], "execute", "nondeterministic_seed", planned, a, detail
                )
        return {
            "ordinal": work.ordinal,
            "key": work.key,
            "rejects": work.rejects,
            "entries": recorded,
        }

    def _filter(
        self, seed: Seed, e: dict[str, Any], a: Result
    ) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]:
        planned: PlannedInput = e["planned"]
        row_id = e["row_id"]

        def reject(reason: str, detail: str) -> tuple[dict[str, Any], None, dict[str, Any]]:
            return e, None, pair_reject(seed, row_id, "filter", reason, planned, a, detail)

        input_repr = a.input_repr if a.input_repr is not None else planned.key
        output_repr = a.output_repr or ""
        try:
            args, kwargs = parse_call_args(input_repr)
        except (NotALiteral, RecursionError, ValueError):
            return reject(
                "input_not_literal", f"the input is not literal values: {_clip(input_repr, 120)}"
            )
        try:
            output = parse_literal(output_repr)
        except (NotALiteral, RecursionError, ValueError):
            return reject(
                "output_not_literal",
                f"the output is not a literal value: {_clip(output_repr, 120)}",
            )
        input_ok, input_json = to_json_lossless({"args": args, "kwargs": kwargs})
        if seed.format == "json":
            if not input_ok:
                return reject(
                    "input_not_json", "a JSON-policy seed got an input JSON cannot hold exactly"
                )
            if not a.output_is_json:
                return reject(
                    "output_not_json", f"a JSON-policy seed returned {_clip(output_repr, 120)}"
                )
        failed = check_pair(args, kwargs, input_repr, output, output_repr, self.config.filters)
        if failed:
            return reject(*failed)
        row = {
            "id": row_id,
            "seed_id": seed.id,
            "code": seed.code,
            "entry": seed.entry,
            "input": input_json if input_ok else None,
            "input_repr": input_repr,
            "output": a.output if a.output_is_json else None,
            "output_repr": output_repr,
            "status": "ok",
            "policy": seed.format,
            "problem_description": seed.problem_description,
            "io_requirements": seed.io_requirements,
            "category": seed.category,
            "input_source": planned.source,
            "reference_match": reference_matches(planned.reference, a.output, output_repr),
            "origin": seed.origin,
            "source": seed.source,
        }
        return e, row, None


def settle(
    outcome: dict[str, Any], dedup: dict[str, str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    """(kept rows, rejects, dedup keys this seed owns) for one seed, in input order.

    `dedup` maps every (code, entry, input) digest seen so far, in seed order, to the row
    that owns it. The first seed to reach a digest owns it whichever machine ran it, so a
    merged or Ray run settles exactly as one machine would.
    """
    owned: dict[str, str] = {}
    verdicts: list[tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]] = []
    unstable = False
    for item in outcome["entries"]:
        first = dedup.setdefault(item["dedup"], item["row_id"])
        if first != item["row_id"]:
            detail = f"same code, entry and input as pair {first}"
            verdicts.append((item, None, {**item["duplicate"], "detail": detail}))
            continue
        owned[item["dedup"]] = item["row_id"]
        if item["row"] is None and item["reject"] is None:
            raise InputError(
                f"seed {outcome['key']}: pair {item['row_id']} was not executed where it ran, "
                "but owns its input here; the outcomes do not come from one run"
            )
        unstable = unstable or item["unstable"]
        verdicts.append((item, item["row"], item["reject"]))
    rows, rejects = [], list(outcome["rejects"])
    for item, row, reject in verdicts:
        if unstable and row is not None:
            row, reject = None, item["unstable_reject"]
        if row is not None:
            rows.append(row)
        if reject is not None:
            rejects.append(reject)
    return rows, rejects, owned


def outcomes_task(
    config_json: dict[str, Any], chunk: list[tuple[int, Any]]
) -> list[dict[str, Any]]:
    """One Ray task (`--ray`): the unsettled outcomes of a contiguous chunk of seeds."""
    stage = IoStage(IoConfig.model_validate(config_json))
    try:
        return stage.outcomes(chunk)
    finally:
        stage.close()


def _ledger_key(ordinal: int, item: Seed | RawCode) -> str:
    """Position plus a digest of the content, so an edited seed file is not taken as done."""
    if isinstance(item, RawCode):
        digest = stable_id(item.code)
    else:
        digest = stable_id(
            item.code, item.entry, repr(item.inputs), item.input_generator, item.problem
        )
    return f"{ordinal}:{item.id}:{digest}"


def summarize(stats: IoStats) -> IoStats:
    """Counts from the finished files, so a resumed run reports the whole run."""
    seeds_with_pairs: set[str] = set()
    for _, row in iter_jsonl(stats.output):
        stats.pairs_kept += 1
        seeds_with_pairs.add(row["seed_id"])
        if row.get("reference_match") is False:
            stats.reference_mismatches += 1
    stats.seeds_with_pairs = len(seeds_with_pairs)
    unstable: set[str] = set()
    for _, row in iter_jsonl(stats.rejects):
        stats.rejects_by_reason[row["reason"]] += 1
        if row["reason"] == "nondeterministic":
            unstable.add(row["seed_id"])
    stats.nondeterministic_seeds = len(unstable)
    return stats


def run_io(config: IoConfig, unifier: Unifier | None = None) -> IoStats:
    """Run the stage; returns the counts for the summary table."""
    return IoStage(config, unifier).run()


def run_stage(config: IoConfig, unifier: Unifier | None = None) -> Path:
    return run_io(config, unifier).output


def iter_pairs(path: str | Path) -> Iterable[dict[str, Any]]:
    """Rows of an IO.jsonl (what the synthesis stage reads)."""
    for _, row in iter_jsonl(path, required=("id", "code", "entry", "input_repr", "output_repr")):
        yield row
