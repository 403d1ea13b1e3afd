"""Plain `transformers` generate: for tiny models and debugging, not for throughput."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from kodeio.llm.base import (
    Backend,
    Completion,
    GenRequest,
    GenResult,
    render_with_template,
)
from kodeio.llm.config import TransformersConfig


class TransformersBackend(Backend):
    name = "transformers"

    def __init__(self, model: str, config: TransformersConfig, think_prefix: bool = True) -> None:
        super().__init__()
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        dtype: Any = "auto" if config.dtype == "auto" else getattr(torch, config.dtype)
        self.model = AutoModelForCausalLM.from_pretrained(model, dtype=dtype)
        self.model.to(config.device).eval()
        self.device = config.device
        self.think_prefix = think_prefix
        eos = self.model.generation_config.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])

    def generate(self, requests: Sequence[GenRequest]) -> Iterator[GenResult]:
        torch = self._torch
        for request in requests:
            text = render_with_template(self.tokenizer, request.messages, self.think_prefix)
            ids = self.tokenizer(text, add_special_tokens=False, return_tensors="pt")
            ids = {k: v.to(self.device) for k, v in ids.items()}
            n_prompt = int(ids["input_ids"].shape[1])
            completions = []
            with self.meter, torch.inference_mode():
                for i in range(request.n):
                    torch.manual_seed(request.seed + i)  # reproducible per request and sample
                    sampled = request.temperature > 0
                    out = self.model.generate(
                        **ids,
                        max_new_tokens=request.max_tokens,
                        do_sample=sampled,
                        temperature=request.temperature if sampled else None,
                        top_p=request.top_p if sampled else None,
                        pad_token_id=self.tokenizer.pad_token_id,
                    )
                    new = out[0, n_prompt:].tolist()
                    stopped = bool(new) and new[-1] in self.eos_ids
                    body = self.tokenizer.decode(new, skip_special_tokens=True)
                    completions.append(Completion(body, "stop" if stopped else "length", len(new)))
            yield GenResult(request, completions, n_prompt)
