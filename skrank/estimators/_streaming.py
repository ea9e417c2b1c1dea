"""Fitting from files in record batches, incremental ``partial_fit``, streamed predictions.

``fit(source)`` with a :class:`skrank.data.ParquetSource` / :class:`~skrank.data.CSVSource`
makes one pass over the files to fit the preprocessor and the target encoding
(:class:`skrank.data.PreprocessorFitter`), then trains on a ``tf.data`` pipeline
that reads, encodes and re-batches record batches as it goes (with prefetch):
memory holds a few record batches, never the table. Nothing kept during a fit
grows with the number of rows: with early stopping, the validation rows (a
seeded draw of ``validation_fraction`` of each record batch) are not held out
in memory but read again from the files at each epoch, by a second pipeline.

With ``shuffle=False`` the gradient steps see exactly the batches of an
in-memory fit on the same rows (consecutive rows, the last batch short), so the
model equals the in-memory one. With ``shuffle=True`` the files are read in a new
order each epoch and the rows of each record batch are permuted: ``batch_rows``
is the shuffle window.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_y

from skrank._tf import import_tensorflow
from skrank.data import PreprocessorFitter
from skrank.data._fitting import _Moments
from skrank.data._sources import is_file_source
from skrank.estimators._data import CompiledForward, model_inputs, training_dataset
from skrank.estimators._distributed import build_model, train

tf = import_tensorflow()

# Training batches read ahead of the model.
_PREFETCH_BATCHES = 8
# Rows at or above which "auto" early stopping is on (as for in-memory fits).
_AUTO_EARLY_STOPPING_ROWS = 10_000


# ----------------------------------------------------------------- targets
class _ClassTarget:
    """Classes and their counts over the stream; encodes labels as the in-memory fit."""

    def __init__(self, estimator):
        self.estimator = estimator
        self.classes = None
        self.counts = None

    def update(self, y):
        classes, counts = np.unique(np.asarray(y), return_counts=True)
        if self.classes is None:
            self.classes, self.counts = classes, counts
            return
        merged = np.union1d(self.classes, classes)
        total = np.zeros(len(merged), np.int64)
        total[np.searchsorted(merged, self.classes)] += self.counts
        total[np.searchsorted(merged, classes)] += counts
        self.classes, self.counts = merged, total

    def finalize(self):
        check_classification_targets(self.classes)
        if len(self.classes) < 2:
            raise ValueError(
                f"RankingClassifier needs samples of at least 2 classes in y; got 1 class "
                f"({self.classes[0]!r}). A single-class target has nothing to learn."
            )
        return {"classes_": self.classes}

    def class_weights(self):
        """Weight of each class (``class_weight``), normalized to mean 1 over the rows."""
        class_weight = self.estimator.class_weight
        if class_weight is None:
            return None
        n = self.counts.sum()
        if class_weight == "balanced":
            weights = n / (len(self.classes) * self.counts)
        else:
            weights = np.array([class_weight.get(c, 1.0) for c in self.classes], np.float64)
        return weights * n / (weights * self.counts).sum()

    def encode(self, y, state):
        classes = state["classes_"]
        y = np.asarray(y)
        codes = np.searchsorted(classes, y)
        codes = np.minimum(codes, len(classes) - 1)
        unknown = classes[codes] != y
        if unknown.any():
            raise ValueError(
                f"y holds labels {np.unique(y[unknown])[:5].tolist()} that are not in "
                f"classes {classes.tolist()}."
            )
        dtype = np.float32 if len(classes) == 2 else np.int32
        return codes.astype(dtype)


class _ValueTarget:
    """Mean and standard deviation of a continuous target over the stream."""

    def __init__(self, estimator):
        self.estimator = estimator
        self.moments = _Moments()

    def update(self, y):
        y = _check_y(y, y_numeric=True, estimator=self.estimator).astype(np.float64)
        if not np.isfinite(y).all():
            raise ValueError(
                "y contains missing or infinite values. Drop those rows or fill in their "
                "targets before fitting."
            )
        self.moments.add_values(y)

    def finalize(self):
        mean = float(self.moments.mean)
        scale = math.sqrt(max(self.moments.m2, 0.0) / max(self.moments.n, 1))
        if not math.isfinite(scale) or scale == 0.0:
            scale = 1.0
        return {"target_mean_": mean, "target_scale_": scale}

    def class_weights(self):
        return None

    def encode(self, y, state):
        y = np.asarray(y, dtype=np.float64)
        return ((y - state["target_mean_"]) / state["target_scale_"]).astype(np.float32)


def _target(estimator):
    return (_ClassTarget if is_classifier(estimator) else _ValueTarget)(estimator)


# --------------------------------------------------------------- fit(source)
def _holdout(seed, batch_index, n_rows, fraction):
    """Validation rows of one record batch: a seeded draw, independent of other batches."""
    return np.random.default_rng([seed, batch_index]).random(n_rows) < fraction


def fit_source(estimator, source, y, sample_weight):
    """The fitted attributes of ``estimator.fit(source)``; see the module docstring."""
    if y is not None:
        raise ValueError(
            f"fit({type(source).__name__}) takes no y: the target is the source's "
            f"{source.target!r} column. Call fit(source)."
        )
    if source.target is None:
        raise ValueError(
            f"The {type(source).__name__} has no target column: create it with "
            "target='<column>' to fit on it."
        )
    if sample_weight is not None:
        raise ValueError(
            "sample_weight is not supported with a file source; use class_weight, or "
            "fit on an in-memory table."
        )
    seed = estimator._fit_seed()
    fraction = estimator.validation_fraction if estimator.early_stopping is not False else None
    fitter = PreprocessorFitter(estimator._preprocessor())
    target = _target(estimator)
    n_holdout = 0  # validation rows, counted here; they are read again at each epoch
    for i, (X_batch, y_batch) in enumerate(source.iter_batches()):
        fitter.update(X_batch)
        target.update(y_batch)
        if fraction is not None:
            n_holdout += int(_holdout(seed, i, len(X_batch), fraction).sum())
    preprocessor = fitter.finalize()
    target_state = target.finalize()
    n_samples = fitter.n_samples

    early_stopping = estimator.early_stopping
    if early_stopping == "auto":
        early_stopping = n_samples > _AUTO_EARLY_STOPPING_ROWS
    if not early_stopping or n_samples < 2:
        fraction = None
    n_val = 0 if fraction is None else n_holdout
    if n_val in (0, n_samples):
        fraction, n_val = None, 0
    n_train = n_samples - n_val
    batch_size, epochs = estimator._resolve_schedule(n_train)
    steps = math.ceil(n_train / batch_size)

    encoder = _BatchEncoder(preprocessor, target, target_state)
    train_data = encoder.dataset(
        source,
        batch_size=batch_size,
        n_rows=n_train,
        shuffle=estimator.shuffle,
        seed=seed,
        keep=None if fraction is None else (lambda i, n: ~_holdout(seed, i, n, fraction)),
    )
    val_data = None
    if fraction is not None:
        val_data = encoder.dataset(
            source,
            batch_size=batch_size,
            n_rows=n_val,
            shuffle=False,
            seed=seed,
            keep=lambda i, n: _holdout(seed, i, n, fraction),
        )
    model = build_model(
        estimator,
        preprocessor=preprocessor,
        target_state=target_state,
        seed=seed,
        steps_per_epoch=steps,
    )
    history = train(estimator, model, train_data, val_data, epochs=epochs)
    estimator._check_converged(history, model)
    names = list(preprocessor.categorical_features_)
    fitted = {
        "preprocessor_": preprocessor,
        "n_features_in_": preprocessor.n_features_in_,
        **target_state,
        "_forward": CompiledForward(model, preprocessor.n_dense_out_, names),
        "model_": model,
        "history_": history,
        "n_iter_": len(history.get("loss", [])),
        "batch_size_": batch_size,
    }
    if hasattr(preprocessor, "feature_names_in_"):
        fitted["feature_names_in_"] = preprocessor.feature_names_in_
    if "val_loss" in history:
        fitted["best_validation_loss_"] = min(history["val_loss"])
    return fitted


class _BatchEncoder:
    """Record batches -> encoded, re-batched training batches, as a tf.data pipeline."""

    def __init__(self, preprocessor, target, target_state):
        self.preprocessor = preprocessor
        self.target = target
        self.target_state = target_state
        self.class_weights = target.class_weights()

    def _encoded(self, source, *, shuffle, seed, epoch, keep):
        files = None
        if shuffle:
            files = np.random.default_rng([seed, epoch]).permutation(len(source.files))
        for i, (X, y) in enumerate(source.iter_batches(file_order=files)):
            dense, categorical = self.preprocessor.encode(X)
            y = self.target.encode(y, self.target_state)
            if self.class_weights is None:
                weights = np.ones(len(y), np.float32)
            else:
                weights = self.class_weights[y.astype(np.intp)].astype(np.float32)
            rows = None
            if keep is not None:
                rows = np.flatnonzero(keep(i, len(y)))
            if shuffle:
                order = np.random.default_rng([seed, epoch, i]).permutation(len(y))
                rows = order if rows is None else order[np.isin(order, rows)]
            if rows is not None:
                dense, categorical = dense[rows], categorical[rows]
                y, weights = y[rows], weights[rows]
            yield dense, categorical, y, weights

    def dataset(self, source, *, batch_size, n_rows, shuffle, seed, keep):
        """Batches of ``batch_size`` consecutive encoded rows (the last one short)."""
        epochs = itertools.count()
        names = list(self.preprocessor.categorical_features_)

        def batches():
            pending, n_pending = [], 0
            parts = self._encoded(source, shuffle=shuffle, seed=seed, epoch=next(epochs), keep=keep)
            for part in itertools.chain(parts, [None]):
                if part is not None:
                    pending.append(part)
                    n_pending += len(part[2])
                    if n_pending < batch_size:
                        continue
                if not pending:
                    break
                arrays = [np.concatenate(column) for column in zip(*pending, strict=True)]
                end = len(arrays[2]) if part is None else len(arrays[2]) // batch_size * batch_size
                for start in range(0, end, batch_size):
                    yield tuple(a[start : start + batch_size] for a in arrays)
                pending = [tuple(a[end:] for a in arrays)] if end < len(arrays[2]) else []
                n_pending = len(arrays[2]) - end

        y_dtype = tf.as_dtype(self.target.encode(np.empty(0), self.target_state).dtype)
        signature = (
            tf.TensorSpec((None, self.preprocessor.n_dense_out_), tf.float32),
            tf.TensorSpec((None, len(names)), tf.int32),
            tf.TensorSpec((None,), y_dtype),
            tf.TensorSpec((None,), tf.float32),
        )

        def arrange(dense, categorical, y, weights):
            return model_inputs(dense, categorical, names), y, weights

        data = tf.data.Dataset.from_generator(batches, output_signature=signature)
        data = data.map(arrange).apply(
            tf.data.experimental.assert_cardinality(math.ceil(n_rows / batch_size))
        )
        # A fixed buffer: AUTOTUNE may grow it up to half the RAM over a long epoch.
        return data.prefetch(_PREFETCH_BATCHES)


# --------------------------------------------------------------- predict
def predict_source(estimator, source):
    """Raw model outputs for every row of ``source``, one record batch at a time."""
    parts = [
        estimator._forward(*estimator._encode(X)) for X, _ in source.iter_batches(with_target=False)
    ]
    return np.concatenate(parts)


# ----------------------------------------------------------- incremental
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
            fitter = PreprocessorFitter(preprocessor)
            for X_batch, _ in X.iter_batches(with_target=False):
                fitter.update(X_batch)
            preprocessor = fitter.finalize()
        else:
            preprocessor.fit(X)
        for key in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
            delattr(self, key)
        vars(self).pop("_forward", None)
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
        if first:
            target_state, y_encoded = self._first_partial_target(y, classes)
        else:
            target_state = self._fitted_target_state()
            if classes is not None and not np.array_equal(np.unique(classes), self.classes_):
                raise ValueError(
                    f"classes={np.unique(classes).tolist()} differs from the classes of the "
                    f"first partial_fit call, {self.classes_.tolist()}."
                )
            y_encoded = self._partial_target(y, target_state)
        if len(y_encoded) != n_samples:
            raise ValueError(
                f"X and y have different numbers of rows: X has {n_samples}, y has "
                f"{len(y_encoded)}. Pass one target value per row of X."
            )
        weights = self._validate_sample_weight(sample_weight, n_samples)
        class_weights = self._target_sample_weight(y)
        if class_weights is not None:
            weights = weights * class_weights
            weights *= n_samples / weights.sum()

        if first:
            seed = self._fit_seed()
            batch_size, _ = self._resolve_schedule(n_samples)
            model = build_model(
                self,
                preprocessor=self.preprocessor_,
                target_state=target_state,
                seed=seed,
                steps_per_epoch=math.ceil(n_samples / batch_size),
            )
            vars(self).update(target_state)
            self._partial_seed_ = seed  # trailing _: fit() discards it
            self.batch_size_ = batch_size
            self.history_ = {"loss": []}
            self.n_iter_ = 0
        else:
            model = self.model_
            if "_partial_seed_" not in vars(self):  # continuing after fit()
                self._partial_seed_ = self._fit_seed()
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
        self._check_converged(history, model)
        self.history_["loss"].extend(history["loss"])
        self.n_iter_ += 1
        if first:
            self.model_ = model
            self._forward = CompiledForward(
                model, self.preprocessor_.n_dense_out_, self.preprocessor_.categorical_features_
            )
        return self

    def _first_partial_target(self, y, classes):
        if is_classifier(self):
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit: the labels "
                    "of every class, including those absent from this chunk."
                )
            classes = np.unique(np.asarray(classes))
            state = _ClassTarget(self)
            state.update(classes)
            target_state = state.finalize()
            return target_state, self._partial_target(y, target_state)
        # The target's standardization comes from the first chunk and stays fixed.
        return self._encode_target(y)

    def _fitted_target_state(self):
        if is_classifier(self):
            return {"classes_": self.classes_}
        return {"target_mean_": self.target_mean_, "target_scale_": self.target_scale_}

    def _partial_target(self, y, target_state):
        if is_classifier(self):
            return _ClassTarget(self).encode(np.asarray(y).ravel(), target_state)
        _ValueTarget(self).update(y)  # validates y
        return _ValueTarget(self).encode(np.asarray(y).ravel(), target_state)
