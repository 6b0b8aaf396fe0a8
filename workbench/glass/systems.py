"""One seed of the comparison, piece by piece: SIDs and features, then one system trained and scored.

The jobs (``jobs.py``) call these: the data job builds every ``SidSetup`` a seed needs
(``setup_sids``), each system job trains one system on its setup and scores it on the held-out
cases (``train_system``): a per-case table (the source of every summary, slice and bootstrap
interval), the diagnostics (per-level accuracy, P1/P12/P123, rank progression, gate vs retrieved
length, invalid-SID rate), and for the SID models the beams the app and notebook show.

Systems (``config.systems`` picks which run; each row is one more model to train):

=============  ======================================================================
popularity     the most frequent training targets
sasrec         SASRec over the item ids of the short window (full softmax)
tiger          TIGER: encoder-decoder over the short window's SIDs
tier_only      TIGER + the SID-Tier token
search_only    TIGER + semantic hard search with the adaptive gate
glass          GLASS: both
resized        GLASS on the resized codebook (smaller first level)
fixed_gate     GLASS with the gate fixed at 0.5 (still 0 at the c1 step)
neighbours     GLASS with semantic neighbour augmentation of sparse buckets
noise          TIGER and GLASS again on the same world with noisier item embeddings
=============  ======================================================================
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from workbench.errors import WorkbenchError
from workbench.glass.baselines import SASRec, popularity_ranking, sasrec_ranking, train_sasrec
from workbench.glass.config import Config
from workbench.glass.data import SeqData
from workbench.glass.decode import BeamResult, SIDTrie, beam_search
from workbench.glass.evaluate import (
    case_table, gate_by_length, prefix_precision, rank_progression, teacher_forced,
)
from workbench.glass.features import CaseArrays, case_arrays, fit_sid_tier, neighbour_order
from workbench.glass.model import ModelSpec, SeqRecModel, count_parameters
from workbench.glass.semantic_ids import SemanticIDs, build_sids
from workbench.glass.training import Selection, TrainSettings, train_sid_model
from workbench.progress import Progress, scaled

LABELS = {
    "popularity": "Popularity",
    "sasrec": "SASRec",
    "tiger": "TIGER",
    "tier_only": "TIGER + SID-Tier",
    "search_only": "TIGER + hard search",
    "glass": "GLASS",
    "resized": "GLASS + codebook resizing",
    "fixed_gate": "GLASS, fixed 0.5 gate",
    "neighbours": "GLASS + neighbour aug.",
    "tiger_noisy": "TIGER (noisy embeddings)",
    "glass_noisy": "GLASS (noisy embeddings)",
}
SYSTEMS = (*(name for name in LABELS if not name.endswith("_noisy")), "noise")
"""What ``config.systems`` may list: the rows above, and ``noise`` for the two noisy-embedding rows."""
SID_SYSTEMS = ("tiger", "tier_only", "search_only", "glass", "resized", "fixed_gate", "neighbours",
               "tiger_noisy", "glass_noisy")


@dataclass
class SidSetup:
    """Everything built from one set of SIDs: the IDs, the trie, and train/test model inputs."""

    sids: SemanticIDs
    trie: SIDTrie
    train: CaseArrays
    test: CaseArrays
    tier_edges: np.ndarray
    prototypes: np.ndarray
    valid: CaseArrays | None = None
    """A seeded sample of validation cases when ``select_every`` asks for best-on-validation selection."""


@dataclass
class SystemResult:
    name: str
    per_case: pd.DataFrame
    diagnostics: dict = field(default_factory=dict)
    beams: BeamResult | None = None
    model: SeqRecModel | None = None
    curve: list[float] = field(default_factory=list)
    seconds: float = 0.0


def expand_systems(systems: tuple[str, ...], synthetic: bool) -> list[str]:
    """The concrete rows of ``config.systems`` (``noise`` is two models; needs the world)."""
    out = []
    for name in systems:
        if name == "noise":
            if synthetic:
                out += ["tiger_noisy", "glass_noisy"]
        else:  # the config's choices hold the names (``SYSTEMS``)
            out.append(name)
    return out


TIER_SYSTEMS = ("tier_only", "glass", "resized", "fixed_gate", "neighbours", "glass_noisy")
SEARCH_SYSTEMS = ("search_only", "glass", "resized", "fixed_gate", "neighbours", "glass_noisy")


def setup_sids(data: SeqData, config: Config, codebook: tuple[int, ...], seed: int, augment: bool = False) -> SidSetup:
    """SIDs of ``codebook``, the trie, SID-Tier edges from the training histories, and case arrays."""
    sids = build_sids(data.item_emb, codebook, config.sid_method, seed)
    train_cases, test_cases = data.split("train"), data.split(config.eval_split)
    if not len(test_cases):
        raise WorkbenchError(f"This dataset has no {config.eval_split!r} cases to score; use eval_split=test.")
    # Tier edges come from what training histories show (never from the held-out targets).
    last_cut = train_cases.groupby("user")["cut"].max()
    observed = np.concatenate([data.history(u, c) for u, c in last_cut.items()]) if len(last_cut) else None
    tier = fit_sid_tier(data.item_emb, sids, config.n_tiers, observed=observed)
    neighbours = neighbour_order(tier.prototypes) if augment else None
    tau = config.neighbour_tau if augment else 0
    with_tier = bool(set(expand_systems(config.systems, True)) & set(TIER_SYSTEMS))
    make = lambda cases: case_arrays(data, sids, tier, cases, config.window, config.bucket_size, neighbours, tau,  # noqa: E731
                                     with_tier)
    valid = None
    if config.select_every:
        valid_cases = data.split("valid")
        if not len(valid_cases):
            raise WorkbenchError("Setting glass.select_every needs validation cases, and this dataset has none; "
                                 "on the generated world set valid_users (e.g. 500), or use select_every=0.")
        valid_cases = valid_cases.sample(min(config.select_cases, len(valid_cases)), random_state=seed).sort_index()
        valid = make(valid_cases)
    return SidSetup(sids, SIDTrie(sids.codes, sids.sizes), make(train_cases), make(test_cases), tier.edges, tier.prototypes,
                    valid)


def model_spec(config: Config, setup: SidSetup, system: str) -> ModelSpec:
    tier = system in TIER_SYSTEMS
    search = system in SEARCH_SYSTEMS
    tier_dim = setup.train.tier.shape[1] if tier else 0
    return ModelSpec(
        sizes=setup.sids.sizes, window=config.window, d_model=config.d_model, heads=config.heads,
        enc_layers=config.enc_layers, dec_layers=config.dec_layers, d_ff=config.d_ff, dropout=config.dropout,
        tier_dim=tier_dim, tier_tokens=config.tier_tokens, hard_search=search,
        gate="fixed" if system == "fixed_gate" else "learned", flat=config.flat_tokens, name=system,
    )


def run_beams(model: SeqRecModel, arrays: CaseArrays, trie: SIDTrie, beam: int, device, constrained: bool = True,
              batch: int = 256) -> BeamResult:
    """Beam search over all cases in batches (cases of similar window length together, so short
    windows are not padded to long ones); results stacked in case order."""
    parts = []
    trie = trie.to(device)
    order = np.argsort((arrays.window >= 0).sum(1), kind="stable")
    for start in range(0, len(arrays), batch):
        rows = order[start : start + batch]
        buckets = torch.as_tensor(arrays.buckets.dense(rows), device=device) if model.spec.hard_search else None
        parts.append(beam_search(
            model, torch.as_tensor(arrays.window[rows], device=device), torch.as_tensor(arrays.tier[rows], device=device),
            buckets, trie, beam=beam, constrained=constrained))
    trie.to("cpu")
    back = np.argsort(order, kind="stable")  # batch order -> case order
    cat = lambda xs: np.concatenate(xs)[back] if xs else np.zeros(0)  # noqa: E731
    gates = None if parts[0].gates is None else cat([p.gates for p in parts])
    return BeamResult(cat([p.sids for p in parts]), cat([p.items for p in parts]), cat([p.scores for p in parts]),
                      [cat([p.prefixes[d] for p in parts]) for d in range(len(parts[0].prefixes))], gates)


def evaluate_sid_model(name: str, model: SeqRecModel, setup: SidSetup, config: Config, device,
                       unconstrained: bool = False) -> SystemResult:
    """Constrained beam search + teacher-forced diagnostics on the test cases."""
    test = setup.test
    beams = run_beams(model, test, setup.trie, config.beam, device)
    forced = teacher_forced(model, test, device)
    prec = prefix_precision(beams, test.target_codes)
    bucket_len = (test.true_bucket() >= 0).sum(1)
    extra = {**forced, **prec, "bucket length": bucket_len, "absent (codes)": test.absent_code}
    table = case_table(beams.items[:, :10], test, extra)
    diag = {
        "rank progression": rank_progression(beams, test.target_codes, config.beam),
        "gate by length": gate_by_length(forced["gate"], bucket_len) if model.spec.hard_search else [],
        "parameters": count_parameters(model),
        "invalid rate (constrained)": beams.invalid_rate,
    }
    if unconstrained:
        free = run_beams(model, test, setup.trie, config.beam, device, constrained=False)
        free_table = case_table(free.items[:, :10], test)
        diag["unconstrained"] = {
            "invalid rate": free.invalid_rate,
            "invalid rate (top-10)": float((free.items[:, :10] < 0).mean()),
            "Recall@10": float(free_table["Recall@10"].mean()),
            "NDCG@10": float(free_table["NDCG@10"].mean()),
        }
    return SystemResult(name, table, diag, beams, model)


SETUP_OF = {"resized": "resized", "neighbours": "neighbours", "tiger_noisy": "noisy", "glass_noisy": "noisy"}
"""The setup each system trains on (the rest: ``base``)."""


def setups_needed(systems: list[str]) -> list[str]:
    """The setups (``base`` first) that ``systems`` train on.

    >>> setups_needed(["popularity", "tiger", "resized", "glass_noisy"])
    ['base', 'resized', 'noisy']
    """
    return ["base", *dict.fromkeys(SETUP_OF[s] for s in systems if s in SETUP_OF)]


def train_system(name: str, config: Config, setup: SidSetup, seed: int, device,
                 progress: Progress | None = None) -> SystemResult:
    """Train one system (popularity, SASRec or a SID model) on ``setup.train``; score it on ``setup.test``."""
    progress = progress or (lambda m, f: None)
    start = time.perf_counter()
    torch.manual_seed(seed)
    train_targets, n_items = setup.train.cases["target"].to_numpy(), len(setup.sids.codes)
    if name == "popularity":
        ranked = popularity_ranking(train_targets, n_items, len(setup.test))
        return SystemResult(name, case_table(ranked[:, :10], setup.test), seconds=time.perf_counter() - start)
    valid = setup.valid
    if name == "sasrec":
        model = SASRec(n_items, config.window, config.d_model, config.heads, max(1, config.enc_layers), config.dropout)
        settings = TrainSettings(config.sasrec_steps, config.batch_size, config.lr, seed=seed)
        selection = None if valid is None else Selection(
            lambda m: recall_at_10(sasrec_ranking(m, valid.window, device, k=10), valid), config.select_every)
        curve = train_sasrec(model, setup.train.window, train_targets, settings, device, progress, selection)
        ranked = sasrec_ranking(model, setup.test.window, device)
        return SystemResult("sasrec", case_table(ranked[:, :10], setup.test), selection_diagnostics(selection), curve=curve,
                            seconds=time.perf_counter() - start)
    model = SeqRecModel(model_spec(config, setup, name), torch.as_tensor(setup.sids.codes))
    settings = TrainSettings(config.steps, config.batch_size, config.lr, warmup=config.warmup, seed=seed,
                             length_batches=config.length_batches)
    selection = None if valid is None else Selection(
        lambda m: recall_at_10(run_beams(m, valid, setup.trie, config.beam, device).items[:, :10], valid), config.select_every)
    curve = train_sid_model(model, setup.train, settings, device, scaled(progress, 0, 0.85), label=LABELS[name],
                            selection=selection)
    progress(f"{LABELS[name]}: beam search", 0.9)
    result = evaluate_sid_model(name, model, setup, config, device, unconstrained=name in ("tiger", "glass"))
    result.diagnostics.update(selection_diagnostics(selection))
    result.curve, result.seconds = curve, time.perf_counter() - start
    result.model = model.cpu()
    return result


def recall_at_10(top: np.ndarray, arrays: CaseArrays) -> float:
    """Share of ``arrays``' cases whose target is among the ``top`` items of its row."""
    return float((top == arrays.cases["target"].to_numpy()[:, None]).any(axis=1).mean())


