"""GLASS: long-term interests in generative recommendation with semantic IDs (on top of TIGER).

Modules, in the order data flows through them:

- ``world``         the generated long-history world with planted ground truth
- ``data``          ``SeqData``: item embeddings, user sequences, cases (shared by world and real data)
- ``real``          Amazon Beauty and MovieLens turned into ``SeqData`` (loaders in ``workbench.datasets``)
- ``semantic_ids``  residual k-means / RQ-VAE SIDs, collision digit, per-level readouts
- ``features``      short window, SID-Tier histograms, hard-search buckets, neighbour augmentation
- ``model``         TIGER / GLASS encoder-decoder (SID-Tier token, gated dual cross-attention)
- ``decode``        beam search over a prefix trie (constrained) or free (invalid-SID rate)
- ``train``         training loops; ``baselines``: popularity and SASRec
- ``evaluate``      ranking metrics, slices, per-level accuracy, P1/P12/P123, rank progression, gates
- ``study``         one seed of the whole comparison; ``verdicts``: the claims; ``pipeline``: build()
"""
