"""Foursquare check-ins in the shape of method 1 (``NeedsData``); the raw tables come from
``workbench.datasets.foursquare`` (MAT-Sum's csv) and ``workbench.datasets.tsmc`` (raw TSMC2014), which
know the files, not the method. Neither file has orders, needs or merchants; the mapping:

``foursquare`` (MAT-Sum: top-level categories, day names and hours, weather):

- **need** = the venue's top-level Foursquare category (``Food``, ``Nightlife Spot`` … as one word:
  ``food``, ``nightlife_spot``); one phrase per need (no paraphrases in real logs).
- **category** = need × area: venues are grouped into ``areas`` k-means areas of the city by location,
  so "food in area 3" is the service category the chain passes through (the file has no finer category).
- **merchant** = the venue; **city** = ``nyc`` (one city: no cross-city test).
- **context**: weekday/weekend from the day name, the part of day from the hour, the weather.

``foursquare-tsmc`` (raw TSMC2014: UTC times, fine venue categories, no weather):

- **need** = the top-level category of the venue's fine category (the shipped fine → top-level
  table, or ``category_map``); fine categories the table lacks go to the need ``other`` and are
  counted, with examples, in the data card (``info["unmapped"]``) and a warning — never dropped.
- **category** = the fine venue category (``pizza_place``, ``subway``); **merchant** = the venue.
- **context**: weekday/weekend and the part of day from the *local* time (UTC + the row's offset);
  weather ``none``; **city** from the file name (``nyc``/``tky``).

Both: a venue is one word ``v<id>`` (``venue_words=id``, the default), or with ``venue_words=ranked``
``<category>/<rank>`` (``food_a3/17``: the 18th most checked-in venue of its category in the training
check-ins), which the word tokenizer makes two tokens, so 11k venues cost 2.2k vocabulary entries,
not 11k — 2.7x faster builds, but lower HR@3 (README, "Real data"). The merchants table's ``venue``
column keeps the original id. As the "place": the need of the user's previous check-in
(``from_food``; ``from_start`` for the first); **splits** by time per user: the last
``test_per_user`` check-ins are test cases, the one before them validation, the rest history
(users with fewer than ``test_per_user + 2`` check-ins are left out and counted); **long tail** (no
planted truth here): a test check-in whose need makes up less than 10% of the user's history. There
are no accidental flags, so the filter's precision/recall is not measured.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.datasets import tsmc
from workbench.datasets.foursquare import load_checkins
from workbench.errors import WorkbenchError
from workbench.needs.config import Config
from workbench.needs.data import NeedsData, hour_bin

WEEKEND = ("Saturday", "Sunday")
UNMAPPED = "other"
"""The need of check-ins whose fine category the category table lacks."""


def word(text: str) -> str:
    """A label as one lowercase ASCII word.

    >>> word("Shop & Service"), word("Nightlife Spot"), word("Café")
    ('shop_service', 'nightlife_spot', 'cafe')
    """
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_") or "unknown"


def load_foursquare(path: str | Path, test_per_user: int = 5, areas: int = 6, seed: int = 0,
                    venue_words: str = "id") -> NeedsData:
    """The MAT-Sum check-ins at ``path`` (folder or csv) as ``NeedsData``."""
    return checkins_to_needs(load_checkins(path), test_per_user, areas, seed, venue_words)


def checkins_to_needs(raw: pd.DataFrame, test_per_user: int = 5, areas: int = 6, seed: int = 0,
                      venue_words: str = "id") -> NeedsData:
    """Map MAT-Sum's check-in table (``load_checkins``) to needs, categories and merchants (see above)."""
    from sklearn.cluster import KMeans

    raw = raw.reset_index(names="row").sort_values(["label", "tid", "row"], kind="stable")
    venues = raw.drop_duplicates("poi")[["poi", "lat", "lon", "category"]].reset_index(drop=True)
    area = KMeans(n_clusters=min(areas, len(venues)), n_init=3, random_state=seed).fit_predict(venues[["lat", "lon"]].to_numpy())
    venues["need"] = venues["category"].map(word)
    venues["category"] = [f"{n}_a{a}" for n, a in zip(venues["need"], area)]
    venues["merchant"] = "v" + venues["poi"].astype(str)
    by_poi = venues.set_index("poi")
    rec = pd.DataFrame({
        "user": "u" + raw["label"].astype(str),
        "city": "nyc",
        "day": np.where(raw["day"].isin(WEEKEND), "weekend", "weekday"),
        "hour": raw["hour"].astype(int).to_numpy(),
        "weather": raw["weather"].map(word).to_numpy(),
        "merchant": raw["poi"].map(by_poi["merchant"]).to_numpy(),
    })
    info = {"source": "MAT-Sum foursquare_nyc.csv (top-level categories, day names, hours, weather)",
            "areas": areas, "categories_are": f"need x one of {areas} k-means areas of the city (the file has no finer category)"}
    return _assemble(rec, venues.assign(city="nyc"), test_per_user, "foursquare", info, venue_words)


