"""Beam search over semantic IDs: constrained by a prefix trie of real items, or free.

TIGER generates an item's SID token by token and keeps the ``beam`` best partial SIDs. With
``constrained=True`` every step may only extend a beam with a code that leads to a real item (the
trie below), so every result is an item. Without it the model may produce SIDs that name no item;
``invalid_rate`` measures how often.

GLASS changes one thing: once a beam has chosen its ``c1``, that beam reads the hard-search bucket
of *its own* ``c1`` in every later step.

The trie is a list of dense tables (one per depth): ``child[d][node, code]`` is the node reached by
appending ``code`` at depth ``d`` (the item id at the last depth), or -1 when no item has that prefix.
Dense tables make the constraint a gather + mask on the whole batch (CPU or GPU).

>>> trie = SIDTrie(np.array([[0, 1], [0, 2], [1, 0]]), sizes=(2, 3))
>>> trie.child[1].tolist()      # node 0 = prefix (0,), node 1 = prefix (1,)
[[-1, 0, 1], [2, -1, -1]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from workbench.glass.model import SeqRecModel


class SIDTrie:
    """Prefix trie of every item's SID, as one dense [nodes, codes] table per depth."""

    def __init__(self, codes: np.ndarray, sizes: tuple[int, ...]):
        self.sizes = tuple(sizes)
        self.child: list[torch.Tensor] = []
        node_of = np.zeros(len(codes), dtype=np.int64)  # every item starts at the root (node 0)
        n_nodes = 1
        for depth, size in enumerate(self.sizes):
            table = np.full((n_nodes, size), -1, dtype=np.int64)
            if depth == len(self.sizes) - 1:
                table[node_of, codes[:, depth]] = np.arange(len(codes))
            else:
                keys = node_of * size + codes[:, depth]
                uniq, inverse = np.unique(keys, return_inverse=True)
                table.reshape(-1)[uniq] = np.arange(len(uniq))
                node_of, n_nodes = inverse.reshape(-1), len(uniq)
            self.child.append(torch.from_numpy(table))

    def to(self, device) -> "SIDTrie":
        self.child = [c.to(device) for c in self.child]
        return self

    def item_of(self, sids: np.ndarray) -> np.ndarray:
        """Item id of each SID row, -1 where the SID names no item."""
        node = np.zeros(len(sids), dtype=np.int64)
        for depth, table in enumerate(self.child):
            table = table.cpu().numpy()
            ok = (node >= 0) & (sids[:, depth] >= 0) & (sids[:, depth] < table.shape[1])
            nxt = np.full(len(sids), -1, dtype=np.int64)
            nxt[ok] = table[node[ok], sids[ok, depth]]
            node = nxt
        return node


@dataclass
class BeamResult:
    """Beams of each case, best first."""

    sids: np.ndarray
    """[n, K, L] generated SIDs."""
    items: np.ndarray
    """[n, K] the item each SID names (-1: invalid SID or a dead beam)."""
    scores: np.ndarray
    """[n, K] log-probabilities (-inf for dead beams)."""
    prefixes: list[np.ndarray]
    """prefixes[d] [n, K, d+1]: the beam after depth d, best first (for rank-progression analysis)."""
    gates: np.ndarray | None
    """[n, K] mean gate of each final beam over the steps after c1 (GLASS), else None."""

    @property
    def invalid_rate(self) -> float:
        """Share of live top-K SIDs that name no item."""
        live = np.isfinite(self.scores)
        return float(((self.items < 0) & live).sum() / max(live.sum(), 1))


@torch.no_grad()
def beam_search(model: SeqRecModel, window: torch.Tensor, tier: torch.Tensor | None, buckets: torch.Tensor | None,
                trie: SIDTrie, beam: int = 20, constrained: bool = True) -> BeamResult:
    """Beam search for one batch. ``buckets`` [B, K1, M] (GLASS) gives every beam the bucket of its c1."""
    model.eval()
    device = window.device
    b, levels = window.shape[0], model.levels
    memory = model.encode(window, tier if model.spec.tier_dim else None)
    prefix = torch.full((b, 1, 1), model.bos, dtype=torch.long, device=device)  # [B, beams, tokens]
    scores = torch.zeros(b, 1, device=device)
    node = torch.zeros(b, 1, dtype=torch.long, device=device)
    codes = torch.zeros(b, 1, 0, dtype=torch.long, device=device)
    prefixes, gates, k = [], None, 1
    for depth in range(levels):
        mem = tuple(m.repeat_interleave(k, 0) for m in memory)
        ret = None
        if model.spec.hard_search and buckets is not None and depth > 0:
            c1 = codes[:, :, 0].reshape(-1)
            ret = model.retrieved(buckets.repeat_interleave(k, 0)[torch.arange(b * k, device=device), c1])
        logits, g = model.decode(prefix.reshape(b * k, -1), mem, ret)
        lo, size = int(model.offsets[depth]), model.spec.sizes[depth]
        logp = torch.log_softmax(logits[:, -1, lo : lo + size], -1).reshape(b, k, size)
        nxt_node = trie.child[depth][node.clamp(min=0)]  # [B, k, size]
        nxt_node = torch.where(node[..., None] >= 0, nxt_node, torch.full_like(nxt_node, -1))
        if constrained:
            logp = logp.masked_fill(nxt_node < 0, float("-inf"))
        cand = (scores[..., None] + logp).reshape(b, k * size)
        new_k = min(beam, k * size)
        scores, idx = cand.topk(new_k, dim=1)
        parent, code = idx // size, idx % size
        prefix = torch.cat([_take(prefix, parent), (code + lo)[..., None]], 2)
        codes = torch.cat([_take(codes, parent), code[..., None]], 2)
        node = nxt_node.reshape(b, k * size).gather(1, idx)
        if g is not None:
            gates = g[:, 1:].mean(1).reshape(b, k).gather(1, parent)
        k = new_k
        prefixes.append(codes.cpu().numpy().copy())
    sids = codes.cpu().numpy()
    items = node.cpu().numpy()
    sc = scores.cpu().numpy()
    items[~np.isfinite(sc)] = -1
    return BeamResult(sids, items, sc, prefixes, None if gates is None else gates.cpu().numpy())


def _take(t: torch.Tensor, parent: torch.Tensor) -> torch.Tensor:
    """Rows of ``t`` [B, k, n] picked per beam by ``parent`` [B, k']."""
    return t.gather(1, parent[..., None].expand(-1, -1, t.shape[2]))
