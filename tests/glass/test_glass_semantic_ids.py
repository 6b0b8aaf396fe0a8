"""Semantic IDs: unique after the collision digit, per-level readouts, both quantisers."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import WorkbenchError
from workbench.glass.semantic_ids import add_collision_digit, build_sids, first_level_prototypes, sid_stats, sid_warnings
from workbench.glass.world import item_embeddings


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=1, max_size=40))
def test_collision_digit_makes_every_sid_unique(rows):
    codes = add_collision_digit(np.array(rows))
    assert len({tuple(r) for r in codes.tolist()}) == len(rows)
    assert (codes[:, :2] == np.array(rows)).all()  # the quantised codes are kept as they were


def test_items_with_identical_embeddings_still_get_distinct_sids():
    rng = np.random.default_rng(0)
    emb = np.repeat(rng.standard_normal((10, 6)), 3, axis=0).astype("float32")  # every item three times
    sids = build_sids(emb, codebook=(4, 2, 2), seed=0)
    assert len({tuple(r) for r in sids.codes.tolist()}) == len(emb)
    assert sids.collision_size >= 3
    assert sid_stats(sids)[2]["collision rate"] >= 2 / 3 - 1e-9


def test_world_hierarchy_gives_well_spread_sids():
    emb, topic, _, _ = item_embeddings(8, 4, 8, 32, 0.05, np.random.default_rng(0))
    sids = build_sids(emb, codebook=(8, 4, 8), seed=0)
    stats = sid_stats(sids)
    assert stats[0]["usage"] == 1.0 and stats[0]["entropy / max"] > 0.99
    assert stats[2]["collision rate"] < 0.1  # shared sub-topic/style directions: few collisions
    # with 8 level-1 codes for 8 topics, c1 recovers the planted topic exactly (up to renaming)
    pairs = {(int(t), int(c)) for t, c in zip(topic, sids.codes[:, 0])}
    assert len(pairs) == 8


def test_resizing_is_one_setting_and_changes_bucket_density():
    emb, *_ = item_embeddings(8, 4, 8, 32, 0.05, np.random.default_rng(1))
    fine = sid_stats(build_sids(emb, (16, 8, 8)))[0]["items per prefix (mean)"]
    coarse = sid_stats(build_sids(emb, (8, 8, 8)))[0]["items per prefix (mean)"]
    assert coarse == pytest.approx(2 * fine)


def test_rqvae_builds_unique_ids():
    emb, *_ = item_embeddings(4, 2, 4, 16, 0.05, np.random.default_rng(0))
    sids = build_sids(emb, codebook=(4, 4, 4), method="rqvae", seed=0)
    assert sids.method == "rqvae" and sids.codes.shape == (32, 4)
    assert len({tuple(r) for r in sids.codes.tolist()}) == 32


def test_prototypes_are_code_means():
    emb, *_ = item_embeddings(2, 2, 2, 8, 0.0, np.random.default_rng(0))
    sids = build_sids(emb, (2, 2, 2))
    protos = first_level_prototypes(emb, sids)
    for a in range(2):
        assert np.allclose(protos[a], emb[sids.codes[:, 0] == a].mean(0), atol=1e-6)


def test_bad_settings_raise_one_clear_error():
    with pytest.raises(WorkbenchError, match="Unknown SID method"):
        build_sids(np.zeros((4, 2), "float32"), method="magic")
    with pytest.raises(WorkbenchError, match="positive"):
        build_sids(np.zeros((4, 2), "float32"), codebook=(0, 2))


def test_bucket_check_flags_crowded_and_idle_codebooks():
    rng = np.random.default_rng(0)
    emb = np.repeat(rng.standard_normal((4, 6)), 8, axis=0).astype("float32")  # 4 distinct embeddings, 32 items
    warnings = sid_warnings(sid_stats(build_sids(emb, codebook=(16, 2, 2), seed=0)))
    assert any("uses only" in w for w in warnings)  # 16 codes for 4 distinct points
    assert any("collision digit" in w for w in warnings)
    good, *_ = item_embeddings(8, 4, 8, 32, 0.05, np.random.default_rng(0))
    assert sid_warnings(sid_stats(build_sids(good, (8, 4, 8)))) == []
