"""kodeio.export: adapter, merged 16-bit weights and GGUF files, offline and parity-checked.

`run_stage(ExportConfig)` in `kodeio.export.stage`; see docs/export.md. Modules: `plan`
(every input checked, every path decided, before any write), `gguf` (which GGUF files, made
one by one), `manifest` (manifest, card, the move into the output directory), `merge`
(streamed LoRA merge, bnb 4-bit dequantization), `llamacpp` (converter from the cached
llama-cpp-python sdist, quantizer), `gguf_convert` (converter wrapper that recognizes
pre-tokenizers by split rules), `parity` (HF vs GGUF greedy tokens), `modelfile` (Ollama),
`card` and `hub` (model card, upload).
"""
