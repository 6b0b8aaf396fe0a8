"""Foursquare NYC check-ins (MAT-Sum's ``foursquare_nyc.csv``) in the shape of method 1 (``NeedsData``).

The mapping from check-ins to living needs (the file has no orders, needs or merchants):

- **need** = the venue's top-level Foursquare category (``Food``, ``Nightlife Spot`` … as one word:
  ``food``, ``nightlife_spot``); one phrase per need (no paraphrases in real logs).
- **category** = need × area: venues are grouped into ``areas`` k-means areas of the city by location,
  so "food in area 3" is the service category the chain passes through (the file has no finer category).
- **merchant** = the venue (``v<poi>``); **city** = ``nyc`` (one city: no cross-city test).
- **context**: weekday/weekend from the day name, the part of day from the hour, the weather, and as
  the "place" the need of the user's previous check-in (``from_food``; ``from_start`` for the first).
- **splits** by time per user: the last ``test_per_user`` check-ins are test cases, the one before
  them validation, the rest history.
- **long tail** (no planted truth here): a test check-in whose need makes up less than 10% of the
  user's history. There are no accidental flags, so the filter's precision/recall is not measured.

>>> load_foursquare("/nonexistent/folder")
Traceback (most recent call last):
...
workbench.errors.WorkbenchError: No Foursquare data at /nonexistent/folder: the path does not exist; pass the folder with foursquare_nyc.csv (or the csv itself).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.needs.schema import NeedsData, hour_bin

COLUMNS = ("tid", "label", "lat", "lon", "day", "hour", "poi", "category", "weather")
WEEKEND = ("Saturday", "Sunday")


def word(text: str) -> str:
    """A label as one lowercase word.

    >>> word("Shop & Service"), word("Nightlife Spot")
    ('shop_service', 'nightlife_spot')
    """
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_") or "unknown"


def find_csv(path: str | Path) -> Path:
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


def read_checkins(path: str | Path) -> pd.DataFrame:
    """The raw check-in table, with one clear error for a file that is not it."""
    csv = find_csv(path)
    try:
        frame = pd.read_csv(csv)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise WorkbenchError(f"{csv} is not a readable csv file ({type(err).__name__}); pass foursquare_nyc.csv.") from err
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise WorkbenchError(f"{csv} is not a Foursquare check-in file: it lacks column(s) {', '.join(missing)} "
                             f"(expected {','.join(COLUMNS)}).")
    return frame


def load_foursquare(path: str | Path, test_per_user: int = 5, areas: int = 6, seed: int = 0) -> NeedsData:
    """Load the check-ins at ``path`` (folder or csv) as ``NeedsData``."""
    from sklearn.cluster import KMeans

    raw = read_checkins(path)
    raw = raw.reset_index(names="row").sort_values(["label", "tid", "row"], kind="stable")
    venues = raw.drop_duplicates("poi")[["poi", "lat", "lon", "category"]].reset_index(drop=True)
    area = KMeans(n_clusters=areas, n_init=3, random_state=seed).fit_predict(venues[["lat", "lon"]].to_numpy())
    venues["need"] = venues["category"].map(word)
    venues["service_category"] = [f"{n}_a{a}" for n, a in zip(venues["need"], area)]
    venues["merchant"] = "v" + venues["poi"].astype(str)
    by_poi = venues.set_index("poi")

    rec = pd.DataFrame({
        "user": "u" + raw["label"].astype(str),
        "city": "nyc",
        "day": np.where(raw["day"].isin(WEEKEND), "weekend", "weekday"),
        "hour": raw["hour"].astype(int),
        "weather": raw["weather"].map(word),
        "need": raw["poi"].map(by_poi["need"]).to_numpy(),
        "category": raw["poi"].map(by_poi["service_category"]).to_numpy(),
        "merchant": raw["poi"].map(by_poi["merchant"]).to_numpy(),
    })
    rec["hour_bin"] = rec["hour"].map(hour_bin)
    rec["need_text"] = rec["need"]
    rec["t"] = rec.groupby("user").cumcount()
    previous = rec.groupby("user")["need"].shift(1)
    rec["scene"] = ("from_" + previous).fillna("from_start")
    n = rec.groupby("user")["t"].transform("size")
    rec["split"] = np.select([rec["t"] >= n - test_per_user, rec["t"] == n - test_per_user - 1], ["test", "val"], "train")
    share = rec[rec["split"] == "train"].groupby(["user", "need"]).size() / rec[rec["split"] == "train"].groupby("user").size()
    rec["long_tail"] = [(rec_split == "test") and share.get((u, nd), 0.0) < 0.1
                        for u, nd, rec_split in zip(rec["user"], rec["need"], rec["split"])]
    rec["accidental"] = np.nan
    rec["kind"] = ""
    rec["true_need"] = rec["need"]
    rec["record"] = np.arange(len(rec))
    rec = rec.reset_index(drop=True)

    needs = sorted(venues["need"].unique())
    phrases = pd.DataFrame({"phrase": needs, "need": needs})
    categories = venues.drop_duplicates("service_category")[["service_category", "need"]].rename(
        columns={"service_category": "category"}).sort_values("category").reset_index(drop=True)
    merchants = pd.DataFrame({"merchant": venues["merchant"], "category": venues["service_category"], "city": "nyc",
                              "x": venues["lon"], "y": venues["lat"], "price": 0})
    users = pd.DataFrame({"user": sorted(rec["user"].unique()), "city": "nyc"})
    info = {"users": len(users), "records": len(rec), "venues": len(venues), "needs": len(needs),
            "categories": len(categories), "test_per_user": test_per_user, "areas": areas,
            "long_tail": "test check-ins whose need is under 10% of the user's history",
            "cross_city": "not available (one city)"}
    return NeedsData(phrases=phrases, categories=categories, merchants=merchants, users=users, records=rec,
                     name="foursquare", info=info)
