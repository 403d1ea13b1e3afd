"""`kodeio synth run`: I/O pairs -> prompts -> model -> verification -> revision -> traces.

Flow, built so the engine never waits on the sandbox:

    main thread:      [generate batch k] [generate batch k+1] [generate batch k+2] ...
    verifier thread:           [verify batch k]   [verify batch k+1] ...
                                  `-> wrong answers become revision requests that join
                                      the next batch (ahead of new first-turn prompts)

Every request has a content hash (`GenRequest.key`: model, sampling, the whole
conversation, template version). Completions are journaled as they arrive
(`OUT.gen.jsonl`); finished samples are appended to `OUT.partial`, keyed by trace id.
After a kill -9 a rerun skips finished samples, replays journaled completions without
calling the engine, and generates only what is missing: no duplicates, nothing lost.
"""

from __future__ import annotations

import hashlib
import json
import queue
import shutil
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from kodeio.errors import ConfigError, InputError
from kodeio.files import ResumableJsonl, atomic_path, dumps, iter_jsonl, partial_path
from kodeio.llm import Backend, BackendError, GenRequest, GenResult, make_backend
from kodeio.llm.journal import GenerationJournal, journal_path
from kodeio.synth.config import SynthConfig
from kodeio.synth.difficulty import pass_rate
from kodeio.synth.language import is_off, language_field
from kodeio.synth.prompts import Pair, prediction_prompt, template_version
from kodeio.synth.revision import (
    BACKEND_ERROR,
    TRUNCATED,
    Sample,
    Turn,
    feedback_text,
    multi_turn_messages,
    needs_revision,
    show_value,
)

VERIFY_CHUNK = 64  # results handed to the verifier at a time while a batch streams in


def content_hash(obj: Any) -> str:
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


@dataclass
class Task:
    """One sample of one (pair, mode): its conversation grows a turn per round."""

    id: str
    pair: Pair
    sample_index: int
    sample: Sample
    request_keys: list[str] = field(default_factory=list)


@dataclass
class Group:
    """The tasks a request serves: n first-turn samples, or one revision."""

    request: GenRequest
    tasks: list[Task]


@dataclass
class RunStats:
    traces: int = 0
    resumed: int = 0
    generated_requests: int = 0
    replayed_requests: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    turns_correct: dict[str, int] = field(default_factory=dict)
    turns_total: dict[str, int] = field(default_factory=dict)
    completion_tokens: int = 0
    load_seconds: float = 0.0  # engine start-up
    wall_seconds: float = 0.0  # from engine ready to the last trace written
    engine_seconds: float = 0.0
    retries: int = 0

    @property
    def verified(self) -> int:
        return self.by_status.get("verified_first", 0) + self.by_status.get("verified_revised", 0)

    @property
    def engine_busy_share(self) -> float:
        return self.engine_seconds / self.wall_seconds if self.wall_seconds else 0.0


