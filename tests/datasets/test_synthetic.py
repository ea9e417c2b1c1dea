import doctest
import re
import subprocess
import sys
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

from skrank.datasets import _synthetic, make_ctr_classification, make_rating_regression

DENSE = [f"I{j}" for j in range(1, 14)]
CATEGORICAL = [f"C{j}" for j in range(1, 27)]


def test_default_columns_and_dtypes():
    X, y = make_ctr_classification(n_samples=2_000, random_state=0)
    assert X.shape == (2_000, 39)
    assert list(X.columns) == DENSE + CATEGORICAL
    for name in DENSE:
        assert X[name].dtype == np.float64
        observed = X[name].dropna()
        assert (observed >= 0).all()
        assert (observed == np.floor(observed)).all()
    for name in CATEGORICAL:
        assert pd.api.types.is_string_dtype(X[name].dtype)
        assert X[name].dropna().str.fullmatch(r"[0-9a-f]{8}").all()
    assert y.name == "clicked"
    assert y.dtype == np.int64
    assert set(y.unique()) == {0, 1}


def test_dense_counts_are_heavy_tailed():
    X, _ = make_ctr_classification(n_samples=20_000, n_categorical=0, random_state=0)
    for name in X.columns:
        values = X[name].dropna()
        assert values.max() > 10 * values.quantile(0.9)


def test_same_seed_same_data_other_seed_other_data():
    kwargs = dict(n_samples=1_000, n_dense=3, n_categorical=5)
    X1, y1 = make_ctr_classification(**kwargs, random_state=42)
    X2, y2 = make_ctr_classification(**kwargs, random_state=42)
    X3, y3 = make_ctr_classification(**kwargs, random_state=43)
    pd.testing.assert_frame_equal(X1, X2)
    pd.testing.assert_series_equal(y1, y2)
    assert not X1.equals(X3)
    assert not y1.equals(y3)


@pytest.mark.parametrize("missing_rate", [0.0, 0.05, 0.3])
def test_missing_rate(missing_rate):
    X, _ = make_ctr_classification(
        n_samples=20_000, n_categorical=5, missing_rate=missing_rate, random_state=0
    )
    rates = X.isna().mean()
    np.testing.assert_allclose(rates, missing_rate, atol=0.015)


@pytest.mark.parametrize("positive_rate", [0.03, 0.25, 0.5])
def test_positive_rate(positive_rate):
    _, y = make_ctr_classification(
        n_samples=20_000, n_categorical=8, positive_rate=positive_rate, random_state=0
    )
    assert y.mean() == pytest.approx(positive_rate, abs=0.02)


def test_categories_are_zipf_skewed():
    X, _ = make_ctr_classification(
        n_samples=20_000, n_dense=0, n_categorical=2, cardinalities=1_000, random_state=0
    )
    counts = X["C1"].value_counts()
    assert counts.iloc[0] > 50 * counts.median()
    assert counts.iloc[0] / counts.sum() > 0.05


def test_default_cardinalities_spread_log_uniformly():
    bunch = make_ctr_classification(n_samples=5_000, return_X_y=False, random_state=0)
    cardinalities = np.array(list(bunch.cardinalities.values()))
    assert list(bunch.cardinalities) == CATEGORICAL
    assert cardinalities[0] == 10
    assert cardinalities[-1] == 100_000
    np.testing.assert_array_equal(cardinalities, np.round(np.geomspace(10, 100_000, 26)))
    observed = bunch.data[CATEGORICAL].nunique().to_numpy()
    assert (observed <= cardinalities).all()
    assert observed[0] == 10


@pytest.mark.parametrize("cardinalities", [7, [3, 50, 400]])
def test_cardinalities_override(cardinalities):
    X, _ = make_ctr_classification(
        n_samples=20_000, n_dense=0, n_categorical=3, cardinalities=cardinalities, random_state=0
    )
    expected = [cardinalities] * 3 if isinstance(cardinalities, int) else cardinalities
    assert X.nunique().tolist() == pytest.approx(expected, rel=0.3)
    assert (X.nunique() <= expected).all()


def test_as_frame_false_matches_frame():
    kwargs = dict(n_samples=500, n_dense=2, n_categorical=3, random_state=0)
    X_frame, y_frame = make_ctr_classification(**kwargs)
    X, y = make_ctr_classification(**kwargs, as_frame=False)
    assert isinstance(X, np.ndarray) and X.dtype == object and X.shape == (500, 5)
    assert isinstance(y, np.ndarray) and y.dtype == np.int64
    np.testing.assert_array_equal(y, y_frame.to_numpy())
    pd.testing.assert_frame_equal(
        pd.DataFrame(X, columns=X_frame.columns).astype(X_frame.dtypes.to_dict()), X_frame
    )


def test_bunch():
    bunch = make_ctr_classification(
        n_samples=300, n_dense=2, n_categorical=4, n_interactions=3, return_X_y=False
    )
    assert bunch.frame.shape == (300, 7)
    assert list(bunch.frame.columns) == ["I1", "I2", "C1", "C2", "C3", "C4", "clicked"]
    assert bunch.feature_names == ["I1", "I2", "C1", "C2", "C3", "C4"]
    assert bunch.target_names == ["clicked"]
    assert len(bunch.interaction_pairs) == 3
    assert len(set(bunch.interaction_pairs)) == 3
    assert "Criteo" in bunch.DESCR


