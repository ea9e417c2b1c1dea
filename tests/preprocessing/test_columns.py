"""Column split, input types and input validation of RankingPreprocessor."""

import warnings
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from skrank.preprocessing import RankingPreprocessor
from skrank.preprocessing._columns import check_table, match_fitted_columns


def mixed_frame():
    return pd.DataFrame(
        {
            "obj": pd.Series(["a", "b", "a"], dtype=object),
            "text": pd.Series(["x", "y", None], dtype="str"),
            "arrow": pd.Series(["u", None, "v"], dtype="string[pyarrow]"),
            "cat": pd.Categorical(["p", "q", "p"], categories=["p", "q", "unused"]),
            "flag": [True, False, True],
            "nflag": pd.array([True, None, False], dtype="boolean"),
            "i": [1, 2, 3],
            "f": [0.5, np.nan, 1.5],
            "ni": pd.array([1, None, 3], dtype="Int64"),
            "nf": pd.array([0.1, 0.2, None], dtype="Float64"),
        }
    )


def test_auto_split_by_dtype():
    prep = RankingPreprocessor().fit(mixed_frame())
    assert prep.categorical_features_ == ["obj", "text", "arrow", "cat", "flag", "nflag"]
    assert prep.dense_features_ == ["i", "f", "ni", "nf"]
    assert prep.column_kinds_["obj"] == "categorical"
    assert prep.column_kinds_["ni"] == "dense"
    assert prep.column_kind_reasons_["obj"] == "dtype object"
    assert prep.column_kind_reasons_["cat"] == "dtype category"
    assert prep.column_kind_reasons_["i"] == "dtype int64"
    assert list(prep.column_kinds_) == list(mixed_frame().columns)


def test_explicit_categorical_list_leaves_the_rest_auto():
    prep = RankingPreprocessor(categorical_features=["i"]).fit(mixed_frame())
    assert "i" in prep.categorical_features_
    assert prep.column_kind_reasons_["i"] == "listed in categorical_features"
    assert prep.dense_features_ == ["f", "ni", "nf"]
    # integer ids are categories: values kept as ints
    assert prep.categories_["i"].tolist() == [1, 2, 3]


def test_integer_positions_are_accepted():
    prep = RankingPreprocessor(categorical_features=[6, -1]).fit(mixed_frame())
    assert prep.column_kinds_["i"] == "categorical"
    assert prep.column_kind_reasons_["nf"] == "listed in categorical_features"
    prep = RankingPreprocessor(dense_features=[-1]).fit(mixed_frame())
    assert prep.column_kind_reasons_["nf"] == "listed in dense_features"


def test_column_in_both_lists_is_an_error():
    with pytest.raises(ValueError, match="'i' is listed in both"):
        RankingPreprocessor(categorical_features=["i"], dense_features=["i", "f"]).fit(
            mixed_frame()
        )


def test_both_lists_must_cover_every_column():
    X = pd.DataFrame({"a": ["x"], "b": [1.0], "c": [2.0]})
    with pytest.raises(ValueError, match=r"\['c'\] are listed in neither"):
        RankingPreprocessor(categorical_features=["a"], dense_features=["b"]).fit(X)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"categorical_features": ["nope"]}, "categorical_features contains the column 'nope'"),
        ({"dense_features": [12]}, "dense_features contains the index 12"),
        ({"categorical_features": [1.5]}, "must contain column names"),
        ({"categorical_features": ["i", "i"]}, "more than once"),
    ],
)
def test_bad_selections(params, match):
    with pytest.raises(ValueError, match=match):
        RankingPreprocessor(**params).fit(mixed_frame())


def test_datetime_columns_are_rejected_with_advice():
    X = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=3), "a": [1, 2, 3]})
    with pytest.raises(ValueError, match=r"Column 'when' has dtype datetime64.*dt\.dayofweek"):
        RankingPreprocessor().fit(X)
    X = pd.DataFrame({"dt": pd.to_timedelta([1, 2, 3], unit="s")})
    with pytest.raises(ValueError, match="Column 'dt' has dtype timedelta64"):
        RankingPreprocessor().fit(X)
    with pytest.raises(ValueError, match="'dt' has dtype timedelta64.*cannot be a dense"):
        RankingPreprocessor(dense_features=["dt"]).fit(X)


