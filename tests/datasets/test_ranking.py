"""make_ranking: queries of items with planted graded relevance."""

import doctest

import numpy as np
import pandas as pd
import pytest

from skrank.datasets import _ranking, make_ranking
from skrank.metrics import ndcg_score

COLUMNS = ["query_id", "item_id", "item_category", "price", "match_score"]


def test_columns_dtypes_and_query_sizes():
    X, y = make_ranking(n_queries=40, items_per_query=(3, 7), random_state=0)
    assert list(X.columns) == COLUMNS
    for name in ("query_id", "item_id", "item_category"):
        assert pd.api.types.is_string_dtype(X[name].dtype)
    assert X["query_id"].str.fullmatch(r"q\d+").all()
    assert X["item_category"].nunique() <= 20
    for name in ("price", "match_score"):
        assert X[name].dtype == np.float64
    assert (X["price"] > 0).all()
    sizes = X.groupby("query_id").size()
    assert len(sizes) == 40 and sizes.between(3, 7).all() and len(X) == sizes.sum()
    assert y.name == "relevance" and y.dtype == np.int64
    assert set(y.unique()) == {0, 1, 2, 3, 4}
    # An item has one category and one price wherever it appears.
    assert (X.groupby("item_id")[["item_category", "price"]].nunique() == 1).all().all()


@pytest.mark.parametrize("max_relevance", [1, 2, 3, 6])
def test_grades_are_zero_to_max_relevance_mostly_irrelevant(max_relevance):
    _, y = make_ranking(n_queries=300, max_relevance=max_relevance, random_state=0)
    assert set(y.unique()) == set(range(max_relevance + 1))
    shares = y.value_counts(normalize=True).sort_index()
    assert shares.iloc[0] == shares.max() and 0.35 < shares.iloc[0] < 0.65


def test_same_seed_same_data_other_seed_other_data():
    X1, y1 = make_ranking(n_queries=30, random_state=7)
    X2, y2 = make_ranking(n_queries=30, random_state=np.random.RandomState(7))
    X3, y3 = make_ranking(n_queries=30, random_state=8)
    X4, y4 = make_ranking(n_queries=30, random_state=7)
    pd.testing.assert_frame_equal(X1, X4)
    pd.testing.assert_series_equal(y1, y4)
    assert not X1.equals(X3) and not y1.equals(y3)
    assert X2.shape[1] == X1.shape[1]


def test_planted_parts_of_the_relevance():
    X, y = make_ranking(n_queries=600, random_state=0)
    qid = X["query_id"].to_numpy()
    noise = np.random.default_rng(0).random(len(y))
    chance = ndcg_score(y, noise, qid=qid)
    # The numeric match score ranks within queries better than chance ...
    assert ndcg_score(y, X["match_score"], qid=qid) > chance + 0.05
    # ... so does the items' mean relevance elsewhere (item quality) ...
    item_mean = y.groupby(X["item_id"]).transform("mean")
    assert ndcg_score(y, item_mean, qid=qid) > chance + 0.05
    # ... and price carries nothing.
    assert abs(np.corrcoef(X["price"], y)[0, 1]) < 0.05
    # The per-query offset moves whole queries: their mean relevance differs.
    query_means = y.groupby(qid).mean()
    assert query_means.std() > 0.5
    no_offset = make_ranking(n_queries=600, query_offset=0.0, random_state=0)[1]
    assert no_offset.groupby(qid).mean().std() < query_means.std()
    # Some queries have no relevant item.
    assert (y.groupby(qid).max() == 0).any()


def test_bunch_and_arrays():
    bunch = make_ranking(n_queries=10, return_X_y=False, random_state=0)
    assert bunch.query_column == "query_id"
    assert bunch.feature_names == COLUMNS and bunch.target_names == ["relevance"]
    assert list(bunch.frame.columns) == [*COLUMNS, "relevance"]
    assert "learning-to-rank" in bunch.DESCR
    X, y = make_ranking(n_queries=10, as_frame=False, random_state=0)
    assert X.dtype == object and X.shape == (len(y), 5) and y.dtype == np.int64


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n_queries=0), ValueError, "n_queries must be >= 1"),
        (dict(items_per_query=(5, 2)), ValueError, r"items_per_query\[1\] must be >= 5"),
        (dict(items_per_query=5), ValueError, "items_per_query must be a pair"),
        (dict(max_relevance=0), ValueError, "max_relevance must be >= 1"),
        (dict(noise=-1.0), ValueError, "noise must be in"),
        (dict(n_items=2.5), TypeError, "n_items must be an int"),
        (dict(as_frame="yes"), TypeError, "as_frame must be a bool"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_ranking(**kwargs)


def test_docstring_examples():
    result = doctest.testmod(_ranking, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
