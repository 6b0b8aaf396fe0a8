"""The isolated pipeline: its need classifier chosen on validation cases, its context-aware recommender."""

import numpy as np
import pytest

from workbench.needs import baselines, prepare, prompts
from workbench.needs.config import Config


@pytest.fixture(scope="module")
def small_world():
    config = Config(users=120, min_records=24, max_records=30, max_train_cases=1500).check()
    data = prepare.load_data(config, 0)
    clustered = prepare.cluster_history(data, config, 0)
    cases = prepare.make_cases(data, config, clustered["kept"], 0)
    return data, cases


def test_auto_keeps_the_classifier_with_the_better_validation_accuracy(small_world):
    data, cases = small_world
    scenes, weathers = sorted(data.records["scene"].unique()), sorted(data.records["weather"].unique())
    valid = cases["valid_clustered"]
    assert len(valid) and set(valid["user"]) <= set(data.records["user"])
    clf, info = baselines.choose_need_classifier("auto", cases["train_pooled"], valid, data, scenes, weathers, 0)
    scores = info["valid_need_acc"]
    assert set(scores) == {"logreg", "gbdt"} and info["kind"] == max(scores, key=scores.get)
    x = baselines.need_features(valid, data, scenes, weathers)
    assert round(float((clf.predict(x) == valid["need"].to_numpy()).mean()), 4) == scores[info["kind"]]
    only, info = baselines.choose_need_classifier("gbdt", cases["train_pooled"], valid, data, scenes, weathers, 0)
    assert info["kind"] == "gbdt" and type(only).__name__ == "HistGradientBoostingClassifier"
    _, info = baselines.choose_need_classifier("auto", cases["train_pooled"], valid.iloc[:0], data, scenes, weathers, 0)
    assert info == {"kind": "logreg", "valid_need_acc": {}}


def test_the_isolated_recommender_ranks_uses_at_the_place_first(small_world):
    data, cases = small_world
    test = cases["test_clustered"]
    history = data.records[data.records["split"] != "test"]
    scenes, weathers = sorted(data.records["scene"].unique()), sorted(data.records["weather"].unique())
    clf, _ = baselines.choose_need_classifier("logreg", cases["train_pooled"], cases["valid_clustered"], data, scenes,
                                              weathers, 0)
    preds = baselines.isolated(data, test, clf, scenes, weathers, cases["popularity"], 3, history)
    for case, services, category in zip(test.itertuples(), preds["services"], preds["category_pred"]):
        cats, merchants = np.asarray(case.pool_categories), np.asarray(case.pool_merchants)
        own = prompts.rank_own(cats, merchants, np.asarray(case.pool_scenes), case, category)
        assert services[:len(own)] == own[:len(services)]
        at_place = [m for m, s, c in zip(merchants, case.pool_scenes, cats) if s == case.scene and c == category]
        if at_place:  # the merchant used most at this place comes first
            assert max(at_place.count(m) for m in set(at_place)) == at_place.count(services[0])


def test_an_unknown_need_classifier_is_refused():
    from workbench.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match="need_classifier"):
        Config(need_classifier="svm").check()


@pytest.fixture(scope="module")
def coupled_world():
    config = Config(users=160, min_records=30, max_records=36, max_train_cases=3000, coupling=1.0).check()
    data = prepare.load_data(config, 0)
    clustered = prepare.cluster_history(data, config, 0)
    return data, prepare.make_cases(data, config, clustered["kept"], 0)


def test_the_category_stage_reading_the_context_learns_what_the_dial_plants(coupled_world):
    """At coupling 1 rain picks a need's first category and cold its last; the rule (the user's usual
    category) cannot see the weather, the context-aware classifier does and is kept on validation."""
    data, cases = coupled_world
    scenes, weathers = sorted(data.records["scene"].unique()), sorted(data.records["weather"].unique())
    history = data.records[data.records["split"] != "test"]
    model, info = baselines.choose_category_stage(cases["train_pooled"], cases["valid_clustered"], data, scenes,
                                                  weathers, history, 0)
    scores = info["valid_category_acc"]
    assert info["kind"] == "gbdt" and model is not None and scores["gbdt"] > scores["rule"] + 0.05
    test = cases["test_clustered"]
    picks = baselines.classifier_categories(model, data, test, test["need"].tolist(), scenes, weathers)
    assert all(data.category_need[c] == n for c, n in zip(picks, test["need"]))  # always one of the need's own
    wet = (test["weather"] == "rainy").to_numpy()
    first = np.array([data.need_categories[n][0] for n in test["need"]])
    assert (np.array(picks)[wet] == first[wet]).mean() > 0.8  # it learned the rainy-day rule
    # given no category model the pipeline is the rule's, case for case
    clf, _ = baselines.choose_need_classifier("logreg", cases["train_pooled"], cases["valid_clustered"], data, scenes,
                                              weathers, 0)
    rule = baselines.isolated(data, test, clf, scenes, weathers, cases["popularity"], 3, history)
    assert rule["category_pred"].tolist() == baselines.rule_categories(data, test, rule["need_pred"].tolist(), history)
    _, empty = baselines.choose_category_stage(cases["train_pooled"], cases["valid_clustered"].iloc[:0], data, scenes,
                                               weathers, history, 0)
    assert empty == {"kind": "rule", "valid_category_acc": {}}
