"""llama.cpp without the network: find the converter, run it, quantize with the bindings.

Where the converter comes from, first match wins:

1. `--llama-cpp DIR` (config `llama_cpp`), or the `KODEIO_LLAMA_CPP` environment variable: a
   user's own llama.cpp checkout.
2. The kodeio cache: `<cache>/llama.cpp/<version>/`, extracted once from the
   `llama-cpp-python` sdist that matches the installed bindings. That sdist vendors the whole
   llama.cpp tree (converter, `conversion/`, `gguf-py/`). It is looked for in
   `<cache>/sdist/`, and `kodeio export setup` downloads it from PyPI (pinned to the
   installed version) when missing, so export time itself needs no network.

Quantizing to k-quants uses `llama_cpp.llama_model_quantize` from the installed bindings, in
a child process so llama.cpp's C logging and any crash stay out of the caller.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path

from kodeio import crash
from kodeio.cpu import llama_threads
from kodeio.errors import InputError
from kodeio.export.gguf_convert import EXIT_UNKNOWN_PRE_TOKENIZER
from kodeio.export.quants import QUANTIZER_TYPES
from kodeio.models import cache_root

ENV_LLAMA_CPP = "KODEIO_LLAMA_CPP"
_CONVERTER = "convert_hf_to_gguf.py"
_WRAPPER = Path(__file__).with_name("gguf_convert.py")
# Parts of the vendored tree the converter needs; the C++ sources are not extracted.
_NEEDED = ("convert_hf_to_gguf.py", "conversion/", "gguf-py/", "LICENSE")


def bindings_version() -> str:
    try:
        return metadata.version("llama-cpp-python")
    except metadata.PackageNotFoundError:
        raise InputError(
            "llama-cpp-python is not installed; install kodeio's `gguf` extra "
            "(pip install 'kodeio[gguf]') to export GGUF files"
        ) from None


def _is_tree(path: Path) -> bool:
    return (path / _CONVERTER).is_file() and (path / "gguf-py" / "gguf").is_dir()


def sdist_path(version: str) -> Path:
    return cache_root() / "sdist" / f"llama_cpp_python-{version}.tar.gz"


def fetch_sdist(version: str) -> Path:
    """Download the pinned llama-cpp-python sdist from PyPI into the cache (set-up time)."""
    target = sdist_path(version)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
            f"llama-cpp-python=={version}", "-d", tmp,
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True)
        found = list(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
        if proc.returncode != 0 or not found:
            last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise InputError(
                f"could not download llama-cpp-python=={version} sdist from PyPI ({last[0]}); "
                f"put it at {target} or pass --llama-cpp DIR (a llama.cpp checkout)"
            )
        os.replace(found[0], target)
    return target


def extract_tree(sdist: Path, dest: Path) -> Path:
    """Extract the converter parts of vendor/llama.cpp from the sdist into `dest` (atomic)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".", dir=dest.parent))
    try:
        with tarfile.open(sdist, "r:gz") as tar:
            members = []
            for member in tar.getmembers():
                parts = member.name.split("/", 3)
                if len(parts) < 4 or parts[1:3] != ["vendor", "llama.cpp"]:
                    continue
                rel = parts[3]
                if any(rel == n or (n.endswith("/") and rel.startswith(n)) for n in _NEEDED):
                    member.name = rel
                    members.append(member)
            tar.extractall(tmp, members=members, filter="data")
        if not _is_tree(tmp):
            raise InputError(
                f"{sdist}: no vendor/llama.cpp/{_CONVERTER} inside; not a llama-cpp-python sdist"
            )
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def find_llama_cpp(user_dir: str | Path | None = None, fetch: bool = False) -> Path:
    """The llama.cpp tree to convert with (see the module docstring for the order)."""
    chosen = user_dir or os.environ.get(ENV_LLAMA_CPP)
    if chosen:
        path = Path(chosen).expanduser()
        source = "--llama-cpp" if user_dir else ENV_LLAMA_CPP
        if not _is_tree(path):
            raise InputError(
                f"{source} {path}: expected a llama.cpp checkout with {_CONVERTER} and gguf-py/"
            )
        return path
    version = bindings_version()
    cached = cache_root() / "llama.cpp" / version
    if _is_tree(cached):
        return cached
    sdist = sdist_path(version)
    if not sdist.is_file():
        if not fetch:
            raise InputError(
                f"llama.cpp converter not set up: run `kodeio export setup` once (downloads "
                f"llama-cpp-python=={version} sdist from PyPI), or pass --llama-cpp DIR"
            )
        sdist = fetch_sdist(version)
    return extract_tree(sdist, cached)


