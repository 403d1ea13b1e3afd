"""`--push-to-hub`: the token check before mixing, and the upload of the written dataset."""

from __future__ import annotations

from pathlib import Path

from kodeio.data.mix.config import MixConfig
from kodeio.errors import ConfigError


def check_hub_token(config: MixConfig) -> None:
    if config.push_to_hub:
        from huggingface_hub import get_token

        if not get_token():  # fail before hours of mixing, not after
            raise ConfigError(
                "--push-to-hub: no Hugging Face token; set HF_TOKEN or run `hf auth login`"
            )


def publish(out: Path, config: MixConfig) -> None:
    if config.push_to_hub:
        from kodeio.data.hub import push_to_hub

        url = push_to_hub(out, config.push_to_hub, private=config.private)
        from kodeio.progress import console

        console.print(f"pushed to {url}", highlight=False)
