"""Method 1 — living needs → service categories → services with one language model.

Modules, in the order the pipeline uses them:

- ``schema``      the tables every step reads (``NeedsData``): phrases, categories, merchants, users, records
- ``world``       the seeded synthetic local-life world with its hidden truth (accidents, long tail, two cities)
- ``clustering``  behavioral clustering of records, the typical-record filter and its precision/recall, UMAP
- ``prompts``     prompt and completion text, parsing, the decoding grammar, candidate sets
- ``rewards``     small pure reward functions for GRPO (format, need exact/semantic, category, service)
- ``training``    the model (tiny LM or a local checkpoint + LoRA), curriculum SFT, GRPO, continued SFT
- ``inference``   grammar-constrained chains and candidate ranking by the model's score
- ``baselines``   popularity-in-context, user history, the isolated need classifier + recommender
- ``evaluate``    per-case predictions, metrics per slice, the claims
- ``pipeline``    ``build()``: everything above, timed, into the artifact store
"""