def load_tsmc_needs(path: str | Path, category_map: str | Path | None = None, test_per_user: int = 5,
                    venue_words: str = "id") -> NeedsData:
    """The raw TSMC2014 check-ins at ``path`` (either layout) as ``NeedsData`` (see above)."""
    return tsmc_to_needs(tsmc.load_tsmc(path), tsmc.load_category_map(category_map or None), test_per_user,
                         category_map=str(category_map or tsmc.CATEGORY_MAP.name), venue_words=venue_words)


def tsmc_to_needs(raw: pd.DataFrame, mapping: dict[str, str], test_per_user: int = 5, category_map: str = "",
                  venue_words: str = "id") -> NeedsData:
    """Map the TSMC2014 table (``tsmc.load_tsmc``) to needs (top-level), categories (fine) and venues."""
    top, unmapped = tsmc.top_levels(raw["category"], mapping)
    raw = raw.assign(need=top.map(word, na_action="ignore").fillna(UNMAPPED))
    # a venue keeps one fine category (its most frequent), so every merchant is in one category
    venues = (raw.groupby(["venue", "category", "need"]).size().rename("n").reset_index()
              .sort_values(["venue", "n", "category"], ascending=[True, False, True]).drop_duplicates("venue"))
    venues["category"] = _category_words(venues["category"], venues["need"])
    coords = raw.groupby("venue")[["lat", "lon"]].first()
    venues = venues.join(coords, on="venue").reset_index(drop=True)
    venues["merchant"] = "v" + venues["venue"].map(word)
    city = _city(raw["file"].iloc[0])
    venues["city"] = city
    by_venue = venues.set_index("venue")
    local = raw["local"]
    rec = pd.DataFrame({
        "user": "u" + raw["user"].map(word),
        "city": city,
        "day": np.where(local.dt.dayofweek >= 5, "weekend", "weekday"),
        "hour": local.dt.hour.to_numpy(),
        "weather": "none",
        "merchant": raw["venue"].map(by_venue["merchant"]).to_numpy(),
    })
    n_unmapped = int(raw["need"].eq(UNMAPPED).sum()) if unmapped else 0
    info = {"source": f"TSMC2014 check-ins ({', '.join(sorted(raw['file'].unique()))}; local time = UTC + offset)",
            "fine_categories": int(raw["category"].nunique()), "category_map": category_map,
            "unmapped": {"categories": len(unmapped), "checkins": n_unmapped, "examples": unmapped[:5],
                         "kept_as_need": UNMAPPED},
            "categories_are": "the fine Foursquare venue category; need = its top-level category"}
    if unmapped:
        warnings.warn(f"{len(unmapped)} fine venue categor{'y' if len(unmapped) == 1 else 'ies'} ({n_unmapped} check-ins) "
                      f"are not in the category table {category_map}, e.g. {', '.join(map(repr, unmapped[:3]))}; "
                      f"they are kept under the need '{UNMAPPED}' (add them to a table passed as category_map).",
                      stacklevel=2)
    return _assemble(rec, venues, test_per_user, "foursquare-tsmc", info, venue_words)


def _category_words(fine: pd.Series, need: pd.Series) -> list[str]:
    """Fine categories as words, never equal to a need word and each in one need (suffixed when not).

    >>> _category_words(pd.Series(["Food", "Pizza Place", "Bar", "Bar"]), pd.Series(["food", "food", "nightlife_spot", "food"]))
    ['food_general', 'pizza_place', 'bar_nightlife_spot', 'bar_food']
    """
    words = fine.map(word)
    words = words.where(~words.isin(set(need)), words + "_general")
    shared = pd.Series(need.to_numpy(), index=words.to_numpy()).groupby(level=0).nunique()
    return [f"{w}_{n}" if shared[w] > 1 else w for w, n in zip(words, need)]


def _city(file_name: str) -> str:
    for city in ("NYC", "TKY"):
        if city in file_name.upper():
            return city.lower()
    return "city"


def ranked_venue_words(venues: pd.DataFrame, train: pd.DataFrame) -> pd.Series:
    """Each venue's word ``<category>/<rank>``: rank 0 is the venue with the most training check-ins in
    its category (ties by id). One token per rank serves every category, and a rank means the same
    thing everywhere ("the 3rd most visited of its kind"); test check-ins never decide a rank.

    >>> venues = pd.DataFrame({"merchant": ["v1", "v2", "v3"], "category": ["bar", "bar", "cafe"]})
    >>> ranked_venue_words(venues, pd.DataFrame({"merchant": ["v2", "v2", "v1", "v3"]})).tolist()
    ['bar/1', 'bar/0', 'cafe/0']
    """
    uses = venues["merchant"].map(train["merchant"].value_counts()).fillna(0)
    order = venues.assign(uses=-uses).sort_values(["category", "uses", "merchant"])
    rank = order.groupby("category").cumcount()
    return (venues["category"] + "/" + rank.reindex(venues.index).astype(str)).rename("merchant")


