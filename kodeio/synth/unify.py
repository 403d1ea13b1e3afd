"""CodeI/O step 1 ("unify"): a model rewrites raw code into a runnable, checkable seed.

For each piece of raw code the model writes four sections (template `unify.<lang>.jinja`):
`main_solution` (JSON in, JSON out), a zero-argument `input_generator()` returning the
kwargs, an I/O description and a question. The sections are parsed, both functions are
checked with `ast`, and the generator is *run in the sandbox* a few times together with
`main_solution`: only code whose generator returns a kwargs dict that `main_solution`
accepts, with JSON inputs and outputs, becomes a seed. Everything else is declined (the
I/O stage records that as a reject).

This implements the `Unifier` hook of the I/O stage (`kodeio.synth.io.unifier`):
`kodeio io run CODE_DIR --set unifier=kodeio.synth.unify:make_unifier`, with the model
settings read from the YAML file named by `$KODEIO_UNIFY_CONFIG` (a `UnifyConfig`, or a
recipe with a `unify:` section).
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from kodeio.config import StageConfig
from kodeio.llm.base import Backend, GenRequest
from kodeio.llm.config import (
    BackendName,
    EngineConfig,
    OpenAIConfig,
    SamplingConfig,
    TransformersConfig,
    VllmConfig,
)
from kodeio.sandbox.config import SandboxConfig
from kodeio.synth.config import DEFAULT_MODEL, Language
from kodeio.synth.prompts import render
from kodeio.synth.revision import split_completion

SECTIONS = ("main_solution", "input_generator", "io_description", "question")
CONFIG_ENV = "KODEIO_UNIFY_CONFIG"

# A section header: "### main_solution", "## 2. input_generator:", "**question**" ...
_HEADER = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*|\*\*)?(?:\d+[.)][ \t]*)?`?(main_solution|input_generator|"
    r"io_description|question)`?(?:\*\*)?[ \t]*:?[ \t]*(?:\*\*)?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_FENCE = re.compile(r"```[ \t]*(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)

# Runs inside the sandbox after the model's code: one generator draw, one solution call.
_VALIDATOR = """

def __kodeio_validate_unified():
    kwargs = input_generator()
    if not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
        raise TypeError("input_generator must return a dict of keyword arguments")
    return {"input": kwargs, "output": main_solution(**kwargs)}
"""


class UnifyConfig(StageConfig):
    """Model settings for the unify step (same meaning as in the `synth` section)."""

    backend: BackendName = "vllm"
    model: str = DEFAULT_MODEL
    reasoning_language: Language = "en"
    think_prefix: bool = True
    concurrency: int = Field(16, ge=1)
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    vllm: VllmConfig = Field(default_factory=VllmConfig)
    openai: OpenAIConfig = Field(default_factory=OpenAIConfig)
    transformers: TransformersConfig = Field(default_factory=TransformersConfig)
    sandbox: SandboxConfig = Field(default_factory=lambda: SandboxConfig(workers=2))
    validation_runs: int = Field(3, ge=1, le=50, description="generator draws that must pass")
    script: Path | None = None

    def engine(self) -> EngineConfig:
        """The engine settings `kodeio.llm.make_backend` starts a backend from."""
        return EngineConfig.of(self)


class UnifyParseError(ValueError):
    """The model's reply does not have the four sections in a usable form."""


@dataclass(frozen=True)
class UnifiedCode:
    main_solution: str
    input_generator: str
    io_description: str
    question: str

    @property
    def code(self) -> str:
        return self.main_solution.rstrip() + "\n"


def unify_prompt(code: str, language: str = "en", functions: Sequence[str] = ()) -> str:
    return render(
        "unify", language, code=code.strip("\n"), hint=", ".join(f"`{f}`" for f in functions)
    )


def split_sections(text: str) -> dict[str, str]:
    """Section name -> body, from the answer region (after </think>) of a reply."""
    _, answer, terminated = split_completion(text)
    region = answer if terminated and answer.strip() else text
    headers = list(_HEADER.finditer(region))
    sections: dict[str, str] = {}
    for i, match in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(region)
        # The last occurrence wins: drafts come first, the final version last.
        sections[match.group(1).lower()] = region[match.end() : end].strip()
    return sections


def _code_of(body: str) -> str:
    blocks = _FENCE.findall(body)
    return (blocks[-1] if blocks else body).strip("\n")


def _defines(code: str, name: str, what: str) -> ast.FunctionDef:
    try:
        module = ast.parse(code)
    except SyntaxError as exc:
        raise UnifyParseError(f"{what}: not valid Python ({exc.msg}, line {exc.lineno})") from None
    for node in module.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    raise UnifyParseError(f"{what}: no top-level `def {name}`")


