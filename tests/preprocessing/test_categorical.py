"""Vocabularies, reserved ids, frequency caps and hashing of categorical columns."""

import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from skrank.preprocessing import RankingPreprocessor


def ids(prep, X):
    return prep.encode(X)[1]


def test_vocabulary_by_frequency_then_string_with_reserved_ids():
    X = pd.DataFrame({"c": ["b", "a", "b", "c", "a", "b", None, ""]})
    prep = RankingPreprocessor().fit(X)
    # b: 3, a: 2, then "" and c tie at 1 and are ordered as strings
    assert prep.categories_["c"].tolist() == ["b", "a", "", "c"]
    assert prep.vocabulary_sizes_ == {"c": 6}
    assert ids(prep, X)[:, 0].tolist() == [2, 3, 2, 5, 3, 2, 0, 4]


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA])
def test_missing_values_get_id_0_and_unseen_values_id_1(missing):
    prep = RankingPreprocessor().fit(pd.DataFrame({"c": ["a", "b", "a"]}))
    X = pd.DataFrame({"c": pd.Series(["b", missing, "never seen", "a"], dtype=object)})
    assert ids(prep, X)[:, 0].tolist() == [3, 0, 1, 2]


@pytest.mark.parametrize("dtype", [object, "str", "string[pyarrow]", "category"])
def test_string_dtypes_share_one_vocabulary(dtype):
    fit = pd.DataFrame({"c": pd.Series(["x", "y", "x", None], dtype=dtype)})
    prep = RankingPreprocessor().fit(fit)
    assert prep.categories_["c"].tolist() == ["x", "y"]
    for other in [object, "str", "string[pyarrow]", "category"]:
        X = pd.DataFrame({"c": pd.Series(["y", None, "z", "x"], dtype=other)})
        assert ids(prep, X)[:, 0].tolist() == [3, 0, 1, 2]


def test_unused_categories_are_not_in_the_vocabulary():
    X = pd.DataFrame({"c": pd.Categorical(["b", "b", "a"], categories=["a", "b", "never"])})
    prep = RankingPreprocessor().fit(X)
    assert prep.categories_["c"].tolist() == ["b", "a"]
    assert prep.vocabulary_sizes_["c"] == 4
    unused = pd.DataFrame({"c": pd.Categorical(["never"], categories=["a", "b", "never"])})
    assert ids(prep, unused)[:, 0].tolist() == [1]


def test_bool_and_nullable_boolean_columns():
    X = pd.DataFrame(
        {"b": [True, False, True], "nb": pd.array([False, None, False], dtype="boolean")}
    )
    prep = RankingPreprocessor().fit(X)
    assert prep.categorical_features_ == ["b", "nb"]
    assert ids(prep, X).tolist() == [[2, 2], [3, 0], [2, 2]]


def test_integer_ids_forced_categorical_match_floats_and_nullable_ints():
    prep = RankingPreprocessor(categorical_features=["user"]).fit(
        pd.DataFrame({"user": [7, 7, 3, 12]})
    )
    assert prep.categories_["user"].tolist() == [7, 12, 3]  # ties: "12" < "3"
    X = pd.DataFrame({"user": pd.array([3, None, 12, 99], dtype="Int64")})
    assert ids(prep, X)[:, 0].tolist() == [4, 0, 3, 1]
    X = pd.DataFrame({"user": [3.0, np.nan, 7.0]})
    assert ids(prep, X)[:, 0].tolist() == [4, 0, 2]


def test_min_frequency_count_and_fraction():
    X = pd.DataFrame({"c": list("aaabbc")})
    prep = RankingPreprocessor(min_frequency=2).fit(X)
    assert prep.categories_["c"].tolist() == ["a", "b"]
    assert ids(prep, X)[:, 0].tolist() == [2, 2, 2, 3, 3, 1]
    prep = RankingPreprocessor(min_frequency=0.5).fit(X)  # at least 3 of 6 rows
    assert prep.categories_["c"].tolist() == ["a"]
    assert prep.vocabulary_sizes_["c"] == 3


def test_max_categories_keeps_the_most_frequent():
    X = pd.DataFrame({"c": list("aaabbcd")})
    prep = RankingPreprocessor(max_categories=2).fit(X)
    assert prep.categories_["c"].tolist() == ["a", "b"]
    assert prep.vocabulary_sizes_["c"] == 4
    assert ids(prep, X)[:, 0].tolist() == [2, 2, 2, 3, 3, 1, 1]


def test_high_cardinality_columns_are_hashed_into_bounded_ids():
    X = pd.DataFrame({"few": list("abab"), "many": ["u1", "u2", "u3", None]})
    prep = RankingPreprocessor(hash_buckets=2).fit(X)
    assert prep.hashed_features_ == ["many"]
    assert prep.categories_["many"] is None
    assert prep.vocabulary_sizes_ == {"few": 4, "many": 4}
    new = pd.DataFrame({"few": list("abzz"), "many": [f"new{i}" for i in range(3)] + [None]})
    many = ids(prep, new)[:, 1]
    assert many[-1] == 0
    assert set(many[:-1]) <= {2, 3}


def test_max_categories_sets_the_hashing_threshold():
    X = pd.DataFrame({"c": list("abc")})
    assert RankingPreprocessor(hash_buckets=10, max_categories=3).fit(X).hashed_features_ == []
    prep = RankingPreprocessor(hash_buckets=10, max_categories=2).fit(X)
    assert prep.hashed_features_ == ["c"]
    assert prep.vocabulary_sizes_["c"] == 12