def _assemble(rec: pd.DataFrame, venues: pd.DataFrame, test_per_user: int, name: str, info: dict,
              venue_words: str = "id") -> NeedsData:
    """``NeedsData`` from check-ins in time order per user (``user, city, day, hour, weather, merchant``)
    and their venues (``merchant, category, need, lat, lon, city``): context, splits, slices, tables."""
    if venue_words not in Config.choices("venue_words"):
        raise WorkbenchError(f"venue_words={venue_words!r} is not one of {', '.join(Config.choices('venue_words'))}.")
    if test_per_user < 1:
        raise WorkbenchError(f"test_per_user={test_per_user} must be at least 1.")
    by_merchant = venues.set_index("merchant")
    rec["need"] = rec["merchant"].map(by_merchant["need"]).to_numpy()
    rec["category"] = rec["merchant"].map(by_merchant["category"]).to_numpy()
    size = rec.groupby("user")["user"].transform("size")
    short = size < test_per_user + 2
    dropped = {"users": int(rec.loc[short, "user"].nunique()), "checkins": int(short.sum())}
    rec = rec[~short].reset_index(drop=True)
    if rec.empty:
        raise WorkbenchError(f"No user has the {test_per_user + 2} check-ins a test split of test_per_user={test_per_user} "
                             "needs; lower test_per_user.")
    rec["hour_bin"] = rec["hour"].map(hour_bin)
    rec["need_text"] = rec["need"]
    rec["t"] = rec.groupby("user").cumcount()
    previous = rec.groupby("user")["need"].shift(1)
    rec["scene"] = ("from_" + previous).fillna("from_start")
    n = rec.groupby("user")["t"].transform("size")
    rec["split"] = np.select([rec["t"] >= n - test_per_user, rec["t"] == n - test_per_user - 1], ["test", "val"], "train")
    train = rec[rec["split"] == "train"]
    share = train.groupby(["user", "need"]).size() / train.groupby("user").size()
    rec["long_tail"] = [(split == "test") and share.get((u, nd), 0.0) < 0.1
                        for u, nd, split in zip(rec["user"], rec["need"], rec["split"])]
    rec["accidental"] = np.nan
    rec["kind"] = ""
    rec["true_need"] = rec["need"]
    rec["record"] = np.arange(len(rec))

    venues = venues[venues["merchant"].isin(set(rec["merchant"]))].assign(venue=lambda v: v["merchant"])
    if venue_words == "ranked":
        venues["merchant"] = ranked_venue_words(venues, train)
        rec["merchant"] = rec["merchant"].map(venues.set_index("venue")["merchant"])
    needs = sorted(venues["need"].unique())
    phrases = pd.DataFrame({"phrase": needs, "need": needs})
    categories = (venues.drop_duplicates("category")[["category", "need"]].sort_values("category").reset_index(drop=True))
    merchants = pd.DataFrame({"merchant": venues["merchant"].to_numpy(), "category": venues["category"].to_numpy(),
                              "city": venues["city"].to_numpy(), "x": venues["lon"].to_numpy(), "y": venues["lat"].to_numpy(),
                              "price": 0, "venue": venues["venue"].to_numpy()})
    users = rec.drop_duplicates("user")[["user", "city"]].sort_values("user").reset_index(drop=True)
    info = {"users": len(users), "records": len(rec), "venues": len(merchants), "needs": len(needs),
            "categories": len(categories), "test_per_user": test_per_user,
            "venue_words": ("<category>/<rank by training check-ins> (two tokens)" if venue_words == "ranked"
                            else "one word per venue id"),
            "left_out": {**dropped, "why": f"fewer than {test_per_user + 2} check-ins"}, **info,
            "long_tail": "test check-ins whose need is under 10% of the user's history",
            "cross_city": "not available (one city)"}
    return NeedsData(phrases=phrases, categories=categories, merchants=merchants, users=users, records=rec,
                     name=name, info=info)


def check(config) -> None:
    """One clear error for an unknown real dataset, a missing path or category table, before any job starts."""
    from workbench.datasets.foursquare import find_csv

    if config.dataset not in ("foursquare", "foursquare-tsmc"):
        raise WorkbenchError(f"Unknown dataset {config.dataset!r} for needs; choose synthetic, foursquare or foursquare-tsmc.")
    if not config.data_path:
        raise WorkbenchError(f"Dataset {config.dataset!r} needs --data-path (the folder or file of its check-ins).")
    if config.test_per_user < 1:
        raise WorkbenchError(f"test_per_user={config.test_per_user} must be at least 1.")
    if config.dataset == "foursquare":
        find_csv(config.data_path)
    else:
        tsmc.find_files(config.data_path)
        tsmc.load_category_map(config.category_map or None)
