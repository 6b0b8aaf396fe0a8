import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench import metrics as M


def test_hand_worked_ranking_case():
    ranked = [["a", "b", "c", "d"], ["x", "y", "z", "w"], ["p", "q", "r", "s"]]
    targets = ["c", "x", "nope"]
    assert M.hit_at_k(ranked, targets, 1).tolist() == [0, 1, 0]
    assert M.hit_at_k(ranked, targets, 3).tolist() == [1, 1, 0]
    # c at rank 3: 1/log2(4) = 0.5
    assert M.ndcg_at_k(ranked, targets, 3).tolist() == pytest.approx([0.5, 1.0, 0.0])
    assert M.reciprocal_rank(ranked, targets).tolist() == pytest.approx([1 / 3, 1.0, 0.0])
    row = M.ranking_report(ranked, targets, ks=(1, 3))
    assert row["HR@3"] == pytest.approx(2 / 3) and row["MRR"] == pytest.approx(4 / 9)


def test_recall_with_several_relevant_items():
    assert M.recall_at_k([["a", "b", "c"]], [{"a", "c", "z", "y"}], 2).tolist() == [0.25]
    # ideal DCG counts min(|rel|, k) hits: a at 1 of ideal 1 + 1/log2(3)
    assert M.ndcg_at_k([["a", "b"]], [{"a", "c"}], 2)[0] == pytest.approx(1 / (1 + 1 / np.log2(3)))


def test_accuracy_and_macro_f1_by_hand():
    y = ["a", "a", "b", "c"]
    p = ["a", "b", "b", "b"]
    assert M.accuracy(y, p) == 0.5
    # F1: a = 2/3 (p=1, r=.5), b = 1/2 (p=1/3, r=1), c = 0
    assert M.macro_f1(y, p) == pytest.approx((2 / 3 + 1 / 2 + 0) / 3)


def _ranx_scores(ranked, targets, k):
    from ranx import Qrels, Run, evaluate

    qrels = Qrels({f"q{i}": {str(t): 1} for i, t in enumerate(targets)})
    run = Run({f"q{i}": {str(item): float(len(r) - j) for j, item in enumerate(r)} for i, r in enumerate(ranked)})
    return evaluate(qrels, run, [f"hits@{k}", f"ndcg@{k}", "mrr"], make_comparable=True)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 10_000), st.integers(1, 10))
def test_agrees_with_ranx(seed, k):
    rng = np.random.default_rng(seed)
    items = [f"i{j}" for j in range(15)]
    ranked = [list(rng.choice(items, size=10, replace=False)) for _ in range(20)]
    targets = [str(rng.choice(items)) for _ in range(20)]
    ref = _ranx_scores(ranked, targets, k)
    assert M.hit_at_k(ranked, targets, k).mean() == pytest.approx(ref[f"hits@{k}"])
    assert M.ndcg_at_k(ranked, targets, k).mean() == pytest.approx(ref[f"ndcg@{k}"])
    assert M.reciprocal_rank(ranked, targets).mean() == pytest.approx(ref["mrr"])


def test_bootstrap_intervals_cover_and_order():
    rng = np.random.default_rng(0)
    x = rng.random(500) < 0.3
    low, high = M.bootstrap_ci(x)
    assert low < x.mean() < high and high - low < 0.1
    r = M.paired_bootstrap(np.ones(100), np.zeros(100))
    assert r["diff"] == 1.0 and r["low"] == 1.0 and r["p_a_better"] == 1.0
    same = M.paired_bootstrap(x, x)
    assert same["low"] == same["high"] == 0.0
    with pytest.raises(ValueError, match="same cases"):
        M.paired_bootstrap([1, 0], [1])


def test_metric_bootstrap():
    y = ["a", "b"] * 50
    low, high = M.bootstrap_metric_ci(M.macro_f1, y, y)
    assert low == high == 1.0
    noisy = ["a", "b", "b", "a"] * 25
    low, high = M.bootstrap_metric_ci(M.macro_f1, y, noisy)
    assert low < M.macro_f1(y, noisy) < high
