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
    beams = next(d.value for d in at.dataframe if {"rank", "SID"} <= set(d.value.columns))  # the user's beams
    assert len(beams) == 10 and list(beams["rank"]) == list(range(1, 11))
    # the GLASS view shows each beam's retrieved bucket
    at.radio(key="sid-model").set_value("glass").run()
    assert not at.exception
    bucket = next(d.value for d in at.dataframe if "is the next item" in d.value.columns)
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


def two_by_two(at):
    """The compare view's 2 x 2 table (the dataframe with a total row)."""
    return next(d.value for d in at.dataframe if "total" in d.value.index)


def selectable(at, key):
    """A selectable dataframe's value by its key."""
    return next(d.value for d in at.dataframe if d.key == key)


def test_compare_view_and_featured_case(smoke_store):
    run = smoke_store.latest("glass", "smoke")
    glass, tiger = (run.read_parquet(f"per_case/{s}") for s in ("glass", "tiger"))
    at = run_page("views/sid_tree.py", session_state={"profile": "smoke"})
    assert at.selectbox(key="sid-cmp-a").value == "glass" and at.selectbox(key="sid-cmp-b").value == "tiger"
    at.selectbox(key="sid-cmp-outcome").set_value("Hit@10").run()
    at.selectbox(key="sid-cmp-slice").set_value("absent topic").run()
    absent = glass["absent"].to_numpy(bool)
    g, t = glass["Hit@10"].to_numpy()[absent] == 1, tiger["Hit@10"].to_numpy()[absent] == 1
    table = two_by_two(at)
    assert [table.iloc[0, 0], table.iloc[0, 1], table.iloc[1, 0], table.iloc[1, 1]] == \
        [(g & t).sum(), (g & ~t).sum(), (~g & t).sum(), (~g & ~t).sum()]
    listed = selectable(at, "sid-cmp-list")
    assert set(listed["topic"]) <= {"absent"} and len(listed) == (g != t).sum()

    buttons = [b for b in at.button if b.key and b.key.startswith("sid-cmp-featured-")]
    if not buttons:  # the smoke run is small: a rule may find nothing, but the disagreement list opens
        assert len(listed), "no featured case and no disagreement to open"
        at.selectbox(key="sid-cmp-case").set_value(listed["case"].iloc[0]).run()
    else:
        buttons[0].click().run()
        case = at.selectbox(key="sid-cmp-case").value
        assert at.selectbox(key="sid-case").value == case and at.selectbox(key="sid-cmp-slice").value == "all cases"
    assert not at.exception and not at.error
    assert "Codebook tree (orange: GLASS · blue: TIGER" in "".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "GLASS's retrieved bucket" in texts(at)
    assert sum({"SID", "log-prob"} <= set(d.value.columns) for d in at.dataframe) >= 3  # A, B, and the user below
