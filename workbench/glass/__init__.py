"""GLASS: long-term interests in generative recommendation with semantic IDs (on top of TIGER).

Modules, in the order data flows through them:

- ``world``         the generated long-history world with planted ground truth
- ``data``          ``SeqData``: item embeddings, user sequences, cases (shared by world and real data)
- ``real``          Amazon Beauty and MovieLens turned into ``SeqData`` (loaders in ``workbench.datasets``)
- ``semantic_ids``  residual k-means / RQ-VAE SIDs, collision digit, per-level readouts
- ``features``      short window, SID-Tier histograms, hard-search buckets, neighbour augmentation
- ``model``         TIGER / GLASS encoder-decoder (SID-Tier token, gated dual cross-attention)
- ``decode``        beam search over a prefix trie (constrained) or free (invalid-SID rate)
- ``training``      the one training loop (SID models and SASRec); ``baselines``: popularity and SASRec
- ``evaluate``      ranking metrics, slices, per-level accuracy, P1/P12/P123, rank progression, gates
- ``systems``       the pieces of one seed: SID setups, one system trained and scored
- ``files``         a SID setup as files (what the data job hands the system jobs)
- ``jobs``          the jobs: ``seed{s}/data`` and ``seed{s}/{system}``
- ``claims``        the claims; ``pipeline``: ``plan`` (the jobs) and ``write`` (the run's artifacts)
"""
