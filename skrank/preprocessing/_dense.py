"""Scaling of one dense column: infinities, missing values, log1p, standardisation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from skrank._numeric import robust_mean_std

# "auto" log1p: a non-negative column whose maximum exceeds this many times
# max(99th percentile, 1) is heavy-tailed (counts, prices, dwell times...).
HEAVY_TAIL_RATIO = 10.0

MISSING_SUFFIX = "__missing"

_FLOAT32_MAX = float(np.finfo(np.float32).max)
_NUMBER_INFERRED = frozenset({"integer", "floating", "mixed-integer-float", "decimal", "empty"})


@dataclass(frozen=True)
class DenseScaling:
    """Fitted transformation of one dense column.

    Attributes
    ----------
    data_min, data_max : float
        Finite minimum and maximum at fit time; ``-inf`` / ``+inf`` are clipped to them.
    log : bool
        Whether ``sign(x) * log1p(|x|)`` is applied (after clipping).
    mean, scale : float
        Standardisation of the (log-transformed) values; missing values become 0.
    has_missing : bool
        Whether the column had missing values at fit time.
    """

    data_min: float
    data_max: float
    log: bool
    mean: float
    scale: float
    has_missing: bool


def as_float(column, name, *, fitted):
    """Return the column as a float64 ndarray (a view when possible) with NaN for missing.

    Raises a ValueError naming the column when it holds non-numeric values.
    """
    dtype = column.dtype
    kind = getattr(dtype, "kind", "O")
    if isinstance(column, np.ndarray) and kind in "iufb":
        return np.asarray(column, dtype=np.float64)
    if kind in "mM" or isinstance(dtype, pd.PeriodDtype):
        raise ValueError(
            f"Column {name!r} has dtype {dtype}, which cannot be a dense feature. "
            "Convert it to numbers first (e.g. X[col].dt.hour or elapsed seconds)."
        )
    if isinstance(dtype, pd.CategoricalDtype):
        if pd.api.types.is_numeric_dtype(dtype.categories.dtype):
            return np.asarray(column.astype(np.float64), dtype=np.float64)
    elif kind in "iufb":
        series = column if isinstance(column, pd.Series) else pd.Series(column, copy=False)
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = np.asarray(column, dtype=object)
        inferred = pd.api.types.infer_dtype(values, skipna=True)
        if inferred in _NUMBER_INFERRED or inferred == "boolean":
            return pd.to_numeric(pd.Series(values, copy=False), errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
    example = _first_non_number(column)
    if fitted:
        raise ValueError(
            f"Column {name!r} was numeric (dense) at fit time but now holds non-numeric "
            f"values such as {example!r} (dtype {dtype}). Convert it with "
            "pd.to_numeric(X[col], errors='coerce') so that non-numbers become missing, "
            "or refit with the column in categorical_features."
        )
    raise ValueError(
        f"Column {name!r} cannot be a dense feature: it holds non-numeric values such as "
        f"{example!r} (dtype {dtype}). List it in categorical_features instead, or "
        "convert it with pd.to_numeric."
    )


def _first_non_number(column):
    values = pd.Series(np.asarray(column, dtype=object), copy=False)
    numbers = pd.to_numeric(values, errors="coerce")
    bad = values[numbers.isna() & values.notna()]
    if not len(bad):  # numeric strings such as "1.5"
        bad = values[values.notna()]
    return bad.iloc[0] if len(bad) else None


def _finite_values(values):
    finite = np.isfinite(values)
    return values if finite.all() else values[finite]


def _signed_log1p(values):
    magnitude = np.log1p(np.abs(values))
    return np.copysign(magnitude, values, out=magnitude)


def _clip_infinities(values, data_min, data_max):
    """Copy of ``values`` with -inf -> data_min and +inf -> data_max (NaN kept)."""
    out = np.array(values, dtype=np.float64, copy=True)
    _clip_infinities_in_place(out, data_min, data_max)
    return out


def _clip_infinities_in_place(values, data_min, data_max):
    """-inf -> data_min and +inf -> data_max in ``values``; the bounds are scalars or
    arrays that broadcast against ``values`` (one per column)."""
    infinite = np.isinf(values)
    if infinite.any():
        # Both masks before writing: a negative data_max must not then pass for -inf.
        positive, negative = infinite & (values > 0), infinite & (values < 0)
        np.copyto(values, data_max, where=positive)
        np.copyto(values, data_min, where=negative)


def log_policies(log_transform, dense_features):
    """Map each dense column to the ``log_transform`` policy: True, False or "auto"."""
    if isinstance(log_transform, str):
        return dict.fromkeys(dense_features, log_transform)
    if isinstance(log_transform, bool | np.bool_):
        return dict.fromkeys(dense_features, bool(log_transform))
    listed = [str(name) for name in np.asarray(log_transform, dtype=object).ravel()]
    unknown = sorted(set(listed) - set(dense_features))
    if unknown:
        raise ValueError(
            f"log_transform lists {unknown}, which are not dense columns. "
            f"Dense columns: {dense_features}."
        )
    return {name: name in listed for name in dense_features}


def decide_log(finite, policy):
    """Whether to log-transform a column given its finite values and the policy.

    ``policy`` is True / False, or "auto": non-negative and
    ``max > HEAVY_TAIL_RATIO * max(quantile_0.99, 1)``.
    """
    if policy is not True and policy != "auto":
        return False
    if policy is True:
        return True
    if finite.size == 0 or finite.min() < 0:
        return False
    q99 = float(np.quantile(finite, 0.99))
    return bool(finite.max() > HEAVY_TAIL_RATIO * max(q99, 1.0))


def prepare(values, data_min, data_max, log):
    """Float64 copy of ``values`` with infinities clipped and the optional log applied."""
    transformed = _clip_infinities(values, data_min, data_max)
    if log:
        transformed = _signed_log1p(transformed)
    return transformed


def fit_dense(values, log_policy):
    """Fit the :class:`DenseScaling` of one float64 column.

    Returns
    -------
    scaling : DenseScaling
    transformed : ndarray
        ``prepare(values, ...)``, to be standardised by :func:`standardize_into`.
    missing : ndarray of bool
        Where ``values`` is NaN.
    """
    missing = np.isnan(values)
    finite = _finite_values(values)
    if finite.size:
        data_min, data_max = float(finite.min()), float(finite.max())
    else:
        data_min = data_max = 0.0
    log = decide_log(finite, log_policy)
    transformed = prepare(values, data_min, data_max, log)
    has_missing = bool(missing.any())
    present = transformed[~missing] if has_missing else transformed
    if present.size and present.min() == present.max():
        # Constant column: centre exactly, avoid dividing by a rounding error.
        mean, scale = float(present[0]), 1.0
    else:
        mean, std = robust_mean_std(present)
        largest = float(np.max(np.abs(present))) if present.size else 0.0
        scale = std if std > 16 * np.finfo(np.float64).eps * largest else 1.0
    scaling = DenseScaling(data_min, data_max, log, mean, scale, has_missing)
    return scaling, transformed, missing


def fit_dense_columns(columns, names, policies, *, missing_indicator, out=None, map_columns=map):
    """:func:`fit_dense` of each column; with ``out``, also write the dense outputs.

    ``out[:, j]`` gets the standardised column j, and the columns after the
    ``len(columns)`` first the missing indicators (when ``missing_indicator``) of the
    columns with missing values, in order. ``map_columns`` maps the per-column work
    (see ``_threads.column_map``).

    Returns
    -------
    scalings : list of DenseScaling
    """

    def fit_one(j, column, name):
        values = as_float(column, name, fitted=False)
        scaling, transformed, missing = fit_dense(values, policies[name])
        if out is None:
            return scaling, None
        standardize_into(transformed, missing, scaling, out[:, j])
        return scaling, missing if missing_indicator and scaling.has_missing else None

    fitted = list(map_columns(fit_one, range(len(names)), columns, names))
    if out is not None:
        _write_indicators([missing for _, missing in fitted], out[:, len(names) :])
    return [scaling for scaling, _ in fitted]


def encode_dense_columns(
    table, positions, names, scalings, out, missing_indicator, map_columns=map
):
    """Write the dense outputs of the columns of ``table`` at ``positions`` into ``out``.

    Column by column, as :func:`fit_dense_columns` writes them.
    """

    def encode_one(j, column, name, scaling):
        values = as_float(column, name, fitted=True)
        transformed = prepare(values, scaling.data_min, scaling.data_max, scaling.log)
        missing = np.isnan(values)
        standardize_into(transformed, missing, scaling, out[:, j])
        return missing if missing_indicator and scaling.has_missing else None

    # Columns taken here, in one thread: pandas' indexing is not documented thread-safe.
    columns = [table.column(pos) for pos in positions]
    indicators = map_columns(encode_one, range(len(names)), columns, names, scalings)
    _write_indicators(list(indicators), out[:, len(names) :])


def _write_indicators(missing_by_column, out):
    """Write the missing masks that are not None into the columns of ``out``, in order."""
    flagged = [missing for missing in missing_by_column if missing is not None]
    for k, missing in enumerate(flagged):
        out[:, k] = missing


def encode_dense_block(table, positions, names, scalings, out, missing_indicator, fitted_arrays):
    """:func:`encode_dense_columns` for a few rows: all columns in one block of numpy calls.

    ``fitted_arrays`` are the ``data_min``, ``data_max``, ``mean`` and ``scale`` of
    the scalings as arrays. Same outputs, bit for bit (see :func:`standardize_columns`).
    """
    if not names:
        return
    columns = []
    for name, pos in zip(names, positions, strict=True):
        values = table.array(pos)
        if not (isinstance(values, np.ndarray) and values.dtype.kind in "iufb"):
            # The Series path and its errors naming the column (strings, dates...).
            values = table.column(pos)
        columns.append(as_float(values, name, fitted=True))
    block = np.array(columns, dtype=np.float64)  # (n_dense, n_samples), a copy
    scalings = list(scalings)
    log = np.array([scaling.log for scaling in scalings], dtype=bool)
    data_min, data_max, mean, scale = fitted_arrays
    missing = standardize_columns(block, data_min, data_max, log, mean, scale)
    n_dense = len(names)
    out[:, :n_dense] = block.T
    if missing_indicator:
        flagged = [j for j, scaling in enumerate(scalings) if scaling.has_missing]
        if flagged:
            out[:, n_dense : n_dense + len(flagged)] = missing[flagged].T


def dense_attributes(names, scalings, missing_indicator):
    """The fitted dense attributes of the preprocessor, from one scaling per column."""
    scalings = list(scalings)
    indicators = [
        name for name, s in zip(names, scalings, strict=True) if missing_indicator and s.has_missing
    ]
    names_out = list(names) + [name + MISSING_SUFFIX for name in indicators]
    return {
        "dense_scalings_": dict(zip(names, scalings, strict=True)),
        "data_min_": np.array([s.data_min for s in scalings], dtype=np.float64),
        "data_max_": np.array([s.data_max for s in scalings], dtype=np.float64),
        "mean_": np.array([s.mean for s in scalings], dtype=np.float64),
        "scale_": np.array([s.scale for s in scalings], dtype=np.float64),
        "log_transformed_features_": [
            name for name, s in zip(names, scalings, strict=True) if s.log
        ],
        "missing_indicator_features_": indicators,
        "dense_feature_names_out_": names_out,
        "n_dense_out_": len(names_out),
    }


def standardize_into(transformed, missing, scaling, out):
    """Standardise ``transformed`` in place, then write it into ``out`` (float32 view).

    Missing values become 0 and the result is clipped to the finite float32 range.
    """
    _standardize_in_place(transformed, missing, scaling.mean, scaling.scale)
    out[...] = transformed


def _standardize_in_place(values, missing, mean, scale):
    """``(values - mean) / scale``, 0 where missing, clipped to the float32 range.

    ``mean`` and ``scale`` are scalars or arrays that broadcast against ``values``.
    """
    with np.errstate(over="ignore"):
        values -= mean
        values /= scale
    values[missing] = 0.0
    np.clip(values, -_FLOAT32_MAX, _FLOAT32_MAX, out=values)


def standardize_columns(values, data_min, data_max, log, mean, scale):
    """:func:`prepare`, then :func:`standardize_into`, of several columns at once.

    The per-column functions make about ten numpy calls per column, which dominates
    on a few rows; this makes the same operations on all columns in a fixed number of
    calls, with bit for bit the same results (elementwise IEEE operations, and
    ``log1p`` applied to contiguous arrays as in the per-column path, so that numpy
    picks the same SIMD loop).

    Parameters
    ----------
    values : ndarray of shape (n_columns, n_samples), dtype float64
        One row per column, C-contiguous; overwritten with the standardised values.
    data_min, data_max, mean, scale : ndarray of shape (n_columns,)
        The fitted :class:`DenseScaling` values of each column.
    log : ndarray of bool of shape (n_columns,)
        Which columns get ``sign(x) * log1p(|x|)``.

    Returns
    -------
    missing : ndarray of bool of shape (n_columns, n_samples)
        Where ``values`` was NaN.
    """
    missing = np.isnan(values)
    _clip_infinities_in_place(values, data_min[:, None], data_max[:, None])
    if log.any():
        rows = np.flatnonzero(log)
        values[rows] = _signed_log1p(values[rows])  # values[rows] is a contiguous copy
    _standardize_in_place(values, missing, mean[:, None], scale[:, None])
    return missing
