"""Typed stage configs loaded from YAML with `--set a.b=value` overrides.

Every stage has a pydantic model derived from `StageConfig`. The same model is the
stage's Python API (`run_stage(config)`) and what `--config FILE` is validated against.
A recipe file (configs/*.yaml) names a whole run: one section per stage. A stage command
given a recipe reads its own section.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from kodeio.errors import ConfigError


class StageConfig(BaseModel):
    """Base for every stage config: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_default=True, protected_namespaces=())


C = TypeVar("C", bound=BaseModel)


def parse_override(item: str) -> tuple[list[str], Any]:
    """`a.b=value` -> (["a", "b"], value), with value parsed as YAML (so 3, true, [1,2] work)."""
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set train.max_steps=10")
    key, raw = item.split("=", 1)
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {item!r}: the key must be dotted names, e.g. train.lora_r")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.split("."), value


def set_dotted(tree: dict[str, Any], path: list[str], value: Any) -> None:
    node = tree
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[path[-1]] = value


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ConfigError(
            f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; expected a YAML config") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a YAML mapping at the top level, got {type(data).__name__}"
        )
    return data


def describe_validation_error(exc: ValidationError, source: str, prefix: str = "") -> str:
    """One paragraph naming the source, each bad key and what was expected."""
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        key = f"{prefix}{loc}" if loc else prefix.rstrip(".") or "(top level)"
        if err["type"] == "extra_forbidden":
            problems.append(f"unknown key '{key}'")
        elif err["type"] == "missing":
            problems.append(f"missing required key '{key}'")
        else:
            got = err.get("input")
            got_s = repr(got) if not isinstance(got, dict | list) else type(got).__name__
            problems.append(f"key '{key}': {err['msg'].lower()} (got {got_s})")
    return f"{source}: invalid config: " + "; ".join(problems) + "."


def load_config(
    model: type[C],
    path: str | Path | None = None,
    overrides: list[str] | None = None,
    values: dict[str, Any] | None = None,
    section: str | None = None,
) -> C:
    """Build a stage config from (lowest to highest precedence) file, CLI values and --set.

    `section` is the stage's key in a recipe file. If the file has that key at the top level,
    only that subtree is used; `--set section.key=v` and `--set key=v` both work.
    """
    tree: dict[str, Any] = {}
    source = "command line"
    if path is not None:
        path = Path(path)
        source = str(path)
        tree = read_yaml(path)
        if section and section in tree and isinstance(tree[section], dict):
            shared = {k: v for k, v in tree.items() if k in _RECIPE_SHARED_KEYS}
            tree = {**_inherit(shared, model), **tree[section]}
    for key, value in (values or {}).items():
        if value is not None:
            set_dotted(tree, key.split("."), value)
    for item in overrides or []:
        keys, value = parse_override(item)
        if section and keys[0] == section and len(keys) > 1:
            keys = keys[1:]
        set_dotted(tree, keys, value)
        if path is None:
            source = "--set"
    prefix = f"{section}." if section and path is not None else ""
    try:
        return model.model_validate(tree)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, source, prefix)) from None


# Recipe-level keys a stage inherits when the stage's own section does not set them.
_RECIPE_SHARED_KEYS = ("run_dir", "seed")


def _inherit(shared: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    return {k: v for k, v in shared.items() if k in model.model_fields}


def dump_config(config: BaseModel, path: Path) -> None:
    """Write the resolved config as YAML (atomically)."""
    from kodeio.files import atomic_write_text

    text = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    atomic_write_text(path, text)
