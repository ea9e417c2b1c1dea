"""The small-input path of RankingPreprocessor gives the per-column path's outputs, bit for bit.

Inputs of at most ``SMALL_INPUT_MAX_ROWS`` rows are encoded by dict lookups and
whole-block dense arithmetic; every test here compares them with the per-column pandas
path (forced by :func:`large_path`) on the same fitted preprocessor.
"""

import pickle

import numpy as np
import pandas as pd
import pytest

from skrank.preprocessing import RankingPreprocessor
from skrank.preprocessing._categorical import CategoricalEncoding, lookup_ids
from skrank.preprocessing._preprocessor import SMALL_INPUT_MAX_ROWS
from tests.preprocessing.conftest import assert_same_bits, large_path

N_FIT, N_NEW = 80, 40
# Listed: a nullable Int64, int64 ids and a float column become categorical too.
LISTED = ["ni", "id", "fc"]


def mixed_frame(n, seed, unseen):
    """Every kind of column, with missing values; ``unseen`` adds values unseen at fit."""
    rng = np.random.default_rng(seed)

    def pick(values, extra=()):
        values = list(values) + (list(extra) if unseen else [])
        return [values[i] for i in rng.integers(0, len(values), n)]

    with_nan = rng.normal(size=n)
    with_nan[rng.random(n) < 0.2] = np.nan
    negative = -rng.uniform(1, 5, size=n)
    if unseen:
        negative[:4] = [np.inf, -np.inf, np.nan, -0.0]
    counts = rng.pareto(1.0, size=n).round() * 10  # heavy-tailed: log1p under "auto"
    categories = ["p", "q", "unused"] if not unseen else ["new", "q", "p"]
    return pd.DataFrame(
        {
            "s": pd.Series(pick(["a", "b", "c", "", None], ["zzz"]), dtype="str"),
            "string": pd.Series(pick(["x", "y", None], ["w"]), dtype="string"),
            "o": pd.Series(pick(["u", "v", None, np.nan], ["w", 1, pd.NA]), dtype=object),
            "cat": pd.Categorical(pick(["p", "q", None], ["new"]), categories=categories),
            "b": pick([True, False]),
            "nb": pd.array(pick([True, False, None]), dtype="boolean"),
            "ni": pd.array(pick([1, 2, 3, None], [99]), dtype="Int64"),
            "id": np.array(pick(range(100, 110), [999]), dtype=np.int64),
            "fc": pick([0.0, -0.0, 1.5, np.nan], [7.0, np.inf]),
            "h": pd.Series(pick([f"h{i}" for i in range(40)], ["h999"]), dtype="str"),
            "mix": pd.Series(pick([1, "1", 2, "b", None], ["3", 3]), dtype=object),
            "f": with_nan,
            "neg": negative,
            "cnt": counts,
            "di": rng.integers(-5, 5, n),
            "dI": pd.array(pick([1, 5, None]), dtype="Int64"),
        }
    )


PARAMS = [
    {},
    {"hash_buckets": 20},  # "h" (and only "h") is hashed
    {"min_frequency": 3, "max_categories": 2},
    {"log_transform": True, "missing_indicator": False},
]


@pytest.fixture(scope="module")
def fit_frame():
    return mixed_frame(N_FIT, seed=0, unseen=False)


@pytest.fixture(scope="module")
def new_frame():
    X = mixed_frame(N_NEW, seed=1, unseen=True)
    return X[X.columns[::-1]]  # matched by name at transform time


def check_small_path_equals_large_path(prep, X):
    assert len(X) <= SMALL_INPUT_MAX_ROWS
    with large_path():
        dense, categorical = prep.encode(X)
        out = prep.transform(X)
    for rows in [[i] for i in range(len(X))] + [list(range(10, 15))]:
        small = X.iloc[rows]
        small_dense, small_categorical = prep.encode(small)
        assert_same_bits(small_dense, np.ascontiguousarray(dense[rows]))
        assert_same_bits(small_categorical, np.asfortranarray(categorical[rows]))
        assert_same_bits(prep.transform(small), np.asfortranarray(out[rows]))
    # The whole frame at once, on the small path too.
    assert_same_bits(prep.encode(X)[1], categorical)
    assert_same_bits(prep.transform(X), out)


@pytest.mark.parametrize("params", PARAMS)
def test_small_path_equals_large_path_row_by_row(fit_frame, new_frame, params):
    prep = RankingPreprocessor(categorical_features=LISTED, **params).fit(fit_frame)
    assert prep.hashed_features_ == (["h"] if params.get("hash_buckets") else [])
    check_small_path_equals_large_path(prep, new_frame)
    check_small_path_equals_large_path(prep, fit_frame.iloc[:N_NEW])


