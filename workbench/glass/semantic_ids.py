"""Semantic IDs: residual quantisation of item content embeddings, plus a collision digit.

An item's SID is ``(c1, c2, c3, d)``: ``c1`` the nearest level-1 codeword of its embedding, ``c2``
the nearest level-2 codeword of what is left (the residual), and so on; ``d`` numbers the items that
share ``(c1, c2, c3)`` (0 for the first), so every SID names exactly one item. Codebook sizes are
per level (``codebook=(16, 8, 8)``), so *codebook resizing* — GLASS's remedy for sparse level-1
buckets — is one setting.

Two quantisers:
- ``residual_kmeans`` (default): scikit-learn KMeans on each level's residuals. No training loop,
  and practitioners find it as good as an RQ-VAE for building SIDs.
- ``rqvae``: a small residual-quantised VAE (encoder MLP → L residual codebooks with a
  straight-through estimator and commitment loss → decoder MLP), as in TIGER. Hand-written because
  no installed library ships one; it is ~60 lines.

``sid_stats`` gives the readouts to check *before* training anything: per-level codebook usage,
entropy, bucket sizes (items per prefix) and the collision rate.

>>> rng = np.random.default_rng(0)
>>> emb = rng.standard_normal((64, 8)).astype("float32")
>>> sids = build_sids(emb, codebook=(4, 4, 4), seed=0)
>>> sids.codes.shape, len({tuple(r) for r in sids.codes.tolist()})   # 64 items, 64 distinct SIDs
((64, 4), 64)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.cluster import KMeans

from workbench.errors import WorkbenchError


@dataclass
class SemanticIDs:
    """Every item's SID and the codebooks that made it."""

    codes: np.ndarray
    """[n_items, levels + 1] int codes; the last column is the collision digit."""
    codebook: tuple[int, ...]
    """Codebook size of each quantised level (the collision digit's size is ``collision_size``)."""
    centroids: list[np.ndarray]
    """Level-l codewords in the space where level l was quantised."""
    method: str = "residual_kmeans"

    @property
    def levels(self) -> int:
        """Number of tokens per SID (quantised levels + collision digit)."""
        return self.codes.shape[1]

    @property
    def sizes(self) -> tuple[int, ...]:
        """Vocabulary size of every token position, collision digit included."""
        return tuple(self.codebook) + (self.collision_size,)

    @property
    def collision_size(self) -> int:
        return int(self.codes[:, -1].max()) + 1 if len(self.codes) else 1

    def lookup(self) -> dict[tuple[int, ...], int]:
        """SID tuple -> item id."""
        return {tuple(map(int, row)): i for i, row in enumerate(self.codes)}


def residual_kmeans(emb: np.ndarray, codebook: tuple[int, ...], seed: int = 0) -> tuple[np.ndarray, list[np.ndarray]]:
    """Codes of each level by KMeans on the residuals left by the levels above.

    >>> codes, cents = residual_kmeans(np.eye(4, dtype="float32"), (2, 2), seed=0)
    >>> codes.shape, [c.shape for c in cents]
    ((4, 2), [(2, 4), (2, 4)])
    """
    residual = np.asarray(emb, dtype=np.float64)
    codes, cents = [], []
    for level, k in enumerate(codebook):
        k_eff = min(k, len(np.unique(residual.round(8), axis=0)))
        km = KMeans(n_clusters=k_eff, n_init=4, random_state=seed + level).fit(residual)
        centroids = np.zeros((k, residual.shape[1]))
        centroids[:k_eff] = km.cluster_centers_
        codes.append(km.labels_.astype(np.int64))
        cents.append(centroids.astype(np.float32))
        residual = residual - km.cluster_centers_[km.labels_]
    return np.stack(codes, axis=1), cents


