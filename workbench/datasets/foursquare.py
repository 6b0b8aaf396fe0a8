"""Foursquare NYC check-ins (MAT-Sum's ``foursquare_nyc.csv``): the raw table, validated.

One row per check-in with the file's own columns (``tid, label, lat, lon, day, hour, poi, category,
weather``, any others kept as they are). What a check-in *means* to a method is the method's business:
method 1 maps it to needs, categories and merchants in ``workbench.needs.real``.

>>> load_checkins("/nonexistent/folder")
Traceback (most recent call last):
...
workbench.errors.WorkbenchError: No Foursquare data at /nonexistent/folder: the path does not exist; pass the folder with foursquare_nyc.csv (or the csv itself).
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from workbench.datasets.text import read_text
from workbench.errors import WorkbenchError

COLUMNS = ("tid", "label", "lat", "lon", "day", "hour", "poi", "category", "weather")
NUMERIC = ("lat", "lon", "hour")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def find_csv(path: str | Path) -> Path:
    """The check-in csv at ``path`` (the csv itself, or a folder holding exactly one)."""
    path = Path(path).expanduser()
    if not str(path) or str(path) == ".":
        raise WorkbenchError("No Foursquare path given; pass --data-path pointing at the folder with foursquare_nyc.csv.")
    if not path.exists():
        raise WorkbenchError(f"No Foursquare data at {path}: the path does not exist; pass the folder with "
                             "foursquare_nyc.csv (or the csv itself).")
    if path.is_dir():
        named = path / "foursquare_nyc.csv"
        found = [named] if named.exists() else sorted(path.glob("*.csv"))
        if len(found) != 1:
            raise WorkbenchError(f"Expected one check-in csv in {path} (foursquare_nyc.csv), found {len(found)}.")
        path = found[0]
    return path


def load_checkins(path: str | Path) -> pd.DataFrame:
    """The raw check-in table at ``path`` (folder or csv), with one clear error for a file that is not it."""
    csv = find_csv(path)
    try:
        frame = pd.read_csv(io.StringIO(read_text(csv, "Foursquare check-in csv")))
    except pd.errors.EmptyDataError as err:
        raise WorkbenchError(f"{csv} is empty; pass the full foursquare_nyc.csv.") from err
    except pd.errors.ParserError as err:
        raise WorkbenchError(f"{csv} is not a readable csv file ({str(err).splitlines()[0]}); pass foursquare_nyc.csv.") from err
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise WorkbenchError(f"{csv} is not a Foursquare check-in file: it lacks column(s) {', '.join(missing)} "
                             f"(expected {','.join(COLUMNS)}).")
    if frame.empty:
        raise WorkbenchError(f"{csv} holds no check-ins (only a header); pass the full foursquare_nyc.csv.")
    for column in NUMERIC:
        values = pd.to_numeric(frame[column], errors="coerce")
        if values.isna().any():
            row = int(values.isna().to_numpy().argmax())
            raise WorkbenchError(f"{csv} line {row + 2}: column {column} must hold numbers in every row "
                                 f"(found {frame[column].iloc[row]!r}); check the file's export.")
        frame[column] = values
    if not frame["hour"].between(0, 23).all():
        row = int((~frame["hour"].between(0, 23)).to_numpy().argmax())
        raise WorkbenchError(f"{csv} line {row + 2}: column hour must lie in 0-23 (found {frame['hour'].iloc[row]}).")
    unknown = sorted(set(frame["day"].astype(str)) - set(DAYS))
    if unknown:
        raise WorkbenchError(f"{csv}: column day must hold English day names (Monday .. Sunday); found {unknown[0]!r}.")
    return frame
