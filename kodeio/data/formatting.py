"""Every source becomes chat `messages` (user/assistant) through the templates in
`kodeio/templates/data/`.

The assistant turn always has the R1 shape `<think>\\n{reasoning}\\n</think>\\n\\n{answer}`:
reasoning from the source stays inside the think block (never dropped), and a source
without reasoning gets an empty block when `think_missing="empty"` (the default), so every
sample teaches the same structure. `think_missing="none"` writes the bare answer instead.

`formatting_prompts_func` is the project brief's function of the same name, rebuilt on the
template files: a batched `datasets.map` function that turns question / reasoning / response
columns into one flat `text` column in the brief's prompt_style, ending in the EOS token.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from kodeio.data.templates import load_phrasings, load_text, render
from kodeio.errors import InputError

Message = dict[str, str]
ThinkMissing = Literal["empty", "none"]
Direction = Literal["ko-en", "en-ko"]
MCQA_LETTERS = ("A", "B", "C", "D", "E")

_PHRASING_FILES: dict[Direction, str] = {
    "ko-en": "translate_ko_en.txt",
    "en-ko": "translate_en_ko.txt",
}


def seeded_rng(seed: int, key: str) -> random.Random:
    """An RNG that depends only on (seed, key): same choice for a row whatever the order.

    `random.Random(str)` hashes the string with SHA-512, so this does not depend on
    PYTHONHASHSEED or on which rows came before.
    """
    return random.Random(f"{seed}\x1f{key}")


def assistant_turn(
    answer: str, reasoning: str | None, think_missing: ThinkMissing = "empty"
) -> str:
    """The R1-style assistant content; reasoning (when given) is always kept in `<think>`."""
    reasoning = (reasoning or "").strip()
    answer = answer.strip()
    if not reasoning and think_missing == "none":
        return answer
    # Empty reasoning renders as "<think>\n\n</think>\n\nanswer", R1's own no-thought form.
    return render("assistant.txt", reasoning=reasoning, answer=answer)


def conversation(user: str, assistant: str) -> list[Message]:
    return [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]


def pick_phrasing(direction: Direction, seed: int, key: str) -> int:
    """Index of the instruction phrasing used for one translation sample."""
    return seeded_rng(seed, f"phrasing\x1f{key}").randrange(
        len(load_phrasings(_PHRASING_FILES[direction]))
    )


def translation_messages(
    ko: str,
    en: str,
    direction: Direction,
    *,
    seed: int,
    key: str,
    think_missing: ThinkMissing = "empty",
) -> list[Message]:
    """A ko->en or en->ko translation conversation with a seeded choice of phrasing."""
    source, target = (ko, en) if direction == "ko-en" else (en, ko)
    phrasings = load_phrasings(_PHRASING_FILES[direction])
    template = phrasings[pick_phrasing(direction, seed, key)]
    user = template.substitute(text=source.strip()).strip("\n")
    return conversation(user, assistant_turn(target, None, think_missing))


def answer_letter(value: Any, letters: Sequence[str] = MCQA_LETTERS) -> str | None:
    """Normalize an MCQA answer: 'B', 'b', 'B.', '(B)', 2, '2' (1-based, as KorMedMCQA) -> 'B'."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float) and float(value).is_integer():
        index = int(value)
        return letters[index - 1] if 1 <= index <= len(letters) else None
    text = str(value).strip().strip("().").strip().upper()
    if text in letters:
        return text
    if text.isdigit():
        return answer_letter(int(text), letters)
    return None


def mcqa_messages(
    question: str,
    options: Mapping[str, str],
    answer: str,
    cot: str | None = None,
    *,
    think_missing: ThinkMissing = "empty",
) -> list[Message]:
    """A multiple-choice question: letter + text as the answer, `cot` inside `<think>`.

    `options` maps letters to choice texts (empty choices are left out, as in 4-choice
    exams stored in a 5-column layout); `answer` is a letter present in `options`.
    """
    lines = [f"{letter}. {text.strip()}" for letter, text in options.items() if text.strip()]
    user = render("mcqa_user.txt", question=question.strip(), options="\n".join(lines))
    final = render("mcqa_answer.txt", letter=answer, text=options[answer].strip())
    return conversation(user, assistant_turn(final, cot, think_missing))


