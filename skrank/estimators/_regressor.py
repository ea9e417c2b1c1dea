"""RankingRegressor: rating and other continuous-target prediction."""

import numpy as np
from sklearn.base import RegressorMixin

from skrank.estimators._base import _RankingBase
from skrank.estimators._targets import ValueTarget


class RankingRegressor(RegressorMixin, _RankingBase):
    """Deep ranking regressor for ratings (DLRM by default, DCN-v2 with ``interaction="cross"``).

    The same model as :class:`RankingClassifier` with a linear output trained on
    mean squared error. The target is standardized for training and mapped back
    at prediction, so ratings in 1..5 and prices in the millions train alike.

    Parameters
    ----------
    **params
        The parameters of :class:`RankingClassifier` except ``class_weight``:
        ``categorical_features``, ``dense_features``, ``min_frequency``,
        ``max_categories``, ``hash_buckets``, ``log_transform``,
        ``missing_indicator``, ``list_features``, ``embedding_dim``, ``bottom_stack``,
        ``top_stack``, ``interaction``, ``cross_layers``, ``cross_projection_dim``,
        ``activation``, ``numeric_embedding``, ``frequency_scale``, ``whiten_below``,
        ``embedding_l2``, ``id_dropout``, ``list_combiner``, ``dropout``, ``ensemble_size``,
        ``dtype_policy``,
        ``optimizer``, ``learning_rate``, ``embedding_optimizer``,
        ``embedding_learning_rate``, ``batch_size``, ``epochs``,
        ``early_stopping``, ``validation_fraction``, ``n_iter_no_change``,
        ``shuffle``, ``callbacks``, ``random_state``, ``verbose``,
        ``distribution`` and routed
        ``model__*`` / ``optimizer__*`` / ``fit__*`` / ``callbacks__*`` ones.

    Attributes
    ----------
    target_mean_, target_scale_ : float
        Standardization of the target learned at fit.
    preprocessor_ : RankingPreprocessor
        The fitted preprocessor.
    model_ : skrank.models.Ranking or skrank.models.Ensemble
        The trained Keras model (an Ensemble of ``ensemble_size_`` Ranking
        models when there are several).
    ensemble_size_ : int
        Number of models trained side by side (``ensemble_size`` resolved).
    dtype_policy_ : str
        The dtype policy the model computes in: ``dtype_policy`` with ``"auto"``
        resolved.
    history_ : dict of str to list of float
        Per-epoch training (and validation) loss, on the standardized target.
    n_iter_ : int
        Number of epochs run.
    best_validation_loss_ : float
        Smallest validation loss, that of the restored weights (only with early
        stopping); equal to ``min(history_["val_loss"])``.
    batch_size_ : int
        Batch size used.
    n_features_in_ : int
        Number of columns seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen during fit (when X had string column names).

    See Also
    --------
    RankingClassifier : The same model for click-through rate and classes.
    sklearn.ensemble.HistGradientBoostingRegressor : A strong tabular baseline.

    Examples
    --------
    >>> import pandas as pd
    >>> from skrank import RankingRegressor
    >>> X = pd.DataFrame({"movie": list("abcdabcdabcdabcd"), "year": range(16)})
    >>> y = [1.0, 2.0, 4.0, 5.0] * 4
    >>> reg = RankingRegressor(embedding_dim=4, bottom_stack=(8,), top_stack=(8,),
    ...                        epochs=5, random_state=0).fit(X, y)
    >>> reg.predict(X).shape
    (16,)
    """

    _target_kind = ValueTarget

    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch on one chunk of rows, as ``SGDRegressor.partial_fit``.

        The first call builds the model: it fits the preprocessor on its chunk,
        unless :meth:`fit_preprocessor` was called before, and standardizes the
        target with the mean and standard deviation of that first chunk (kept
        for later chunks). Each call runs one epoch over its chunk.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            One chunk of rows, with the columns of the first chunk.
        y : array-like of shape (n_samples,)
            Its target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; rescaled to mean 1 within the chunk.

        Returns
        -------
        self : RankingRegressor
            The updated estimator.
        """
        return self._partial_fit(X, y, None, sample_weight)

    def predict(self, X):
        """Predicted target of each row.

        Parameters
        ----------
        X : DataFrame, array-like of shape (n_samples, n_features) or FileSource
            Rows to predict; columns are matched by name when fitted on a DataFrame.
            A :mod:`skrank.data` source is streamed in record batches.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predictions on the scale of the training target.
        """
        raw = self._predict_raw(X).astype(np.float64).reshape(-1)
        return raw * self.target_scale_ + self.target_mean_
