"""Real-data loaders: tiny files made here (always run) and the shared copies (marked external)."""

import json

import numpy as np
import pytest

from workbench.datasets.amazon_beauty import load_amazon_beauty
from workbench.datasets.movielens import load_movielens
from workbench.errors import WorkbenchError
from workbench.glass import real


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
    data = real.amazon_beauty(str(beauty_dir))
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


def test_beauty_loader_errors_name_the_fix(tmp_path):
    with pytest.raises(WorkbenchError, match="No Beauty.txt"):
        load_amazon_beauty(tmp_path)
    (tmp_path / "Beauty.txt").write_text("1 a b c\n")
    with pytest.raises(WorkbenchError, match="integer ids"):
        load_amazon_beauty(tmp_path)


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
    b = load_amazon_beauty(shared_data / "amazon-beauty")
    assert len(b.sequences) == 22363 and b.n_items == 12101
    assert sum(len(s) for s in b.sequences) == 198502
    assert all(b.attributes)


@pytest.mark.external
def test_shared_movielens_matches_its_source_card(shared_data):
    ml = load_movielens(shared_data / "movielens-latest-small")
    assert len(ml.sequences) == 610 and ml.n_items == 9724
    assert sum(len(s) for s in ml.sequences) == 100836
    assert ml.movies.loc[0, "title"] == "Toy Story (1995)"
