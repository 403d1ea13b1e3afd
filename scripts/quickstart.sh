#!/usr/bin/env bash
# Set up if needed, then run the whole pipeline on the embedded default: CPU, offline,
# SmolLM2-135M-Instruct, the shipped seed corpus and Korean sample. Extra arguments are
# passed to `kodeio run` (e.g. --set run_dir=runs/mine, --from train).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
cd "$ROOT"
exec .venv/bin/kodeio run --config configs/quickstart-cpu.yaml "$@"
