"""The demo's baselines: gradient boosting, one-hot logistic regression, user/item biases,
and for ranking LightGBM's LGBMRanker, per-item mean relevance and random scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

# Native categorical splits take at most max_bins - 1 = 254 categories (one bin is missing).
MAX_NATIVE_CATEGORIES = 254


def gradient_boosting(kind: str, X_train, categorical, dense, *, random_state: int):
    """HistGradientBoosting on ordinal codes of ``categorical`` plus raw ``dense`` columns.

    Columns with at most 254 categories in ``X_train`` get native categorical splits;
    the others (MovieLens' ids and genre strings have 671 to 9,066 values) are split on
    their codes as if they were numbers. Unseen and missing categories become NaN.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    Model = (
        HistGradientBoostingClassifier if kind == "classifier" else HistGradientBoostingRegressor
    )
    native = [c for c in categorical if X_train[c].nunique() <= MAX_NATIVE_CATEGORIES]
    encode = make_column_transformer(
        (
            OrdinalEncoder(
                handle_unknown="use_encoded_value",
                unknown_value=np.nan,
                encoded_missing_value=np.nan,
            ),
            list(categorical),
        ),
        ("passthrough", list(dense)),
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    model = Model(categorical_features=native or None, random_state=random_state)
    return make_pipeline(encode, model)


def logistic_regression(categorical, dense):
    """One-hot categories (unseen ones all zero) plus standardized, imputed dense columns."""
    from sklearn.linear_model import LogisticRegression

    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), list(categorical)),
        (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), list(dense)),
    )
    return make_pipeline(encode, LogisticRegression(max_iter=1000))


class BiasBaselineRegressor(RegressorMixin, BaseEstimator):
    """Global mean + user bias + item bias, ridge-regularized, fit by alternating means.

    ``b_i = sum(r - mu - b_u) / (n_i + item_reg)`` and the same for users, a few
    rounds each: the classic baseline of rating prediction (Koren, 2008). Unseen
    users or items get a bias of 0.
    """

    def __init__(self, user="userId", item="movieId", *, user_reg=3.0, item_reg=3.0, n_iter=10):
        self.user = user
        self.item = item
        self.user_reg = user_reg
        self.item_reg = item_reg
        self.n_iter = n_iter

    def fit(self, X, y):
        users = X[self.user].to_numpy()
        items = X[self.item].to_numpy()
        y = np.asarray(y, dtype=np.float64)
        self.mean_ = float(y.mean())
        residual = y - self.mean_
        user_bias = pd.Series(0.0, index=pd.unique(users))
        for _ in range(self.n_iter):
            item_bias = _shrunk_mean(
                items, residual - user_bias.reindex(users).to_numpy(), self.item_reg
            )
            user_bias = _shrunk_mean(
                users, residual - item_bias.reindex(items).to_numpy(), self.user_reg
            )
        self.user_bias_, self.item_bias_ = user_bias, item_bias
        return self

    def predict(self, X):
        check_is_fitted(self)
        user = self.user_bias_.reindex(X[self.user].to_numpy()).fillna(0.0).to_numpy()
        item = self.item_bias_.reindex(X[self.item].to_numpy()).fillna(0.0).to_numpy()
        return self.mean_ + user + item


def _shrunk_mean(keys, values, reg):
    groups = pd.Series(values).groupby(keys, sort=False)
    return groups.sum() / (groups.count() + reg)


class LightGBMRanker(BaseEstimator):
    """LightGBM's ``LGBMRanker`` (lambdarank, its defaults) fed as its docs ask.

    ``fit(X, y)`` sorts the rows by the ``query`` column (stably) and passes the
    query sizes as ``group``; relevance becomes the integer labels lambdarank needs,
    ``rint(y * label_scale)`` (MovieLens' half stars: ``label_scale=2``). Categorical
    columns become pandas categories with the training categories (unseen ones
    missing), for LightGBM's native categorical splits; the query column stays a
    feature, as ``Ranker(query_column=...)`` embeds it.
    """

    def __init__(self, query, categorical, dense, *, label_scale=1.0, random_state=0):
        self.query = query
        self.categorical = categorical
        self.dense = dense
        self.label_scale = label_scale
        self.random_state = random_state

    def _frame(self, X):
        columns = {}
        for c in self.categorical:
            known = X[c].where(X[c].isin(self.categories_[c]))  # unseen: missing
            columns[c] = pd.Categorical(known, categories=self.categories_[c])
        columns.update({c: X[c].to_numpy(dtype=np.float64) for c in self.dense})
        return pd.DataFrame(columns)

    def fit(self, X, y):
        import lightgbm

        query = X[self.query].to_numpy()
        order = np.argsort(pd.factorize(query, sort=True)[0], kind="stable")
        self.categories_ = {c: pd.unique(X[c].dropna()) for c in self.categorical}
        labels = np.rint(np.asarray(y, dtype=np.float64)[order] * self.label_scale).astype(int)
        sizes = pd.Series(query[order]).groupby(query[order], sort=False).size().to_numpy()
        self.model_ = lightgbm.LGBMRanker(verbose=-1, random_state=self.random_state)
        self.model_.fit(self._frame(X.iloc[order]), labels, group=sizes)
        return self

    def predict(self, X):
        check_is_fitted(self)
        return self.model_.predict(self._frame(X))


class ItemMeanRanker(BaseEstimator):
    """Ranks by the item's mean training relevance (unseen items: the global mean)."""

    def __init__(self, item="movieId"):
        self.item = item

    def fit(self, X, y):
        y = np.asarray(y, dtype=np.float64)
        self.mean_ = float(y.mean())
        self.item_means_ = pd.Series(y).groupby(X[self.item].to_numpy()).mean()
        return self

    def predict(self, X):
        check_is_fitted(self)
        return self.item_means_.reindex(X[self.item].to_numpy()).fillna(self.mean_).to_numpy()


class RandomRanker(BaseEstimator):
    """Uniform random scores: the NDCG of ranking by chance."""

    def __init__(self, random_state=0):
        self.random_state = random_state

    def fit(self, X, y):
        self.fitted_ = True
        return self

    def predict(self, X):
        check_is_fitted(self)
        return np.random.default_rng(self.random_state).random(len(X))
