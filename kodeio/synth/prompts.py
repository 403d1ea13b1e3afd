"""Prompt rendering from the versioned template files in `kodeio/templates/synth/`.

Templates (each in `en` and `ko`; the `ko` ones ask for the chain of thought in Korean):
- `output_prediction`, `input_prediction`: the CodeI/O questions;
- `feedback`: the CodeI/O++ execution feedback for a revision turn;
- `bridge`: the self-check text that joins turns in the single-response export;
- `unify`: raw code -> main_solution / input_generator / io_description / question.

`template_version()` is the VERSION file plus a hash of every template, so a trace records
exactly which wording produced it, and an edited template never reuses cached generations.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

import jinja2

from kodeio.errors import InputError
from kodeio.sandbox.values import format_call_args

TEMPLATE_PACKAGE = "kodeio"
TEMPLATE_DIR = "templates/synth"
Policy = Literal["json", "python"]


def _template_root() -> Any:
    return resources.files(TEMPLATE_PACKAGE).joinpath(TEMPLATE_DIR)


@cache
def _environment() -> jinja2.Environment:
    root = _template_root()

    def load(name: str) -> str:
        node = root.joinpath(name)
        if not node.is_file():
            raise jinja2.TemplateNotFound(name)
        return node.read_text(encoding="utf-8")

    return jinja2.Environment(
        loader=jinja2.FunctionLoader(load),
        undefined=jinja2.StrictUndefined,  # a missing variable is a bug, not an empty string
        keep_trailing_newline=False,
        autoescape=False,
    )


@cache
def template_version() -> str:
    root = _template_root()
    digest = hashlib.sha256()
    for node in sorted(root.iterdir(), key=lambda n: n.name):
        if node.name.endswith(".jinja"):
            digest.update(node.name.encode() + b"\0" + node.read_bytes() + b"\0")
    version = root.joinpath("VERSION").read_text(encoding="utf-8").strip()
    return f"synth-v{version}-{digest.hexdigest()[:10]}"


def render(name: str, language: str, **variables: Any) -> str:
    template = _environment().get_template(f"{name}.{language}.jinja")
    return template.render(**variables).strip()


# ---- I/O pairs --------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """One ground-truth (function, input, output) row from `kodeio io run`."""

    id: str
    seed_id: str
    code: str
    entry: str
    input: Any  # {"args": [...], "kwargs": {...}} or call-args source (CRUXEval)
    output: Any
    output_repr: str | None
    policy: Policy
    problem_description: str | None = None
    io_requirements: str | None = None
    category: str | None = None  # the seed's category, when its row names one
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: dict[str, Any], where: str) -> Pair:
        for key in ("id", "code", "entry", "input"):
            if key not in row:
                raise InputError(f"{where}: missing key '{key}' (expected an I/O pair row)")
        if "output" not in row and "output_repr" not in row:
            raise InputError(f"{where}: missing key 'output' (expected an I/O pair row)")
        for key in ("code", "entry"):
            if not isinstance(row[key], str) or not row[key].strip():
                raise InputError(f"{where}: key '{key}' must be a non-empty string")
        inp = row["input"]
        if isinstance(inp, dict):
            if not isinstance(inp.get("args", []), list) or not isinstance(
                inp.get("kwargs", {}), dict
            ):
                raise InputError(
                    f"{where}: key 'input' must be {{'args': [...], 'kwargs': {{...}}}} "
                    "or call arguments as a string"
                )
        elif not isinstance(inp, str) and inp is not None:
            raise InputError(
                f"{where}: key 'input' must be an object or a string, got {type(inp).__name__}"
            )
        policy = row.get("policy") or ("python" if isinstance(inp, str) else "json")
        if policy not in ("json", "python"):
            raise InputError(f"{where}: key 'policy' must be 'json' or 'python', got {policy!r}")
        if policy == "python" and not isinstance(row.get("output_repr"), str):
            raise InputError(f"{where}: key 'output_repr' is required for policy 'python'")
        description = row.get("problem_description") or row.get("description")
        return cls(
            id=str(row["id"]),
            seed_id=str(row.get("seed_id") or row["id"]),
            code=row["code"],
            entry=row["entry"],
            input=inp,
            output=row.get("output"),
            output_repr=row.get("output_repr"),
            policy=policy,
            problem_description=description if isinstance(description, str) else None,
            io_requirements=row.get("io_requirements")
            if isinstance(row.get("io_requirements"), str)
            else None,
            category=row["category"] if isinstance(row.get("category"), str) else None,
        )

    # How the prompt shows the input and output, and what shape the answer takes.
    @property
    def input_style(self) -> Literal["kwargs", "call"]:
        if (
            self.policy == "json"
            and isinstance(self.input, dict)
            and not self.input.get("args")
            and self.input.get("kwargs")
        ):
            return "kwargs"
        return "call"

    def input_text(self) -> str:
        if self.input_style == "kwargs":
            return json.dumps(self.input["kwargs"], ensure_ascii=False)
        if isinstance(self.input, str):
            return f"{self.entry}({self.input})"
        if self.input is None:
            return f"{self.entry}()"
        return f"{self.entry}({format_call_args(self.input.get('args', []), self.input.get('kwargs', {}))})"

    def output_text(self) -> str:
        if self.policy == "python" and self.output_repr is not None:
            return self.output_repr
        return json.dumps(self.output, ensure_ascii=False)


def prediction_prompt(pair: Pair, mode: str, language: str) -> str:
    return render(
        f"{mode}_prediction",
        language,
        code=pair.code.strip("\n"),
        entry=pair.entry,
        policy=pair.policy,
        problem_description=pair.problem_description,
        io_requirements=pair.io_requirements,
        input_text=pair.input_text(),
        output_text=pair.output_text(),
        input_style=pair.input_style,
    )
