"""The one data shape every GLASS run reads: item content embeddings, user sequences, and cases.

A *case* is one prediction: a user, a cut point ``cut`` in that user's sequence, and the item that
comes next (``target``). What the models see is fixed by the cut:

    sequence[:cut]          the whole history before the prediction
    sequence[cut-W:cut]     the short window (TIGER reads only this)
    sequence[:cut-W]        the long-term history (GLASS's SID-Tier and hard search read this)

Both the generated world (``world.py``) and the real datasets (``real.py``) produce ``SeqData``,
so the SID builder, the models and the evaluation never ask where the data came from.

>>> d = SeqData(np.zeros((3, 2), np.float32), np.array([0, 1, 2, 1]), np.array([0, 4]),
...             pd.DataFrame({"user": [0], "cut": [3], "target": [1], "split": ["test"], "absent": [False]}))
>>> d.history(0, 3).tolist(), d.n_items
([0, 1, 2], 3)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

CASE_COLUMNS = ("user", "cut", "target", "split", "absent")


@dataclass
class SeqData:
    """Item embeddings + user sequences (one flat array with offsets) + the cases to learn and test."""

    item_emb: np.ndarray
    """[n_items, dim] float32 content embeddings; SIDs are built from these."""
    seq_items: np.ndarray
    """All users' sequences, concatenated, oldest first (item ids 0..n_items-1)."""
    seq_offsets: np.ndarray
    """[n_users + 1]: user u's sequence is ``seq_items[seq_offsets[u]:seq_offsets[u+1]]``."""
    cases: pd.DataFrame
    """One row per prediction: user, cut, target, split (train/valid/test), absent (bool: the target's
    topic is absent from the short window — planted in the world, derived from SIDs on real data)."""
    item_names: list[str] = field(default_factory=list)
    """Display names of the items (titles on MovieLens; ``item 17 (t2/s1)`` in the world)."""
    item_groups: np.ndarray | None = None
    """Optional [n_items] planted coarse group (the world's topic); None on real data."""
    description: str = ""
    """One line on where the data and the embeddings came from (shown next to the numbers)."""

    @property
    def n_items(self) -> int:
        return int(self.item_emb.shape[0])

    @property
    def n_users(self) -> int:
        return int(len(self.seq_offsets) - 1)

    def sequence(self, user: int) -> np.ndarray:
        return self.seq_items[self.seq_offsets[user] : self.seq_offsets[user + 1]]

    def history(self, user: int, cut: int) -> np.ndarray:
        return self.sequence(user)[:cut]

    def split(self, name: str) -> pd.DataFrame:
        return self.cases[self.cases["split"] == name].reset_index(drop=True)

    def validate(self) -> None:
        """Raise ValueError when the pieces disagree (used by loaders before anything is trained)."""
        missing = [c for c in CASE_COLUMNS if c not in self.cases]
        if missing:
            raise ValueError(f"cases lack column(s) {missing}")
        if self.seq_items.size and (self.seq_items.min() < 0 or self.seq_items.max() >= self.n_items):
            raise ValueError("sequence item ids out of range")
        if (self.cases["target"] < 0).any() or (self.cases["target"] >= self.n_items).any():
            raise ValueError("case targets out of range")
        lengths = np.diff(self.seq_offsets)
        if (self.cases["cut"].to_numpy() > lengths[self.cases["user"].to_numpy()]).any():
            raise ValueError("a case cuts beyond its user's sequence")
