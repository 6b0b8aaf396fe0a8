"""The Foursquare loader: a clear error on a wrong file; on the real check-ins (external) the mapping
and a small build of the same pipeline."""

import pytest

from workbench.datasets.foursquare import load_foursquare, word
from workbench.errors import WorkbenchError
from workbench.needs.config import Config
from workbench.needs.pipeline import build
from workbench.store import ArtifactStore


def test_wrong_files_get_one_sentence(tmp_path):
    bad = tmp_path / "ratings.csv"
    bad.write_text("userId,movieId,rating\n1,2,3.5\n")
    with pytest.raises(WorkbenchError, match="not a Foursquare check-in file: it lacks column"):
        load_foursquare(bad)
    with pytest.raises(WorkbenchError, match="does not exist"):
        load_foursquare(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(WorkbenchError, match="Expected one check-in csv"):
        load_foursquare(empty)
    binary = tmp_path / "blob.csv"
    binary.write_bytes(b"\x00\xff\xfe" * 100)
    with pytest.raises(WorkbenchError):
        load_foursquare(binary)
    assert word("Arts & Entertainment") == "arts_entertainment"


@pytest.mark.external
def test_real_checkins_map_to_needs(shared_data):
    data = load_foursquare(shared_data / "foursquare-nyc-mat")
    data.validate()
    rec = data.records
    assert len(rec) == 44809 and rec["user"].nunique() == 193
    assert len(data.needs) == 10 and (rec.groupby("user")["split"].apply(lambda s: (s == "test").sum()) == 5).all()
    assert rec["scene"].str.startswith("from_").all()
    assert rec.loc[rec["split"] == "test", "long_tail"].mean() > 0


@pytest.mark.external
@pytest.mark.slow
def test_same_pipeline_builds_on_foursquare(shared_data, tmp_path, monkeypatch):
    config = Config.for_profile("smoke", dataset="foursquare", data_path=str(shared_data / "foursquare-nyc-mat"),
                                variants=("popularity", "isolated", "clustered_sft"), sft_steps=4, sft_batch=8,
                                max_train_cases=200, umap_points=200)
    run = build(config, ArtifactStore(tmp_path))
    metrics = run.read_parquet("metrics")
    assert set(metrics["variant"]) == {"popularity", "isolated", "clustered_sft"}
    rows = {r["id"]: r for r in run.read_json("claims")}
    assert rows["needs.filter"]["reproduced"] is None and "no planted" in rows["needs.filter"]["note"]

    # The Needs & services page on real logs: several test cases per user, one picker for them.
    from apptest import run_page

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    at = run_page("views/needs_services.py", session_state={"profile": "smoke", "needs_dataset": "foursquare"})
    cases = at.selectbox(key="ns_case").options
    assert len(cases) == 5
    at.selectbox(key="ns_case").select_index(0).run()
    assert not at.exception and not at.error
    assert at.dataframe[1].value.shape[0] == 3  # popularity, isolated, clustered_sft for that one case
