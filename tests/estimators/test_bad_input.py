"""Bad input, one row per case: handled correctly (and checked), or rejected with a
ValueError / TypeError that names the column or parameter and says what to do.

Each case runs against RankingPreprocessor ("prep"), RankingClassifier ("clf") or
RankingRegressor ("reg"); the fitted objects are shared per module to keep it fast.
"""

import pickle
import tracemalloc
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.exceptions import NotFittedError

from skrank import RankingClassifier, RankingRegressor
from skrank.preprocessing import RankingPreprocessor
from tests.estimators.conftest import TINY_ONE_MODEL

TINY = dict(TINY_ONE_MODEL, epochs=2, batch_size=16)
N = 40


def frame(n=N):
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"c": pd.array(rng.choice(["a", "b", "c"], n), dtype="str"), "d": rng.normal(size=n)}
    )


Y = np.tile([0, 1], N // 2)


@pytest.fixture(scope="module")
def fitted():
    X = frame()
    return {
        "X": X,
        "prep": RankingPreprocessor().fit(X),
        "clf": RankingClassifier(**TINY).fit(X, Y),
        "reg": RankingRegressor(**TINY).fit(X, Y * 2.0 + 1.0),
        # One model for all the unusual columns below: each fit costs seconds.
        "exotic": RankingClassifier(**TINY).fit(EXOTIC, Y),
    }


@dataclass
class Case:
    id: str
    run: Any  # fitted -> result
    raises: tuple | None = None  # (exception type, regex the message must match)
    check: Any = None  # result, fitted -> None (asserts)
    marks: list = field(default_factory=list)


def clf(**params):
    return RankingClassifier(**{**TINY, **params})


def reg(**params):
    return RankingRegressor(**{**TINY, **params})


def finite_proba(proba, fitted=None, n=N):
    assert proba.shape == (n, 2)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def exotic_proba(fitted, column, values):
    """Probabilities of the classifier fitted on EXOTIC, ``column`` set to ``values``."""
    return fitted["exotic"].predict_proba(EXOTIC.assign(**{column: values}))


def with_column(name, values):
    return frame().assign(**{name: values})


def check_1m_hashed(result, fitted):
    ids, peak, state_size = result
    assert ids.min() >= 2 and ids.max() <= 1001  # ids 2 .. hash_buckets + 1
    assert len(np.unique(ids)) > 900  # the buckets are used
    assert peak < 400e6  # bytes allocated while fitting 1M distinct values
    assert state_size < 20_000  # no vocabulary is stored for a hashed column


def fit_1m_hashed(fitted):
    X = pd.DataFrame({"user": np.char.add("u", np.arange(1_000_000).astype(str)).astype(object)})
    prep = RankingPreprocessor(hash_buckets=1000)
    tracemalloc.start()
    try:
        prep.fit(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert prep.hashed_features_ == ["user"] and prep.categories_["user"] is None
    return prep.encode(X.head(5000))[1], peak, len(pickle.dumps(prep))


X_INDEXED = frame().set_index(np.arange(N) * 7 + 3)
MIXED = pd.Series([1, "1", "a", 2.0, None] * (N // 5), dtype=object)
DATES = pd.Series(pd.date_range("2024-01-01", periods=4).repeat(N // 4))
EXOTIC = frame().assign(
    all_nan=np.nan,
    const=5.0,
    inf=np.r_[np.inf, -np.inf, frame()["d"][2:]],
    mixed=MIXED,
    int64=pd.array([1, None] * (N // 2), dtype="Int64"),
    boolean=pd.array([True, None] * (N // 2), dtype="boolean"),
    arrow=pd.array(["x", None] * (N // 2), dtype="string[pyarrow]"),
    cat=pd.Categorical(["a"] * N, categories=["a", "b", "zz"]),
)

CASES = [
    # --------------------------------------------------------------- rows / shape
    Case(
        "empty-frame-clf",
        lambda f: clf().fit(frame().iloc[:0], Y[:0]),
        (ValueError, "0 sample"),
    ),
    Case(
        "empty-frame-prep",
        lambda f: RankingPreprocessor().fit(frame().iloc[:0]),
        (ValueError, "0 sample"),
    ),
    Case(
        "zero-columns",
        lambda f: clf().fit(pd.DataFrame(index=range(N)), Y),
        (ValueError, "0 feature"),
    ),
    Case(
        "one-row-clf-one-class",
        lambda f: clf().fit(frame().iloc[:1], Y[:1]),
        (ValueError, "at least 2 classes"),
    ),
    Case(
        "one-row-reg",
        lambda f: reg().fit(frame().iloc[:1], [3.0]).predict(frame()),
        # the one training row gets its target back; every prediction is finite
        check=lambda r, f: (
            np.testing.assert_allclose(r[0], 3.0, atol=0.1),
            np.all(np.isfinite(r)) or pytest.fail(),
        ),
    ),
    Case(
        "one-row-predict",
        lambda f: f["clf"].predict_proba(f["X"].iloc[:1]),
        check=lambda r, f: np.testing.assert_array_equal(r, f["clf"].predict_proba(f["X"])[:1]),
    ),
    Case("1d-X", lambda f: clf().fit(np.ones(N), Y), (ValueError, "Reshape your data")),
    Case(
        "series-X", lambda f: clf().fit(frame()["d"], Y), (ValueError, "1D pandas Series.*to_frame")
    ),
    Case("3d-X", lambda f: clf().fit(np.ones((N, 2, 2)), Y), (ValueError, "dim 3")),
    Case(
        "sparse-matrix",
        lambda f: clf().fit(sparse.csr_matrix(np.ones((N, 2))), Y),
        (TypeError, "toarray"),
    ),
    Case(
        "sparse-columns",
        lambda f: clf().fit(pd.DataFrame({"s": pd.arrays.SparseArray(np.ones(N))}), Y),
        (TypeError, "sparse.to_dense"),
    ),
    Case(
        "list-of-lists",
        lambda f: (
            clf()
            .fit([[float(i), "ab"[i % 2]] for i in range(N)], Y)
            .predict_proba([[float(i), "ab"[i % 2]] for i in range(N)])
        ),
        check=finite_proba,
    ),
    Case(
        "numpy-object-array",
        lambda f: (
            RankingPreprocessor()
            .fit(np.array([[float(i), "ab"[i % 2]] for i in range(N)], dtype=object))
            .column_kinds_
        ),
        check=lambda r, f: r == {"x0": "dense", "x1": "categorical"} or pytest.fail(str(r)),
    ),
    Case(
        "int-column-names",
        lambda f: RankingPreprocessor().fit(frame().set_axis([0, 1], axis=1)),
        check=lambda r, f: (
            (not hasattr(r, "feature_names_in_") and r.n_features_in_ == 2) or pytest.fail()
        ),
    ),
    Case(
        "non-default-index",
        lambda f: (
            clf()
            .fit(X_INDEXED, pd.Series(Y, index=X_INDEXED.index[::-1]))
            .predict_proba(X_INDEXED),
            f["clf"].predict_proba(frame()),
        ),
        # y is taken by position, like every scikit-learn estimator; the index is ignored
        check=lambda r, f: np.testing.assert_array_equal(*r),
    ),
    # ------------------------------------------------------------------ target
    Case(
        "one-class-y",
        lambda f: clf().fit(frame(), np.zeros(N)),
        (ValueError, "at least 2 classes.*nothing to learn"),
    ),
    Case(
        "nan-in-y-clf",
        lambda f: clf().fit(frame(), np.r_[np.nan, Y[1:]]),
        (ValueError, "y contains NaN.*Drop the rows"),
    ),
    Case(
        "none-in-y-clf",
        lambda f: clf().fit(frame(), [None, *Y[1:]]),
        (ValueError, "y contains None.*Drop the rows"),
    ),
    Case(
        "nan-in-y-reg",
        lambda f: reg().fit(frame(), np.r_[np.nan, Y[1:]]),
        (ValueError, "y contains NaN|Input y contains NaN"),
    ),
    Case(
        "inf-in-y-reg",
        lambda f: reg().fit(frame(), np.r_[np.inf, Y[1:]]),
        (ValueError, "y contains infinity"),
    ),
    Case(
        "none-in-y-reg",
        lambda f: reg().fit(frame(), [None, *Y[1:]]),
        (ValueError, r"y contains 1 missing \(None / NaN\).*Drop those rows"),
    ),
    Case(
        "huge-target-reg",
        lambda f: reg().fit(frame(), np.r_[1e300, -1e300, Y[2:]]).predict(frame()),
        check=lambda r, f: np.all(np.isfinite(r)) or pytest.fail(),
    ),
    Case(
        "y-wrong-length",
        lambda f: clf().fit(frame(), Y[:-1]),
        (ValueError, "X has 40, y has 39. Pass one target"),
    ),
    Case(
        "y-2d",
        lambda f: clf().fit(frame(), np.c_[Y, Y]),
        (ValueError, "y must be 1-D"),
    ),
    Case(
        "sample-weight-wrong-length",
        lambda f: clf().fit(frame(), Y, sample_weight=np.ones(N - 1)),
        (ValueError, "sample_weight.*one finite, non-negative weight per row"),
    ),
    Case(
        "sample-weight-negative",
        lambda f: clf().fit(frame(), Y, sample_weight=-np.ones(N)),
        (ValueError, "sample_weight.*Negative"),
    ),
    Case(
        "sample-weight-all-zero",
        lambda f: clf().fit(frame(), Y, sample_weight=np.zeros(N)),
        (ValueError, "sample_weight.*non-zero"),
    ),
    Case(
        "sample-weight-nan",
        lambda f: clf().fit(frame(), Y, sample_weight=np.r_[np.nan, np.ones(N - 1)]),
        (ValueError, "sample_weight.*NaN"),
    ),
    Case(
        "unseen-labels-in-score",
        lambda f: (f["clf"].score(f["X"], np.full(N, 7)), f["clf"].score(f["X"], Y)),
        check=lambda r, f: (r[0] == 0.0 and 0.0 <= r[1] <= 1.0) or pytest.fail(str(r)),
    ),
    Case(
        "string-labels-in-score-of-int-classes",
        lambda f: f["clf"].score(f["X"], np.full(N, "z")),
        (ValueError, "Mix of label input types"),
    ),
    # ------------------------------------------------------------ columns at predict
    Case(
        "column-missing-at-predict",
        lambda f: f["clf"].predict(f["X"][["c"]]),
        (ValueError, r"missing:\n- d"),
    ),
    Case(
        "extra-column-at-predict",
        lambda f: f["clf"].predict(f["X"].assign(extra=1.0)),
        (ValueError, r"unseen at fit time:\n- extra"),
    ),
    Case(
        "columns-reordered-at-predict-clf",
        lambda f: f["clf"].predict_proba(f["X"][["d", "c"]]),
        check=lambda r, f: np.testing.assert_array_equal(r, f["clf"].predict_proba(f["X"])),
    ),
    Case(
        "columns-reordered-at-predict-reg",
        lambda f: f["reg"].predict(f["X"][["d", "c"]]),
        check=lambda r, f: np.testing.assert_array_equal(r, f["reg"].predict(f["X"])),
    ),
    Case(
        "columns-reordered-at-encode-prep",
        lambda f: f["prep"].transform(f["X"][["d", "c"]]),
        check=lambda r, f: np.testing.assert_array_equal(r, f["prep"].transform(f["X"])),
    ),
    Case(
        "array-with-wrong-width-at-predict",
        lambda f: f["reg"].predict(np.ones((3, 3))),
        (ValueError, "3 features.*expecting 2"),
    ),
    Case(
        "predict-before-fit",
        lambda f: clf().predict(frame()),
        (NotFittedError, "not fitted yet.*Call 'fit'"),
    ),
    Case(
        "strings-in-numeric-column-at-predict",
        lambda f: f["clf"].predict(f["X"].assign(d="x")),
        (ValueError, "Column 'd' was numeric.*pd.to_numeric"),
    ),
    # ----------------------------------------------------------------- columns
    Case(
        "duplicate-column-names",
        lambda f: clf().fit(pd.concat([frame(), frame()[["c"]]], axis=1), Y),
        (ValueError, r"Duplicate column names.*\['c'\].*Rename"),
    ),
    Case(
        "all-nan-column",
        lambda f: (
            exotic_proba(f, "all_nan", np.nan),
            RankingPreprocessor().fit(with_column("e", np.nan)),
        ),
        check=lambda r, f: (
            finite_proba(r[0]),
            r[1].column_kinds_["e"] == "dense" or pytest.fail(),
            np.testing.assert_array_equal(
                r[1].transform(with_column("e", np.nan))[:, -2:], [[0.0, 1.0]] * N
            ),
        ),
    ),
    Case(
        "all-none-object-column",
        lambda f: RankingPreprocessor().fit(with_column("e", None)).encode(with_column("e", None)),
        check=lambda r, f: np.testing.assert_array_equal(r[1][:, 1], 0),
    ),
    Case(
        "constant-column",
        lambda f: (
            exotic_proba(f, "const", 5.0),
            RankingPreprocessor().fit(with_column("e", 5.0)),
        ),
        check=lambda r, f: (
            finite_proba(r[0]),
            r[1].scale_[1] == 1.0 or pytest.fail(),
            np.testing.assert_array_equal(r[1].transform(with_column("e", 5.0))[:, 2], 0.0),
        ),
    ),
    Case(
        "inf-in-dense-column",
        lambda f: (
            exotic_proba(f, "inf", np.inf),
            RankingPreprocessor().fit(frame()).transform(with_column("d", [np.inf, -np.inf] * 20)),
            RankingPreprocessor()
            .fit(frame())
            .transform(with_column("d", [frame()["d"].max(), frame()["d"].min()] * 20)),
        ),
        # infinities are clipped to the fitted finite max / min
        check=lambda r, f: (finite_proba(r[0]), np.testing.assert_array_equal(r[1], r[2])),
    ),
    Case(
        "mixed-int-str-objects",
        lambda f: (
            RankingPreprocessor().fit(with_column("e", MIXED)).encode(with_column("e", MIXED))
        ),
        # 1 and "1" share an id (compared through str); None is missing (id 0)
        check=lambda r, f: (
            np.testing.assert_array_equal(r[1][:5, 1][[0, 1]], r[1][0, 1]),
            r[1][4, 1] == 0 or pytest.fail(),
            len(set(r[1][:5, 1])) == 4 or pytest.fail(),
        ),
    ),
    Case(
        "mixed-int-str-objects-model",
        lambda f: exotic_proba(f, "mixed", MIXED[::-1].to_numpy()),
        check=finite_proba,
    ),
    Case(
        "datetime-column",
        lambda f: clf().fit(with_column("t", DATES), Y),
        (ValueError, r"Column 't' has dtype datetime64.*\.dt\.hour"),
    ),
    Case(
        "timedelta-column",
        lambda f: clf().fit(with_column("t", DATES - DATES.min()), Y),
        (ValueError, r"Column 't' has dtype timedelta64.*total_seconds"),
    ),
    Case(
        "datetime-listed-as-categorical",
        lambda f: (
            RankingPreprocessor(categorical_features=["t"])
            .fit(with_column("t", DATES))
            .vocabulary_sizes_["t"]
        ),
        check=lambda r, f: r == 4 + 2 or pytest.fail(str(r)),
    ),
    Case(
        "nullable-Int64",
        lambda f: (
            exotic_proba(f, "int64", pd.array([None, 2] * (N // 2), dtype="Int64")),
            RankingPreprocessor().fit(with_column("e", pd.array([1, None] * 20, dtype="Int64"))),
        ),
        check=lambda r, f: (
            finite_proba(r[0]),
            r[1].missing_indicator_features_ == ["e"] or pytest.fail(),
        ),
    ),
    Case(
        "nullable-boolean",
        lambda f: (
            exotic_proba(f, "boolean", pd.array([False, True] * 20, dtype="boolean")),
            RankingPreprocessor()
            .fit(with_column("e", pd.array([True, None] * 20, dtype="boolean")))
            .encode(with_column("e", pd.array([True, None, False] * 13 + [True], dtype="boolean"))),
        ),
        # True known (id 2), missing -> 0, False unseen at fit -> 1
        check=lambda r, f: (
            finite_proba(r[0]),
            np.testing.assert_array_equal(r[1][1][:3, 1], [2, 0, 1]),
        ),
    ),
    Case(
        "string-pyarrow",
        lambda f: (
            exotic_proba(f, "arrow", pd.array([None, "y"] * 20, dtype="string[pyarrow]")),
            RankingPreprocessor()
            .fit(with_column("e", pd.array(["x", None] * 20, dtype="string[pyarrow]")))
            .encode(
                with_column("e", pd.array(["x", None, "y", "x"] * 10, dtype="string[pyarrow]"))
            ),
        ),
        check=lambda r, f: (
            finite_proba(r[0]),
            np.testing.assert_array_equal(r[1][1][:4, 1], [2, 0, 1, 2]),
        ),
    ),
    Case(
        "category-with-unused-categories",
        lambda f: (
            RankingPreprocessor()
            .fit(with_column("e", pd.Categorical(["a"] * N, categories=["a", "b", "zz"])))
            .encode(with_column("e", pd.Categorical(["b", "a"] * 20, categories=["a", "b", "zz"])))
        ),
        # unused categories get no id: "b" is unknown (1) at predict
        check=lambda r, f: np.testing.assert_array_equal(r[1][:2, 1], [1, 2]),
    ),
    Case(
        "category-with-unused-categories-model",
        lambda f: exotic_proba(f, "cat", pd.Categorical(["zz", "b"] * 20, categories=["b", "zz"])),
        check=finite_proba,
    ),
    Case(
        "categorical-1M-distinct-hashed",
        fit_1m_hashed,
        check=check_1m_hashed,
    ),
    # -------------------------------------------------------------- parameters
    Case(
        "negative-embedding-dim",
        lambda f: clf(embedding_dim=-1).fit(frame(), Y),
        (ValueError, "'embedding_dim' parameter.*Got -1"),
    ),
    Case(
        "empty-top-stack",
        lambda f: clf(top_stack=()).fit(frame(), Y),
        (ValueError, "top_stack must be a non-empty sequence of positive integers"),
    ),
    Case(
        "zero-width-bottom-stack",
        lambda f: clf(bottom_stack=(8, 0)).fit(frame(), Y),
        (
            ValueError,
            "bottom_stack must be a sequence of positive integers.*got bottom_stack=\\(8, 0\\)",
        ),
    ),
    Case(
        "empty-bottom-stack-is-allowed",
        lambda f: clf(bottom_stack=()).fit(frame(), Y).predict_proba(frame()),
        check=finite_proba,
    ),
    Case(
        "unknown-interaction",
        lambda f: clf(interaction="attention").fit(frame(), Y),
        (ValueError, "'interaction' parameter.*'attention'"),
    ),
    Case(
        "batch-size-0",
        lambda f: clf(batch_size=0).fit(frame(), Y),
        (ValueError, "'batch_size' parameter.*Got 0"),
    ),
    Case("epochs-0", lambda f: clf(epochs=0).fit(frame(), Y), (ValueError, "'epochs' parameter")),
    Case(
        "negative-learning-rate",
        lambda f: clf(learning_rate=-0.1).fit(frame(), Y),
        (ValueError, "'learning_rate' parameter"),
    ),
    Case(
        "validation-fraction-1",
        lambda f: clf(validation_fraction=1.0).fit(frame(), Y),
        (ValueError, "'validation_fraction' parameter"),
    ),
    Case(
        "unknown-optimizer",
        lambda f: clf(optimizer="adamm").fit(frame(), Y),
        (ValueError, "Unknown optimizer 'adamm'.*'adam'"),
    ),
    Case(
        "misspelled-routed-parameter",
        lambda f: clf(optimiser__beta_1=0.5).fit(frame(), Y),
        (TypeError, "optimiser__beta_1.*must start with"),
    ),
    Case(
        "categorical-features-names-unknown-column",
        lambda f: clf(categorical_features=["nope"]).fit(frame(), Y),
        (ValueError, "categorical_features contains the column 'nope'"),
    ),
    Case(
        "log-transform-lists-non-dense-column",
        lambda f: RankingPreprocessor(log_transform=["c"]).fit(frame()),
        (ValueError, r"log_transform lists \['c'\]"),
    ),
    Case(
        "missing-indicator-name-clash",
        lambda f: RankingPreprocessor().fit(
            frame().assign(d=np.r_[np.nan, frame()["d"][1:]], d__missing="x")
        ),
        (ValueError, "clash with input column names.*missing_indicator=False"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case, fitted):
    if case.raises is not None:
        error, match = case.raises
        with pytest.raises(error, match=match) as info:
            case.run(fitted)
        # Our own message, not one from deep inside TensorFlow or pandas.
        assert "tensorflow" not in type(info.value).__module__
        return
    case.check(case.run(fitted), fitted)


def test_the_matrix_has_at_least_30_cases():
    assert len(CASES) >= 30
    assert len({case.id for case in CASES}) == len(CASES)
