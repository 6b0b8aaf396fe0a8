"""The SID-tree page: nothing built, and driven through its widgets on smoke artifacts."""

from apptest import run_page, texts


def test_sid_tree_with_nothing_built_offers_a_build(tmp_store):
    at = run_page("views/sid_tree.py")
    assert "Nothing of **glass** is built" in texts(at)
    assert any(b.key == "build-glass-demo" for b in at.button)


def test_sid_tree_on_smoke_artifacts(smoke_store):
    at = run_page("views/sid_tree.py", session_state={"profile": "smoke"})
    assert "True next item" in texts(at)
    assert at.radio(key="sid-model").options == ["tiger", "glass"] or "GLASS" in at.radio(key="sid-model").options
    beams = at.dataframe[0].value
    assert len(beams) == 10 and list(beams["rank"]) == list(range(1, 11))
    # the GLASS view shows each beam's retrieved bucket
    at.radio(key="sid-model").set_value("glass").run()
    assert not at.exception
    bucket = at.dataframe[1].value
    assert set(bucket.columns) >= {"item", "SID", "is the next item"}
    # pick an absent-topic case and another beam: the page follows
    at.radio(key="sid-slice").set_value("absent-topic").run()
    case = at.selectbox(key="sid-case").value
    assert "absent-topic" in at.selectbox(key="sid-case").format_func(case)
    at.selectbox(key="sid-beam").set_value(2).run()
    assert "c1=" in texts(at)
    # TIGER has no buckets; the tree can be focused on one first-level code
    at.radio(key="sid-model").set_value("tiger").run()
    assert "switch the model to GLASS" in texts(at)
    focus = at.selectbox(key="sid-focus")
    focus.set_value(focus.options[1]).run()
    assert not at.exception and not at.error
