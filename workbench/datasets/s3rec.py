"""Sequence benchmarks in the S3-Rec format (TIGER's and S3-Rec's Beauty, Sports_and_Outdoors,
Toys_and_Games, Yelp, LastFM), found by name.

A dataset ``<Name>`` is two files side by side:

- ``<Name>.txt``: one user per line, ``user_id item_1 … item_n`` (integer item ids, oldest first);
- ``<Name>_item2attributes.json`` (optional): ``{"<item id>": [attribute ids]}``.

``path`` is the ``.txt`` file itself (its attribute file is then looked up beside it) or a folder with
``name`` naming the dataset; a folder holding exactly one S3-Rec file needs no name. Item and
attribute ids are re-indexed by their distinct values (dense 0-based, in the order of the original
ids, which ``item_ids`` / ``attribute_ids`` keep for display), so memory follows the data's size,
never its largest id. Nothing is downloaded.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "Toys.txt").write_text("1 10 3000000000 7\\n2 7 10\\n")
>>> data = load_s3rec(d)
>>> data.name, data.n_items, [s.tolist() for s in data.sequences], data.item_ids
('Toys', 3, [[1, 2, 0], [0, 1]], [7, 10, 3000000000])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from workbench.datasets.text import decode_line, read_json
from workbench.errors import WorkbenchError

ATTRIBUTE_SUFFIX = "_item2attributes.json"
ALIASES = {"amazon_beauty": "Beauty"}
"""Older dataset names that mean one S3-Rec dataset (``--dataset amazon_beauty`` = ``Beauty``)."""


@dataclass
class S3RecData:
    name: str
    """The dataset's name: the stem of its ``.txt`` file (``Sports_and_Outdoors``)."""
    sequences: list[np.ndarray]
    """One array of dense 0-based item indices per user, oldest first."""
    item_ids: list[int]
    """The original item id of each dense index (ascending)."""
    sequence_file: Path
    attribute_file: Path | None = None
    """``<Name>_item2attributes.json`` when it was found beside the sequences, else None."""
    attributes: list[list[int]] = field(default_factory=list)
    """Dense attribute indices of every item (empty lists when there is no attribute file)."""
    attribute_ids: list[int] = field(default_factory=list)
    """The original attribute id of each dense attribute index."""

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_users(self) -> int:
        return len(self.sequences)

    @property
    def n_actions(self) -> int:
        return int(sum(len(s) for s in self.sequences))

    @property
    def n_attributes(self) -> int:
        return len(self.attribute_ids)

    def card(self) -> dict:
        """Name, files and counts: what a run's data card says about the dataset."""
        return {"name": self.name, "sequences": str(self.sequence_file),
                "attributes_file": str(self.attribute_file) if self.attribute_file else None,
                "users": self.n_users, "items": self.n_items, "actions": self.n_actions,
                "attributes": self.n_attributes}


# ---- finding the files -----------------------------------------------------------------------------
def _looks_like_s3rec(path: Path) -> bool:
    """A ``.txt`` file whose first line is whitespace-separated integers (so README.txt is not one)."""
    try:
        with path.open("rb") as fh:
            first = fh.readline(65536).split()
    except OSError:
        return False
    return len(first) >= 2 and all(t.lstrip(b"-").isdigit() for t in first)


def dataset_names(folder: Path) -> list[str]:
    """Names of the S3-Rec datasets in ``folder`` (stems of its S3-Rec ``.txt`` files)."""
    return sorted(p.stem for p in folder.glob("*.txt") if p.is_file() and _looks_like_s3rec(p))


