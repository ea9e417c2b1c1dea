"""Ranker: learning to rank the items of each query (listwise losses on whole lists)."""

import numbers

import keras
import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_n_features,
    _get_feature_names,
    _num_samples,
    check_is_fitted,
)

from skrank.data._sources import is_file_source
from skrank.estimators._base import _PREPROCESSOR_PARAMS, _RankingBase, _rows_of
from skrank.estimators._incremental import drop_fitted
from skrank.estimators._list_training import VALIDATION_KEY, fit_lists
from skrank.estimators._queries import QueryColumn
from skrank.estimators._targets import RelevanceTarget
from skrank.estimators._training import (
    fit_seed,
    fitted_attributes,
    training_weights,
)
from skrank.metrics._ranking import ndcg_score, query_codes
from skrank.preprocessing import RankingPreprocessor
from skrank.tasks._listwise import LOSSES

# The Ranker's own default top stack, smaller than the other estimators' (512, 256):
# on MovieLens per-user ranking it ranked better with interaction="dot" in 8 of 9
# paired fits (3 splits x 3 seeds, NDCG@10 +0.0015), as well with "cross" (-0.0004
# over 6 fits), and it is cheaper.
TOP_STACK = (256,)


def _with_default(signature, **defaults):
    """``signature`` with the defaults of some of its parameters replaced."""
    return signature.replace(
        parameters=[
            p.replace(default=defaults[p.name]) if p.name in defaults else p
            for p in signature.parameters.values()
        ]
    )


