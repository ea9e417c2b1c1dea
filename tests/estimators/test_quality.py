"""The default classifier learns what a linear model cannot, and what it can."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skrank import RankingClassifier
from skrank.datasets import make_ctr_classification
from skrank.layers import PeriodicEmbedding
from tests.estimators.conftest import SMALL


def test_default_classifier_beats_one_hot_logistic_regression_on_interactions():
    X, y = make_ctr_classification(
        n_samples=8_000,
        n_dense=2,
        n_categorical=4,
        cardinalities=20,
        missing_rate=0.0,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    categorical = [c for c in X.columns if c.startswith("C")]
    dense = [c for c in X.columns if c.startswith("I")]
    linear = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), categorical), (StandardScaler(), dense)
        ),
        LogisticRegression(max_iter=1000),
    ).fit(X_train, y_train)
    auc_linear = roc_auc_score(y_test, linear.predict_proba(X_test)[:, 1])

    deep = RankingClassifier(random_state=0).fit(X_train, y_train)
    auc_deep = roc_auc_score(y_test, deep.predict_proba(X_test)[:, 1])

    print(f"held-out AUC: RankingClassifier {auc_deep:.4f}, one-hot LR {auc_linear:.4f}")
    assert auc_deep > auc_linear + 0.05


def income_frame(n=1200, seed=0):
    """Two incomes that differ by a small amount, which alone decides the target."""
    rng = np.random.default_rng(seed)
    a, b, c = rng.normal(size=(3, n))
    X = pd.DataFrame(
        {"income": 30 + 10 * a, "other_income": 30 + 10 * a - 0.5 * b, "age": 40 + 5 * c}
    )
    return X, (b + 0.3 * rng.normal(size=n) > 0).astype(int)


def test_whitened_directions_find_the_difference_of_correlated_columns():
    X, y = income_frame()
    small = dict(SMALL, random_state=0)
    aucs = {}
    for whiten_below in (0.2, None):
        model = RankingClassifier(**small, whiten_below=whiten_below).fit(X[:800], y[:800])
        aucs[whiten_below] = roc_auc_score(y[800:], model.predict_proba(X[800:])[:, 1])
        layer = model.model_.dense_embedding_layer
        if whiten_below is None:
            assert isinstance(layer, PeriodicEmbedding)
        else:  # one direction: other_income - income, at unit variance
            assert layer.layers[0].n_directions == 1
            restored = pickle.loads(pickle.dumps(model))
            np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    # Standardized, the difference is 2% of either column's variance: without the
    # whitened direction the network barely learns it.
    assert aucs[0.2] > 0.95 and aucs[None] < 0.7, aucs


def test_whitened_directions_follow_the_bottom_stack_without_numeric_embedding():
    X, y = income_frame()
    model = RankingClassifier(**SMALL, numeric_embedding=None, random_state=0).fit(X, y)
    assert model.model_.dense_embedding_layer is None
    assert model.model_.bottom_stack.layers[0].n_directions == 1
    assert model.predict_proba(X).shape == (len(X), 2)


@pytest.mark.parametrize("whiten_below", [-0.1, 1.0, "auto"])
def test_bad_whiten_below_raises(whiten_below):
    X, y = income_frame(n=100)
    with pytest.raises(ValueError, match="whiten_below"):
        RankingClassifier(**SMALL, whiten_below=whiten_below).fit(X, y)
