"""Settings of the GLASS method (defaults = the demo profile; PRESETS change smoke and full).

The demo is sized so the whole study — world, SIDs, nine SID models, SASRec, beam search —
builds in a few minutes on 2 CPU cores and the GLASS effect still has a fair chance to show: a small
catalogue (256 items), informative long-term strengths, tier edges calibrated from the data, and a
small model trained with a large learning rate. The full profile is the paper-style study (bigger
world and model, three seeds, every ablation) and takes CUDA when present.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from workbench.config import MAX_SEED, MethodConfig, setting
from workbench.errors import WorkbenchError


@dataclass(frozen=True)
class Config(MethodConfig):
    # ---- the world (synthetic dataset only) -------------------------------------------------------
    n_topics: int = setting(8, ge=1, le=256)
    """Coarse topics of the item hierarchy (the level the long-term interests live at)."""
    n_subtopics: int = setting(4, ge=1, le=256)
    """Sub-topics per topic (shared directions, so SIDs spread evenly)."""
    styles: int = setting(8, ge=1, le=1000)
    """Items per sub-topic (each a shared style direction); items = topics × sub-topics × styles."""
    emb_dim: int = setting(32, ge=1, le=4096)
    """Content-embedding size of the world's items."""
    noise: float = setting(0.05, ge=0, le=10)
    """Embedding noise (std per unit length): the knob of 'rich vs weak item embeddings'."""
    noisy_level: float = setting(0.6, ge=0, le=10)
    """The second noise level, for the claim that GLASS's gain shrinks as embeddings get noisier."""
    train_users: int = setting(2000, ge=1, le=1_000_000)
    """Users whose cases are trained on."""
    test_users: int = setting(1000, ge=1, le=1_000_000)
    """Held-out users, one case each (never trained on)."""
    valid_users: int = setting(0, ge=0, le=1_000_000)
    """More held-out users, one case each, for best-on-validation selection (``select_every``); 0 = none."""
    cases_per_user: int = setting(8, ge=1, le=1000)
    """Cut points per training user (features are computed at each cut's own point in time)."""
    history_min: int = setting(120, ge=2, le=100_000)
    """Shortest user history (items)."""
    history_max: int = setting(240, ge=2, le=100_000)
    """Longest user history (items)."""
    p_absent: float = setting(0.5, ge=0, le=1)
    """Chance that a case's next item comes from a long-term topic absent from the short window."""
    p_favourite: float = setting(0.4, ge=0, le=1)
    """Share of favourites inside a user's episodes (and in continuing targets)."""

    item_embedding: str = setting("auto", choices=("auto", "both", "attributes", "cooccurrence", "minilm", "tfidf"))
    """Real data only: s3rec ``both`` | ``attributes`` | ``cooccurrence`` (``auto``: both, or co-occurrence
    when the dataset has no attribute file); movielens ``minilm`` | ``tfidf``."""
    name: str = ""
    """Real data only: which dataset of the --data-path folder (s3rec: the ``<name>.txt`` stem, e.g.
    ``Sports_and_Outdoors``); empty = the only one there, or the file --data-path names."""

    # ---- semantic IDs ----------------------------------------------------------------------------
    sid_method: str = setting("residual_kmeans", choices=("residual_kmeans", "rqvae"))
    """``residual_kmeans`` (no training) or ``rqvae`` (a trained residual-quantising autoencoder)."""
    codebook: tuple[int, ...] = setting((16, 8, 8), ge=2, le=4096, length=(1, 8))
    """Codebook size per level (a collision digit is appended). 16 > 8 topics: sparse level-1 buckets."""
    resized_codebook: tuple[int, ...] = setting((8, 8, 8), ge=2, le=4096, length=(1, 8))
    """Codebook resizing (GLASS): a smaller first level puts density at level 1."""

    # ---- GLASS features --------------------------------------------------------------------------
    window: int = setting(20, ge=1, le=10_000)
    """Short window: the last W items the encoder reads (the paper: 50)."""
    n_tiers: int = setting(4, ge=1, le=64)
    """SID-Tier tiers; edges at the quantiles of the observed item-prototype cosines."""
    tier_tokens: str = setting("single", choices=("single", "per_code"))
    """``single``: the paper's one SID-Tier token; ``per_code``: one token per first-level code."""
    bucket_size: int = setting(16, ge=1, le=10_000)
    """Hard search returns the user's M most recent long-term items sharing the beam's c1 (paper: 30)."""
    neighbour_tau: int = setting(4, ge=0, le=10_000)
    """Neighbour augmentation tops up buckets with fewer than tau items (only in its ablation row)."""

    # ---- models and training ---------------------------------------------------------------------
    d_model: int = setting(48, ge=1, le=8192)
    """Model width (the paper: 96)."""
    heads: int = setting(4, ge=1, le=128)
    """Attention heads."""
    enc_layers: int = setting(1, ge=1, le=64)
    """Encoder blocks (the paper: 4)."""
    dec_layers: int = setting(2, ge=1, le=64)
    """Decoder blocks (the paper: 4)."""
    d_ff: int = setting(96, ge=1, le=65_536)
    """Feed-forward width."""
    dropout: float = setting(0.1, ge=0, lt=1)
    """Dropout in every block."""
    flat_tokens: bool = False
    """Encoder reads one position per SID token (TIGER's layout) instead of one per item."""
    steps: int = setting(600, ge=1, le=1_000_000)
    """Optimiser steps per SID model."""
    batch_size: int = setting(128, ge=1, le=65_536)
    """Training cases per step."""
    lr: float = setting(3e-3, gt=0, le=1)
    """AdamW learning rate (large because the models are tiny and the budget short)."""
    warmup: int = setting(50, ge=0, le=1_000_000)
    """Linear learning-rate warm-up steps of the SID models (then linear decay to 10% of ``lr``)."""
    length_batches: bool = False
    """Batches of cases with similar window lengths (every case still once per epoch): faster on real data
    with short histories; the synthetic world's windows are always full, so it is off there."""
    sasrec_steps: int = setting(600, ge=1, le=1_000_000)
    """Optimiser steps of the SASRec baseline."""
    select_every: int = setting(0, ge=0, le=1_000_000)
    """Best-on-validation selection (cornac's recipes do it): every this many steps, score Recall@10 on
    ``select_cases`` validation cases and keep the best check's weights, for the SID models and SASRec.
    0 = keep the last step's (right for the demo's short decaying schedule; long runs overfit)."""
    select_cases: int = setting(500, ge=1, le=1_000_000)
    """Validation cases (a seeded sample) each selection check scores."""
    beam: int = setting(20, ge=1, le=1000)
    """Beam size (the paper: 20); top-10 of the beam is scored."""
    systems: tuple[str, ...] = setting(("popularity", "sasrec", "tiger", "tier_only", "search_only", "glass", "resized",
                                        "fixed_gate", "neighbours", "noise"),
                                       choices="workbench.glass.systems:SYSTEMS", length=(1, None))
    """Rows of the comparison (each SID row is one more model; ``noise`` is two): see ``systems.py``."""
    eval_split: str = setting("test", choices=("test", "valid"))
    """Which held-out cases are scored: ``test`` (the numbers to report) or ``valid`` (real data: every
    user's second-to-last item) — choose settings on ``valid``, then report ``test`` once."""
    seeds: tuple[int, ...] = setting((), ge=0, le=MAX_SEED, length=(0, 100))
    """Extra seeds (world + training); every claim uses every seed (hierarchical bootstrap over seeds and cases)."""

    EMBEDDINGS: ClassVar[dict[str, tuple[str, ...]]] = {
        "s3rec": ("auto", "both", "attributes", "cooccurrence"), "amazon_beauty": ("auto", "both", "attributes", "cooccurrence"),
        "movielens": ("auto", "minilm", "tfidf")}
    """The ``item_embedding`` choices each real dataset has (the synthetic world brings its own embeddings)."""

    def check(self) -> "Config":
        kinds = self.EMBEDDINGS.get(self.dataset)
        if kinds and self.item_embedding not in kinds:
            raise WorkbenchError(f"Setting glass.item_embedding={self.item_embedding} does not apply to {self.dataset}; "
                                 f"choose one of {', '.join(kinds)}.")
        if self.select_every and self.eval_split == "valid":
            raise WorkbenchError("Setting glass.select_every picks the step on validation cases, so they cannot also be "
                                 "the cases scored: use eval_split=test with it, or select_every=0.")
        return super().check()

    def dataset_label(self) -> str:
        """S3-Rec runs are labelled by the file they read (``Beauty (s3rec)``), not the loader's name."""
        if self.dataset in ("s3rec", "amazon_beauty") and self.data_path:
            from workbench.glass.real import s3rec_name

            return f"{s3rec_name(self)} (s3rec)"
        return self.dataset

    METHOD: ClassVar[str] = "glass"
    LINKS: ClassVar[tuple[tuple[str, str, str], ...]] = (("history_min", "<=", "history_max"), ("d_model", "%", "heads"))
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {
            "train_users": 300, "test_users": 150, "cases_per_user": 4, "history_min": 80, "history_max": 120,
            "steps": 40, "sasrec_steps": 30, "beam": 10, "d_model": 32, "d_ff": 64, "bucket_size": 8,
            "systems": ("popularity", "sasrec", "tiger", "tier_only", "search_only", "glass", "resized", "noise"),
        },
        "full": {
            "n_topics": 16, "n_subtopics": 8, "styles": 10, "codebook": (32, 16, 16), "resized_codebook": (16, 16, 16),
            "train_users": 20000, "test_users": 2000, "history_min": 200, "history_max": 400, "window": 50,
            "bucket_size": 30, "d_model": 96, "heads": 6, "enc_layers": 2, "dec_layers": 2, "d_ff": 256,
            "steps": 6000, "batch_size": 256, "lr": 1e-3, "sasrec_steps": 3000, "seeds": (1, 2),
        },
    }
