"""Fit a RankingPreprocessor in one pass over record batches, in bounded memory.

The result has the attributes an in-memory ``fit`` on the concatenated batches
gives: the same column split, the same vocabularies in the same order, the same
hashing decisions, and the same dense scaling up to float rounding (means and
variances are merged batch by batch with Chan's formulas instead of one numpy
pass).

Memory does not grow with the number of rows:

- categorical columns keep one count per distinct value (a column that will be
  hashed stops counting as soon as it has more distinct values than the hashing
  threshold, string forms for a column of mixed types, so with ``hash_buckets``
  memory is bounded by the threshold);
- dense columns keep a few running sums, the ``TOP_K`` largest values and a
  uniform sample of ``TOP_K`` values (for the "auto" log rule only).

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

from skrank.preprocessing import RankingPreprocessor
from skrank.preprocessing._categorical import (
    CategoricalEncoding,
    _as_index,
    _factorize,
    _get_indexer,
    _needs_string_form,
    string_form,
)
from skrank.preprocessing._columns import check_table
from skrank.preprocessing._dense import (
    HEAVY_TAIL_RATIO,
    DenseScaling,
    _signed_log1p,
    as_float,
    log_policies,
)

# Largest values (and sample size) kept per dense column for the "auto" log rule.
TOP_K = 65_536
_SAMPLE_SEED = 0


class _Moments:
    """Count, mean and sum of squared deviations, merged batch by batch (Chan et al.)."""

    def __init__(self):
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, n, mean, m2):
        if n == 0:
            return
        total = self.n + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.n * n / total
        self.n = total

    def add_values(self, values):
        if values.size:
            mean = float(values.mean())
            self.add(values.size, mean, float(np.square(values - mean).sum()))


class _DenseAccumulator:
    def __init__(self, policy):
        self.policy = policy
        self.n_finite = self.n_missing = self.n_posinf = self.n_neginf = 0
        self.data_min, self.data_max = math.inf, -math.inf
        self.raw = _Moments() if policy is not True else None
        self.log = _Moments() if policy is not False else None
        self.top = np.empty(0)
        self.sample = np.empty(0)
        self.sample_keys = np.empty(0)
        self.rng = np.random.default_rng(_SAMPLE_SEED)

    def update(self, values):
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
            top = np.sort(self.top)
            a = top[low - first_kept]
            b = top[min(low + 1, n - 1) - first_kept]
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

    def finalize(self):
        if self.n_finite:
            data_min, data_max = self.data_min, self.data_max
        else:
            data_min = data_max = 0.0
        log = self._decide_log()
        moments = self.log if log else self.raw

        def transform(value):
            return float(_signed_log1p(np.array([value]))[0]) if log else value

        low, high = transform(data_min), transform(data_max)
        present = _Moments()
        present.add(moments.n, moments.mean, moments.m2)
        present.add(self.n_posinf, high, 0.0)  # +inf is clipped to data_max
        present.add(self.n_neginf, low, 0.0)
        if present.n and low == high:
            mean, scale = low, 1.0
        elif present.n == 0:
            mean, scale = 0.0, 1.0
        else:
            mean = present.mean
            std = math.sqrt(max(present.m2, 0.0) / present.n)
            largest = max(abs(low), abs(high))
            scale = std if std > 16 * np.finfo(np.float64).eps * largest else 1.0
        return DenseScaling(data_min, data_max, log, mean, scale, self.n_missing > 0)


class _CategoricalAccumulator:
    def __init__(self, hash_buckets, hash_threshold):
        self.hash_buckets = hash_buckets
        self.hash_threshold = hash_threshold
        self.keys = None
        self.counts = np.empty(0, dtype=np.int64)
        self.hashed = False
        self.types = set()
        self._next_check = 0

    def update(self, column):
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
            self.keys, self.counts = batch_keys, counts.astype(np.int64)
        else:
            positions = _get_indexer(self.keys, batch_keys)
            seen = positions >= 0
            self.counts[positions[seen]] += counts[seen]
            if not seen.all():
                self.keys = self.keys.append(batch_keys[~seen])
                self.counts = np.concatenate([self.counts, counts[~seen]])
        if (
            self.hash_buckets is not None
            and len(self.keys) > self.hash_threshold
            and self._distinct_beyond_threshold()
        ):
            self.hashed, self.keys, self.counts = True, None, None

    def _distinct_beyond_threshold(self):
        """Whether the column has more distinct values than the threshold, for good."""
        if not _needs_string_form(self.keys):
            return True
        # Values of several types: 1 and "1" are one value, so count string forms
        # (again only once the keys have doubled, to keep updates linear).
        if len(self.keys) < self._next_check:
            return False
        self._next_check = 2 * len(self.keys)
        return len(pd.unique(string_form(self.keys))) > self.hash_threshold

    def finalize(self, min_count, max_categories):
        if self.hashed:
            as_string = len(self.types) > 1 or bool(self.types - {"string"})
            return CategoricalEncoding(None, int(self.hash_buckets), as_string)
        uniques = self.keys if self.keys is not None else pd.Index([], dtype=object)
        counts = self.counts
        as_string = _needs_string_form(uniques)
        if as_string:
            codes, uniques = pd.factorize(string_form(uniques))
            uniques = np.asarray(uniques, dtype=object)
            counts = np.bincount(codes, weights=counts, minlength=len(uniques)).astype(np.int64)
        if self.hash_buckets is not None and len(uniques) > self.hash_threshold:
            return CategoricalEncoding(None, int(self.hash_buckets), as_string)
        kept = np.flatnonzero(counts >= max(min_count, 1))
        kept = kept[np.argsort(string_form(uniques[kept]), kind="stable")]
        kept = kept[np.argsort(-counts[kept], kind="stable")]
        if max_categories is not None:
            kept = kept[:max_categories]
        return CategoricalEncoding(_as_index(uniques[kept]), None, as_string)


class PreprocessorFitter:
    """Fit an unfitted :class:`~skrank.preprocessing.RankingPreprocessor` batch by batch.

    Call :meth:`update` with every batch (DataFrames with the same columns), then
    :meth:`finalize`, which returns the fitted preprocessor.

    Parameters
    ----------
    preprocessor : RankingPreprocessor
        Its parameters are used; it is fitted in place by :meth:`finalize`.
    """

    def __init__(self, preprocessor: RankingPreprocessor) -> None:
        preprocessor._validate_params()
        self.preprocessor = preprocessor
        self.n_samples = 0
        self._categorical = self._dense = None
        self._names = None

    def update(self, X) -> None:
        """Count one batch."""
        prep = self.preprocessor
        if self._categorical is None:
            table = prep._fit_columns(X)
            self._names = table.names
            threshold = prep.max_categories if prep.max_categories is not None else None
            threshold = threshold if threshold is not None else prep.hash_buckets
            self._categorical = [
                _CategoricalAccumulator(prep.hash_buckets, threshold)
                for _ in prep.categorical_features_
            ]
            policy = log_policies(prep.log_transform, prep.dense_features_)
            self._dense = [_DenseAccumulator(policy[name]) for name in prep.dense_features_]
        else:
            table = check_table(X, type(prep).__name__)
            if table.names != self._names:
                raise ValueError(
                    f"A batch has the columns {table.names[:10]}, but the first batch had "
                    f"{self._names[:10]}: every batch must have the same columns."
                )
        self.n_samples += table.shape[0]
        for accumulator, pos in zip(self._categorical, prep._categorical_positions, strict=True):
            accumulator.update(table.column(pos))
        for accumulator, name, pos in zip(
            self._dense, prep.dense_features_, prep._dense_positions, strict=True
        ):
            accumulator.update(as_float(table.column(pos), name, fitted=False))

    def finalize(self) -> RankingPreprocessor:
        """Set the fitted attributes of the preprocessor and return it."""
        if self._categorical is None:
            raise ValueError("No rows were read: the source is empty.")
        prep = self.preprocessor
        min_count = prep._min_count(self.n_samples)
        prep._set_categorical_attributes(
            [
                accumulator.finalize(min_count, prep.max_categories)
                for accumulator in self._categorical
            ]
        )
        prep._dense_scalings = [accumulator.finalize() for accumulator in self._dense]
        prep._set_dense_attributes()
        return prep


def fit_preprocessor(preprocessor: RankingPreprocessor, batches) -> RankingPreprocessor:
    """Fit ``preprocessor`` in one pass over an iterable of DataFrames (record batches).

    Parameters
    ----------
    preprocessor : RankingPreprocessor
        An unfitted preprocessor; it is fitted in place.
    batches : iterable of DataFrame
        The table in consecutive pieces, e.g. ``X for X, _ in source.iter_batches()``.

    Returns
    -------
    preprocessor : RankingPreprocessor
        The fitted preprocessor, with the attributes of ``preprocessor.fit`` on the
        concatenated batches (see the module docstring for the one approximation).

    Examples
    --------
    >>> import pandas as pd
    >>> from skrank.data import fit_preprocessor
    >>> from skrank.preprocessing import RankingPreprocessor
    >>> X = pd.DataFrame({"site": list("aabbbc"), "n": [1.0, 2, 3, 4, 5, 6]})
    >>> prep = fit_preprocessor(RankingPreprocessor(), [X[:4], X[4:]])
    >>> prep.categories_["site"].tolist(), float(prep.mean_[0])
    (['b', 'a', 'c'], 3.5)
    """
    fitter = PreprocessorFitter(preprocessor)
    for batch in batches:
        fitter.update(batch)
    return fitter.finalize()
