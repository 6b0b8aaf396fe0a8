"""Raw Foursquare check-ins of TSMC2014 (Yang et al.): UTC times and fine venue categories.

Two layouts of the same fields load into one table:

- the original ``dataset_TSMC2014_NYC.txt`` / ``_TKY.txt``: tab-separated, no header, columns
  ``user, venue, category id, category, latitude, longitude, timezone offset (minutes), UTC time``
  (``Tue Apr 03 18:00:09 +0000 2012``); UTF-8, or Latin-1 as some copies are saved;
- GETNext's csv (``NYC_train.csv``, ``NYC_val.csv`` …, header ``user_id,POI_id,POI_catid,POI_catname,
  latitude,longitude,timezone,UTC_time,…``); a folder of them loads as one table (their periods joined).

The table has ``user, venue, category_id, category, lat, lon, offset, utc, local`` and the source
``line``; rows are in time order per user. ``top_levels`` maps each fine category to its top-level one
(``Food``, ``Nightlife Spot`` …) with the table shipped beside this file (``foursquare_categories.csv``)
or one of the user's; categories the table lacks are returned as such, for the caller to report.

>>> import tempfile, pathlib
>>> f = pathlib.Path(tempfile.mkdtemp()) / "dataset_TSMC2014_NYC.txt"
>>> _ = f.write_text("470\\t49bbd6c0f964a520f4531fe3\\t4bf58dd8d48988d127951735\\tArts & Crafts Store\\t"
...                  "40.719810375488535\\t-74.00258103213994\\t-240\\tTue Apr 03 18:00:09 +0000 2012\\n")
>>> raw = load_tsmc(f)
>>> raw[["user", "category", "local"]].values.tolist()
[['470', 'Arts & Crafts Store', Timestamp('2012-04-03 14:00:09')]]
>>> top_levels(raw["category"])[0].tolist()
['Shop & Service']
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd

from workbench.datasets.text import decode_line, read_text
from workbench.errors import WorkbenchError

COLUMNS = ("user", "venue", "category_id", "category", "lat", "lon", "offset", "utc")
GETNEXT = {"user_id": "user", "POI_id": "venue", "POI_catid": "category_id", "POI_catname": "category",
           "latitude": "lat", "longitude": "lon", "timezone": "offset", "UTC_time": "utc"}
TIME_FORMAT = "%a %b %d %H:%M:%S +0000 %Y"
CATEGORY_MAP = Path(__file__).with_name("foursquare_categories.csv")
"""The shipped fine → top-level table (``category,top_level``; ``#`` lines are comments)."""


# ---- finding the files -----------------------------------------------------------------------------
def _is_getnext(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            header = fh.readline(4096).decode("utf-8", "replace").strip().split(",")
    except OSError:
        return False
    return set(GETNEXT) <= set(header)


def find_files(path: str | Path) -> list[Path]:
    """The check-in file(s) at ``path``: one TSMC2014 text file, or GETNext csv files (a folder's all)."""
    path = Path(path).expanduser()
    if not str(path) or str(path) == ".":
        raise WorkbenchError("No TSMC2014 path given; pass --data-path with dataset_TSMC2014_NYC.txt (or its folder).")
    if not path.exists():
        raise WorkbenchError(f"No TSMC2014 check-ins at {path}: the path does not exist; pass dataset_TSMC2014_NYC.txt, "
                             "a GETNext csv such as NYC_train.csv, or the folder holding them.")
    if path.is_file():
        return [path]
    texts = sorted(p for p in path.glob("*.txt") if p.name.lower().startswith("dataset_tsmc"))
    csvs = sorted(p for p in path.glob("*.csv") if _is_getnext(p))
    if len(texts) == 1 and not csvs:
        return texts
    if csvs and not texts:
        return csvs
    found = [p.name for p in [*texts, *csvs]]
    if not found:
        raise WorkbenchError(f"No TSMC2014 check-ins in {path} (dataset_TSMC2014_<CITY>.txt, or csv files with the "
                             f"GETNext header {','.join(GETNEXT)}); point --data-path at one of them.")
    raise WorkbenchError(f"{path} holds several check-in files ({', '.join(found)}); pass the one to use as --data-path.")


# ---- reading them ----------------------------------------------------------------------------------
def _read_text_layout(path: Path) -> pd.DataFrame:
    rows, lines = [], []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, 1):
            text = decode_line(raw, path, number, "TSMC2014 check-in file", ("utf-8", "latin-1")).rstrip("\r\n")
            if not text.strip():
                continue
            fields = text.split("\t")
            if len(fields) != len(COLUMNS):
                raise WorkbenchError(f"{path} line {number} has {len(fields)} tab-separated fields, not the {len(COLUMNS)} "
                                     f"of TSMC2014 ({', '.join(COLUMNS)}); is this dataset_TSMC2014_<CITY>.txt?")
            rows.append(fields)
            lines.append(number)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["line"] = lines
    return frame


def _read_getnext(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.StringIO(read_text(path, "GETNext check-in csv")), dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as err:
        raise WorkbenchError(f"{path} is empty; pass a TSMC2014 check-in file.") from err
    except pd.errors.ParserError as err:
        raise WorkbenchError(f"{path} is not a readable csv file ({str(err).splitlines()[0]}).") from err
    missing = [c for c in GETNEXT if c not in frame.columns]
    if missing:
        raise WorkbenchError(f"{path} lacks column(s) {', '.join(missing)} of the GETNext layout ({','.join(GETNEXT)}).")
    frame = frame[list(GETNEXT)].rename(columns=GETNEXT)
    frame["line"] = frame.index + 2  # the header is line 1
    return frame


def _numbers(frame: pd.DataFrame, column: str, path: Path, low: float, high: float) -> pd.Series:
    values = pd.to_numeric(frame[column].str.strip(), errors="coerce")
    bad = values.isna() | ~values.between(low, high)
    if bad.any():
        row = frame[bad].iloc[0]
        raise WorkbenchError(f"{path} line {row['line']}: {column} {row[column]!r} is not a number in [{low:g}, {high:g}].")
    return values


def load_tsmc(path: str | Path) -> pd.DataFrame:
    """The check-ins at ``path`` (file or folder, either layout), validated, in time order per user."""
    frames = []
    for file in find_files(path):
        with file.open("rb") as fh:
            head = fh.read(4096)
        if not head.strip():
            raise WorkbenchError(f"{file} is empty; pass a TSMC2014 check-in file.")
        frame = _read_getnext(file) if _is_getnext(file) else _read_text_layout(file)
        if frame.empty:
            raise WorkbenchError(f"{file} holds no check-ins (only a header); pass the full file.")
        frame["lat"] = _numbers(frame, "lat", file, -90, 90)
        frame["lon"] = _numbers(frame, "lon", file, -180, 180)
        frame["offset"] = _numbers(frame, "offset", file, -720, 840).astype(int)
        utc = pd.to_datetime(frame["utc"].str.strip(), format=TIME_FORMAT, errors="coerce")
        if utc.isna().any():
            row = frame[utc.isna()].iloc[0]
            raise WorkbenchError(f"{file} line {row['line']}: UTC time {row['utc']!r} is not like "
                                 "'Tue Apr 03 18:00:09 +0000 2012'.")
        frame["utc"] = utc
        for column in ("user", "venue", "category"):
            frame[column] = frame[column].str.strip()
            if (frame[column] == "").any():
                raise WorkbenchError(f"{file} line {frame.loc[frame[column] == '', 'line'].iloc[0]}: empty {column}.")
        frame["file"] = file.name
        frames.append(frame)
    raw = pd.concat(frames, ignore_index=True)
    raw["local"] = raw["utc"] + pd.to_timedelta(raw["offset"], unit="m")
    order = raw.assign(_n=range(len(raw))).sort_values(["user", "utc", "_n"], kind="stable").index
    return raw.loc[order].reset_index(drop=True)


# ---- fine → top-level categories -------------------------------------------------------------------
def _key(name: str) -> str:
    return re.sub(r"\s+", " ", str(name)).strip().casefold()


def load_category_map(path: str | Path | None = None) -> dict[str, str]:
    """``{fine category (normalised): top-level category}`` from ``path`` (default: the shipped table)."""
    path = Path(path).expanduser() if path else CATEGORY_MAP
    if not path.is_file():
        raise WorkbenchError(f"No category table at {path}; pass a csv with columns category,top_level.")
    try:
        table = pd.read_csv(io.StringIO(read_text(path, "category table")), comment="#", dtype=str)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise WorkbenchError(f"{path} is not a readable csv with columns category,top_level.") from err
    if not {"category", "top_level"} <= set(table.columns):
        raise WorkbenchError(f"{path} lacks the columns category,top_level (found {', '.join(map(str, table.columns))}).")
    table = table.dropna(subset=["category", "top_level"])
    return {_key(c): t.strip() for c, t in zip(table["category"], table["top_level"]) if t.strip()}


def top_levels(categories: pd.Series, mapping: dict[str, str] | None = None) -> tuple[pd.Series, list[str]]:
    """The top-level category of every fine one (NaN where the table lacks it) and the unmapped names
    (most check-ins first)."""
    mapping = load_category_map() if mapping is None else mapping
    top = categories.map(lambda c: mapping.get(_key(c)))
    unmapped = categories[top.isna()].value_counts().index.tolist()
    return top, unmapped
