"""Amazon Beauty 5-core in the S3-Rec format (TIGER's benchmark).

Expects a folder with ``Beauty.txt`` (one user per line: ``user_id item_1 … item_n``, oldest first,
1-based item ids) and, optionally, ``Beauty_item2attributes.json`` (``{"<item id>": [attribute ids]}``).
Items are re-indexed to 0-based ids; sequences keep their order. Nothing is downloaded.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "Beauty.txt").write_text("1 1 2 3\\n2 2 3\\n")
>>> b = load_amazon_beauty(d)
>>> b.n_items, [s.tolist() for s in b.sequences]
(3, [[0, 1, 2], [1, 2]])
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from workbench.errors import WorkbenchError

SEQUENCES = "Beauty.txt"
ATTRIBUTES = "Beauty_item2attributes.json"


@dataclass
class BeautyData:
    sequences: list[np.ndarray]
    """One array of 0-based item ids per user, oldest first."""
    n_items: int
    attributes: list[list[int]] = field(default_factory=list)
    """Attribute ids of every item (empty lists when the attribute file is absent)."""


def load_amazon_beauty(path: str | Path) -> BeautyData:
    """Read the S3-Rec files under ``path`` (a folder, or the ``Beauty.txt`` file itself)."""
    path = Path(path).expanduser()
    folder = path.parent if path.is_file() else path
    seq_file = path if path.is_file() else folder / SEQUENCES
    if not seq_file.exists():
        raise WorkbenchError(f"No {SEQUENCES} found at {path}; point --data-path at the amazon-beauty folder "
                             "(S3-Rec format: one line per user, 'user item item …').")
    sequences = []
    for number, line in enumerate(seq_file.read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        try:
            items = [int(x) for x in parts[1:]]
        except ValueError as err:
            raise WorkbenchError(f"{seq_file.name} line {number} is not 'user item item …' with integer ids; "
                                 "is this the S3-Rec Beauty.txt?") from err
        if not items or min(items) < 1:
            raise WorkbenchError(f"{seq_file.name} line {number} has no items or a non-positive item id; "
                                 "ids must be 1-based integers.")
        sequences.append(np.array(items, dtype=np.int64) - 1)
    if not sequences:
        raise WorkbenchError(f"{seq_file} holds no sequences; check the file.")
    n_items = int(max(s.max() for s in sequences)) + 1
    attributes: list[list[int]] = [[] for _ in range(n_items)]
    attr_file = folder / ATTRIBUTES
    if attr_file.exists():
        try:
            raw = json.loads(attr_file.read_text())
            for key, values in raw.items():
                item = int(key) - 1
                if 0 <= item < n_items:
                    attributes[item] = [int(v) for v in values]
        except (ValueError, AttributeError) as err:
            raise WorkbenchError(f"{attr_file.name} is not a JSON object of item id -> attribute ids.") from err
    return BeautyData(sequences, n_items, attributes)