def default_medical_instruction() -> str:
    return load_text("medical_instruction.txt").strip()


def prompt_style_messages(
    question: str,
    response: str,
    reasoning: str | None = None,
    *,
    instruction: str | None = None,
    think_missing: ThinkMissing = "empty",
) -> list[Message]:
    """The brief's prompt_style (### Instruction / ### Question) as a user turn; the
    response section becomes the assistant turn with its reasoning in `<think>`."""
    user = render(
        "prompt_style_user.txt",
        instruction=(instruction or default_medical_instruction()).strip(),
        question=question.strip(),
    )
    return conversation(user, assistant_turn(response, reasoning, think_missing))


def instruction_messages(
    instruction: str,
    output: str,
    input_text: str = "",
    reasoning: str | None = None,
    *,
    think_missing: ThinkMissing = "empty",
) -> list[Message]:
    """An instruction/input/output sample (KoAlpaca style) as a plain chat turn."""
    user = instruction.strip()
    if input_text.strip():
        user = f"{user}\n\n{input_text.strip()}"
    return conversation(user, assistant_turn(output, reasoning, think_missing))


def prompt_style_text(
    question: str, response: str, reasoning: str = "", *, instruction: str | None = None
) -> str:
    """One flat training text in the brief's prompt_style (without the EOS token)."""
    return render(
        "prompt_style_text.txt",
        instruction=(instruction or default_medical_instruction()).strip(),
        question=question.strip(),
        reasoning=(reasoning or "").strip(),
        response=response.strip(),
    )


def make_formatting_prompts_func(
    eos_token: str,
    *,
    question: str = "question",
    reasoning: str | None = "cot",
    response: str = "response",
    instruction: str | None = None,
) -> Callable[[Mapping[str, Sequence[Any]]], dict[str, list[str]]]:
    """Build the brief's `formatting_prompts_func` for given column names.

    Use it like the brief does::

        func = make_formatting_prompts_func(tokenizer.eos_token, question="Question",
                                            reasoning="Complex_CoT", response="Response")
        dataset = dataset.map(func, batched=True)   # adds a "text" column

    Each text ends in `eos_token`, so the model learns to stop after the answer (the brief's
    `+ EOS_TOKEN`). The reasoning stays between `<think>` and `</think>`. Set `reasoning=None`
    for sets without a reasoning column (the think block is then empty).
    """
    if not eos_token:
        raise ValueError("eos_token must be the tokenizer's EOS token (e.g. tokenizer.eos_token)")

    def formatting_prompts_func(examples: Mapping[str, Sequence[Any]]) -> dict[str, list[str]]:
        for column in (question, response, *([reasoning] if reasoning else [])):
            if column not in examples:
                raise InputError(
                    f"formatting_prompts_func: missing column '{column}' "
                    f"(columns: {', '.join(examples)})"
                )
        questions = examples[question]
        responses = examples[response]
        reasons = examples[reasoning] if reasoning else [""] * len(questions)
        texts = [
            prompt_style_text(str(q), str(r), str(c or ""), instruction=instruction) + eos_token
            for q, c, r in zip(questions, reasons, responses, strict=True)
        ]
        return {"text": texts}

    return formatting_prompts_func


def formatting_prompts_func(
    examples: Mapping[str, Sequence[Any]], eos_token: str
) -> dict[str, list[str]]:
    """The brief's function with its default columns `question`, `cot`, `response`.

    `dataset.map(functools.partial(formatting_prompts_func, eos_token=tok.eos_token),
    batched=True)`; see `make_formatting_prompts_func` for other column names.
    """
    return make_formatting_prompts_func(eos_token)(examples)
