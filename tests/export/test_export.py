"""Export end to end on a tiny overfit Qwen2: adapter -> merged -> GGUF f16 -> q8_0 -> q4_k_m."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def test_export_all_writes_every_part_with_a_true_manifest(full_export: Path) -> None:
    m = _manifest(full_export)
    names = {f["path"] for f in m["files"]}
    stem = m["name"]
    for q in ("f16", "q8_0", "q4_k_m"):
        assert f"{stem}-{q}.gguf" in names
        assert f"{stem}-{q}.Modelfile" in names
    assert {"adapter/adapter_model.safetensors", "adapter/adapter_config.json"} <= names
    assert "merged/model.safetensors.index.json" in names
    assert any(n.startswith("merged/model-00001-of-") for n in names)  # 600KB shards
    # Every listed file exists with the listed size and hash; nothing unlisted but logs.
    for f in m["files"]:
        data = (full_export / f["path"]).read_bytes()
        assert len(data) == f["bytes"]
        assert hashlib.sha256(data).hexdigest() == f["sha256"]
    on_disk = {
        p.relative_to(full_export).as_posix()
        for p in full_export.rglob("*")
        if p.is_file() and not p.relative_to(full_export).as_posix().startswith("logs/")
    }
    assert on_disk - names == {"manifest.json"}
    assert not full_export.with_name(full_export.name + ".partial").exists()
    assert m["gguf"]["pre_tokenizer"] == "qwen2"  # changed vocabulary: recognized by split rules


def test_f16_parity_is_exact_and_quantized_agreement_is_reported(
    full_export: Path, parity_prompts: list[str]
) -> None:
    m = _manifest(full_export)
    f16 = m["parity"]["f16"]
    assert (
        f16["status"] == "pass"
        and f16["prompts_exact"] == f"{len(parity_prompts)}/{len(parity_prompts)}"
    )
    assert f16["tokenizer_match"] is True
    reference = [d["hf_tokens"] for d in f16["details"]]
    for q in ("q8_0", "q4_k_m"):
        parity = m["parity"][q]
        details = parity["details"]
        # Same HF reference for every file; the summary is recomputed from the raw tokens.
        assert [d["hf_tokens"] for d in details] == reference
        matched = [_common_prefix(d["hf_tokens"], d["gguf_tokens"]) for d in details]
        assert [d["matched"] for d in details] == matched
        total = sum(max(len(d["hf_tokens"]), len(d["gguf_tokens"])) for d in details)
        assert parity["token_agreement"] == round(sum(matched) / total, 4)
        exact = [d["hf_tokens"] == d["gguf_tokens"] for d in details]
        assert parity["prompts_exact"] == f"{sum(exact)}/{len(parity_prompts)}"
        # --verify without --strict: a divergence is reported, never failed or hidden.
        assert parity["status"] == ("pass" if all(exact) else "reported")
    by_path = {f["path"]: f for f in m["files"]}
    assert (
        by_path[f"{m['name']}-q8_0.gguf"]["parity"]["token_agreement"]
        == m["parity"]["q8_0"]["token_agreement"]
    )


def test_q4_k_m_really_uses_k_quant_blocks(full_export: Path) -> None:
    from gguf import GGUFReader

    m = _manifest(full_export)
    reader = GGUFReader(str(full_export / f"{m['name']}-q4_k_m.gguf"))
    kinds = {t.tensor_type.name for t in reader.tensors}
    assert "Q4_K" in kinds, kinds
    assert (full_export / f"{m['name']}-q4_k_m.gguf").stat().st_size < (
        full_export / f"{m['name']}-f16.gguf"
    ).stat().st_size / 2


def test_f16_gguf_greedy_equals_transformers_generate(
    full_export: Path, parity_prompts: list[str]
) -> None:
    """Independent of kodeio's parity code: HF generate() vs llama-cpp-python generate()."""
    import torch
    from llama_cpp import Llama
    from transformers import AutoModelForCausalLM, AutoTokenizer

    merged = full_export / "merged"
    tok = AutoTokenizer.from_pretrained(merged)
    model = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32).eval()
    m = _manifest(full_export)
    llm = Llama(str(full_export / f"{m['name']}-f16.gguf"), n_ctx=256, verbose=False, seed=0)
    try:
        for prompt in parity_prompts:
            text = tok.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
            )
            ids = tok(text, add_special_tokens=False)["input_ids"]
            assert llm.tokenize(text.encode(), add_bos=False, special=True) == ids
            hf = model.generate(torch.tensor([ids]), max_new_tokens=40, do_sample=False)[
                0, len(ids) :
            ].tolist()
            gg = []
            for t in llm.generate(ids, top_k=1, temp=0.0, repeat_penalty=1.0, reset=True):
                gg.append(t)
                if t == tok.eos_token_id or len(gg) == len(hf):
                    break
            assert gg == hf, (prompt, tok.decode(hf), tok.decode(gg))
            assert tok.eos_token_id in hf  # overfit: the answer ends with EOS
    finally:
        llm.close()


