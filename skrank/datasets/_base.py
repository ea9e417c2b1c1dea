"""Helpers shared by the synthetic generators and the real-data loaders."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state


def _generator(random_state) -> np.random.Generator:
    """Turn ``random_state`` into one :class:`numpy.random.Generator`.

    Accepts what scikit-learn accepts (None, an int, a ``RandomState``) plus a
    ``Generator``, which is used as is.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    return np.random.default_rng(seed)


def _check_int(name: str, value, *, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} of type {type(value).__name__}.")
    if value < low or (high is not None and value > high):
        upper = "" if high is None else f" and <= {high}"
        raise ValueError(f"{name} must be >= {low}{upper}, got {value!r}.")
    return int(value)


def _check_float(
    name: str, value, *, low: float, high: float, low_open: bool = False, high_open: bool = False
) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a float, got {value!r} of type {type(value).__name__}.")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high or np.isnan(value):
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        raise ValueError(f"{name} must be in {left}{low}, {high}{right}, got {value!r}.")
    return float(value)


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a bool, got {value!r}.")
    return bool(value)


def _to_object_array(columns: dict) -> np.ndarray:
    """Column-wise conversion to a 2-D object array, missing values as ``np.nan``."""
    values = list(columns.values())
    out = np.empty((len(values[0]), len(values)), dtype=object)
    for j, column in enumerate(values):
        if isinstance(column, pd.Series):
            na_value = np.nan if column.dtype.kind in "OT" else None
            column = column.to_numpy(dtype=object, na_value=na_value)
        out[:, j] = column
    return out


def _pack(
    data: pd.DataFrame | dict,
    target: pd.Series,
    *,
    as_frame: bool,
    return_X_y: bool,
    descr: str,
    **extra,
):
    """Return ``(X, y)`` or a :class:`~sklearn.utils.Bunch` in scikit-learn's layout.

    ``data`` is a DataFrame or a dict of 1-D columns; a dict of numpy arrays lets a
    caller skip building pandas columns that ``as_frame=False`` would throw away.
    """
    feature_names = list(data.keys())
    if as_frame:
        X, y = pd.DataFrame(data), target
        frame = pd.concat([X, target], axis=1) if not return_X_y else None
    else:
        columns = {name: data[name] for name in feature_names}
        X, y = _to_object_array(columns), target.to_numpy()
        frame = None
    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        frame=frame,
        feature_names=feature_names,
        target_names=[target.name],
        DESCR=descr,
        **extra,
    )
