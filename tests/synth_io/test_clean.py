"""`kodeio io clean`: each kind of copy is caught or kept as designed, the kept file is the
same bytes in every run, and bad benchmark files are one line naming file and row."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kodeio.errors import InputError
from kodeio.synth.io.clean.normalise import normalise
from kodeio.synth.io.clean.stage import CleanConfig, run_clean

COUNT = """def f(text, ch):
    count = 0
    for c in text:
        if c == ch:
            count += 1
    return count
"""
SQUARES = """def f(nums):
    result = []
    for n in nums:
        if n % 2 == 0:
            result.append(n * n)
        else:
            result.append(-n)
    return result
"""
SUMMARY = """def f(s, n):
    upper = s.upper()
    lower = s.lower()
    title = s.title()
    length = len(s) * n
    parts = s.split(' ')
    words = [p.strip() for p in parts if p]
    return [upper, lower, title, length, len(parts), words]
"""
# The benchmark's functions, CRUXEval-shaped, with one recorded call each.
BENCH = [
    {"id": "sample_0", "code": COUNT, "input": "'banana', 'a'", "output": "3"},
    {"id": "sample_1", "code": SQUARES, "input": "[1, 2, 3, 4]", "output": "[-1, 4, -3, 16]"},
    {"id": "sample_2", "code": SUMMARY, "input": "'a b', 2", "output": "['A B', 'a b', 'A B', 6, 2, ['a', 'b']]"},
]  # fmt: skip

VERBATIM = COUNT
RENAMED = """def tally(word, letter):
    seen = 0
    for x in word:
        if x == letter:
            seen += 1
    return seen
"""
REFORMATTED = '''def f( nums ):
    """Squares of the even numbers, negated odd ones."""
    result=[]   # collected here
    for n in nums :
        if (n % 2 == 0):
            result.append( n*n )
        else:
            result.append( -n )

    return result
'''
REORDERED = """def f(s, n):
    lower = s.lower()
    upper = s.upper()
    title = s.title()
    parts = s.split(' ')
    length = len(s) * n
    words = [p.strip() for p in parts if p]
    return [upper, lower, title, length, len(parts), words]
"""
# Unrelated functions of the same shape as COUNT and SQUARES: loops, a counter, a list.
SIMILAR_COUNT = """def f(text, sep):
    total = 0
    for word in text.split(sep):
        if word.isdigit():
            total += int(word)
    return total
"""
SIMILAR_LIST = """def f(items):
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(item.upper())
        else:
            out.append(str(item))
    return out
"""
OWN = """def running_max(values):
    best = None
    out = []
    for v in values:
        best = v if best is None or v > best else best
        out.append(best)
    return out
"""
OWN_RENAMED = OWN.replace("best", "top").replace("values", "xs").replace("running_max", "g")
OWN_NEAR = """def running_max(values):
    out = []
    best = None
    for v in values:
        best = v if best is None or v > best else best
        out.append(best)
    return out
