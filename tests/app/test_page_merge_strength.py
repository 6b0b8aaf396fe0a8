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


# ---- the overthinking dial: a picker of precomputed worlds (the committed study) -----------------------
def fake_study() -> dict:
    """A study shaped like merging.overthink.study's output, with two dial points."""
    def row(dial, method, s, acc, tok, strict):
        return {"dial": dial, "method": method, "strength": s, "seeds": 3, "accuracy": acc, "thinking_accuracy": 0.8,
                "d_accuracy": acc - 0.8, "d_accuracy_interval": [acc - 0.81, acc - 0.79], "tokens": tok,
                "thinking_tokens": 40.0, "d_tokens_rel": tok / 40 - 1, "d_tokens_rel_interval": [tok / 40 - 1.01, tok / 40 - 0.99],
                "strict": strict, "goal": strict, "goal_by_interval": strict}

    def parents(dial, acc, drift):
        return {"dial": dial, "seeds": 3, "planted": {}, "thinking_accuracy": acc, "thinking_tokens": 40.0,
                "thinking_drift_share": drift, "thinking_truncated_share": 0.1, "thinking_easy_tokens": 30.0,
                "thinking_accuracy_per_seed": [acc] * 3, "direct_accuracy": 0.4, "direct_tokens": 3.0, "direct_easy_tokens": 3.0}

    case = {"problem": 1, "prompt": "Q : 3 + 4 = ?", "answer": 7, "outputs": [
        {"strength": 0.0, "text": "<think> 3 + 4 = 7 ; check 3 + 4 = 8 ; </think> A : 8", "correct": False, "tokens": 20},
        {"strength": 0.1, "text": "<think> 3 + 4 = 7 ; </think> A : 7", "correct": True, "tokens": 12}]}
    return {
        "dials": [0.5, 1.0], "cut": "a test study", "command": "python benchmarks/run.py merging_overthink", "commit": "abc",
        "rows": [row(0.5, "linear", 0.1, 0.8, 36.0, False), row(0.5, "ties", 0.1, 0.78, 35.0, False),
                 row(1.0, "linear", 0.1, 0.85, 30.0, True), row(1.0, "ties", 0.1, 0.8, 33.0, False)],
        "savings": [{"dial": d, "method": m, "saved": 0.1, "saved_interval": [0.05, 0.15]} for d in (0.5, 1.0)
                    for m in ("linear", "ties")],
        "parents": [parents(0.5, 0.9, 0.3), parents(1.0, 0.7, 0.6)],
        "verdict": {"best_strict": {"dial": 1.0, "method": "linear", "strength": 0.1}},
        "drift_cases": {"1.0": [case]},
        "transition": [{"dial": 1.0, "seeds": 3, "reproduced": True,
                        "sentence": "the thinking share's fall vs the sharpness bar: .150 [.140, .160] vs .200"}],
    }


def test_the_overthinking_dial_picks_a_precomputed_world(tmp_store, tmp_path, monkeypatch):
    import json

    from workbench.merging import overthink

    path = tmp_path / "merging-overthink.json"
    path.write_text(json.dumps(fake_study()))
    monkeypatch.setattr(overthink, "STUDY", path)
    at = run_page(PAGE)
    assert not at.exception
    assert list(at.select_slider(key="overthink-dial").options) == ["0.5", "1"]
    assert metric(at, "thinking parent accuracy").value == "0.900"
    assert "No merge is a strict Pareto improvement" in "\n".join(w.value for w in at.warning)
    assert not any("Sharp transition" in i.value for i in at.info)  # not measured at this dial
    at.select_slider(key="overthink-dial").set_value(1.0).run()
    assert metric(at, "thinking parent accuracy").value == "0.700"
    assert metric(at, "errors that drifted").value == "60%"
    assert "linear λ=0.1" in "\n".join(s.value for s in at.success)
    assert any("Sharp transition at this dial" in i.value and ".150 [.140, .160]" in i.value for i in at.info)
    assert "A drift case" in texts(at) and any("A : 8" in c.value for c in at.code)
    figure = next(c for c in at.get("plotly_chart") if "overthinking dial 1" in c.proto.spec)
    assert "strict Pareto improvement" in figure.proto.spec


def test_without_the_study_the_page_says_how_to_make_it(tmp_store, tmp_path, monkeypatch):
    from workbench.merging import overthink

    monkeypatch.setattr(overthink, "STUDY", tmp_path / "missing.json")
    at = run_page(PAGE)
    assert not at.exception
    assert "merging_overthink" in "\n".join(i.value for i in at.info)
