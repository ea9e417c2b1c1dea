"""List (multi-valued categorical) columns in RankingPreprocessor."""

import pickle

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.base import clone

from skrank.data import ParquetSource
from skrank.preprocessing import RankingPreprocessor

GENRES = [["Drama", "War"], [], None, ["Comedy", None, "Drama"], ("Drama",), np.array(["War"])]


def frame():
    return pd.DataFrame(
        {
            "site": ["a", "b", "a", "b", "a", "c"],
            "genres": GENRES,
            "title": ["x|y", "", None, "y", "x|z", "y"],
            "n": np.arange(6.0),
        }
    )


def test_kinds_ids_and_padding():
    prep = RankingPreprocessor(list_features={"title": "|"}).fit(frame())
    assert prep.column_kinds_ == {
        "site": "categorical",
        "genres": "list",
        "title": "list",
        "n": "dense",
    }
    assert prep.column_kind_reasons_["title"] == "listed in list_features"
    assert prep.list_features_ == ["genres", "title"]
    assert prep.max_list_lengths_ == {"genres": 3, "title": 2}
    assert prep.categorical_features_ == ["site"] + ["genres"] * 3 + ["title"] * 2
    # Tokens by decreasing count, ties by string: Drama 3, War 2, Comedy 1.
    assert prep.categories_["genres"].tolist() == ["Drama", "War", "Comedy"]
    assert prep.vocabulary_sizes_["genres"] == 5
    _, ids = prep.encode(frame())
    genres = ids[:, 1:4].tolist()
    # Empty and missing lists: all padding; a missing token: id 0.
    assert genres == [[2, 3, -1], [-1] * 3, [-1] * 3, [4, 0, 2], [2, -1, -1], [3, -1, -1]]
    assert ids[:, 4:6].tolist()[:3] == [[3, 2], [-1, -1], [-1, -1]]  # "x|y", "", None
    assert prep.get_feature_names_out().tolist() == [
        "site",
        "genres__0",
        "genres__1",
        "genres__2",
        "title__0",
        "title__1",
        "n",
    ]


def test_unseen_tokens_and_long_lists_at_transform():
    prep = RankingPreprocessor(min_frequency=2).fit(frame())
    rows = frame().head(2).assign(genres=[["Drama", "Comedy", "New", "War", "War"], ["New"]])
    ids = prep.encode(rows)[1][:, 1:4]
    # Comedy is rarer than min_frequency: unknown; tokens past the width are dropped.
    assert ids.tolist() == [[2, 1, 1], [1, -1, -1]]
    # One row at a time (dict lookups) gives the ids of the whole batch.
    for i in range(2):
        np.testing.assert_array_equal(prep.encode(rows.iloc[[i]])[1], prep.encode(rows)[1][[i]])


def test_transform_pandas_output_and_fit_transform():
    prep = RankingPreprocessor(list_features={"title": "|"}).set_output(transform="pandas")
    out = prep.fit_transform(frame())
    assert out.columns.tolist() == prep.get_feature_names_out().tolist()
    assert out["genres__0"].dtype == np.int32
    np.testing.assert_array_equal(out.to_numpy(), prep.transform(frame()).to_numpy())


def test_arrow_lists_hashing_and_max_categories():
    arrow = pd.ArrowDtype(pa.list_(pa.string()))
    X = frame().drop(columns="title").assign(genres=pd.array(GENRES[:3] * 2, dtype=arrow))
    prep = RankingPreprocessor().fit(X)
    assert prep.column_kinds_["genres"] == "list"
    assert prep.encode(X)[1][:3, 1:3].tolist() == [[2, 3], [-1, -1], [-1, -1]]
    capped = RankingPreprocessor(max_categories=1).fit(frame())
    assert capped.categories_["genres"].tolist() == ["Drama"]
    hashed = RankingPreprocessor(hash_buckets=7, max_categories=2).fit(frame())
    assert "genres" in hashed.hashed_features_
    ids = hashed.encode(frame())[1][:, 1:4]
    assert ((ids == -1) | ((ids >= 0) & (ids < 9))).all()


def test_integer_tokens_keep_their_type():
    X = pd.DataFrame({"codes": [[3, 1], [1], [7, 1, 3]]})
    prep = RankingPreprocessor().fit(X)
    assert prep.categories_["codes"].tolist() == [1, 3, 7]
    assert prep.encode(X)[1].tolist() == [[3, 2, -1], [2, -1, -1], [4, 2, 3]]


def test_partial_fit_and_pickle_equal_fit(tmp_path):
    X = pd.concat([frame()] * 3, ignore_index=True)
    full = RankingPreprocessor(list_features={"title": "|"}).fit(X)
    partial = clone(full)
    for start in range(0, len(X), 5):
        partial.partial_fit(X[start : start + 5])
    for name in ("categorical_features_", "max_list_lengths_", "vocabulary_sizes_"):
        assert getattr(partial, name) == getattr(full, name)
    np.testing.assert_array_equal(partial.encode(X)[1], full.encode(X)[1])
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(full)).encode(X)[1], full.encode(X)[1])
    # Parquet list columns, read batch by batch.
    split = [(s.split("|") if s else []) if isinstance(s, str) else None for s in X["title"]]
    X.drop(columns="genres").assign(title=split).to_parquet(tmp_path / "lists.parquet")
    source = ParquetSource(str(tmp_path / "lists.parquet"), batch_rows=4)
    streamed = RankingPreprocessor()
    for batch, _ in source.iter_batches(with_target=False):
        streamed.partial_fit(batch)
    assert streamed.column_kinds_["title"] == "list"
    assert streamed.categories_["title"].tolist() == full.categories_["title"].tolist()


@pytest.mark.parametrize(
    "values, message",
    [
        ([["a"], "b", ["c"]], r"Column 'c' is a list column .* row 1 holds the scalar 'b'"),
        ([["a"], 3, []], r"Column 'c' .* row 1 holds the scalar 3"),
        ([["a", ["b"]], ["c"]], r"Column 'c' holds nested lists"),
        ([np.array([[1, 2]]), ["c"]], r"Column 'c' holds nested lists"),
        ([[1.5, 2.0], [3.0]], r"Column 'c' holds lists of floats"),
        ([[1, 2.5], []], r"Column 'c' holds lists of floats"),
    ],
)
def test_bad_list_columns_name_the_column(values, message):
    with pytest.raises(ValueError, match=message):
        RankingPreprocessor().fit(pd.DataFrame({"c": values}))


def test_list_features_errors():
    X = pd.DataFrame({"c": ["a|b", "c"], "d": [1.0, 2.0], "l": [["a"], ["b"]]})
    with pytest.raises(ValueError, match="list_features contains the column 'z'"):
        RankingPreprocessor(list_features={"z": "|"}).fit(X)
    with pytest.raises(ValueError, match="non-empty string separator"):
        RankingPreprocessor(list_features={"c": ""}).fit(X)
    with pytest.raises(ValueError, match="both list_features and dense_features"):
        RankingPreprocessor(list_features={"c": "|"}, dense_features=["c"]).fit(X)
    with pytest.raises(ValueError, match="listed in dense_features but holds lists"):
        RankingPreprocessor(dense_features=["l"]).fit(X)
    with pytest.raises(ValueError, match="row 0 holds the scalar 1.0"):
        RankingPreprocessor(list_features={"d": None}).fit(X)
    with pytest.raises(ValueError, match="list_features"):
        RankingPreprocessor(list_features=["c"]).fit(X)
    # Listing a list column as categorical is no conflict.
    prep = RankingPreprocessor(categorical_features=["l"]).fit(X)
    assert prep.column_kinds_["l"] == "list"
