"""Which chat template trains the assistant's reasoning, and a probe that proves it does.

DeepSeek-R1-Distill's inference template deletes everything up to `</think>` from assistant
turns, so naive conversational SFT trains on answers with the reasoning removed. TRL's
`assistant_only_loss=True` swaps in `trl/chat_templates/deepseek_r1_distill_training.jinja`
for that family (kept as is, with `{% generation %}` markers and no `</think>` split). For
families TRL does not map we ship our own training templates under
`kodeio/templates/train/`, and a user can pass one with `train.chat_template`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from kodeio.errors import ConfigError

log = logging.getLogger(__name__)

_GENERATION = re.compile(r"\{%-?\s*generation\s*-?%\}")
PROBE = [
    {"role": "user", "content": "PROBE-USER-TURN what is 2+2?"},
    {
        "role": "assistant",
        "content": "<think>\nPROBE-REASONING two plus two\n</think>\n\nPROBE-ANSWER 4",
    },
]


@dataclass
class TrainingTemplate:
    template: str  # the template the trainer tokenizes with (has generation markers)
    inference_template: str  # what is saved with the adapter
    source: str  # where the training template came from, for the log


def has_generation_markers(template: str) -> bool:
    return bool(_GENERATION.search(template))


def bundled_template(name: str) -> str:
    return resources.files("kodeio").joinpath(f"templates/train/{name}").read_text(encoding="utf-8")


def _trl_template(name: str) -> str:
    import trl

    return (Path(trl.__file__).parent / "chat_templates" / name).read_text(encoding="utf-8")


def choose_training_template(tokenizer: Any, override: Path | None = None) -> TrainingTemplate:
    """Pick the training template for this tokenizer's family; ConfigError if none is known."""
    current = tokenizer.chat_template
    if isinstance(current, dict):
        current = current.get("default")
    if not current:
        raise ConfigError(
            "the model's tokenizer has no chat template; set train.chat_template to a .jinja file"
        )
    if override is not None:
        if not override.is_file():
            raise ConfigError(f"train.chat_template: {override} not found")
        text = override.read_text(encoding="utf-8")
        if not has_generation_markers(text):
            raise ConfigError(
                f"train.chat_template: {override} has no {{% generation %}} markers around assistant turns"
            )
        return TrainingTemplate(text, current, str(override))
    if has_generation_markers(current):
        return TrainingTemplate(
            current, current, "the model's own template (has generation markers)"
        )

    from trl.chat_template_utils import get_training_chat_template

    try:
        trl_choice = get_training_chat_template(processing_class=tokenizer)
    except Exception as exc:  # a template TRL cannot render with its probes
        log.debug("TRL could not map the chat template: %s", exc)
        trl_choice = None
    if trl_choice is not None:
        return TrainingTemplate(
            trl_choice, current, "TRL's training template for this family (assistant_only_loss)"
        )
    if "<｜Assistant｜>" in current and "</think>" in current:
        # An R1-distill template that differs from TRL's copy (e.g. a re-upload with edits).
        log.warning(
            "R1-distill chat template differs from TRL's copy; training with TRL's R1 training template"
        )
        return TrainingTemplate(
            _trl_template("deepseek_r1_distill_training.jinja"),
            current,
            "TRL R1-distill (by markers)",
        )
    if "<|im_start|>" in current:
        return TrainingTemplate(
            bundled_template("chatml_training.jinja"), current, "kodeio ChatML training template"
        )
    raise ConfigError(
        "no training chat template known for this model family; set train.chat_template to a copy of the "
        "model's template with {% generation %}...{% endgeneration %} around each assistant turn"
    )


def trained_text(
    tokenizer: Any, messages: list[dict[str, str]], template: str
) -> tuple[str, str, list[int], list[int]]:
    """(full text, text of the trained tokens, ids, mask) of one conversation under `template`."""
    out = tokenizer.apply_chat_template(
        messages,
        chat_template=template,
        tokenize=True,
        return_dict=True,
        return_assistant_tokens_mask=True,
    )
    ids, mask = list(out["input_ids"]), list(out["assistant_masks"])
    full = tokenizer.decode(ids)
    trained = tokenizer.decode([i for i, m in zip(ids, mask, strict=True) if m])
    return full, trained, ids, mask


def verify_training_template(tokenizer: Any, chosen: TrainingTemplate) -> float:
    """Render a probe conversation; the trained tokens must hold reasoning, answer and EOS, not the user turn.

    Returns the trained fraction of the probe's tokens.
    """
    _, trained, ids, mask = trained_text(tokenizer, PROBE, chosen.template)
    eos = tokenizer.eos_token
    problems = []
    if "PROBE-REASONING" not in trained:
        problems.append("the reasoning inside <think> is not trained")
    if "PROBE-ANSWER" not in trained:
        problems.append("the answer is not trained")
    if eos and not trained.rstrip().endswith(eos):
        problems.append(
            f"the end-of-turn token {eos!r} is not trained (the model would never stop)"
        )
    if "PROBE-USER-TURN" in trained:
        problems.append("the user turn is trained")
    if problems:
        raise ConfigError(f"training chat template ({chosen.source}): " + "; ".join(problems))
    return sum(mask) / max(1, len(ids))
