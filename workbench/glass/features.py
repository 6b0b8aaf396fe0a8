"""What each case feeds the models: the short window, the SID-Tier histogram, the hard-search buckets.

All three are computed from the case's own history at its own cut point (``SeqData``), so a user
seen at several cut points gets different features each time and nothing leaks from the future.

* **Short window**: the last ``window`` items before the cut (left-padded with -1).
* **SID-Tier** (GLASS §SID-Tier): for every first-level code ``a`` a prototype ``p_a`` (mean content
  embedding of the items with ``c1 = a``). Every long-term item's cosine to every prototype falls into
  one of ``N`` tiers; the tier counts, divided by the history length, give a ``K1·N`` vector. The
  paper's code uses fixed edges (−1, −0.1, 0, 0.1, 1); with tight clusters every cosine to its own
  prototype exceeds 0.1 and the tiers collapse, so here the edges are the quantiles of the observed
  cosines (quartiles for N = 4: each tier holds a quarter of what the training histories show).
* **Hard-search buckets** (GLASS §semantic hard search): for every first-level code ``a`` the user's
  most recent ``M`` long-term items whose SID starts with ``a``. Training reads the bucket of the true
  ``c1``; beam search gives each beam the bucket of its own ``c1``.
* **Semantic neighbour augmentation**: a bucket with fewer than ``tau`` items is topped up with the
  most recent items of the nearest prototype codes.

>>> edges = np.array([-1.0, 0.0, 0.5, 1.0])
>>> tier_of(np.array([[-0.5, 0.7], [0.2, 0.9]]), edges).tolist()
[[0, 2], [1, 2]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.glass.data import SeqData
from workbench.glass.semantic_ids import SemanticIDs, first_level_prototypes


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity matrix [len(a), len(b)] (zero rows give 0)."""
    an = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    bn = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return an @ bn.T