def find_files(path: str | Path, name: str = "") -> tuple[Path, Path | None, str]:
    """``(sequence file, attribute file or None, name)`` for ``path`` and an optional ``name``."""
    path = Path(path).expanduser()
    name = ALIASES.get(name, name).removesuffix(".txt")
    if not str(path) or str(path) == ".":
        raise WorkbenchError("No S3-Rec path given; pass --data-path with a folder of <Name>.txt files or the file itself.")
    if not path.exists():
        raise WorkbenchError(f"No S3-Rec data at {path}: the path does not exist; pass the folder with <Name>.txt "
                             "(one line per user: 'user item item …') or the file itself.")
    if path.is_file():
        if name and name != path.stem:
            raise WorkbenchError(f"--data-path names the file {path.name} but the dataset name is {name!r}; "
                                 "pass the folder instead, or drop the name.")
        seq_file = path
    else:
        found = dataset_names(path)
        if name:
            seq_file = path / f"{name}.txt"
            if not seq_file.is_file():
                listed = ", ".join(found) if found else "none"
                raise WorkbenchError(f"No {name}.txt in {path} (S3-Rec datasets found there: {listed}); "
                                     "set the name to one of them.")
        elif len(found) == 1:
            seq_file = path / f"{found[0]}.txt"
        elif len(texts := sorted(path.glob("*.txt"))) == 1:
            seq_file = texts[0]  # not in the format, but the only candidate: reading it says what is wrong
        elif not found:
            raise WorkbenchError(f"No S3-Rec sequence file (<Name>.txt, one line per user: 'user item item …') in {path}; "
                                 "point --data-path at the folder holding it or at the file itself.")
        else:
            raise WorkbenchError(f"{path} holds several S3-Rec datasets ({', '.join(found)}); pick one with "
                                 f"--set name={found[0]} or pass its .txt file as --data-path.")
    attr_file = seq_file.with_name(seq_file.stem + ATTRIBUTE_SUFFIX)
    return seq_file, (attr_file if attr_file.is_file() else None), seq_file.stem


# ---- reading them ----------------------------------------------------------------------------------
def _read_sequences(seq_file: Path) -> tuple[list[np.ndarray], list[int]]:
    """Dense sequences and the original id of each dense index, re-indexed by distinct ids."""
    first_seen: dict[int, int] = {}
    sequences = []
    with seq_file.open("rb") as fh:
        for number, raw in enumerate(fh, 1):
            parts = decode_line(raw, seq_file, number, "S3-Rec sequence file").split()
            if not parts:
                continue
            try:
                items = [int(x) for x in parts[1:]]
            except ValueError as err:
                raise WorkbenchError(f"{seq_file} line {number} is not 'user item item …' with integer item ids; "
                                     "is this an S3-Rec sequence file?") from err
            if not items:
                raise WorkbenchError(f"{seq_file} line {number} names a user but no items; remove that line.")
            sequences.append(np.array([first_seen.setdefault(i, len(first_seen)) for i in items], dtype=np.int64))
    if not sequences:
        raise WorkbenchError(f"{seq_file} holds no sequences; check the file.")
    # dense indices in the order of the original ids (so 1..N stays 0..N-1)
    originals = np.array(list(first_seen), dtype=object)
    order = sorted(range(len(originals)), key=originals.__getitem__)
    remap = np.empty(len(order), dtype=np.int64)
    remap[order] = np.arange(len(order))
    return [remap[s] for s in sequences], [int(originals[i]) for i in order]


def _read_attributes(attr_file: Path, item_index: dict[int, int]) -> tuple[list[list[int]], list[int]]:
    """Dense attribute indices per item (items absent from the sequences are skipped)."""
    shape = "a JSON object of item id -> list of integer attribute ids, as S3-Rec writes it"
    raw = read_json(attr_file, "S3-Rec attribute file", dict, shape)
    per_item: dict[int, list[int]] = {}
    for key, values in raw.items():
        try:
            item = int(key)
            if not isinstance(values, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                raise ValueError
        except ValueError as err:
            raise WorkbenchError(f"{attr_file}: the entry {str(key)[:40]!r} is not an item id with a list of integer "
                                 f"attribute ids; expected {shape}.") from err
        if item in item_index:
            per_item[item_index[item]] = values
    attribute_ids = sorted({v for values in per_item.values() for v in values})
    dense = {a: i for i, a in enumerate(attribute_ids)}
    attributes = [[dense[v] for v in per_item.get(i, [])] for i in range(len(item_index))]
    return attributes, attribute_ids


def load_s3rec(path: str | Path, name: str = "") -> S3RecData:
    """The S3-Rec dataset at ``path`` (folder + ``name``, or the ``<Name>.txt`` file)."""
    seq_file, attr_file, name = find_files(path, name)
    sequences, item_ids = _read_sequences(seq_file)
    data = S3RecData(name, sequences, item_ids, seq_file, attr_file)
    if attr_file is not None:
        index = {item: i for i, item in enumerate(item_ids)}
        data.attributes, data.attribute_ids = _read_attributes(attr_file, index)
    else:
        data.attributes = [[] for _ in item_ids]
    return data
