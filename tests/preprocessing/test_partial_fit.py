"""partial_fit, batch by batch, fits as fit on the concatenation of the batches."""

import copy
import math
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

from skrank._numeric import RunningMoments
from skrank.data import CSVSource
from skrank.datasets import make_ctr_classification
from skrank.preprocessing import RankingPreprocessor, _incremental
from skrank.preprocessing._incremental import CategoricalAccumulator


def assert_same_fit(partial, full, X=None):
    """Same fitted attributes (dense scaling up to rounding), same encode() of ``X``."""
    for name in (
        "n_features_in_",
        "n_samples_seen_",
        "column_kinds_",
        "categorical_features_",
        "dense_features_",
        "vocabulary_sizes_",
        "hashed_features_",
        "log_transformed_features_",
        "missing_indicator_features_",
        "dense_feature_names_out_",
    ):
        assert getattr(partial, name) == getattr(full, name), name
    if hasattr(full, "feature_names_in_"):
        np.testing.assert_array_equal(partial.feature_names_in_, full.feature_names_in_)
    assert partial.categories_.keys() == full.categories_.keys()
    for column, values in full.categories_.items():
        if values is None:
            assert partial.categories_[column] is None, column
        else:
            assert partial.categories_[column].tolist() == values.tolist(), column
    for column, encoding in full.categorical_encodings_.items():
        other = partial.categorical_encodings_[column]
        assert (other.hash_buckets, other.as_string) == (encoding.hash_buckets, encoding.as_string)
    assert partial.dense_scalings_.keys() == full.dense_scalings_.keys()
    for name in ("data_min_", "data_max_", "mean_", "scale_"):
        np.testing.assert_allclose(getattr(partial, name), getattr(full, name), rtol=1e-12)
    if X is not None:
        dense, categorical = partial.encode(X)
        dense_full, categorical_full = full.encode(X)
        np.testing.assert_array_equal(categorical, categorical_full)
        np.testing.assert_allclose(dense, dense_full, rtol=1e-6, atol=1e-6)


def partial_fit_batches(params, batches):
    prep = RankingPreprocessor(**params)
    for batch in batches:
        prep.partial_fit(batch)
    return prep


def frame(n, seed=0):
    X, _ = make_ctr_classification(
        n, n_dense=3, n_categorical=4, cardinalities=[5, 50, 500, 5000], random_state=seed
    )
    X.loc[3, "I2"] = np.inf
    X.loc[7, "I2"] = -np.inf
    X["mixed"] = pd.Series([1, "1", "b", None, 2.5] * (n // 5), dtype=object)
    X["const"] = 7.0
    X["no_number"] = np.nan
    X["no_category"] = pd.Series([None] * n, dtype=object)
    return X


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"min_frequency": 3, "max_categories": 20},
        {"min_frequency": 0.01},
        {"hash_buckets": 100},
        {"max_categories": 30, "hash_buckets": 64, "log_transform": True},
        {"log_transform": ["I3"], "missing_indicator": False},
    ],
)
@pytest.mark.parametrize("batch_rows", [1, 333, 5000])
def test_partial_fit_equals_fit_on_the_concatenation(params, batch_rows):
    X = frame(200 if batch_rows == 1 else 2000)
    batches = [X.iloc[i : i + batch_rows] for i in range(0, len(X), batch_rows)]
    prep = partial_fit_batches(params, batches)
    full = RankingPreprocessor(**params).fit(X)
    assert_same_fit(prep, full, X)
    assert prep.categorical_encodings_["no_category"].vocabulary.tolist() == []
    assert prep.dense_scalings_["no_number"].has_missing


def test_fitted_after_every_call():
    # min_frequency as a fraction depends on the rows so far, and so does the
    # vocabulary order: each call gives the fit of the rows passed so far.
    X = frame(900, seed=1)
    params = {"min_frequency": 0.005, "max_categories": 40}
    prep = RankingPreprocessor(**params)
    for end in (300, 600, 900):
        prep.partial_fit(X.iloc[end - 300 : end])
        assert_same_fit(prep, RankingPreprocessor(**params).fit(X.iloc[:end]), X)


