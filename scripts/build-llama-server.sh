#!/usr/bin/env bash
# Build llama.cpp's own `llama-server` (continuous batching with --parallel) from the
# llama-cpp-python sdist that setup.sh caches, once, and cache the binary:
#   $KODEIO_CACHE/llama.cpp/<version>/bin/llama-server
# Only the llama-server target is built, statically linked, GGML_NATIVE=OFF like the wheel
# (portable AVX2/FMA/F16C kernels, so the binary runs on every CPU kodeio supports).
# Usage: scripts/build-llama-server.sh   (prints the binary's path; rebuilds nothing if cached)
set -euo pipefail

LLAMA_CPP_VERSION="${LLAMA_CPP_VERSION:-0.3.36}"
KODEIO_CACHE="${KODEIO_CACHE:-$HOME/.cache/kodeio}"
sdist="$KODEIO_CACHE/sdist/llama_cpp_python-$LLAMA_CPP_VERSION.tar.gz"
out="$KODEIO_CACHE/llama.cpp/$LLAMA_CPP_VERSION/bin"
binary="$out/llama-server"

if [[ -x "$binary" ]]; then
  echo "$binary"
  exit 0
fi
if [[ ! -f "$sdist" ]]; then
  echo "build-llama-server: $sdist is missing; run scripts/setup.sh first (it downloads the sdist)" >&2
  exit 1
fi
for tool in cmake g++; do
  command -v "$tool" >/dev/null || { echo "build-llama-server: needs $tool on PATH" >&2; exit 1; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/kodeio-llama-server.XXXXXX")"
trap 'rm -rf "$work"' EXIT
tar -xzf "$sdist" -C "$work" "llama_cpp_python-$LLAMA_CPP_VERSION/vendor/llama.cpp"
src="$work/llama_cpp_python-$LLAMA_CPP_VERSION/vendor/llama.cpp"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
echo "build-llama-server: building llama-server $LLAMA_CPP_VERSION (once, a few minutes)" >&2
cmake -S "$src" -B "$work/build" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DBUILD_SHARED_LIBS=OFF \
  -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
  -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON >"$work/configure.log" 2>&1 \
  || { tail -n 30 "$work/configure.log" >&2; exit 1; }
cmake --build "$work/build" --target llama-server -j "${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
  >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; exit 1; }
mkdir -p "$out"
# Copy under a temporary name first so an interrupted copy never looks like a cached binary.
cp "$work/build/bin/llama-server" "$binary.tmp"
mv "$binary.tmp" "$binary"
echo "$binary"
