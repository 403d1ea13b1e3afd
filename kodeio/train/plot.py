"""The loss curve and GRPO reward curve PNGs (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_loss(log_history: list[dict[str, Any]], path: Path, title: str) -> bool:
    """Write train (and eval, if logged) loss against step. Returns False if nothing was logged."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = [(e["step"], e["loss"]) for e in log_history if "loss" in e and "step" in e]
    evals = [(e["step"], e["eval_loss"]) for e in log_history if "eval_loss" in e]
    if not train and not evals:
        return False
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    if train:
        ax.plot(*zip(*train, strict=True), label="train loss", linewidth=1.2)
    if evals:
        ax.plot(*zip(*evals, strict=True), "o-", label="eval loss")
    _save(fig, ax, "loss", title, path)
    return True


def plot_rewards(log_history: list[dict[str, Any]], path: Path, title: str) -> bool:
    """Write GRPO's reward mean (with its std band) and verified rate against step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [e for e in log_history if "reward" in e and "step" in e]
    if not rows:
        return False
    steps = [e["step"] for e in rows]
    mean = [e["reward"] for e in rows]
    std = [e.get("reward_std", 0.0) for e in rows]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    ax.plot(steps, mean, label="reward mean", linewidth=1.2)
    lo = [m - s for m, s in zip(mean, std, strict=True)]
    hi = [m + s for m, s in zip(mean, std, strict=True)]
    ax.fill_between(steps, lo, hi, alpha=0.2, label="± std")
    verified = [(e["step"], e["verified_rate"]) for e in rows if e.get("verified_rate") is not None]
    if verified:
        ax.plot(*zip(*verified, strict=True), "o-", label="verified rate", markersize=3)
    _save(fig, ax, "reward", title, path)
    return True


def _save(fig: Any, ax: Any, ylabel: str, title: str, path: Path) -> None:
    """The axes both curves share, then the PNG, written whole or not at all."""
    import matplotlib.pyplot as plt

    from kodeio.files import atomic_path

    ax.set_xlabel("optimizer step")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
