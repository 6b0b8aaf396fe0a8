"""What crosses from the data job to the system jobs: one ``SidSetup`` as plain files.

A setup (semantic IDs, tier edges and prototypes, the train and test case arrays) is written once per
seed and read by every system job that trains on it. Arrays go to safetensors (numpy, exact dtypes),
the case tables to parquet, the few scalars to JSON — nothing is pickled, so a job may run in this
process, a spawned worker or on another machine that sees the same folder.

Serialising beats rebuilding the setup in every system job (measured, one thread): rebuilding means
generating the world and walking every case's history again — about 1.5 s of CPU per job in the
smoke profile, 12–14 s in the demo (minutes on real data) — while reading the files back takes
0.02–0.07 s (smoke 1 MB, demo 18 MB per setup). The prefix trie is rebuilt from the codes on load.

Layout of ``<folder>``::

    setup.json            codebook, SID method, bucket settings (k1, tau) of each split
    sids.safetensors      codes, centroids (c0, c1, ...), tier edges, prototypes, neighbour order
    train.parquet / train.safetensors    the training cases and their arrays
    test.parquet  / test.safetensors     the scored cases and their arrays
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from safetensors.numpy import load_file, save_file

from workbench.glass.decode import SIDTrie
from workbench.glass.features import Buckets, CaseArrays
from workbench.glass.semantic_ids import SemanticIDs
from workbench.glass.systems import SidSetup

_ARRAYS = ("window", "tier", "target_codes", "long_length", "absent_code")


def _save_cases(arrays: CaseArrays, folder: Path, name: str) -> dict:
    arrays.cases.to_parquet(folder / f"{name}.parquet", index=False)
    tensors = {key: np.ascontiguousarray(getattr(arrays, key)) for key in _ARRAYS}
    b = arrays.buckets
    tensors.update(bucket_offsets=b.offsets, bucket_codes=b.codes, bucket_items=np.ascontiguousarray(b.items))
    save_file(tensors, str(folder / f"{name}.safetensors"))
    return {"k1": int(b.k1), "tau": int(b.tau), "bucket_size": int(b.items.shape[1]),
            "neighbours": b.neighbours is not None}


def _load_cases(folder: Path, name: str, meta: dict, neighbours: np.ndarray | None) -> CaseArrays:
    t = load_file(str(folder / f"{name}.safetensors"))
    buckets = Buckets(t["bucket_offsets"], t["bucket_codes"], t["bucket_items"], meta["k1"],
                      neighbours if meta["neighbours"] else None, meta["tau"])
    return CaseArrays(pd.read_parquet(folder / f"{name}.parquet"), t["window"], t["tier"], buckets,
                      t["target_codes"], t["long_length"], t["absent_code"])


def save_setup(setup: SidSetup, folder: Path) -> None:
    """Write ``setup`` into ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    sids = setup.sids
    tensors = {"codes": sids.codes, "tier_edges": setup.tier_edges, "prototypes": setup.prototypes,
               **{f"c{level}": np.asarray(c) for level, c in enumerate(sids.centroids)}}
    neighbours = setup.train.buckets.neighbours
    if neighbours is not None:
        tensors["neighbours"] = neighbours
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(folder / "sids.safetensors"))
    meta = {"codebook": list(sids.codebook), "method": sids.method, "levels": len(sids.centroids),
            "train": _save_cases(setup.train, folder, "train"), "test": _save_cases(setup.test, folder, "test")}
    if setup.valid is not None:  # best-on-validation selection's cases (select_every)
        meta["valid"] = _save_cases(setup.valid, folder, "valid")
    (folder / "setup.json").write_text(json.dumps(meta, indent=1))


def load_setup(folder: Path) -> SidSetup:
    """The ``SidSetup`` written by ``save_setup`` (trie rebuilt from the codes)."""
    meta = json.loads((folder / "setup.json").read_text())
    t = load_file(str(folder / "sids.safetensors"))
    sids = SemanticIDs(t["codes"], tuple(meta["codebook"]), [t[f"c{level}"] for level in range(meta["levels"])],
                       meta["method"])
    neighbours = t.get("neighbours")
    valid = _load_cases(folder, "valid", meta["valid"], neighbours) if "valid" in meta else None
    return SidSetup(sids, SIDTrie(sids.codes, sids.sizes), _load_cases(folder, "train", meta["train"], neighbours),
                    _load_cases(folder, "test", meta["test"], neighbours), t["tier_edges"], t["prototypes"], valid)
