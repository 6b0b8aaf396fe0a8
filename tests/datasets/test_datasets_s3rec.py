"""S3-Rec sequence benchmarks by name: folder + name, the file itself, the alias, without attributes,
ids of any size (re-indexed by their distinct values) and the shared Beauty copy (external)."""

import json
import resource
import sys

import pytest

from workbench.datasets.s3rec import dataset_names, find_files, load_s3rec
from workbench.errors import WorkbenchError

NAMES = ("Beauty", "Sports_and_Outdoors", "Toys_and_Games", "Yelp", "LastFM")


@pytest.fixture
def s3rec_dir(tmp_path):
    """Five datasets in one folder (attribute files for the Amazon three only) and a README that is no dataset."""
    for k, name in enumerate(NAMES):
        lines = [f"{u} " + " ".join(str(1 + (u * 3 + j + k) % (8 + k)) for j in range(5)) for u in range(1, 7)]
        (tmp_path / f"{name}.txt").write_text("\n".join(lines) + "\n")
        if k < 3:
            attrs = {str(i): [100 + i % 3, 200 + k] for i in range(1, 9 + k)}
            (tmp_path / f"{name}_item2attributes.json").write_text(json.dumps(attrs))
    (tmp_path / "README.txt").write_text("S3-Rec copies\n")
    return tmp_path


def test_every_dataset_loads_by_name_and_by_file(s3rec_dir):
    assert dataset_names(s3rec_dir) == sorted(NAMES)
    for k, name in enumerate(NAMES):
        data = load_s3rec(s3rec_dir, name)
        assert data.name == name and data.n_users == 6 and data.n_actions == 30
        assert data.item_ids == sorted(data.item_ids) and data.n_items == len({i for s in data.sequences for i in s})
        assert (data.attribute_file is not None) == (k < 3)
        assert data.n_attributes == (4 if k < 3 else 0) and len(data.attributes) == data.n_items
        same = load_s3rec(s3rec_dir / f"{name}.txt")  # the file itself finds its attribute file beside it
        assert same.card() == data.card()
    assert load_s3rec(s3rec_dir, "amazon_beauty").name == "Beauty"  # the old dataset name is an alias


def test_ambiguous_or_wrong_names_list_what_is_there(s3rec_dir):
    with pytest.raises(WorkbenchError, match=r"several S3-Rec datasets \(Beauty, LastFM, Sports_and_Outdoors, "
                                             r"Toys_and_Games, Yelp\); pick one with --set name=Beauty"):
        load_s3rec(s3rec_dir)
    with pytest.raises(WorkbenchError, match=r"No Games.txt in .* \(S3-Rec datasets found there: Beauty, LastFM"):
        load_s3rec(s3rec_dir, "Games")
    with pytest.raises(WorkbenchError, match="names the file Yelp.txt but the dataset name is 'Beauty'"):
        find_files(s3rec_dir / "Yelp.txt", "Beauty")
    with pytest.raises(WorkbenchError, match="does not exist"):
        load_s3rec(s3rec_dir / "missing")


def test_one_dataset_needs_no_name_and_original_ids_are_kept(tmp_path):
    (tmp_path / "LastFM.txt").write_text("7 30 10 20\n8 20 30\n")
    data = load_s3rec(tmp_path)
    assert data.name == "LastFM" and data.item_ids == [10, 20, 30]
    assert [s.tolist() for s in data.sequences] == [[2, 0, 1], [1, 2]]
    assert data.attribute_file is None and data.attributes == [[], [], []]


def test_huge_ids_cost_memory_by_the_data_not_by_the_largest_id(tmp_path):
    """Issue 11: an id of 3,000,000,000 made per-item lists of 3e9 entries (5 GB). Now the memory grows
    by the distinct ids; the attribute ids are re-indexed the same way."""
    (tmp_path / "Huge.txt").write_text("1 3000000000 5 99999999999999999999\n2 5 3000000000\n")
    (tmp_path / "Huge_item2attributes.json").write_text(json.dumps({"3000000000": [7000000000], "5": [1, 7000000000]}))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    data = load_s3rec(tmp_path)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / (1024 if sys.platform != "darwin" else 1024 ** 2)
    assert grown_mb < 100
    assert data.item_ids == [5, 3000000000, 99999999999999999999]
    assert [s.tolist() for s in data.sequences] == [[1, 0, 2], [0, 1]]
    assert data.attribute_ids == [1, 7000000000] and data.attributes == [[0, 1], [1], []]


@pytest.mark.external
def test_shared_beauty_by_folder_and_by_file(shared_data):
    folder = shared_data / "amazon-beauty"
    data = load_s3rec(folder)
    assert (data.name, data.n_users, data.n_items, data.n_actions) == ("Beauty", 22363, 12101, 198502)
    assert data.attribute_file is not None and data.n_attributes == 637 and all(data.attributes)  # SOURCE.md
    assert load_s3rec(folder / "Beauty.txt").card() == data.card()