def selection_diagnostics(selection) -> dict:
    """The step best-on-validation selection kept, its validation Recall@10, and every check as
    ``[step, Recall@10]`` (how flat the curve is near its peak says how much the pick is noise);
    empty without selection."""
    if selection is None:
        return {}
    return {"selected step": selection.best_step, "selection Recall@10 (valid)": selection.best_score,
            "selection checks": len(selection.log), "selection curve": [[s, v] for s, v in selection.log]}


def summary_rows(tables: dict[str, pd.DataFrame], seed: int,
                 columns=("Recall@1", "Recall@5", "Recall@10", "NDCG@5", "NDCG@10")) -> list[dict]:
    """The results table of one seed: one row per system × slice (all / absent / continuing)."""
    rows = []
    for name, t in tables.items():
        for slice_name, mask in (("all", np.ones(len(t), bool)), ("absent", t["absent"].to_numpy()),
                                 ("continuing", ~t["absent"].to_numpy())):
            part = t[mask]
            row = {"system": LABELS[name], "key": name, "slice": slice_name, "cases": int(mask.sum()), "seed": seed}
            for c in (*columns, "c1 acc", "c2 acc", "c3 acc", "c1@3", "P1", "P12", "P123", "gate"):
                if c in part:
                    row[c] = float(part[c].mean()) if len(part) else float("nan")
            rows.append(row)
    return rows
