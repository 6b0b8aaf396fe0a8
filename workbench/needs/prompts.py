"""Prompt and completion text, the parser, the decoding grammar and the candidate sets.

One training or test case is a user at one moment: the context of the order and the user's earlier
records. Its text, word by word (each word is one token of the tiny model's tokenizer)::

    ctx weekday h_noon office rainy cityA
    pat r0 h_evening home supper hotpot mA102 x2 ; r2 h_noon office lunch noodle_shop mA020 x1 ;
        r2 h_noon office midday_meal fast_food mA017 x5 ans

Pattern lines are the user's habits: earlier records grouped by (part of day, place, category,
merchant) with how often (``x5``), worded with the latest need phrase, and marked with how well their
context matches the case (``r2`` = same place and part of day). The best matches, then the most
frequent, come last — nearest to ``ans``. The
clustered variants form them only from the records the behavioral filter kept (the "typical
patterns"); the raw variant from every record. The completion is three JSON-like stages::

    { need : midday_meal } { category : fast_food } { services : [ mA017 mA020 mA003 ] }

With ``evidence`` set, the prompt also lists the user's best merchants with their use counts,
grouped by category, before ``ans`` — the counts the isolated recommender ranks by, as LLM rankers
are fed their candidates (``evidence_words``)::

    ... own noodle_shop mA020 x1 ; fast_food mA017 x5 mA003 x1 ans

With ``candidates`` set, stage 3 is handed its candidates tool-style: right after the category the
sequence holds the chosen category's candidate block (``candidate_block``) — each merchant under a slot
word (``c1``, ``c2``, ...) with the user's uses of it, how recently and how well those uses match the
case's context, in the order the isolated recommender ranks them — and the model then writes its
ranking of them by slot, as list rerankers name their passages::

    { need : midday_meal } { category : fast_food } { cands : c1 mA017 x5 ago1 r2 ; c2 mA020 x1 ago8 r1 ;
        c3 mA003 x0 never r0 } { services : [ c2 c1 c3 ] }

A slot word means the same place in every block, so "keep the given order" is one token's prior and a
deviation is read off the slots' words, not copied by merchant id: written with the ids instead, the
tiny model given the right path took the block's first merchant only 71% of the time and lost .13 of
HR@1 to it (coupling 1, seed 0, 600 users). ``parse_chain`` resolves slots to merchant ids, so the
rewards and the evaluation see merchants either way; a merchant outside the block is written as its id.

The block is the tool's output, not the model's: the GRPO rollouts insert it after the sampled
category and mask it from the loss, and inference inserts it after each kept path.

The first service is the order's merchant; the other two are fillers from the candidate set, so the
model learns to write a ranked list. At test time the list is not sampled: the model *ranks* the
candidate set — the user's own merchants in the chosen category plus the city's popular ones — by its
score of each candidate in the first slot (see ``inference``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.needs.data import NeedsData

STAGES = ("need", "category", "services")
_CHAIN = re.compile(
    r"^\{ need : (?P<need>\S+) \}"
    r"(?: \{ category : (?P<category>\S+) \}"
    r"(?: \{ cands : (?P<cands>\S+ \S+ \S+ \S+ \S+(?: ; \S+ \S+ \S+ \S+ \S+)*) \})?"
    r"(?: \{ services : \[ (?P<services>(?:\S+ )*?\S+) \] \})?)?$"
)
_FLAT = re.compile(r"^\{ services : \[ (?P<services>(?:\S+ )*?\S+) \] \}$")
COUNT_WORDS = tuple(f"x{i}" for i in range(1, 10))
"""How often a pattern occurred: x1 .. x9 (x9 = nine or more)."""
MATCH_WORDS = ("r0", "r1", "r2")
"""How well a pattern's context matches the case: r2 = same place and part of day, r1 = one of them."""
SYNTAX_WORDS = ("ctx", "pat", "own", "ans", ";", "{", "}", "[", "]", ":", "need", "category", "services", *COUNT_WORDS,
                *MATCH_WORDS)
