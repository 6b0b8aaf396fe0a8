"""MovieLens (ml-latest-small layout): ratings as time-ordered sequences, movies with titles and genres.

Expects a folder with ``ratings.csv`` (userId,movieId,rating,timestamp) and ``movies.csv``
(movieId,title,genres). Every rated movie becomes an item (0-based, in movieId order); each user's
sequence is their ratings sorted by time (ties by movieId). Nothing is downloaded.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "ratings.csv").write_text("userId,movieId,rating,timestamp\\n1,10,4,2\\n1,5,3,1\\n2,10,5,1\\n")
>>> _ = (d / "movies.csv").write_text("movieId,title,genres\\n5,A (1990),Drama\\n10,B (1991),Comedy|Drama\\n")
>>> m = load_movielens(d)
>>> [s.tolist() for s in m.sequences], m.movies["title"].tolist()
([[0, 1], [1]], ['A (1990)', 'B (1991)'])
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.datasets.text import read_text
from workbench.errors import WorkbenchError


@dataclass
class MovieLensData:
    sequences: list[np.ndarray]
    """One array of 0-based item ids per user, oldest first."""
    movies: pd.DataFrame
    """One row per item (row i = item i): movieId, title, genres."""

    @property
    def n_items(self) -> int:
        return len(self.movies)

    def item_texts(self) -> list[str]:
        """'Title (year). Genres: A, B' — what the text encoder embeds."""
        return [f"{t}. Genres: {g.replace('|', ', ')}" for t, g in zip(self.movies["title"], self.movies["genres"])]


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if not path.exists():
        raise WorkbenchError(f"No {path.name} found in {path.parent}; point --data-path at the MovieLens folder "
                             "(ml-latest-small layout: ratings.csv and movies.csv).")
    try:
        frame = pd.read_csv(io.StringIO(read_text(path, f"MovieLens {path.name}")))
    except pd.errors.EmptyDataError as err:
        raise WorkbenchError(f"{path} is empty; expected a csv with the header {','.join(columns)}.") from err
    except pd.errors.ParserError as err:
        raise WorkbenchError(f"{path} is not a readable CSV file ({str(err).splitlines()[0]}); check the MovieLens folder.") from err
    missing = [c for c in columns if c not in frame]
    if missing:
        raise WorkbenchError(f"{path} lacks column(s) {', '.join(missing)}; expected {', '.join(columns)}.")
    if frame.empty:
        raise WorkbenchError(f"{path} holds only a header; pass the full MovieLens {path.name}.")
    for column in ("userId", "movieId", "rating", "timestamp"):
        if column in columns and not pd.api.types.is_numeric_dtype(frame[column]):
            row = int(pd.to_numeric(frame[column], errors="coerce").isna().to_numpy().argmax())
            raise WorkbenchError(f"{path} line {row + 2}: column {column} must hold numbers (found {frame[column].iloc[row]!r}).")
    return frame


def load_movielens(path: str | Path, min_rating: float = 0.0) -> MovieLensData:
    """Read ``ratings.csv`` + ``movies.csv`` under ``path``; keep ratings >= ``min_rating``."""
    folder = Path(path).expanduser()
    if folder.is_file():
        folder = folder.parent
    ratings = _read(folder / "ratings.csv", ("userId", "movieId", "rating", "timestamp"))
    movies = _read(folder / "movies.csv", ("movieId", "title", "genres"))
    ratings = ratings[ratings["rating"] >= min_rating]
    if ratings.empty:
        raise WorkbenchError(f"No ratings >= {min_rating} in {folder / 'ratings.csv'}; lower min_rating.")
    rated = np.sort(ratings["movieId"].unique())
    movies = movies.drop_duplicates("movieId").set_index("movieId").reindex(rated)
    movies["title"] = movies["title"].fillna("unknown title")
    movies["genres"] = movies["genres"].fillna("(no genres listed)")
    movies = movies.reset_index()
    index = pd.Series(np.arange(len(rated)), index=rated)
    ratings = ratings.assign(item=index.loc[ratings["movieId"]].to_numpy()).sort_values(["userId", "timestamp", "movieId"])
    sequences = [g.to_numpy() for _, g in ratings.groupby("userId", sort=True)["item"]]
    return MovieLensData(sequences, movies[["movieId", "title", "genres"]])
