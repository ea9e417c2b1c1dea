import numpy as np
import pandas as pd
import pytest

from skrank.data import CSVSource, ParquetSource, _fitting, fit_preprocessor
from skrank.datasets import make_ctr_classification
from skrank.preprocessing import RankingPreprocessor


def assert_same_fit(streamed, in_memory):
    for name in (
        "n_features_in_",
        "column_kinds_",
        "categorical_features_",
        "dense_features_",
        "vocabulary_sizes_",
        "hashed_features_",
        "log_transformed_features_",
        "missing_indicator_features_",
        "dense_feature_names_out_",
    ):
        assert getattr(streamed, name) == getattr(in_memory, name), name
    np.testing.assert_array_equal(streamed.feature_names_in_, in_memory.feature_names_in_)
    assert streamed.categories_.keys() == in_memory.categories_.keys()
    for column, values in in_memory.categories_.items():
        if values is None:
            assert streamed.categories_[column] is None
        else:
            assert streamed.categories_[column].tolist() == values.tolist(), column
    for name in ("data_min_", "data_max_", "mean_", "scale_"):
        np.testing.assert_allclose(getattr(streamed, name), getattr(in_memory, name), rtol=1e-12)


def frame(n=3000, seed=0):
    X, _ = make_ctr_classification(
        n, n_dense=4, n_categorical=4, cardinalities=[5, 50, 500, 5000], random_state=seed
    )
    X["I1"] = X["I1"].astype(float)
    X.loc[3, "I2"] = np.inf
    X.loc[7, "I2"] = -np.inf
    X["mixed"] = pd.Series([1, "1", "b", None, 2.5] * (n // 5), dtype=object)
    X["const"] = 7.0
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
@pytest.mark.parametrize("batch_rows", [1, 777, 5000])
def test_streaming_fit_equals_in_memory_fit(params, batch_rows):
    X = frame(600 if batch_rows == 1 else 3000)
    expected = RankingPreprocessor(**params).fit(X)
    batches = (X.iloc[i : i + batch_rows] for i in range(0, len(X), batch_rows))
    streamed = fit_preprocessor(RankingPreprocessor(**params), batches)
    assert_same_fit(streamed, expected)
    dense, categorical = streamed.encode(X)
    dense_expected, categorical_expected = expected.encode(X)
    np.testing.assert_array_equal(categorical, categorical_expected)
    np.testing.assert_allclose(dense, dense_expected, rtol=1e-6, atol=1e-6)


def test_auto_log_rule_beyond_the_exact_range(monkeypatch):
    # With a tiny TOP_K the 99th percentile falls outside the kept values: the
    # decision still matches on clear-cut columns.
    monkeypatch.setattr(_fitting, "TOP_K", 20)
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "heavy": np.floor(rng.lognormal(1, 2, size=20_000)),
            "light": rng.random(20_000) * 50,
        }
    )
    expected = RankingPreprocessor().fit(X)
    streamed = fit_preprocessor(
        RankingPreprocessor(), (X[i : i + 999] for i in range(0, 20_000, 999))
    )
    assert streamed.log_transformed_features_ == expected.log_transformed_features_ == ["heavy"]


def twins(n, distinct):
    """``distinct`` values, each both as an int and as its string (1 and "1")."""
    return pd.Series([i % distinct if i % 3 else str(i % distinct) for i in range(n)], dtype=object)


def test_hashed_object_columns_stop_counting():
    # Object columns (pure strings, or mixed types compared by string form) stop
    # keeping counts once past the hashing threshold, as other columns do.
    n = 4000
    X = pd.DataFrame(
        {
            "words": pd.Series([f"w{i}" for i in range(n)], dtype=object),
            "mixed": pd.Series([i if i % 2 else str(i) for i in range(n)], dtype=object),
            "twins": twins(n, 150),
        }
    )
    params = {"hash_buckets": 100}
    fitter = _fitting.PreprocessorFitter(RankingPreprocessor(**params))
    for start in range(0, n, 500):
        fitter.update(X.iloc[start : start + 500])
    assert [a.hashed for a in fitter._categorical] == [True, True, True]
    assert all(a.keys is None for a in fitter._categorical)
    assert_same_fit(fitter.finalize(), RankingPreprocessor(**params).fit(X))
    # 160 keys but 80 string forms: under the threshold, the column keeps counting.
    few = pd.DataFrame({"twins": twins(n, 80)})
    fitter = _fitting.PreprocessorFitter(RankingPreprocessor(**params))
    for start in range(0, n, 500):
        fitter.update(few.iloc[start : start + 500])
    accumulator = fitter._categorical[0]
    assert not accumulator.hashed and len(accumulator.keys) == 160
    streamed = fitter.finalize()
    assert_same_fit(streamed, RankingPreprocessor(**params).fit(few))
    assert streamed.hashed_features_ == []


def test_batches_must_share_columns():
    X = frame(100)
    with pytest.raises(ValueError, match="same columns"):
        fit_preprocessor(RankingPreprocessor(), [X, X.drop(columns="I1")])


def test_empty_input():
    with pytest.raises(ValueError, match="empty"):
        fit_preprocessor(RankingPreprocessor(), [])


@pytest.fixture
def files(tmp_path):
    X, y = make_ctr_classification(
        2000, n_dense=3, n_categorical=3, cardinalities=10, random_state=0
    )
    table = X.assign(clicked=y)
    for i, start in enumerate(range(0, 2000, 700)):
        part = table.iloc[start : start + 700]
        part.to_parquet(tmp_path / f"part-{i}.parquet", row_group_size=300)
        part.to_csv(tmp_path / f"part-{i}.csv", index=False)
    return tmp_path, X, y


def test_parquet_source_batches(files):
    folder, X, y = files
    source = ParquetSource(str(folder / "*.parquet"), target="clicked", batch_rows=256)
    sizes = [len(batch) for batch, _ in source.iter_batches()]
    assert max(sizes) <= 256 and sum(sizes) == 2000
    assert source.count_rows() == 2000
    assert source.feature_names == list(X.columns)
    X_read, y_read = source.read()
    pd.testing.assert_frame_equal(X_read, X.reset_index(drop=True), check_dtype=False)
    np.testing.assert_array_equal(y_read, y)


def test_csv_source_matches_parquet(files):
    folder, X, _ = files
    csv = CSVSource(str(folder / "*.csv"), target="clicked", batch_rows=500)
    expected = RankingPreprocessor().fit(X)
    streamed = fit_preprocessor(RankingPreprocessor(), (b for b, _ in csv.iter_batches()))
    assert_same_fit(streamed, expected)


def test_source_errors(tmp_path):
    with pytest.raises(ValueError, match="No file matches"):
        ParquetSource(str(tmp_path / "*.parquet"))
    with pytest.raises(ValueError, match="batch_rows"):
        ParquetSource(str(tmp_path), batch_rows=0)
    pd.DataFrame({"a": [1.0]}).to_parquet(tmp_path / "x.parquet")
    with pytest.raises(ValueError, match="target column 'clicked'"):
        _ = ParquetSource(str(tmp_path / "x.parquet"), target="clicked").feature_names