def test_mixed_types_across_batches():
    # Strings, then ints ("1" and 1 become one value), then a float column held in
    # an object column (3.0 is "3" among floats but "3.0" among objects).
    batches = [
        pd.DataFrame({"c": pd.Series(["1", "a", "a"], dtype=object), "f": [3.0, 2.5, 3.0]}),
        pd.DataFrame({"c": pd.Series([1, 1, 2], dtype=object), "f": [1.0, 1.0, 3.0]}),
        pd.DataFrame({"c": pd.Series([None, 2, "b"], dtype=object), "f": ["x", 1.0, None]}),
    ]
    params = {"categorical_features": ["c", "f"]}
    prep = RankingPreprocessor(**params)
    for end, batch in enumerate(batches, start=1):
        prep.partial_fit(batch)
        X = pd.concat(batches[:end], ignore_index=True)
        assert_same_fit(prep, RankingPreprocessor(**params).fit(X), X)
    assert prep.categories_["c"].tolist() == ["1", "2", "a", "b"]
    assert prep.categories_["f"].tolist() == ["1.0", "3.0", "2.5", "x"]


def test_hashing_threshold_crossed_in_a_later_batch():
    params = {"hash_buckets": 10}
    first = pd.DataFrame({"c": [f"v{i}" for i in range(10)] * 2})
    prep = RankingPreprocessor(**params).partial_fit(first)
    assert prep.hashed_features_ == [] and prep.vocabulary_sizes_ == {"c": 12}
    second = pd.DataFrame({"c": ["v0", "new"]})
    prep.partial_fit(second)
    X = pd.concat([first, second], ignore_index=True)
    assert_same_fit(prep, RankingPreprocessor(**params).fit(X), X)
    assert prep.hashed_features_ == ["c"]


def twins(n, distinct):
    """``distinct`` values, each both as an int and as its string (1 and "1")."""
    return pd.Series([i % distinct if i % 3 else str(i % distinct) for i in range(n)], dtype=object)


@pytest.mark.parametrize(
    "column, hashed, n_keys",
    [
        (pd.Series([f"w{i}" for i in range(4000)], dtype=object), True, None),
        (pd.Series([i if i % 2 else str(i) for i in range(4000)], dtype=object), True, None),
        (twins(4000, 150), True, None),
        # 160 keys but 80 string forms: under the threshold, the column keeps counting.
        (twins(4000, 80), False, 160),
    ],
)
def test_columns_past_the_hashing_threshold_stop_counting(column, hashed, n_keys):
    accumulator = CategoricalAccumulator(hash_buckets=100, hash_threshold=100)
    for start in range(0, len(column), 500):
        accumulator.update(column.iloc[start : start + 500])
    assert accumulator.hashed is hashed
    assert (accumulator.keys is None) if hashed else (len(accumulator.keys) == n_keys)
    X = column.to_frame("c")
    prep = partial_fit_batches({"hash_buckets": 100}, [X.iloc[:1000], X.iloc[1000:]])
    assert_same_fit(prep, RankingPreprocessor(hash_buckets=100).fit(X), X)


def test_auto_log_rule_near_the_threshold(monkeypatch):
    # 1000 values: the 99th percentile lies among the 20 largest, so the streamed
    # decision is exact, on both sides of max == 10 * q99.
    monkeypatch.setattr(_incremental, "TOP_K", 20)
    base = np.linspace(0.0, 2.0, 999)
    q99 = float(np.quantile(np.append(base, 100.0), 0.99))
    for factor, expected in [(1 - 1e-9, []), (1 + 1e-9, ["x"])]:
        X = pd.DataFrame({"x": np.append(base, 10 * q99 * factor)})
        X = X.sample(frac=1.0, random_state=0)  # the maximum in any batch
        full = RankingPreprocessor().fit(X)
        assert full.log_transformed_features_ == expected
        prep = partial_fit_batches({}, [X.iloc[i : i + 70] for i in range(0, 1000, 70)])
        assert_same_fit(prep, full, X)


def test_auto_log_rule_beyond_the_exact_range(monkeypatch):
    # With a tiny TOP_K the 99th percentile falls outside the kept values: the
    # decision still matches on clear-cut columns.
    monkeypatch.setattr(_incremental, "TOP_K", 20)
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {"heavy": np.floor(rng.lognormal(1, 2, size=20_000)), "light": rng.random(20_000) * 50}
    )
    expected = RankingPreprocessor().fit(X)
    prep = partial_fit_batches({}, [X[i : i + 999] for i in range(0, 20_000, 999)])
    assert prep.log_transformed_features_ == expected.log_transformed_features_ == ["heavy"]


