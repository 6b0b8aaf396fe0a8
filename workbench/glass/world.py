"""The embedded long-history world: items from a topic hierarchy, users with long-term interests.

Planted ground truth (every number can be checked against it):

* **Items.** ``n_topics × n_subtopics × styles`` items. An item's content embedding is
  ``topic centre + sub-topic direction + style direction + noise``. The sub-topic and style
  directions are *shared* by all topics (one set of directions, reused), so residual quantisation
  finds the same sub-topic split inside every topic and the semantic IDs spread evenly over the
  codebooks instead of piling into a few prefixes. ``noise`` is the knob of the paper's TAOBAO-MM
  (rich embeddings) vs KuaiRec (weak embeddings) story: more noise, worse SIDs.
* **Users** have 3–5 long-term topics with user-specific strengths (Dirichlet), a few favourite
  items in each, and long histories made of episodes: an episode picks a topic by strength (now and
  then a random other topic), a sub-topic, and emits items, a large share of them favourites.
  The last ~``window`` items therefore hold only the one or two current topics (short-term drift).
* **Cases.** At a cut point the next item is, with probability ``p_absent``, a favourite from a
  long-term topic *absent from the short window* — that topic drawn by strength among the absent
  ones, so only the long history tells which topic and which favourite — else it continues the
  current episode. Each case carries the flag ``absent``.
* **No leakage.** Test users are held out (no case of theirs is trained on), and each case's
  features are computed from its own history at its own cut point.

>>> w = make_world(n_topics=6, n_subtopics=2, styles=4, n_train_users=20, n_test_users=5, seed=0)
>>> w.data.n_items, sorted(w.data.cases["split"].unique())
(48, ['test', 'train'])
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from workbench.glass.data import SeqData


@dataclass
class World:
    """The generated data plus the planted truth the walkthroughs and checks use."""

    data: SeqData
    item_topic: np.ndarray
    item_subtopic: np.ndarray
    item_style: np.ndarray
    user_topics: np.ndarray
    """[n_users, max_topics] long-term topics (-1 = none)."""
    user_strength: np.ndarray
    """[n_users, max_topics] strengths (sum to 1 over the user's topics)."""
    favourites: np.ndarray
    """[n_users, max_topics, n_favourites] favourite items of each long-term topic."""
    seq_topic: np.ndarray
    """Topic of the episode each sequence position came from (aligned with ``data.seq_items``)."""


def item_embeddings(n_topics: int, n_subtopics: int, styles: int, dim: int, noise: float,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Content embeddings of the hierarchy: topic centre (norm 1) + shared sub-topic (0.5) and style
    (0.25) directions + Gaussian noise of standard deviation ``noise`` (per unit length).

    >>> e, t, s, k = item_embeddings(2, 2, 2, 8, 0.0, np.random.default_rng(0))
    >>> e.shape, t.tolist(), s.tolist()
    ((8, 8), [0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 1, 1, 0, 0, 1, 1])
    """

    def unit(n: int) -> np.ndarray:
        v = rng.standard_normal((n, dim))
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    topic_dir, sub_dir, style_dir = unit(n_topics), unit(n_subtopics), unit(styles)
    t, s, k = np.meshgrid(np.arange(n_topics), np.arange(n_subtopics), np.arange(styles), indexing="ij")
    t, s, k = t.ravel(), s.ravel(), k.ravel()
    emb = topic_dir[t] + 0.5 * sub_dir[s] + 0.25 * style_dir[k]
    emb = emb + noise * rng.standard_normal(emb.shape)
    return emb.astype(np.float32), t, s, k


def make_world(
    n_topics: int = 8,
    n_subtopics: int = 4,
    styles: int = 8,
    dim: int = 32,
    noise: float = 0.05,
    n_train_users: int = 3000,
    n_test_users: int = 1000,
    n_valid_users: int = 0,
    cases_per_user: int = 8,
    history: tuple[int, int] = (120, 240),
    window: int = 20,
    topics_per_user: tuple[int, int] = (3, 5),
    strength_alpha: float = 0.5,
    n_favourites: int = 3,
    p_favourite: float = 0.4,
    p_explore: float = 0.1,
    episode_mean: float = 12.0,
    p_absent: float = 0.5,
    seed: int = 0,
) -> World:
    """Generate the world; see the module docstring for what each part plants."""
    rng = np.random.default_rng(seed)
    emb, item_topic, item_sub, item_style = item_embeddings(n_topics, n_subtopics, styles, dim, noise, rng)
    per_topic = n_subtopics * styles
    n_users = n_train_users + n_valid_users + n_test_users
    max_topics = topics_per_user[1]

    user_topics = np.full((n_users, max_topics), -1)
    user_strength = np.zeros((n_users, max_topics))
    favourites = np.full((n_users, max_topics, n_favourites), -1)
    fav_weight = np.zeros((n_users, max_topics, n_favourites))
    seqs, seq_topics, rows = [], [], []
    splits = ["train"] * n_train_users + ["valid"] * n_valid_users + ["test"] * n_test_users

    for u in range(n_users):
        k = int(rng.integers(topics_per_user[0], topics_per_user[1] + 1))
        topics = rng.choice(n_topics, size=k, replace=False)
        strength = rng.dirichlet(np.full(k, strength_alpha))
        user_topics[u, :k], user_strength[u, :k] = topics, strength
        for j, z in enumerate(topics):
            favourites[u, j] = z * per_topic + rng.choice(per_topic, size=n_favourites, replace=False)
            fav_weight[u, j] = rng.dirichlet(np.ones(n_favourites))

        # ---- the long sequence: episodes of one topic and sub-topic each ------------------------
        length = int(rng.integers(history[0], history[1] + 1))
        items, topic_of, episode = [], [], []
        while len(items) < length:
            if rng.random() < p_explore:
                j, z = -1, int(rng.integers(n_topics))
            else:
                j = int(rng.choice(k, p=strength))
                z = int(topics[j])
            sub = int(rng.integers(n_subtopics))
            for _ in range(max(1, int(rng.geometric(1.0 / episode_mean)))):
                if j >= 0 and rng.random() < p_favourite:
                    items.append(int(rng.choice(favourites[u, j], p=fav_weight[u, j])))
                else:
                    items.append(z * per_topic + sub * styles + int(rng.integers(styles)))
                topic_of.append(z)
                episode.append((j, z, sub))
        items, topic_of, episode = items[:length], topic_of[:length], episode[:length]
        seqs.append(np.array(items))
        seq_topics.append(np.array(topic_of))

        # ---- cases: cut points with their planted next item --------------------------------------
        n_cases = cases_per_user if splits[u] == "train" else 1
        low = min(length, 2 * window)
        cuts = [length] if splits[u] != "train" else sorted(rng.integers(low, length + 1, size=n_cases))
        for cut in cuts:
            in_window = set(topic_of[cut - window : cut])
            absent_idx = [j for j in range(k) if topics[j] not in in_window]
            if absent_idx and rng.random() < p_absent:
                w = strength[absent_idx] / strength[absent_idx].sum()
                j = int(absent_idx[int(rng.choice(len(absent_idx), p=w))])
                target = int(rng.choice(favourites[u, j], p=fav_weight[u, j]))
                rows.append((u, cut, target, splits[u], True, int(topics[j])))
                continue
            j, z, sub = episode[cut - 1]
            if j >= 0 and rng.random() < p_favourite:
                target = int(rng.choice(favourites[u, j], p=fav_weight[u, j]))
            else:
                target = z * per_topic + sub * styles + int(rng.integers(styles))
            rows.append((u, cut, target, splits[u], False, int(z)))

    lengths = np.array([len(s) for s in seqs])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    cases = pd.DataFrame(rows, columns=["user", "cut", "target", "split", "absent", "target_topic"])
    names = [f"item {i} (t{item_topic[i]}/s{item_sub[i]}/k{item_style[i]})" for i in range(len(emb))]
    data = SeqData(
        item_emb=emb, seq_items=np.concatenate(seqs), seq_offsets=offsets, cases=cases, item_names=names,
        item_groups=item_topic,
        description=(f"generated world: {n_topics} topics × {n_subtopics} sub-topics × {styles} styles = "
                     f"{len(emb)} items, {dim}-dim embeddings, noise {noise}; {n_train_users} train / "
                     f"{n_test_users} held-out test users; mean history {lengths.mean():.0f}"),
    )
    data.validate()
    return World(data, item_topic, item_sub, item_style, user_topics, user_strength, favourites,
                  np.concatenate(seq_topics))


def noisy_twin(world: World, noise: float, seed: int) -> SeqData:
    """The same world with its item embeddings drawn at another ``noise`` level.

    ``make_world`` draws the embeddings first from its seed and nothing after depends on them, so the
    twin is ``make_world(..., noise=noise, seed=seed).data`` without generating the users again:
    same users, sequences and cases (its test cases pair with the world's), other embeddings.
    """
    shape = [int(a.max()) + 1 for a in (world.item_topic, world.item_subtopic, world.item_style)]
    emb, *_ = item_embeddings(*shape, world.data.item_emb.shape[1], noise, np.random.default_rng(seed))
    return replace(world.data, item_emb=emb, description=f"{world.data.description}; embeddings re-drawn with noise {noise}")
