"""Needs & services page: a user's chain beside the truth, variant switch, filterable error table."""

import re

from apptest import run_page, texts


def test_page_with_nothing_built_offers_a_build(tmp_store):
    at = run_page("views/needs_services.py")
    assert "Nothing of **needs** is built" in texts(at)


def test_user_chain_variants_and_error_table(smoke_store):
    at = run_page("views/needs_services.py")
    chain = next(d.value for d in at.dataframe if "stage" in d.value.columns)  # the user's chain
    assert chain["stage"].tolist() == ["1 · need", "2 · category", "3 · services (ranked)"]
    assert chain["verdict"].str.contains("right|wrong").all()
    users = at.selectbox(key="ns_user").options
    at.text_input(key="ns_search").input(users[3][-3:]).run()
    assert users[3] in at.selectbox(key="ns_user").options
    at.selectbox(key="ns_user").set_value(users[3]).run()
    assert users[3] in texts(at) or at.selectbox(key="ns_user").value == users[3]
    labels = at.selectbox(key="ns_variant").options
    assert {"isolated", "flat", "raw_sft", "clustered_sft", "full"} <= {label.split(" — ")[0] for label in labels}
    for i, label in enumerate(labels):
        at.selectbox(key="ns_variant").select_index(i).run()
        assert not at.exception and not at.error
        assert f"({label.split(' — ')[0]})" in texts(at)
    errors = selectable(at, "ns_errors")
    assert set(errors["failed_stage"]) <= {"need", "category", "service"}
    at.multiselect(key="ns_err_stage").set_value(["service"]).run()
    at.selectbox(key="ns_err_tail").set_value("long-tail only").run()
    errors = selectable(at, "ns_errors")
    assert set(errors["failed_stage"]) <= {"service"} and errors["long_tail"].all()
    at.multiselect(key="ns_err_variants").set_value(["isolated"]).run()
    assert set(selectable(at, "ns_errors")["variant"]) <= {"isolated"}
    # the run's training curves: SFT loss, then GRPO's per-reward curves
    assert "SFT loss per variant" in texts(at) and "GRPO: each reward's mean per step" in texts(at)
    stages = next(d.value for d in at.dataframe if "first fails at need" in d.value.columns)
    assert {"isolated", "full"} <= set(stages.index)


def two_by_two(at):
    """The compare view's 2 x 2 table (the dataframe with a total row)."""
    return next(d.value for d in at.dataframe if "total" in d.value.index)


def selectable(at, key):
    """A selectable dataframe's value by its key."""
    return next(d.value for d in at.dataframe if d.key == key)


def test_compare_view_counts_match_the_predictions_and_open_a_case(smoke_store):
    run = smoke_store.latest("needs", "smoke")
    preds = run.read_parquet("predictions")
    preds = preds[preds["seed"] == run.manifest["seed"]]
    at = run_page("views/needs_services.py", session_state={"profile": "smoke"})
    at.selectbox(key="ns-cmp-a").set_value("full").run()
    at.selectbox(key="ns-cmp-b").set_value("isolated").run()
    at.selectbox(key="ns-cmp-outcome").set_value("service@1").run()
    at.selectbox(key="ns-cmp-slice").set_value("long tail").run()
    # the same counts computed here from the stored predictions, independently of workbench.compare
    tail = preds[(preds["slice_set"] == "test") & preds["long_tail"].astype(bool)]
    wide = tail.pivot(index="record", columns="variant", values="hit1")[["full", "isolated"]].astype(bool)
    table = two_by_two(at)
    assert table.iloc[0, 0] == (wide["full"] & wide["isolated"]).sum()
    assert table.iloc[0, 1] == (wide["full"] & ~wide["isolated"]).sum()
    assert table.iloc[1, 0] == (~wide["full"] & wide["isolated"]).sum()
    assert table.loc["total", "total"] == len(wide)
    listed = selectable(at, "ns-cmp-list")
    assert set(listed["case"]) == set(wide.index[wide["full"] != wide["isolated"]])
    assert "McNemar exact" in texts(at)
    if len(listed):  # open the first disagreement: both chains side by side, then the habit lines
        at.selectbox(key="ns-cmp-case").set_value(listed["case"].iloc[0]).run()
        assert not at.exception and not at.error
        chains = [d.value for d in at.dataframe if "stage" in d.value.columns]
        assert len(chains) >= 3  # A and B side by side + the user's chain below
        assert "**full**" in texts(at) and "**isolated**" in texts(at)


def test_featured_case_opens_with_its_pair_and_user(smoke_store):
    at = run_page("views/needs_services.py", session_state={"profile": "smoke"})
    buttons = [b for b in at.button if b.key and b.key.startswith("ns-cmp-featured-")]
    assert buttons, "the smoke run has at least one featured case"
    first = next(m.value for m in at.markdown if re.match(r"\*\*\d+\*\* — ", m.value))  # "**<record>** — <reason>"
    record = int(first.split("**")[1])
    buttons[0].click().run()
    assert not at.exception and not at.error
    assert at.selectbox(key="ns-cmp-case").value == record
    run = smoke_store.latest("needs", "smoke")
    cases = run.read_parquet("cases")
    assert at.selectbox(key="ns_user").value == cases.loc[cases["record"] == record, "user"].iloc[0]
    assert "Habit lines" in texts(at) or "no habit lines" in texts(at)


