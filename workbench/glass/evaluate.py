"""Scoring and the diagnostics of the paper, all per case so that slices and intervals come free.

* Ranking: Recall/Hit@1/5/10 and NDCG@5/10 over the full catalogue (one target per case, so
  Recall@K = Hit@K), overall and per slice (``absent``: the target's topic is absent from the short
  window; ``continuing``: the rest).
* Per-level token accuracy (teacher forcing: each level predicted with the true prefix), plus
  ``c1@3`` (true c1 among the three most likely first codes).
* Top-1 prefix precisions P1 / P12 / P123 of the best beam.
* Conditional Rank Progression: at depth d, the mean rank of the true prefix in the beam among the
  cases whose true prefix of depth d-1 survived in the beam (rank = beam + 1 when it fell out).
* Gate vs retrieved-set length: mean learned gate (steps after c1, teacher forcing) by bucket size.

>>> rank_metrics(np.array([[3, 1, 2]]), np.array([1]))["Hit@1"].tolist(), rank_metrics(np.array([[3, 1, 2]]), np.array([1]))["Hit@5"].tolist()
([0.0], [1.0])
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from workbench import metrics
from workbench.glass.decode import BeamResult
from workbench.glass.features import CaseArrays
from workbench.glass.model import SeqRecModel
from workbench.glass.training import model_inputs

KS = (1, 5, 10)
HEADLINE = ("Recall@1", "Recall@5", "Recall@10", "NDCG@5", "NDCG@10")


def rank_metrics(ranked: np.ndarray, targets: np.ndarray) -> dict[str, np.ndarray]:
    """Per-case Hit@K (= Recall@K here) and NDCG@K for K in 1, 5, 10 (invalid ids -1 never hit)."""
    ranked_l, tgt_l = ranked.tolist(), targets.tolist()
    out = {}
    for k in KS:
        out[f"Hit@{k}"] = metrics.hit_at_k(ranked_l, tgt_l, k)
        out[f"Recall@{k}"] = metrics.recall_at_k(ranked_l, tgt_l, k)
    for k in (5, 10):
        out[f"NDCG@{k}"] = metrics.ndcg_at_k(ranked_l, tgt_l, k)
    return out


@torch.no_grad()
def teacher_forced(model: SeqRecModel, arrays: CaseArrays, device, batch: int = 1024) -> dict[str, np.ndarray]:
    """Per-case level predictions with the true prefix (argmax), c1 top-3 hit and mean gate."""
    model.eval()
    preds, top3, gates = [], [], []
    for start in range(0, len(arrays), batch):
        rows = slice(start, start + batch)
        x = model_inputs(arrays, device, rows)
        logits, gate = model(x["window"], x["tier"], x["target_codes"], x["bucket"] if model.spec.hard_search else None)
        levels = []
        for level, size in enumerate(model.spec.sizes):
            lo = int(model.offsets[level])
            levels.append(logits[:, level, lo : lo + size].argmax(-1))
        preds.append(torch.stack(levels, 1).cpu().numpy())
        lo, size = int(model.offsets[0]), model.spec.sizes[0]
        best3 = logits[:, 0, lo : lo + size].topk(min(3, size), -1).indices.cpu().numpy()
        top3.append((best3 == arrays.target_codes[rows, :1]).any(1))
        gates.append(gate[:, 1:].mean(1).cpu().numpy() if gate is not None else np.full(len(best3), np.nan))
    pred = np.concatenate(preds)
    out = {f"c{l + 1} acc": (pred[:, l] == arrays.target_codes[:, l]).astype(float) for l in range(pred.shape[1])}
    out["c1@3"] = np.concatenate(top3).astype(float)
    out["gate"] = np.concatenate(gates)
    return out


def prefix_precision(beams: BeamResult, target_codes: np.ndarray) -> dict[str, np.ndarray]:
    """P1, P12, P123: the best beam's first 1/2/3 codes all equal the target's."""
    top = beams.sids[:, 0]
    ok = np.cumprod(top == target_codes, axis=1)
    return {name: ok[:, d].astype(float) for d, name in enumerate(("P1", "P12", "P123")) if d < ok.shape[1]}


def rank_progression(beams: BeamResult, target_codes: np.ndarray, beam: int) -> list[dict]:
    """Conditional Rank Progression: one row per depth with the mean rank of the true prefix among
    cases whose prefix one level up was still in the beam, and how many such cases there were."""
    rows = []
    alive = np.ones(len(target_codes), dtype=bool)
    for depth, pref in enumerate(beams.prefixes):
        match = (pref == target_codes[:, None, : depth + 1]).all(-1)  # [n, K]
        found = match.any(1)
        rank = np.where(found, match.argmax(1) + 1, beam + 1).astype(float)
        rows.append({"depth": depth + 1, "cases": int(alive.sum()),
                     "mean rank": float(rank[alive].mean()) if alive.any() else float("nan"),
                     "still in beam": float(found[alive].mean()) if alive.any() else float("nan")})
        alive = alive & found
    return rows


def gate_by_length(gates: np.ndarray, lengths: np.ndarray, bins=(0, 1, 2, 4, 8, 16, 64, 10**9)) -> list[dict]:
    """Mean gate per retrieved-set length bin (the paper: the learned gate rises with the length)."""
    rows = []
    for lo, hi in zip(bins[:-1], bins[1:]):
        mask = (lengths >= lo) & (lengths < hi) & np.isfinite(gates)
        if mask.any():
            label = f"{lo}" if hi == lo + 1 else f"{lo}–{hi - 1}" if hi < 10**9 else f"≥{lo}"
            rows.append({"retrieved items": label, "cases": int(mask.sum()), "mean gate": float(gates[mask].mean())})
    return rows


def summarise(per_case: pd.DataFrame, columns, slices: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Mean of each column over every slice: {slice: {column: mean}}."""
    out = {}
    for name, mask in slices.items():
        part = per_case[mask]
        out[name] = {c: float(part[c].mean()) if len(part) else float("nan") for c in columns if c in part}
        out[name]["cases"] = int(mask.sum())
    return out


def case_table(ranked: np.ndarray, arrays: CaseArrays, extra: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Per-case metrics of one system (the rows every summary and bootstrap is computed from)."""
    table = pd.DataFrame(rank_metrics(ranked, arrays.cases["target"].to_numpy()))
    table.insert(0, "case", np.arange(len(arrays)))
    table["absent"] = arrays.cases["absent"].to_numpy().astype(bool)
    for name, values in (extra or {}).items():
        table[name] = values
    return table
