"""Baselines in the same harness: popularity and a small SASRec (item-ID based).

Both read the same cases (same split) and return a full ranking over the catalogue, scored with the
same metrics as the SID models.

SASRec (Kang & McAuley, 2018) is a causal self-attention encoder over the item ids of the short
window; the last position's state scores every item through the tied item embeddings. It is trained
here with a full softmax over the catalogue (the "SASRec with cross-entropy" variant, stronger than
the original negative-sampled BCE), so it is not a strawman. Hand-written because it is ~40 lines
of torch on top of ``nn.TransformerEncoder``; no installed library ships one.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from workbench.glass.training import Selection, TrainSettings, train_model
from workbench.progress import Progress


def popularity_ranking(train_targets: np.ndarray, n_items: int, n_cases: int, k: int = 20) -> np.ndarray:
    """[n_cases, k] the k most frequent training targets, the same list for every case.

    >>> popularity_ranking(np.array([2, 2, 1]), 3, 2, k=2).tolist()
    [[2, 1], [2, 1]]
    """
    counts = np.bincount(train_targets, minlength=n_items)
    top = np.argsort(-counts, kind="stable")[:k]
    return np.tile(top, (n_cases, 1))


class SASRec(nn.Module):
    """Causal self-attention over the item ids of the short window; scores all items."""

    def __init__(self, n_items: int, window: int, d_model: int = 64, heads: int = 4, layers: int = 2,
                 dropout: float = 0.1):
        super().__init__()
        self.items = nn.Embedding(n_items + 1, d_model, padding_idx=n_items)  # last id = padding
        self.pos = nn.Embedding(window, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.n_items = n_items
        nn.init.normal_(self.items.weight, std=0.02)
        nn.init.normal_(self.pos.weight, std=0.02)  # (default N(0, 1) would drown the item embeddings)

    def forward(self, window: torch.Tensor) -> torch.Tensor:
        """window [B, W] item ids (-1 = pad, left-padded) -> scores [B, n_items] for the next item."""
        ids = torch.where(window < 0, torch.full_like(window, self.n_items), window)
        w = window.shape[1]
        x = self.items(ids) + self.pos.weight[:w]
        causal = torch.triu(torch.ones(w, w, dtype=torch.bool, device=window.device), 1)
        h = self.norm(self.encoder(x, mask=causal))[:, -1]
        return h @ self.items.weight[: self.n_items].T


def train_sasrec(model: SASRec, window: np.ndarray, targets: np.ndarray, settings: TrainSettings, device,
                 progress: Progress | None = None, selection: Selection | None = None) -> list[float]:
    """Full-softmax training on (window -> next item) pairs with the method's one loop; returns the curve."""
    win = torch.as_tensor(window, device=device)
    tgt = torch.as_tensor(np.array(targets), device=device)
    return train_model(model, lambda rows: F.cross_entropy(model(win[rows]), tgt[rows]), len(win), settings, device,
                       progress, "SASRec", selection=selection)


@torch.no_grad()
def sasrec_ranking(model: SASRec, window: np.ndarray, device, k: int = 20, batch: int = 1024) -> np.ndarray:
    """[n, k] the top-k items for every case."""
    model.eval()
    out = []
    for start in range(0, len(window), batch):
        scores = model(torch.as_tensor(window[start : start + batch], device=device))
        out.append(scores.topk(k, dim=1).indices.cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, k), dtype=np.int64)