class Ranker(_RankingBase):
    """Deep learning to rank: scores items so that each query's relevant items come first.

    The model of :class:`RankingClassifier` (DLRM, or DCN-v2 with
    ``interaction="cross"``) scores one row at a time; it is trained on whole
    lists, the rows of one query, with a listwise or pairwise loss. Rows may come
    in any order: the estimator groups them by query itself.

    Query ids come from ``fit(X, y, qid=...)`` or from a column of X
    (``query_column``), with which ``cross_val_score`` and ``GridSearchCV`` work
    without metadata routing (split with ``GroupKFold`` on the query column).

    Parameters
    ----------
    query_column : str or int, default=None
        Column of X holding the query ids (a name, or a position for arrays).
        With ``categorical_features="auto"`` (or a list naming it) the column is
        also embedded as a categorical feature, whatever its dtype: in
        recommendation the query is a user, whose interactions with items are
        the signal; a query id unseen at fit maps to the unknown id. With
        ``categorical_features`` listing other columns only, it is left out of
        the features. It is never a dense feature. Without it, pass ``qid`` to
        :meth:`fit` and :meth:`score`.
    list_size : int or "auto", default="auto"
        Rows per training list. A query with more rows is dealt at random into
        ``ceil(n / list_size)`` lists of near-equal size, anew each epoch; a
        shorter one is padded (padding is masked in the loss). ``"auto"``: the
        largest of 2, 4, 8 and 16 (and at most the largest query) whose lists are
        at most 25% padding. The value used is ``list_size_``.
    loss : str or keras.losses.Loss, default="pairwise_logistic"
        ``"pairwise_logistic"``: RankNet's logistic loss on every pair of items of
        a list with different relevance (keras-rs); ``"softmax"``: listwise softmax
        cross-entropy of the gains ``2**y - 1`` (:class:`skrank.tasks.SoftmaxLoss`);
        ``"lambdarank"``: the pairwise logistic loss with LambdaRank's weights, the
        change of NDCG if the pair swapped (:class:`skrank.tasks.LambdaRankLoss`);
        keras-rs's ``"pairwise_hinge"``, ``"pairwise_soft_zero_one"``,
        ``"pairwise_mse"`` and ``"listmle"``; ``"mse"`` (pointwise squared error on
        the relevance). A Keras loss instance is called on ``(n_lists, list_size)``
        labels and scores, with padded items labelled -1 (which it must ignore, as
        keras-rs losses do) and per-list weights. The default: on MovieLens per-user
        ranking (3 splits x 3 seeds) ``"softmax"`` ranked 0.0007 below it (0.0010
        with ``refit``), and ``"lambdarank"`` and ``"listmle"`` lower still; it
        was best on planted search data too.
    k : int, default=10
        Cutoff of the NDCG@k of :meth:`score` and of early stopping.
    refit : bool, default=True
        With early stopping, the held-out rows only choose the number of
        epochs, the best of that run: a fresh model (same seed) is then trained
        on every row for that many epochs, so no query loses rows to validation
        (about 1.7x the fit time of early stopping alone). ``False`` keeps the
        early-stopped model, trained without the held-out rows. On MovieLens
        per-user ranking, where the held-out rows are a tenth of every user's
        ratings, refitting ranked better in 8 of 9 paired fits (3 splits x 3
        seeds, NDCG@10 +0.0015). Without early stopping it does nothing.
    top_stack : tuple of int, default=(256,)
        Widths of the MLP above the feature interaction, as in
        :class:`RankingClassifier` (whose default is ``(512, 256)``). On MovieLens
        per-user ranking the smaller stack ranked better with the dot interaction
        in 8 of 9 paired fits (3 splits x 3 seeds, NDCG@10 +0.0015), as well with
        the cross interaction (-0.0004, 6 fits), and it trains faster.
    **params
        The parameters of :class:`RankingClassifier` except ``class_weight``
        (``categorical_features``, ``embedding_dim``, ``bottom_stack``,
        ``interaction``, optimizers, ``batch_size`` (rows per
        step: ``batch_size // list_size`` lists), ``epochs``, ``random_state``,
        ``verbose``, ...). ``early_stopping`` holds out ``validation_fraction`` of
        the rows (whole queries, or some rows of each query when the query column
        is embedded) and stops when their NDCG@k has not improved for
        ``n_iter_no_change`` epochs; the model of the best epoch is kept, or, with
        ``refit``, retrained on every row for as many epochs.
        ``frequency_scale="auto"`` is 0.3 whatever the number of rows (growing it
        with the rows did not rank better). ``ensemble_size="auto"`` is 1 (the
        ensembles were measured on the classifier's and regressor's tables, not
        on ranking); an integer trains that many models side by side.
        ``distribution`` is not supported yet.

    Attributes
    ----------
    list_size_ : int
        Rows per training list (``list_size`` resolved).
    preprocessor_ : RankingPreprocessor
        The fitted preprocessor.
    model_ : skrank.models.Ranking
        The trained Keras model (one score per row).
    history_ : dict of str to list of float
        Per-epoch training loss of the model (``"loss"``); with early stopping,
        the held-out NDCG@k of each epoch of the early-stopping run
        (``"val_ndcg"``), and with ``refit`` that run's loss
        (``"early_stopping_loss"``).
    best_validation_score_ : float
        Best NDCG@k of the held-out rows, that of the epoch kept or refitted to
        (only with early stopping).
    n_iter_ : int
        Number of epochs the model was trained (with ``refit``, the best epoch
        of the early-stopping run).
    batch_size_ : int
        Rows per gradient step (whole lists, padding included).
    n_features_in_ : int
        Number of columns seen during fit (the query column included).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen during fit (when X had string column names).

    See Also
    --------
    RankingRegressor : Pointwise: predicts the relevance of each row.
    skrank.metrics.ndcg_score : The metric of :meth:`score`.

    Notes
    -----
    ``sample_weight`` weighs rows: a row of weight 0 is left out of its list, and a
    list weighs the mean weight of its rows.

    Examples
    --------
    >>> import pandas as pd
    >>> from skrank import Ranker
    >>> X = pd.DataFrame({"user": list("aaaabbbb"), "item": list("wxyzwxyz")})
    >>> y = [3, 2, 0, 0, 0, 1, 2, 3]
    >>> ranker = Ranker(query_column="user", embedding_dim=4, bottom_stack=(8,),
    ...                 top_stack=(8,), epochs=3, random_state=0).fit(X, y)
    >>> ranker.predict(X).shape
    (8,)
    >>> 0.0 <= ranker.score(X, y) <= 1.0
    True
    """

    _parameter_constraints: dict = {
        **_RankingBase._parameter_constraints,
        "query_column": [str, numbers.Integral, None],
        "list_size": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "loss": [StrOptions(set(LOSSES)), keras.losses.Loss],
        "k": [Interval(numbers.Integral, 1, None, closed="left")],
        "refit": ["boolean"],
    }

    _target_kind = RelevanceTarget

    def __init__(
        self,
        *,
        query_column=None,
        list_size="auto",
        loss="pairwise_logistic",
        k=10,
        refit=True,
        top_stack=TOP_STACK,
        **kwargs,
    ):
        super().__init__(top_stack=top_stack, **kwargs)
        self.query_column = query_column
        self.list_size = list_size
        self.loss = loss
        self.k = k
        self.refit = refit

    __init__.__signature__ = _with_default(
        _RankingBase._signature_with(
            query_column=None, list_size="auto", loss="pairwise_logistic", k=10, refit=True
        ),
        top_stack=TOP_STACK,
    )

    # ------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, qid=None, sample_weight=None):
        """Fit the preprocessor and train the model on the lists of each query.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Mixed categorical and numeric columns, rows in any order.
        y : array-like of shape (n_samples,)
            Graded relevance, numbers >= 0 (clicks 0/1 work too).
        qid : array-like of shape (n_samples,), default=None
            Query id of each row, of any hashable type; rows of a query need not be
            contiguous. Required unless ``query_column`` is set (not both).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights, rescaled to mean 1; see the Notes.

        Returns
        -------
        self : Ranker
            The fitted ranker.
        """
        self._check_params()
        if is_file_source(X):
            raise ValueError(
                "Ranker.fit takes in-memory rows (a DataFrame or an array), not a file "
                "source: read the files into a DataFrame first."
            )
        if y is None:
            raise ValueError(
                "Ranker requires y to be passed, but the target y is None. Pass the graded "
                "relevance of each row as fit(X, y, qid=...)."
            )
        if self.distribution is not None:
            raise ValueError(
                "Ranker does not support distribution yet (lists must not be split across "
                "replicas). Set distribution=None."
            )
        fitted = self._fit_lists(X, y, qid, sample_weight)
        drop_fitted(self)
        vars(self).update(fitted)
        return self

    def _queries(self, X, qid, *, query):
        """Query codes of the rows of X, from ``qid`` or from the query column."""
        if qid is not None and self.query_column is not None:
            raise ValueError(
                f"Both qid and query_column={self.query_column!r} were given; pass only one "
                "source of query ids (drop qid, or set query_column=None)."
            )
        if qid is None and self.query_column is None:
            raise ValueError(
                "Ranker needs query ids: pass qid= (one query id per row) or set "
                "query_column to the column of X that holds them. Without them, all rows "
                "would silently be one query."
            )
        if qid is not None:
            return query_codes(qid, _num_samples(X))
        return query.codes(X)

    def _fit_lists(self, X, y, qid, sample_weight):
        n_samples, y = _rows_of(X, y, "relevance value")
        params = {name: getattr(self, name) for name in _PREPROCESSOR_PARAMS}
        query = None
        if self.query_column is not None and qid is None:
            query = QueryColumn(self, X)
            params["categorical_features"] = query.categorical_features
            params["dense_features"] = query.dense_features
        codes = self._queries(X, qid, query=query)
        target = self._target()
        y_encoded = target.fit(y)
        features = X if query is None else query.features(X)
        preprocessor = RankingPreprocessor(**params).fit(features)
        dense, categorical = preprocessor.encode(features)
        weights = training_weights(sample_weight, n_samples, target, y_encoded)
        model, history, batch_size, list_size = fit_lists(
            self,
            preprocessor=preprocessor,
            target=target,
            arrays=(dense, categorical, y_encoded, weights),
            codes=codes,
            known_queries=query is not None and query.embedded,
            seed=fit_seed(self),
        )
        fitted = fitted_attributes(
            preprocessor=preprocessor,
            target=target,
            model=model,
            history=history,
            batch_size=batch_size,
            warm_up=(dense, categorical),
        )
        fitted["list_size_"] = list_size
        fitted["_query_"] = query
        if VALIDATION_KEY in history:
            fitted["best_validation_score_"] = max(history[VALIDATION_KEY])
        if query is not None and not query.embedded:  # X's columns, the query's included
            fitted["n_features_in_"] = query.n_features
            fitted.pop("feature_names_in_", None)
            names = _get_feature_names(X)
            if names is not None:
                fitted["feature_names_in_"] = names
        return fitted

    # --------------------------------------------------------------- predict
    def _encode(self, X):
        query = getattr(self, "_query_", None)
        if query is None or query.embedded:
            return super()._encode(X)
        if not self._check_predict_columns(X):
            _check_n_features(self, X, reset=False)
        return self.preprocessor_.encode(query.features(X))

    def predict(self, X):
        """Relevance score of each row: higher ranks first within a query.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Rows to score, with the columns seen at fit; no query ids are needed
            (the query column, if any, is read as a feature or ignored). Scores are
            comparable within a query; sort each query's rows by them.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return self._predict_raw(X).astype(np.float64).reshape(-1)

    def score(self, X, y, qid=None, sample_weight=None):
        """Mean NDCG@k over the queries of X with a relevant item (see :func:`ndcg_score`).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Rows to rank.
        y : array-like of shape (n_samples,)
            Their graded relevance.
        qid : array-like of shape (n_samples,), default=None
            Query ids; required unless ``query_column`` is set (not both).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights: a query weighs the mean weight of its rows.

        Returns
        -------
        score : float
            Mean NDCG@``k``, gain ``2**rel - 1``, log2 discount; queries without
            relevant items are left out.
        """
        check_is_fitted(self)
        codes = self._queries(X, qid, query=getattr(self, "_query_", None))
        return ndcg_score(y, self.predict(X), qid=codes, k=self.k, sample_weight=sample_weight)

    def export(self, path) -> dict:
        """Write the fitted ranker as a TensorFlow SavedModel; see :meth:`RankingRegressor.export`.

        The output ``"scores"`` holds the scores of :meth:`predict`. The signature
        takes the columns of ``preprocessor_``: the query column only when it is
        embedded.
        """
        return super().export(path)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
