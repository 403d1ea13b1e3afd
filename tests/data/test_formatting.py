"""Conversations from templates: translation, MCQA, the brief's prompt_style."""

from __future__ import annotations

import functools

import pytest

from kodeio.data.formatting import (
    answer_letter,
    assistant_turn,
    formatting_prompts_func,
    make_formatting_prompts_func,
    mcqa_messages,
    pick_phrasing,
    prompt_style_messages,
    translation_messages,
)
from kodeio.data.templates import load_phrasings
from kodeio.data.text import split_think
from kodeio.errors import InputError


def test_translation_both_directions_with_seeded_phrasings():
    ko, en = "오늘 날씨가 좋네요.", "The weather is nice today."
    to_en = translation_messages(ko, en, "ko-en", seed=0, key="row-1")
    to_ko = translation_messages(ko, en, "en-ko", seed=0, key="row-1")
    assert [m["role"] for m in to_en] == ["user", "assistant"]
    assert ko in to_en[0]["content"] and en not in to_en[0]["content"]
    assert split_think(to_en[1]["content"]) == ("", en)
    assert en in to_ko[0]["content"] and split_think(to_ko[1]["content"])[1] == ko
    # Same seed and key -> same phrasing, whatever else was formatted before.
    assert translation_messages(ko, en, "ko-en", seed=0, key="row-1") == to_en
    # Over many rows every phrasing is used, and the choice moves with the seed.
    picks = [pick_phrasing("ko-en", 0, f"r{i}") for i in range(200)]
    assert set(picks) == set(range(len(load_phrasings("translate_ko_en.txt"))))
    assert picks != [pick_phrasing("ko-en", 1, f"r{i}") for i in range(200)]
    assert len(load_phrasings("translate_en_ko.txt")) >= 3


def test_mcqa_answer_letter_and_text_with_reasoning_in_think():
    options = {"A": "수액", "B": "항생제", "C": "수술", "D": "", "E": ""}
    messages = mcqa_messages("가장 적절한 처치는?", options, "B", "감염 소견이 뚜렷하다.")
    user, assistant = messages[0]["content"], messages[1]["content"]
    assert "A. 수액\nB. 항생제\nC. 수술" in user and "D." not in user
    assert assistant.startswith("<think>\n감염 소견이 뚜렷하다.\n</think>\n\n")
    assert assistant.endswith("B. 항생제")
    no_cot = mcqa_messages("질문?", options, "A")[1]["content"]
    assert no_cot == "<think>\n\n</think>\n\n정답: A. 수액"
    assert (
        mcqa_messages("질문?", options, "A", think_missing="none")[1]["content"] == "정답: A. 수액"
    )


@pytest.mark.parametrize(
    ("raw", "letter"),
    [
        ("B", "B"),
        ("b", "B"),
        ("(C)", "C"),
        ("D.", "D"),
        (1, "A"),
        ("5", "E"),
        (5.0, "E"),
        (6, None),
        (0, None),
        ("F", None),
        (None, None),
        (True, None),
    ],
)
def test_answer_letter(raw, letter):
    assert answer_letter(raw) == letter


def test_prompt_style_messages_keep_reasoning():
    messages = prompt_style_messages(
        "두통의 흔한 원인은?", "긴장형 두통입니다.", "가장 흔한 일차 두통을 떠올린다."
    )
    user = messages[0]["content"]
    assert "### Instruction:\n" in user and "### Question:\n두통의 흔한 원인은?" in user
    assert "### Response" not in user  # the response section is the assistant turn
    assert split_think(messages[1]["content"]) == (
        "가장 흔한 일차 두통을 떠올린다.",
        "긴장형 두통입니다.",
    )
    custom = prompt_style_messages("Q", "A", instruction="You are a pharmacist.")
    assert "### Instruction:\nYou are a pharmacist." in custom[0]["content"]


def test_assistant_turn_never_drops_reasoning():
    assert assistant_turn("42", "6 * 7", "none") == "<think>\n6 * 7\n</think>\n\n42"
    assert (
        assistant_turn("$x {y}", None) == "<think>\n\n</think>\n\n$x {y}"
    )  # no template injection


def test_formatting_prompts_func_with_datasets_map():
    import datasets

    data = datasets.Dataset.from_dict(
        {
            "Question": ["열이 나요", "기침"],
            "Complex_CoT": ["발열 원인", "기침 원인"],
            "Response": ["해열제", "진해제"],
        }
    )
    func = make_formatting_prompts_func(
        "<eos>", question="Question", reasoning="Complex_CoT", response="Response"
    )
    texts = data.map(func, batched=True)["text"]
    assert texts[0].endswith("### Response:\n<think>\n발열 원인\n</think>\n해열제<eos>")
    assert "### Question:\n기침\n" in texts[1]
    default = functools.partial(formatting_prompts_func, eos_token="</s>")
    out = default({"question": ["q"], "cot": [None], "response": ["r"]})
    assert out["text"][0].endswith("<think>\n\n</think>\nr</s>")
    with pytest.raises(InputError, match="missing column 'Response'"):
        make_formatting_prompts_func("<eos>", response="Response")(
            {"question": ["q"], "cot": ["c"]}
        )
