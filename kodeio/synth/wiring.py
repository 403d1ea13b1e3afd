"""The synth stage in `kodeio run`: RUN/io/pairs.jsonl -> RUN/synth/traces.jsonl and sft.jsonl."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kodeio.wiring import Recipe, StageWiring, count_lines, find_path

# Below this verified share the teacher, not the data, is what limits the run.
FEW_VERIFIED = 0.2
TEACHER_COMMAND = (
    "kodeio run -c configs/teacher-api.yaml "
    "--set synth.openai.base_urls='[\"https://YOUR-ENDPOINT/v1\"]' --set synth.model=NAME"
)


class SynthWiring(StageWiring):
    name = "synth"
    sections = ("synth",)

    def configs(self, recipe: Recipe) -> dict[str, BaseModel]:
        from kodeio.synth.config import SynthConfig

        sec = recipe.section("synth")
        sec["pairs"] = str(recipe.run / "io" / "pairs.jsonl")
        sec["output"] = str(recipe.run / "synth" / "traces.jsonl")
        if sec.get("script"):  # canned completions stand in for the model: none to prepare
            sec["script"] = str(find_path(sec["script"]))
        else:
            sec["model"] = recipe.model(sec)
        return {"synth": recipe.validate(SynthConfig, sec, "synth")}

    def outputs(self, run: Path) -> list[Path]:
        return [run / "synth" / "traces.jsonl", run / "synth" / "sft.jsonl"]

    def execute(self, configs: dict[str, Any]) -> None:
        from kodeio.progress import console
        from kodeio.synth.pipeline import SynthRun
        from kodeio.synth.report import print_run_summary
        from kodeio.synth.traces import export

        cfg = configs["synth"]
        print_run_summary(cfg, SynthRun(cfg).run())
        n, path = export(Path(cfg.output), Path(cfg.output).with_name("sft.jsonl"))
        console.print(f"exported {n} verified conversations to {path}", highlight=False)

    def counts(self, run: Path) -> dict[str, Any]:
        from kodeio.synth.traces import compute_stats

        st = compute_stats(run / "synth" / "traces.jsonl")
        verified = st.traces - st.by_status.get("failed", 0)
        # Only runs with n_samples > 1 / reasoning_language ko have these.
        quality: dict[str, Any] = {}
        if (difficulty := st.difficulty_dict()) is not None:
            quality["bands"] = difficulty["band_by_mode"]
        if (language := st.language_dict()) is not None:
            quality["language_mismatch"] = language["language_mismatch"]
        return {
            "traces": st.traces,
            "verified": verified,
            "yield": round(verified / st.traces, 4) if st.traces else 0.0,
            "by_status": dict(st.by_status),
            "failure_reasons": st.to_dict()["failure_reasons"],
            "sft_rows": count_lines(run / "synth" / "sft.jsonl"),
            **quality,
        }

    def result(self, counts: dict[str, Any]) -> str:
        return f"verified yield {counts['verified']}/{counts['traces']} = {counts['yield']:.1%}"

    def footer(self, run: Path, counts: dict[str, Any]) -> list[str]:
        traces, verified = counts.get("traces", 0), counts.get("verified", 0)
        if not traces or verified / traces >= FEW_VERIFIED:
            return []
        reasons = counts.get("failure_reasons") or {}
        top = ", ".join(f"{name} {n}" for name, n in list(reasons.items())[:3])
        return [
            f"[yellow]synth verified {'no' if not verified else 'few'} traces "
            f"({verified} of {traces}); why the rest failed: {top or 'unknown'} "
            f"(kodeio synth stats {run / 'synth' / 'traces.jsonl'}).[/]",
            "The model writing the traces is too weak to teach (a 135M model gets a few "
            "percent right); point synthesis at a real reasoning model:",
            f"  {TEACHER_COMMAND}",
        ]
