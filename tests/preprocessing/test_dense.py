"""Scaling, infinities, missing values and log1p of dense columns."""

import numpy as np
import pandas as pd
import pytest

from skrank._numeric import robust_mean_std
from skrank.preprocessing import RankingPreprocessor
from skrank.preprocessing._dense import (
    DenseScaling,
    prepare,
    standardize_columns,
    standardize_into,
)


def dense(prep, X):
    return prep.encode(X)[0]


@pytest.mark.parametrize("unit", [1.0, 1e-160, 1e160])
def test_robust_mean_std_neither_overflows_nor_underflows(unit):
    mean, std = robust_mean_std(np.array([1.0, 3.0]) * unit)
    assert mean == pytest.approx(2 * unit, rel=1e-12)
    assert std == pytest.approx(unit, rel=1e-12)
    assert robust_mean_std(np.empty(0)) == robust_mean_std(np.zeros(3)) == (0.0, 0.0)


def test_standard_scaling():
    X = pd.DataFrame({"v": [1.0, 2.0, 3.0, 6.0]})
    prep = RankingPreprocessor(log_transform=False).fit(X)
    assert prep.mean_.tolist() == [3.0]
    assert prep.scale_[0] == pytest.approx(np.std([1, 2, 3, 6]))
    np.testing.assert_allclose(dense(prep, X)[:, 0], (X["v"] - 3) / np.std([1, 2, 3, 6]))


def test_constant_column_is_centred_with_scale_one():
    X = pd.DataFrame({"v": [0.1, 0.1, 0.1]})
    prep = RankingPreprocessor().fit(X)
    assert prep.scale_.tolist() == [1.0]
    assert dense(prep, X)[:, 0].tolist() == [0.0, 0.0, 0.0]
    assert dense(prep, pd.DataFrame({"v": [1.1]}))[0, 0] == pytest.approx(1.0)


def test_infinities_are_clipped_to_the_fitted_finite_range():
    X = pd.DataFrame({"v": [-np.inf, 0.0, 2.0, 4.0, np.inf]})
    prep = RankingPreprocessor(log_transform=False).fit(X)
    assert (prep.data_min_[0], prep.data_max_[0]) == (0.0, 4.0)
    # after clipping the column is [0, 0, 2, 4, 4]: mean 2, std 1.788...
    out = dense(prep, pd.DataFrame({"v": [np.inf, -np.inf, 2.0]}))[:, 0]
    scale = np.std([0, 0, 2, 4, 4])
    np.testing.assert_allclose(out, [2 / scale, -2 / scale, 0.0], rtol=1e-6)


def test_missing_values_are_imputed_with_the_mean_and_flagged():
    X = pd.DataFrame({"v": [1.0, np.nan, 3.0], "w": [1.0, 2.0, 3.0]})
    prep = RankingPreprocessor().fit(X)
    assert prep.missing_indicator_features_ == ["v"]
    assert prep.dense_feature_names_out_ == ["v", "w", "v__missing"]
    assert prep.n_dense_out_ == 3
    out = dense(prep, X)
    assert out[:, 0].tolist() == [-1.0, 0.0, 1.0]
    assert out[:, 2].tolist() == [0.0, 1.0, 0.0]
    # NaN in a column without missing values at fit: imputed, no new column
    out = dense(prep, pd.DataFrame({"v": [1.0], "w": [np.nan]}))
    assert out.tolist() == [[-1.0, 0.0, 0.0]]


def test_missing_indicator_can_be_disabled():
    X = pd.DataFrame({"v": [1.0, np.nan, 3.0]})
    prep = RankingPreprocessor(missing_indicator=False).fit(X)
    assert prep.dense_feature_names_out_ == ["v"]
    assert dense(prep, X)[:, 0].tolist() == [-1.0, 0.0, 1.0]


def test_nullable_numeric_columns():
    X = pd.DataFrame(
        {"i": pd.array([1, None, 3], dtype="Int64"), "f": pd.array([1.0, 3.0, None], "Float64")}
    )
    prep = RankingPreprocessor().fit(X)
    out = dense(prep, X)
    assert out[:, :2].tolist() == [[-1.0, -1.0], [0.0, 1.0], [1.0, 0.0]]
    assert prep.missing_indicator_features_ == ["i", "f"]


def test_auto_log_rule_targets_heavy_tailed_non_negative_columns():
    heavy = np.r_[np.zeros(100), 5000.0]  # max 5000 > 10 * max(q99 = 0, 1)
    light = np.r_[np.arange(100.0), 105.0]  # max 105 < 10 * q99
    negative = np.r_[-1.0, np.zeros(99), 5000.0]
    X = pd.DataFrame({"heavy": heavy, "light": light, "negative": negative})
    prep = RankingPreprocessor().fit(X)
    assert prep.log_transformed_features_ == ["heavy"]
    expected = np.log1p(heavy)
    expected = (expected - expected.mean()) / expected.std()
    np.testing.assert_allclose(dense(prep, X)[:, 0], expected, rtol=1e-6)


