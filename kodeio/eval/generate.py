"""Model answers for the evals, through the shared model backends (`kodeio.llm`), resumably.

Every completion is appended to a generation journal (`kodeio.llm.journal`) the moment
the engine returns it, keyed by a hash of everything that determines it (model, adapter,
messages, n, sampling, prompt-template version). A rerun after a kill replays what was
generated and asks the engine only for the rest; changing any of those inputs changes the
key, so stale answers are never reused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from kodeio.errors import ConfigError
from kodeio.eval.config import ModelEvalConfig
from kodeio.llm.base import Backend, GenRequest, GenResult


def request_key(parts: dict[str, Any]) -> str:
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def build_request(
    config: ModelEvalConfig, user_text: str, template_tag: str, n: int | None = None
) -> GenRequest:
    """One chat request (optional system prompt + the user turn) with a stable key and seed."""
    s = config.sampling
    n = n or s.n_samples
    messages: list[dict[str, str]] = []
    if config.system_prompt:
        messages.append({"role": "system", "content": config.system_prompt})
    messages.append({"role": "user", "content": user_text})
    key = request_key(
        {
            "backend": config.backend,
            "model": config.model,
            "adapter": str(config.adapter) if config.adapter else None,
            "messages": messages,
            "n": n,
            "sampling": [s.temperature, s.top_p, s.max_tokens, s.seed],
            "think_prefix": config.think_prefix,
            "template": template_tag,
        }
    )
    # Per-request seed: reruns sample the same way, different prompts differently.
    seed = (s.seed * 1_000_003 + int(key[:8], 16)) % (2**31 - 1)
    return GenRequest(
        key=key,
        messages=tuple(messages),
        n=n,
        max_tokens=s.max_tokens,
        temperature=s.temperature,
        top_p=s.top_p,
        seed=seed,
    )


def make_eval_backend(config: ModelEvalConfig) -> Backend:
    """The backend for this model, with the LoRA adapter applied if one is given."""
    from kodeio.llm import make_backend

    model = config.model or ""
    if (Path(model).is_absolute() or model.startswith((".", "~"))) and not Path(
        model
    ).expanduser().exists():
        raise ConfigError(f"key 'model': {model} does not exist (a local model directory)")
    if config.adapter is not None and not Path(config.adapter).exists():
        raise ConfigError(f"key 'adapter': {config.adapter} does not exist")
    if config.adapter is not None and config.backend == "openai":
        raise ConfigError(
            "key 'adapter': the openai backend cannot load adapters; serve it (e.g. "
            "`vllm serve BASE --enable-lora --lora-modules NAME=PATH`) and pass --model NAME"
        )
    engine = config.engine()
    if config.adapter is not None and config.backend == "vllm":
        vllm = engine.vllm.model_copy(update={"lora_path": str(config.adapter)})
        engine = engine.model_copy(update={"vllm": vllm})
    backend = make_backend(engine)
    if config.adapter is not None and config.backend == "transformers":
        from peft import PeftModel

        model = backend.model  # type: ignore[attr-defined]
        backend.model = PeftModel.from_pretrained(model, str(config.adapter)).eval()  # type: ignore[attr-defined]
    return backend


def batch_size(config: ModelEvalConfig) -> int:
    if config.batch_size:
        return config.batch_size
    return {"openai": 8 * config.concurrency, "transformers": 8}.get(config.backend, 256)


def generate_all(
    config: ModelEvalConfig,
    requests: Sequence[GenRequest],
    journal_file: Path,
    backend: Backend | None = None,
) -> Iterator[GenResult]:
    """Yield one GenResult per distinct request: replayed from the journal or generated.

    The engine starts only if something is missing from the journal.
    """
    from kodeio.llm.journal import GenerationJournal

    journal = GenerationJournal(journal_file)
    owned: Backend | None = None
    try:
        unique: dict[str, GenRequest] = {}
        for r in requests:
            unique.setdefault(r.key, r)
        missing = []
        for request in unique.values():
            cached = journal.get(request)
            if cached is not None:
                yield cached
            else:
                missing.append(request)
        if not missing:
            return
        if backend is None:
            backend = owned = make_eval_backend(config)
        size = batch_size(config)
        for start in range(0, len(missing), size):
            for result in backend.generate(missing[start : start + size]):
                journal.add(result)
                yield result
    finally:
        journal.close()
        if owned is not None:
            owned.close()
