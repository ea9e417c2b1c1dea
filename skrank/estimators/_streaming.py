"""Fitting from files in record batches, and streamed predictions.

``fit(source)`` with a :class:`skrank.data.ParquetSource` / :class:`~skrank.data.CSVSource`
makes one pass over the files to fit the preprocessor
(:meth:`RankingPreprocessor.partial_fit <skrank.RankingPreprocessor.partial_fit>`)
and the target, then trains on a ``tf.data`` pipeline
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

from skrank._tf import import_tensorflow
from skrank.estimators._data import model_inputs
from skrank.estimators._training import (
    build_model,
    check_converged,
    fit_seed,
    fitted_attributes,
    resolve_schedule,
    train,
    uses_early_stopping,
)

tf = import_tensorflow()

# Training batches read ahead of the model.
_PREFETCH_BATCHES = 8


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
    seed = fit_seed(estimator)
    fraction = estimator.validation_fraction if estimator.early_stopping is not False else None
    preprocessor = estimator._preprocessor()
    target = estimator._target()
    n_holdout = 0  # validation rows, counted here; they are read again at each epoch
    for i, (X_batch, y_batch) in enumerate(source.iter_batches()):
        preprocessor.partial_fit(X_batch)
        target.update(y_batch)
        if fraction is not None:
            n_holdout += int(_holdout(seed, i, len(X_batch), fraction).sum())
    if not hasattr(preprocessor, "n_samples_seen_"):
        raise ValueError(f"The {type(source).__name__} holds no rows: nothing to fit.")
    target.finalize()
    n_samples = preprocessor.n_samples_seen_

    if not uses_early_stopping(estimator, n_samples):
        fraction = None
    n_val = 0 if fraction is None else n_holdout
    if n_val in (0, n_samples):
        fraction, n_val = None, 0
    n_train = n_samples - n_val
    batch_size, epochs = resolve_schedule(estimator, n_train, early_stopping=fraction is not None)
    steps = math.ceil(n_train / batch_size)

    encoder = _BatchEncoder(preprocessor, target)
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
        target=target,
        seed=seed,
        steps_per_epoch=steps,
        n_train=n_train,
    )
    history = train(estimator, model, train_data, val_data, epochs=epochs)
    check_converged(estimator, history, model)
    return fitted_attributes(
        preprocessor=preprocessor,
        target=target,
        model=model,
        history=history,
        batch_size=batch_size,
    )


class _BatchEncoder:
    """Record batches -> encoded, re-batched training batches, as a tf.data pipeline."""

    def __init__(self, preprocessor, target):
        self.preprocessor = preprocessor
        self.target = target
        self.class_weights = target.class_weights()
        if self.class_weights is not None:  # normalized to mean 1 over the rows
            counts = target.counts
            self.class_weights = (
                self.class_weights * counts.sum() / (self.class_weights * counts).sum()
            )

    def _encoded(self, source, *, shuffle, seed, epoch, keep):
        files = None
        if shuffle:
            files = np.random.default_rng([seed, epoch]).permutation(len(source.files))
        for i, (X, y) in enumerate(source.iter_batches(file_order=files)):
            dense, categorical = self.preprocessor.encode(X)
            y = self.target.encode(y)
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

        y_dtype = tf.as_dtype(self.target.encode(np.empty(0)).dtype)
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
