"""``fit_preprocessor`` and ``partial_fit``: training one chunk of rows at a time."""

from __future__ import annotations

import math

from skrank.data._sources import is_file_source
from skrank.estimators._data import training_dataset
from skrank.estimators._training import (
    build_model,
    check_converged,
    ensemble_size,
    fit_seed,
    forward_of,
    resolve_schedule,
    train,
    training_weights,
)


def drop_fitted(estimator):
    """Remove every fitted attribute (and the compiled forward pass)."""
    for key in [k for k in vars(estimator) if k.endswith("_") and not k.startswith("__")]:
        delattr(estimator, key)
    vars(estimator).pop("_forward", None)


class IncrementalMixin:
    """``fit_preprocessor`` and ``partial_fit`` for the skrank estimators."""

    def __sklearn_is_fitted__(self):
        return "model_" in vars(self)

    def fit_preprocessor(self, X):
        """Fit only the preprocessor, to be used by the following ``partial_fit`` calls.

        Without it, the first :meth:`partial_fit` fits the preprocessor on its
        chunk, so categories absent from that chunk stay "unknown" for good. To
        build the vocabularies and the dense scaling from more data (a sample, or
        every file in one streaming pass), call this first. It discards any
        previous fit.

        Parameters
        ----------
        X : DataFrame, array-like or skrank.data.FileSource
            The table, or files streamed in record batches (the target column,
            if any, is ignored).

        Returns
        -------
        self : estimator
            With ``preprocessor_``, ``n_features_in_`` (and ``feature_names_in_``)
            set; not fitted yet.
        """
        self._check_params()
        preprocessor = self._preprocessor()
        if is_file_source(X):
            for X_batch, _ in X.iter_batches(with_target=False):
                preprocessor.partial_fit(X_batch)
        else:
            preprocessor.fit(X)
        drop_fitted(self)
        self.preprocessor_ = preprocessor
        self.n_features_in_ = preprocessor.n_features_in_
        if hasattr(preprocessor, "feature_names_in_"):
            self.feature_names_in_ = preprocessor.feature_names_in_
        return self

    def _partial_fit(self, X, y, classes, sample_weight):
        first = "model_" not in vars(self)
        if first:
            self._check_params()
            if "preprocessor_" not in vars(self):
                self.fit_preprocessor(X)
        # Not self._encode: the estimator counts as fitted only once it has a model.
        dense, categorical = self.preprocessor_.encode(X)
        n_samples = len(dense)
        target = self._target()
        if first:
            y_encoded = target.start_partial(y, classes)
        else:
            target.restore()
            if classes is not None:
                target.check_classes(classes)
            y_encoded = target.encode(y)
        if len(y_encoded) != n_samples:
            raise ValueError(
                f"X and y have different numbers of rows: X has {n_samples}, y has "
                f"{len(y_encoded)}. Pass one target value per row of X."
            )
        weights = training_weights(sample_weight, n_samples, target, y_encoded)

        if first:
            seed = fit_seed(self)
            batch_size, _ = resolve_schedule(self, n_samples, early_stopping=False)
            model = build_model(
                self,
                preprocessor=self.preprocessor_,
                target=target,
                seed=seed,
                steps_per_epoch=math.ceil(n_samples / batch_size),
                n_train=n_samples,
                # The table's size is not known up front: "auto" is one model.
                members=ensemble_size(self, None),
                # The first batch stands for the table: its low-variance directions.
                dense_train=dense,
            )
            vars(self).update(target.state)
            self._partial_seed_ = seed  # trailing _: fit() discards it
            self.batch_size_ = batch_size
            self.history_ = {"loss": []}
            self.n_iter_ = 0
        else:
            model = self.model_
            if "_partial_seed_" not in vars(self):  # continuing after fit()
                self._partial_seed_ = fit_seed(self)
        data = training_dataset(
            dense,
            categorical,
            list(self.preprocessor_.categorical_features_),
            y_encoded,
            weights,
            batch_size=self.batch_size_,
            shuffle=self.shuffle,
            seed=self._partial_seed_ + self.n_iter_,
        )
        history = train(self, model, data, None, epochs=1)
        check_converged(self, history, model)
        self.history_["loss"].extend(history["loss"])
        self.n_iter_ += 1
        if first:
            self.model_ = model
            self._forward = forward_of(model, self.preprocessor_)
        return self