RECENCY_WORDS = ("ago1", "ago2", "ago4", "ago8", "ago16", "older", "never")
"""How long ago the user last used a candidate, in the user's records: the latest one (``ago1``), 2,
3-4, 5-8, 9-16, more (``older``), or not at all (``never``)."""
SLOT_WORDS = tuple(f"c{i}" for i in range(1, 17))
"""The candidate block's slots, ``c1`` first in the given order (at most 16 candidates)."""
BLOCK_WORDS = ("cands", "x0", *RECENCY_WORDS, *SLOT_WORDS)
"""The candidate block's own words (``x0``: a candidate the user never used); only in the vocabulary
when the ``candidates`` setting is on, so without it every tokenizer and model stay as they were."""
LAST_WORDS = ("last", "good", "bad", "none")
"""The last order's outcome in the context (``last <need phrase> good|bad``): only in a world whose
``coupling`` dial is above 0, the only data with an ``outcome`` column (else the vocabulary and every
prompt stay as they were)."""


@dataclass(frozen=True)
class Chain:
    """A parsed completion. Missing stages are None (a need-only or need+category completion)."""

    need: str | None = None
    category: str | None = None
    services: tuple[str, ...] = ()
    given: tuple[str, ...] = ()
    """The candidate block's merchants in the order the tool gave them (empty without a block)."""


def chain_text(need: str | None = None, category: str | None = None, services: list[str] | tuple = (),
               block: str = "") -> str:
    """The completion text of a (partial) chain; ``need=None`` gives the flat format. ``block``, a
    ``candidate_block`` text, goes between the category and the services.

    >>> chain_text("lunch", "fast_food", ["mA1", "mA2"])
    '{ need : lunch } { category : fast_food } { services : [ mA1 mA2 ] }'
    >>> chain_text("lunch")
    '{ need : lunch }'
    >>> chain_text(services=["mA1"])
    '{ services : [ mA1 ] }'
    """
    parts = []
    if need is not None:
        parts.append(f"{{ need : {need} }}")
    if category is not None:
        parts.append(f"{{ category : {category} }}")
    if block:
        parts.append(block)
    if services:
        parts.append(f"{{ services : [ {' '.join(services)} ] }}")
    return " ".join(parts)


def parse_chain(text: str) -> Chain | None:
    """Parse a completion; None when it is malformed. Ids are not checked here (see ``rewards``). A
    candidate block's slot words among the services are resolved to the merchants they hold.

    >>> parse_chain("{ need : lunch } { category : fast_food } { services : [ mA1 mA2 ] }")
    Chain(need='lunch', category='fast_food', services=('mA1', 'mA2'), given=())
    >>> parse_chain("{ need : lunch }")
    Chain(need='lunch', category=None, services=(), given=())
    >>> parse_chain("{ services : [ mA1 ] }")
    Chain(need=None, category=None, services=('mA1',), given=())
    >>> parse_chain("{ need : lunch } { category : ff } { cands : c1 mA1 x2 ago1 r2 ; c2 mA2 x0 never r0 } "
    ...             "{ services : [ c2 mA7 ] }")
    Chain(need='lunch', category='ff', services=('mA2', 'mA7'), given=('mA1', 'mA2'))
    >>> parse_chain("{ need : lunch } { category") is None
    True
    """
    text = " ".join(str(text).split())
    if m := _CHAIN.match(text):
        entries = [entry.split() for entry in m["cands"].split(" ; ")] if m["cands"] else []
        slots = {entry[0]: entry[1] for entry in entries}
        services = tuple(slots.get(w, w) for w in m["services"].split()) if m["services"] else ()
        return Chain(m["need"], m["category"], services, tuple(entry[1] for entry in entries))
    if m := _FLAT.match(text):
        return Chain(services=tuple(m["services"].split()))
    return None


# ---- prompts -------------------------------------------------------------------------------------
def context_words(row) -> str:
    """The case's context; with ``last_outcome`` (a coupled world) also the last order's need and outcome.

    >>> class Case: day, hour_bin, scene, weather, city, last_need_text, last_outcome = (
    ...     "weekday", "h_noon", "office", "sunny", "cityA", "supper", "bad")
    >>> context_words(Case)
    'weekday h_noon office sunny cityA last supper bad'
    """
    words = f"{row.day} {row.hour_bin} {row.scene} {row.weather} {row.city}"
    return words + (f" last {row.last_need_text} {row.last_outcome}" if getattr(row, "last_outcome", None) else "")


