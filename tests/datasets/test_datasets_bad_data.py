"""Bad data a user may hand any loader: each case is one ``WorkbenchError`` of one line that names the
file (and the line, where there is one) — never a traceback from deep inside json, pandas or numpy."""

import json

import pytest

from workbench.datasets.foursquare import load_checkins
from workbench.datasets.jsonl_bench import load_jsonl_bench
from workbench.datasets.movielens import load_movielens
from workbench.datasets.s3rec import load_s3rec
from workbench.datasets.tsmc import load_category_map, load_tsmc
from workbench.errors import WorkbenchError

BINARY = b"PK\x03\x04\x00\x00\xff\xfe" * 64
LATIN1 = "1 2 3\n2 Caf\xe9 4\n".encode("latin-1")
MAT_HEADER = "tid,label,lat,lon,day,hour,poi,category,weather\n"
TSMC_ROW = "470\tv1\tc1\tBar\t40.7\t-74.0\t-240\tTue Apr 03 18:00:09 +0000 2012\n"
GETNEXT_HEADER = "user_id,POI_id,POI_catid,POI_catname,latitude,longitude,timezone,UTC_time\n"


def s3rec_attrs(content):
    def make(folder):
        (folder / "Beauty.txt").write_text("1 1 2 3\n")
        target = folder / "Beauty_item2attributes.json"
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
        return target
    return make


def movielens_ratings(content: bytes):
    def make(folder):
        (folder / "movies.csv").write_text("movieId,title,genres\n1,A (1990),Drama\n")
        (folder / "ratings.csv").write_bytes(content)
        return folder / "ratings.csv"
    return make


def plain(name: str, content: bytes):
    def make(folder):
        (folder / name).write_bytes(content)
        return folder / name
    return make


# (case, how to make it -> the file to be named, how to load the folder, the sentence's key words, line)
CASES = [
    ("s3rec binary", plain("Beauty.txt", BINARY), load_s3rec, "holds binary data", 1),
    ("s3rec latin-1", plain("Beauty.txt", LATIN1), load_s3rec, "is not UTF-8 text", 2),
    ("s3rec words for ids", plain("Beauty.txt", b"1 1 2\n2 a b\n"), load_s3rec, "integer item ids", 2),
    ("s3rec user without items", plain("Beauty.txt", b"1 1 2\n2\n"), load_s3rec, "names a user but no items", 2),
    ("s3rec empty", plain("Beauty.txt", b"\n\n"), load_s3rec, "holds no sequences", None),
    ("attributes as a list", s3rec_attrs(json.dumps([[1, 2]])), load_s3rec, "holds a JSON list, not a JSON object", None),
    ("attributes not a list", s3rec_attrs(json.dumps({"1": 5})), load_s3rec, "entry '1' is not an item id with a list", None),
    ("attributes with text ids", s3rec_attrs(json.dumps({"1": ["brand"]})), load_s3rec, "list of integer attribute ids", None),
    ("attributes with a word key", s3rec_attrs(json.dumps({"one": [1]})), load_s3rec, "entry 'one'", None),
    ("attributes cut short", s3rec_attrs('{"1": [1,\n 2'), load_s3rec, "is not valid JSON", 2),
    ("attributes binary", s3rec_attrs(BINARY), load_s3rec, "holds binary data", 1),
    ("jsonl binary", plain("t.jsonl", BINARY), load_jsonl_bench, "holds binary data", 1),
    ("jsonl latin-1", plain("t.jsonl", b'{"question": "q", "answer": "#### 1"}\n{"question": "caf\xe9"}\n'),
     load_jsonl_bench, "is not UTF-8 text", 2),
    ("jsonl missing field", plain("t.jsonl", b'{"question": "q", "answer": "#### 1"}\n{"q": 1}\n'),
     load_jsonl_bench, "lacks the field", 2),
    ("mat empty file", plain("foursquare_nyc.csv", b""), load_checkins, "is empty", None),
    ("mat binary", plain("foursquare_nyc.csv", BINARY), load_checkins, "holds binary data", 1),
    ("mat text hour", plain("foursquare_nyc.csv", (MAT_HEADER + "1,6,40.8,-73.9,Monday,12,21,Food,Clear\n"
                                                   "2,6,40.8,-73.9,Monday,noon,21,Food,Clear\n").encode()),
     load_checkins, "column hour must hold numbers", 3),
    ("mat text lat", plain("foursquare_nyc.csv", (MAT_HEADER + "1,6,north,-73.9,Monday,12,21,Food,Clear\n").encode()),
     load_checkins, "column lat must hold numbers", 2),
    ("mat hour 25", plain("foursquare_nyc.csv", (MAT_HEADER + "1,6,40.8,-73.9,Monday,25,21,Food,Clear\n").encode()),
     load_checkins, "hour must lie in 0-23", 2),
    ("tsmc empty file", plain("dataset_TSMC2014_NYC.txt", b""), load_tsmc, "is empty", None),
    ("tsmc binary", plain("dataset_TSMC2014_NYC.txt", BINARY), load_tsmc, "holds binary data", 1),
    ("tsmc text lat", plain("dataset_TSMC2014_NYC.txt", (TSMC_ROW + TSMC_ROW.replace("40.7", "north")).encode()),
     load_tsmc, "lat 'north' is not a number", 2),
    ("tsmc lon out of range", plain("dataset_TSMC2014_NYC.txt", TSMC_ROW.replace("-74.0", "-740").encode()),
     load_tsmc, "lon '-740' is not a number in", 1),
    ("tsmc bad time", plain("dataset_TSMC2014_NYC.txt", TSMC_ROW.replace("Tue Apr 03", "2012-04-03").encode()),
     load_tsmc, "UTC time", 1),
    ("tsmc missing fields", plain("dataset_TSMC2014_NYC.txt", b"470\tv1\tBar\n"), load_tsmc, "has 3 tab-separated fields", 1),
    ("getnext header only", plain("NYC_val.csv", GETNEXT_HEADER.encode()), load_tsmc, "holds no check-ins", None),
    ("getnext text lon", plain("NYC_val.csv", (GETNEXT_HEADER + "1,v,c,Bar,40.7,west,-240,Tue Apr 03 18:00:09 +0000 2012\n").encode()),
     load_tsmc, "lon 'west' is not a number", 2),
    ("category table binary", plain("map.csv", BINARY), load_category_map, "holds binary data", 1),
    ("movielens empty ratings", movielens_ratings(b""), load_movielens, "is empty", None),
    ("movielens header-only ratings", movielens_ratings(b"userId,movieId,rating,timestamp\n"), load_movielens,
     "holds only a header", None),
    ("movielens binary ratings", movielens_ratings(BINARY), load_movielens, "holds binary data", 1),
    ("movielens text ids", movielens_ratings(b"userId,movieId,rating,timestamp\n1,1,4,5\n1,film,4,6\n"), load_movielens,
     "column movieId must hold numbers", 3),
]


@pytest.mark.parametrize("make, load, words, line", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_data_gets_one_sentence_naming_the_file(tmp_path, make, load, words, line):
    target = make(tmp_path)
    with pytest.raises(WorkbenchError) as err:
        load(target if load is load_category_map else tmp_path)
    message = str(err.value)
    assert words in message, message
    assert str(target) in message and len(message.splitlines()) == 1, message
    if line is not None:
        assert f"line {line}" in message, message