class SynthRun:
    """One run of the stage. `run()` returns stats; the traces are at `config.output`."""

    def __init__(
        self,
        config: SynthConfig,
        backend: Backend | None = None,
        progress: bool | None = None,
        pipelined: bool = True,
    ) -> None:
        """`pipelined=False` verifies each batch before generating the next: the naive loop,
        kept as the baseline of bench/synth.py."""
        if config.pairs is None or config.output is None:
            raise ConfigError("synth: keys 'pairs' and 'output' are required (or set 'run_dir')")
        self.config = config
        self.pairs_path = Path(config.pairs)
        self.output = Path(config.output)
        self._backend = backend
        self.progress_enabled = progress
        self.pipelined = pipelined
        self.template_version = template_version()
        self.sampling = {
            "temperature": config.sampling.temperature,
            "top_p": config.sampling.top_p,
            "max_tokens": config.sampling.max_tokens,
            "n_samples": config.sampling.n_samples,
            "seed": config.sampling.seed,
        }
        self.stats = RunStats()
        self._revisions: deque[Group] = deque()
        self._verify_queue: queue.Queue[list[tuple[Group, GenResult]] | None] = queue.Queue()
        self._cond = threading.Condition()
        self._in_flight = 0  # groups handed to the verifier and not yet resolved
        self._verifier_error: BaseException | None = None

    # -- requests ---------------------------------------------------------------------------
    def _request(self, messages: list[dict[str, str]], n: int, turn: int) -> GenRequest:
        s = self.config.sampling
        if self.config.system_prompt:
            messages = [{"role": "system", "content": self.config.system_prompt}, *messages]
        key = content_hash(
            {
                "model": self.config.model,
                "lora": self.config.vllm.lora_path if self.config.backend == "vllm" else None,
                "messages": messages,
                "n": n,
                "turn": turn,
                "sampling": [s.temperature, s.top_p, s.max_tokens, s.seed],
                "template": self.template_version,
            }
        )
        # A per-request seed: reruns and resumes sample the same way, requests differ.
        seed = (s.seed * 1_000_003 + int(key[:8], 16)) % (2**31 - 1)
        return GenRequest(
            key=key,
            messages=tuple(messages),
            n=n,
            max_tokens=s.max_tokens,
            temperature=s.temperature,
            top_p=s.top_p,
            seed=seed,
        )

    def _read_pair_rows(self) -> Iterator[tuple[Pair, dict[str, Any]]]:
        """(pair, its row) of this run: the first `max_pairs`, then every N-th from the K-th
        of a `--shard K/N` run. Every row is read and checked, in any shard."""
        seen: set[str] = set()
        k, n = self.config.shard_index
        for count, (lineno, row) in enumerate(iter_jsonl(self.pairs_path), 1):
            where = f"{self.pairs_path}:{lineno}"
            pair = Pair.from_row(row, where)
            if pair.id in seen:
                raise InputError(f"{where}: duplicate pair id {pair.id!r}")
            seen.add(pair.id)
            if (count - 1) % n == k:
                yield pair, row
            if self.config.max_pairs and count >= self.config.max_pairs:
                return

    def _read_pairs(self) -> Iterator[Pair]:
        return (pair for pair, _ in self._read_pair_rows())

    def _first_turns(self, pair: Pair) -> Iterator[tuple[str, str, GenRequest, list[str]]]:
        """(mode, prompt, first-turn request, trace id of each sample) of one pair, in the
        order its traces take in a finished output."""
        n = self.config.sampling.n_samples
        for mode in self.config.modes:
            prompt = prediction_prompt(pair, mode, self.config.reasoning_language)
            request = self._request([{"role": "user", "content": prompt}], n, turn=1)
            # The pair id is part of it: two pairs may share a prompt (same code and input
            # under different ids) and must not share a trace id.
            ids = [content_hash({"request": request.key, "pair": pair.id, "sample": i})
                   for i in range(n)]  # fmt: skip
            yield mode, prompt, request, ids

    def trace_ids(self, pair: Pair) -> list[str]:
        return [tid for *_, ids in self._first_turns(pair) for tid in ids]

    def _first_turn_groups(self, done: set[str]) -> Iterator[Group]:
        lang = self.config.reasoning_language
        for pair in self._read_pairs():
            for mode, prompt, request, ids in self._first_turns(pair):
                tasks = []
                for i, trace_id in enumerate(ids):
                    if trace_id in done:
                        self.stats.resumed += 1
                        continue
                    sample = Sample(
                        prompt=prompt,
                        mode=mode,
                        entry=pair.entry,
                        language=lang,
                        input_style=pair.input_style,
                    )
                    tasks.append(Task(trace_id, pair, i, sample, [request.key]))
                if tasks:
                    yield Group(request, tasks)

    # -- verification (runs in its own thread) ---------------------------------------------
    def _verify_loop(self, out: ResumableJsonl, on_trace: Any) -> None:
        from kodeio.sandbox import Sandbox
        from kodeio.synth.verify import VerifyConfig

        try:
            verify_config = VerifyConfig(**self.config.verify)
        except Exception as exc:
            self._fail(ConfigError(f"synth: key 'verify': {exc}"))
            return
        try:
            with Sandbox(self.config.sandbox) as sandbox:
                while True:
                    batch = self._verify_queue.get()
                    if batch is None:
                        return
                    self._judge(batch, verify_config, sandbox, out, on_trace)
        except BaseException as exc:  # surfaced by the main thread
            self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        with self._cond:
            self._verifier_error = exc
            self._cond.notify_all()

    def _judge(
        self,
        batch: list[tuple[Group, GenResult]],
        verify_config: Any,
        sandbox: Any,
        out: ResumableJsonl,
        on_trace: Any,
    ) -> None:
        from kodeio.synth.verify import VerifyItem, verify

        items: list[Any] = []
        slots: list[tuple[Task, Any, int | None]] = []  # task, completion, index into items
        for group, result in batch:
            for task, completion in zip(group.tasks, _completions_for(group, result), strict=True):
                index: int | None = None
                if not completion.finish_reason.startswith("error"):
                    pair = task.pair
                    index = len(items)
                    items.append(
                        VerifyItem(
                            id=f"{task.id}#{len(task.sample.turns) + 1}",
                            code=pair.code,
                            entry=pair.entry,
                            mode=task.sample.mode,
                            input=pair.input,
                            output=pair.output,
                            output_repr=pair.output_repr if pair.policy == "python" else None,
                            prediction=completion.text,
                            policy=pair.policy,
                        )
                    )
                slots.append((task, (completion, result.prompt_tokens), index))
        verdicts = list(verify(items, config=verify_config, sandbox=sandbox)) if items else []

        revisions: list[Group] = []
        for task, (completion, prompt_tokens), index in slots:
            verdict = verdicts[index] if index is not None else None
            turn = _turn_from(completion, prompt_tokens, verdict, task.pair.entry)
            task.sample.turns.append(turn)
            turn_no = len(task.sample.turns)
            if needs_revision(turn) and turn_no <= self.config.revisions:
                turn.feedback = feedback_text(task.sample, turn)
                request = self._request(task.sample.conversation(), 1, turn=turn_no + 1)
                task.request_keys.append(request.key)
                revisions.append(Group(request, [task]))
            else:
                row = self._trace_row(task)
                out.write(row)
                on_trace(row)
        with self._cond:
            self._revisions.extend(revisions)
            self._in_flight -= len(batch)  # revisions are tracked by the deque itself
            self._cond.notify_all()

    def _trace_row(self, task: Task) -> dict[str, Any]:
        sample, pair = task.sample, task.pair
        row = {
            "id": task.id,
            "pair_id": pair.id,
            "seed_id": pair.seed_id,
            "mode": sample.mode,
            "sample": task.sample_index,
            "status": sample.status,
            "turns": [t.to_row() for t in sample.turns],
            "messages": multi_turn_messages(sample),
            "entry": pair.entry,
            "policy": pair.policy,
            "reasoning_language": sample.language,
            "input_style": sample.input_style,
            "model": self.config.model,
            "backend": self.config.backend,
            "lora": self.config.vllm.lora_path if self.config.backend == "vllm" else None,
            "sampling": self.sampling,
            "template_version": self.template_version,
            "request_keys": task.request_keys,
            "tokens": {
                "prompt": sum(t.prompt_tokens for t in sample.turns),
                "completion": sum(t.completion_tokens for t in sample.turns),
            },
        }
        # New fields only where their feature is on, so other runs keep their bytes.
        if self.config.sampling.n_samples > 1:
            row["category"] = pair.category  # pass_rate and band follow in _finish
        if sample.language == "ko":
            row["language"] = language_field(
                (t.completion for t in sample.turns),
                verified=sample.status != "failed",
                check=self.config.language_check,
            )
        return row

    # -- the generation loop (main thread) --------------------------------------------------
    def _next_batch(self, first_turns: Iterator[Group], size: int) -> list[Group]:
        batch: list[Group] = []
        with self._cond:
            while self._revisions and len(batch) < size:
                batch.append(self._revisions.popleft())
        while len(batch) < size:
            group = next(first_turns, None)
            if group is None:
                break
            batch.append(group)
        return batch

    def _wait_for_work(self) -> bool:
        """Block until revisions arrive or nothing is in flight; False when all is done."""
        with self._cond:
            while not self._revisions and self._in_flight and self._verifier_error is None:
                self._cond.wait(timeout=0.5)
            self._raise_verifier_error()
            return bool(self._revisions)

    def _wait_verified(self) -> None:
        with self._cond:
            while self._in_flight and self._verifier_error is None:
                self._cond.wait(timeout=0.5)
            self._raise_verifier_error()

    def _raise_verifier_error(self) -> None:
        if self._verifier_error is not None:
            raise self._verifier_error

    def _handoff(self, chunk: list[tuple[Group, GenResult]]) -> None:
        if chunk:
            with self._cond:
                self._in_flight += len(chunk)
            self._verify_queue.put(list(chunk))
            chunk.clear()

    def run(self) -> RunStats:
        started = time.perf_counter()
        if self.config.ray:
            from kodeio.scale.ray_runner import connect

            connect(self.config.ray)  # a wrong address fails now, before any file is written
        partial = partial_path(self.output)
        self._check_same_settings(partial if partial.exists() else self.output)
        if self.output.exists() and not partial.exists():
            # A finished output is the starting point of a rerun: only new work is added.
            shutil.copyfile(self.output, partial)
        out = ResumableJsonl(self.output, key="id")
        journal = GenerationJournal(journal_path(self.output))
        done = set(out.done_keys)
        for row in out.rows():
            self._count(row)
        self.stats.resumed = 0
        owns_backend = self._backend is None
        from kodeio.progress import progress_bar

        bar_ctx = progress_bar("synth", self._expected_traces(), self.progress_enabled)
        try:
            with bar_ctx as bar:
                lock = threading.Lock()

                def on_trace(row: dict[str, Any]) -> None:
                    with lock:
                        self._count(row)
                        bar.update(0, advance=1, info=self._live_info())

                if self.config.ray:
                    self._run_on_ray(out, journal, done, on_trace)
                else:
                    self._run_here(out, journal, done, on_trace)
            # Busy share is over the working time: engine start-up is reported separately.
            self.stats.wall_seconds = time.perf_counter() - started - self.stats.load_seconds
            if self._backend is not None:
                self.stats.engine_seconds = self._backend.meter.busy_seconds
                self.stats.retries = getattr(self._backend, "retries", 0)
            self._finish(out)
            journal.close()
            if not self.config.keep_journal:
                journal.path.unlink(missing_ok=True)
            return self.stats
        finally:
            out.close()
            journal.close()
            if owns_backend and self._backend is not None:
                self._backend.close()
                self._backend = None

    def _run_here(
        self, out: ResumableJsonl, journal: GenerationJournal, done: set[str], on_trace: Any
    ) -> None:
        """Generate on this machine's backend while the verifier thread judges."""
        verifier = threading.Thread(target=self._verify_loop, args=(out, on_trace), daemon=True)
        verifier.start()
        try:
            first_turns = self._first_turn_groups(done)
            size = self.config.effective_batch_size()
            while True:
                self._raise_verifier_error()
                batch = self._next_batch(first_turns, size)
                if not batch:
                    if self._wait_for_work():
                        continue
                    break
                self._generate(batch, journal)
                if not self.pipelined:
                    self._wait_verified()
            self._verify_queue.put(None)
            verifier.join()
            self._raise_verifier_error()
        finally:
            if verifier.is_alive():
                self._verify_queue.put(None)
                verifier.join(timeout=30)

    def _run_on_ray(
        self, out: ResumableJsonl, journal: GenerationJournal, done: set[str], on_trace: Any
    ) -> None:
        """Chunks of unfinished pairs as Ray tasks; their traces are written in pair order."""
        from kodeio.scale.ray_runner import chunked, run_in_order

        todo: list[dict[str, Any]] = []
        for pair, row in self._read_pair_rows():
            ids = self.trace_ids(pair)
            finished = sum(1 for tid in ids if tid in done)
            self.stats.resumed += finished
            if finished < len(ids):
                todo.append(row)
        if not todo:
            return
        chunks = chunked(todo, self.config.chunk_pairs)
        for result in run_in_order(self.config, traces_task, chunks):
            for key in ("generated_requests", "replayed_requests", "retries"):
                setattr(self.stats, key, getattr(self.stats, key) + result[key])
            self.stats.engine_seconds += result["engine_seconds"]
            for row in result["journal"]:
                journal.add_row(row)
            for line in result["traces"]:
                row = json.loads(line)
                if row["id"] not in done:  # a pair half done before: only what it lacked
                    out.write(row)
                    on_trace(row)

    def _finish(self, out: ResumableJsonl) -> None:
        """Traces in pair order, then mode (as in `modes`), then sample, whatever order they
        were written in: a run gives the same bytes on one machine, on Ray, or as merged
        shards. Only byte offsets are held in memory; rows are copied as bytes."""
        out.close()
        pair_rank = {pair.id: i for i, pair in enumerate(self._read_pairs())}
        mode_rank = {mode: i for i, mode in enumerate(self.config.modes)}
        spans: list[tuple[int, int, int, int, int, int]] = []  # sort key, offset, length
        offset = 0
        with out.partial.open("rb") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    p, m = pair_rank.get(row["pair_id"]), mode_rank.get(row["mode"])
                    if p is None or m is None:  # a pair no longer read (smaller max_pairs)
                        p, m, sample = len(pair_rank), 0, 0  # stays, at the end
                    else:
                        sample = int(row["sample"])
                    # File position breaks ties, so the sort is stable.
                    spans.append((p, m, sample, len(spans), offset, len(line)))
                offset += len(line)
        rows = len(spans)
        if any(a > b for a, b in pairwise(spans)):
            spans.sort()
            with (
                out.partial.open("rb") as src,
                atomic_path(out.partial) as tmp,
                tmp.open("wb") as dst,
            ):
                for *_, start, length in spans:
                    src.seek(start)
                    dst.write(src.read(length))
        if self.config.sampling.n_samples > 1 or self.config.reasoning_language == "ko":
            self._annotate(out.partial)
        if self.config.shard:
            from kodeio.scale.shards import write_sidecar

            group = len(self.config.modes) * self.config.sampling.n_samples
            write_sidecar(self.output, "synth", self.config, self.config.shard, rows, group=group)
        out.finish()

    def _annotate(self, path: Path) -> None:
        """Settle what depends on the config or on a whole (pair, mode) group: its
        `pass_rate` (verified / n_samples) and band, and each Korean trace's
        `language_mismatch` under the current thresholds. A rerun with other limits
        re-judges finished traces without generating anything.

        Runs on the sorted file, where the samples of a (pair, mode) are adjacent: one group
        is held at a time."""
        k = self.config.sampling.n_samples
        bands, check = self.config.difficulty, self.config.language_check

        def flush(group: list[dict[str, Any]], dst: Any) -> None:
            rate = pass_rate(sum(r["status"] != "failed" for r in group), k)
            for r in group:
                if k > 1:
                    r["pass_rate"], r["band"] = rate, bands.band(rate)
                lang = r.get("language")
                if isinstance(lang, dict):
                    lang["mismatch"] = is_off(
                        float(lang["hangul_share"]),
                        int(lang["han_chars"]),
                        r["status"] != "failed",
                        check,
                    )
                dst.write(dumps(r) + "\n")
            group.clear()

        with (
            path.open("r", encoding="utf-8") as src,
            atomic_path(path) as tmp,
            tmp.open("w", encoding="utf-8") as dst,
        ):
            group: list[dict[str, Any]] = []
            for line in src:
                if not line.strip():
                    continue
                row = json.loads(line)
                if group and (group[0]["pair_id"], group[0]["mode"]) != (
                    row["pair_id"],
                    row["mode"],
                ):
                    flush(group, dst)
                group.append(row)
            flush(group, dst)

    def _provenance(self) -> dict[str, Any]:
        return {
            "model": self.config.model,
            "sampling": self.sampling,
            "template_version": self.template_version,
            "reasoning_language": self.config.reasoning_language,
        }

    def _check_same_settings(self, existing: Path) -> None:
        """Resuming into an output written with other settings would mix two datasets."""
        if not existing.is_file():
            return
        with existing.open("r", encoding="utf-8") as fh:
            first = fh.readline()
        try:
            row = json.loads(first)
        except json.JSONDecodeError:
            return  # empty, or a torn first line: ResumableJsonl recovers it
        mine = self._provenance()
        theirs = {k: row.get(k) for k in mine}
        if theirs != mine:
            changed = ", ".join(k for k in mine if theirs[k] != mine[k])
            raise ConfigError(
                f"{existing}: existing traces were made with different settings "
                f"({changed}); write to a new output path, or delete it to start over"
            )

    def _engine(self) -> Backend:
        """The backend, started on first use: a resumed run with nothing left to generate
        never pays the engine's start-up."""
        if self._backend is None:
            started = time.perf_counter()
            self._backend = make_backend(self.config.engine())
            self.stats.load_seconds += time.perf_counter() - started
        return self._backend

    def _generate(self, batch: list[Group], journal: GenerationJournal) -> None:
        by_key: dict[str, list[Group]] = {}
        for group in batch:
            by_key.setdefault(group.request.key, []).append(group)
        chunk: list[tuple[Group, GenResult]] = []
        fresh: list[GenRequest] = []
        for groups in by_key.values():
            cached = journal.get(groups[0].request)
            if cached is not None:  # generated before a kill: replay, do not regenerate
                self.stats.replayed_requests += 1
                chunk.extend((g, cached) for g in groups)
            else:
                fresh.append(groups[0].request)
        self._handoff(chunk)
        if not fresh:
            return
        try:
            for result in self._engine().generate(fresh):
                journal.add(result)
                self.stats.generated_requests += 1
                chunk.extend((g, result) for g in by_key[result.request.key])
                if len(chunk) >= VERIFY_CHUNK:
                    self._handoff(chunk)
        except BackendError:
            self._handoff(chunk)  # what did arrive still gets verified and written
            self._verify_queue.put(None)
            raise
        self._handoff(chunk)

    def _expected_traces(self) -> int | None:
        try:
            with self.pairs_path.open("rb") as fh:
                lines = sum(1 for line in fh if line.strip())
        except OSError:
            return None
        if self.config.max_pairs:
            lines = min(lines, self.config.max_pairs)
        k, n = self.config.shard_index
        return len(range(k, lines, n)) * len(self.config.modes) * self.config.sampling.n_samples

    # -- live numbers -----------------------------------------------------------------------
    def _count(self, row: dict[str, Any]) -> None:
        st = self.stats
        st.traces += 1
        st.by_status[row["status"]] = st.by_status.get(row["status"], 0) + 1
        for i, turn in enumerate(row["turns"], 1):
            key = f"{row['mode']}#{i}"
            st.turns_total[key] = st.turns_total.get(key, 0) + 1
            st.turns_correct[key] = st.turns_correct.get(key, 0) + int(turn["verdict"]["correct"])
        st.completion_tokens += int(row.get("tokens", {}).get("completion", 0))

    def _live_info(self) -> str:
        st = self.stats
        parts = [
            f"verified {st.verified}/{st.traces} ({100 * st.verified / max(1, st.traces):.0f}%)"
        ]
        for mode in self.config.modes:
            total = st.turns_total.get(f"{mode}#1", 0)
            if total:
                acc = 100 * st.turns_correct.get(f"{mode}#1", 0) / total
                parts.append(f"{mode} t1 {acc:.0f}%")
        return " | ".join(parts)