def with_last_order(records: pd.DataFrame) -> pd.DataFrame:
    """``records`` with the user's previous record's ``last_need_text`` and ``last_outcome`` (``none``
    for a first record) where they have an ``outcome`` column; unchanged otherwise."""
    if "outcome" not in records:
        return records
    previous = records.sort_values("t").groupby("user")[["need_text", "outcome"]].shift(1).reindex(records.index)
    return records.assign(last_need_text=previous["need_text"].fillna("none"),
                          last_outcome=previous["outcome"].fillna("none"))


def pattern_lines(pool: dict[str, np.ndarray], case, n: int) -> list[str]:
    """The user's ``n`` habits most relevant to the case, least relevant first.

    ``pool`` holds the user's earlier records as arrays (hour_bin, scene, need_text, category, merchant,
    t). Relevance = how many of (place, part of day) match — written as ``r0``/``r1``/``r2`` at the
    start of the line — then frequency, then recency.

    >>> pool = {"hour_bin": np.array(["h_noon", "h_noon", "h_evening"]), "scene": np.array(["office"] * 3),
    ...         "need_text": np.array(["lunch", "midday_meal", "supper"]), "category": np.array(["ff", "ff", "hotpot"]),
    ...         "merchant": np.array(["mA1", "mA1", "mA9"]), "t": np.array([0, 1, 2])}
    >>> class Case: hour_bin, scene = "h_noon", "office"
    >>> pattern_lines(pool, Case, 2)
    ['r1 h_evening office supper hotpot mA9 x1', 'r2 h_noon office midday_meal ff mA1 x2']
    """
    groups: dict[tuple, list] = {}
    for i in range(len(pool["t"])):
        key = (pool["hour_bin"][i], pool["scene"][i], pool["category"][i], pool["merchant"][i])
        entry = groups.setdefault(key, [0, "", -1])
        entry[0] += 1
        if pool["t"][i] > entry[2]:
            entry[1], entry[2] = pool["need_text"][i], pool["t"][i]
    match = lambda key: int(key[1] == case.scene) + int(key[0] == case.hour_bin)  # noqa: E731
    ranked = sorted(groups.items(), key=lambda kv: (match(kv[0]), kv[1][0], kv[1][2]))
    return [f"r{match((h, s))} {h} {s} {need} {place_words(c, m)} x{min(count, 9)}"
            for (h, s, c, m), (count, need, _) in ranked[-n:]]


def place_words(category: str, merchant: str) -> str:
    """``<category> <merchant>``, or just the merchant when it already starts with its category (real
    venues ``food_a3/17``, two tokens ``food_a3 /17``): the line then holds the category once, right
    before the rank, so copying a venue from a habit line is "find the category, take the next token".

    >>> place_words("ff", "mA1"), place_words("food_a3", "food_a3/17")
    ('ff mA1', 'food_a3/17')
    """
    return merchant if merchant.startswith(category + "/") else f"{category} {merchant}"


def rank_own(categories, merchants, scenes, case, category: str | None = None) -> list[str]:
    """The user's merchants (in ``category``, or all), best first: most uses at the case's place, then
    most uses, then the latest use. Arrays are the user's earlier records in time order.

    The isolated recommender ranks by it and the evidence block lists merchants in its order. Chosen on
    validation cases of the demo world: with the true category given, HR@1 .488 (count alone: .472;
    uses at the same place and part of day, then count: .487; latest use alone: .438).

    >>> cats, ms = np.array(["ff", "ff", "ff", "ff"]), np.array(["mA1", "mA1", "mA2", "mA3"])
    >>> class Case: scene = "office"
    >>> rank_own(cats, ms, np.array(["home", "home", "office", "home"]), Case)
    ['mA2', 'mA1', 'mA3']
    """
    keys: dict[str, list] = {}
    for i, (c, m) in enumerate(zip(categories, merchants)):
        if category is None or c == category:
            key = keys.setdefault(str(m), [0, 0, 0])
            key[0] += scenes[i] == case.scene
            key[1] += 1
            key[2] = i
    return sorted(keys, key=lambda m: [-k for k in keys[m]])


