"""`kodeio sandbox run` end to end, and determinism across runs and worker counts."""

from __future__ import annotations

import json

from kodeio.cli import main
from kodeio.files import write_jsonl

SEEDS = [
    ("sq", "def f(x):\n    return x * x", "7"),
    ("mut", "def f(xs):\n    xs.append(0)\n    return sum(xs)", {"args": [[1, 2, 3]]}),
    ("set", "def f(words):\n    return set(words)", "['b', 'a', 'c']"),
    ("nan", "def f():\n    return [float('nan'), float('inf'), (1, 2)]", None),
    ("rng", "import random\ndef f():\n    return random.random()", None),
    ("err", "def f(d):\n    return d['missing']", {"args": [{}]}),
    ("print", "def f(s):\n    print(s)\n    return len(s)", "'안녕하세요'"),
]


def _jobs(tmp_path, n=40):
    rows = []
    for i in range(n):
        key, code, given = SEEDS[i % len(SEEDS)]
        rows.append({"id": f"{key}-{i}", "code": code, "entry": "f", "input": given})
    path = tmp_path / "jobs.jsonl"
    write_jsonl(path, rows)
    return path


def _strip_timing(path):
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for row in rows:
        row.pop("seconds")
    return rows


def test_results_are_deterministic_across_runs_and_workers(tmp_path):
    jobs = _jobs(tmp_path)
    outs = []
    for i, workers in enumerate([1, 2, 2]):
        out = tmp_path / f"out{i}.jsonl"
        assert main(["sandbox", "run", str(jobs), "-o", str(out), "--workers", str(workers)]) == 0
        outs.append(_strip_timing(out))
    assert outs[0] == outs[1] == outs[2]
    rows = {r["id"]: r for r in outs[0]}
    assert len(rows) == 40
    assert rows["sq-0"]["output"] == 49
    assert rows["mut-1"]["input_repr"] == "[1, 2, 3]" and rows["mut-1"]["output"] == 6
    assert rows["set-2"]["output_repr"] == "{'a', 'b', 'c'}" and rows["set-2"]["output"] is None
    assert rows["nan-3"]["output_repr"] == "[float('nan'), float('inf'), (1, 2)]"
    assert rows["err-5"]["status"] == "error" and rows["err-5"]["error"].startswith("KeyError")
    assert rows["print-6"]["stdout"] == "안녕하세요\n" and rows["print-6"]["output"] == 5
    # random is seeded per job: the same value everywhere
    assert len({r["output"] for r in outs[0] if r["id"].startswith("rng")}) == 1


def test_resume_keeps_one_row_per_job(tmp_path):
    jobs = _jobs(tmp_path, n=10)
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    # Simulate a kill after 3 rows, with a torn fourth line.
    full = tmp_path / "full.jsonl"
    assert main(["sandbox", "run", str(jobs), "-o", str(full)]) == 0
    lines = full.read_text().splitlines(keepends=True)
    partial.write_text("".join(lines[:3]) + lines[3][:10])
    assert main(["sandbox", "run", str(jobs), "-o", str(out)]) == 0
    assert not partial.exists()
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == [
        json.loads(x)["id"] for x in lines
    ]


def test_bad_jobs_file_is_one_line_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "a", "code": "def f(): pass", "entry": "f"}\n{"id": "b", "entry": "f"}\n'
    )
    out = tmp_path / "out.jsonl"
    assert main(["sandbox", "run", str(bad), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:2" in err and "code" in err and "Traceback" not in err
    assert not out.exists() and not (tmp_path / "out.jsonl.partial").exists()


def test_abandoned_run_leaves_no_stale_results():
    from kodeio.sandbox import Job, Sandbox, SandboxConfig

    slow = "import time\ndef f(x):\n    time.sleep(0.2)\n    return x"
    with Sandbox(SandboxConfig(workers=2, timeout=2)) as sb:
        gen = sb.run(Job(id=f"a{i}", code=slow, entry="f", input={"args": [i]}) for i in range(20))
        assert next(gen).output == 0
        gen.close()  # two workers still hold jobs of this run
        results = list(
            sb.run(
                [Job(id=f"b{i}", code=slow, entry="f", input={"args": [100 + i]}) for i in range(4)]
            )
        )
        assert [(r.id, r.output) for r in results] == [(f"b{i}", 100 + i) for i in range(4)]