def test_budget_study_is_shown_above_the_runs_or_its_command_when_absent(tmp_store, tmp_path, monkeypatch):
    import json

    from workbench.needs import budget

    monkeypatch.setattr(budget, "REFERENCE", tmp_path / "absent.json")
    monkeypatch.setattr(budget, "EVIDENCE", tmp_path / "absent-too.json")
    at = run_page("views/needs_services.py")
    assert "python benchmarks/run.py needs_budget" in texts(at) and "absent-too.json" in texts(at)
    rows = [{"table": "budget curve", "size": "96x2", "sft_steps": s, "variant": v, "HR@1": h, "HR@3": h + 0.1,
             "need acc": 0.7, "cat acc": 0.4} for s, hs in ((1000, (0.3, 0.1, 0.12)), (4000, (0.3, 0.3, 0.33)))
            for v, h in zip(budget.VARIANTS, hs)]
    study = tmp_path / "needs-budget.json"
    study.write_text(json.dumps({"rows": rows + budget.verdict_rows(rows), "seed": 0, "commit": "abc1234",
                                 "created": "2026-11-30", "command": "python benchmarks/run.py needs_budget",
                                 "changed": "sft_steps and hidden x layers only"}))
    monkeypatch.setattr(budget, "REFERENCE", study)
    evidence = tmp_path / "needs-evidence.json"
    doc = json.loads(study.read_text())
    evidence.write_text(json.dumps({**doc, "changed": doc["changed"] + ", evidence=16",
                                    "note": "measured with the evidence block"}))
    monkeypatch.setattr(budget, "EVIDENCE", evidence)
    at = run_page("views/needs_services.py")
    assert "96x2: full / isolated HR@1 0.40 at 1k SFT steps → 1.10 at 4k" in texts(at)
    assert "evidence=16" in texts(at) and "measured with the evidence block" in texts(at)
    assert "Nothing of **needs** is built" in texts(at)  # the study does not hide the missing run


def fake_point(dial: float, seed: int, full_rate: float, iso_rate: float, n: int = 400) -> dict:
    """A (dial, seed) point file as ``coupling.point_result`` writes it, with set hit rates."""
    hits = lambda rate: [int(i < rate * n) for i in range(n)]  # noqa: E731
    stages = {"need right": 0.7, "category right | need right": 0.6, "HR@1 | need, category right": 0.5}
    return {"coupling": dial, "seed": seed, "records": n, "jobs_seconds": 10,
            "cases": {v: {"hit1": hits(r), "hit3": hits(min(1, r + .1)), "need_ok": hits(.7), "category_ok": hits(.4)}
                      for v, r in (("history", .2), ("isolated", iso_rate), ("clustered_sft", full_rate), ("full", full_rate))},
            "stages": {v: stages for v in ("history", "isolated", "clustered_sft", "full")},
            "planted": {"merchant | occasion": 0.1 * dial}}


def test_coupling_study_shows_the_curve_and_its_answer_or_its_command(tmp_store, tmp_path, monkeypatch):
    import json

    from workbench.needs import coupling

    monkeypatch.setattr(coupling, "REFERENCE", tmp_path / "absent.json")
    monkeypatch.setattr(coupling, "PROMPT_LOSS_NEED", tmp_path / "absent-too.json")
    at = run_page("views/needs_services.py")
    assert "python benchmarks/run.py needs_coupling" in texts(at)
    assert not [r for r in at.radio if r.key == "ns_coupling_study"]  # nothing to choose between
    rows = coupling.study([fake_point(0.0, 0, .2, .3), fake_point(1.0, 0, .45, .3)])
    rows += coupling.study([{**fake_point(d, 0, .3, .3), "candidates": 8} for d in (0.0, 1.0)])  # a second series
    study = tmp_path / "needs-coupling.json"
    study.write_text(json.dumps({"rows": rows, "cut": "users 600", "settings": {"sft_steps": 3000},
                                 "series": {"8": {"cut": "users 300", "settings": {"candidates": 8}, "commit": "def5678",
                                                  "command": "BENCH_NEEDS_COUPLING_CANDIDATES='8' python benchmarks/run.py "
                                                             "needs_coupling", "created": "2026-12-07", "featured": None}},
                                 "command": "python benchmarks/run.py needs_coupling", "commit": "abc1234",
                                 "created": "2026-12-06",
                                 "featured": {"record": 7, "coupling": 1.0, "prompt": "ctx weekday h_morning home",
                                              "truth": {"need_text": "brekkie", "category": "bakery", "merchant": "mA9"},
                                              "full": {"need": "brekkie", "category": "bakery", "services": ["mA9"]},
                                              "isolated": {"need": "breakfast", "category": "bakery",
                                                           "services": ["mA3", "mA9"]}}}))
    monkeypatch.setattr(coupling, "REFERENCE", study)
    at = run_page("views/needs_services.py")
    shown = texts(at)
    assert "stage 3 free: full / isolated HR@1: 0.67" in shown and "at 1 (1 seed each)" in shown
    assert "the 1.25x goal is reached at coupling 1" in shown and "stage 3 free: What was cut: users 600" in shown
    assert "stage 3 given 8 candidates: full / isolated HR@1: 1.00" in shown
    assert "stage 3 given 8 candidates: What was cut: users 300" in shown
    assert "A case at coupling 1 (stage 3 free)" in shown
    chains = next(d.value for d in at.dataframe if list(d.value.columns) == ["need", "category", "services"])
    assert chains.loc["isolated", "services"] == "mA3 mA9" and chains.loc["truth", "services"] == "mA9"
    points = next(d.value for d in at.dataframe if "planted merchant | occasion (bits)" in d.value.columns)
    assert set(points["coupling"]) == {0.0, 1.0} and set(points["variant"]) == {"history", "isolated", "clustered_sft", "full"}
    assert set(points["candidates"]) == {0, 8}