def evidence_words(pool: dict[str, np.ndarray], case, n: int) -> str:
    """The stage-3 evidence as an LLM ranker is fed it: the user's ``n`` best merchants (``rank_own``)
    with their use counts, grouped by category — ``own <category> <merchant> x<count> ... ;`` — the
    category whose best merchant ranks highest last (nearest ``ans``), each category's best merchant
    right after its name. Empty when ``n`` is 0 or the user has no records.

    >>> pool = {"category": np.array(["ff", "ff", "bakery"]), "merchant": np.array(["mA1", "mA1", "mA9"]),
    ...         "scene": np.array(["office", "office", "home"])}
    >>> class Case: scene = "office"
    >>> evidence_words(pool, Case, 5)
    'own bakery mA9 x1 ; ff mA1 x2'
    """
    ranked = rank_own(pool["category"], pool["merchant"], pool["scene"], case)[:n]
    if not ranked:
        return ""
    category_of = dict(zip(pool["merchant"], pool["category"]))  # the latest record's category wins
    counts = Counter(pool["merchant"].tolist())
    groups: dict[str, list[str]] = {}
    for m in ranked:
        groups.setdefault(category_of[m], []).append(f"{m} x{min(counts[m], 9)}")
    return "own " + " ; ".join(f"{c} {' '.join(ms)}" for c, ms in reversed(groups.items()))


def prompt_text(case, lines: list[str], evidence: str = "") -> str:
    """``ctx <context> pat <line> ; <line> ... [own <evidence>] ans``.

    >>> class Case: day, hour_bin, scene, weather, city = "weekday", "h_noon", "office", "sunny", "cityA"
    >>> prompt_text(Case, ["h_noon office lunch ff mA1 x2"])
    'ctx weekday h_noon office sunny cityA pat h_noon office lunch ff mA1 x2 ans'
    >>> prompt_text(Case, [], "own ff mA1 x2")
    'ctx weekday h_noon office sunny cityA pat own ff mA1 x2 ans'
    """
    parts = [f"ctx {context_words(case)} pat", " ; ".join(lines), evidence, "ans"]
    return " ".join(p for p in parts if p)


# ---- candidates ----------------------------------------------------------------------------------
@dataclass
class Popularity:
    """How often each merchant was ordered in the history period, per city and category."""

    by_city_category: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    by_city: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_records(cls, records: pd.DataFrame, merchants: pd.DataFrame) -> "Popularity":
        counts = records.groupby("merchant").size()
        m = merchants.assign(n=merchants["merchant"].map(counts).fillna(0))
        m = m.sort_values(["n", "merchant"], ascending=[False, True])
        return cls(
            by_city_category={k: g["merchant"].tolist() for k, g in m.groupby(["city", "category"])},
            by_city={k: g["merchant"].tolist() for k, g in m.groupby("city")},
        )


def candidates(own_merchants: list[str], city: str, category: str | None, popularity: Popularity,
               n_popular: int) -> list[str]:
    """The user's own merchants (already restricted to the category and ordered by how often the user
    went there), then the city's most popular ones in ``category`` (or overall when None), no repeats.

    >>> pop = Popularity({("cityA", "bakery"): ["mA1", "mA2", "mA3"]}, {"cityA": ["mA9", "mA1"]})
    >>> candidates(["mA2"], "cityA", "bakery", pop, n_popular=2)
    ['mA2', 'mA1']
    >>> candidates([], "cityA", None, pop, n_popular=5)
    ['mA9', 'mA1']
    """
    popular = popularity.by_city.get(city, []) if category is None else popularity.by_city_category.get((city, category), [])
    return list(dict.fromkeys([*own_merchants, *popular[:n_popular]]))


def own_merchants(categories: np.ndarray, merchants: np.ndarray, category: str | None) -> list[str]:
    """The user's merchants (in ``category`` or all), most often used first (first use breaks ties)."""
    chosen = merchants if category is None else merchants[categories == category]
    return [m for m, _ in Counter(chosen.tolist()).most_common()]


def recency_word(records_ago: int | None) -> str:
    """``RECENCY_WORDS`` entry of a last use ``records_ago`` records back (1 = the latest; None = never).

    >>> [recency_word(k) for k in (1, 2, 3, 5, 16, 17, None)]
    ['ago1', 'ago2', 'ago4', 'ago8', 'ago16', 'older', 'never']
    """
    if records_ago is None:
        return "never"
    for word, bound in zip(RECENCY_WORDS, (1, 2, 4, 8, 16)):
        if records_ago <= bound:
            return word
    return "older"