def test_small_path_equals_large_path_when_dtypes_change(fit_frame, new_frame):
    prep = RankingPreprocessor(categorical_features=LISTED).fit(fit_frame)
    changed = new_frame.astype(
        {"s": object, "o": "str", "id": np.int32, "fc": np.float32, "ni": np.float64}
    )
    changed["b"] = changed["b"].astype("boolean")
    check_small_path_equals_large_path(prep, changed)
    # pandas does not match False with 0.0 (nor True with 1), a dict does.
    assert 0.0 in prep.categories_["fc"].tolist()
    changed["fc"] = changed["fc"].isna()
    check_small_path_equals_large_path(prep, changed)


def test_dict_lookup_is_used_only_where_it_matches_pandas(fit_frame, new_frame):
    prep = RankingPreprocessor(categorical_features=LISTED, hash_buckets=20).fit(fit_frame)
    prep.encode(new_frame.iloc[[0]])
    encodings = prep.categorical_encodings_
    # Hashed, compared through str(value) (1 and "1"), or a categorical vocabulary
    # matched by pandas after conversion: no dict, the per-column path.
    for name in ["h", "mix"]:
        assert encodings[name].value_ids is None
    assert lookup_ids(new_frame["cat"].array, encodings["cat"]) is None
    # Elsewhere a dict from value to id, in vocabulary order from id 2.
    for name in ["s", "string", "o", "b", "nb", "ni", "id", "fc"]:
        vocabulary = encodings[name].vocabulary
        expected = {value: i + 2 for i, value in enumerate(vocabulary.tolist())}
        assert encodings[name].value_ids == expected


def test_lookup_ids_falls_back_on_unhashable_values():
    prep = RankingPreprocessor().fit(pd.DataFrame({"o": pd.Series(["a", "b"], dtype=object)}))
    row = pd.DataFrame({"o": pd.Series([["a"]], dtype=object)})
    assert lookup_ids(row["o"].to_numpy(), list(prep.categorical_encodings_.values())[0]) is None
    with pytest.raises(TypeError):  # as on the per-column path
        prep.encode(row)


def test_numpy_input_small_path_equals_large_path():
    rng = np.random.default_rng(0)
    X = np.empty((50, 3), dtype=object)
    X[:, 0] = [["a", "b", None, "c"][i] for i in rng.integers(0, 4, 50)]
    X[:, 1] = rng.normal(size=50)
    X[:, 2] = [[1, 2.5, None][i] for i in rng.integers(0, 3, 50)]
    prep = RankingPreprocessor().fit(X)
    assert prep.column_kinds_ == {"x0": "categorical", "x1": "dense", "x2": "dense"}
    X[:3, 0] = ["zzz", np.nan, "a"]
    with large_path():
        dense, categorical = prep.encode(X)
    for i in range(len(X)):
        small_dense, small_categorical = prep.encode(X[i : i + 1])
        assert_same_bits(small_dense, np.ascontiguousarray(dense[i : i + 1]))
        assert_same_bits(small_categorical, np.asfortranarray(categorical[i : i + 1]))


def test_small_path_keeps_the_dense_errors():
    prep = RankingPreprocessor().fit(pd.DataFrame({"v": [1.0, 2.0], "w": [3.0, 4.0]}))
    row = pd.DataFrame({"v": [1.0], "w": ["oops"]})
    with large_path(), pytest.raises(ValueError, match="'w' was numeric") as large:
        prep.encode(row)
    with pytest.raises(ValueError, match="'w' was numeric") as small:
        prep.encode(row)
    assert str(small.value) == str(large.value)


def test_pickles_leave_out_the_lookup_dicts(fit_frame, new_frame):
    prep = RankingPreprocessor(categorical_features=LISTED, hash_buckets=20).fit(fit_frame)
    size = len(pickle.dumps(prep))
    row = new_frame.iloc[[3]]
    expected = prep.encode(row)
    assert any("value_ids" in vars(encoding) for encoding in prep.categorical_encodings_.values())
    assert len(pickle.dumps(prep)) == size
    loaded = pickle.loads(pickle.dumps(prep))
    assert not any(
        "value_ids" in vars(encoding) for encoding in loaded.categorical_encodings_.values()
    )
    for actual, wanted in zip(loaded.encode(row), expected, strict=True):
        assert_same_bits(actual, wanted)
    with large_path():
        assert_same_bits(loaded.transform(new_frame), prep.transform(new_frame))


def test_encodings_pickled_without_the_cache_attribute_still_load():
    # A pickle written before value_ids existed: the plain dataclass state.
    encoding = CategoricalEncoding(pd.Index(["a", "b"], dtype="str"), None, False)
    state = {"vocabulary": encoding.vocabulary, "hash_buckets": None, "as_string": False}
    old = CategoricalEncoding.__new__(CategoricalEncoding)
    old.__dict__.update(state)
    assert vars(pickle.loads(pickle.dumps(old))).keys() == state.keys()
    assert lookup_ids(pd.array(["b", None, "z"], dtype="str"), old) == [3, 0, 1]