def tier_of(cos: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Tier index of each cosine given ``N + 1`` ascending edges (values outside go to the end tiers)."""
    return np.clip(np.searchsorted(edges, cos, side="right") - 1, 0, len(edges) - 2)


@dataclass
class SidTier:
    """Prototypes, calibrated tier edges and each item's tier against every prototype."""

    prototypes: np.ndarray
    """[K1, dim] mean embedding per first-level code."""
    edges: np.ndarray
    """[N + 1] tier edges (first -1, last 1; inner ones are quantiles of observed cosines)."""
    item_tier: np.ndarray
    """[n_items, K1] tier of every item against every prototype."""

    @property
    def n_tiers(self) -> int:
        return len(self.edges) - 1

    @property
    def dim(self) -> int:
        return self.item_tier.shape[1] * self.n_tiers

    def features(self, long_history: np.ndarray) -> np.ndarray:
        """The K1·N histogram of one long-term history (zeros when it is empty).

        Row a of the reshaped [K1, N] result is the share of the history in each tier of code a.
        """
        k1, n = self.item_tier.shape[1], self.n_tiers
        if len(long_history) == 0:
            return np.zeros(k1 * n, dtype=np.float32)
        idx = self.item_tier[long_history] + np.arange(k1) * n  # [len, K1] flat bin ids
        return (np.bincount(idx.ravel(), minlength=k1 * n) / len(long_history)).astype(np.float32)


def fit_sid_tier(emb: np.ndarray, sids: SemanticIDs, n_tiers: int = 4, observed: np.ndarray | None = None,
                 edges: tuple[float, ...] | None = None) -> SidTier:
    """Prototypes from the SIDs; tier edges fixed (``edges``) or at the quantiles of the cosines of
    the ``observed`` items (e.g. every item in the training histories) to every prototype."""
    protos = first_level_prototypes(emb, sids)
    cos = cosine(emb, protos)
    if edges is not None:
        cut = np.asarray(edges, dtype=np.float64)
    else:
        sample = cos[observed] if observed is not None and len(observed) else cos
        inner = np.quantile(sample.ravel(), np.linspace(0, 1, n_tiers + 1)[1:-1])
        cut = np.concatenate([[-1.0], inner, [1.0]])
    return SidTier(protos, cut, tier_of(cos, cut))


def neighbour_order(prototypes: np.ndarray) -> np.ndarray:
    """[K1, K1-1] the other first-level codes of each code, nearest prototype first."""
    cos = cosine(prototypes, prototypes)
    np.fill_diagonal(cos, -np.inf)
    return np.argsort(-cos, axis=1, kind="stable")[:, :-1]


def present_buckets(long_history: np.ndarray, c1: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(codes, [len(codes), M] items): the most recent ``m`` items of each first-level code present
    in the history (oldest first, -1 padded at the end). Codes absent from the history take no room.

    >>> codes, items = present_buckets(np.array([5, 6, 7, 8]), np.array([0, 0, 0, 0, 0, 1, 0, 1, 1]), m=2)
    >>> codes.tolist(), items.tolist()
    ([0, 1], [[6, -1], [7, 8]])
    """
    if len(long_history) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros((0, m), dtype=np.int64)
    codes = c1[long_history]
    order = np.argsort(codes, kind="stable")
    present, starts, counts = np.unique(codes[order], return_index=True, return_counts=True)
    out = np.full((len(present), m), -1, dtype=np.int64)
    for row, (start, count) in enumerate(zip(starts, counts)):
        recent = long_history[order[start + max(0, count - m) : start + count]]
        out[row, : len(recent)] = recent
    return present.astype(np.int64), out


def buckets_of(long_history: np.ndarray, c1: np.ndarray, k1: int, m: int) -> np.ndarray:
    """[K1, M] the most recent ``m`` items of each first-level code (oldest first, -1 padded at the end).

    >>> buckets_of(np.array([5, 6, 7, 8]), np.array([0, 0, 0, 0, 0, 1, 0, 1, 1]), k1=2, m=2).tolist()
    [[6, -1], [7, 8]]
    """
    out = np.full((k1, m), -1, dtype=np.int64)
    codes, items = present_buckets(long_history, c1, m)
    out[codes] = items
    return out


def augment_buckets(buckets: np.ndarray, neighbours: np.ndarray, tau: int) -> np.ndarray:
    """Semantic neighbour augmentation: top up every bucket with fewer than ``tau`` items with the most
    recent items of the nearest prototype codes (up to the bucket size M). Works on [n, K1, M].

    >>> b = np.array([[[1, -1, -1], [2, 3, 4]]])
    >>> augment_buckets(b, np.array([[1], [0]]), tau=2).tolist()
    [[[1, 4, 3], [2, 3, 4]]]
    """
    out = buckets.copy()
    n, k1, m = buckets.shape
    sizes = (buckets >= 0).sum(-1)
    for i, a in zip(*np.nonzero(sizes < tau)):
        fill = list(buckets[i, a][buckets[i, a] >= 0])
        for b in neighbours[a]:
            if len(fill) >= m:
                break
            extra = buckets[i, b][buckets[i, b] >= 0][::-1]  # most recent first
            fill.extend(extra[: m - len(fill)].tolist())
        out[i, a, : len(fill)] = fill
    return out


@dataclass
class Buckets:
    """Every case's hard-search buckets, stored sparsely: only the first-level codes the case's long
    history holds (a dense [cases, K1, M] array is ~1 GB on a real catalogue with K1 = 256)."""

    offsets: np.ndarray
    """[n + 1]: case i's rows are ``codes/items[offsets[i]:offsets[i+1]]``."""
    codes: np.ndarray
    """[rows] the first-level code of each stored bucket."""
    items: np.ndarray
    """[rows, M] the bucket's items (oldest first, -1 padded)."""
    k1: int
    neighbours: np.ndarray | None = None
    """When set, ``dense`` applies semantic neighbour augmentation with threshold ``tau``."""
    tau: int = 0

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @classmethod
    def from_dense(cls, dense: list[np.ndarray], k1: int, neighbours=None, tau: int = 0) -> "Buckets":
        keep = [np.flatnonzero((d >= 0).any(1)) for d in dense]
        return cls.from_parts(keep, [d[k] for d, k in zip(dense, keep)], k1, dense[0].shape[1] if dense else 1,
                              neighbours, tau)

    @classmethod
    def from_parts(cls, codes: list[np.ndarray], items: list[np.ndarray], k1: int, m: int, neighbours=None,
                   tau: int = 0) -> "Buckets":
        """From each case's present codes and their [len(codes), M] items."""
        offsets = np.concatenate([[0], np.cumsum([len(c) for c in codes])]).astype(np.int64)
        flat_codes = np.concatenate(codes).astype(np.int64) if codes else np.zeros(0, dtype=np.int64)
        flat_items = np.concatenate(items).reshape(-1, m) if codes else np.zeros((0, m), dtype=np.int64)
        return cls(offsets, flat_codes, flat_items, k1, neighbours, tau)

    def dense(self, rows: np.ndarray | slice | None = None) -> np.ndarray:
        """[len(rows), K1, M] buckets of some cases (neighbour-augmented when configured)."""
        rows = np.arange(len(self))[rows if rows is not None else slice(None)]
        m = self.items.shape[1]
        out = np.full((len(rows), self.k1, m), -1, dtype=np.int64)
        starts, ends = self.offsets[rows], self.offsets[rows + 1]
        counts = ends - starts
        which = np.repeat(np.arange(len(rows)), counts)
        src = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)]) if counts.sum() else np.zeros(0, int)
        out[which, self.codes[src]] = self.items[src]
        if self.neighbours is not None and self.tau > 0:
            out = augment_buckets(out, self.neighbours, self.tau)
        return out

    def of(self, rows: np.ndarray, c1: np.ndarray, chunk: int = 1024) -> np.ndarray:
        """[len(rows), M] the bucket of code ``c1[j]`` for case ``rows[j]``."""
        out = np.full((len(rows), self.items.shape[1]), -1, dtype=np.int64)
        for start in range(0, len(rows), chunk):
            part = slice(start, start + chunk)
            dense = self.dense(rows[part])
            out[part] = dense[np.arange(len(dense)), c1[part]]
        return out