def parse_unified(text: str) -> UnifiedCode:
    """The four sections of a unify reply, with both functions checked by `ast`."""
    sections = split_sections(text)
    missing = [s for s in SECTIONS if not sections.get(s)]
    if missing:
        raise UnifyParseError(f"missing section(s): {', '.join(missing)}")
    solution = _code_of(sections["main_solution"])
    generator = _code_of(sections["input_generator"])
    _defines(solution, "main_solution", "main_solution")
    gen = _defines(generator, "input_generator", "input_generator")
    args = gen.args
    if args.args or args.posonlyargs or args.kwonlyargs or args.vararg or args.kwarg:
        raise UnifyParseError("input_generator: must take no arguments")
    return UnifiedCode(
        main_solution=solution,
        input_generator=generator,
        io_description=sections["io_description"].strip(),
        question=sections["question"].strip(),
    )


def validate_in_sandbox(
    items: Sequence[UnifiedCode], sandbox: Any, runs: int = 3
) -> list[str | None]:
    """None where `runs` seeded generator draws all feed `main_solution` cleanly (JSON
    in and out), else the first problem found. Untrusted code runs only in the sandbox."""
    from kodeio.sandbox import Job

    jobs = []
    for i, item in enumerate(items):
        code = item.main_solution + "\n\n" + item.input_generator + _VALIDATOR
        for r in range(runs):
            jobs.append(Job(id=f"{i}:{r}", code=code, entry="__kodeio_validate_unified", seed=r))
    problems: list[str | None] = [None] * len(items)
    for result in sandbox.run(jobs):
        index = int(result.id.split(":")[0])
        if problems[index] is not None:
            continue
        if result.status != "ok":
            problems[index] = f"{result.status}: {result.error or ''}".strip(": ")
        elif not result.output_is_json:
            problems[index] = "input or output is not JSON-serializable"
    return problems


class LLMUnifier:
    """A `Unifier` backed by a model: batches the prompts, parses, validates, builds seeds."""

    def __init__(self, config: UnifyConfig, backend: Backend | None = None) -> None:
        self.config = config
        self._backend = backend
        self.declined: dict[str, str] = {}  # raw id -> why it was declined (for reports)

    def backend(self) -> Backend:
        if self._backend is None:
            from kodeio.llm import make_backend

            self._backend = make_backend(self.config.engine())
        return self._backend

    def _request(self, prompt: str) -> GenRequest:
        s = self.config.sampling
        key = hashlib.sha256(f"{self.config.model}\0{prompt}".encode()).hexdigest()[:24]
        return GenRequest(
            key=key,
            messages=({"role": "user", "content": prompt},),
            n=1,
            max_tokens=s.max_tokens,
            temperature=s.temperature,
            top_p=s.top_p,
            seed=(s.seed + int(key[:8], 16)) % (2**31 - 1),
        )

    def unify(self, raw: Sequence[Any]) -> list[Any]:
        from kodeio.sandbox import Sandbox
        from kodeio.synth.io.unifier import unified_seed

        lang = self.config.reasoning_language
        requests = [self._request(unify_prompt(r.code, lang, r.functions)) for r in raw]
        by_key = {req.key: i for i, req in enumerate(requests)}
        texts: list[str] = [""] * len(raw)
        for result in self.backend().generate(requests):
            texts[by_key[result.request.key]] = result.completions[0].text
        parsed: list[UnifiedCode | None] = []
        for r, text in zip(raw, texts, strict=True):
            try:
                parsed.append(parse_unified(text))
            except UnifyParseError as exc:
                self.declined[r.id] = str(exc)
                parsed.append(None)
        candidates = [p for p in parsed if p is not None]
        with Sandbox(self.config.sandbox) as sandbox:
            problems = iter(validate_in_sandbox(candidates, sandbox, self.config.validation_runs))
        seeds: list[Any] = []
        for r, unified in zip(raw, parsed, strict=True):
            if unified is None:
                seeds.append(None)
                continue
            problem = next(problems)
            if problem is not None:
                self.declined[r.id] = f"input_generator check failed: {problem}"
                seeds.append(None)
                continue
            seeds.append(
                unified_seed(
                    r,
                    code=unified.code,
                    input_generator=unified.input_generator,
                    problem_description=unified.question,
                    io_requirements=unified.io_description,
                )
            )
        return seeds


def make_unifier() -> LLMUnifier:
    """Zero-argument factory for `--set unifier=kodeio.synth.unify:make_unifier`."""
    from kodeio.config import load_config

    path = os.environ.get(CONFIG_ENV)
    return LLMUnifier(load_config(UnifyConfig, path, section="unify"))