def test_datetime_listed_as_categorical_is_encoded():
    X = pd.DataFrame({"day": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-01"])})
    prep = RankingPreprocessor(categorical_features=["day"]).fit(X)
    assert prep.transform(X).ravel().tolist() == [2, 3, 2]


def test_numpy_numeric_input_is_dense_with_generated_names():
    X = np.arange(12, dtype=np.float64).reshape(4, 3)
    prep = RankingPreprocessor().fit(X)
    assert prep.dense_features_ == ["x0", "x1", "x2"]
    assert prep.n_features_in_ == 3
    assert not hasattr(prep, "feature_names_in_")
    assert prep.get_feature_names_out().tolist() == ["x0", "x1", "x2"]


def test_numpy_object_columns_are_inferred_one_by_one():
    X = np.array([[1, "a", 1.5, "1"], ["1", "b", None, 2], [2, None, 3, 3]], dtype=object)
    prep = RankingPreprocessor().fit(X)
    assert prep.column_kinds_ == {
        "x0": "categorical",
        "x1": "categorical",
        "x2": "dense",
        "x3": "categorical",
    }
    # mixed ints and strings are compared by their string form: 1 and "1" share an id
    assert prep.categories_["x0"].tolist() == ["1", "2"]
    assert prep.encode(X)[1][:, 0].tolist() == [2, 2, 3]


def test_list_of_lists_keeps_numbers_numeric():
    prep = RankingPreprocessor().fit([[1, "a"], [2, "b"], [3, "a"]])
    assert prep.column_kinds_ == {"x0": "dense", "x1": "categorical"}
    assert prep.transform([[2, "b"]])[0, 0] == 3  # id of "b"


def test_sparse_input_is_rejected():
    with pytest.raises(TypeError, match=r"X\.toarray\(\)"):
        RankingPreprocessor().fit(sparse.csr_matrix(np.eye(3)))


def test_one_dimensional_input_is_rejected():
    with pytest.raises(
        ValueError, match="(?s)Expected 2D array, got 1D array instead.*Reshape your data"
    ):
        RankingPreprocessor().fit(np.arange(3.0))
    with pytest.raises(ValueError, match="Expected 2D array, got 1D pandas Series"):
        RankingPreprocessor().fit(pd.Series([1.0, 2.0]))


@pytest.mark.parametrize(
    "X, match",
    [
        (pd.DataFrame({"a": pd.Series([], dtype=float)}), r"0 sample\(s\)"),
        (pd.DataFrame(index=range(3)), r"0 feature\(s\)"),
        (np.empty((0, 2)), r"Found array with 0 sample\(s\)"),
    ],
)
def test_empty_input_is_rejected(X, match):
    with pytest.raises(ValueError, match=match):
        RankingPreprocessor().fit(X)


def test_duplicate_column_names_are_rejected():
    X = pd.DataFrame([[1, 2, 3]], columns=["a", "b", "a"])
    with pytest.raises(ValueError, match=r"Duplicate column names .*\['a'\]"):
        RankingPreprocessor().fit(X)


def test_transform_matches_columns_by_name():
    X = mixed_frame()
    prep = RankingPreprocessor().fit(X)
    reordered = X[list(reversed(X.columns))]
    np.testing.assert_array_equal(prep.transform(reordered), prep.transform(X))


def test_transform_names_missing_and_unexpected_columns():
    X = mixed_frame()
    prep = RankingPreprocessor().fit(X)
    with pytest.raises(ValueError, match="seen at fit time, yet now missing:\n- f\n"):
        prep.transform(X.drop(columns="f"))
    with pytest.raises(ValueError, match="unseen at fit time:\n- extra\n"):
        prep.transform(X.assign(extra=1))
    with pytest.raises(ValueError, match="unseen at fit time:\n- g\n"):
        prep.transform(X.rename(columns={"f": "g"}))


def test_transform_checks_the_number_of_features():
    prep = RankingPreprocessor().fit(np.ones((3, 4)))
    with pytest.raises(
        ValueError, match="X has 3 features, but RankingPreprocessor is expecting 4"
    ):
        prep.transform(np.ones((3, 3)))


def test_array_after_dataframe_warns_and_matches_by_position():
    X = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 5.0]})
    prep = RankingPreprocessor().fit(X)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        out = prep.transform(X.to_numpy())
    np.testing.assert_array_equal(out, prep.transform(X))


def test_integer_column_names_are_positional():
    X = pd.DataFrame(np.arange(6.0).reshape(3, 2))
    prep = RankingPreprocessor(categorical_features=[1]).fit(X)
    assert prep.column_kinds_ == {"x0": "dense", "x1": "categorical"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prep.transform(X)


def test_non_default_index_keeps_row_order():
    X = pd.DataFrame({"c": ["a", "b", "c"], "v": [1.0, 2.0, 3.0]}, index=[10, 3, 7])
    prep = RankingPreprocessor().fit(X)
    np.testing.assert_array_equal(prep.encode(X)[1][:, 0], [2, 3, 4])
    out = prep.set_output(transform="pandas").transform(X)
    assert out.index.tolist() == [10, 3, 7]


def test_column_arrays_without_the_private_pandas_accessor():
    X = mixed_frame()
    table = check_table(X, "RankingPreprocessor")
    fast = [table.array(j) for j in range(X.shape[1])]
    prep = RankingPreprocessor().fit(X)
    with mock.patch.object(pd.DataFrame, "_get_column_array", None, create=True):
        slow = [table.array(j) for j in range(X.shape[1])]
        out = prep.transform(X.iloc[[1]])
    for a, b in zip(fast, slow, strict=True):
        assert type(a) is type(b)
        assert a.dtype == b.dtype
        pd.testing.assert_extension_array_equal(pd.array(a), pd.array(b))
    np.testing.assert_array_equal(out, prep.transform(X.iloc[[1]]))


def test_reordered_columns_on_small_inputs():
    X = mixed_frame()
    prep = RankingPreprocessor().fit(X)
    reordered = X[list(reversed(X.columns))]
    for i in range(len(X)):
        np.testing.assert_array_equal(
            prep.transform(reordered.iloc[[i]]), prep.transform(X.iloc[[i]])
        )
    assert match_fitted_columns(prep, check_table(reordered, "x"))[1].tolist() == list(
        range(X.shape[1] - 1, -1, -1)
    )
