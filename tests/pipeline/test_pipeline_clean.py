"""The pipeline's `io.clean`: before the pairs, repeated seeds and benchmark matches are
dropped and `run.json` carries the counts; the held-out I/O eval shares no seed with
synthesis."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from kodeio.eval.wiring import _write_heldout_pairs
from kodeio.pipeline import validate_recipe
from kodeio.synth.io.seeds import quickstart_path
from kodeio.wiring import write_marker

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "configs" / "quickstart-cpu.yaml"


def test_quickstart_cleans_by_default_and_can_be_turned_off() -> None:
    configs = validate_recipe(QUICKSTART)["io"]
    assert configs["clean"].against == [] and configs["clean"].dedup
    assert configs["io"].exclude_seeds == configs["clean"].removed_path
    assert configs["clean"].seeds == configs["io"].seeds
    assert list(validate_recipe(QUICKSTART, ["io.clean=false"])["io"]) == ["io"]


def test_io_stage_cleans_and_run_json_carries_the_counts(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in quickstart_path().read_text().splitlines()[:4]]
    copy = {**rows[1], "id": "copy/of-second", "code": rows[1]["code"].replace("    ", "  ")}
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps(r) + "\n" for r in [*rows, copy]), encoding="utf-8")
    bench = tmp_path / "bench.jsonl"  # the third seed, as a CRUXEval row
    bench.write_text(
        json.dumps({"id": "b0", "code": rows[2]["code"], "input": "1", "output": "1"}) + "\n"
    )
    run = tmp_path / "run"
    sets = [f"run_dir={run}", f"io.seeds=[{seeds}]", f"io.clean.against=[{bench}]"]
    proc = subprocess.run(
        [sys.executable, "-m", "kodeio.cli", "run", "--config", str(QUICKSTART), "--to", "io",
         *[a for s in sets for a in ("--set", s)]],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    counts = json.loads((run / "run.json").read_text())["stages"]["io"]["counts"]
    assert counts["clean"] == {
        "kept": 3,
        "duplicate": 1,
        "contaminated": 1,
        "removed": {"bench": {"exact": 1}, "seeds": {"exact": 1}},
    }
    pair_seeds = {
        json.loads(line)["seed_id"]
        for line in (run / "io" / "pairs.jsonl").read_text().splitlines()
    }
    assert pair_seeds and pair_seeds <= {rows[0]["id"], rows[1]["id"], rows[3]["id"]}
    removed = [json.loads(line) for line in (run / "io" / "seeds.clean.removed.jsonl").open()]
    assert [(r["seed_id"], r["reason"], r["matched"]) for r in removed] == [
        (rows[2]["id"], "contaminated", {"source": "bench", "id": "b0"}),
        ("copy/of-second", "duplicate", {"source": "seeds", "id": rows[1]["id"]}),
    ]


def test_heldout_pairs_leave_out_seeds_synthesis_used(tmp_path: Path) -> None:
    run = tmp_path / "run"
    write_marker(run, "synth", {"config": {"synth": {"max_pairs": 3}}})
    pairs = [("a", "s:1"), ("a", "s:1"), ("b", "s:2"), ("b", "s:2"), ("c", "s:3"), ("b", "t:2")]
    (run / "io").mkdir(parents=True)
    (run / "io" / "pairs.jsonl").write_text(
        "".join(json.dumps({"id": i, "seed_id": s, "source": w}) + "\n"
                for i, (s, w) in enumerate(pairs)),
        encoding="utf-8",
    )  # fmt: skip
    data = run / "eval" / "io_heldout.jsonl"
    _write_heldout_pairs({"base.io": SimpleNamespace(data=str(data))})
    # Pair 3 is the second pair of seed b, whose first went to synthesis; the b of another
    # file is another seed.
    assert [json.loads(line)["id"] for line in data.read_text().splitlines()] == [4, 5]


def test_the_gpu_recipe_cleans_against_cruxeval_and_livecodebench() -> None:
    recipe = (ROOT / "configs" / "r1-distill-32b-ko.yaml").read_text(encoding="utf-8")
    clean = validate_recipe(ROOT / "configs" / "r1-distill-32b-ko.yaml")["io"]["clean"]
    assert clean.against == [
        "data/benchmarks/cruxeval.jsonl",
        "data/benchmarks/lcb-execution.jsonl",
    ]
    # The one line that fetches both writes exactly the files the recipe names.
    fetch = next(line for line in recipe.splitlines() if "load_dataset" in line)
    for name in ("cruxeval-org/cruxeval", "livecodebench/execution-v2", *clean.against):
        assert name in fetch
