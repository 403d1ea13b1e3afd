"""`kodeio report`: the data it collects, and the page itself in headless Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kodeio.cli import main
from kodeio.errors import InputError
from kodeio.files import write_jsonl
from kodeio.report import collect_run, embed_json, write_report

CODE = "def double(x):\n    return x * 2\n"
EVIL = "</script><script>window.__pwned = 1</script><img src=x onerror='window.__pwned=2'>"


def _trace(i: int, pair: str, mode: str, status: str, turns: list[tuple[str, bool, str]]) -> dict:
    return {
        "id": f"t{i}",
        "pair_id": pair,
        "seed_id": "quick/double",
        "mode": mode,
        "status": status,
        "turns": [
            {
                "completion": completion,
                "answer": completion.rsplit("</think>", 1)[-1].strip(),
                "verdict": {"correct": ok, "reason": reason, "produced": None, "error": None},
                "feedback": None if ok else "Your answer does not match; try again.",
                "finish_reason": "stop",
            }
            for completion, ok, reason in turns
        ],
        "messages": [],
        "model": "tiny",
        "tokens": {"prompt": 50, "completion": 40 * len(turns)},
    }


def make_run(root: Path, full: bool = True) -> Path:
    run = root / "run"
    pairs = [
        {
            "id": f"p{k}",
            "seed_id": "quick/double",
            "code": CODE,
            "entry": "double",
            "input_repr": f"{{'x': {k}}}",
            "output_repr": str(2 * k),
            "problem_description": "Doubles a number.",
            "category": "math",
        }
        for k in range(3)
    ]
    write_jsonl(run / "io" / "pairs.jsonl", pairs)
    write_jsonl(
        run / "io" / "rejects.jsonl",
        [{"seed_id": "s", "reason": "none_output"}, {"seed_id": "t", "reason": "timeout"}],
    )
    if not full:
        return run
    think_ok = '<think>\nx is 1, doubled is 2.\n</think>\n```json\n{"output": 2}\n```'
    traces = [
        _trace(0, "p1", "output", "verified_first", [(think_ok, True, "match")]),
        _trace(1, "p2", "output", "verified_first", [(think_ok, True, "match")]),
        _trace(
            2,
            "p2",
            "input",
            "verified_revised",
            [
                ('<think>guess</think>{"input": {"x": 5}}', False, "mismatch"),
                (think_ok, True, "match"),
            ],
        ),
        _trace(
            3,
            "p0",
            "output",
            "failed",
            [(f"<think>{EVIL}</think>no idea", False, "no_answer")],
        ),
        _trace(4, "p1", "input", "failed", [("<think>hmm</think>{}", False, "unparsable")]),
    ]
    write_jsonl(run / "synth" / "traces.jsonl", traces)
    (run / "train").mkdir(parents=True)
    history = [{"step": s, "loss": 2.0 / s, "learning_rate": 1e-4} for s in range(1, 11)]
    history.append({"step": 10, "eval_loss": 0.4})
    (run / "train" / "trainer_state.json").write_text(
        json.dumps({"global_step": 10, "max_steps": 10, "epoch": 1.0, "log_history": history})
    )
    for name, acc in (("before", 12.5), ("after", 37.5)):
        (run / "eval" / name).mkdir(parents=True)
        (run / "eval" / name / "report.json").write_text(
            json.dumps(
                {
                    "kind": "io",
                    "name": name,
                    "model": {"name": f"tiny-{name}"},
                    "metrics": {"accuracy": acc, "output_accuracy": acc + 5},
                    "intervals": {"accuracy": [acc - 10, acc + 10]},
                    "counts": {"items": 8},
                }
            )
        )
    (run / "export").mkdir()
    (run / "export" / "manifest.json").write_text(
        json.dumps(
            {"files": [{"path": "model-q4_k_m.gguf", "bytes": 104857600}], "quant": "q4_k_m"}
        )
    )
    (run / "run.json").write_text(json.dumps({"created": "2026-11-30T20:00:00Z", "versions": {}}))
    return run


def test_collect_counts_yield_and_turns(tmp_path):
    data = collect_run(make_run(tmp_path))
    traces = data["traces"]
    assert traces["traces"] == 5 and traces["verified"] == 3
    assert traces["yield_rate"] == pytest.approx(0.6)
    assert traces["by_mode"]["output"] == {
        "traces": 3,
        "verified_first": 2,
        "verified_revised": 0,
        "failed": 1,
    }
    turns = {(t["mode"], t["turn"]): (t["correct"], t["attempted"]) for t in traces["by_turn"]}
    assert turns == {("input", 1): (0, 2), ("input", 2): (1, 1), ("output", 1): (2, 3)}
    assert data["io"]["pairs"] == 3 and data["io"]["rejects"] == {"none_output": 1, "timeout": 1}
    assert data["training"]["loss"][0] == [1, 2.0] and data["training"]["eval_loss"] == [[10, 0.4]]
    assert [r["label"] for r in data["evals"]["reports"]] == ["after", "before"]
    sample = {t["id"]: t for t in traces["sample"]}
    assert sample["t3"]["code"] == CODE and sample["t3"]["output_repr"] == "0"


def test_sample_is_bounded_and_stable(tmp_path):
    run = make_run(tmp_path)
    from kodeio.report import ReportOptions

    one = collect_run(run, ReportOptions(samples_per_status=1))["traces"]["sample"]
    again = collect_run(run, ReportOptions(samples_per_status=1))["traces"]["sample"]
    assert [t["id"] for t in one] == [t["id"] for t in again]
    assert sorted(t["status"] for t in one) == ["failed", "verified_first", "verified_revised"]


def test_partial_run_shows_not_run(tmp_path):
    run = make_run(tmp_path, full=False)
    # A synthesis still running: complete lines count, the torn last line is ignored.
    partial = run / "synth" / "traces.jsonl.partial"
    partial.parent.mkdir(parents=True)
    row = _trace(0, "p1", "output", "verified_first", [("<think>a</think>2", True, "match")])
    partial.write_text(json.dumps(row) + "\n" + '{"id": "t1", "sta')
    data = collect_run(run)
    states = {s["name"]: s["state"] for s in data["stages"]}
    assert states == {
        "io": "done",
        "synth": "partial",
        "train": "not run",
        "eval": "not run",
        "export": "not run",
    }
    assert data["traces"]["traces"] == 1


def test_bad_inputs_are_one_line_errors(tmp_path, capsys):
    with pytest.raises(InputError, match="run directory not found"):
        collect_run(tmp_path / "missing")
    run = make_run(tmp_path)
    (run / "eval" / "before" / "report.json").write_text("{not json")
    with pytest.raises(InputError, match=r"eval/before/report.json:1: not valid JSON"):
        collect_run(run)
    broken = make_run(tmp_path / "second")
    with (broken / "synth" / "traces.jsonl").open("a") as fh:
        fh.write(json.dumps({"id": "x", "status": "failed", "turns": "oops"}) + "\n")
    with pytest.raises(InputError, match=r"traces.jsonl:6: key 'turns' must be a list of objects"):
        collect_run(broken)
    assert main(["report", str(run), "-o", str(tmp_path / "r.html")]) == 1
    assert "not valid JSON" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()  # nothing half-written


def test_embedded_json_cannot_close_the_script():
    text = embed_json({"x": EVIL, "k": "한국어 \u2028"})
    assert "</script" not in text and "<" not in text
    assert json.loads(text) == {"x": EVIL, "k": "한국어 \u2028"}


@pytest.fixture(scope="module")
def browser():
    from kodeio.testing.cdp import CHROMIUM, Browser

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing; ./scripts/setup.sh installs it (apt)", pytrace=False)
    b = Browser()
    yield b
    b.close()


def test_page_in_headless_chromium(tmp_path, browser):
    run = make_run(tmp_path)
    assert main(["report", str(run)]) == 0
    page = run / "report.html"
    browser.open(page.as_uri())
    assert browser.errors() == []
    # Self-contained: the only request is the page itself.
    assert browser.requested_urls() == [page.as_uri()]
    assert browser.eval("document.body.dataset.ready") == "1"
    stage_text = browser.eval("document.querySelector('#stages').innerText")
    assert "not run" not in stage_text and "5 traces" in stage_text
    # The loss curve: one path per series, the train one with a point per logged step.
    assert browser.eval("document.querySelectorAll('#loss svg path.series-train').length") == 1
    assert browser.eval("document.querySelectorAll('#loss svg path.series-eval').length") == 1
    assert browser.eval("document.querySelectorAll('#loss svg circle').length") == 11
    evals = browser.eval("document.querySelector('#evals table').innerText")
    assert "37.5" in evals and "12.5" in evals and "tiny-after" in evals and "before" in evals
    assert browser.eval("document.querySelectorAll('#col-verified .trace-card').length") == 3
    assert browser.eval("document.querySelectorAll('#col-failed .trace-card').length") == 2

    # Click a failed trace: its detail opens with the code, the input, the executed output and
    # the reasoning (dimmed block) kept apart from the answer.
    opened = browser.eval(
        """(() => {
          const card = document.querySelector('#col-failed .trace-card[data-id="t3"]');
          card.querySelector('.head').click();
          return {
            open: card.classList.contains('open'),
            visible: card.querySelector('.trace-detail').offsetHeight > 0,
            code: card.querySelector('pre.code').textContent,
            input: card.querySelector('pre.input').textContent,
            output: card.querySelector('pre.output').textContent,
            think: card.querySelector('pre.think').textContent,
            answer: card.querySelector('pre.answer').textContent,
          };
        })()"""
    )
    assert opened["open"] and opened["visible"]
    assert opened["code"] == CODE and opened["input"] == "{'x': 0}" and opened["output"] == "0"
    assert opened["think"] == EVIL and opened["answer"] == "no idea"
    # Model text is shown as text, never run as markup.
    assert browser.eval("window.__pwned === undefined && document.scripts.length === 2")
    # A second click closes it.
    assert (
        browser.eval(
            """(() => { const c = document.querySelector('.trace-card[data-id="t3"]');
                    c.querySelector('.head').click(); return c.classList.contains('open'); })()"""
        )
        is False
    )

    # Filters: status, then mode.
    counts = browser.eval(
        """(() => {
          const s = document.getElementById('filter-status');
          s.value = 'verified_revised'; s.dispatchEvent(new Event('change'));
          const a = [document.querySelectorAll('#col-verified .trace-card').length,
                     document.querySelectorAll('#col-failed .trace-card').length];
          s.value = ''; s.dispatchEvent(new Event('change'));
          const m = document.getElementById('filter-mode');
          m.value = 'input'; m.dispatchEvent(new Event('change'));
          const b = Array.from(document.querySelectorAll('.trace-card')).map(c => c.dataset.id);
          return [a, b];
        })()"""
    )
    assert counts == [[1, 0], ["t2", "t4"]]
    assert browser.errors() == []


def test_partial_page_in_headless_chromium(tmp_path, browser):
    run = make_run(tmp_path, full=False)
    page = write_report(run, tmp_path / "partial.html")
    browser.open(page.as_uri())
    assert browser.errors() == []
    for section in ("yield", "turns", "loss", "evals", "export"):
        assert (
            browser.eval(f"document.querySelector('#{section} .notrun').textContent") == "not run"
        )
    assert "not run" in browser.eval("document.querySelector('#col-failed').innerText")


def test_report_reads_its_recipe_section(tmp_path, capsys):
    run = make_run(tmp_path)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"run_dir: {run}\nreport:\n  samples_per_status: 1\n")
    out = tmp_path / "from-recipe.html"
    assert main(["report", "-c", str(recipe), "--set", f"report.output={out}"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "showing a sample of" in html and html.count('"status":"failed"') == 0
    assert html.count('"status": "failed"') == 1  # one embedded trace per status
    assert main(["report"]) == 2  # no run_dir anywhere: a config error, one line
    assert "run_dir" in capsys.readouterr().err


def _quality_run(root: Path) -> Path:
    """The run of make_run with traces of an n_samples=2, Korean run: pass rates and language."""
    run = make_run(root)
    rows = [json.loads(line) for line in (run / "synth" / "traces.jsonl").read_text().splitlines()]
    rates = {"p0": (0.0, "unsolved"), "p1": (0.5, "medium"), "p2": (1.0, "easy")}
    shares = [0.92, 0.15, 0.05, 0.88, 0.4]
    for row, share in zip(rows, shares, strict=True):
        row["pass_rate"], row["band"] = rates[row["pair_id"]]
        row["category"] = "math" if row["pair_id"] != "p0" else None
        verified = row["status"] != "failed"
        row["language"] = {
            "hangul_share": share,
            "han_chars": 3 if share == 0.05 else 0,
            "mismatch": verified and share < 0.5,
        }
    write_jsonl(run / "synth" / "traces.jsonl", rows)
    return run


def test_collect_difficulty_and_language(tmp_path):
    traces = collect_run(_quality_run(tmp_path))["traces"]
    # One count per (pair, mode): p1 and p2 in both modes, p0 in output only.
    assert traces["difficulty"] == {
        "pass_rate_by_mode": {"input": {"0.5": 1, "1": 1}, "output": {"0": 1, "0.5": 1, "1": 1}},
        "pass_rate_by_category": {"(none)": {"0": 1}, "math": {"0.5": 2, "1": 2}},
        "band_by_mode": {
            "input": {"easy": 1, "medium": 1, "hard": 0, "unsolved": 0},
            "output": {"easy": 1, "medium": 1, "hard": 0, "unsolved": 1},
        },
    }
    language = traces["language"]
    assert language["measured"] == 5 and language["with_han"] == 1
    assert language["language_mismatch"] == 2  # t1 (0.15) and t2 (0.05); t4 failed
    assert language["hangul_share"]["0.9-1.0"] == 1 and language["hangul_share"]["0.0-0.1"] == 1
    # Runs without the features carry neither key.
    plain = collect_run(make_run(tmp_path / "plain"))["traces"]
    assert "difficulty" not in plain and "language" not in plain


def test_difficulty_and_language_in_the_page(tmp_path, browser):
    plain = write_report(make_run(tmp_path / "plain"), tmp_path / "plain.html")
    browser.open(plain.as_uri())
    assert browser.eval("document.getElementById('difficulty').offsetHeight") == 0
    assert browser.eval("document.getElementById('language').offsetHeight") == 0
    page = write_report(_quality_run(tmp_path), tmp_path / "quality.html")
    browser.open(page.as_uri())
    assert browser.errors() == []
    tables = browser.eval(
        "Array.from(document.querySelectorAll('#difficulty table')).map(t => t.innerText)"
    )
    assert len(tables) == 3
    assert "unsolved" in tables[0] and "pass 0.5" in tables[1] and "math" in tables[2]
    language = browser.eval("document.querySelector('#language').innerText")
    assert "2 verified but language_mismatch" in language and "0.9-1.0" in language


def _grpo_run(root: Path) -> Path:
    """make_run plus the grpo stage's files and the three models' eval reports."""
    run = make_run(root)
    steps = [{"step": s, "reward_mean": 0.1 * s, "reward_std": 0.2, "verified_rate": 0.1 * s,
              "completion_length": 40.0, "loss": 0.0} for s in (1, 2, 3)]  # fmt: skip
    write_jsonl(run / "grpo" / "grpo_steps.jsonl", steps)
    (run / "grpo" / "adapter").mkdir()
    summary = {"global_step": 3, "prompts": 6, "num_generations": 2,
               "init_adapter": str(run / "train" / "adapter")}  # fmt: skip
    (run / "grpo" / "train_summary.json").write_text(json.dumps(summary))
    for label, (acc, lo, hi) in {"base": (10.0, 2, 30), "tuned": (30.0, 15, 50),
                                 "grpo": (60.0, 45, 75)}.items():  # fmt: skip
        report = {"kind": "io", "name": label, "model": {"name": label},
                  "metrics": {"io/accuracy": acc}, "intervals": {"io/accuracy": [lo, hi]},
                  "n": {"io/accuracy": 40}}  # fmt: skip
        (run / "eval" / label / "io").mkdir(parents=True)
        (run / "eval" / label / "io" / "report.json").write_text(json.dumps(report))
    return run


def test_grpo_stage_reward_curve_and_three_models(tmp_path, browser):
    run = _grpo_run(tmp_path)
    data = collect_run(run)
    assert data["grpo"]["state"] == "done" and data["grpo"]["reward"] == [
        [1, 0.1], [2, 0.2], [3, pytest.approx(0.3)]]  # fmt: skip
    assert {"name": "grpo", "state": "done", "count": 3, "unit": "steps"} in data["stages"]
    (change,) = data["evals"]["changes"]
    assert (change["base"], change["tuned"], change["grpo"]) == (10.0, 30.0, 60.0)
    assert change["change_grpo"].endswith(": up")  # +50 with intervals far apart
    assert change["change_grpo_vs_tuned"].startswith("+30.00")

    page = write_report(run)
    browser.open(page.as_uri())
    assert browser.errors() == []
    assert browser.eval("document.getElementById('grpo').hidden") is False
    assert browser.eval("document.querySelectorAll('#grpo svg path.series-reward').length") == 1
    assert browser.eval("document.querySelectorAll('#grpo svg path.series-verified').length") == 1
    text = browser.eval("Array.from(document.querySelectorAll('#evals table')).pop().innerText")
    assert "tuned (SFT)" in text and "grpo − tuned" in text and "60" in text

    # A later `kodeio run` with grpo off passed over it: the old files are not shown.
    (run / "run.json").write_text(json.dumps({"stages": {"grpo": {"status": "skipped"}}}))
    assert collect_run(run)["grpo"]["state"] == "not run"
    plain = write_report(make_run(tmp_path / "plain"))
    browser.open(plain.as_uri())
    assert browser.eval("document.getElementById('grpo').hidden") is True
