"""Method 1 — living needs → service categories → services with one language model.

Modules, in the order the pipeline uses them:

- ``data``        the tables every step reads (``NeedsData``): phrases, categories, merchants, users, records
- ``world``       the seeded synthetic local-life world with its hidden truth (accidents, long tail, two cities)
- ``real``        real check-ins (``workbench.datasets.foursquare``) mapped to needs, categories, merchants
- ``clustering``  behavioral clustering of records, the typical-record filter and its precision/recall, UMAP
- ``prompts``     prompt and completion text, parsing, the decoding grammar, candidate sets
- ``rewards``     small pure reward functions for GRPO (format, need exact/semantic, category, service)
- ``training``    the model (tiny LM or a local checkpoint + LoRA), curriculum SFT, GRPO, continued SFT
- ``inference``   grammar-constrained chains and candidate ranking by the model's score
- ``baselines``   popularity-in-context, user history, the isolated need classifier + recommender
- ``evaluate``    per-case predictions, metrics per slice, the claims
- ``prepare``     one seed's data, clustering and cases, and the folder layout the LM jobs read
- ``jobs``        the job functions: a seed's data + baselines, one LM variant, the UMAP map
- ``pipeline``    ``plan()`` (the jobs) and ``write()`` (the run's artifacts)
"""
