"""Export benchmark: streaming merge vs PEFT merge_and_unload, and GGUF conversion times.

For the tiny test model (Qwen2, hidden 256) and SmolLM2-135M-Instruct (`kodeio models
prepare smollm2-135m`), with a LoRA adapter (r=16 on all linear layers, random non-zero B):

- merge: kodeio's streamed merge (`kodeio.export.merge.merge_adapter`, bf16 out) against
  the baseline, PEFT `merge_and_unload()` + `save_pretrained` (bf16 out), each in a fresh
  child process; wall time and peak RSS (ru_maxrss) side by side, with ratios;
- GGUF: llama.cpp's converter to f16 and q8_0, and the quantizer to q4_k_m (wall time).

Usage: .venv/bin/python bench/export.py [--out docs/benchmarks/export.md]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def _make_adapter(base: Path, out: Path) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    peft = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules=targets))
    with torch.no_grad():
        for name, p in peft.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.01)
    peft.save_pretrained(out)


def worker(kind: str, base: str, adapter: str, out: str, shard: str) -> None:
    """Run one merge in this (fresh) process and print its seconds and peak RSS."""
    # Both sides import the same libraries before the clock starts (the export stage loads
    # transformers anyway), so time and RSS compare the merge itself.
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from kodeio.export.merge import merge_adapter

    t0 = time.perf_counter()
    if kind == "stream":
        merge_adapter(Path(adapter), Path(base), Path(out), dtype="bfloat16", max_shard_size=shard)
    else:
        model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.bfloat16)
        merged = PeftModel.from_pretrained(model, adapter).merge_and_unload()
        merged.save_pretrained(out, max_shard_size=shard)
    seconds = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": round(seconds, 2), "peak_rss_mb": round(rss_mb)}))


def _child(kind: str, base: Path, adapter: Path, out: Path, shard: str) -> dict:
    cmd = [sys.executable, str(HERE), "--worker", kind, str(base), str(adapter), str(out), shard]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_model(label: str, base: Path, work: Path, shard: str) -> dict:
    from kodeio.export.llamacpp import convert, find_llama_cpp, quantize

    adapter = work / "adapter"
    _make_adapter(base, adapter)
    row: dict = {
        "model": label,
        "base_mb": round(sum(f.stat().st_size for f in base.glob("*.safetensors")) / 1e6),
    }
    row["peft"] = _child("peft", base, adapter, work / "merged-peft", shard)
    row["stream"] = _child("stream", base, adapter, work / "merged", shard)
    llama = find_llama_cpp()
    for quant in ("f16", "q8_0"):
        t0 = time.perf_counter()
        convert(llama, work / "merged", work / f"m-{quant}.gguf", quant, work / f"{quant}.log")
        row[f"convert_{quant}_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    quantize(work / "m-f16.gguf", work / "m-q4_k_m.gguf", "q4_k_m", work / "q4.log")
    row["quantize_q4_k_m_s"] = round(time.perf_counter() - t0, 2)
    row["sizes_mb"] = {
        q: round((work / f"m-{q}.gguf").stat().st_size / 1e6, 1) for q in ("f16", "q8_0", "q4_k_m")
    }
    return row


def render(rows: list[dict]) -> str:
    lines = [
        "# Export benchmarks",
        "",
        "Machine: 2-core CPU (shared with other jobs), 24 GB RAM, no GPU. Date: 2026-11-30.",
        "Command: `.venv/bin/python bench/export.py` (each merge in a fresh process; peak RSS is",
        "the child's ru_maxrss, including the torch import).",
        "",
        "## Merge: kodeio streamed merge vs PEFT `merge_and_unload()` + `save_pretrained`",
        "",
        "| Model | Base checkpoint | PEFT time | kodeio time | time ratio | PEFT peak RSS | kodeio peak RSS | RSS ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        p, s = r["peft"], r["stream"]
        lines.append(
            f"| {r['model']} | {r['base_mb']} MB | {p['seconds']} s | {s['seconds']} s | "
            f"{p['seconds'] / s['seconds']:.2f}x | {p['peak_rss_mb']} MB | {s['peak_rss_mb']} MB | "
            f"{p['peak_rss_mb'] / s['peak_rss_mb']:.2f}x |"
        )
    lines += [
        "",
        "Ratios are PEFT / kodeio (above 1 means kodeio is faster or smaller).",
        "",
        "## GGUF conversion (llama.cpp's converter from the cached sdist) and quantization",
        "",
        "| Model | convert f16 | convert q8_0 | quantize q4_k_m | f16 size | q8_0 size | q4_k_m size |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        z = r["sizes_mb"]
        lines.append(
            f"| {r['model']} | {r['convert_f16_s']} s | {r['convert_q8_0_s']} s | {r['quantize_q4_k_m_s']} s | "
            f"{z['f16']} MB | {z['q8_0']} MB | {z['q4_k_m']} MB |"
        )
    lines += [
        "",
        "Converter times include starting Python and importing torch in the converter's child",
        "process (several seconds on this machine); the quantizer runs in the llama.cpp bindings.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(*sys.argv[2:7])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks/export.md"))
    parser.add_argument("--skip-smollm2", action="store_true")
    args = parser.parse_args()

    from kodeio.models import prepare_model
    from kodeio.testing.tiny import build_tiny_model

    rows = []
    with tempfile.TemporaryDirectory(prefix="kodeio-bench-export-") as tmp:
        work = Path(tmp)
        tiny = build_tiny_model(work / "tiny", hidden_size=256, num_heads=4)
        (work / "tiny-run").mkdir()
        rows.append(
            bench_model("tiny Qwen2 (hidden 256, 2 layers)", tiny, work / "tiny-run", "1MB")
        )
        print(json.dumps(rows[-1]), flush=True)
        if not args.skip_smollm2:
            smol = prepare_model("smollm2-135m")
            (work / "smol-run").mkdir()
            rows.append(bench_model("SmolLM2-135M-Instruct", smol, work / "smol-run", "100MB"))
            print(json.dumps(rows[-1]), flush=True)
        shutil.rmtree(work, ignore_errors=True)
    text = render(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
