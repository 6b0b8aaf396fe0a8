"""Behavior clusters page: the map, live thresholds that change precision/recall, selection fallback."""

from apptest import run_page, texts


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_page_with_nothing_built_offers_a_build(tmp_store):
    at = run_page("views/behavior_clusters.py")
    assert "Nothing of **needs** is built" in texts(at)
    assert at.button(key="build-needs-demo")


def test_thresholds_refilter_live_and_patterns_select_records(smoke_store):
    at = run_page("views/behavior_clusters.py")
    assert at.selectbox(key="profile").value == "smoke"
    precision, recall = float(metric(at, "Precision")), float(metric(at, "Recall"))
    assert 0 < precision <= 1 and 0 < recall <= 1
    at.slider(key="bc_min_support").set_value(10).run()
    at.slider(key="bc_min_share").set_value(1.0).run()  # drop everything that is not a big habit
    assert float(metric(at, "Recall")) > recall, "stricter thresholds drop more accidents"
    assert float(metric(at, "Precision")) != precision
    stats = at.dataframe[0].value
    assert {"pattern", "records", "share filtered", "share accidental (truth)"} <= set(stats.columns)
    pattern = at.multiselect(key="bc_patterns").options[0]
    at.multiselect(key="bc_patterns").select(pattern).run()
    chosen = at.dataframe[1].value
    assert len(chosen) > 0 and set(chosen["pattern"]) == {pattern}
    assert at.dataframe[0].value["pattern"].tolist() == [pattern]
    for option in ("kept", "accidental", "need", "city"):
        at.selectbox(key="bc_color").set_value(option).run()
        assert not at.exception
