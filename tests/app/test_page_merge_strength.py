"""The Merge strength page: nothing built, the precomputed grid, the slider, and the live merge button."""

from __future__ import annotations

from apptest import run_page, texts

PAGE = "views/merge_strength.py"


def test_page_with_nothing_built_offers_a_build(tmp_store):
    at = run_page(PAGE)
    assert "Nothing of **merging** is built" in texts(at)
    assert any(b.label.startswith("Build merging") for b in at.button)


def metric(at, label):
    return next(m for m in at.metric if m.label == label)


def test_slider_moves_the_numbers_and_the_marker(smoke_store):
    run = smoke_store.latest("merging", "smoke")
    summary = run.read_parquet("summary")
    at = run_page(PAGE, session_state={"profile": "smoke"})
    at.selectbox(key="merge-method").set_value("linear").run()
    grid = sorted(summary.loc[summary.method == "linear", "strength"])
    assert list(at.select_slider(key="merge-strength").options) == [f"{s:.2f}" for s in grid]
    seen = []
    for strength in (grid[0], grid[-1]):
        at.select_slider(key="merge-strength").set_value(strength).run()
        row = summary[(summary.method == "linear") & (summary.strength == strength)].iloc[0]
        assert metric(at, "accuracy").value == f"{row['accuracy']:.3f}"
        assert metric(at, "mean tokens").value == f"{row['tokens']:.1f}"
        figure = at.get("plotly_chart")[0].proto.spec
        assert f"selected: linear λ={strength:.2f}" in figure
        seen.append(metric(at, "mean tokens").value)
    assert seen[0] != seen[1]  # thinking parent vs direct parent
    assert "Sample generations at linear" in "\n".join(s.value for s in at.subheader)
    assert "Pareto improvements" in "\n".join(s.value for s in at.subheader)


def test_switching_method_keeps_a_valid_strength(smoke_store):
    at = run_page(PAGE, session_state={"profile": "smoke"})
    at.selectbox(key="merge-method").set_value("linear").run()
    at.select_slider(key="merge-strength").set_value(0.05).run()
    at.selectbox(key="merge-method").set_value("ties").run()
    ties_grid = sorted(smoke_store.latest("merging", "smoke").read_parquet("summary").query("method == 'ties'").strength)
    assert at.select_slider(key="merge-strength").value in ties_grid
    assert not at.exception


def test_live_merge_button_evaluates_an_exact_strength(smoke_store):
    at = run_page(PAGE, session_state={"profile": "smoke"})
    at.selectbox(key="live-method").set_value("slerp")
    at.number_input(key="live-strength").set_value(0.137)
    at.slider(key="live-n").set_value(12)
    at.button(key="live-run").click().run()
    assert not at.exception and not at.error
    message = "\n".join(s.value for s in at.success)
    assert "slerp at λ=0.137" in message and "12 fresh problems" in message
    assert any("Q :" in m.value for m in at.markdown)  # sample generations with their prompts
    assert len(at.code) > 0


def two_by_two(at):
    """The compare view's 2 x 2 table (the dataframe with a total row)."""
    return next(d.value for d in at.dataframe if "total" in d.value.index)


def selectable(at, key):
    """A selectable dataframe's value by its key."""
    return next(d.value for d in at.dataframe if d.key == key)


def test_compare_view_and_featured_case(smoke_store):
    run = smoke_store.latest("merging", "smoke")
    outputs = run.read_parquet("outputs")
    outputs = outputs[outputs["seed"] == outputs["seed"].iloc[0]]
    at = run_page(PAGE, session_state={"profile": "smoke"})
    at.selectbox(key="merge-cmp-a").set_value("linear λ=1").run()
    at.selectbox(key="merge-cmp-b").set_value("linear λ=0").run()
    # the same counts from the stored outputs: direct (λ = 1) vs thinking (λ = 0), paired by problem/sample
    pick = lambda s: outputs[(outputs.method == "linear") & (outputs.strength == s)].set_index(["problem", "sample"])["correct"]  # noqa: E731
    direct, thinking = pick(1.0).align(pick(0.0), join="inner")
    table = two_by_two(at)
    assert table.iloc[0, 1] == (direct & ~thinking).sum() and table.iloc[1, 0] == (~direct & thinking).sum()
    assert table.loc["total", "total"] == len(direct)
    assert "Mean tokens" in texts(at)
    ops = sorted(outputs["n_ops"].unique())
    at.selectbox(key="merge-cmp-slice").set_value(f"{ops[-1]} operations" if ops[-1] != 1 else "1 operation").run()
    assert set(selectable(at, "merge-cmp-list")["ops"]) <= {ops[-1]}

    buttons = [b for b in at.button if b.key and b.key.startswith("merge-cmp-featured-")]
    assert buttons, "the smoke sweep has at least one featured case"
    buttons[0].click().run()
    assert not at.exception and not at.error
    a = at.selectbox(key="merge-cmp-a").value
    method, strength = a.split(" λ=")
    assert at.selectbox(key="merge-method").value == method  # the slider moved to the featured merge
    assert at.select_slider(key="merge-strength").value == float(strength)
    assert "**Problem" in texts(at) and "tokens" in texts(at)
