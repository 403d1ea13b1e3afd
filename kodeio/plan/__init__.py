"""`kodeio plan`: will a recipe fit and load on this GPU, and how long will it take?

Per stage, from each model's config.json and the recipe's settings: weight memory for the
chosen quantization, KV cache per token and how many full-length sequences fit, a
bandwidth-bound decode ceiling, training memory, export disk, and hours. Every figure is
printed with its arithmetic; docs/gpu.md explains the formulas and what is assumed.

Modules: `model_config` (find and read config.json), `hardware` (GPU presets and their
sources), `arithmetic` (the formulas), `engine` (what the installed vLLM supports, read
without importing it), `report` (one stage's figures and problems), `stage` (run_stage).
"""
