"""`--push-to-hub`: upload a mixed dataset (parquet shards + README.md) with huggingface_hub.

The token comes from huggingface_hub itself (`HF_TOKEN`, or the cache written by
`hf auth login`); it is passed to the API call and nowhere else: never printed, logged or
written into the card or any file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from kodeio.errors import ConfigError, InputError

CARD = "README.md"


def hub_files(dataset_dir: Path, staging: Path) -> dict[str, Path]:
    """Files to upload, as path-in-repo -> local file: one parquet per split and the card.

    Parquet shards are written into `staging` from the saved DatasetDict, so pushing works
    whether or not the mix itself was asked for parquet.
    """
    from datasets import load_from_disk

    dataset = load_from_disk(str(dataset_dir))
    files: dict[str, Path] = {}
    for split in dataset:
        target = staging / f"{split}-00000-of-00001.parquet"
        dataset[split].to_parquet(str(target))
        files[f"data/{split}-00000-of-00001.parquet"] = target
    card = dataset_dir / CARD
    if not card.is_file():
        raise InputError(
            f"{dataset_dir}: no {CARD}; expected a directory written by kodeio data mix"
        )
    files[CARD] = card
    return files


def push_to_hub(dataset_dir: Path, repo_id: str, private: bool = True) -> str:
    """Create (if needed) the dataset repo and upload the files in one commit; returns its URL."""
    from huggingface_hub import CommitOperationAdd, HfApi, get_token

    token = get_token()
    if not token:
        raise ConfigError(
            "--push-to-hub: no Hugging Face token; set HF_TOKEN or run `hf auth login`"
        )
    api = HfApi(token=token)
    with tempfile.TemporaryDirectory(prefix="kodeio-push-") as tmp:
        files = hub_files(dataset_dir, Path(tmp))
        try:
            api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
            operations = [
                CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(path))
                for name, path in sorted(files.items())
            ]
            info = api.create_commit(
                repo_id,
                operations=operations,
                repo_type="dataset",
                commit_message="Upload kodeio training mix",
            )
        except Exception as exc:
            # Only the exception type and its first line: HTTP errors may echo headers.
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            raise InputError(
                f"--push-to-hub {repo_id}: upload failed ({type(exc).__name__}: {first.replace(token, '***')})"
            ) from None
    return str(getattr(info, "commit_url", "") or f"https://huggingface.co/datasets/{repo_id}")
