"""Run by tests/synth/test_cpu_binding.py in a subprocess: kodeio's vLLM backend starts on a
tiny model, decodes, and reports the CPU affinity of every thread of every engine process.

Prints one line 'AFFINITY {"env": {VLLM_CPU_*: ...}, "processes": [{"name", "cpus": {list: n}}]}'
(marked, because vLLM logs to stdout too).
"""

from __future__ import annotations

import json
import os
import sys


def main(model_dir: str) -> None:
    import psutil

    from kodeio.cpu import thread_cpus
    from kodeio.llm.base import GenRequest
    from kodeio.llm.config import VllmConfig
    from kodeio.llm.vllm_backend import VllmBackend

    config = VllmConfig(kv_cache_gb=0.25, max_model_len=512, dtype="float32")
    backend = VllmBackend(model_dir, config, seed=0)
    request = GenRequest(
        key="k",
        messages=({"role": "user", "content": "What is 12 + 30?"},),
        n=1,
        max_tokens=8,
        temperature=0.0,
        top_p=1.0,
        seed=0,
    )
    list(backend.generate([request]))
    me = psutil.Process()
    processes = [
        {"name": proc.name(), "cpus": thread_cpus(proc.pid)}
        for proc in [me, *me.children(recursive=True)]
    ]
    env = {k: v for k, v in os.environ.items() if k.startswith("VLLM_CPU_")}
    print("AFFINITY " + json.dumps({"env": env, "processes": processes}), flush=True)
    backend.close()


if __name__ == "__main__":
    main(sys.argv[1])
