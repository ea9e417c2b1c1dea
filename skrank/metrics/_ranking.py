"""NDCG within queries, on flat rows with one query id per row (numpy only)."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics._scorer import _Scorer
from sklearn.utils.validation import column_or_1d


def query_codes(qid, n_samples: int, *, name: str = "qid") -> np.ndarray:
    """One integer per row, equal for the rows of one query, ordered by query id.

    ``qid`` holds any hashable values, in any row order. The codes follow the
    sorted query ids (their string form when the ids cannot be compared), so they
    do not depend on the order of the rows.
    """
    values = np.asarray(qid, dtype=object) if not hasattr(qid, "dtype") else qid
    if np.ndim(values) == 2 and np.shape(values)[1] == 1:
        values = np.asarray(values).reshape(-1)
    if np.ndim(values) != 1:
        raise ValueError(
            f"{name} must be 1-D (one query id per row); got shape {np.shape(values)}."
        )
    if len(values) != n_samples:
        raise ValueError(
            f"{name} has {len(values)} entries but there are {n_samples} rows: pass one "
            "query id per row."
        )
    series = pd.Series(values, copy=False)
    missing = series.isna().to_numpy()
    if missing.any():
        raise ValueError(
            f"{name} has {int(missing.sum())} missing values (None / NaN): every row needs "
            "a query id. Drop those rows or give them an id."
        )
    try:
        codes, _ = pd.factorize(series, sort=True)
    except TypeError:  # ids of types that cannot be ordered together (1 and "a")
        codes, _ = pd.factorize(series.map(repr), sort=True)
    return codes.astype(np.intp)


def check_relevance(y, *, name: str = "y") -> np.ndarray:
    """Graded relevance as float64: 1-D, finite, non-negative."""
    y = np.asarray(y) if not hasattr(y, "dtype") else y
    if getattr(y, "ndim", 1) != 1 and not (y.ndim == 2 and y.shape[1] == 1):
        raise ValueError(
            f"{name} must be 1-D (one relevance grade per row); got shape {np.shape(y)}."
        )
    try:
        y = column_or_1d(y).astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must hold numbers (graded relevance such as 0, 1, 2 or clicks 0/1); "
            f"got values of dtype {np.asarray(y).dtype}."
        ) from exc
    if not np.isfinite(y).all():
        raise ValueError(
            f"{name} contains {int(np.count_nonzero(~np.isfinite(y)))} NaN or infinite "
            "relevance values. Drop those rows or fill in their relevance."
        )
    if (y < 0).any():
        raise ValueError(
            f"{name} contains negative relevance (minimum {y.min()!r}): relevance must "
            "be >= 0 (0 = irrelevant). Shift or clip the grades."
        )
    return y


def _segment_sums(values, starts):
    return np.add.reduceat(values, starts) if len(values) else np.zeros(0)


def ndcg_per_query(relevance, score, codes, k):
    """``(ndcg, has_relevant)`` of each query (arrays indexed by query code)."""
    n_queries = int(codes.max()) + 1 if len(codes) else 0
    sizes = np.bincount(codes, minlength=n_queries)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    gain = np.exp2(relevance) - 1.0

    def discounts(order):
        position = np.arange(len(order)) - starts[codes[order]]
        out = 1.0 / np.log2(position + 2.0)
        if k is not None:
            out[position >= k] = 0.0
        return out

    ideal = np.lexsort((-gain, codes))
    idcg = np.bincount(codes[ideal], gain[ideal] * discounts(ideal), minlength=n_queries)

    # Tied scores share the mean of their discounts (scikit-learn's tie-averaged DCG),
    # so the metric does not depend on the order of the rows.
    order = np.lexsort((-score, codes))
    disc = discounts(order)
    q, s, g = codes[order], score[order], gain[order]
    new_group = np.ones(len(order), bool)
    new_group[1:] = (q[1:] != q[:-1]) | (s[1:] != s[:-1])
    group_starts = np.flatnonzero(new_group)
    group_size = np.diff(np.append(group_starts, len(order)))
    mean_discount = _segment_sums(disc, group_starts) / group_size
    dcg = np.bincount(
        q[group_starts], _segment_sums(g, group_starts) * mean_discount, minlength=n_queries
    )
    has_relevant = idcg > 0
    ndcg = np.divide(dcg, idcg, out=np.zeros(n_queries), where=has_relevant)
    return ndcg, has_relevant


def ndcg_score(y_true, y_score, *, qid, k=10, sample_weight=None) -> float:
    """Mean NDCG@k over the queries that have a relevant item.

    Rows are flat, in any order: ``qid`` gives each row's query. Within a query the
    rows are ranked by decreasing ``y_score``; the DCG sums ``2**rel - 1`` over the
    first ``k`` positions, discounted by ``1 / log2(position + 1)``, and is divided by
    the DCG of the ideal order. This is the NDCG of LightGBM, XGBoost
    (``ndcg_exp_gain=True``), keras-rs and TF-Ranking.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Graded relevance, >= 0 (0: irrelevant; clicks 0/1 work too).
    y_score : array-like of shape (n_samples,)
        Scores, higher ranks first (e.g. ``Ranker.predict``).
    qid : array-like of shape (n_samples,)
        Query id of each row, of any hashable type; rows need not be sorted or
        contiguous.
    k : int or None, default=10
        Only the first ``k`` positions of each query count. None: all positions.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights. Rows of weight 0 are left out; a query weighs the mean
        weight of its remaining rows (the weighting :class:`skrank.Ranker`
        trains with).

    Returns
    -------
    score : float
        Weighted mean of the per-query NDCG@k, in [0, 1], over the queries with at
        least one relevant item (relevance > 0). If no query has one, 0.0 with an
        ``UndefinedMetricWarning``.

    Notes
    -----
    Differences from other definitions:

    - :func:`sklearn.metrics.ndcg_score` takes a 2-D array of equal-length lists
      (no query ids), uses the relevance itself as the gain (linear gain) and
      raises on one-item lists. On equal-length lists, this function with integer
      relevance ``r`` equals ``sklearn.metrics.ndcg_score(2**r - 1, scores, k=k)``
      when every list has a relevant item.
    - A query without any relevant item has no ideal ranking: it is left out of
      the mean here. LightGBM counts it as 1.0, scikit-learn and keras-rs as 0.0.
    - Tied scores share the average of their discounts, as in scikit-learn
      (``ignore_ties=False``): the result does not depend on the order of the rows.
      LightGBM breaks ties by row order.
    - One-item queries are allowed: 1.0 when the item is relevant.

    Examples
    --------
    >>> from skrank.metrics import ndcg_score
    >>> y_true = [3, 0, 1, 0, 2, 0]
    >>> y_score = [0.9, 0.8, 0.1, 0.3, 0.2, 0.5]
    >>> qid = ["a", "a", "a", "b", "b", "b"]
    >>> round(ndcg_score(y_true, y_score, qid=qid), 4)
    0.7414
    """
    relevance = check_relevance(y_true, name="y_true")
    n = len(relevance)
    score = column_or_1d(np.asarray(y_score)).astype(np.float64)
    if len(score) != n:
        raise ValueError(f"y_score has {len(score)} entries but y_true has {n}.")
    if not np.isfinite(score).all():
        raise ValueError("y_score contains NaN or infinite values.")
    if k is not None and (isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1):
        raise ValueError(f"k must be a positive integer or None; got k={k!r}.")
    codes = query_codes(qid, n)
    weights = None
    if sample_weight is not None:
        weights = column_or_1d(np.asarray(sample_weight, dtype=np.float64))
        if len(weights) != n or not np.isfinite(weights).all() or (weights < 0).any():
            raise ValueError(
                f"sample_weight must hold {n} finite, non-negative weights (one per row)."
            )
        kept = weights > 0
        relevance, score, weights = relevance[kept], score[kept], weights[kept]
        codes = np.unique(codes[kept], return_inverse=True)[1]
    if not len(codes):
        return _undefined()
    ndcg, has_relevant = ndcg_per_query(relevance, score, codes, k)
    if not has_relevant.any():
        return _undefined()
    query_weight = np.ones(len(ndcg))
    if weights is not None:
        query_weight = np.bincount(codes, weights) / np.bincount(codes)
    return float(np.average(ndcg[has_relevant], weights=query_weight[has_relevant]))


def _undefined():
    warnings.warn(
        "No query has a relevant item (relevance > 0): NDCG is undefined; returning 0.0.",
        UndefinedMetricWarning,
        stacklevel=3,
    )
    return 0.0


def query_column_values(X, column):
    """The values of column ``column`` (a name, or a position for arrays) of ``X``."""
    if hasattr(X, "columns"):
        if column in X.columns:
            return X[column].to_numpy()
        if isinstance(column, numbers.Integral) and not isinstance(column, bool):
            return X.iloc[:, column].to_numpy()
        raise ValueError(
            f"query_column={column!r} is not a column of X; its columns are {list(X.columns)[:10]}."
        )
    array = np.asarray(X, dtype=object) if not hasattr(X, "shape") else X
    if not (isinstance(column, numbers.Integral) and not isinstance(column, bool)):
        raise ValueError(
            f"query_column={column!r} names a column, but X has no column names: pass a "
            "DataFrame, or give query_column as an integer position."
        )
    if np.ndim(array) != 2 or not -array.shape[1] <= column < array.shape[1]:
        raise ValueError(
            f"query_column={column} is not a column position of X of shape {np.shape(array)}."
        )
    return np.asarray(array[:, column])


class _QueryScorer(_Scorer):
    """``make_scorer`` of a per-query metric: ``qid`` is routed, or read from X.

    Under metadata routing ``qid`` is requested by default (as GroupKFold requests
    ``groups``). Without a routed ``qid``, the query ids are read from X's
    ``query_column`` of the (final) estimator, as :meth:`skrank.Ranker.score` does.
    """

    __metadata_request__score = {"qid": True}

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        if kwargs.get("qid") is None:
            final = getattr(estimator, "_final_estimator", estimator)
            column = getattr(final, "query_column", None)
            if column is None:
                raise ValueError(
                    f"{self._score_func.__name__} needs query ids: route them as qid "
                    "(sklearn.set_config(enable_metadata_routing=True) and "
                    "params={'qid': qid}), or fit a Ranker with query_column set."
                )
            kwargs["qid"] = query_column_values(X, column)
        return super()._score(method_caller, estimator, X, y_true, **kwargs)


def make_ndcg_scorer(*, k=10):
    """A scorer of mean NDCG@k over queries, for ``cross_val_score`` and searches.

    The scorer calls ``estimator.predict(X)`` and :func:`ndcg_score`. Query ids come
    from metadata routing when it is on (``qid`` is requested by default; pass
    ``params={"qid": qid}``), else from the estimator's ``query_column`` in ``X``.
    Row weights (``sample_weight``) are routed the same way when requested with
    ``set_score_request(sample_weight=True)``.

    Parameters
    ----------
    k : int or None, default=10
        Cutoff of NDCG@k.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)``; built on :func:`sklearn.metrics.make_scorer`.

    Examples
    --------
    >>> from skrank.metrics import make_ndcg_scorer
    >>> make_ndcg_scorer(k=5)
    make_scorer(ndcg_score, response_method='predict', k=5)
    """
    return _QueryScorer(ndcg_score, 1, {"k": k}, "predict")
