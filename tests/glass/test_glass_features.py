"""SID-Tier on a hand-made history, hard-search buckets, neighbour augmentation, case arrays."""

import numpy as np
import pandas as pd

from workbench.glass.data import SeqData
from workbench.glass.features import (
    Buckets, SidTier, augment_buckets, buckets_of, case_arrays, fit_sid_tier, neighbour_order, tier_of,
)
from workbench.glass.semantic_ids import SemanticIDs


def hand_made():
    """Four items on two axes; item i has c1 = i // 2 (two first-level codes)."""
    emb = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]], dtype=np.float32)
    sids = SemanticIDs(np.array([[0, 0, 0], [0, 1, 0], [1, 0, 0], [1, 1, 0]]), (2, 2), [])
    return emb, sids


def test_sid_tier_histogram_of_a_hand_made_history():
    emb, sids = hand_made()
    tier = fit_sid_tier(emb, sids, n_tiers=2, edges=(-1.0, 0.5, 1.0))
    # every item is close (tier 1) to its own code's prototype and far (tier 0) from the other
    assert tier.item_tier.tolist() == [[1, 0], [1, 0], [0, 1], [0, 1]]
    feats = tier.features(np.array([0, 1, 0, 2])).reshape(2, 2)  # 3 items of code 0, 1 of code 1
    assert np.allclose(feats, [[0.25, 0.75], [0.75, 0.25]])
    assert np.allclose(feats.sum(1), 1.0)  # each code's row splits the whole history over the tiers
    assert tier.features(np.array([], dtype=int)).tolist() == [0.0] * 4


def test_calibrated_edges_put_a_quarter_of_the_observed_cosines_in_each_tier():
    rng = np.random.default_rng(0)
    emb = rng.standard_normal((200, 8)).astype("float32")
    sids = SemanticIDs(np.stack([rng.integers(0, 4, 200), np.zeros(200, int)], 1), (4,), [])
    tier = fit_sid_tier(emb, sids, n_tiers=4)
    shares = np.bincount(tier.item_tier.ravel(), minlength=4) / tier.item_tier.size
    assert np.allclose(shares, 0.25, atol=0.01)
    assert tier.edges[0] == -1.0 and tier.edges[-1] == 1.0


def test_tier_of_clips_to_the_end_tiers():
    assert tier_of(np.array([-2.0, 2.0]), np.array([-1.0, 0.0, 1.0])).tolist() == [0, 1]


def test_bucket_retrieval_keeps_the_most_recent_items_of_each_code():
    c1 = np.array([0, 0, 1, 1, 2])
    history = np.array([0, 2, 1, 3, 2, 0, 1])  # codes 0 1 0 1 1 0 0
    buckets = buckets_of(history, c1, k1=3, m=2)
    assert buckets.tolist() == [[0, 1], [3, 2], [-1, -1]]  # oldest first, code 2 never seen


def test_neighbour_augmentation_fills_only_sparse_buckets_from_the_nearest_codes():
    protos = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    order = neighbour_order(protos)
    assert order[0].tolist() == [1, 2] and order[2][0] == 1
    buckets = np.array([[[5, -1, -1], [6, 7, 8], [9, -1, -1]]])
    out = augment_buckets(buckets, order, tau=2)
    assert out[0, 0].tolist() == [5, 8, 7]  # topped up with code 1's most recent items
    assert out[0, 1].tolist() == [6, 7, 8]  # already full enough: unchanged
    assert out[0, 2].tolist() == [9, 8, 7]


def test_case_arrays_use_only_the_history_before_each_cut():
    emb, sids = hand_made()
    seq = np.array([0, 2, 1, 3, 0, 2])
    cases = pd.DataFrame({"user": [0, 0], "cut": [4, 6], "target": [0, 1], "split": ["train", "test"],
                          "absent": [np.nan, np.nan]})
    data = SeqData(emb, seq, np.array([0, 6]), cases)
    tier = SidTier(np.zeros((2, 2)), np.array([-1.0, 0.5, 1.0]), np.array([[1, 0], [1, 0], [0, 1], [0, 1]]))
    arrays = case_arrays(data, sids, tier, cases, window=2, bucket_size=2)
    assert arrays.window.tolist() == [[1, 3], [0, 2]]
    assert arrays.long_length.tolist() == [2, 4]
    assert arrays.buckets.dense()[0].tolist() == [[0, -1], [2, -1]]        # long history of case 0: items 0, 2
    assert arrays.buckets.dense()[1].tolist() == [[0, 1], [2, 3]]          # case 1 also sees items 1 and 3
    # case 0: target 0 (c1 0), window items 1 (c1 0) and 3 (c1 1): present; case 1 likewise
    assert arrays.absent_code.tolist() == [False, False]
    assert arrays.cases["absent"].tolist() == [False, False]         # real-data slice filled from the SIDs
    assert arrays.true_bucket().tolist() == [[0, -1], [0, 1]]


def test_sparse_buckets_round_trip_and_augment_on_the_fly():
    dense = [np.array([[1, 2], [-1, -1], [3, -1]]), np.array([[-1, -1], [-1, -1], [-1, -1]]), np.array([[4, -1], [5, 6], [-1, -1]])]
    b = Buckets.from_dense(dense, k1=3)
    assert b.codes.tolist() == [0, 2, 0, 1] and b.offsets.tolist() == [0, 2, 2, 4]
    assert np.array_equal(b.dense(), np.stack(dense))
    assert b.of(np.array([0, 2, 1]), np.array([2, 1, 0])).tolist() == [[3, -1], [5, 6], [-1, -1]]
    aug = Buckets.from_dense(dense, k1=3, neighbours=np.array([[1, 2], [0, 2], [0, 1]]), tau=2)
    assert aug.dense()[0, 1].tolist() == [2, 1]  # empty code 1 of case 0 borrowed from code 0 (most recent first)
