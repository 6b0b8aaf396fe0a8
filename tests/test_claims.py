import math

import toy_pipeline
from workbench import claims, report
from workbench.claims import Claim, ClaimSpec


def test_unbuilt_method_shows_null_rows(tmp_store, toy_method):
    rows = [r for r in report.collect(tmp_store, "demo") if r.method == "toy"]
    assert [r.id for r in rows] == ["toy.better"]
    assert rows[0].value is None and rows[0].reproduced is None and rows[0].profile == "demo"


def test_built_method_reports_measured_rows(tmp_store, toy_method):
    toy_pipeline.build(toy_pipeline.Config.for_profile("smoke"), tmp_store)
    (row,) = [r for r in report.collect(tmp_store, "smoke") if r.method == "toy"]
    assert row.reproduced is True and row.value > row.reference and row.interval[0] > 0
    d = row.to_dict()
    claims.validate_rows([d])
    assert set(claims.FIELDS) <= set(d)
    # a model no better than chance does not reproduce the claim
    toy_pipeline.build(toy_pipeline.Config.for_profile("demo", skill=0.5, seed=3), tmp_store)
    (row,) = [r for r in report.collect(tmp_store, "demo") if r.method == "toy"]
    assert row.reproduced is False


def test_nan_becomes_null_and_table_renders():
    spec = ClaimSpec("x.y", "x", "Something holds.", "m")
    row = Claim.from_spec(spec, value=float("nan"), interval=[float("nan"), 1.0])
    d = row.to_dict()
    assert d["value"] is None and d["interval"] == [None, 1.0]
    text = claims.as_table([row, Claim.from_spec(spec, value=0.5, reproduced=False)])
    assert "Something holds." in text and "NO" in text and "not built" in text
    assert not math.isnan(0.5)
