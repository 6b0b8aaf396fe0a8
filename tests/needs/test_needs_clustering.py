"""The behavioral filter finds planted accidents on a small world; its live re-thresholding is pure."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import WorkbenchError
from workbench.needs import clustering
from workbench.needs.world import WorldSpec, generate_world


@pytest.fixture(scope="module")
def clustered():
    data = generate_world(WorldSpec(users=300), seed=5)
    history = data.records[data.records["split"] != "test"]
    return clustering.cluster_records(history, sorted(history["scene"].unique()), data.needs, "dbscan", 0.8, 4, 0.2, 12, 0)


def test_filter_finds_planted_accidents(clustered):
    quality = clustering.filter_quality(clustered["kept"], clustered["accidental"])
    base = clustered["accidental"].mean()
    assert quality["precision"] >= 0.6 and quality["recall"] >= 0.6, quality
    assert quality["precision"] > 2 * base, "far better than dropping at random"
    assert quality["accidental_share_after"] < base / 2


def test_each_algorithm_runs_and_beats_chance(clustered):
    small = clustered[clustered["user"].isin(sorted(clustered["user"].unique())[:40])]
    features = clustering.record_features(small, sorted(clustered["scene"].unique()), sorted(clustered["need"].unique()))
    for algorithm in clustering.ALGORITHMS:
        found = clustering.cluster_users(small, features, algorithm, eps=0.8, seed=0)
        assert (found["support"] >= 1).all()
        kept = clustering.typical_mask(small.assign(support=found["support"]), 4, 0.2)
        quality = clustering.filter_quality(kept, small["accidental"])
        assert quality["precision"] > small["accidental"].mean(), algorithm
    with pytest.raises(WorkbenchError):
        clustering.cluster_users(small, features, "spectral")


def test_clusters_never_cross_users(clustered):
    labelled = clustered[clustered["user_cluster"] >= 0]
    assert (labelled.groupby(["user", "user_cluster"])["record"].count() == labelled.groupby(
        ["user", "user_cluster"])["support"].first()).all()


def test_stats_and_grid(clustered):
    stats = clustering.cluster_stats(clustered)
    assert stats["records"].sum() == len(clustered)
    assert {"top needs", "share filtered", "share accidental (truth)"} <= set(stats.columns)
    grid = clustering.threshold_grid(clustered, supports=[1, 4, 8], shares=[0.2, 1.01])
    at_build = grid[(grid["min_support"] == 4) & (grid["min_pop_share"] == 0.2)].iloc[0]
    assert at_build["precision"] == pytest.approx(clustering.filter_quality(clustered["kept"], clustered["accidental"])["precision"])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 12), st.floats(0, 1)), min_size=1, max_size=30),
       st.integers(1, 10), st.integers(1, 10), st.floats(0, 1), st.floats(0, 1))
def test_stricter_thresholds_keep_fewer(rows, s1, s2, p1, p2):
    frame = pd.DataFrame(rows, columns=["support", "pop_share"])
    loose = clustering.typical_mask(frame, min(s1, s2), min(p1, p2))
    strict = clustering.typical_mask(frame, max(s1, s2), max(p1, p2))
    assert (loose | ~strict).all(), "anything kept by the strict filter is kept by the loose one"


@pytest.mark.slow
def test_umap_layout_is_seeded(clustered):
    sample = clustered.head(300)
    features = clustering.record_features(sample, sorted(clustered["scene"].unique()), sorted(clustered["need"].unique()))
    a = clustering.umap_layout(features, sample, 200, seed=0)
    b = clustering.umap_layout(features, sample, 200, seed=0)
    assert len(a) == 200 and np.isfinite(a[["umap_x", "umap_y"]]).all().all()
    assert np.allclose(a[["umap_x", "umap_y"]], b[["umap_x", "umap_y"]])


def test_routine_rule_finds_accidents_and_its_threshold_sees_only_labelled_users(clustered):
    accidental = clustered["accidental"].to_numpy(dtype=bool)
    users = clustered["user"].to_numpy()
    score = clustering.routine_score(clustered)
    assert score.mean() > 0 and score[accidental].mean() < score[~accidental].mean()
    threshold, labelled = clustering.choose_threshold(score, accidental, users, labelled_share=0.3, seed=1)
    assert 0.2 < labelled.mean() < 0.4
    quality = clustering.filter_quality(score[~labelled] > threshold, accidental[~labelled])
    assert quality["precision"] >= 0.6 and quality["recall"] >= 0.6, quality
    flipped = accidental.copy()
    flipped[~labelled] = ~flipped[~labelled]  # the unlabelled users' flags must not move the threshold
    assert clustering.choose_threshold(score, flipped, users, labelled_share=0.3, seed=1)[0] == threshold


def test_cluster_records_rule_decides_kept(clustered):
    history = clustered.drop(columns=["user_cluster", "support", "pop_share", "routine", "pattern", "kept"])
    args = (history, sorted(history["scene"].unique()), sorted(history["need"].unique()), "dbscan", 0.8, 4, 0.2, 12, 0)
    by_routine = clustering.cluster_records(*args, rule="routine", min_routine=0.9)
    assert by_routine["kept"].equals(by_routine["routine"] > 0.9)
    with pytest.raises(WorkbenchError, match="filter_rule"):
        clustering.cluster_records(*args, rule="magic")
