"""Raw `.py` seeds that a unifier rewrites are cleaned too: a file whose functions the clean
removed never reaches the unifier, and a rewritten seed that reproduces a benchmark function
is rejected as contaminated before it runs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from kodeio.pipeline import validate_recipe
from kodeio.synth.io.clean.options import CleanOptions
from kodeio.synth.io.clean.stage import CleanConfig, run_clean
from kodeio.synth.io.seeds import RawCode, Seed
from kodeio.synth.io.stage import run_io
from kodeio.synth.io.unifier import unified_seed

BENCH_SQUARES = """def f(nums):
    result = []
    for n in nums:
        if n % 2 == 0:
            result.append(n * n)
        else:
            result.append(-n)
    return result
"""
BENCH_COUNT = """def f(text, ch):
    count = 0
    for c in text:
        if c == ch:
            count += 1
    return count
"""
# A raw file holding only a renamed copy of a benchmark function: the clean removes it.
COPIED = """def tally(word, letter):
    seen = 0
    for x in word:
        if x == letter:
            seen += 1
    return seen
"""
# Raw files the clean keeps: nothing in them resembles the benchmark.
LOOSE = """def scale(values, k):
    return [v * k for v in values]
"""
FRESH = """def initials(name):
    return ''.join(part[0].upper() for part in name.split() if part)
"""
GENERATOR = "import random\n\ndef input_generator():\n    return {'nums': [random.randint(-9, 9) for _ in range(4)]}\n"
NAME_GENERATOR = "import random\n\ndef input_generator():\n    return {'name': random.choice(['ada lovelace', 'alan turing'])}\n"


class RewritingUnifier:
    """A stand-in for the LLM unifier. `loose.py` is rewritten into the benchmark's squares
    function (what a model that has seen the benchmark may write); `fresh.py` into a plain
    wrapper. It records what it was asked to rewrite."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def unify(self, raw: Sequence[RawCode]) -> list[Seed | None]:
        out: list[Seed | None] = []
        for item in raw:
            self.seen.append(item.id)
            if item.id == "loose":
                code = BENCH_SQUARES.replace("def f(", "def main_solution(")
                out.append(unified_seed(item, code, GENERATOR, "Squares.", "nums: list", "list"))
            elif item.id == "fresh":
                code = item.code + "\n\ndef main_solution(name):\n    return initials(name)\n"
                out.append(unified_seed(item, code, NAME_GENERATOR, "Initials.", "name", "str"))
            else:
                out.append(None)
        return out


def _corpus(tmp_path: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "raw"
    corpus.mkdir()
    for name, code in (("copied", COPIED), ("loose", LOOSE), ("fresh", FRESH)):
        (corpus / f"{name}.py").write_text(code, encoding="utf-8")
    bench = tmp_path / "bench.jsonl"
    rows = [
        {"id": "b_squares", "code": BENCH_SQUARES, "input": "[1, 2]", "output": "[-1, 4]"},
        {"id": "b_count", "code": BENCH_COUNT, "input": "'aa', 'a'", "output": "2"},
    ]
    bench.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return corpus, bench


def test_unified_seeds_are_cleaned_before_and_after_the_rewrite(
    tmp_path: Path, io_config, read_rows
) -> None:
    corpus, bench = _corpus(tmp_path)
    clean = run_clean(
        CleanConfig(seeds=[corpus], against=[str(bench)], output=tmp_path / "seeds.clean.jsonl"),
        progress=False,
    )
    removed = read_rows(clean.removed_file)
    assert [(r["seed_id"], r["reason"], r["matched"]["id"]) for r in removed] == [
        ("copied#tally", "contaminated", "b_count")
    ]

    unifier = RewritingUnifier()
    options = CleanOptions(against=[str(bench)])
    stats = run_io(
        io_config(
            tmp_path / "IO.jsonl",
            [corpus],
            workers=1,
            exclude_seeds=clean.removed_file,
            clean_unified=options,
        ),
        unifier=unifier,
    )
    # The removed file never reaches the unifier (no tokens spent rewriting it).
    assert sorted(unifier.seen) == ["fresh", "loose"]
    rejects = read_rows(stats.rejects)
    assert [(r["seed_id"], r["stage"], r["reason"]) for r in rejects] == [
        ("loose", "clean", "contaminated")
    ]
    assert "b_squares" in rejects[0]["detail"]
    rows = read_rows(stats.output)
    assert rows and {r["seed_id"] for r in rows} == {"fresh"}


def test_without_clean_unified_the_rewrite_runs(tmp_path: Path, io_config, read_rows) -> None:
    """The control: the same rewrite, unchecked, yields pairs (so the test above can fail)."""
    corpus, _ = _corpus(tmp_path)
    stats = run_io(
        io_config(tmp_path / "IO.jsonl", [corpus], workers=1), unifier=RewritingUnifier()
    )
    assert {r["seed_id"] for r in read_rows(stats.output)} == {"fresh", "loose"}


def test_the_pipeline_passes_io_clean_to_the_unified_check(tmp_path: Path) -> None:
    corpus, bench = _corpus(tmp_path)
    root = Path(__file__).resolve().parents[2]
    sets = [
        f"run_dir={tmp_path / 'run'}",
        f"io.seeds=[{corpus}]",
        f"io.clean.against=[{bench}]",
        "io.clean.ngram=6",
        "io.unifier=my_unifiers:rewrite",
    ]
    configs = validate_recipe(root / "configs" / "quickstart-cpu.yaml", sets)["io"]
    checked = configs["io"].clean_unified
    assert checked is not None and checked.against == [str(bench)] and checked.ngram == 6
    plain = validate_recipe(root / "configs" / "quickstart-cpu.yaml", sets[:3])["io"]["io"]
    assert plain.clean_unified is None
