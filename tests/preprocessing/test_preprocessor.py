"""Outputs, scikit-learn API contract and parameter validation of RankingPreprocessor."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import skrank
from skrank.preprocessing import RankingPreprocessor


@pytest.fixture
def X():
    return pd.DataFrame(
        {
            "site": ["a", "b", "a", None, "c"],
            "clicks": [1.0, 3.0, np.nan, 0.0, 2.0],
            "user": [10, 11, 10, 12, 10],
            "age": [20.0, 30.0, 40.0, 50.0, 60.0],
        }
    )


def test_public_import():
    assert skrank.RankingPreprocessor is RankingPreprocessor


def test_transform_is_ids_then_dense(X):
    prep = RankingPreprocessor(categorical_features=["site", "user"]).fit(X)
    dense, categorical = prep.encode(X)
    out = prep.transform(X)
    assert out.dtype == np.float64
    assert out.shape == (5, 2 + prep.n_dense_out_)
    np.testing.assert_array_equal(out[:, :2], categorical)
    # transform keeps float64 precision; encode rounds the same values to float32
    np.testing.assert_array_equal(out[:, 2:].astype(np.float32), dense)
    assert prep.get_feature_names_out().tolist() == [
        "site",
        "user",
        "clicks",
        "age",
        "clicks__missing",
    ]


def test_fit_transform_equals_fit_then_transform(X):
    prep = RankingPreprocessor(categorical_features=["user"], hash_buckets=2)
    np.testing.assert_array_equal(prep.fit_transform(X), clone(prep).fit(X).transform(X))


def test_pandas_output_keeps_ids_as_int_and_the_index(X):
    X.index = [5, 4, 3, 2, 1]
    prep = RankingPreprocessor().set_output(transform="pandas")
    out = prep.fit_transform(X)
    assert out.columns.tolist() == prep.get_feature_names_out().tolist()
    assert out["site"].dtype == np.int32
    assert out["clicks"].dtype == np.float64
    assert out.index.tolist() == [5, 4, 3, 2, 1]
    pd.testing.assert_frame_equal(out, prep.transform(X))


def test_unfitted_errors(X):
    for method in ("transform", "encode"):
        with pytest.raises(NotFittedError):
            getattr(RankingPreprocessor(), method)(X)


def test_pickle_and_clone_round_trip(X):
    prep = RankingPreprocessor(categorical_features=["user"], max_categories=2).fit(X)
    restored = pickle.loads(pickle.dumps(prep))
    np.testing.assert_array_equal(restored.transform(X), prep.transform(X))
    fresh = clone(prep)
    assert fresh.get_params() == prep.get_params()
    assert not hasattr(fresh, "vocabulary_sizes_")


@pytest.mark.parametrize(
    "params, match",
    [
        ({"min_frequency": 0}, "'min_frequency' parameter .* Got 0 instead"),
        ({"min_frequency": 1.5}, "'min_frequency' parameter .* Got 1.5 instead"),
        ({"min_frequency": 1.0}, "'min_frequency' parameter .* Got 1.0 instead"),
        ({"max_categories": 0}, "'max_categories' parameter .* Got 0 instead"),
        ({"max_categories": 2.5}, "'max_categories' parameter .* Got 2.5 instead"),
        ({"hash_buckets": -3}, "'hash_buckets' parameter .* Got -3 instead"),
        ({"log_transform": "sometimes"}, "'log_transform' parameter .* Got 'sometimes'"),
        ({"categorical_features": "site"}, "'categorical_features' parameter .* Got 'site'"),
        ({"dense_features": 3}, "'dense_features' parameter .* Got 3 instead"),
        ({"missing_indicator": "yes"}, "'missing_indicator' parameter .* Got 'yes'"),
    ],
)
@pytest.mark.parametrize("method", ["fit", "fit_transform", "partial_fit"])
def test_parameter_validation(X, params, match, method):
    with pytest.raises(ValueError, match=match):
        getattr(RankingPreprocessor(**params), method)(X)


def test_parameter_constraints_cover_every_parameter():
    # The estimators take the preprocessing constraints from here.
    constraints = RankingPreprocessor._parameter_constraints
    assert constraints.keys() == RankingPreprocessor().get_params().keys()


def test_missing_indicator_name_clash_is_reported():
    X = pd.DataFrame({"v": [1.0, np.nan], "v__missing": [0.0, 1.0]})
    with pytest.raises(ValueError, match=r"\['v__missing'\] clash with input column names"):
        RankingPreprocessor().fit(X)
    RankingPreprocessor(missing_indicator=False).fit(X)


def test_refit_on_arrays_forgets_feature_names(X):
    prep = RankingPreprocessor().fit(X[["clicks", "age"]])
    assert prep.feature_names_in_.tolist() == ["clicks", "age"]
    prep.fit(X[["clicks", "age"]].to_numpy())
    assert not hasattr(prep, "feature_names_in_")
    assert prep.dense_features_ == ["x0", "x1"]


def test_preprocessing_does_not_import_keras():
    import subprocess
    import sys

    code = (
        "import sys, skrank.preprocessing;"
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
