"""What a stage tells `kodeio run` (kodeio/pipeline.py) about itself.

Each stage of the pipeline has one `StageWiring` in its own package (`kodeio/<stage>/wiring.py`,
the report's in `kodeio/report.py`): which recipe sections it reads, how they become its
configs with every input and output under `run_dir`, what must exist when it is done, how it
runs in the stage's child process (with its side effects), and the numbers it leaves for
`run.json` and the summary. The pipeline only orders stages, skips and resumes them.

This module sits below the stages and imports none of them.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError

from kodeio.config import describe_validation_error
from kodeio.errors import ConfigError
from kodeio.files import atomic_write_text

MARKER = ".stage.json"  # RUN/<stage>/.stage.json: running or done, with the config hash
PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def find_path(value: str | Path) -> Path:
    """A relative path as given if it exists from here, else inside the kodeio checkout/package
    (so `kodeio/data/samples/...` in a recipe works from any directory)."""
    path = Path(value).expanduser()
    if path.is_absolute() or path.exists():
        return path
    packaged = PACKAGE_ROOT / path
    return packaged if packaged.exists() else path


def count_lines(path: Path) -> int:
    """Non-blank lines of a JSONL file; 0 when there is no file."""
    if not path.is_file():
        return 0
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip())


def read_marker(run: Path, stage: str) -> dict[str, Any] | None:
    path = run / stage / MARKER
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def write_marker(run: Path, stage: str, data: dict[str, Any]) -> None:
    atomic_write_text(run / stage / MARKER, json.dumps(data, indent=2) + "\n")


@dataclass
class Recipe:
    """The recipe as the stages read it: deep-copied sections, the shared model, run_dir."""

    tree: dict[str, Any]
    source: str = "recipe"
    # False: validate only (no model preparation, no reading of earlier stages' outputs).
    live: bool = True
    notes: list[str] = field(default_factory=list)  # shown before the stage runs

    @property
    def run(self) -> Path:
        return Path(self.tree["run_dir"])

    def get(self, key: str, default: Any = None) -> Any:
        """A top-level recipe key (seed, name, model)."""
        return self.tree.get(key, default)

    def section(self, name: str) -> dict[str, Any]:
        return json.loads(json.dumps(self.tree.get(name) or {}))  # a deep copy

    def model(self, section: dict[str, Any], key: str = "model") -> str:
        """The section's model, else the recipe's; prepared locally when live."""
        name = section.get(key) or self.tree.get("model")
        if not name:
            raise ConfigError(f"{self.source}: set 'model' at the top level or in each section")
        if not self.live:
            return str(name)
        from kodeio.models import resolve_model

        return resolve_model(str(name))

    def enabled(self, name: str) -> bool:
        """An optional stage's `NAME.enabled`: false without the section or the key."""
        section = self.tree.get(name) or {}
        value = section.get("enabled", False) if isinstance(section, dict) else False
        if not isinstance(value, bool):
            raise ConfigError(f"{self.source}: key '{name}.enabled' must be true or false")
        return value

    def validate(self, model: type[BaseModel], data: dict[str, Any], section: str) -> Any:
        """`data` as a `model`; errors name the recipe and the dotted key."""
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(describe_validation_error(exc, self.source, f"{section}.")) from None


class StageWiring:
    """One pipeline stage as `kodeio run` sees it. Subclasses live with their stage."""

    name: ClassVar[str]
    sections: ClassVar[tuple[str, ...]]  # the recipe sections this stage reads
    # An optional stage runs only with `<section>.enabled: true`; otherwise the pipeline
    # passes over it (no marker, no part in the hashes of the stages after it).
    optional: ClassVar[bool] = False

    def enabled(self, recipe: Recipe) -> bool:
        return not self.optional or recipe.enabled(self.sections[0])

    def configs(self, recipe: Recipe) -> dict[str, BaseModel]:
        """The stage's validated configs, every input and output under `recipe.run`."""
        raise NotImplementedError

    def outputs(self, run: Path) -> list[Path]:
        """What must exist for the stage to count as complete."""
        raise NotImplementedError

    def execute(self, configs: dict[str, Any]) -> None:
        """Run the stage in this process (the stage's child), side effects included."""
        raise NotImplementedError

    def counts(self, run: Path) -> dict[str, Any]:
        """Cheap numbers read back from the finished stage's files (run.json, the summary)."""
        raise NotImplementedError

    def result(self, counts: dict[str, Any]) -> str:
        """The summary table's cell for this stage, from its counts."""
        raise NotImplementedError

    def footer(self, run: Path, counts: dict[str, Any]) -> list[str]:
        """Lines printed under the summary table (where things are, what to run next)."""
        return []

    def clean(self, run: Path) -> None:
        """Remove what an earlier config of this stage wrote, so it starts from nothing."""
        shutil.rmtree(run / self.name, ignore_errors=True)
