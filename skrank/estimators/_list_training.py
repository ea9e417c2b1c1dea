"""Training on lists: the Ranker's way through the one training path.

The model, optimizer, fit loop and divergence check are those of
:mod:`._training`; what changes is the data (batches of whole lists, see
:mod:`._lists`) and early stopping, which holds out whole queries (or rows of
each query) and stops on their NDCG@k (the Ranker's score) instead of the
validation loss, then by default retrains on every row for the best number of
epochs.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from skrank._tf import import_tensorflow

tf = import_tensorflow()

import keras  # noqa: E402

from skrank.estimators._lists import (  # noqa: E402
    ListLayout,
    canonical_order,
    list_dataset,
    query_split,
    resolve_list_size,
    within_query_split,
)
from skrank.estimators._training import (  # noqa: E402
    build_model,
    check_converged,
    forward_of,
    resolve_schedule,
    train,
    uses_early_stopping,
)
from skrank.metrics._ranking import ndcg_score  # noqa: E402

VALIDATION_KEY = "val_ndcg"


class HeldOutNDCG(keras.callbacks.Callback):
    """Put the NDCG@k of held-out queries in the epoch's logs, as ``val_ndcg``."""

    def __init__(self, forward, dense, categorical, y, codes, k):
        super().__init__()
        self.forward = forward
        self.dense, self.categorical = dense, categorical
        self.y, self.codes, self.k = y, codes, k

    def on_epoch_end(self, epoch, logs=None):
        scores = self.forward(self.dense, self.categorical).astype(np.float64).reshape(-1)
        if not np.isfinite(scores).all():
            value = -math.inf  # divergence: never the best epoch
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # held-out queries without relevant items
                value = ndcg_score(self.y, scores, qid=self.codes, k=self.k)
        if logs is not None:
            logs[VALIDATION_KEY] = value


def validation_rows(estimator, codes, order, *, known_queries, seed):
    """Training and validation rows (in canonical order); no validation rows: None.

    Validation mimics prediction: when the query is a feature of the model (a
    user, say, whose other items are ranked later), some rows of every query are
    held out; otherwise whole queries are.
    """
    if not uses_early_stopping(estimator, len(codes)):
        return order, None
    fraction = estimator.validation_fraction
    if known_queries:
        train_idx, val_idx = within_query_split(codes[order], fraction, seed)
    elif int(codes.max()) >= 1:
        train_idx, val_idx = query_split(codes[order], fraction, seed)
    else:
        return order, None
    if not len(val_idx):
        return order, None
    return order[train_idx], order[val_idx]


def fit_lists(estimator, *, preprocessor, target, arrays, codes, known_queries, seed):
    """Model, history, batch size (rows) and list size of a Ranker fit on encoded arrays.

    ``arrays`` are the encoded ``(dense, categorical, y, weights)`` of every row,
    ``codes`` their query codes; ``known_queries``: the query is a model feature.

    With early stopping and ``estimator.refit``, the held-out rows only choose the
    number of epochs: a fresh model (same seed) is then trained on every row for
    that many epochs, the best epoch of the held-out run (early stopping to
    choose the training length, then retraining on all the data: Goodfellow,
    Bengio and Courville, *Deep Learning*, algorithm 7.2). In the history,
    ``"loss"`` is that of the returned model; ``"val_ndcg"`` and
    ``"early_stopping_loss"`` are the held-out run's.
    """
    dense, categorical, y, weights = arrays
    order = canonical_order(codes, dense, categorical, y, weights)
    train_rows, val_rows = validation_rows(
        estimator, codes, order, known_queries=known_queries, seed=seed
    )
    sizes = np.bincount(codes[train_rows])
    list_size = resolve_list_size(estimator.list_size, sizes[sizes > 0])
    target.list_size = list_size
    layout = ListLayout(train_rows, codes[train_rows], list_size)
    batch_rows, epochs = resolve_schedule(
        estimator, layout.n_lists * list_size, early_stopping=val_rows is not None
    )
    lists_per_batch = max(1, batch_rows // list_size)
    lists = _ListTraining(estimator, preprocessor, target, arrays, codes, lists_per_batch, seed)
    refit = val_rows is not None and estimator.refit
    model, history = lists.train(layout, epochs=epochs, val_rows=val_rows, keep_best=not refit)
    if refit:
        best_epochs = int(np.argmax(history[VALIDATION_KEY])) + 1
        every_row = ListLayout(order, codes[order], list_size)
        model, final = lists.train(every_row, epochs=best_epochs)
        history = {
            "loss": final["loss"],
            VALIDATION_KEY: history[VALIDATION_KEY],
            "early_stopping_loss": history["loss"],
        }
    return model, history, lists_per_batch * list_size, list_size


class _ListTraining:
    """Trains a fresh model on the lists of a layout: the one recipe of a Ranker fit."""

    def __init__(self, estimator, preprocessor, target, arrays, codes, lists_per_batch, seed):
        self.estimator, self.preprocessor, self.target = estimator, preprocessor, target
        self.arrays, self.codes = arrays, codes
        self.lists_per_batch, self.seed = lists_per_batch, seed

    def train(self, layout, *, epochs, val_rows=None, keep_best=True):
        """Model and history; with ``val_rows``, early stopping on their NDCG@k.

        ``keep_best``: restore the weights of the best epoch when stopping early.
        """
        estimator, preprocessor = self.estimator, self.preprocessor
        # No n_train: frequency_scale="auto" stays at its value for 20,000 rows (0.3).
        # Grown with the rows as the pointwise estimators do (0.46 on MovieLens' 72,000
        # training rows), it did not rank better there (NDCG@10 -0.0008, better in 3 of
        # 9 paired fits, 3 splits x 3 seeds).
        model = build_model(
            estimator,
            preprocessor=preprocessor,
            target=self.target,
            seed=self.seed,
            steps_per_epoch=math.ceil(layout.n_lists / self.lists_per_batch),
            dense_train=self.arrays[0],
            dense_rows=None
            if val_rows is None
            else np.setdiff1d(np.arange(len(self.arrays[0])), val_rows),
        )
        dense, categorical, y, _ = self.arrays
        callbacks = []
        if val_rows is not None:
            callbacks = [
                HeldOutNDCG(
                    forward_of(model, preprocessor),
                    dense[val_rows],
                    categorical[val_rows],
                    y[val_rows],
                    self.codes[val_rows],
                    estimator.k,
                ),
                keras.callbacks.EarlyStopping(
                    monitor=VALIDATION_KEY,
                    mode="max",
                    patience=estimator.n_iter_no_change,
                    restore_best_weights=keep_best,
                ),
            ]
        data = list_dataset(
            self.arrays,
            list(preprocessor.categorical_features_),
            layout,
            lists_per_batch=self.lists_per_batch,
            shuffle=estimator.shuffle,
            seed=self.seed,
        )
        history = train(estimator, model, data, None, epochs=epochs, extra_callbacks=callbacks)
        check_converged(estimator, history, model)
        return model, history