def _completions_for(group: Group, result: GenResult) -> list[Any]:
    """The completion each task of the group gets (sample i -> completion i)."""
    comps = result.completions
    if len(comps) < group.request.n:
        raise BackendError(
            f"backend returned {len(comps)} completions for a request of n={group.request.n}"
        )
    return [comps[t.sample_index if group.request.n > 1 else 0] for t in group.tasks]


def _turn_from(completion: Any, prompt_tokens: int, verdict: Any, entry: str) -> Turn:
    """A Turn from a completion and its verdict (None when the engine refused it)."""
    if verdict is None:
        return Turn(
            completion=completion.text,
            finish_reason=completion.finish_reason,
            completion_tokens=completion.completion_tokens,
            prompt_tokens=prompt_tokens,
            answer=None,
            correct=False,
            reason=BACKEND_ERROR,
            error=completion.finish_reason,
        )
    answer = _answer_text(verdict.answer, entry)
    # What the predicted input really produced (input mode), spelled like the prompt's values.
    produced = None
    if getattr(verdict, "produced_repr", None) is not None:
        produced = show_value(verdict.produced)
    correct, reason = bool(verdict.correct), str(verdict.reason)
    terminated = "</think>" in completion.text
    if completion.finish_reason == "length" and not terminated:
        # Cut off inside the reasoning: even a lucky answer in the tail is not a clean trace.
        correct, reason = False, TRUNCATED
    error = getattr(verdict, "error", None)
    return Turn(
        completion=completion.text,
        finish_reason=completion.finish_reason,
        completion_tokens=completion.completion_tokens,
        prompt_tokens=prompt_tokens,
        answer=answer,
        correct=correct,
        reason=reason,
        produced=produced if not correct else None,
        error=error,
    )


