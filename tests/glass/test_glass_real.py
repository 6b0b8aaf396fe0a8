"""Real-data loaders: tiny files made here (always run) and the shared copies (marked external)."""

import json

import numpy as np
import pytest

from workbench.datasets.movielens import load_movielens
from workbench.datasets.s3rec import load_s3rec
from workbench.errors import WorkbenchError
from workbench.glass import real
from workbench.glass.config import Config


@pytest.fixture
def beauty_dir(tmp_path):
    lines = [f"{u} " + " ".join(str(1 + (u * 3 + k) % 12) for k in range(6)) for u in range(1, 21)]
    (tmp_path / "Beauty.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "Beauty_item2attributes.json").write_text(json.dumps({str(i): [i % 4, 4 + i % 3] for i in range(1, 13)}))
    return tmp_path


@pytest.fixture
def movielens_dir(tmp_path):
    rows = ["userId,movieId,rating,timestamp"] + [f"{u},{10 * (1 + (u + k) % 9)},4.0,{1000 + k}" for u in range(1, 8) for k in range(7)]
    (tmp_path / "ratings.csv").write_text("\n".join(rows) + "\n")
    movies = ["movieId,title,genres"] + [f'{10 * m},"Film {m}, The ({1990 + m})",{"Drama|Comedy" if m % 2 else "Action"}'
                                         for m in range(1, 10)]
    (tmp_path / "movies.csv").write_text("\n".join(movies) + "\n")
    return tmp_path


def test_beauty_loader_and_leave_one_out_protocol(beauty_dir):
    data = real.s3rec(str(beauty_dir))
    assert data.n_items == 12 and data.n_users == 20
    test = data.split("test")
    assert len(test) == 20 and (test["cut"] == 5).all()  # last item of each 6-item sequence
    assert (data.split("valid")["cut"] == 4).all()
    train = data.split("train")
    assert train["cut"].max() == 3  # validation and test targets are never trained on
    for _, row in test.iterrows():
        assert row["target"] == data.sequence(row["user"])[-1]
    assert np.allclose(np.linalg.norm(data.item_emb, axis=1), np.sqrt(2), atol=1e-4)  # two unit-norm parts
    assert "attribute" in data.description and "co-occurrence" in data.description


def test_cooccurrence_leaves_out_the_held_out_items():
    seqs = [np.array([0, 1, 2, 3])]  # 2 and 3 are validation/test targets
    emb = real.cooccurrence_embedding(seqs, 4, dim=2)
    assert np.allclose(emb[3], 0)  # item 3 only co-occurs through held-out positions


def test_s3rec_by_name_alias_and_file_give_one_dataset_and_a_data_card(beauty_dir):
    """``s3rec`` + name, the ``amazon_beauty`` alias and the .txt path load the same data; the description
    (the run's data card, shown on the SID tree page) names the dataset and its counts."""
    (beauty_dir / "Toys_and_Games.txt").write_text("1 5 6 7 8\n2 6 7 8 5\n3 7 8 5 6\n")  # no attribute file
    base = Config.for_profile("smoke")
    by_name = real.load(base.with_overrides({"dataset": "s3rec", "data_path": str(beauty_dir), "name": "Beauty"}))
    alias = real.load(base.with_overrides({"dataset": "amazon_beauty", "data_path": str(beauty_dir)}))
    by_file = real.load(base.with_overrides({"dataset": "s3rec", "data_path": str(beauty_dir / "Beauty.txt")}))
    assert np.allclose(by_name.item_emb, alias.item_emb) and np.allclose(by_name.item_emb, by_file.item_emb)
    assert by_name.description.startswith("Beauty (S3-Rec files: Beauty.txt + Beauty_item2attributes.json; 120 actions, 7 attributes)")
    assert "20 users, 12 items" in by_name.description
    toys = real.load(base.with_overrides({"dataset": "s3rec", "data_path": str(beauty_dir), "name": "Toys_and_Games"}))
    assert toys.n_items == 4 and "no attribute file" in toys.description
    assert "co-occurrence SVD (training parts only) only, as the dataset has no attribute file" in toys.description
    with pytest.raises(WorkbenchError, match=r"several S3-Rec datasets \(Beauty, Toys_and_Games\)"):
        real.check(base.with_overrides({"dataset": "s3rec", "data_path": str(beauty_dir)}))
    with pytest.raises(WorkbenchError, match="asks for attributes but Toys_and_Games has no Toys_and_Games_item2attributes.json"):
        real.load(base.with_overrides({"dataset": "s3rec", "data_path": str(beauty_dir / "Toys_and_Games.txt"),
                                       "item_embedding": "both"}))
    # two S3-Rec datasets of one folder never share a run folder: the name is part of the settings' hash
    a, b = (base.with_overrides({"dataset": "s3rec", "data_path": str(beauty_dir), "name": n}) for n in ("Beauty", "Toys_and_Games"))
    assert a.config_hash() != b.config_hash()


def test_runs_are_labelled_by_the_real_dataset_name(beauty_dir, tmp_path):
    """The app's dataset picker, data cards and ``workbench runs`` say ``Toys_and_Games (s3rec)``, not the
    loader's name, however the files were named on the command line."""
    from workbench.glass.config import Config
    from workbench.store import ArtifactStore

    (beauty_dir / "Toys_and_Games.txt").write_text("1 5 6 7 8\n2 6 7 8 5\n3 7 8 5 6\n")
    base = Config.for_profile("smoke")
    label = lambda **o: base.with_overrides(o).dataset_label()  # noqa: E731
    assert label(dataset="amazon_beauty", data_path=str(beauty_dir)) == "Beauty (s3rec)"
    assert label(dataset="s3rec", data_path=str(beauty_dir / "Beauty.txt")) == "Beauty (s3rec)"
    assert label(dataset="s3rec", data_path=str(beauty_dir), name="Toys_and_Games") == "Toys_and_Games (s3rec)"
    assert base.dataset_label() == "synthetic"
    store = ArtifactStore(tmp_path / "store")
    config = base.with_overrides({"dataset": "s3rec", "data_path": str(beauty_dir), "name": "Toys_and_Games"})
    with store.create("glass", config) as writer:
        writer.write_json("summary", {"data": "toys"})
        run = writer.finish()
    assert run.dataset == "Toys_and_Games (s3rec)" and store.datasets("glass", "smoke") == ["Toys_and_Games (s3rec)"]
    assert store.latest("glass", "smoke", "Toys_and_Games (s3rec)").path == run.path


def test_movielens_loader_orders_by_time_and_keeps_titles(movielens_dir):
    ml = load_movielens(movielens_dir)
    assert len(ml.sequences) == 7 and ml.n_items == 9
    assert ml.movies["title"].iloc[0] == "Film 1, The (1991)"
    assert ml.item_texts()[1].endswith("Genres: Action")
    data = real.movielens(str(movielens_dir), embedding="tfidf")
    assert data.item_names[0] == "Film 1, The (1991)" and len(data.split("test")) == 7


def test_movielens_loader_errors_name_the_fix(tmp_path):
    with pytest.raises(WorkbenchError, match="No ratings.csv"):
        load_movielens(tmp_path)
    (tmp_path / "ratings.csv").write_text("user,item\n1,2\n")
    (tmp_path / "movies.csv").write_text("movieId,title,genres\n")
    with pytest.raises(WorkbenchError, match="lacks column"):
        load_movielens(tmp_path)


def test_minilm_text_encoder_is_offline_and_meaningful():
    emb, what = real.text_embedding(["Toy Story (1995). Genres: Animation, Children",
                                     "Toy Story 2 (1999). Genres: Animation, Children",
                                     "Heat (1995). Genres: Action, Crime, Thriller"])
    assert emb.shape == (3, 384) and "MiniLM" in what
    assert emb[0] @ emb[1] > emb[0] @ emb[2]


@pytest.mark.external
def test_shared_amazon_beauty_matches_its_source_card(shared_data):
    b = load_s3rec(shared_data / "amazon-beauty")
    assert b.name == "Beauty" and len(b.sequences) == 22363 and b.n_items == 12101
    assert b.n_actions == 198502 and b.item_ids[:3] == [1, 2, 3]
    assert all(b.attributes) and b.n_attributes > 0


@pytest.mark.external
def test_shared_movielens_matches_its_source_card(shared_data):
    ml = load_movielens(shared_data / "movielens-latest-small")
    assert len(ml.sequences) == 610 and ml.n_items == 9724
    assert sum(len(s) for s in ml.sequences) == 100836
    assert ml.movies.loc[0, "title"] == "Toy Story (1995)"
