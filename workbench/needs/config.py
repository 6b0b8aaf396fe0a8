"""Settings of method 1 (living needs → categories → services). Defaults are the demo profile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from workbench.config import MAX_SEED, MethodConfig, setting
from workbench.errors import WorkbenchError


@dataclass(frozen=True)
class Config(MethodConfig):
    # ---- the world -------------------------------------------------------------------------------
    users: int = setting(1500, ge=1, le=200_000)
    """Users in the synthetic world (80% in cityA, 20% in cityB)."""
    min_records: int = setting(40, ge=2, le=10_000)
    """Fewest records per user; the filter needs about 40 to see a user's habits."""
    max_records: int = setting(60, ge=2, le=10_000)
    """Most records per user."""
    accident_rate_routine: float = setting(0.26, ge=0, le=1)
    """Chance that a history record in a routine situation is accidental (~30% overall with the next one)."""
    accident_rate_other: float = setting(0.55, ge=0, le=1)
    """Chance outside the routine, where one-off purchases happen more."""
    tail_test_share: float = setting(0.5, ge=0, le=1)
    """Share of test cases drawn from the users' rare situations (the long-tail slice)."""
    cross_city_train_share: float = setting(0.15, ge=0, le=1)
    """Share of cityB history records used as training targets (the cross-city test is cityB)."""
    coupling: float = setting(0.0, ge=0, le=1)
    """How strongly the world's stages depend on each other; 0 is the isolated pipeline's own world.
    At 0 the world draws need | context, category | need, merchant | category and user, draw for draw
    as before the dial; raising it plants three cross-stage dependencies (the merchant follows the
    need's occasion, the category the context, the next need the last order's outcome; ``world``
    module doc, measured by ``dependence.planted``). The curve: ``benchmarks/bench_needs_coupling.py``."""

    # ---- real check-ins (dataset foursquare / foursquare-tsmc) ---------------------------------
    test_per_user: int = setting(5, ge=1, le=1000)
    """Real data: each user's last N check-ins are test cases (>= 1; users with fewer than N + 2 are left out)."""
    category_map: str = setting("", path=True)
    """foursquare-tsmc: a csv (category,top_level) mapping fine venue categories to needs; empty = the
    table shipped in ``workbench/datasets/foursquare_categories.csv``."""
    venue_words: str = setting("id", choices=("id", "ranked"))
    """Real data: how a venue is written. ``id``: one word per venue (``v21580``). ``ranked``: its
    category and its rank there by training check-ins (``pizza_place/17``), two tokens of the word
    tokenizer, so the vocabulary holds the categories and one token per rank instead of one per venue.
    The original id stays in the merchants table (``venue``)."""

    # ---- behavioral clustering -----------------------------------------------------------------
    cluster_algorithm: str = setting("dbscan", choices="workbench.needs.clustering:ALGORITHMS")
    """Per-user clustering: dbscan (one scikit-learn call over a per-user distance graph), hdbscan, kmeans."""
    cluster_eps: float = setting(0.8, gt=0, le=100)
    """DBSCAN radius in feature units (a different need is 1.41 away; same need, other place 0.99)."""
    min_support: int = setting(4, ge=1, le=10_000)
    """A record is typical when its cluster holds at least this many of its user's records ..."""
    min_pop_share: float = setting(0.2, ge=0, le=1)
    """... or its need has at least this share among everyone's records in the same context."""
    filter_rule: str = setting("clusters", choices="workbench.needs.clustering:RULES")
    """What decides "typical": ``clusters`` (the paper's behavioral clustering: ``min_support`` or
    ``min_pop_share`` above) or ``routine`` (``routine_score`` of the record against the user's other
    records > ``min_routine``)."""
    min_routine: float = setting(0.9, ge=0, le=100)
    """Threshold of the ``routine`` rule."""
    n_patterns: int = setting(20, ge=1, le=1000)
    """Population-wide behavior patterns (k-means) for browsing on the Behavior clusters page."""
    umap_points: int = setting(4000, ge=1, le=1_000_000)
    """Records placed on the 2-D UMAP map at build time."""
    map_method: str = setting("umap", choices=("umap", "pca"))
    """umap (umap-learn), or pca for quick builds (UMAP's first call compiles for 10-50 s)."""

    # ---- prompts and cases -----------------------------------------------------------------------
    history_size: int = setting(4, ge=1, le=100)
    """Pattern lines (the user's habits most like the current context) in a prompt."""
    evidence: int = setting(0, ge=0, le=100)
    """The user's best merchants listed in the prompt with their use counts, grouped by category (the
    evidence the isolated recommender ranks by; ``prompts.evidence_words``); 0 = none."""
    need_classifier: str = setting("auto", choices=("auto", "logreg", "gbdt"))
    """The isolated pipeline's need classifier: ``logreg``, ``gbdt`` (scikit-learn histogram gradient
    boosting) or ``auto`` (both fitted, the one with the higher need accuracy on validation cases kept)."""
    n_popular: int = setting(5, ge=0, le=1000)
    """Popular merchants of the chosen category added to the user's own as ranking candidates."""
    candidates: int = setting(0, ge=0, le=16)
    """Stage 3 handed its candidates tool-style (0 = not): after the category the chain holds that
    category's first N candidates — the user's own merchants as the isolated recommender orders them,
    then the city's popular ones — each under a slot word with the user's uses, recency and context
    match (``prompts.candidate_block``), in SFT, in the GRPO rollouts (inserted after the sampled
    category, masked from the loss) and at inference, where the model ranks them by slot. The full
    framework's service reward then pays only the gain over the block's order (GR2's rank-promotion
    reward, ``rewards.rerank_score``). Costs 6 tokens a candidate in every chain."""
    flat_popular: int = setting(10, ge=0, le=1000)
    """Popular merchants of the city added to the flat model's candidates."""
    max_train_cases: int = setting(12000, ge=1, le=10_000_000)
    """Training cases sampled per variant (SFT sees steps × batch of them)."""

    # ---- the model -------------------------------------------------------------------------------
    arch: str = setting("llama", choices=("llama", "qwen2"))
    """Tiny model family: llama or qwen2 (transformers configs, trained from scratch)."""
    hidden: int = setting(96, ge=1, le=8192)
    """Hidden size of the tiny model (~0.3M parameters with 2 layers, a third of them embeddings)."""
    layers: int = setting(2, ge=1, le=64)
    """Decoder layers."""
    heads: int = setting(4, ge=1, le=128)
    """Attention heads."""
    base_checkpoint: str = setting("", path=True)
    """A local HF causal-LM folder to fine-tune with LoRA instead of the tiny model (empty = tiny model)."""
    lora_r: int = setting(8, ge=1, le=1024)
    """LoRA rank when ``base_checkpoint`` is set."""
    tokenizer: str = setting("word", choices="workbench.needs.training:TOKENIZERS")
    """The tiny model's tokenizer: ``word`` (every id one token; a real venue ``category/rank`` two),
    ``subword`` (BPE pieces, at most ``subword_vocab`` ids) or ``auto`` (word up to 4,000 vocabulary
    entries, else subword)."""
    subword_vocab: int = setting(1000, ge=64, le=1_000_000)
    """Vocabulary size of the sub-word tokenizer (the ids' characters alone may need more)."""

    # ---- supervised fine-tuning ------------------------------------------------------------------
    sft_steps: int = setting(1000, ge=1, le=1_000_000)
    """SFT steps per variant (curriculum: 20% need, 20% need + category, 60% full path)."""
    sft_batch: int = setting(32, ge=1, le=65_536)
    """Cases per SFT step."""
    sft_lr: float = setting(5e-3, gt=0, le=1)
    """Peak learning rate; from-scratch tiny models like 3e-3..5e-3 (LoRA: use ~1e-3)."""
    prompt_loss: bool = True
    """Also train on the prompt's tokens (habit lines): more signal per step for a model trained from
    scratch; False = loss on the completion only (cheaper steps on a large vocabulary)."""
    prompt_loss_stages: tuple[str, ...] = setting(("need", "category", "services"), choices=("need", "category", "services"),
                                                  length=(0, 3))
    """With ``prompt_loss``: the curriculum phases that train on the prompt too; the others train on
    the completion only. The prompt's loss teaches a model trained from scratch the user's habits (the
    need), and drowns a rule the completion alone teaches (the coupling dial's weather → category:
    ``docs/data/needs-coupling-diagnostics.json``); ``need`` alone keeps the first and frees the second."""
    batch_softmax: bool = False
    """SFT scores each prompt token against the batch's prompt targets only, corrected for how likely
    each is to be among them, and the completion against the whole vocabulary
    (``SFTSettings.batch_softmax``). Off on the synthetic world (a small vocabulary); on for real
    check-ins (``DATASET_PRESETS``), where one word per venue makes a large vocabulary. Needs
    ``prompt_loss``."""
    batch_negatives: int = setting(0, ge=0, le=1_000_000)
    """Uniformly drawn vocabulary tokens added each SFT step to the batch softmax's prompt candidates
    (0 = the batch's prompt targets only; ``SFTSettings.batch_negatives``); unused without
    ``batch_softmax`` (so ``--set batch_softmax=false`` alone turns a preset's sampling off)."""
    curriculum: bool = True
    """Curriculum SFT (need → need + category → full path); false trains the full path throughout."""

    # ---- reinforcement learning (GRPO) -----------------------------------------------------------
    rl_steps: int = setting(60, ge=1, le=1_000_000)
    """GRPO steps; continued SFT gets the same steps × sequences for the equal-compute comparison."""
    rl_prompts: int = setting(8, ge=1, le=4096)
    """Prompts per GRPO step."""
    rl_generations: int = setting(8, ge=2, le=1024)
    """Completions sampled per prompt (the group whose rewards are compared)."""
    rl_lr: float = setting(2e-4, gt=0, le=1)
    """GRPO learning rate."""
    rl_beta: float = setting(0.0, ge=0, le=100)
    """KL weight to the SFT model (0 = none; the format reward stays on instead)."""
    rl_gate_patience: int = setting(0, ge=0, le=1_000_000)
    """0 = the curriculum's rewards switch on at fixed fractions of the GRPO steps (category at 1/3,
    service at 2/3); N > 0 = each also switches on as soon as the earlier stage's reward has not risen
    over the last N steps against the N before (the stage is learned), the fraction then the latest."""
    rl_temperature: float = setting(1.0, gt=0, le=100)
    """Sampling temperature of the GRPO groups."""

    # ---- evaluation ------------------------------------------------------------------------------
    chain_beams: int = setting(2, ge=1, le=100)
    """(need, category) paths kept by constrained beam search; services are ranked over all of them."""
    chain_rank: str = setting("best", choices="workbench.needs.inference:RANKS")
    """How services are ranked over the kept paths: ``best`` (each service by its best path's
    P(path)·P(service | path)) or ``marginal`` (by the sum over the paths: a chain that keeps its
    alternatives, so one wrong category does not doom the service; ``inference.marginal_ranking``)."""
    variants: tuple[str, ...] = setting(("popularity", "history", "isolated", "flat", "raw_sft", "clustered_sft",
                                         "sft_more", "rl_sparse", "full"),
                                        choices="workbench.needs.evaluate:VARIANTS", length=(1, None))
    """Which variants to build (see ``evaluate.VARIANTS``)."""
    seeds: tuple[int, ...] = setting((), ge=0, le=MAX_SEED, length=(0, 100))
    """Extra seeds (world and training) for the full study; the claims then use intervals over seeds."""

    def check(self) -> "Config":
        if self.batch_softmax and not self.prompt_loss:
            raise WorkbenchError("Setting needs.batch_softmax=true samples the prompt's positions; it needs prompt_loss=true.")
        return super().check()

    METHOD: ClassVar[str] = "needs"
    LINKS: ClassVar[tuple[tuple[str, str, str], ...]] = (("min_records", "<=", "max_records"), ("hidden", "%", "heads"))
    DATASET_PRESETS: ClassVar[dict] = {
        # real check-ins: the sampled prompt loss, and more steps with the time it saves (README,
        # "Real data: Foursquare NYC check-ins": HR@3 level with the full softmax's 1,000 steps within
        # seed noise, at ~1,000 instead of ~1,400 CPU s a seed)
        "foursquare": {"batch_softmax": True, "batch_negatives": 1024, "sft_steps": 1500},
        # not foursquare-tsmc: its 3k venue words leave the full softmax affordable, and the same
        # preset there ranked lower (clustered SFT's HR@3 .127 vs .141, flat .218 vs .259; one seed)
    }
    PRESETS: ClassVar[dict] = {
        "smoke": {"users": 150, "map_method": "pca", "min_records": 24, "max_records": 30, "umap_points": 400, "max_train_cases": 1500,
                  "hidden": 32, "layers": 1, "heads": 2, "sft_steps": 30, "sft_batch": 16, "rl_steps": 4,
                  "rl_prompts": 2, "rl_generations": 4, "n_patterns": 8},
        "full": {"users": 3000, "max_train_cases": 100000, "hidden": 128, "layers": 4, "sft_steps": 3000,
                 "sft_batch": 64, "rl_steps": 300, "rl_prompts": 16, "rl_generations": 16, "umap_points": 10000,
                 "seeds": (1, 2)},
    }
