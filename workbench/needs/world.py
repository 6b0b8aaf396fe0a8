"""The synthetic local-life world: seeded, with its hidden truth kept so every claim can be checked.

What it plants (the phenomena of the method doc):

- **Context**: day type × six parts of the day × five scenes (home, office, school, mall, street) + weather.
- **Needs** with 2-3 paraphrases each (``brekkie`` = ``breakfast``): a log names a need in a random
  wording, so an exact-match need reward is noisy while a paraphrase-aware one is not.
- **Categories** (2-4 per need) and **merchants** (per category and city, with a location and a Zipf
  popularity). Two cities share the need/category tree but not the merchants (cross-city test).
- **Personas** fix a peaked (context → need) table and a routine of usual contexts; users of a persona
  prefer one category per need (rain shifts it) and have favourite merchants near home, work and out.
- **Accidents** (~30% of history records): promotions (a user tries a promoted merchant once), orders for
  someone else (another persona's need), and random orders. They are structured, and more frequent
  outside a user's routine, as real accidental purchases are; ``accidental``/``kind`` keep the truth.
- **Long tail**: each persona has two rare situations (context → a specific need) that are rare in the
  history and common among test cases (``long_tail`` flag).
- **Coupling** (``WorldSpec.coupling``, a dial in [0, 1]; 0 = the world above, draw for draw): the
  world above draws need | context, then category | need, then merchant | category and user — the
  isolated pipeline's own factorisation, so a fitted pipeline is near the best possible there. Raising
  the dial plants three dependencies across the stages that real life has (each measured on the data
  by ``dependence.planted``, in bits):

  1. *Which merchant of a category depends on the need's occasion.* Each category serves one need
     here, so what the need adds within a category is its occasion, the part of day: with probability
     ``coupling`` an order at any but the need's first part of day goes to the user's favourite for
     (category, place, part of day), not the one for (category, place) — the early breakfast from
     one bakery, the late one from another. Measured: I(merchant; part of day | user, category, place).
  2. *Which category serves a need depends on context beyond the need.* With probability ``coupling``
     the category is the user's own choice for (need, part of day) — and on a rainy day the need's
     first category, on a cold one its last — instead of the user's usual one. Measured:
     I(category; part of day, weather | user, need).
  3. *The next need depends on the last service's outcome.* Every record gets an ``outcome`` (``bad``
     with probability ``BAD_OUTCOME``, else ``good``); after a bad one, with probability ``coupling``
     the user orders the same need again right away, from another of its categories. Measured:
     I(same need as last; last outcome). The prompt shows the last order's need and outcome
     (``prompts.context_words``) and the isolated classifier gets them as features.

  The dial's draws come from a second generator (``coupling_rng``), so the main stream — and every
  number of the world at 0 — is the same as without the dial; ``outcome`` is written only when the
  dial is above 0.
- **Splits** by time per user: the last record is the test case, the one before it validation; users of
  the second city form the cross-city test. Evaluation cases are never accidental (an accident is by
  definition unpredictable; the training history keeps them).

>>> data = generate_world(WorldSpec(users=30, min_records=20, max_records=24), seed=0)
>>> data.validate()
>>> sorted(data.records["split"].unique())
['test', 'train', 'val']
>>> bool(data.records.query("split != 'train'")["accidental"].any())
False
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.needs.data import DAY_TYPES, HOUR_BINS, NeedsData
from workbench.needs.dependence import planted

SCENES = ("home", "office", "school", "mall", "street")
WEATHERS = ("sunny", "rainy", "cold")
WEATHER_P = (0.6, 0.25, 0.15)
_ALL_H, _ALL_S = HOUR_BINS, SCENES

# need: (paraphrases, categories (the first is the rainy-day choice), parts of day, scenes, weight as a
# persona's usual need). Meals and coffee are everyday needs; haircut or car care are occasional.
NEEDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...], float]] = {
    "breakfast": (("breakfast", "morning_meal", "brekkie"), ("congee_shop", "bakery", "breakfast_cafe"),
                  ("h_early", "h_morning"), _ALL_S, 3.0),
    "lunch": (("lunch", "midday_meal"), ("fast_food", "noodle_shop", "salad_bar", "rice_bowl"), ("h_noon",), _ALL_S, 3.0),
    "dinner": (("dinner", "evening_meal", "supper"), ("hotpot", "bbq", "family_restaurant"), ("h_evening",), _ALL_S, 3.0),
    "late_night_snack": (("late_night_snack", "midnight_munchies"), ("convenience_store", "skewers", "fried_chicken"),
                         ("h_night",), _ALL_S, 3.0),
    "coffee_break": (("coffee_break", "caffeine_fix", "pick_me_up"), ("coffee_shop", "tea_house"),
                     ("h_morning", "h_afternoon"), ("office", "school", "mall", "street"), 2.0),
    "dessert": (("dessert", "sweet_treat"), ("bubble_tea", "ice_cream", "cake_shop"), ("h_afternoon", "h_evening", "h_night"),
                _ALL_S, 1.5),
    "groceries": (("groceries", "home_cooking_supplies"), ("grocery_delivery", "supermarket", "fresh_market"),
                  ("h_morning", "h_afternoon", "h_evening"), ("home", "street", "mall"), 2.0),
    "medicine": (("medicine", "pharmacy_run", "feeling_unwell"), ("pharmacy", "clinic"), _ALL_H, _ALL_S, 0.1),
    "haircut": (("haircut", "hair_styling"), ("barber", "hair_salon"), ("h_morning", "h_afternoon"), ("mall", "street"), 1.0),
    "laundry": (("laundry", "dry_cleaning"), ("laundromat", "dry_cleaner"), ("h_morning", "h_evening"), ("home", "street"), 1.0),
    "pet_care": (("pet_care", "pet_supplies", "pet_grooming"), ("pet_store", "pet_groomer"), ("h_morning", "h_afternoon"),
                 ("home", "street", "mall"), 1.0),
    "kids_activity": (("kids_activity", "family_outing"), ("play_center", "kids_class"), ("h_morning", "h_afternoon"),
                      ("mall", "street", "home"), 1.0),
    "flowers_gifts": (("flowers_gifts", "gift_shopping", "present_buying"), ("florist", "gift_shop"),
                      ("h_afternoon", "h_evening"), ("mall", "street", "office"), 1.0),
    "car_care": (("car_care", "car_wash"), ("car_wash_station", "auto_repair"), ("h_morning", "h_afternoon"),
                 ("street", "home"), 1.0),
    "fitness": (("fitness", "workout"), ("gym", "yoga_studio"), ("h_early", "h_evening"), ("home", "office", "street"), 1.5),
}
PROMO_CATEGORIES = ("bubble_tea", "fried_chicken", "fast_food", "gift_shop", "ice_cream", "hair_salon", "cake_shop")
OCCASIONAL = ("haircut", "laundry", "pet_care", "kids_activity", "flowers_gifts", "car_care", "medicine")
"""Needs that make good long-tail situations: rare for a user, specific to a persona."""

# The day of a persona: a usual place per (day type, part of day); "work" is the persona's workplace.
_WEEKDAY = {"h_early": "home", "h_morning": "work", "h_noon": "work", "h_afternoon": "work", "h_evening": "home",
            "h_night": "home"}
_WEEKEND = {"h_early": "home", "h_morning": "home", "h_noon": "out", "h_afternoon": "out", "h_evening": "home",
            "h_night": "home"}


@dataclass(frozen=True)
class WorldSpec:
    """Sizes and rates of the world (the method's Config passes its own values)."""

    users: int = 1500
    min_records: int = 40
    max_records: int = 60
    personas: int = 8
    city_b_share: float = 0.2
    merchants_per_category: int = 10
    accident_rate_routine: float = 0.26
    """Chance that a history record in a routine context is accidental."""
    accident_rate_other: float = 0.55
    """Chance outside the routine (unusual places and times invite one-off purchases)."""
    usual_contexts: int = 6
    """How many (day type, part of day, place) situations make up a persona's routine."""
    need_peak: float = 0.9
    """Probability of a persona's usual need in a context (the rest goes to a second need and others)."""
    tail_train_weight: float = 0.02
    """Chance that a history record happens in each of the persona's two rare situations."""
    tail_test_share: float = 0.5
    """Share of evaluation cases drawn from the rare situations (the long-tail slice)."""
    favourite_share: float = 0.8
    """Chance that a clean order goes to the user's favourite merchant for (category, place)."""
    promo_share: float = 0.15
    """Share of a city's merchants that run promotions (a user tries each promoted merchant once)."""
    coupling: float = 0.0
    """How strongly the stages depend on each other beyond the pipeline's factorisation (module doc)."""


BAD_OUTCOME = 0.25
"""Chance that an order goes badly (late, wrong, closed) when ``coupling`` > 0."""


def coupling_rng(seed: int) -> np.random.Generator:
    """The dial's own random stream, apart from the world's (so ``coupling=0`` changes no draw)."""
    return np.random.default_rng([seed, 22])


def _cells() -> list[tuple[str, str, str]]:
    return [(d, h, s) for d in DAY_TYPES for h in HOUR_BINS for s in SCENES]


def _compatible(hour: str, scene: str) -> list[str]:
    found = [n for n, (_, _, hours, scenes, _) in NEEDS.items() if hour in hours and scene in scenes]
    return found or [n for n, (_, _, hours, _, _) in NEEDS.items() if hour in hours]


def _need_table(rng: np.random.Generator, repertoire: list[str], peak: float) -> dict:
    """A persona's P(need | cell) for every cell: its usual need there (``peak``), a second need (0.12),
    a little of the rest. Usual and second needs come from the persona's small repertoire when it has a
    need that fits the cell: people order the same few things."""
    names = list(NEEDS)
    table = {}
    for cell in _cells():
        options = _compatible(cell[1], cell[2])
        mine = [n for n in options if n in repertoire]
        ranked = mine + [n for n in options if n not in mine]
        weights = np.array([NEEDS[n][4] * (20.0 if n in mine else 1.0) for n in ranked])
        order = [ranked[i] for i in rng.choice(len(ranked), size=len(ranked), replace=False, p=weights / weights.sum())]
        probs = np.zeros(len(names))
        probs[names.index(order[0])] = peak
        second = 0.07 if len(order) > 1 else 0.0
        peak = min(peak, 1.0 - second - 0.01)
        if second:
            probs[names.index(order[1])] += second
        rest = order[2:] or order[:1]
        rest_w = np.array([NEEDS[n][4] for n in rest])
        for n, w in zip(rest, rest_w):
            probs[names.index(n)] += (1 - peak - second) * w / rest_w.sum()
        table[cell] = probs / probs.sum()
    return table


def _personas(spec: WorldSpec, rng: np.random.Generator) -> list[dict]:
    cells = _cells()
    names = list(NEEDS)
    everyday = [n for n in names if n not in OCCASIONAL]
    personas = []
    for p in range(spec.personas):
        work = ("office", "school", "home")[p % 3] if p % 4 != 3 else "office"
        out = ("mall", "street")[p % 2]
        plan = [(day, hour, {"work": work, "out": out}.get(place, place))
                for day, day_plan in (("weekday", _WEEKDAY), ("weekend", _WEEKEND)) for hour, place in day_plan.items()]
        usual = [plan[i] for i in rng.choice(len(plan), size=spec.usual_contexts, replace=False)]
        routine_w = rng.dirichlet(np.full(len(usual), 4.0))
        w_every = np.array([NEEDS[n][4] for n in everyday])
        repertoire = [everyday[i] for i in rng.choice(len(everyday), size=5, replace=False, p=w_every / w_every.sum())]
        repertoire += [OCCASIONAL[int(rng.integers(len(OCCASIONAL) - 1))]]  # one occasional habit (not medicine)
        table = _need_table(rng, repertoire, spec.need_peak)
        # Two rare situations, each with an occasional need outside the repertoire (the long tail).
        others = [c for c in cells if c not in usual and set(_compatible(c[1], c[2])) & set(OCCASIONAL)]
        tail_cells = [others[i] for i in rng.choice(len(others), size=2, replace=False)]
        for cell in tail_cells:
            options = [n for n in _compatible(cell[1], cell[2]) if n in OCCASIONAL and n not in repertoire]
            options = options or [n for n in _compatible(cell[1], cell[2]) if n in OCCASIONAL]
            probs = np.full(len(names), 0.15 / (len(names) - 1))
            probs[names.index(options[int(rng.integers(len(options)))])] = 0.85
            table[cell] = probs
        # History distribution over all cells: routine, the two rare situations, a little of the rest.
        w = np.zeros(len(cells))
        rest = [i for i, c in enumerate(cells) if c not in usual and c not in tail_cells]
        other_mass = 0.03
        for c, weight in zip(usual, routine_w):
            w[cells.index(c)] += (1 - 2 * spec.tail_train_weight - other_mass) * weight
        for c in tail_cells:
            w[cells.index(c)] += spec.tail_train_weight
        w[rest] += other_mass / len(rest)
        test_w = np.zeros(len(cells))
        for c, weight in zip(usual, routine_w):
            test_w[cells.index(c)] += weight
        personas.append({"id": p, "usual": set(usual), "tail": tail_cells, "table": table, "repertoire": repertoire,
                         "history_p": w / w.sum(), "test_p": test_w / test_w.sum()})
    return personas


def _merchants(spec: WorldSpec, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for city in ("A", "B"):
        idx = 0
        for need, (_, cats, *_rest) in NEEDS.items():
            for cat in cats:
                pop = 1.0 / (np.arange(spec.merchants_per_category) + 1) ** 0.8
                for j in rng.permutation(spec.merchants_per_category):
                    rows.append({"merchant": f"m{city}{idx:03d}", "category": cat, "city": f"city{city}",
                                 "x": rng.random(), "y": rng.random(), "price": int(rng.integers(1, 4)),
                                 "popularity": float(pop[j] / pop.sum())})
                    idx += 1
    return pd.DataFrame(rows)


def generate_world(spec: WorldSpec = WorldSpec(), seed: int = 0) -> NeedsData:
    """Generate the world of ``spec`` from ``seed`` (same seed, same world)."""
    rng = np.random.default_rng(seed)
    need_names = list(NEEDS)
    phrases = pd.DataFrame([{"phrase": p, "need": n} for n, v in NEEDS.items() for p in v[0]])
    categories = pd.DataFrame([{"category": c, "need": n} for n, v in NEEDS.items() for c in v[1]])
    cat_need = dict(zip(categories["category"], categories["need"]))
    merchants = _merchants(spec, rng)
    personas = _personas(spec, rng)
    cells = _cells()
    all_categories = categories["category"].tolist()

    # numpy views per (category, city): merchant ids, locations, popularity (the loop below is hot)
    by_cat_city = {
        k: (g["merchant"].to_numpy(), g[["x", "y"]].to_numpy(), g["popularity"].to_numpy())
        for k, g in merchants.groupby(["category", "city"])
    }
    merchant_cat = dict(zip(merchants["merchant"], merchants["category"]))
    # Promotions: a pool of promoted merchants per city, most of them snack and treat shops.
    promos = {}
    for city in ("cityA", "cityB"):
        pool = merchants[merchants["city"] == city]
        weight = np.where(pool["category"].isin(PROMO_CATEGORIES), 4.0, 1.0)
        pick = rng.choice(len(pool), size=int(spec.promo_share * len(pool)), replace=False, p=weight / weight.sum())
        promos[city] = pool["merchant"].to_numpy()[pick]

    def pick_merchant(cat: str, city: str, at: np.ndarray, sharp: float = 0.3, gen: np.random.Generator = rng,
                      avoid: str | None = None) -> str:
        ids, xy, pop = by_cat_city[(cat, city)]
        w = pop * np.exp(-np.hypot(xy[:, 0] - at[0], xy[:, 1] - at[1]) / sharp) * (ids != avoid)
        return ids[gen.choice(len(ids), p=w / w.sum())]

    crng, dial = coupling_rng(seed), spec.coupling

    users, rows = [], []
    record_id = 0
    for u in range(spec.users):
        city = "cityB" if rng.random() < spec.city_b_share else "cityA"
        persona = personas[int(rng.integers(len(personas)))]
        anchors = {"home": rng.random(2), "work": rng.random(2), "out": rng.random(2)}
        cat_pref = {}
        for n in need_names:
            cats = NEEDS[n][1]
            w = np.full(len(cats), 0.2 / max(len(cats) - 1, 1))
            w[rng.integers(len(cats))] = 0.8 if len(cats) > 1 else 1.0
            cat_pref[n] = w / w.sum()
        favourites: dict[tuple[str, str], str] = {}
        occasion_favourites: dict[tuple[str, str, str], str] = {}  # coupling 1: (category, place, part of day)
        own_category: dict[tuple[str, str], str] = {}  # coupling 2: (need, part of day) -> category
        last: tuple[str, str, str] | None = None  # coupling 3: the previous order's (need, category, outcome)
        tried_promos: set[str] = set()
        user = f"u{u:05d}"
        users.append({"user": user, "city": city, "persona": persona["id"],
                      **{f"{k}_{xy}": float(v[i]) for k, v in anchors.items() for i, xy in enumerate("xy")}})
        n = int(rng.integers(spec.min_records, spec.max_records + 1))
        for t in range(n):
            split = "test" if t == n - 1 else ("val" if t == n - 2 else "train")
            if split == "train":
                cell = cells[rng.choice(len(cells), p=persona["history_p"])]
            elif rng.random() < spec.tail_test_share:
                cell = persona["tail"][int(rng.integers(2))]
            else:
                cell = cells[rng.choice(len(cells), p=persona["test_p"])]
            day, hbin, scene = cell
            weather = WEATHERS[rng.choice(3, p=WEATHER_P)]
            true_need = need_names[rng.choice(len(need_names), p=persona["table"][cell])]
            place = "home" if scene == "home" else ("work" if scene in ("office", "school") else "out")
            rate = spec.accident_rate_routine if cell in persona["usual"] else spec.accident_rate_other
            kind = "clean"
            if split == "train" and rng.random() < rate:
                kind = ("promo", "for_others", "random")[rng.choice(3, p=(0.5, 0.3, 0.2))]
            if kind == "clean":
                need = true_need
                retry = dial > 0 and last is not None and last[2] == "bad" and crng.random() < dial
                if retry:  # coupling 3: a bad order is ordered again right away
                    need = last[0]
                cats = NEEDS[need][1]
                if weather == "rainy" and rng.random() < 0.5:
                    cat = cats[0]
                else:
                    cat = cats[rng.choice(len(cats), p=cat_pref[need])]
                if dial > 0 and crng.random() < dial:  # coupling 2: the category follows the context
                    if weather in ("rainy", "cold"):
                        cat = cats[0] if weather == "rainy" else cats[-1]
                    else:
                        cat = own_category.setdefault((need, hbin), cats[int(crng.integers(len(cats)))])
                if retry and cat == last[1] and len(cats) > 1:  # ... from another category than the bad one
                    cat = [c for c in cats if c != cat][int(crng.integers(len(cats) - 1))]
                key = (cat, place)
                if key not in favourites:
                    favourites[key] = pick_merchant(cat, city, anchors[place], sharp=0.15)
                merchant = favourites[key] if rng.random() < spec.favourite_share else pick_merchant(cat, city, anchors[place], 0.15)
                if dial > 0 and merchant == favourites[key] and hbin != NEEDS[need][2][0] and crng.random() < dial:
                    # coupling 1: this occasion of the need has its own favourite in the category
                    if (cat, place, hbin) not in occasion_favourites:
                        occasion_favourites[(cat, place, hbin)] = pick_merchant(
                            cat, city, anchors[place], 0.15, crng, avoid=favourites[key])
                    merchant = occasion_favourites[(cat, place, hbin)]
            elif kind == "promo":
                fresh = [m for m in promos[city] if m not in tried_promos]  # a promotion is tried once
                merchant = fresh[int(rng.integers(len(fresh)))]
                tried_promos.add(merchant)
                cat = merchant_cat[merchant]
                need = cat_need[cat]
            elif kind == "for_others":
                for _ in range(5):  # someone else's need, usually not one of the user's own habits
                    other = personas[int(rng.integers(len(personas)))]
                    need = need_names[rng.choice(len(need_names), p=other["table"][cell])]
                    if need not in persona["repertoire"]:
                        break
                cats = NEEDS[need][1]
                cat = cats[int(rng.integers(len(cats)))]
                merchant = pick_merchant(cat, city, anchors[place], sharp=1.0)
            else:
                cat = all_categories[int(rng.integers(len(all_categories)))]
                need = cat_need[cat]
                ids = by_cat_city[(cat, city)][0]
                merchant = ids[int(rng.integers(len(ids)))]
            start = {"h_early": 5, "h_morning": 8, "h_noon": 11, "h_afternoon": 14, "h_evening": 17, "h_night": 21}[hbin]
            span = 8 if hbin == "h_night" else (4 if hbin == "h_evening" else 3)
            paraphrases = NEEDS[need][0]
            if dial > 0:
                last = (need, cat, "bad" if crng.random() < BAD_OUTCOME else "good")
            rows.append({
                "record": record_id, "user": user, "t": t, "city": city, "day": day,
                "hour": int((start + rng.integers(span)) % 24), "hour_bin": hbin, "scene": scene, "weather": weather,
                "need_text": paraphrases[int(rng.integers(len(paraphrases)))], "need": need, "category": cat,
                "merchant": merchant, "split": split, "accidental": kind != "clean", "kind": kind,
                "true_need": true_need, "long_tail": cell in persona["tail"],
                **({"outcome": last[2]} if dial > 0 else {}),
            })
            record_id += 1
    records = pd.DataFrame(rows)
    info = {
        "users": spec.users, "records": len(records),
        "accidental_share_history": float(records.query("split == 'train'")["accidental"].mean()),
        "needs": len(NEEDS), "phrases": len(phrases), "categories": len(categories), "merchants": len(merchants),
        "long_tail": "test cases in one of the persona's two rare situations (planted)",
        "cross_city": "users of cityB (their merchants are rarely seen in training targets)",
        "coupling": spec.coupling,
        **{f"{name} (bits)": bits for name, bits in planted(records).items()},
    }
    return NeedsData(phrases=phrases, categories=categories, merchants=merchants.drop(columns="popularity"),
                     users=pd.DataFrame(users), records=records, name="synthetic", info=info)