"""
# A different function that the benchmark recorded the same call and result for.
SAME_IO = "def f(text, ch):\n    return text.count(ch)\n"


def seed(seed_id: str, code: str, entry: str = "f") -> dict:
    return {"id": seed_id, "code": code, "entry": entry}


SEEDS = [
    seed("verbatim", VERBATIM),
    seed("renamed", RENAMED, "tally"),
    seed("reformatted", REFORMATTED),
    seed("reordered", REORDERED),
    seed("similar_count", SIMILAR_COUNT),
    seed("similar_list", SIMILAR_LIST),
    seed("own", OWN, "running_max"),
    seed("own_renamed", OWN_RENAMED, "g"),
    seed("own_near", OWN_NEAR, "running_max"),
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return write_jsonl(tmp_path / "seeds.jsonl", SEEDS), write_jsonl(tmp_path / "crux.jsonl", BENCH)


def clean(tmp_path: Path, seeds: Path, *against: str, **options) -> tuple[list, dict]:
    out = tmp_path / "CLEAN.jsonl"
    cfg = CleanConfig(seeds=[seeds], against=list(against), output=out, **options)
    run_clean(cfg, progress=False)
    removed = {r["seed_id"]: r for r in read(tmp_path / "CLEAN.removed.jsonl")}
    return read(out), removed


def test_normalisation_ignores_names_docstrings_comments_and_layout() -> None:
    a, b = normalise(COUNT), normalise(RENAMED)
    assert a is not None and b is not None and a.source == b.source
    assert normalise(REFORMATTED).source == normalise(SQUARES).source  # type: ignore[union-attr]
    assert normalise(REORDERED).source != normalise(SUMMARY).source  # type: ignore[union-attr]
    # Globals and builtins keep their names: `len` and `sorted` are what the code does.
    assert "len(" in normalise(SUMMARY).source  # type: ignore[union-attr]
    assert normalise("def f(:\n") is None


def test_each_kind_of_copy_is_caught_or_kept_as_designed(tmp_path: Path, files) -> None:
    seeds, bench = files
    kept, removed = clean(tmp_path, seeds, str(bench))
    assert [r["id"] for r in kept] == ["similar_count", "similar_list", "own"]
    verdict = {k: (r["reason"], r["method"], r["matched"]["id"]) for k, r in removed.items()}
    assert verdict == {
        "verbatim": ("contaminated", "exact", "sample_0"),
        "renamed": ("contaminated", "exact", "sample_0"),
        "reformatted": ("contaminated", "exact", "sample_1"),
        "reordered": ("contaminated", "ngram", "sample_2"),
        "own_renamed": ("duplicate", "exact", "own"),
        "own_near": ("duplicate", "minhash", "own"),
    }
    assert removed["verbatim"]["matched"]["source"] == "crux"
    assert removed["own_near"]["matched"]["source"] == "seeds"
    assert removed["verbatim"]["source"] == f"{seeds}:1"
    assert 0.5 <= removed["reordered"]["score"] < 1 and removed["verbatim"]["score"] == 1.0
    # The kept rows are the seeds as written, in input order.
    assert kept[2] == SEEDS[6]


def test_minhash_alone_catches_the_reordered_copy(tmp_path: Path, files) -> None:
    seeds, bench = files
    _, removed = clean(tmp_path, seeds, str(bench), ngram_threshold=1.0)
    assert removed["reordered"]["method"] == "minhash"
    assert removed["reordered"]["matched"]["id"] == "sample_2"
    assert removed["reordered"]["score"] >= 0.8
    assert "similar_count" not in removed and "similar_list" not in removed


def test_a_recorded_call_and_result_of_a_benchmark_is_contamination(tmp_path: Path) -> None:
    seeds = write_jsonl(
        tmp_path / "crux_seeds.jsonl",
        [
            {"id": "same_io", "code": SAME_IO, "input": "'banana', 'a'", "output": "3"},
            {"id": "other_io", "code": SAME_IO, "input": "'cherry', 'r'", "output": "2"},
        ],
    )
    bench = write_jsonl(tmp_path / "crux.jsonl", BENCH)
    kept, removed = clean(tmp_path, seeds, str(bench), dedup=False, io_min_chars=0)
    assert [r["id"] for r in kept] == ["other_io"]
    assert (
        removed["same_io"]["method"] == "io" and removed["same_io"]["matched"]["id"] == "sample_0"
    )
    # Short keys are too common to mean anything: below io_min_chars the match is not made.
    kept, _ = clean(tmp_path, seeds, str(bench), dedup=False, io_min_chars=40)
    assert [r["id"] for r in kept] == ["same_io", "other_io"]


def test_every_benchmark_format_is_read(tmp_path: Path) -> None:
    seeds = write_jsonl(tmp_path / "seeds.jsonl", [seed("a", RENAMED, "tally"), seed("b", OWN)])
    humaneval = write_jsonl(
        tmp_path / "humaneval.jsonl",
        [{"task_id": "HumanEval/0", "prompt": "def f(text, ch):\n    \"\"\"Count.\"\"\"\n",
          "canonical_solution": "    count = 0\n    for c in text:\n        if c == ch:\n"
          "            count += 1\n    return count\n", "entry_point": "f"}],
    )  # fmt: skip
    mbpp = write_jsonl(
        tmp_path / "mbpp.jsonl",
        [{"task_id": 7, "text": "max so far", "code": OWN, "test_list": []}],
    )
    lcb = write_jsonl(
        tmp_path / "lcb.jsonl",
        [{"question_id": "q1", "id": "lcb_1", "function_name": "tally", "code": RENAMED,
          "input": "tally(word='aa', letter='a')", "output": "2"}],
    )  # fmt: skip
    pairs = write_jsonl(
        tmp_path / "heldout.jsonl",
        [{"id": f"p{i}", "seed_id": "heldout/max", "code": OWN, "entry": "running_max",
          "input": {"args": [[i, 3]], "kwargs": {}}, "output": [i, 3]} for i in (1, 2)],
    )  # fmt: skip
    py = tmp_path / "bench.py"
    py.write_text(OWN, encoding="utf-8")
    for bench, matched in [
        (humaneval, {"a": "HumanEval/0"}),
        (mbpp, {"b": "7"}),
        (lcb, {"a": "lcb_1"}),
        (pairs, {"b": "heldout/max"}),
        (py, {"b": "bench#running_max"}),
    ]:
        _, removed = clean(tmp_path, seeds, str(bench))
        assert {k: r["matched"]["id"] for k, r in removed.items()} == matched, bench.name
        assert {r["matched"]["source"] for r in removed.values()} == {bench.stem}


def test_the_kept_file_is_the_same_bytes_in_every_run(tmp_path: Path, files) -> None:
    """Two processes with different hash seeds (set and dict order differ) write one file."""
    seeds, bench = files
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"run{hash_seed}" / "CLEAN.jsonl"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "COLUMNS": "200"}
        proc = subprocess.run(
            [sys.executable, "-m", "kodeio.cli", "io", "clean", str(seeds), "--against",
             str(bench), "-o", str(out)],
            capture_output=True, text=True, env=env, cwd=tmp_path,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert "3 kept, 2 duplicate, 4 contaminated" in " ".join(proc.stderr.split())
        outputs.append((out.read_bytes(), out.with_name("CLEAN.removed.jsonl").read_bytes()))
    assert outputs[0] == outputs[1]
    assert outputs[0][0].count(b"\n") == 3


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ('{"id": "x", "code": "def f(:", "input": "1", "output": "1"}',
         "crux.jsonl:2: benchmark code does not parse as Python (x)"),
        ('{"id": "x", "code": 3, "input": "1", "output": "1"}',
         "crux.jsonl:2: 'code' must be a string of Python source, got a int"),
        ("{not json", "crux.jsonl:2: not valid JSON"),
    ],
)  # fmt: skip
def test_a_bad_benchmark_row_is_one_line_naming_file_and_row(
    tmp_path: Path, files, row: str, message: str
) -> None:
    seeds, bench = files
    bench.write_text(json.dumps(BENCH[0]) + "\n" + row + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=None) as info:
        clean(tmp_path, seeds, str(bench))
    assert message in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "CLEAN.jsonl").exists()
    assert not (tmp_path / "CLEAN.removed.jsonl").exists()


def test_cli_bad_benchmark_exits_with_one_line(tmp_path: Path, files) -> None:
    seeds, _ = files
    odd = write_jsonl(tmp_path / "odd.jsonl", [{"question": "?", "answer": 1}])
    out = tmp_path / "CLEAN.jsonl"
    for against, expected in [
        (str(odd), f"{odd}:1: cannot tell the benchmark format"),
        ("hf:no-such-org/no-such-benchmark", "--against hf:no-such-org/no-such-benchmark: cannot"),
    ]:
        proc = subprocess.run(
            [sys.executable, "-m", "kodeio.cli", "io", "clean", str(seeds), "--against", against,
             "-o", str(out)],
            capture_output=True, text=True, cwd=tmp_path,
            env={**os.environ, "COLUMNS": "400", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"},
        )  # fmt: skip
        assert proc.returncode == 1
        assert "Traceback" not in proc.stderr
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and expected in lines[0], proc.stderr
        assert not out.exists()


def test_a_benchmark_function_inside_a_larger_seed_is_caught(tmp_path: Path) -> None:
    """Pasted whole (renamed) next to other code: caught; a one-line helper that happens to
    equal a one-line benchmark function: kept (below part_min_tokens)."""
    wrapped = (
        "import re\n\n\ndef helper(x):\n    return x * 2\n\n\n"
        + RENAMED
        + ("\n\ndef main_solution(word):\n    return tally(word, 'a') + helper(len(word))\n")
    )
    small = "def double(y):\n    return y * 2\n\n\ndef other(s):\n    return s.title().split()\n"
    seeds = write_jsonl(
        tmp_path / "seeds.jsonl",
        [seed("wrapped", wrapped, "main_solution"), seed("small", small, "other")],
    )
    tiny = {"id": "tiny", "code": "def f(v):\n    return v * 2\n", "input": "1", "output": "2"}
    bench = write_jsonl(tmp_path / "crux.jsonl", [*BENCH, tiny])
    kept, removed = clean(tmp_path, seeds, str(bench), dedup=False)
    assert [r["id"] for r in kept] == ["small"]
    assert removed["wrapped"]["method"] == "exact"
    assert removed["wrapped"]["matched"]["id"] == "sample_0"