def case_pool(case) -> dict[str, np.ndarray]:
    """A case's history pool (``build_cases(keep_pool=True)`` columns) as the arrays ``candidate_block`` reads."""
    return {"category": np.asarray(case.pool_categories, dtype=object), "merchant": np.asarray(case.pool_merchants, dtype=object),
            "scene": np.asarray(case.pool_scenes, dtype=object), "hour_bin": np.asarray(case.pool_hour_bins, dtype=object)}


def candidate_block(pool: dict[str, np.ndarray], case, category: str, popularity: Popularity, n_popular: int,
                    n: int) -> tuple[list[str], str]:
    """Stage 3's candidates as a tool hands them to the model: the first ``n`` of the user's merchants
    in ``category`` ranked as the isolated recommender ranks them (``rank_own``: uses at the case's
    place, then all uses, then the latest use), then the city's popular ones there, each as
    ``c<slot> <merchant> x<uses> <recency> r<match>`` — its place in the given order, uses of it in the pool (``x0`` never, ``x9`` nine or
    more), how recently (``recency_word``) and how well its best use matches the case's context (``r2``
    same place and part of day, as in the pattern lines). Returns the candidates in the given order and
    the block text (``""`` when there is no candidate). ``pool`` holds the user's earlier records in
    time order (category, merchant, scene, hour_bin).

    The given order is the pipeline's own: a model that copies it ties the isolated recommender given
    the same path, and whatever it gains is read from the sequence (the part of day in ``r2``, the
    need it chose).

    >>> pool = {"category": np.array(["ff", "ff", "ff", "bakery"]), "merchant": np.array(["mA1", "mA2", "mA1", "mA9"]),
    ...         "scene": np.array(["office", "home", "office", "home"]), "hour_bin": np.array(["h_noon"] * 4)}
    >>> class Case: scene, hour_bin, city = "office", "h_noon", "cityA"
    >>> pop = Popularity({("cityA", "ff"): ["mA3", "mA2"]}, {})
    >>> candidate_block(pool, Case, "ff", pop, n_popular=2, n=3)
    (['mA1', 'mA2', 'mA3'], '{ cands : c1 mA1 x2 ago2 r2 ; c2 mA2 x1 ago4 r1 ; c3 mA3 x0 never r0 }')
    """
    merchants = pool["merchant"]
    own = rank_own(pool["category"], merchants, pool["scene"], case, category)
    given = candidates(own, case.city, category, popularity, n_popular)[:n]
    if not given:
        return [], ""
    match = (pool["scene"] == case.scene).astype(int) + (pool["hour_bin"] == case.hour_bin).astype(int)
    entries = []
    for slot, m in zip(SLOT_WORDS, given):
        uses = np.flatnonzero(merchants == m)
        if len(uses):
            entries.append(f"{slot} {m} x{min(len(uses), 9)} {recency_word(len(merchants) - int(uses[-1]))} "
                           f"r{int(match[uses].max())}")
        else:
            entries.append(f"{slot} {m} x0 never r0")
    return given, "{ cands : " + " ; ".join(entries) + " }"


# ---- the cases -----------------------------------------------------------------------------------
POOL_COLUMNS = ("t", "scene", "hour_bin", "need_text", "category", "merchant")
"""The columns of a user's pool that a case's prompt and candidates read."""


def user_pools(pool_records: pd.DataFrame) -> dict[object, dict[str, np.ndarray]]:
    """Each user's pool records as arrays (``POOL_COLUMNS``) in time order: the order
    ``sort_values("t")`` gives the user's rows, ties included (the same quicksort of the same values).

    Every column is converted once for all users: a frame per user, its columns converted per user,
    and ``itertuples`` per user's group (a new namedtuple class each time) cost the demo's data job
    14 of its 36 CPU s (the same cases, byte for byte).
    """
    arrays = {c: pool_records[c].to_numpy() for c in POOL_COLUMNS}
    pools = {}
    for user, positions in pool_records.groupby("user").indices.items():
        order = positions[np.argsort(arrays["t"][positions], kind="quicksort")]
        pools[user] = {c: a[order] for c, a in arrays.items()}
    return pools


