"""RankingRegressor: rating and other continuous-target prediction."""

import keras  # noqa: E402  (imported quietly by _base)
import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import _check_y

from skrank.estimators._base import _RankingBase


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
        ``missing_indicator``, ``embedding_dim``, ``bottom_stack``, ``top_stack``,
        ``interaction``, ``cross_layers``, ``cross_projection_dim``,
        ``activation``, ``optimizer``, ``learning_rate``, ``embedding_optimizer``,
        ``embedding_learning_rate``, ``batch_size``, ``epochs``,
        ``early_stopping``, ``validation_fraction``, ``n_iter_no_change``,
        ``shuffle``, ``callbacks``, ``random_state``, ``verbose`` and routed
        ``model__*`` / ``optimizer__*`` / ``fit__*`` / ``callbacks__*`` ones.

    Attributes
    ----------
    target_mean_, target_scale_ : float
        Standardization of the target learned at fit.
    preprocessor_ : RankingPreprocessor
        The fitted preprocessor.
    model_ : skrank.models.Ranking
        The trained Keras model.
    history_ : dict of str to list of float
        Per-epoch training (and validation) loss, on the standardized target.
    n_iter_ : int
        Number of epochs run.
    batch_size_ : int
        Batch size used.
    n_features_in_ : int
        Number of columns seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
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

    def _encode_target(self, y):
        y = _check_y(y, y_numeric=True, estimator=self)
        if y.ndim != 1:
            raise ValueError(
                f"y must be 1-D (one value per row); got shape {y.shape}. "
                "RankingRegressor does not support multi-output targets."
            )
        y = y.astype(np.float64)
        mean = float(y.mean())
        scale = float(y.std())
        if not np.isfinite(scale) or scale == 0.0:
            scale = 1.0
        state = {"target_mean_": mean, "target_scale_": scale}
        return state, ((y - mean) / scale).astype(np.float32)

    def _output_spec(self, target_state):
        return 1, None, keras.losses.MeanSquaredError()

    def predict(self, X):
        """Predicted target of each row.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Rows to predict; columns are matched by name when fitted on a DataFrame.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predictions on the scale of the training target.
        """
        raw = self._predict_raw(X).astype(np.float64).reshape(-1)
        return raw * self.target_scale_ + self.target_mean_
