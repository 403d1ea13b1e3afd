"""The io stage in `kodeio run`: seeds -> RUN/io/pairs.jsonl (and its rejects).

Before the pairs, `io.clean` (on unless `io.clean: false`) cleans the seeds: repeats of an
earlier seed and matches of the benchmarks in `io.clean.against` are listed in
RUN/io/seeds.clean.removed.jsonl, and `kodeio io run` leaves those seeds out. The held-out I/O
eval is the tail of the same seeds' pairs (kodeio/eval/wiring.py), so dropping repeats, the
first occurrence kept, is what keeps an eval function from also being a training function.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kodeio.wiring import Recipe, StageWiring, count_lines, find_path

CLEAN_NAME = "seeds.clean.jsonl"  # RUN/io/: the kept seeds; beside it, .removed.jsonl


class IoWiring(StageWiring):
    name = "io"
    sections = ("io",)

    def configs(self, recipe: Recipe) -> dict[str, BaseModel]:
        from kodeio.synth.io.clean.options import CleanOptions
        from kodeio.synth.io.clean.stage import CleanConfig
        from kodeio.synth.io.config import IoConfig

        sec = recipe.section("io")
        if not sec.get("seeds") and not sec.get("hf_dataset"):
            from kodeio.synth.io.seeds import quickstart_path

            sec["seeds"] = [str(quickstart_path())]
        sec["seeds"] = [str(find_path(p)) for p in sec.get("seeds") or []]
        clean = sec.pop("clean", None)
        sec["output"] = str(recipe.run / "io" / "pairs.jsonl")
        sec.setdefault("seed", recipe.get("seed", 0))
        out: dict[str, BaseModel] = {}
        if clean is not False:
            out["clean"] = recipe.validate(CleanConfig, self._clean_section(sec, clean), "io.clean")
            sec["exclude_seeds"] = str(out["clean"].removed_path)
            if sec.get("unifier"):  # rewritten seeds are checked against the same benchmarks
                options = set(CleanOptions.model_fields)
                sec["clean_unified"] = out["clean"].model_dump(mode="json", include=options)
        out["io"] = recipe.validate(IoConfig, sec, "io")
        return out

    @staticmethod
    def _clean_section(io: dict[str, Any], clean: Any) -> dict[str, Any]:
        data = dict(clean) if isinstance(clean, dict) else {}
        data["against"] = [
            a if str(a).startswith("hf:") else str(find_path(a)) for a in data.get("against") or []
        ]
        for key in ("seeds", "format", "hf_dataset", "hf_split", "hf_config", "hf_code_field"):
            if key in io:
                data[key] = io[key]
        data["output"] = str(Path(io["output"]).with_name(CLEAN_NAME))
        return data

    def outputs(self, run: Path) -> list[Path]:
        return [run / "io" / "pairs.jsonl"]

    def execute(self, configs: dict[str, Any]) -> None:
        from kodeio.synth.io.report import print_summary
        from kodeio.synth.io.stage import run_io

        if "clean" in configs:
            from kodeio.synth.io.clean.report import print_summary as print_clean
            from kodeio.synth.io.clean.stage import run_clean

            print_clean(run_clean(configs["clean"]))
        print_summary(run_io(configs["io"]))

    def counts(self, run: Path) -> dict[str, Any]:
        counts: dict[str, Any] = {
            "pairs": count_lines(run / "io" / "pairs.jsonl"),
            "rejects": count_lines(run / "io" / "pairs.rejects.jsonl"),
        }
        removed = run / "io" / CLEAN_NAME.replace(".jsonl", ".removed.jsonl")
        if removed.is_file():
            from kodeio.synth.io.clean.stage import removed_counts

            counts["clean"] = {
                "kept": count_lines(run / "io" / CLEAN_NAME),
                **removed_counts(removed),
            }
        return counts

    def result(self, counts: dict[str, Any]) -> str:
        cell = f"{counts['pairs']} pairs ({counts['rejects']} rejected)"
        clean = counts.get("clean")
        if clean and (clean["duplicate"] or clean["contaminated"]):
            cell += f"; seeds cleaned: {clean['duplicate']} duplicate, "
            cell += f"{clean['contaminated']} contaminated"
        return cell