class RQVAE(torch.nn.Module):
    """Encoder → residual quantiser with ``len(codebook)`` levels → decoder."""

    def __init__(self, dim: int, codebook: tuple[int, ...], latent: int = 32, hidden: int = 128):
        super().__init__()
        self.encoder = torch.nn.Sequential(torch.nn.Linear(dim, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, latent))
        self.decoder = torch.nn.Sequential(torch.nn.Linear(latent, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, dim))
        self.books = torch.nn.ParameterList([torch.nn.Parameter(torch.randn(k, latent) * 0.1) for k in codebook])

    def quantise(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(codes [n, L], quantised z [n, latent], commitment + codebook loss)."""
        residual, quantised, codes, loss = z, torch.zeros_like(z), [], z.new_zeros(())
        for book in self.books:
            idx = torch.cdist(residual, book).argmin(dim=1)
            chosen = book[idx]
            loss = loss + ((chosen - residual.detach()) ** 2).mean() + 0.25 * ((chosen.detach() - residual) ** 2).mean()
            quantised = quantised + chosen
            residual = residual - chosen.detach()
            codes.append(idx)
        quantised = z + (quantised - z).detach()  # straight-through estimator
        return torch.stack(codes, dim=1), quantised, loss


def rqvae_codes(emb: np.ndarray, codebook: tuple[int, ...], seed: int = 0, steps: int = 1500,
                lr: float = 1e-3) -> tuple[np.ndarray, list[np.ndarray]]:
    """Train a small RQ-VAE on the embeddings (codebooks initialised by residual k-means on the first
    encoder outputs, as in TIGER's recipe) and return its codes and codebooks."""
    torch.manual_seed(seed)
    x = torch.tensor(np.asarray(emb, dtype=np.float32))
    x = (x - x.mean(0)) / (x.std(0) + 1e-6)
    model = RQVAE(x.shape[1], codebook)
    with torch.no_grad():
        _, cents = residual_kmeans(model.encoder(x).numpy(), codebook, seed)
        for book, c in zip(model.books, cents):
            book.copy_(torch.tensor(c))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    batch = min(len(x), 1024)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        xb = x[torch.randint(len(x), (batch,), generator=gen)]
        _, zq, q_loss = model.quantise(model.encoder(xb))
        loss = ((model.decoder(zq) - xb) ** 2).mean() + q_loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        codes, _, _ = model.quantise(model.encoder(x))
    return codes.numpy().astype(np.int64), [b.detach().numpy().copy() for b in model.books]


def add_collision_digit(codes: np.ndarray) -> np.ndarray:
    """Append a digit that numbers items sharing the same code tuple (0, 1, 2, ... in item order).

    >>> add_collision_digit(np.array([[0, 1], [0, 1], [1, 1]])).tolist()
    [[0, 1, 0], [0, 1, 1], [1, 1, 0]]
    """
    seen: dict[tuple[int, ...], int] = {}
    digit = np.zeros(len(codes), dtype=np.int64)
    for i, row in enumerate(map(tuple, codes.tolist())):
        digit[i] = seen.get(row, 0)
        seen[row] = digit[i] + 1
    return np.concatenate([codes, digit[:, None]], axis=1)


def build_sids(emb: np.ndarray, codebook: tuple[int, ...] = (16, 8, 8), method: str = "residual_kmeans",
               seed: int = 0) -> SemanticIDs:
    """Quantise ``emb`` level by level and append the collision digit; every item gets a unique SID."""
    if len(emb) < 2:
        raise WorkbenchError("Semantic IDs need at least two items with embeddings; check the item table.")
    if any(k < 1 for k in codebook):
        raise WorkbenchError(f"Codebook sizes must be positive, got {codebook}; e.g. codebook=16,8,8.")
    if method == "residual_kmeans":
        codes, cents = residual_kmeans(emb, codebook, seed)
    elif method == "rqvae":
        codes, cents = rqvae_codes(emb, codebook, seed)
    else:
        raise WorkbenchError(f"Unknown SID method {method!r}; choose residual_kmeans or rqvae.")
    return SemanticIDs(add_collision_digit(codes), tuple(codebook), cents, method)


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def sid_stats(sids: SemanticIDs) -> list[dict]:
    """One row per level: codebook usage, entropy of the code distribution (bits, and relative to the
    maximum), items per prefix up to this level (mean/max — the bucket sizes), and for the last
    quantised level the collision rate (share of items that needed a non-zero collision digit)."""
    rows = []
    codes = sids.codes
    for level, size in enumerate(sids.sizes):
        col = codes[:, level]
        counts = np.bincount(col, minlength=size)
        _, prefix_counts = np.unique(codes[:, : level + 1], axis=0, return_counts=True)
        rows.append({
            "level": f"c{level + 1}" if level < len(sids.codebook) else "collision digit",
            "codebook size": int(size),
            "codes used": int((counts > 0).sum()),
            "usage": float((counts > 0).mean()),
            "entropy (bits)": _entropy(counts),
            "entropy / max": _entropy(counts) / np.log2(size) if size > 1 else 1.0,
            "prefixes": int(len(prefix_counts)),
            "items per prefix (mean)": float(prefix_counts.mean()),
            "items per prefix (max)": int(prefix_counts.max()),
            "collision rate": float((codes[:, -1] > 0).mean()) if level == len(sids.codebook) - 1 else None,
        })
    return rows


def sid_warnings(stats: list[dict], max_collision_rate: float = 0.25, min_usage: float = 0.5) -> list[str]:
    """What to fix before training on these SIDs: idle codebooks, and too many items sharing a tuple
    (the collision digit then does the work the codes should do).

    >>> sid_warnings([{"level": "c1", "usage": 0.2, "collision rate": None}])
    ['c1 uses only 20% of its codebook; shrink it or check the embeddings']
    """
    out = []
    for row in stats:
        if row["level"] != "collision digit" and row["usage"] < min_usage:
            out.append(f"{row['level']} uses only {row['usage']:.0%} of its codebook; shrink it or check the embeddings")
        if row.get("collision rate") is not None and row["collision rate"] > max_collision_rate:
            out.append(f"{row['collision rate']:.0%} of items need a collision digit (largest bucket "
                       f"{row['items per prefix (max)']}); grow the codebooks or improve the embeddings")
    return out


def first_level_prototypes(emb: np.ndarray, sids: SemanticIDs) -> np.ndarray:
    """[K1, dim] mean content embedding of the items of each first-level code (zeros for unused codes).

    >>> s = SemanticIDs(np.array([[0, 0], [0, 1], [1, 0]]), (2,), [])
    >>> first_level_prototypes(np.array([[1., 0], [3., 0], [0, 2]]), s).tolist()
    [[2.0, 0.0], [0.0, 2.0]]
    """
    k1 = sids.codebook[0]
    protos = np.zeros((k1, emb.shape[1]), dtype=np.float32)
    counts = np.bincount(sids.codes[:, 0], minlength=k1)
    np.add.at(protos, sids.codes[:, 0], emb)
    return protos / np.maximum(counts, 1)[:, None]
