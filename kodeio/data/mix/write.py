"""Writing the mix: `DatasetDict(train, eval)` saved to DIR with its card, stats and config.

DIR is built in a temp dir beside it and swapped in, so a crash never leaves half a dataset.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from kodeio.data.mix.config import SPLITS, MixConfig
from kodeio.data.mix.plan import MixResult
from kodeio.data.mix.sources import Sample
from kodeio.errors import InputError


def to_dataset_dict(splits: dict[str, list[Sample]]) -> Any:
    import datasets

    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "source": datasets.Value("string"),
            "messages": datasets.List(
                {"role": datasets.Value("string"), "content": datasets.Value("string")}
            ),
            "num_tokens": datasets.Value("int64"),
            # Trace rows only (null elsewhere): task mode and assistant turns, see docs/data.md.
            "mode": datasets.Value("string"),
            "turn": datasets.Value("int64"),
        }
    )
    return datasets.DatasetDict(
        {
            split: datasets.Dataset.from_dict(
                {
                    "id": [s.id for s in rows],
                    "source": [s.source for s in rows],
                    "messages": [s.messages for s in rows],
                    "num_tokens": [s.num_tokens for s in rows],
                    "mode": [s.mode for s in rows],
                    "turn": [s.turn for s in rows],
                },
                features=features,
                split=datasets.NamedSplit(split),
            )
            for split, rows in splits.items()
        }
    )


def write_mix(result: MixResult, config: MixConfig) -> Path:
    """Write DIR atomically: build in a temp dir beside it, then swap it in."""
    import datasets

    from kodeio.data.card import render_card

    out = config.output
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists() and not (out / "dataset_dict.json").is_file() and any(out.iterdir()):
        raise InputError(f"{out}: exists and is not a kodeio mix directory; refusing to replace it")
    datasets.disable_progress_bars()
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        dataset = to_dataset_dict(result.splits)
        dataset.save_to_disk(str(tmp))
        _write_copies(tmp, dataset, result.splits, config.formats)
        card = config.card.model_dump()
        (tmp / "README.md").write_text(render_card(result.stats, card, SPLITS), encoding="utf-8")
        (tmp / "mix_stats.json").write_text(
            json.dumps(result.stats, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        (tmp / "mix_config.yaml").write_text(_config_yaml(config), encoding="utf-8")
        _swap_in(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def _write_copies(
    tmp: Path, dataset: Any, splits: dict[str, list[Sample]], formats: list[str]
) -> None:
    """The extra copies of each split asked for in `formats`: FORMAT/SPLIT.{parquet,jsonl}."""
    from kodeio.files import write_jsonl

    for fmt in formats:
        (tmp / fmt).mkdir()
        for split in SPLITS:
            if fmt == "parquet":
                dataset[split].to_parquet(str(tmp / fmt / f"{split}.parquet"))
            else:
                write_jsonl(
                    tmp / fmt / f"{split}.jsonl",
                    (
                        {
                            "id": s.id,
                            "source": s.source,
                            "messages": s.messages,
                            "num_tokens": s.num_tokens,
                            "mode": s.mode,
                            "turn": s.turn,
                        }
                        for s in splits[split]
                    ),
                )


def _swap_in(tmp: Path, out: Path) -> None:
    # Move the old directory aside first: os.replace cannot replace a non-empty directory.
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _config_yaml(config: MixConfig) -> str:
    import yaml

    data = config.model_dump(mode="json", exclude={"output", "push_to_hub", "shard"})
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
