"""Pipeline logic with a scripted model: statuses, feedback, revision, resume, export, stats.

Verification is real (the verify stage on the real sandbox); only the model is scripted,
so every expected status is known. The real engines are tested in test_engines.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from kodeio.errors import InputError
from kodeio.files import read_jsonl
from kodeio.llm.base import BackendError, GenRequest, GenResult
from kodeio.llm.journal import journal_path
from kodeio.llm.scripted import ScriptedBackend
from kodeio.synth.config import SynthConfig
from kodeio.synth.pipeline import SynthRun
from kodeio.synth.traces import compute_stats, export, export_rows
from kodeio.testing.known_pairs import known_answers


def make_config(pairs: Path, out: Path, **kw: object) -> SynthConfig:
    return SynthConfig.model_validate(
        {"pairs": str(pairs), "output": str(out), "backend": "scripted", **kw}
    )


def run(cfg: SynthConfig, backend: ScriptedBackend | None = None) -> tuple[list[dict], object]:
    backend = backend or ScriptedBackend(known_answers)
    stats = SynthRun(cfg, backend=backend, progress=False).run()
    return read_jsonl(cfg.output), stats


def by_key(rows: list[dict]) -> dict[tuple[str, str], dict]:
    return {(r["pair_id"], r["mode"]): r for r in rows}


def test_statuses_turns_and_provenance(pairs_file: Path, tmp_path: Path) -> None:
    rows, stats = run(make_config(pairs_file, tmp_path / "traces.jsonl"))
    got = {k: r["status"] for k, r in by_key(rows).items()}
    assert got == {
        ("double-3", "output"): "verified_first",
        ("double-3", "input"): "verified_revised",
        ("sort-1", "output"): "failed",
        ("sort-1", "input"): "verified_revised",
        ("crux-1", "output"): "verified_first",
        ("crux-1", "input"): "verified_first",
    }
    row = by_key(rows)[("double-3", "input")]
    assert [t["verdict"]["correct"] for t in row["turns"]] == [False, True]
    assert row["turns"][0]["verdict"]["reason"] == "mismatch"
    assert row["turns"][0]["answer"] == '{"n": 2}'
    for key in ("model", "sampling", "template_version", "seed_id", "pair_id", "tokens"):
        assert key in row
    assert row["sampling"]["temperature"] == 0.6 and row["sampling"]["top_p"] == 0.95
    assert row["seed_id"] == "double" and row["template_version"].startswith("synth-v1-")
    assert len(row["request_keys"]) == 2
    failed = by_key(rows)[("sort-1", "output")]
    assert len(failed["turns"]) == 2  # one revision by default, then it stops
    assert stats.verified == 5 and stats.traces == 6
    assert not journal_path(tmp_path / "traces.jsonl").exists()  # cleaned up when complete


def test_feedback_uses_execution_and_hides_the_answer(pairs_file: Path, tmp_path: Path) -> None:
    rows, _ = run(make_config(pairs_file, tmp_path / "t.jsonl"))
    rows_by = by_key(rows)
    # Input mode: the feedback shows what the predicted input really produced (4) ...
    fb = rows_by[("double-3", "input")]["turns"][0]["feedback"]
    assert "returns 4" in fb and '{"n": 2}' in fb
    assert '"n": 3' not in fb  # ... and never the expected answer
    # Output mode: only that the prediction is wrong; never the true output.
    fb = rows_by[("sort-1", "output")]["turns"][0]["feedback"]
    assert "[3, 2, 1]" in fb and "[1, 2, 3]" not in fb
    # Unparsable: says the answer could not be read.
    fb = rows_by[("sort-1", "input")]["turns"][0]["feedback"]
    assert rows_by[("sort-1", "input")]["turns"][0]["verdict"]["reason"] == "unparsable"
    assert "could not read" in fb
    # The revision request carried the conversation: prompt, answer, feedback.
    msgs = rows_by[("double-3", "input")]["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant"]
    assert msgs[2]["content"] == rows_by[("double-3", "input")]["turns"][0]["feedback"]


def test_sft_message_shape(pairs_file: Path, tmp_path: Path) -> None:
    rows, _ = run(make_config(pairs_file, tmp_path / "t.jsonl"))
    row = by_key(rows)[("double-3", "output")]
    assistant = row["messages"][1]["content"]
    assert assistant.startswith("<think>\nn is 3, so 3 * 2 = 6.\n</think>\n\n")
    assert assistant.endswith('```json\n{"output": 6}\n```')


def test_revisions_zero_and_two(pairs_file: Path, tmp_path: Path) -> None:
    rows, _ = run(make_config(pairs_file, tmp_path / "r0.jsonl", revisions=0))
    assert all(len(r["turns"]) == 1 for r in rows)
    assert by_key(rows)[("double-3", "input")]["status"] == "failed"
    rows, _ = run(make_config(pairs_file, tmp_path / "r2.jsonl", revisions=2))
    assert len(by_key(rows)[("sort-1", "output")]["turns"]) == 3


def test_korean_prompts_and_feedback(pairs_file: Path, tmp_path: Path) -> None:
    rows, _ = run(make_config(pairs_file, tmp_path / "ko.jsonl", reasoning_language="ko"))
    row = by_key(rows)[("double-3", "input")]
    assert "한국어로 단계별로 추론" in row["messages"][0]["content"]
    assert "코드를 실행해 보았습니다" in row["turns"][0]["feedback"]
    assert row["reasoning_language"] == "ko"


def test_n_samples_give_distinct_traces(pairs_file: Path, tmp_path: Path) -> None:
    cfg = make_config(pairs_file, tmp_path / "n.jsonl", sampling={"n_samples": 3}, modes=["output"])
    backend = ScriptedBackend(known_answers)
    rows, _ = run(cfg, backend)
    assert len(rows) == 9 and len({r["id"] for r in rows}) == 9
    assert sorted({r["sample"] for r in rows}) == [0, 1, 2]
    first_turn = [r for r in backend.requests_seen if len(r.messages) == 1]
    assert len(first_turn) == 3 and all(r.n == 3 for r in first_turn)


def test_truncated_completion_is_not_verified(pairs_file: Path, tmp_path: Path) -> None:
    def rambling(request: GenRequest, sample: int) -> str:
        return "word " * 50 + '</think>\n\n```json\n{"output": 6}\n```'

    cfg = make_config(
        pairs_file, tmp_path / "cut.jsonl", sampling={"max_tokens": 20}, modes=["output"]
    )
    rows, _ = run(cfg, ScriptedBackend(rambling))
    assert all(r["status"] == "failed" for r in rows)
    turn = rows[0]["turns"][0]
    assert turn["verdict"]["reason"] == "truncated" and turn["finish_reason"] == "length"
    assert "cut off" in turn["feedback"]


class DiesAfter(ScriptedBackend):
    """Raises BackendError (like a server gone for good) after `k` results."""

    def __init__(self, k: int) -> None:
        super().__init__(known_answers)
        self.k = k

    def generate(self, requests: Sequence[GenRequest]) -> Iterator[GenResult]:
        for result in super().generate(requests):
            if self.k <= 0:
                raise BackendError("openai backend: gave up after 9 attempts")
            self.k -= 1
            yield result


def test_resume_after_backend_failure(pairs_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "resume.jsonl"
    clean, _ = run(make_config(pairs_file, tmp_path / "clean.jsonl"))
    cfg = make_config(pairs_file, out, batch_size=2)
    with pytest.raises(BackendError):
        SynthRun(cfg, backend=DiesAfter(4), progress=False).run()
    assert not out.exists()  # never a half-written output under the final name
    assert journal_path(out).exists()
    partial = read_jsonl(out.with_name(out.name + ".partial"))
    second = ScriptedBackend(known_answers)
    stats = SynthRun(cfg, backend=second, progress=False).run()
    rows = read_jsonl(out)
    assert sorted(r["id"] for r in rows) == sorted(r["id"] for r in clean)  # none lost, no dups
    assert stats.resumed == len(partial)
    # Completions journaled before the failure were replayed, not generated again.
    assert stats.replayed_requests >= 1
    assert len(second.requests_seen) == stats.generated_requests
    assert stats.generated_requests + stats.replayed_requests < 6 + 4
    strip = lambda r: {k: v for k, v in r.items() if k != "tokens"}  # noqa: E731
    assert sorted(map(json.dumps, map(strip, rows))) == sorted(map(json.dumps, map(strip, clean)))


def test_stats_and_export(pairs_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    run(make_config(pairs_file, out))
    st = compute_stats(out)
    assert st.traces == 6 and st.verified == 5
    assert st.by_turn[("output", 1)] == [2, 3]
    assert st.by_turn[("input", 1)] == [1, 3]
    assert st.by_turn[("input", 2)] == [2, 2]
    assert st.tokens_per_verified == st.completion_tokens / 5

    multi = list(export_rows(out, "multi"))
    assert len(multi) == 5 and all(r["source"] == "codeio" for r in multi)
    assert set(multi[0]) == {"id", "messages", "source", "mode", "turn"}
    # `turn` counts the assistant turns trained on: 1 for a first-try answer, 2 after a revision.
    assert all(r["turn"] == sum(m["role"] == "assistant" for m in r["messages"]) for r in multi)
    assert sorted((r["mode"], r["turn"]) for r in multi) == [
        ("input", 1), ("input", 2), ("input", 2), ("output", 1), ("output", 1)
    ]  # fmt: skip
    assert len(list(export_rows(out, "multi", include_failed=True))) == 6

    single = {r["id"]: r for r in export_rows(out, "single")}
    revised = next(
        r for r in read_jsonl(out) if r["pair_id"] == "double-3" and r["mode"] == "input"
    )
    msgs = single[revised["id"]]["messages"]
    assert (single[revised["id"]]["mode"], single[revised["id"]]["turn"]) == ("input", 2)
    assert [m["role"] for m in msgs] == ["user", "assistant"]
    content = msgs[1]["content"]
    assert content.count("<think>") == 1 and content.count("</think>") == 1
    think, answer = content.split("</think>")
    assert "returns 4" in think  # the bridge carries the execution check inside <think>
    assert '{"input": {"n": 3}}' in answer and '{"n": 2}' not in answer

    n, path = export(out, tmp_path / "sft.jsonl", style="single")
    assert n == 5 and len(read_jsonl(path)) == 5
    n, path = export(out, tmp_path / "sft_ds", style="multi")
    import datasets

    ds = datasets.load_from_disk(str(path))
    assert len(ds) == 5 and ds[0]["messages"][0]["role"] == "user"
    assert ds.features["mode"].dtype == "string" and ds.features["turn"].dtype == "int64"
    assert sorted(zip(ds["mode"], ds["turn"], strict=True)) == sorted(
        (r["mode"], r["turn"]) for r in multi
    )


def test_bad_pairs_name_file_line_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "a", "code": "def f(): pass", "entry": "f", "input": null, "output": 1}\n{"id": "b", "code": "x", "input": {}}\n'
    )
    with pytest.raises(InputError, match=r"bad.jsonl:2: missing key 'entry'"):
        run(make_config(bad, tmp_path / "o.jsonl"))
    assert not (tmp_path / "o.jsonl").exists()


def test_pairs_sharing_a_prompt_keep_their_own_traces(tmp_path: Path) -> None:
    from kodeio.testing.known_pairs import PAIRS, write_pairs

    twin = {**PAIRS[0], "id": "double-3-twin"}
    pairs = write_pairs(tmp_path / "io.jsonl", [PAIRS[0], twin])
    backend = ScriptedBackend(known_answers)
    rows, _ = run(make_config(pairs, tmp_path / "t.jsonl", modes=["output"]), backend)
    assert sorted(r["pair_id"] for r in rows) == ["double-3", "double-3-twin"]
    assert len({r["id"] for r in rows}) == 2
    assert len(backend.requests_seen) == 1  # one generation serves both


def test_resume_refuses_other_settings(pairs_file: Path, tmp_path: Path) -> None:
    from kodeio.errors import ConfigError

    out = tmp_path / "t.jsonl"
    run(make_config(pairs_file, out, modes=["output"]))
    before = out.read_bytes()
    with pytest.raises(ConfigError, match="different settings \\(sampling\\)"):
        run(make_config(pairs_file, out, modes=["output"], sampling={"temperature": 0.7}))
    assert out.read_bytes() == before and not out.with_name(out.name + ".partial").exists()
    # The same settings again: nothing to generate, the file is unchanged.
    backend = ScriptedBackend(known_answers)
    rows, stats = run(make_config(pairs_file, out, modes=["output"]), backend)
    assert backend.requests_seen == [] and stats.resumed == 3
    assert out.read_bytes() == before
