"""Does the GGUF compute what the HF model computes? Greedy tokens, side by side.

The merged HF model (transformers, float32 compute) and each GGUF file (llama-cpp-python)
greedily decode N tokens from the same chat-formatted prompts, fed as the same token ids.
We also check that llama.cpp tokenizes the prompt text to the ids transformers does, since a
tokenizer mismatch breaks a GGUF as surely as a weight mismatch.

Greedy decoding of random or barely trained weights is dominated by near-ties (top-2 logit
gaps of about 0.001), where f16 rounding alone flips choices; each divergence is reported
with the HF top-2 gap at that step so a tie can be told from a real bug.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from kodeio.cpu import llama_threads

# A divergence where transformers' own top-2 logits are closer than this is a rounding tie.
TIE_GAP = 0.01


@dataclass
class Reference:
    prompt: str
    prompt_ids: list[int]
    tokens: list[int]
    gaps: list[float]  # HF top1 - top2 logit at each generated step


@dataclass
class PromptResult:
    prompt: str
    tokenizer_match: bool
    hf_tokens: list[int]
    gguf_tokens: list[int]
    matched: int  # length of the common prefix
    diverged_at: int | None
    gap_at_divergence: float | None

    @property
    def exact(self) -> bool:
        return self.diverged_at is None


@dataclass
class FileParity:
    file: str
    quant: str
    prompts: list[PromptResult] = field(default_factory=list)

    def summary(self, strict: bool) -> dict[str, Any]:
        total = sum(max(len(p.hf_tokens), len(p.gguf_tokens)) for p in self.prompts)
        matched = sum(p.matched for p in self.prompts)
        exact = sum(p.exact for p in self.prompts)
        tok_ok = all(p.tokenizer_match for p in self.prompts)
        real = [p for p in self.prompts if not p.exact and (p.gap_at_divergence or 0.0) >= TIE_GAP]
        if not tok_ok:
            status = "fail"
        elif exact == len(self.prompts):
            status = "pass"
        elif not strict:
            status = "reported"
        else:
            status = "fail" if real else "tie"
        return {
            "status": status,
            "strict": strict,
            "prompts_exact": f"{exact}/{len(self.prompts)}",
            "token_agreement": round(matched / total, 4) if total else 1.0,
            "tokenizer_match": tok_ok,
            "details": [asdict(p) for p in self.prompts],
        }


def default_prompts() -> list[str]:
    text = (
        resources.files("kodeio")
        .joinpath("templates/export/parity_prompts.json")
        .read_text(encoding="utf-8")
    )
    return list(json.loads(text))


def _stop_ids(model_dir: Path, tokenizer: Any) -> set[int]:
    ids: set[int] = set()
    gen = model_dir / "generation_config.json"
    if gen.is_file():
        eos = json.loads(gen.read_text()).get("eos_token_id")
        ids.update(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    return ids


def render_prompt(tokenizer: Any, prompt: str) -> str:
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )
    return prompt


def hf_reference(model_dir: Path, prompts: list[str], max_tokens: int) -> list[Reference]:
    """Greedy tokens from the merged HF model, computed in float32."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    stops = _stop_ids(model_dir, tokenizer)
    refs = []
    with torch.inference_mode():
        for prompt in prompts:
            text = render_prompt(tokenizer, prompt)
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            tokens, gaps = [], []
            past = None
            inp = torch.tensor([ids])
            for _ in range(max_tokens):
                out = model(input_ids=inp, past_key_values=past, use_cache=True)
                past = out.past_key_values
                logits = out.logits[0, -1]
                top = torch.topk(logits, 2)
                tok = int(top.indices[0])
                tokens.append(tok)
                gaps.append(float(top.values[0] - top.values[1]))
                if tok in stops:
                    break
                inp = torch.tensor([[tok]])
            refs.append(Reference(prompt=text, prompt_ids=list(ids), tokens=tokens, gaps=gaps))
    return refs


def gguf_greedy(
    gguf_path: Path, refs: list[Reference], max_tokens: int, stops: set[int]
) -> list[PromptResult]:
    import numpy as np
    from llama_cpp import Llama

    n_ctx = max(len(r.prompt_ids) for r in refs) + max_tokens + 8
    llm = Llama(
        model_path=str(gguf_path),
        n_ctx=max(n_ctx, 64),
        n_threads=llama_threads(),
        verbose=False,
        seed=0,
    )
    try:
        n_vocab = llm.n_vocab()
        eos = llm.token_eos()
        stops = stops | ({eos} if eos is not None and eos >= 0 else set())
        results = []
        for ref in refs:
            gguf_ids = llm.tokenize(ref.prompt.encode("utf-8"), add_bos=False, special=True)
            llm.reset()
            llm.eval(ref.prompt_ids)
            tokens: list[int] = []
            for _ in range(max_tokens):
                # Without logits_all the bindings keep no scores; read the last row directly.
                logits = np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(n_vocab,))
                tok = int(np.argmax(logits))
                tokens.append(tok)
                if tok in stops:
                    break
                llm.eval([tok])
            matched = 0
            for x, y in zip(ref.tokens, tokens, strict=False):
                if x != y:
                    break
                matched += 1
            same = tokens == ref.tokens
            results.append(
                PromptResult(
                    prompt=ref.prompt,
                    tokenizer_match=list(gguf_ids) == ref.prompt_ids,
                    hf_tokens=ref.tokens,
                    gguf_tokens=tokens,
                    matched=matched,
                    diverged_at=None if same else matched,
                    gap_at_divergence=None
                    if same or matched >= len(ref.gaps)
                    else round(ref.gaps[matched], 5),
                )
            )
        return results
    finally:
        llm.close()


def check_files(
    model_dir: Path,
    ggufs: dict[str, Path],
    prompts: list[str],
    max_tokens: int,
    strict_types: tuple[str, ...],
) -> dict[str, dict[str, Any]]:
    """Parity summary per quant name (as written into the manifest)."""
    from transformers import AutoTokenizer

    refs = hf_reference(model_dir, prompts, max_tokens)
    stops = _stop_ids(model_dir, AutoTokenizer.from_pretrained(model_dir))
    out = {}
    for quant, path in ggufs.items():
        parity = FileParity(
            file=path.name, quant=quant, prompts=gguf_greedy(path, refs, max_tokens, stops)
        )
        out[quant] = parity.summary(strict=quant in strict_types)
    return out