@dataclass
class CaseArrays:
    """Model inputs of a set of cases, aligned row by row with ``cases``."""

    cases: pd.DataFrame
    window: np.ndarray
    """[n, W] item ids of the short window (oldest first, -1 left padding)."""
    tier: np.ndarray
    """[n, K1·N] SID-Tier histogram of the long-term history."""
    buckets: Buckets
    """Hard-search buckets of every first-level code (sparse; ``buckets.dense(rows)``)."""
    target_codes: np.ndarray
    """[n, L] the target item's SID."""
    long_length: np.ndarray
    """[n] length of the long-term history."""
    absent_code: np.ndarray
    """[n] the target's c1 is not among the short window's c1 codes (the slice real data can define)."""

    def __len__(self) -> int:
        return len(self.cases)

    def true_bucket(self) -> np.ndarray:
        """[n, M] the bucket of the true c1 (teacher forcing)."""
        if not hasattr(self, "_true"):
            self._true = self.buckets.of(np.arange(len(self)), self.target_codes[:, 0])
        return self._true


def case_arrays(data: SeqData, sids: SemanticIDs, tier: SidTier, cases: pd.DataFrame, window: int,
                bucket_size: int, neighbours: np.ndarray | None = None, tau: int = 0, with_tier: bool = True) -> CaseArrays:
    """Short windows, SID-Tier vectors and buckets of ``cases`` (optionally neighbour-augmented).
    ``with_tier=False`` leaves the SID-Tier vectors out (shape [n, 0]) when no model reads them."""
    n, k1 = len(cases), sids.codebook[0]
    c1 = sids.codes[:, 0]
    win = np.full((n, window), -1, dtype=np.int64)
    feats = np.zeros((n, tier.dim if with_tier else 0), dtype=np.float32)
    codes, items = [], []
    long_len = np.zeros(n, dtype=np.int64)
    absent = np.zeros(n, dtype=bool)
    targets = cases["target"].to_numpy()
    for i, (u, cut) in enumerate(zip(cases["user"].to_numpy(), cases["cut"].to_numpy())):
        hist = data.history(int(u), int(cut))
        short, long = hist[-window:], hist[: max(0, len(hist) - window)]
        win[i, window - len(short):] = short
        if with_tier:
            feats[i] = tier.features(long)
        present, recent = present_buckets(long, c1, bucket_size)
        codes.append(present)
        items.append(recent)
        long_len[i] = len(long)
        absent[i] = c1[targets[i]] not in set(c1[short].tolist())
    buckets = Buckets.from_parts(codes, items, k1, bucket_size, neighbours if tau > 0 else None, tau)
    cases = cases.reset_index(drop=True)
    if cases["absent"].isna().any():  # real data: no planted flag, the slice comes from the SIDs
        cases = cases.assign(absent=absent)
    cases["absent"] = cases["absent"].astype(bool)
    return CaseArrays(cases, win, feats, buckets, sids.codes[targets], long_len, absent)