def test_n_interactions_is_capped_and_none_means_all_pairs():
    kwargs = dict(n_samples=100, n_dense=0, n_categorical=4, return_X_y=False, random_state=0)
    assert len(make_ctr_classification(**kwargs, n_interactions=100).interaction_pairs) == 6
    assert len(make_ctr_classification(**kwargs, n_interactions=None).interaction_pairs) == 6
    assert make_ctr_classification(**kwargs, n_interactions=0).interaction_pairs == []


def _held_out_aucs(n_interactions, random_state=0):
    """Held-out AUC of one-hot LR, one-hot LR with pairwise crosses, and HGB."""
    X, y = make_ctr_classification(
        n_samples=20_000,
        n_dense=2,
        n_categorical=4,
        cardinalities=20,
        n_interactions=n_interactions,
        missing_rate=0.0,
        random_state=random_state,
    )
    categorical = [name for name in X.columns if name.startswith("C")]
    dense = [name for name in X.columns if name.startswith("I")]
    crossed = []
    for left, right in combinations(categorical, 2):
        X[f"{left}x{right}"] = X[left] + "_" + X[right]
        crossed.append(f"{left}x{right}")
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    log_dense = make_pipeline(SimpleImputer(), FunctionTransformer(np.log1p), StandardScaler())

    def one_hot_lr(columns, C):
        encoder = make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), columns), (log_dense, dense)
        )
        return make_pipeline(encoder, LogisticRegression(C=C, max_iter=1_000))

    boosting = make_pipeline(
        make_column_transformer(
            (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), categorical),
            ("passthrough", dense),
        ),
        HistGradientBoostingClassifier(categorical_features=[0, 1, 2, 3], random_state=0),
    )
    models = {
        "linear": one_hot_lr(categorical, C=1.0),
        "crossed": one_hot_lr(categorical + crossed, C=0.3),
        "boosting": boosting,
    }
    return {
        name: roc_auc_score(y_test, model.fit(X_train, y_train).predict_proba(X_test)[:, 1])
        for name, model in models.items()
    }


def test_models_that_learn_interactions_beat_linear():
    auc = _held_out_aucs(n_interactions=None)
    # Measured at seed 0: linear 0.653, crossed 0.790, boosting 0.759.
    assert auc["crossed"] >= auc["linear"] + 0.05
    assert auc["boosting"] >= auc["linear"] + 0.03


def test_without_interactions_crossing_does_not_help():
    # The control: the gap above comes from the latent interactions, not from the setup.
    auc = _held_out_aucs(n_interactions=0)
    assert auc["crossed"] <= auc["linear"] + 0.01


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_samples": 0}, ValueError, "n_samples must be >= 1, got 0"),
        ({"n_samples": 1.5}, TypeError, "n_samples must be an int"),
        ({"missing_rate": 1.0}, ValueError, r"missing_rate must be in \[0, 1\), got 1.0"),
        ({"positive_rate": 0.0}, ValueError, "positive_rate must be in"),
        ({"cardinalities": 1}, ValueError, "cardinalities must be >= 2, got 1"),
        ({"cardinalities": [10, 20]}, ValueError, "cardinalities has 2 entries"),
        ({"n_dense": 0, "n_categorical": 0}, ValueError, "at least one column"),
        ({"n_interactions": -1}, ValueError, "n_interactions must be >= 0"),
        ({"as_frame": "yes"}, TypeError, "as_frame must be a bool"),
    ],
)
def test_invalid_parameters_name_the_parameter(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_ctr_classification(**{"n_samples": 100, **kwargs})


def test_rating_regression():
    X, y = make_rating_regression(n_samples=20_000, n_users=300, n_items=500, random_state=0)
    assert list(X.columns) == ["user_id", "item_id"]
    assert all(pd.api.types.is_string_dtype(X[name].dtype) for name in X.columns)
    assert X["user_id"].str.fullmatch(r"u\d+").all()
    assert X["user_id"].nunique() <= 300 and X["item_id"].nunique() <= 500
    assert y.name == "rating" and y.dtype == np.int64
    shares = y.value_counts(normalize=True).sort_index()
    assert shares.index.tolist() == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(shares, [0.06, 0.11, 0.27, 0.34, 0.22], atol=0.01)
    X2, y2 = make_rating_regression(n_samples=20_000, n_users=300, n_items=500, random_state=0)
    pd.testing.assert_frame_equal(X, X2)
    pd.testing.assert_series_equal(y, y2)


def test_rating_depends_on_the_user_item_pair():
    X, y = make_rating_regression(
        n_samples=20_000, n_users=50, n_items=50, noise=0.1, random_state=0
    )
    frame = X.assign(rating=y)
    pair_mean = frame.groupby(["user_id", "item_id"])["rating"].transform("mean")
    additive = (
        frame.groupby("user_id")["rating"].transform("mean")
        + frame.groupby("item_id")["rating"].transform("mean")
        - y.mean()
    )
    # A per-pair mean explains clearly more than user and item means added up.
    assert ((y - pair_mean) ** 2).mean() < 0.7 * ((y - additive) ** 2).mean()


def test_docstring_examples():
    result = doctest.testmod(_synthetic, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_datasets_never_import_keras_or_tensorflow():
    code = (
        "import sys, skrank.datasets;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow')];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_error_messages_are_plain_text():
    with pytest.raises(ValueError) as info:
        make_ctr_classification(n_samples=-3)
    assert re.search(r"n_samples.*-3", str(info.value))
