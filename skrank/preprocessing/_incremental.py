"""Running counts behind :meth:`RankingPreprocessor.partial_fit`, one per column.

After every batch the accumulators give the encoding (or scaling) an in-memory
``fit`` on all the rows so far gives: the same vocabularies in the same order,
the same hashing decisions, and the same dense scaling up to float rounding
(means and variances are merged batch by batch with Chan's formulas instead of
one numpy pass).

Memory does not grow with the number of rows:

- a categorical column keeps each distinct value with its count, as a Python
  object and as a string form, the string forms sorted (they break ties in the
  vocabulary order; kept sorted batch by batch, giving the vocabulary after a
  batch needs no string sort, only an integer one); a column that will be hashed
  stops counting as soon as it has more distinct values than the hashing
  threshold (string forms for a column of mixed types), so with ``hash_buckets``
  memory is bounded by the threshold;
- a dense column keeps a few running sums, and for the "auto" log rule only the
  ``TOP_K`` largest values and a uniform sample of ``TOP_K`` values.

The "auto" log rule compares the maximum with the 99th percentile. The
percentile is computed exactly from the ``TOP_K`` largest values whenever it lies
among them (up to about ``100 * TOP_K`` finite values per column), and also
whenever those values alone settle the decision; beyond that it is estimated from
the uniform sample, so on a column close to the threshold the decision can differ
from an in-memory fit.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from skrank._numeric import RunningMoments
from skrank.preprocessing._categorical import (
    CategoricalEncoding,
    _as_index,
    _factorize,
    _get_indexer,
    _needs_string_form,
    string_form,
)
from skrank.preprocessing._dense import HEAVY_TAIL_RATIO, DenseScaling, _signed_log1p

# Largest values (and sample size) kept per dense column for the "auto" log rule.
TOP_K = 65_536
_SAMPLE_SEED = 0


class DenseAccumulator:
    """Running state of one dense column; :meth:`scaling` gives its DenseScaling.

    Parameters
    ----------
    policy : bool or "auto"
        The column's ``log_transform`` policy.
    """

    def __init__(self, policy):
        self.policy = policy
        self.n_finite = self.n_missing = self.n_posinf = self.n_neginf = 0
        self.data_min, self.data_max = math.inf, -math.inf
        self.raw = RunningMoments() if policy is not True else None
        self.log = RunningMoments() if policy is not False else None
        self.top = np.empty(0)
        self.sample = np.empty(0)
        self.sample_keys = np.empty(0)
        self.rng = np.random.default_rng(_SAMPLE_SEED)

    def update(self, values):
        """Add the values (float64, NaN for missing) of one batch."""
        missing = np.isnan(values)
        self.n_missing += int(missing.sum())
        infinite = np.isinf(values)
        self.n_posinf += int((infinite & (values > 0)).sum())
        self.n_neginf += int((infinite & (values < 0)).sum())
        finite = values[~(missing | infinite)]
        if not finite.size:
            return
        self.n_finite += finite.size
        self.data_min = min(self.data_min, float(finite.min()))
        self.data_max = max(self.data_max, float(finite.max()))
        if self.raw is not None:
            self.raw.add_values(finite)
        if self.log is not None:
            self.log.add_values(_signed_log1p(finite))
        if self.policy == "auto":
            self._update_quantile_state(finite)

    def _update_quantile_state(self, finite):
        top = np.concatenate([self.top, finite])
        if top.size > TOP_K:
            top = np.partition(top, top.size - TOP_K)[top.size - TOP_K :]
        self.top = top
        sample = np.concatenate([self.sample, finite])
        keys = np.concatenate([self.sample_keys, self.rng.random(finite.size)])
        if sample.size > TOP_K:
            keep = np.argpartition(keys, TOP_K)[:TOP_K]
            sample, keys = sample[keep], keys[keep]
        self.sample, self.sample_keys = sample, keys

    def _q99_below(self, threshold):
        """Whether the 99th percentile of the finite values is below ``threshold``."""
        n = self.n_finite
        # numpy's "linear" quantile: between sorted positions floor(h) and floor(h) + 1.
        h = (n - 1) * 0.99
        low = int(math.floor(h))
        first_kept = n - self.top.size  # sorted position of the smallest kept value
        if low >= first_kept:
            i, j = low - first_kept, min(low + 1, n - 1) - first_kept
            top = np.partition(self.top, [i, j])
            a, b = top[i], top[j]
            q99 = a + (b - a) * (h - low)
            return q99 < threshold
        if self.top.min() < threshold:  # q99 <= the smallest kept value
            return True
        return float(np.quantile(self.sample, 0.99)) < threshold

    def _decide_log(self):
        if self.policy is not True and self.policy != "auto":
            return False
        if self.policy is True:
            return True
        if self.n_finite == 0 or self.data_min < 0:
            return False
        # max > RATIO * max(q99, 1)  <=>  max > RATIO and q99 < max / RATIO
        if not self.data_max > HEAVY_TAIL_RATIO:
            return False
        return bool(self._q99_below(self.data_max / HEAVY_TAIL_RATIO))

    def scaling(self):
        """The :class:`DenseScaling` of the values added so far."""
        if self.n_finite:
            data_min, data_max = self.data_min, self.data_max
        else:
            data_min = data_max = 0.0
        log = self._decide_log()
        moments = self.log if log else self.raw

        def transform(value):
            return float(_signed_log1p(np.array([value]))[0]) if log else value

        low, high = transform(data_min), transform(data_max)
        present = RunningMoments()
        present.add(moments.n, moments.mean, moments.m2)
        present.add(self.n_posinf, high, 0.0)  # +inf is clipped to data_max
        present.add(self.n_neginf, low, 0.0)
        if present.n and low == high:
            mean, scale = low, 1.0
        elif present.n == 0:
            mean, scale = 0.0, 1.0
        else:
            mean, std = present.mean, present.std
            largest = max(abs(low), abs(high))
            scale = std if std > 16 * np.finfo(np.float64).eps * largest else 1.0
        return DenseScaling(data_min, data_max, log, mean, scale, self.n_missing > 0)


class CategoricalAccumulator:
    """Running counts of one categorical column; :meth:`encoding` gives its encoding.

    Parameters
    ----------
    hash_buckets : int or None
        The preprocessor's ``hash_buckets``.
    hash_threshold : int or None
        Hash the column once it has more distinct values than this.

    Attributes
    ----------
    keys : pandas.Index or None
        Distinct values in order of first appearance; None once the column is hashed.
    values : ndarray of object or None
        The same values as Python objects (what ``categories_`` holds).
    counts : ndarray of int64 or None
        Rows of each of ``keys``.
    hashed : bool
        Whether the column is hashed (for good: distinct values only grow).
    """

    def __init__(self, hash_buckets, hash_threshold):
        self.hash_buckets = hash_buckets
        self.hash_threshold = hash_threshold
        self.keys = None
        self.values = np.empty(0, dtype=object)
        self.counts = np.empty(0, dtype=np.int64)
        self.hashed = False
        self.types = set()
        # The string forms of ``keys`` sorted, stably (ties by position in ``keys``),
        # and the position in ``keys`` of each.
        self.sorted_strings = np.empty(0, dtype=object)
        self.by_string = np.empty(0, dtype=np.intp)

    def update(self, column):
        """Count the values of one batch (a Series or a 1-D array)."""
        codes, uniques = _factorize(column)
        counts = np.bincount(codes.astype(np.intp) + 1, minlength=len(uniques) + 1)[1:]
        present = np.flatnonzero(counts)
        batch_keys = _as_index(uniques[present] if len(present) < len(uniques) else uniques)
        counts = counts[present]
        if pd.api.types.is_object_dtype(batch_keys.dtype) and len(batch_keys):
            self.types.add(pd.api.types.infer_dtype(batch_keys, skipna=True))
        if self.hashed:
            return
        if self.keys is None:
            self.keys = batch_keys[:0]
        if isinstance(self.keys.dtype, pd.StringDtype):
            # Matched as objects: the str objects of ``values`` keep their hashes from
            # batch to batch, where the Index would convert its strings every time.
            lookup = pd.Index(self.values, dtype=object)
            positions = _get_indexer(lookup, np.asarray(batch_keys, dtype=object))
        else:
            positions = _get_indexer(self.keys, batch_keys)
        seen = positions >= 0
        self.counts[positions[seen]] += counts[seen]
        if not seen.all():
            self._add_keys(batch_keys[~seen], counts[~seen])
        if (
            self.hash_buckets is not None
            and len(self.keys) > self.hash_threshold
            and self._n_distinct() > self.hash_threshold
        ):
            self.hashed, self.keys, self.values, self.counts = True, None, None, None
            self.sorted_strings = self.by_string = None

    def _add_keys(self, new_keys, counts):
        previous = self.keys
        self.keys = previous.append(new_keys) if len(previous) else new_keys
        self.counts = np.concatenate([self.counts, counts.astype(np.int64)])
        start = len(previous)
        if start and self.keys.dtype != previous.dtype:
            # A value's string form depends on the dtype it is held in (3.0 is "3" in
            # a float column, "3.0" among objects): start over in the new dtype.
            start = 0
            self.values = np.empty(0, dtype=object)
            self.sorted_strings = np.empty(0, dtype=object)
            self.by_string = np.empty(0, dtype=np.intp)
        added = self.keys[start:]
        values = np.asarray(added, dtype=object)
        self.values = np.concatenate([self.values, values])
        # Merging the sorted new string forms costs O(n_keys) per batch, where sorting
        # all of them again after every batch would cost O(n_keys log n_keys) string
        # comparisons.
        as_objects = added.dtype == object or isinstance(added.dtype, pd.StringDtype)
        strings = string_form(values if as_objects else added)
        order = np.argsort(strings, kind="stable")
        strings = strings[order]
        at = np.searchsorted(self.sorted_strings, strings, side="right")
        self.sorted_strings = np.insert(self.sorted_strings, at, strings)
        self.by_string = np.insert(self.by_string, at, start + order)

    def _n_distinct(self):
        """Number of distinct values, as the vocabulary counts them."""
        if not _needs_string_form(self.keys):
            return len(self.keys)
        # Values of several types: 1 and "1" are one value, so count string forms.
        strings = self.sorted_strings
        return int(np.count_nonzero(strings[1:] != strings[:-1])) + (len(strings) > 0)

    def encoding(self, min_count, max_categories):
        """The :class:`CategoricalEncoding` of the values counted so far, and its values.

        Parameters
        ----------
        min_count : float
            Values seen fewer than ``min_count`` times are unknown.
        max_categories : int or None
            Keep at most this many known values (the most frequent).

        Returns
        -------
        encoding : CategoricalEncoding
        categories : ndarray of object or None
            ``np.asarray(encoding.vocabulary, dtype=object)``, without converting the
            vocabulary again; None for a hashed column.
        """
        if self.hashed:
            as_string = len(self.types) > 1 or bool(self.types - {"string"})
            return CategoricalEncoding(None, int(self.hash_buckets), as_string), None
        as_string = _needs_string_form(self.keys)
        if as_string:
            # One value per string form, in sorted order (equal strings are adjacent).
            codes, strings = pd.factorize(self.sorted_strings)
            keys = values = np.asarray(strings, dtype=object)
            counts = np.bincount(
                codes, weights=self.counts[self.by_string], minlength=len(values)
            ).astype(np.int64)
            kept = np.flatnonzero(counts >= max(min_count, 1))
        else:
            keys, values, counts = self.keys, self.values, self.counts
            kept = self.by_string[counts[self.by_string] >= max(min_count, 1)]
        if self.hash_buckets is not None and len(values) > self.hash_threshold:
            return CategoricalEncoding(None, int(self.hash_buckets), as_string), None
        # ``kept`` is in string order: a stable sort by decreasing count breaks ties by it.
        kept = kept[np.argsort(-counts[kept], kind="stable")]
        if max_categories is not None:
            kept = kept[:max_categories]
        return CategoricalEncoding(_as_index(keys[kept]), None, as_string), values[kept]


class RunningFit:
    """The running state of a preprocessor fitted batch by batch: one accumulator per column.

    Parameters
    ----------
    n_categorical : int
        Number of categorical columns.
    log_policies : list of (bool or "auto")
        The ``log_transform`` policy of each dense column.
    hash_buckets, max_categories : int or None
        The preprocessor's parameters.
    """

    def __init__(self, n_categorical, log_policies, *, hash_buckets, max_categories):
        threshold = max_categories if max_categories is not None else hash_buckets
        self.n_samples = 0
        self.categorical = [
            CategoricalAccumulator(hash_buckets, threshold) for _ in range(n_categorical)
        ]
        self.dense = [DenseAccumulator(policy) for policy in log_policies]
        # Id columns of each categorical column: its longest list so far (1 for single ids).
        self.widths = [1] * n_categorical

    def update(self, n_samples, categorical_columns, dense_values):
        """Add one batch: its categorical columns and its dense columns as float64."""
        self.n_samples += n_samples
        for accumulator, column in zip(self.categorical, categorical_columns, strict=True):
            accumulator.update(column)
        for accumulator, values in zip(self.dense, dense_values, strict=True):
            accumulator.update(values)

    def encodings(self, min_count, max_categories):
        """The :class:`CategoricalEncoding` of each categorical column, and its values.

        Returns
        -------
        encodings : list of CategoricalEncoding
        categories : list of (ndarray of object or None)
            The vocabulary of each as Python objects (None when hashed).
        """
        pairs = [column.encoding(min_count, max_categories) for column in self.categorical]
        return [encoding for encoding, _ in pairs], [categories for _, categories in pairs]

    def scalings(self):
        """The :class:`DenseScaling` of each dense column."""
        return [accumulator.scaling() for accumulator in self.dense]
