"""Upload an export to the Hugging Face Hub (`create_repo` + `upload_folder`).

The token comes from the environment (HF_TOKEN) or the `hf auth login` cache, through
huggingface_hub itself; kodeio never reads, prints or stores it.
"""

from __future__ import annotations

from pathlib import Path

from kodeio.errors import InputError

# Local-only files: conversion logs stay on the machine that made them.
IGNORE_PATTERNS = ["logs/*", "*.partial", "**/.*"]


def has_token() -> bool:
    from huggingface_hub import get_token

    return bool(get_token())


def require_token(repo_id: str) -> None:
    if not has_token():
        raise InputError(
            f"--push-to-hub {repo_id}: no Hugging Face token; set HF_TOKEN or run `hf auth login`"
        )


def upload_file_list(out_dir: Path) -> list[str]:
    """Exactly the files `push` uploads, relative to `out_dir`, sorted."""
    files = []
    for path in sorted(out_dir.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(out_dir).as_posix()
        if (
            rel.startswith("logs/")
            or rel.endswith(".partial")
            or any(p.startswith(".") for p in rel.split("/"))
        ):
            continue
        files.append(rel)
    return files


def push(out_dir: Path, repo_id: str, private: bool) -> str:
    """Create the repo if needed and upload the folder; returns the repo URL."""
    from huggingface_hub import HfApi

    require_token(repo_id)
    api = HfApi()
    try:
        url = api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        api.upload_folder(
            repo_id=repo_id,
            folder_path=str(out_dir),
            repo_type="model",
            ignore_patterns=IGNORE_PATTERNS,
            commit_message="Upload kodeio export",
        )
    except Exception as exc:  # HTTP, auth and network errors: one line, never the token
        raise InputError(
            f"--push-to-hub {repo_id}: upload failed ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
        ) from None
    return str(url)
