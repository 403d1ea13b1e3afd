"""GGUF quantization names kodeio accepts, and which tool produces each.

Kept free of heavy imports: the config validates `--quant` against this table before any
work starts, so a typo fails in well under a second with nothing written.
"""

from __future__ import annotations

# Written directly by llama.cpp's convert_hf_to_gguf.py (--outtype) from the merged weights.
CONVERTER_TYPES = ("f32", "f16", "bf16")

# Written by llama.cpp's quantizer (llama_model_quantize) from an f16 GGUF. The value is the
# llama_cpp.LLAMA_FTYPE_MOSTLY_* constant's suffix. q8_0 is made here too, not by the
# converter's --outtype q8_0: the merged model is then read and converted once (a 32B
# conversion is the slow Python pass), and every quantized file comes from the same f16 by
# the same tool, as llama-quantize makes them. i-quants that need an importance matrix
# (iq1/iq2/iq3) are left out: without one they are worse than the k-quants of the same size.
QUANTIZER_TYPES = {
    "q8_0": "Q8_0",
    "q4_0": "Q4_0",
    "q4_1": "Q4_1",
    "q5_0": "Q5_0",
    "q5_1": "Q5_1",
    "q2_k": "Q2_K",
    "q3_k_s": "Q3_K_S",
    "q3_k_m": "Q3_K_M",
    "q3_k_l": "Q3_K_L",
    "q4_k_s": "Q4_K_S",
    "q4_k_m": "Q4_K_M",
    "q5_k_s": "Q5_K_S",
    "q5_k_m": "Q5_K_M",
    "q6_k": "Q6_K",
    "iq4_nl": "IQ4_NL",
    "iq4_xs": "IQ4_XS",
}

ALL_TYPES = (*CONVERTER_TYPES, *QUANTIZER_TYPES)

# Types whose GGUF must reproduce the HF model's greedy tokens exactly (no lossy rounding
# beyond f16); the others have their agreement reported.
LOSSLESS_TYPES = ("f32", "f16")


def normalize_quant(name: str) -> str:
    """`Q4_K_M` / `q4-k-m` -> `q4_k_m`; raises ValueError naming the valid choices."""
    key = name.strip().lower().replace("-", "_")
    if key not in ALL_TYPES:
        raise ValueError(f"unknown quantization {name!r}; expected one of: {', '.join(ALL_TYPES)}")
    return key