def test_checkins_study_shows_levels_comparisons_and_stages_or_its_command(tmp_store, tmp_path, monkeypatch):
    """The real check-ins study: its command while absent; with a study, the answer per dataset, a figure
    per metric, the full framework against each variant (the greedy chain among them) and the stages."""
    import json

    from workbench.needs import checkins

    monkeypatch.setattr(checkins, "REFERENCE", tmp_path / "absent.json")
    at = run_page("views/needs_services.py")
    assert "python benchmarks/run.py needs_checkins" in texts(at)
    n = 300
    hits = lambda rate: [int(i < rate * n) for i in range(n)]  # noqa: E731
    rates = {"history": .3, "isolated": .2, "flat": .25, "full": .15, "full_greedy": .12}
    points = [{"dataset": d, "seed": s, "records": n, "jobs_seconds": 5,
               "cases": {v: {"hit1": hits(r), "hit3": hits(r + .1), "need_ok": hits(.4), "category_ok": hits(.3)}
                         for v, r in rates.items()},
               "stages": {v: {st: .5 for st in checkins.STAGES} for v in rates}}
              for d in ("foursquare", "foursquare-tsmc") for s in (0, 1)]
    study = tmp_path / "needs-checkins.json"
    study.write_text(json.dumps({"rows": checkins.study(points), "settings": {"sft_steps": 3000},
                                 "points": ["foursquare/seed0", "foursquare/seed1"], "commit": "abc1234",
                                 "command": "python benchmarks/run.py needs_checkins", "created": "2026-12-07"}))
    monkeypatch.setattr(checkins, "REFERENCE", study)
    at = run_page("views/needs_services.py")
    shown = texts(at)
    assert not at.exception
    assert "MAT-Sum NYC (2 seeds): full framework HR@1 .150 — behind user history .300" in shown
    assert "TSMC2014 NYC (2 seeds)" in shown and "its greedy chain .120" in shown
    versus = next(d.value for d in at.dataframe if "full - other" in d.value.columns)
    assert set(versus["versus"]) == {"history", "isolated", "flat", "full_greedy"}
    stages = next(d.value for d in at.dataframe if "category right | need right" in d.value.columns and "dataset" in d.value.columns)
    assert set(stages["variant"]) == set(rates)


def test_two_coupling_studies_are_one_choice_away(tmp_store, tmp_path, monkeypatch):
    """With both trainings' studies committed, a radio picks one; each shows its own curve and answer."""
    import json

    from workbench.needs import coupling

    paths = {}
    for name, full in (("plain", .2), ("need-phase", .45)):
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps({"rows": coupling.study([fake_point(0.0, 0, .25, .3), fake_point(1.0, 0, full, .3)]),
                                           "cut": f"users 600 ({name})", "settings": {"sft_steps": 3000},
                                           "command": "python benchmarks/run.py needs_coupling", "commit": "abc1234",
                                           "created": "2026-12-07", "featured": None}))
    monkeypatch.setattr(coupling, "REFERENCE", paths["plain"])
    monkeypatch.setattr(coupling, "PROMPT_LOSS_NEED", paths["need-phase"])
    at = run_page("views/needs_services.py")
    radio = next(r for r in at.radio if r.key == "ns_coupling_study")
    assert list(radio.options) == list(coupling.studies()) and "at 1 (1 seed each)" in texts(at)
    assert "What was cut: users 600 (plain)" in texts(at) and "0.67 [" in texts(at)
    radio.set_value(radio.options[1]).run()
    assert not at.exception and "What was cut: users 600 (need-phase)" in texts(at)
    assert "the 1.25x goal is reached at coupling 1" in texts(at)
