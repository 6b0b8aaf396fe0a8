"""Foursquare check-ins in the shape of method 1 (``NeedsData``); the raw table comes from
``workbench.datasets.foursquare`` (which knows the file, not the method).

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
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.datasets.foursquare import load_checkins
from workbench.needs.schema import NeedsData, hour_bin

WEEKEND = ("Saturday", "Sunday")


def word(text: str) -> str:
    """A label as one lowercase word.

    >>> word("Shop & Service"), word("Nightlife Spot")
    ('shop_service', 'nightlife_spot')
    """
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_") or "unknown"


def load_foursquare(path: str | Path, test_per_user: int = 5, areas: int = 6, seed: int = 0) -> NeedsData:
    """The check-ins at ``path`` (folder or csv) as ``NeedsData``."""
    return checkins_to_needs(load_checkins(path), test_per_user, areas, seed)


def checkins_to_needs(raw: pd.DataFrame, test_per_user: int = 5, areas: int = 6, seed: int = 0) -> NeedsData:
    """Map the raw check-in table (``load_checkins``) to needs, categories and merchants (see above)."""
    from sklearn.cluster import KMeans

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