def test_log_true_uses_signed_log1p():
    X = pd.DataFrame({"v": [-10.0, 0.0, 10.0]})
    prep = RankingPreprocessor(log_transform=True).fit(X)
    assert prep.log_transformed_features_ == ["v"]
    assert prep.mean_[0] == 0.0
    assert prep.scale_[0] == pytest.approx(np.log1p(10) * np.sqrt(2 / 3))


def test_log_list_and_unknown_names():
    X = pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, 2.0], "c": ["x", "y"]})
    assert RankingPreprocessor(log_transform=["b"]).fit(X).log_transformed_features_ == ["b"]
    assert RankingPreprocessor(log_transform=False).fit(X).log_transformed_features_ == []
    with pytest.raises(ValueError, match=r"log_transform lists \['c'\], which are not dense"):
        RankingPreprocessor(log_transform=["c"]).fit(X)


def test_strings_in_a_numeric_column_at_transform():
    prep = RankingPreprocessor().fit(pd.DataFrame({"price": [1.0, 2.0]}))
    X = pd.DataFrame({"price": pd.Series(["3.5", "cheap"], dtype=object)})
    with pytest.raises(ValueError, match="Column 'price' was numeric .* 'cheap'.*pd.to_numeric"):
        prep.transform(X)
    with pytest.raises(ValueError, match="Column 'price' was numeric"):
        prep.transform(pd.DataFrame({"price": pd.Series(["1", "2"], dtype="str")}))
    # numbers stored as objects are fine
    ok = pd.DataFrame({"price": pd.Series([1.0, None], dtype=object)})
    assert dense(prep, ok)[:, 0].tolist() == [-1.0, 0.0]


def test_string_column_listed_as_dense_is_an_error():
    X = pd.DataFrame({"name": ["ann", "bob"]})
    with pytest.raises(ValueError, match="Column 'name' cannot be a dense feature.*'ann'"):
        RankingPreprocessor(dense_features=["name"]).fit(X)


def test_huge_and_tiny_values_stay_finite():
    X = pd.DataFrame({"huge": [1e308, -1e308, 0.0], "tiny": [1e-310, 2e-310, 0.0]})
    prep = RankingPreprocessor(log_transform=False).fit(X)
    out = dense(prep, X)
    assert np.isfinite(out).all()
    assert out[0, 0] > 0 > out[1, 0]
    assert np.isfinite(dense(prep, pd.DataFrame({"huge": [-1e308], "tiny": [1e300]}))).all()


def test_all_missing_dense_column():
    X = pd.DataFrame({"v": [np.nan, np.nan]})
    prep = RankingPreprocessor().fit(X)
    assert dense(prep, X).tolist() == [[0.0, 1.0], [0.0, 1.0]]


def test_positive_infinity_is_clipped_to_a_negative_maximum():
    X = pd.DataFrame({"v": [-5.0, -3.0, -4.0]})
    prep = RankingPreprocessor(missing_indicator=False).fit(X)
    out = prep.transform(pd.DataFrame({"v": [np.inf, -3.0, -np.inf, -5.0]}))[:, 0]
    assert out[0] == out[1] > 0
    assert out[2] == out[3] < 0


@pytest.mark.parametrize("n_samples", [1, 7, 300])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])  # encode / transform outputs
def test_standardize_columns_is_the_per_column_path_bit_for_bit(n_samples, dtype):
    rng = np.random.default_rng(n_samples)
    specials = [np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324, 1e-310, 1e308, -1e308, 1e300]
    values = rng.standard_cauchy((6, n_samples)) * 10.0 ** rng.integers(-300, 300, (6, 1))
    values.flat[rng.choice(values.size, min(values.size, 10), replace=False)] = specials[
        : min(values.size, 10)
    ]
    scalings = [
        DenseScaling(-3.0, 8.0, False, 0.5, 2.0, True),
        DenseScaling(-7.0, -2.0, True, -1.0, 0.25, False),  # negative maximum
        DenseScaling(0.0, 1e308, True, 3.0, 1e-300, True),  # overflows, then clipped
        DenseScaling(-1e308, 0.0, False, -1e307, 1e307, False),
        DenseScaling(0.0, 0.0, True, 0.0, 1.0, True),
        DenseScaling(1e-310, 2e-310, False, 1e-310, 5e-311, False),
    ]
    expected = np.empty((n_samples, 6), dtype=dtype, order="F")
    for j, (column, scaling) in enumerate(zip(values, scalings, strict=True)):
        transformed = prepare(column, scaling.data_min, scaling.data_max, scaling.log)
        standardize_into(transformed, np.isnan(column), scaling, expected[:, j])

    block = values.copy()
    missing = standardize_columns(
        block,
        *(np.array([getattr(s, name) for s in scalings]) for name in ("data_min", "data_max")),
        np.array([s.log for s in scalings]),
        *(np.array([getattr(s, name) for s in scalings]) for name in ("mean", "scale")),
    )
    np.testing.assert_array_equal(missing, np.isnan(values))
    # Bits, not values: -0.0 and 0.0 differ.
    unsigned = np.uint32 if dtype is np.float32 else np.uint64
    bits = block.T.astype(dtype).view(unsigned)
    np.testing.assert_array_equal(bits, expected.view(unsigned))
