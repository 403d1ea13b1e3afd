"""The unify step: prompt, section parser, sandbox validation, and the I/O stage's hook."""

from __future__ import annotations

from pathlib import Path

import pytest

from kodeio.files import read_jsonl
from kodeio.llm.base import GenRequest
from kodeio.llm.scripted import ScriptedBackend
from kodeio.synth.io.seeds import RawCode
from kodeio.synth.io.unifier import Unifier
from kodeio.synth.unify import (
    LLMUnifier,
    UnifyConfig,
    UnifyParseError,
    parse_unified,
    unify_prompt,
)

GOOD = """I will wrap the function.
</think>

### main_solution
```python
def gcd(a, b):
    while b:
        a, b = b, a % b
    return a

def main_solution(a, b):
    return gcd(a, b)
```

### input_generator
```python
import random

def input_generator():
    return {"a": random.randint(1, 100), "b": random.randint(1, 100)}
```

### io_description
Input: two positive integers `a` and `b`. Output: their greatest common divisor (int).

### question
What is the greatest common divisor of the given `a` and `b`?
"""

# The generator returns a list, not kwargs: parses fine, must fail in the sandbox.
BAD_GENERATOR = GOOD.replace(
    'return {"a": random.randint(1, 100), "b": random.randint(1, 100)}', "return [1, 2]"
)
# main_solution returns a set: not JSON, must fail validation.
NOT_JSON = GOOD.replace("    return gcd(a, b)", "    return {gcd(a, b)}")
MISSING = GOOD.split("### question")[0]


def test_prompt_in_both_languages() -> None:
    en = unify_prompt("def f(x):\n    return x", "en", ["f"])
    ko = unify_prompt("def f(x):\n    return x", "ko", ["f"])
    for text in (en, ko):
        for section in ("### main_solution", "### input_generator", "### io_description"):
            assert section in text
        assert "def f(x)" in text and "`f`" in text
    assert "한국어" in ko


def test_parse_sections() -> None:
    unified = parse_unified(GOOD)
    assert "def main_solution(a, b)" in unified.main_solution
    assert unified.input_generator.startswith("import random")
    assert unified.question.startswith("What is the greatest")
    assert "```" not in unified.main_solution
    with pytest.raises(UnifyParseError, match="missing section.*question"):
        parse_unified(MISSING)
    with pytest.raises(UnifyParseError, match="must take no arguments"):
        parse_unified(GOOD.replace("def input_generator():", "def input_generator(n):"))
    with pytest.raises(UnifyParseError, match="not valid Python"):
        parse_unified(GOOD.replace("return gcd(a, b)", "return gcd(a, b"))


def scripted(replies: dict[str, str]) -> ScriptedBackend:
    def respond(request: GenRequest, sample: int) -> str:
        prompt = request.messages[-1]["content"]
        return next((v for k, v in replies.items() if k in prompt), "nothing\n</think>\n")

    return ScriptedBackend(respond)


def test_unifier_validates_generators_in_the_sandbox() -> None:
    backend = scripted(
        {"GOOD": GOOD, "BADGEN": BAD_GENERATOR, "NOTJSON": NOT_JSON, "MISS": MISSING}
    )
    unifier = LLMUnifier(UnifyConfig(backend="scripted"), backend=backend)
    assert isinstance(unifier, Unifier)  # the I/O stage's hook protocol
    raws = [
        RawCode(id=f"r{i}", code=f"# {tag}\ndef g(a, b):\n    return a", source=f"x.py:{i}")
        for i, tag in enumerate(["GOOD", "BADGEN", "NOTJSON", "MISS"])
    ]
    seeds = unifier.unify(raws)
    assert seeds[0] is not None and seeds[1:] == [None, None, None]
    seed = seeds[0]
    assert seed.entry == "main_solution" and seed.input_generator.startswith("import random")
    assert seed.io_requirements.startswith("Input: two positive")
    assert set(unifier.declined) == {"r1", "r2", "r3"}
    assert "input_generator check failed" in unifier.declined["r1"]
    assert "missing section" in unifier.declined["r3"]


def test_io_stage_uses_the_unifier(tmp_path: Path) -> None:
    """Raw .py code goes through the unifier and comes out as executed I/O pairs."""
    from kodeio.synth.io.config import IoConfig
    from kodeio.synth.io.stage import run_stage

    code_dir = tmp_path / "code"
    code_dir.mkdir()
    (code_dir / "mathy.py").write_text("# GOOD\ndef g(a, b):\n    return a % b\n")
    unifier = LLMUnifier(UnifyConfig(backend="scripted"), backend=scripted({"GOOD": GOOD}))
    config = IoConfig(seeds=[code_dir], output=tmp_path / "io.jsonl", per_seed=3)
    rows = read_jsonl(run_stage(config, unifier=unifier))
    assert len(rows) == 3
    for row in rows:
        kwargs = row["input"]["kwargs"]
        import math

        assert row["output"] == math.gcd(kwargs["a"], kwargs["b"])