def test_modelfile_carries_template_and_stop_tokens(full_export: Path) -> None:
    m = _manifest(full_export)
    text = (full_export / f"{m['name']}-q4_k_m.Modelfile").read_text(encoding="utf-8")
    assert f"FROM ./{m['name']}-q4_k_m.gguf" in text
    assert 'PARAMETER stop "<｜end▁of▁sentence｜>"' in text
    assert "<｜User｜>{{ .Content }}" in text and "<｜Assistant｜><think>" in text
    # The tiny tokenizer does not add BOS itself, so the template must.
    assert 'TEMPLATE """<｜begin▁of▁sentence｜>' in text


def test_model_card_has_what_a_user_needs(full_export: Path) -> None:
    from kodeio.export.hub import upload_file_list

    card = (full_export / "README.md").read_text(encoding="utf-8")
    m = _manifest(full_export)
    assert card.startswith("---\n")
    assert "tests/export/toy" in card  # dataset from the run's training config
    assert "max_steps: 40" in card  # training config
    for q in ("f16", "q8_0", "q4_k_m"):
        assert f"| {q} | `{m['name']}-{q}.gguf`" in card
    for snippet in ("AutoModelForCausalLM", "vllm serve", "llama-cli", "ollama create"):
        assert snippet in card
    files = upload_file_list(full_export)
    assert "README.md" in files and "manifest.json" in files
    assert not any(f.startswith("logs/") for f in files)
    assert f"{m['name']}-f16.gguf" in files


def test_eval_numbers_and_no_secret_reach_the_card(
    tiny_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kodeio.cli import main

    run = tmp_path / "run2"
    run.mkdir()
    (run / "adapter").symlink_to(tiny_run / "adapter")
    cfg = (tiny_run / "config.yaml").read_text() + "hub_token: hf_SHOULD_NOT_LEAK\n"
    (run / "config.yaml").write_text(cfg)
    (run / "eval").mkdir()
    (run / "eval" / "summary.json").write_text(
        json.dumps({"accuracy": {"before": 0.25, "after": 0.5}})
    )
    monkeypatch.setenv("HF_TOKEN", "hf_SECRET_TOKEN_VALUE")
    out = tmp_path / "out"
    assert main(["export", "adapter", "--run", str(run), "-o", str(out)]) == 0
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "summary.accuracy.after | 0.5" in card
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"hf_SECRET_TOKEN_VALUE" not in data and b"hf_SHOULD_NOT_LEAK" not in data
    assert not (out / "merged").exists() and not list(out.glob("*.gguf"))


@pytest.mark.skipif(
    not __import__("os").environ.get("KODEIO_TEST_HUB_REPO"),
    reason="set KODEIO_TEST_HUB_REPO=owner/name (and a token) to test a real upload",
)
def test_push_to_hub_when_a_token_is_present(full_export: Path) -> None:
    import os

    from kodeio.export.hub import has_token, push

    if not has_token():
        pytest.skip("real Hub upload: KODEIO_TEST_HUB_REPO is set but no Hugging Face token")
    url = push(full_export, os.environ["KODEIO_TEST_HUB_REPO"], private=True)
    assert os.environ["KODEIO_TEST_HUB_REPO"].split("/")[1] in url