def build_cases(data: NeedsData, records: pd.DataFrame, targets: pd.Series, pool_mask: pd.Series,
                popularity: Popularity, history_size: int, n_popular: int, flat_popular: int,
                keep_pool: bool = False, evidence: int = 0, block_size: int = 0) -> pd.DataFrame:
    """One row per target record: prompt, the truth of each stage, candidate sets and completion texts.

    ``records`` are all records (every split), ``targets`` marks the rows to turn into cases and
    ``pool_mask`` the records that may appear in a prompt's history (all history records for the raw
    variant, the kept ones for the clustered variants). A case sees only its user's earlier records.
    ``keep_pool`` stores each case's pool (categories and merchants, in time order) so candidate sets
    for a *predicted* category can be formed later (test cases, and the GRPO rollouts' candidate blocks).
    ``block_size`` > 0 puts the true category's ``candidate_block`` of that many candidates in
    the completion, takes the completion's fillers from it and writes the services by slot.
    """
    cat_need = data.category_need
    rows = []
    records = with_last_order(records)
    pools = user_pools(records[pool_mask])
    empty = {c: records.iloc[:0][c].to_numpy() for c in POOL_COLUMNS}
    by_user: dict = {}  # the target rows by user: users in order of first appearance, rows in order
    for case in records[targets].itertuples():
        by_user.setdefault(case.user, []).append(case)
    for user, cases in by_user.items():
        arrays = pools.get(user, empty)
        for case in cases:
            before = arrays["t"] < case.t
            sub = {k: v[before] for k, v in arrays.items()}
            own = own_merchants(sub["category"], sub["merchant"], case.category)
            cands = candidates(own, case.city, case.category, popularity, n_popular)
            block, slot_of = "", {}
            if block_size:
                cands, block = candidate_block(sub, case, case.category, popularity, n_popular, block_size)
                slot_of = dict(zip(cands, SLOT_WORDS))
            flat = candidates(own_merchants(sub["category"], sub["merchant"], None), case.city, None, popularity, flat_popular)
            row = {
                "record": case.record, "user": user, "t": case.t, "city": case.city, "split": case.split,
                "day": case.day, "hour_bin": case.hour_bin, "scene": case.scene, "weather": case.weather,
                "prompt": prompt_text(case, pattern_lines(sub, case, history_size), evidence_words(sub, case, evidence)),
                "need_text": case.need_text, "need": case.need, "category": case.category, "merchant": case.merchant,
                "completion": chain_text(case.need_text, case.category,
                                         [slot_of.get(m, m) for m in [case.merchant, *[m for m in cands if m != case.merchant][:2]]],
                                         block),
                "flat_completion": chain_text(services=[case.merchant, *[m for m in flat if m != case.merchant][:2]]),
                "long_tail": bool(case.long_tail) if pd.notna(case.long_tail) else False,
                **({"last_need_text": case.last_need_text, "last_outcome": case.last_outcome}
                   if "last_outcome" in records else {}),
            }
            if keep_pool:
                row["pool_categories"] = sub["category"].tolist()
                row["pool_merchants"] = sub["merchant"].tolist()
                row["pool_scenes"] = sub["scene"].tolist()
                row["pool_hour_bins"] = sub["hour_bin"].tolist()
                row["flat_candidates"] = flat
            rows.append(row)
    out = pd.DataFrame(rows)
    assert out.empty or set(out["category"].map(cat_need)) <= set(data.needs)
    return out


def curriculum_completion(completion: str, stage: str) -> str:
    """Cut a full completion to a curriculum stage: ``need``, ``category`` (need + category) or ``services``.

    >>> full = "{ need : lunch } { category : fast_food } { services : [ mA1 ] }"
    >>> curriculum_completion(full, "need")
    '{ need : lunch }'
    >>> curriculum_completion(full, "category")
    '{ need : lunch } { category : fast_food }'
    """
    chain = parse_chain(completion)
    if chain is None:
        raise ValueError(f"not a chain: {completion!r}")
    if stage == "need":
        return chain_text(chain.need)
    if stage == "category":
        return chain_text(chain.need, chain.category)
    return completion