def _answer_text(answer: Any, entry: str) -> str | None:
    """The extracted answer as the feedback shows it: a value, or a call for call answers."""
    if answer is None:
        return None
    call_source = getattr(answer, "call_source", None)
    if callable(call_source):
        return str(call_source(entry))
    return show_value(answer)


def traces_task(config_json: dict[str, Any], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One Ray task (`--ray`): a whole `synth run` over a chunk of pairs, in a temp dir on its
    node.

    Returns the chunk's traces as text (in pair order, byte for byte), its journal rows and
    its counters. The model is reached over HTTP (the openai backend's replica list), so a
    task holds no engine: a rerun after its worker died just asks the replicas again.
    """
    import tempfile

    from kodeio.files import read_jsonl, write_jsonl

    with tempfile.TemporaryDirectory(prefix="kodeio-synth-") as tmp:
        pairs, output = Path(tmp) / "pairs.jsonl", Path(tmp) / "traces.jsonl"
        write_jsonl(pairs, rows)
        update = {"pairs": pairs, "output": output, "ray": None, "shard": None,
                  "max_pairs": None, "keep_journal": True, "run_dir": None}  # fmt: skip
        config = SynthConfig.model_validate(config_json).model_copy(update=update)
        stats = SynthRun(config, progress=False).run()
        return [
            {
                "traces": output.read_text(encoding="utf-8").splitlines(),
                "journal": read_jsonl(journal_path(output)),
                "generated_requests": stats.generated_requests,
                "replayed_requests": stats.replayed_requests,
                "retries": stats.retries,
                "engine_seconds": stats.engine_seconds,
            }
        ]


def run_stage(config: SynthConfig, progress: bool | None = None) -> Path:
    """The stage's Python API: write `config.output`, return its path."""
    run = SynthRun(config, progress=progress)
    run.run()
    assert config.output is not None
    return Path(config.output)