# Computed once; a change means hashed ids of saved models would silently change.
EXPECTED_BUCKET = {"user_42": 776, "b": 646, "a": 363}


def test_hashing_is_stable_across_processes():
    prep = RankingPreprocessor(hash_buckets=1000, max_categories=1).fit(
        pd.DataFrame({"c": list("abc")})
    )
    X = pd.DataFrame({"c": list(EXPECTED_BUCKET)})
    assert ids(prep, X)[:, 0].tolist() == list(EXPECTED_BUCKET.values())
    code = (
        "import pickle, sys, pandas as pd;"
        "prep = pickle.loads(sys.stdin.buffer.read());"
        "print(prep.encode(pd.DataFrame({'c': ['user_42']}))[1][0, 0])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        input=pickle.dumps(prep),
        capture_output=True,
        env={"PYTHONHASHSEED": "12345"},
        check=True,
    )
    assert int(result.stdout) == EXPECTED_BUCKET["user_42"]


def test_hashing_handles_strings_that_utf8_cannot_encode():
    X = pd.DataFrame({"c": pd.Series(["\ud800", "a", "b"], dtype=object)})
    prep = RankingPreprocessor(hash_buckets=4, max_categories=1).fit(X)
    out = ids(prep, X)[:, 0]
    assert ((out >= 2) & (out < 6)).all()


def test_hashed_ids_do_not_depend_on_lone_surrogates_in_the_batch():
    X = pd.DataFrame({"c": pd.Series(["\ud800", "é", "b"], dtype=object)})
    prep = RankingPreprocessor(hash_buckets=1000, max_categories=1).fit(X)
    together = ids(prep, X)[:, 0]
    alone = [ids(prep, X.iloc[[i]])[0, 0] for i in range(len(X))]
    assert together.tolist() == alone
    plain = RankingPreprocessor(hash_buckets=1000, max_categories=1).fit(X.iloc[1:])
    assert ids(plain, X.iloc[1:])[:, 0].tolist() == together[1:].tolist()


def test_trailing_nul_characters_are_kept_in_mixed_columns():
    X = pd.DataFrame({"c": pd.Series([1, "a\x00", "a", "a\x00"], dtype=object)})
    prep = RankingPreprocessor().fit(X)
    assert prep.categories_["c"].tolist() == ["a\x00", "1", "a"]
    together = ids(prep, X)[:, 0]
    assert together.tolist() == [3, 2, 4, 2]
    assert [ids(prep, X.iloc[[i]])[0, 0] for i in range(len(X))] == together.tolist()


def test_integral_floats_and_ints_hash_alike():
    prep = RankingPreprocessor(categorical_features=["u"], hash_buckets=50).fit(
        pd.DataFrame({"u": np.arange(100)})
    )
    as_float = ids(prep, pd.DataFrame({"u": [5.0, np.nan]}))[:, 0]
    as_int = ids(prep, pd.DataFrame({"u": pd.array([5, None], dtype="Int64")}))[:, 0]
    assert as_float.tolist() == as_int.tolist()


def test_encode_layout():
    X = pd.DataFrame({"a": list("xyz"), "b": list("ppq"), "v": [1.0, 2.0, 4.0]})
    prep = RankingPreprocessor().fit(X)
    dense, categorical = prep.encode(X)
    assert categorical.dtype == np.int32 and categorical.flags.f_contiguous
    assert categorical.shape == (3, 2)
    assert dense.dtype == np.float32 and dense.flags.c_contiguous
    assert dense.shape == (3, prep.n_dense_out_)
    for name, column in zip(prep.categorical_features_, categorical.T, strict=True):
        assert column.min() >= 0 and column.max() < prep.vocabulary_sizes_[name]


@pytest.mark.parametrize("dtype", ["str", "string[pyarrow]", pd.StringDtype("pyarrow", np.nan)])
def test_arrow_string_columns_encode_like_object_columns(dtype):
    # Large inputs of Arrow-backed strings take pyarrow's index_in, not factorize:
    # the same ids, missing values and unknown ones included.
    rng = np.random.default_rng(0)
    words = np.array(["a", "b", "", "é", "日本", "x y", "a\x00"], dtype=object)
    fit = pd.DataFrame({"c": pd.Series(words[rng.integers(0, 6, 3000)], dtype=object)})
    values = words[rng.integers(0, 7, 5000)].astype(object)
    values[::7] = None
    values[::11] = "never seen"
    prep = RankingPreprocessor(min_frequency=1).fit(fit)
    expected = ids(prep, pd.DataFrame({"c": pd.Series(values, dtype=object)}))
    got = ids(prep, pd.DataFrame({"c": pd.Series(values, dtype=dtype)}))
    np.testing.assert_array_equal(got, expected)
    assert set(np.unique(expected)) >= {0, 1, 2}
    # The cached Arrow vocabulary stays out of pickles, and is rebuilt after loading.
    loaded = pickle.loads(pickle.dumps(prep))
    assert all("arrow_vocabulary" not in vars(e) for e in loaded.categorical_encodings_.values())
    np.testing.assert_array_equal(
        ids(loaded, pd.DataFrame({"c": pd.Series(values, dtype=dtype)})), expected
    )
