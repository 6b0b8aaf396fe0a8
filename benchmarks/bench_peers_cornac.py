"""Our TIGER and SASRec side by side with cornac's (cornac 3.0.1), on the same data and split.

Both sides get the same ``SeqData``: the same item content embeddings (ours — the world's, or the
S3-Rec loader's attribute + co-occurrence SVD on Amazon Beauty) and the same leave-last-out split
(``leave_one_out_cases``; cornac's train / val / test sessions are cut from the same sequences, and
``check_same_split`` proves the targets are identical before anything trains). Every model is run

* at **equal wall-clock** (``budget_s`` seconds of training each): ours trains by steps, so a short
  calibration turns the budget into steps; ours is timed first, then each cornac recipe gets the
  number of epochs that fits the same seconds, measured from a one-epoch calibration fit (which
  includes its tokenizer and its per-epoch validation, part of the recipe);
* at **equal epochs**: ours' ``steps x batch / training cases`` (rounded, at least 1) for cornac.

Cornac recipes (``CornacRecipe``): TIGER ``GRID_CONFIG`` and ``PAISCHER_CONFIG`` (the latter with the
rkmeans tokenizer — its README's Beauty table has rkmeans within 4% of rqvae, while 8,000 RQ-VAE
epochs do not fit a CPU budget — and its 10k warm-up steps scaled to the same 5% of training its
200k-step cap implies); SASRec with the README's tuned Beauty recipe (bce, d 128, lr 5e-4, dropout
0.2, max_len 50). Cornac's best-on-validation selection scores ``val_sample`` validation users (its
docs call that number a pragmatic choice, not the recipes'). Scoring: every test user of the
(sub-sampled) dataset.

**Two harnesses, one set of rankings.** Cornac's ``NextItemEvaluation`` (mode "last", full catalogue,
history items not excluded — the same protocol as ours) scores each cornac model; the rankings it
sees are recorded and scored again with ours (``workbench.glass.evaluate.rank_metrics``), and our
models' top-10 lists are scored again with cornac's metric classes. ``max |diff|`` must be ~0.

Settings (``Settings.from_env``, read when the bench runs, not at import): ``BENCH_PEERS_BUDGET_S``
(default 60), ``BENCH_PEERS_BEAUTY_USERS`` (default 1000, 0 = all 22,363), ``BENCH_PEERS_WORLD_USERS``
(default 300), ``BENCH_PEERS_VAL_SAMPLE`` (default 100), ``BENCH_PEERS_MAX_EPOCHS`` (default 2: the
most epochs a cornac model trains for the equal-epochs table — one GRID epoch on 2 CPU cores costs
minutes, so matching our 10+ epochs would take hours; a capped row says so in its ``epochs``
column), ``BENCH_PEERS_PARTS`` (default ``synthetic,beauty``), ``BENCH_PEERS_MODELS`` (default
``TIGER,SASRec``), ``WORKBENCH_SHARED_DATA`` (where ``amazon-beauty/`` lies). The merges against
mergekit are ``bench_peers_mergekit.py``.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

TITLE = "Side by side with peers: TIGER / SASRec vs cornac"
KS = (5, 10)
METRICS = ("Recall@5", "Recall@10", "NDCG@5", "NDCG@10")
BUDGETS = ("equal wall-clock", "equal epochs")
"""The two budgets every model pair is compared at (table names)."""
MODELS = ("TIGER", "SASRec")
PARTS = ("synthetic", "beauty")


def _env(name: str, default: str, kind=int):
    raw = os.environ.get(name, default)
    try:
        return kind(raw)
    except ValueError:
        raise SystemExit(f"error: {name}={raw!r} is not a {'whole number' if kind is int else 'number'}.") from None


@dataclass(frozen=True)
class Settings:
    """What one run compares (defaults: the README's run); ``from_env`` reads them when the bench runs."""

    budget_s: float = 60.0
    """Seconds of training each model gets in the equal wall-clock table."""
    world_users: int = 300
    """Users of the GLASS world (a third of them test users)."""
    beauty_users: int = 1000
    """Amazon Beauty users drawn at random (0 = all 22,363)."""
    val_sample: int = 100
    """Validation users cornac's TIGER scores per best-on-val check (its recipes say 2000, "pragmatic")."""
    max_epochs: int = 2
    """Most epochs a cornac model gets in the equal-epochs table (capped rows are labelled)."""
    parts: tuple[str, ...] = PARTS
    models: tuple[str, ...] = MODELS
    """Which models are compared (``SASRec`` alone: its equal epochs fit where TIGER's do not)."""
    shared_data: Path = field(default_factory=lambda: Path(__file__).resolve().parents[2] / "shared" / "data")

    @classmethod
    def from_env(cls) -> "Settings":
        default = cls()
        return cls(budget_s=_env("BENCH_PEERS_BUDGET_S", str(default.budget_s), float),
                   world_users=_env("BENCH_PEERS_WORLD_USERS", str(default.world_users)),
                   beauty_users=_env("BENCH_PEERS_BEAUTY_USERS", str(default.beauty_users)),
                   val_sample=_env("BENCH_PEERS_VAL_SAMPLE", str(default.val_sample)),
                   max_epochs=_env("BENCH_PEERS_MAX_EPOCHS", str(default.max_epochs)),
                   parts=tuple(os.environ.get("BENCH_PEERS_PARTS", ",".join(PARTS)).split(",")),
                   models=tuple(os.environ.get("BENCH_PEERS_MODELS", ",".join(MODELS)).split(",")),
                   shared_data=Path(os.environ.get("WORKBENCH_SHARED_DATA", default.shared_data)))


# ---- data: one SeqData for both sides ---------------------------------------------------------------
def loo_data(data, users: np.ndarray | None = None, max_length: int | None = None, description: str = ""):
    """``data``'s sequences (optionally some ``users``, each cut to its last ``max_length`` items) with
    the leave-one-out cases of real data: last item test, second-to-last valid, the rest training.
    The catalogue keeps the items these sequences hold (what cornac's item map sees), renumbered."""
    from workbench.glass.data import SeqData
    from workbench.glass.real import leave_one_out_cases

    users = np.arange(data.n_users) if users is None else np.asarray(users)
    seqs = [data.sequence(int(u))[-max_length:] if max_length else data.sequence(int(u)) for u in users]
    keep = np.unique(np.concatenate(seqs))
    new_id = np.full(data.n_items, -1)
    new_id[keep] = np.arange(len(keep))
    seqs = [new_id[s] for s in seqs]
    lengths = np.array([len(s) for s in seqs])
    names = [data.item_names[i] for i in keep] if data.item_names else []
    groups = data.item_groups[keep] if data.item_groups is not None else None
    out = SeqData(data.item_emb[keep], np.concatenate(seqs), np.concatenate([[0], np.cumsum(lengths)]),
                  leave_one_out_cases(seqs), names, groups,
                  f"{description}; {len(seqs)} users, {len(keep)} items, mean sequence {lengths.mean():.1f}")
    out.validate()
    return out


def synthetic(config, users: int, max_length: int = 40):
    """The GLASS world of ``config`` (its users' sequences, last ``max_length`` items) under leave-one-out."""
    from workbench.glass.jobs import load_data

    config = config.with_overrides({"train_users": users - users // 3, "test_users": users // 3})
    data, _, _ = load_data(config)
    return loo_data(data, max_length=max_length, description=f"GLASS world ({config.profile or 'demo'} items)")


def beauty(config, users: int, seed: int = 0):
    """Amazon Beauty through the S3-Rec loader (``real.load``), ``users`` of them drawn at random (0 = all)."""
    from workbench.glass import real

    data = real.load(config)
    pick = None
    if users and users < data.n_users:
        pick = np.sort(np.random.default_rng(seed).choice(data.n_users, users, replace=False))
    return loo_data(data, pick, description=f"Amazon Beauty ({data.description.split(';')[-1].strip()})")


# ---- cornac's view of the same data ------------------------------------------------------------------
def cornac_split(data):
    """NextItemEvaluation over ``data``'s sequences: one session per user (session id = user id),
    train = seq[:-2], val = seq[:-1], test = seq (cornac's own leave_last_out layout), item features =
    ``data.item_emb`` rows by item id."""
    from cornac.data import FeatureModality
    from cornac.eval_methods import NextItemEvaluation

    train, val, test = [], [], []
    for u in range(data.n_users):
        seq = data.sequence(u)
        if len(seq) < 3:
            continue
        rows = [(u, u, int(item), t) for t, item in enumerate(seq)]
        train += rows[:-2]
        val += rows[:-1]
        test += rows
    ids = list(range(data.n_items))
    return NextItemEvaluation.from_splits(train_data=train, test_data=test, val_data=val, fmt="USIT", mode="last",
                                          exclude_unknowns=False, seed=0,
                                          item_feature=FeatureModality(features=data.item_emb, ids=ids))


def check_same_split(data, method) -> dict:
    """Prove cornac holds our split: same catalogue, same training cases, same valid and test targets
    per user (raises AssertionError otherwise). Returns the counts."""
    item_of = {idx: int(raw) for raw, idx in method.global_iid_map.items()}
    user_of = {idx: int(raw) for raw, idx in method.global_uid_map.items()}
    assert len(item_of) == data.n_items, f"cornac sees {len(item_of)} items, ours {data.n_items}"
    counts = {}
    for name, dataset in (("valid", method.val_set), ("test", method.test_set)):
        ours = data.split(name).set_index("user")["target"].to_dict()
        theirs = {}
        for [_], [mapped], [items] in dataset.si_iter(batch_size=1, shuffle=False):
            theirs[user_of[int(dataset.uir_tuple[0][mapped[0]])]] = item_of[int(items[-1])]
        assert theirs == ours, f"{name} targets differ between cornac and ours"
        counts[f"{name} targets"] = len(ours)
    n_train = sum(len(m) - 1 for m in method.train_set.sessions.values() if len(m) >= 2)
    assert n_train == len(data.split("train")), f"cornac trains on {n_train} cases, ours on {len(data.split('train'))}"
    counts["training cases"] = n_train
    return counts


# ---- scoring, in both harnesses ------------------------------------------------------------------------
def ours_metrics(top: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    from workbench.glass.evaluate import rank_metrics

    return {m: float(np.mean(v)) for m, v in rank_metrics(top, targets).items() if m in METRICS}


def cornac_metrics(top: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Cornac's Recall/NDCG classes on the same top-k lists (as ranking_eval calls them)."""
    from cornac.metrics import NDCG, Recall

    out = {}
    for k in KS:
        for name, metric in ((f"Recall@{k}", Recall(k=k)), (f"NDCG@{k}", NDCG(k=k))):
            out[name] = float(np.mean([metric.compute(gt_pos=np.array([t]), pd_rank=r) for r, t in zip(top, targets)]))
    return out


@dataclass
class Scored:
    """One trained model's results on the test users."""

    side: str
    model: str
    recipe: str
    train_s: float
    score_s: float
    metrics: dict[str, float]
    other_harness: dict[str, float]
    epochs: float
    steps: int | None = None
    capped_from: int | None = None
    """Equal-epochs row cut to ``max_epochs``: the epochs equality would have needed."""
    name: str = ""
    """Short name in the tables (``TIGER GRID``); defaults to ``model``."""


def cornac_score(model, method, data) -> tuple[dict, dict, float]:
    """Cornac's NextItemEvaluation on the test sessions, recording each ranking; returns (cornac's
    metrics, ours on the recorded rankings, seconds)."""
    from cornac.eval_methods.next_item_evaluation import ranking_eval
    from cornac.metrics import NDCG, Recall

    item_of = np.zeros(len(method.global_iid_map), dtype=np.int64)  # cornac index -> our item id
    for raw, idx in method.global_iid_map.items():
        item_of[idx] = int(raw)
    user_of = {idx: int(raw) for raw, idx in method.global_uid_map.items()}
    seen: list[tuple[int, np.ndarray]] = []
    rank = model.rank

    def recording_rank(user_idx, item_indices=None, k=-1, **kwargs):
        ranked, scores = rank(user_idx, item_indices, k, **kwargs)
        seen.append((user_of[int(user_idx)], item_of[np.asarray(ranked[:10])]))
        return ranked, scores

    model.rank = recording_rank
    metrics = [m(k=k) for k in KS for m in (Recall, NDCG)]
    start = time.perf_counter()
    try:
        model.transform(method.test_set)
        avg, _ = ranking_eval(model, metrics, method.train_set, method.test_set, exclude_unknowns=False, mode="last")
    finally:
        del model.rank
    seconds = time.perf_counter() - start
    theirs = {m.name: float(v) for m, v in zip(metrics, avg)}
    test = data.split("test").set_index("user")["target"]
    users = [u for u, _ in seen]
    ours = ours_metrics(np.stack([r for _, r in seen]), test.loc[users].to_numpy())
    return theirs, ours, seconds


# ---- our models -----------------------------------------------------------------------------------------
def _our_setup(data, config):
    from workbench.glass.systems import setup_sids

    return setup_sids(data, config, tuple(config.codebook), config.seed)


def _steps_for(budget_s: float, fit_steps, min_steps: int = 20) -> int:
    """Steps that fill ``budget_s`` (at least ``min_steps``), timed on ``min_steps`` steps of a
    throwaway copy (``fit_steps(n)``) after one untimed run of them: the first run also builds the
    cached model inputs, which would make a step look several times dearer than it is."""
    fit_steps(min_steps)
    start = time.perf_counter()
    fit_steps(min_steps)
    per_step = (time.perf_counter() - start) / min_steps
    return max(min_steps, int(budget_s / per_step))


def _fit_and_rank(fit, rank, budget_s: float | None, min_steps: int):
    """Steps that fill ``budget_s``, then train once and rank the test cases, timing both:
    ``(steps, train seconds, top-10 items, scoring seconds)``."""
    steps = _steps_for(budget_s, fit, min_steps)
    start = time.perf_counter()
    model = fit(steps)
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    top = rank(model)
    return steps, train_s, top, time.perf_counter() - start


def our_tiger(data, config, setup, budget_s: float | None, min_steps: int = 20) -> Scored:
    import torch

    from workbench.glass.model import SeqRecModel
    from workbench.glass.systems import model_spec, run_beams
    from workbench.glass.training import TrainSettings, train_sid_model

    def fit(n: int):
        torch.manual_seed(config.seed)
        model = SeqRecModel(model_spec(config, setup, "tiger"), torch.as_tensor(setup.sids.codes))
        settings = TrainSettings(n, config.batch_size, config.lr, warmup=min(config.warmup, n // 10 + 1),
                                 seed=config.seed, length_batches=config.length_batches)
        train_sid_model(model, setup.train, settings, "cpu")
        return model

    steps, train_s, top, score_s = _fit_and_rank(
        fit, lambda model: run_beams(model, setup.test, setup.trie, config.beam, "cpu").items[:, :10], budget_s, min_steps)
    targets = setup.test.cases["target"].to_numpy()
    recipe = (f"d {config.d_model}, {config.enc_layers}+{config.dec_layers} layers, lr {config.lr:g} warm-up + linear "
              f"decay, dropout {config.dropout}, batch {config.batch_size}, beam {config.beam}, last step")
    return Scored("ours", "TIGER", recipe, train_s, score_s, ours_metrics(top, targets), cornac_metrics(top, targets),
                  steps * config.batch_size / len(setup.train), steps)


def our_sasrec(data, config, setup, budget_s: float | None, min_steps: int = 20) -> Scored:
    import torch

    from workbench.glass.baselines import SASRec, sasrec_ranking, train_sasrec
    from workbench.glass.training import TrainSettings

    targets_train = setup.train.cases["target"].to_numpy()

    def fit(n: int):
        torch.manual_seed(config.seed)
        model = SASRec(data.n_items, config.window, config.d_model, config.heads, max(1, config.enc_layers), config.dropout)
        train_sasrec(model, setup.train.window, targets_train,
                     TrainSettings(n, config.batch_size, config.lr, warmup=min(50, n // 10 + 1), seed=config.seed), "cpu")
        return model

    steps, train_s, top, score_s = _fit_and_rank(
        fit, lambda model: sasrec_ranking(model, setup.test.window, "cpu", k=10), budget_s, min_steps)
    targets = setup.test.cases["target"].to_numpy()
    recipe = (f"d {config.d_model}, {max(1, config.enc_layers)} layers, full softmax, lr {config.lr:g}, "
              f"dropout {config.dropout}, window {config.window}, last step")
    return Scored("ours", "SASRec", recipe, train_s, score_s, ours_metrics(top, targets), cornac_metrics(top, targets),
                  steps * config.batch_size / len(setup.train), steps)


# ---- cornac's models --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CornacRecipe:
    """One cornac model as the comparison trains it."""

    name: str
    """Row name in the tables (``TIGER GRID``)."""
    model: str
    """Which of ours it is compared with (``TIGER`` or ``SASRec``)."""
    label: str
    """The recipe in words (the tables' ``recipe`` column)."""
    make: Callable[[int], object]
    """``make(n_epochs)``: the untrained cornac model."""


@dataclass(frozen=True)
class Shrink:
    """Smaller cornac models for a test's tiny world: keyword overrides on top of each recipe."""

    tiger: dict = field(default_factory=dict)
    sasrec: dict = field(default_factory=dict)
    val_sample: int = 10


TINY_CORNAC = Shrink(tiger=dict(d_model=16, d_ff=32, num_heads=2, d_kv=8, num_enc_layers=1, num_dec_layers=1),
                     sasrec=dict(embedding_dim=16, n_sample=64))
"""Cornac models shrunk for the test's tiny world (``compare(..., shrink=TINY_CORNAC)``)."""


def cornac_recipes(n_train: int, window: int, codebook: int, seed: int = 0, val_sample: int = Settings.val_sample,
                   shrink: Shrink | None = None) -> list[CornacRecipe]:
    """The cornac models compared. ``codebook``: codes per level (GRID's 256 on Beauty; on the 256-item
    world our first-level size, else every item is a code)."""
    from cornac.models import SASRec, TIGER
    from cornac.models.tiger import GRID_CONFIG, PAISCHER_CONFIG

    common = dict(max_len=window, n_beams=20, val_sample=shrink.val_sample if shrink else val_sample,
                  rqvae_codebook_size=codebook, seed=seed, device="cpu", **(shrink.tiger if shrink else {}))

    def grid(n):
        return TIGER(**{**GRID_CONFIG, **common, "n_epochs": n})

    def paischer(n):
        steps = n * math.ceil(n_train / PAISCHER_CONFIG["batch_size"])
        warmup = max(1, int(0.05 * steps))  # 10k of a 200k-step cap
        return TIGER(**{**PAISCHER_CONFIG, **common, "tokenizer": "rkmeans", "n_epochs": n, "warmup_steps": warmup,
                        "val_eval_every": 1 if n < 5 else 5})

    def sasrec(n):
        return SASRec(**{"loss": "bce", "embedding_dim": 128, "learning_rate": 5e-4, "dropout": 0.2, "max_len": 50,
                         "n_epochs": n, "model_selection": "best", "val_eval_every": 1, "val_metric": "ndcg",
                         "val_k": 10, "seed": seed, "device": "cpu", **(shrink.sasrec if shrink else {})})

    tiny = " (shrunk for the test)" if shrink else ""
    return [
        CornacRecipe("TIGER GRID", "TIGER", f"GRID_CONFIG: rkmeans 3x{codebook}, 4+4 layers d 128, Adam 5e-4 constant, "
                                            f"best on val every epoch{tiny}", grid),
        CornacRecipe("TIGER Paischer", "TIGER", f"PAISCHER_CONFIG: 6+6 layers, dropout 0.2, lr 3e-4 cosine, warm-up 5% "
                                                f"of steps, batch 64, rkmeans 3x{codebook}, best on val{tiny}", paischer),
        CornacRecipe("SASRec", "SASRec", f"tuned: README's Beauty recipe: bce, d 128, lr 5e-4, dropout 0.2, max_len 50, "
                                         f"best on val{tiny}", sasrec),
    ]


def cornac_fit(recipe: CornacRecipe, n_epochs: int, method) -> tuple[object, float]:
    model = recipe.make(n_epochs)
    start = time.perf_counter()
    model.fit(method.train_set, method.val_set)
    return model, time.perf_counter() - start


def cornac_run(recipe: CornacRecipe, n_epochs: int, method, data, fitted=None) -> Scored:
    model, train_s = fitted or cornac_fit(recipe, n_epochs, method)
    theirs, ours, score_s = cornac_score(model, method, data)
    return Scored("cornac", recipe.model, recipe.label, train_s, score_s, theirs, ours, n_epochs, name=recipe.name)


# ---- one dataset, both budgets -----------------------------------------------------------------------------
def compare(data, config, budget_s: float, label: str, progress=print, shrink: Shrink | None = None,
            min_steps: int = 20, max_epochs: int = Settings.max_epochs, models: tuple[str, ...] = MODELS,
            val_sample: int = Settings.val_sample) -> list[dict]:
    """Every model (of ``models``: TIGER, SASRec) on ``data`` at equal wall-clock (``budget_s`` of
    training, at least ``min_steps`` of ours) and at equal epochs (cornac's capped at ``max_epochs``)."""
    method = cornac_split(data)
    checks = check_same_split(data, method)
    setup = _our_setup(data, config)
    n_train = checks["training cases"]
    progress(f"[{label}] split checked: {checks}")

    ours = {name: fit(data, config, setup, budget_s, min_steps)
            for name, fit in (("TIGER", our_tiger), ("SASRec", our_sasrec)) if name in models}
    for s in ours.values():
        progress(f"[{label}] ours {s.model}: {s.steps} steps ({s.epochs:.1f} epochs) in {s.train_s:.0f}s, {s.metrics}")
    recipes = [r for r in cornac_recipes(n_train, config.window, config.codebook[0], config.seed, val_sample, shrink)
               if r.model in models]
    equal_time, equal_epochs = {}, {}
    for recipe in recipes:
        name, mine = recipe.name, ours[recipe.model]
        calibration = cornac_fit(recipe, 1, method)
        n_time = max(1, round(mine.train_s / calibration[1]))
        equal_time[name] = cornac_run(recipe, n_time, method, data, calibration if n_time == 1 else None)
        progress(f"[{label}] cornac {name}: 1 epoch {calibration[1]:.0f}s -> {n_time} epochs in "
                 f"{equal_time[name].train_s:.0f}s, {equal_time[name].metrics}")
        wanted = max(1, round(mine.epochs))
        n_epochs = min(wanted, max_epochs)
        if n_epochs == n_time:
            equal_epochs[name] = equal_time[name]
        else:
            equal_epochs[name] = cornac_run(recipe, n_epochs, method, data, calibration if n_epochs == 1 else None)
            progress(f"[{label}] cornac {name}: {n_epochs} epochs in {equal_epochs[name].train_s:.0f}s, "
                     f"{equal_epochs[name].metrics}")
        if n_epochs < wanted:
            equal_epochs[name] = replace(equal_epochs[name], capped_from=wanted)
    return rows_of(label, data, checks, ours, equal_time, equal_epochs)


def seconds(t: float) -> float:
    """Tenths of a second, but milliseconds below one second, so a tiny fit never reads as 0.0 s.

    >>> seconds(12.345), seconds(0.0432)
    (12.3, 0.043)
    """
    return round(t, 1) if t >= 1 else round(t, 3)


def _row(table: str, s: Scored) -> dict:
    return {"table": table, "side": s.side, "model": s.name or s.model, "recipe": s.recipe,
            "steps": s.steps,
            "epochs": round(s.epochs, 2) if s.capped_from is None else f"{s.epochs:g} (capped; equal = {s.capped_from})",
            "train (s)": seconds(s.train_s), "score (s)": seconds(s.score_s),
            **{m: round(s.metrics[m], 4) for m in METRICS}}


def rows_of(label: str, data, checks: dict, ours: dict, equal_time: dict, equal_epochs: dict) -> list[dict]:
    cases = f"{checks['test targets']} test users, {checks['training cases']:,} training cases"
    rows = []
    for budget, theirs in zip(BUDGETS, (equal_time, equal_epochs)):
        table = f"{label}: {budget} ({cases})"
        rows += [_row(table, s) for s in ours.values()] + [_row(table, s) for s in theirs.values()]
        for name, s in theirs.items():
            mine = ours[s.model]
            ratio = lambda a, b: round(a / b, 3) if b else None  # noqa: E731
            capped = f" (cornac {s.epochs:g} of {s.capped_from} epochs)" if s.capped_from else ""
            rows.append({"table": f"{label}: ratios ours / cornac", "budget": budget + capped,
                         "pair": f"{mine.model} vs cornac {name}",
                         **{f"{m} ratio": ratio(mine.metrics[m], s.metrics[m]) for m in ("Recall@10", "NDCG@10")},
                         "train time ratio": ratio(mine.train_s, s.train_s), "score time ratio": ratio(mine.score_s, s.score_s)})
    for s in [*ours.values(), *equal_time.values()]:
        diff = max(abs(s.metrics[m] - s.other_harness[m]) for m in METRICS)
        rows.append({"table": f"{label}: metric agreement (one set of rankings, both harnesses)",
                     "rankings of": f"{s.side} {s.name or s.model}",
                     "scored by": "ours, then cornac's metric classes" if s.side == "ours"
                     else "cornac NextItemEvaluation, then ours on the recorded rankings",
                     **{m: f"{s.metrics[m]:.4f} / {s.other_harness[m]:.4f}" for m in METRICS},
                     "max |diff|": float(f"{diff:.2g}")})
    return rows


# ---- the bench ---------------------------------------------------------------------------------------------
def world_config(**overrides):
    """Our settings on the synthetic world: the glass demo model (d 48, 1+2 layers, lr 3e-3, batch 128)."""
    from workbench.glass.config import Config

    return Config().with_overrides({"systems": ("sasrec", "tiger"), **overrides})


def beauty_config(path: Path, **overrides):
    """Our settings on Beauty: the README's real-data command (recipes/beauty-tiger.toml: codebook 256^3,
    d 64, d_ff 128, 2+2 layers, batch 256, lr 2e-3) with length-grouped batches."""
    from workbench.glass.config import Config

    return Config().with_overrides({
        "dataset": "amazon_beauty", "data_path": str(path), "systems": ("sasrec", "tiger"), "codebook": (256, 256, 256),
        "d_model": 64, "d_ff": 128, "enc_layers": 2, "batch_size": 256, "lr": 2e-3, "length_batches": True, **overrides})


def run(settings: Settings | None = None) -> list[dict]:
    settings = settings or Settings.from_env()
    options = dict(val_sample=settings.val_sample, max_epochs=settings.max_epochs, models=settings.models)
    rows: list[dict] = []
    if "synthetic" in settings.parts:
        config = world_config()
        rows += compare(synthetic(config, settings.world_users), config, settings.budget_s, "GLASS world", **options)
    if "beauty" in settings.parts:
        folder = settings.shared_data / "amazon-beauty"
        if (folder / "Beauty.txt").exists():
            config = beauty_config(folder)
            rows += compare(beauty(config, settings.beauty_users), config, settings.budget_s, "Amazon Beauty", **options)
        else:
            print(f"[beauty] skipped: {folder / 'Beauty.txt'} not found")
    return rows