def _child_env() -> dict[str, str]:
    """The environment for llama.cpp children: offline, and without secrets."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not any(s in k.upper() for s in ("TOKEN", "API_KEY", "SECRET", "PASSWORD"))
    }
    env["HF_HUB_OFFLINE"] = "1"
    env["TRANSFORMERS_OFFLINE"] = "1"
    env.pop("NO_LOCAL_GGUF", None)
    # A native crash writes its Python traceback into the log, which names the library.
    env["PYTHONFAULTHANDLER"] = "1"
    return env


def _signal_death(returncode: int, log_text: str, action: str) -> InputError | None:
    """One line for a child killed by a signal (SIGILL on a CPU the build does not fit)."""
    if crash.signal_of(returncode) is None:
        return None
    library = crash.library_in(log_text) or "llama.cpp"
    return InputError(crash.describe(returncode, library=library, action=action))


def convert(
    llama_dir: Path,
    model_dir: Path,
    outfile: Path,
    outtype: str,
    log_path: Path,
    vocab_only: bool = False,
) -> None:
    """Run llama.cpp's converter (wrapped for pre-tokenizer recognition) on an HF model."""
    cmd = [
        sys.executable, str(_WRAPPER), str(llama_dir), str(model_dir),
        "--outtype", outtype, "--outfile", str(outfile),
    ]  # fmt: skip
    if vocab_only:
        cmd.append("--vocab-only")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=_child_env())
    text = log_path.read_text(encoding="utf-8", errors="replace")
    if proc.returncode == EXIT_UNKNOWN_PRE_TOKENIZER:
        detail = next(
            (
                ln.split(" ", 1)[1]
                for ln in text.splitlines()
                if ln.startswith("KODEIO_UNKNOWN_PRE")
            ),
            str(model_dir / "tokenizer.json"),
        )
        raise InputError(
            f"unknown tokenizer: {detail} is not a pre-tokenizer llama.cpp knows (by vocabulary "
            "hash or split rules: qwen2, llama-bpe, smollm, gpt-2); keep the base model's "
            "tokenizer.json pre_tokenizer when adding tokens, or pass --llama-cpp DIR with a "
            "llama.cpp whose convert_hf_to_gguf_update.py lists this tokenizer"
        )
    died = _signal_death(proc.returncode, text, f"no GGUF was written (log: {log_path})")
    if died:
        raise died
    if proc.returncode != 0 or not outfile.is_file():
        tail = " | ".join(ln.strip() for ln in text.strip().splitlines()[-3:])
        raise InputError(
            f"llama.cpp converter failed on {model_dir} (exit {proc.returncode}): {tail} "
            f"(full log: {log_path})"
        )


def recognized_pre_tokenizer(log_path: Path) -> str | None:
    """The pre-tokenizer the wrapper recognized by split rules, if it had to."""
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("KODEIO_PRE_TOKENIZER "):
            return line.split()[1]
    return None


def quantize(src: Path, dst: Path, quant: str, log_path: Path, threads: int | None = None) -> None:
    """Quantize an f16/bf16/f32 GGUF to a k-quant (etc.) with llama.cpp's quantizer."""
    if quant not in QUANTIZER_TYPES:
        raise InputError(f"quantization {quant!r} is not made by the quantizer")
    cmd = [
        sys.executable, "-m", "kodeio.export.llamacpp", str(src), str(dst),
        QUANTIZER_TYPES[quant], str(threads or llama_threads()),
    ]  # fmt: skip
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=_child_env())
    died = _signal_death(
        proc.returncode,
        log_path.read_text(encoding="utf-8", errors="replace"),
        f"the {quant} GGUF was not made (log: {log_path})",
    )
    if died:
        raise died
    if proc.returncode != 0 or not dst.is_file():
        text = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        raise InputError(
            f"llama.cpp quantizer failed for {quant} (exit {proc.returncode}): "
            f"{' | '.join(text[-2:])} (full log: {log_path})"
        )


def _quantize_main(src: str, dst: str, ftype_name: str, threads: str) -> int:
    import ctypes

    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{ftype_name}")
    params.nthread = int(threads)
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params))
    return int(rc)


if __name__ == "__main__":
    raise SystemExit(_quantize_main(*sys.argv[1:5]))
