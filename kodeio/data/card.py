"""The dataset card (README.md) of a mixed dataset: counts, token statistics, licenses.

The YAML header follows the Hub's dataset-card metadata (license, language, configs with
data_files), so the card also drives the Hub viewer after `--push-to-hub`. Nothing in here
comes from the environment: no tokens, no user names, no absolute paths.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

import yaml


def token_stats(lengths: Sequence[int | None]) -> dict[str, Any]:
    values = sorted(v for v in lengths if v is not None)
    if not values:
        return {"count": len(lengths), "tokens": None}
    p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
    return {
        "count": len(values),
        "tokens": sum(values),
        "mean": round(statistics.fmean(values), 1),
        "median": statistics.median(values),
        "p95": p95,
        "min": values[0],
        "max": values[-1],
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render_card(stats: dict[str, Any], card: dict[str, Any], splits: Sequence[str]) -> str:
    """Markdown card from the mix statistics (see kodeio.data.mix.stats.mix_stats)."""
    licenses = sorted({s["license"] for s in stats["sources"] if s.get("license")})
    meta: dict[str, Any] = {
        "language": card.get("language") or ["ko", "en"],
        "license": card.get("license") or ("other" if licenses else "unknown"),
        "task_categories": ["text-generation"],
        "tags": ["kodeio", "reasoning", "codeio", "korean", "sft"],
        "pretty_name": card.get("title") or "kodeio training mix",
        "configs": [
            {
                "config_name": "default",
                "data_files": [
                    {"split": split, "path": f"data/{split}-*.parquet"} for split in splits
                ],
            }
        ],
    }
    header = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).strip()
    lines = [
        "---",
        header,
        "---",
        "",
        f"# {meta['pretty_name']}",
        "",
    ]
    if card.get("description"):
        lines += [card["description"].strip(), ""]
    lines += [
        "Built with `kodeio data mix`. Every row is a chat conversation (`messages`: "
        "user/assistant turns); assistant turns keep R1-style `<think>…</think>` reasoning "
        "before the final answer.",
        "",
        "## Columns",
        "",
        "| column | type | meaning |",
        "|---|---|---|",
        "| `id` | string | unique id: `<source>:<original id>` (`#k` suffix on upsampled copies) |",
        "| `source` | string | name of the source in the mix config |",
        "| `messages` | list of {role, content} | the conversation |",
        "| `num_tokens` | int or null | length under the configured tokenizer (null without one) |",
        "| `mode` | string or null | trace rows: the task, `output` or `input` prediction |",
        "| `turn` | int or null | trace rows: assistant turns (1 first answer, 2 after a revision) |",
        "",
        "## Sources",
        "",
        "| source | kind | license | read | duplicates removed | length-filtered | unique used | "
        + " | ".join(splits)
        + " | train rows per unique row |",
        "|---|---|---|---|---|---|---|" + "---|" * len(splits) + "---|",
    ]
    for s in stats["sources"]:
        counts = " | ".join(_fmt(s["rows"].get(split, 0)) for split in splits)
        lines.append(
            f"| {s['name']} | {s['kind']} | {s.get('license') or '–'} | {_fmt(s['read'])} | "
            f"{_fmt(s['duplicates_exact'] + s['duplicates_near'])} | {_fmt(s['length_filtered'])} | "
            f"{_fmt(s['unique'])} | {counts} | ×{s['upsample_factor']:.2f}"
            + (" (capped)" if s.get("capped") else "")
            + " |"
        )
    total = " | ".join(_fmt(stats["splits"][split]["count"]) for split in splits)
    lines += [f"| **total** | | | | | | | {total} | |", ""]
    lines += _length_filtered_by_turn(stats["sources"])
    tokenizer = stats.get("tokenizer")
    lines += ["## Token statistics", ""]
    if tokenizer:
        lines += [
            f"Tokenizer: `{tokenizer}` (message contents plus {stats['message_overhead']} "
            "tokens of chat markup per message).",
            "",
            "| source | split | rows | tokens | mean | median | p95 | max |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for s in stats["sources"]:
            for split in splits:
                t = s["tokens"][split]
                lines.append(
                    f"| {s['name']} | {split} | {_fmt(t['count'])} | {_fmt(t.get('tokens'))} | "
                    f"{_fmt(t.get('mean'))} | {_fmt(t.get('median'))} | {_fmt(t.get('p95'))} | "
                    f"{_fmt(t.get('max'))} |"
                )
        for split in splits:
            t = stats["splits"][split]["tokens"]
            lines.append(
                f"| **all** | {split} | {_fmt(t['count'])} | {_fmt(t.get('tokens'))} | "
                f"{_fmt(t.get('mean'))} | {_fmt(t.get('median'))} | {_fmt(t.get('p95'))} | "
                f"{_fmt(t.get('max'))} |"
            )
    else:
        lines.append("No tokenizer was configured, so no token statistics were computed.")
    lines += quality_sections(stats.get("quality") or {})
    lines += [
        "",
        "## Licenses",
        "",
        "Each source keeps its own license; the mix is usable only under all of them.",
        "",
    ]
    for s in stats["sources"]:
        lines.append(f"- **{s['name']}**: {s.get('license') or 'not stated in the mix config'}")
    lines += [
        "",
        "## Processing",
        "",
        f"- seed {stats['seed']}; exact dedup: {stats['dedup']['exact']}; near dedup "
        f"(MinHash, {stats['dedup']['num_perm']} permutations, {stats['dedup']['ngram']}-char "
        f"shingles, Jaccard ≥ {stats['dedup']['threshold']}): {stats['dedup']['near']}",
        f"- length filter: {stats['length_filter']}",
        f"- eval split: {stats['eval_fraction']:.1%} of each source (stratified), drawn before "
        "upsampling so no eval row has a copy in train",
        f"- content fingerprint: `{stats['fingerprint']}`",
        "",
    ]
    return "\n".join(lines)


def _length_filtered_by_turn(sources: list[dict[str, Any]]) -> list[str]:
    """Trace rows the length filter dropped, by task mode and turn (none: no section)."""
    rows = [
        (s["name"], group, n)
        for s in sources
        for group, n in (s.get("length_filtered_by_turn") or {}).items()
    ]
    if not rows:
        return []
    lines = [
        "Trace rows over the length limit, by task mode and assistant turns (a revised "
        "conversation carries both turns' reasoning, so it is the first to run long):",
        "",
        "| source | mode/turn | length-filtered |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {group} | {_fmt(n)} |" for name, group, n in rows]
    return [*lines, ""]


def quality_sections(quality: dict[str, Any]) -> list[str]:
    """Difficulty bands and language_mismatch counts of trace sources (see
    kodeio.data.mix.stats.quality_stats); nothing for mixes without them."""
    from kodeio.synth.card import yield_by_turn_section
    from kodeio.synth.difficulty import BANDS

    lines: list[str] = []
    if "removed" in quality:
        lines += [
            "",
            "## Removed by cleaning",
            "",
            "Seeds `kodeio io clean` removed before any trace was made (docs/data-quality.md).",
            "",
            "| reason | benchmark | method | seeds |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {r['reason']} | {r['benchmark']} | {r['method']} | {_fmt(r['seeds'])} |"
            for r in quality["removed"]
        ]
        if not quality["removed"]:
            lines.append("| – | – | – | 0 |")
    for name, y in (quality.get("yield_by_turn") or {}).items():
        turns = {int(t): n for t, n in y["verified_by_turn"].items()}
        section = yield_by_turn_section(turns, y["traces"])
        lines += ["", section[0] + f" ({name})", *section[1:-1]]
    if quality.get("difficulty"):
        lines += [
            "",
            "## Difficulty",
            "",
            "Rows of the mix per pass-rate band of their pair (`kodeio synth run` with "
            "n_samples > 1; limits in `synth.difficulty`).",
            "",
            "| source | " + " | ".join(BANDS) + " |",
            "|---|" + "---|" * len(BANDS),
        ]
        for name, bands in quality["difficulty"].items():
            lines.append(f"| {name} | " + " | ".join(_fmt(bands.get(b, 0)) for b in BANDS) + " |")
    if quality.get("language_mismatch"):
        lines += [
            "",
            "## Language consistency (Korean)",
            "",
            "Verified traces whose Korean reasoning drifted into another language "
            "(`language_mismatch`, see docs/data-quality.md).",
            "",
            "| source | rows marked | in the mix |",
            "|---|---|---|",
        ]
        for name, m in quality["language_mismatch"].items():
            lines.append(f"| {name} | {_fmt(m['rows'])} | {'kept' if m['kept'] else 'left out'} |")
    return lines