def test_batches_must_share_columns():
    X = frame(100)
    prep = RankingPreprocessor().partial_fit(X)
    with pytest.raises(ValueError, match=r"differ from those of the first batch") as error:
        prep.partial_fit(X.drop(columns="I1").assign(extra=1.0))
    assert "I1" in str(error.value) and "extra" in str(error.value)
    with (
        pytest.warns(UserWarning, match="does not have valid feature names"),
        pytest.raises(ValueError, match=r"differ .* has 5 features, .* expecting 11"),
    ):
        prep.partial_fit(X.iloc[:, :5].to_numpy())
    assert prep.n_samples_seen_ == 100
    # The same columns in another order are matched by name.
    prep.partial_fit(X[X.columns[::-1]])
    assert_same_fit(prep, RankingPreprocessor().fit(pd.concat([X, X])), X)


def test_fit_starts_over():
    X = frame(400)
    first, second = X.iloc[:200], X.iloc[200:]
    prep = RankingPreprocessor().partial_fit(first).fit(second)
    assert_same_fit(prep, RankingPreprocessor().fit(second), X)
    # fit keeps no running counts: partial_fit after it warns and starts over.
    with pytest.warns(UserWarning, match="fitted by fit.*starts a new fit on its batch alone"):
        prep.partial_fit(first)
    assert_same_fit(prep, RankingPreprocessor().fit(first), X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prep.partial_fit(second)
    assert_same_fit(prep, RankingPreprocessor().fit(X), X)


def test_pickles_leave_the_running_counts_out():
    X = frame(400)
    prep = RankingPreprocessor().partial_fit(X.iloc[:200])
    loaded = pickle.loads(pickle.dumps(prep))
    assert "_running_fit" not in vars(loaded)
    assert "_running_fit" in vars(prep)  # pickling leaves the object as it was
    for copied in (loaded, copy.deepcopy(prep)):
        assert_same_fit(copied, prep, X)
        with pytest.warns(UserWarning, match="unpickled"):
            copied.partial_fit(X.iloc[200:])
        assert_same_fit(copied, RankingPreprocessor().fit(X.iloc[200:]), X)
    prep.partial_fit(X.iloc[200:])
    assert_same_fit(prep, RankingPreprocessor().fit(X), X)


def test_a_failed_batch_counts_nothing():
    X = pd.DataFrame({"c": ["a", "b"], "v": [1.0, 2.0]})
    prep = RankingPreprocessor().partial_fit(X)
    with pytest.raises(ValueError, match="'v' was numeric"):
        prep.partial_fit(pd.DataFrame({"c": ["z", "z"], "v": ["oops", 1.0]}))
    assert_same_fit(prep, RankingPreprocessor().fit(X), X)


def test_csv_batches(tmp_path):
    X, y = make_ctr_classification(
        2000, n_dense=3, n_categorical=3, cardinalities=10, random_state=0
    )
    for i, start in enumerate(range(0, 2000, 700)):
        X.iloc[start : start + 700].to_csv(tmp_path / f"part-{i}.csv", index=False)
    source = CSVSource(str(tmp_path / "*.csv"), batch_rows=500)
    prep = RankingPreprocessor()
    for batch, _ in source.iter_batches(with_target=False):
        prep.partial_fit(batch)
    assert_same_fit(prep, RankingPreprocessor().fit(X), X)


def test_running_moments_merge_batches():
    values = np.random.default_rng(0).normal(3.0, 2.0, size=1000)
    moments = RunningMoments()
    assert moments.std == 0.0
    for part in np.array_split(values, 7):
        moments.add_values(part)
    moments.add_values(np.empty(0))
    assert moments.n == 1000
    assert math.isclose(moments.mean, values.mean(), rel_tol=1e-12)
    assert math.isclose(moments.m2, ((values - values.mean()) ** 2).sum(), rel_tol=1e-12)
    assert math.isclose(moments.std, values.std(), rel_tol=1e-12)
