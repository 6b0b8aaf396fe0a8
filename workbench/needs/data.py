"""The tables every step of the method reads, whether they come from the synthetic world or real data.

``NeedsData`` holds five pandas tables. Every name in them is one whitespace-free word, because the
tiny model's tokenizer makes one token of each word (``mA017``, ``noodle_shop``, ``midday_meal``).

- ``phrases``     phrase -> need: the wordings a log may use for a living need (``brekkie`` -> ``breakfast``)
- ``categories``  category -> need (each service category serves one need)
- ``merchants``   merchant, category, city, x, y, price
- ``users``       user, city (+ hidden persona, anchors in the synthetic world)
- ``records``     one consumption record per row, in time order per user (see ``RECORD_COLUMNS``)

Hidden truth columns (``accidental``, ``kind``, ``true_need``, ``tail``) are known for the synthetic
world and left empty (NaN/False) for real data; nothing the models see reads them. A world whose
``coupling`` dial is above 0 adds ``outcome`` (good | bad, the order's outcome), which the next case's
prompt shows (``prompts.with_last_order``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from workbench.errors import WorkbenchError

HOUR_BINS = ("h_early", "h_morning", "h_noon", "h_afternoon", "h_evening", "h_night")
"""Six parts of the day: 5-8, 8-11, 11-14, 14-17, 17-21, 21-5 h."""
DAY_TYPES = ("weekday", "weekend")

RECORD_COLUMNS = {
    "record": "global record id (int)",
    "user": "user id (word)",
    "t": "position in the user's history (0 = oldest)",
    "city": "the user's city (word)",
    "day": "weekday | weekend",
    "hour": "hour of day, 0-23",
    "hour_bin": "one of HOUR_BINS",
    "scene": "where the user is: home, office, school, mall, street (or a real dataset's place word)",
    "weather": "weather word",
    "need_text": "the need as logged (a phrase; paraphrases of one need differ)",
    "need": "the canonical need of need_text",
    "category": "service category ordered",
    "merchant": "merchant ordered",
    "split": "train | val | test (the time split per user)",
    "accidental": "hidden truth: an accidental record (promotion, bought for someone else, random)",
    "kind": "hidden truth: clean | promo | for_others | random",
    "true_need": "hidden truth: the need the user's routine called for in this context",
    "long_tail": "hidden truth: the context is one of the user's rare (long-tail) situations",
}


def hour_bin(hour: int) -> str:
    """The part of the day of an hour.

    >>> hour_bin(7), hour_bin(12), hour_bin(23), hour_bin(3)
    ('h_early', 'h_noon', 'h_night', 'h_night')
    """
    if 5 <= hour < 8:
        return "h_early"
    if 8 <= hour < 11:
        return "h_morning"
    if 11 <= hour < 14:
        return "h_noon"
    if 14 <= hour < 17:
        return "h_afternoon"
    if 17 <= hour < 21:
        return "h_evening"
    return "h_night"


@dataclass
class NeedsData:
    """One dataset in the method's shape (synthetic world or a real loader's output)."""

    phrases: pd.DataFrame
    categories: pd.DataFrame
    merchants: pd.DataFrame
    users: pd.DataFrame
    records: pd.DataFrame
    name: str = "synthetic"
    info: dict = field(default_factory=dict)
    """Free-form facts about the dataset (sizes, what a slice means) shown in the notebook and README."""

    # ---- lookups used everywhere -----------------------------------------------------------------
    @property
    def phrase_need(self) -> dict[str, str]:
        return dict(zip(self.phrases["phrase"], self.phrases["need"]))

    @property
    def need_categories(self) -> dict[str, list[str]]:
        return self.categories.groupby("need")["category"].apply(list).to_dict()

    @property
    def category_need(self) -> dict[str, str]:
        return dict(zip(self.categories["category"], self.categories["need"]))

    @property
    def merchant_category(self) -> dict[str, str]:
        return dict(zip(self.merchants["merchant"], self.merchants["category"]))

    @property
    def needs(self) -> list[str]:
        return sorted(self.phrases["need"].unique())

    def validate(self) -> None:
        """Raise a clear error when a table lacks a column or names an unknown id."""
        missing = [c for c in RECORD_COLUMNS if c not in self.records.columns]
        if missing:
            raise WorkbenchError(f"Records lack column(s) {', '.join(missing)}; the loader must provide them.")
        unknown_m = set(self.records["merchant"]) - set(self.merchants["merchant"])
        unknown_c = set(self.records["category"]) - set(self.categories["category"])
        unknown_p = set(self.records["need_text"]) - set(self.phrases["phrase"])
        for label, bad in (("merchant", unknown_m), ("category", unknown_c), ("need phrase", unknown_p)):
            if bad:
                raise WorkbenchError(f"Records name {len(bad)} unknown {label}(s), e.g. {sorted(bad)[0]!r}.")
        words = pd.concat([self.phrases["phrase"], self.categories["category"], self.merchants["merchant"]])
        if words.str.contains(r"\s").any():
            raise WorkbenchError("Phrase, category and merchant names must be single words (no spaces).")
