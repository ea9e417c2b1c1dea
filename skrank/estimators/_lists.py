"""Rows grouped into lists for listwise training: layout per epoch, tf.data batches, splits.

A query of ``n`` rows becomes ``ceil(n / list_size)`` lists of near-equal size,
each padded to ``list_size`` rows (padding: label -1, weight 0). With shuffling,
every epoch deals a query's rows into its lists at random and shuffles the lists,
seeded by ``(seed, epoch)``; each row is in exactly one list per epoch.

The rows are first put in a canonical order (by query, then by their encoded
features, relevance and weight), so the lists, and hence the fitted model, do not
depend on the order in which the rows were given.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from skrank._tf import import_tensorflow
from skrank.estimators._data import model_inputs

tf = import_tensorflow()

# Candidate list sizes of list_size="auto", and the share of padded rows it accepts.
# On MovieLens per-user ranking, lists of 16 ranked better than 32, 64 or 128 (and
# train faster: less padding).
AUTO_LIST_SIZES = (2, 4, 8, 16)
AUTO_MAX_PADDING = 0.25


def n_lists(sizes, list_size) -> int:
    return int(np.sum(-(-np.asarray(sizes) // list_size)))


def resolve_list_size(list_size, sizes) -> int:
    """``list_size`` with "auto" resolved for queries of ``sizes`` rows.

    "auto": the largest of :data:`AUTO_LIST_SIZES` whose lists are at most
    :data:`AUTO_MAX_PADDING` padding, never above the largest query.
    """
    if list_size != "auto":
        return int(list_size)
    n_rows, largest = int(np.sum(sizes)), int(np.max(sizes))
    best = AUTO_LIST_SIZES[0]
    for candidate in AUTO_LIST_SIZES:
        padding = 1.0 - n_rows / (n_lists(sizes, candidate) * candidate)
        if padding <= AUTO_MAX_PADDING:
            best = candidate
        if candidate >= largest:
            break
    return min(best, max(largest, 1))


def canonical_order(codes, dense, categorical, y, weights) -> np.ndarray:
    """Row indices sorted by query, then by content: the same for any row order."""
    keys = [weights, y, *np.asarray(dense).T[::-1], *np.asarray(categorical).T[::-1], codes]
    return np.lexsort(keys)


def query_split(codes, fraction, seed):
    """Training and validation rows, whole queries on either side (``fraction`` of them)."""
    n_queries = int(codes.max()) + 1
    n_val = min(max(1, int(round(fraction * n_queries))), n_queries - 1)
    held_out = np.random.default_rng([seed, 1]).choice(n_queries, n_val, replace=False)
    is_val = np.isin(codes, held_out)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def within_query_split(codes, fraction, seed):
    """Training and validation rows, some rows of some queries held out.

    ``codes`` must be sorted. Queries are drawn at random until about ``fraction``
    of the rows are held out; a drawn query of ``n`` rows gives
    ``max(2, round(fraction * n))`` of them (a list to rank) and keeps at least
    half. Queries of fewer than 4 rows stay whole in training.
    """
    sizes = np.bincount(codes)
    rng = np.random.default_rng([seed, 2])
    n_val = np.maximum(2, np.rint(fraction * sizes)).astype(np.intp)
    n_val[sizes < 4] = 0
    n_val = np.minimum(n_val, sizes // 2)
    drawn = rng.permutation(len(sizes))
    budget = fraction * len(codes)
    taken = np.cumsum(n_val[drawn]) <= max(budget, n_val[drawn][0])
    per_query = np.zeros(len(sizes), np.intp)
    per_query[drawn[taken]] = n_val[drawn[taken]]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    shuffled = np.lexsort((rng.random(len(codes)), codes))
    rank = np.empty(len(codes), np.intp)
    rank[shuffled] = np.arange(len(codes)) - starts[codes[shuffled]]
    is_val = rank < per_query[codes]
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


class ListLayout:
    """Rows (``rows``, sorted by query code ``codes``) dealt into lists of ``list_size``."""

    def __init__(self, rows, codes, list_size):
        self.rows = np.asarray(rows)
        self.codes = np.unique(codes, return_inverse=True)[1]  # 0..n_queries-1, sorted
        self.list_size = list_size
        sizes = np.bincount(self.codes)
        self.starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self.lists_per_query = -(-sizes // list_size)
        self.first_list = np.concatenate([[0], np.cumsum(self.lists_per_query)[:-1]])
        self.n_lists = int(self.lists_per_query.sum())

    def lists(self, rng=None) -> np.ndarray:
        """``(n_lists, list_size)`` row indices, -1 for padding; shuffled with ``rng``."""
        rows, codes = self.rows, self.codes
        if rng is not None:
            rows = rows[np.lexsort((rng.random(len(rows)), codes))]
        rank = np.arange(len(rows)) - self.starts[codes]
        k = self.lists_per_query[codes]
        # Round robin: a query's lists differ in size by at most one row.
        out = np.full((self.n_lists, self.list_size), -1, dtype=np.int64)
        out[self.first_list[codes] + rank % k, rank // k] = rows
        if rng is not None:
            out = out[rng.permutation(self.n_lists)]
        return out


def list_dataset(arrays, names, layout, *, lists_per_batch, shuffle, seed):
    """tf.data batches of ``lists_per_batch`` lists, flattened to rows for the model.

    ``arrays`` are the encoded ``(dense, categorical, y, weights)`` of every row;
    padded positions get an all-zero row, label -1 and weight 0.
    """
    dense, categorical, y, weights = arrays
    pad = len(y)
    dense_t = tf.constant(np.concatenate([dense, np.zeros((1, dense.shape[1]))]).astype(np.float32))
    categorical_t = tf.constant(
        np.concatenate([categorical, np.zeros((1, categorical.shape[1]))]).astype(np.int32)
    )
    y_t = tf.constant(np.append(y, -1.0).astype(np.float32))
    w_t = tf.constant(np.append(weights, 0.0).astype(np.float32))
    epochs = itertools.count()

    def epoch_batches():
        rng = np.random.default_rng([seed, next(epochs)]) if shuffle else None
        lists = layout.lists(rng)
        lists[lists < 0] = pad
        for start in range(0, len(lists), lists_per_batch):
            yield lists[start : start + lists_per_batch]

    def gather(idx):
        flat = tf.reshape(idx, [-1])
        x = model_inputs(tf.gather(dense_t, flat), tf.gather(categorical_t, flat), list(names))
        return x, tf.gather(y_t, flat), tf.gather(w_t, flat)

    spec = tf.TensorSpec((None, layout.list_size), tf.int64)
    steps = math.ceil(layout.n_lists / lists_per_batch)
    return (
        tf.data.Dataset.from_generator(epoch_batches, output_signature=spec)
        .apply(tf.data.experimental.assert_cardinality(steps))
        .map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )
