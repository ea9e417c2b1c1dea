"""Input validation and the categorical / dense column split of :class:`RankingPreprocessor`."""

from __future__ import annotations

from collections import Counter
from numbers import Integral

import numpy as np
import pandas as pd
from pandas.api import types as pdt
from scipy import sparse
from sklearn.utils.validation import _check_n_features, validate_data

from skrank.preprocessing._lists import holds_lists

CATEGORICAL = "categorical"
DENSE = "dense"
LIST = "list"  # multi-valued categorical: a list of tokens per row

# ``pandas.api.types.infer_dtype`` results that make an object column "all numbers".
_NUMBER_INFERRED = frozenset({"integer", "floating", "mixed-integer-float", "decimal"})


class Table:
    """A validated 2-D input: column names plus positional access to 1-D columns.

    Parameters
    ----------
    data : pandas.DataFrame or numpy.ndarray
        The 2-D data, never copied.
    names : list of str
        One name per column: the DataFrame's own names when they are all strings,
        else ``"x0", "x1", ...``.
    from_numpy : bool
        Whether ``data`` is a numpy array (or was converted to one from a list).
    string_names : bool, default=False
        Whether ``names`` are the DataFrame's own column names (all strings).
    """

    def __init__(self, data, names, from_numpy, string_names=False):
        self.data = data
        self.names = names
        self.from_numpy = from_numpy
        self.string_names = string_names

    @property
    def shape(self):
        return self.data.shape

    def column(self, position):
        """Return the column at ``position`` as a pandas Series or a 1-D ndarray."""
        if self.from_numpy:
            return self.data[:, position]
        return self.data.iloc[:, position]

    def array(self, position):
        """Return the values of the column at ``position``: an ndarray or an ExtensionArray.

        A read-only view for small inputs: about 50 times cheaper than :meth:`column`
        on a DataFrame, which builds a Series (~20 µs) per column.
        """
        if self.from_numpy:
            return self.data[:, position]
        get_column_array = getattr(self.data, "_get_column_array", None)
        if get_column_array is not None:  # private pandas API, hence the fallback
            return get_column_array(position)
        column = self.data.iloc[:, position]
        if pdt.is_extension_array_dtype(column.dtype):
            return column.array
        return column.to_numpy()


def _reshape_error(X, what):
    return ValueError(
        f"Expected 2D array, got {what} instead:\narray={X}.\n"
        "Reshape your data either using array.reshape(-1, 1) if "
        "your data has a single feature or array.reshape(1, -1) "
        "if it contains a single sample."
    )


def check_table(X, estimator_name):
    """Validate ``X`` without copying it and wrap it in a :class:`Table`.

    DataFrames are kept as they are; lists and other array-likes go through numpy
    (object dtype when they hold strings, so that numbers stay numbers).
    """
    if isinstance(X, pd.DataFrame):
        # DataFrames first: the checks of other inputs cannot fail on them, yet would
        # cost more than the rest on a one-row frame (DataFrame.__getattr__ for "dtype").
        data, from_numpy = X, False
        dtypes = X.dtypes
        if any(isinstance(dtype, pd.SparseDtype) for dtype in dtypes):
            raise TypeError(
                f"Sparse columns were passed to {estimator_name}, but dense data is "
                "required. Use X.sparse.to_dense() to densify them."
            )
        if any(getattr(dtype, "kind", "O") == "c" for dtype in dtypes):
            raise ValueError("Complex data not supported")
    else:
        if sparse.issparse(X) or isinstance(getattr(X, "dtype", None), pd.SparseDtype):
            raise TypeError(
                f"Sparse data was passed to {estimator_name}, but dense data is required. "
                "Use X.toarray() to convert a sparse matrix to a dense numpy array."
            )
        if isinstance(X, pd.Series):
            raise ValueError(
                "Expected 2D array, got 1D pandas Series instead. Reshape your data, "
                "e.g. with series.to_frame() if it is a single feature."
            )
        data, from_numpy = _as_2d_numpy(X), True
    n_samples, n_features = data.shape
    if n_samples == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={data.shape}) while a minimum of 1 "
            f"is required by {estimator_name}."
        )
    if n_features == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={data.shape}) while a minimum of 1 "
            f"is required by {estimator_name}."
        )
    names, string_names = _column_names(data)
    return Table(data, names, from_numpy, string_names)


def _as_2d_numpy(X):
    array = X if isinstance(X, np.ndarray) else np.asarray(X)
    if array.dtype.kind in "US" and not isinstance(X, np.ndarray):
        # A list mixing numbers and strings: keep the numbers as numbers.
        array = np.asarray(X, dtype=object)
    if array.ndim == 0:
        raise _reshape_error(array, "scalar array")
    if array.ndim == 1:
        raise _reshape_error(array, "1D array")
    if array.ndim > 2:
        raise ValueError(f"Found array with dim {array.ndim}, while dim <= 2 is required.")
    if array.dtype.kind == "c":
        raise ValueError(f"Complex data not supported\n{array}\n")
    if array.dtype.kind == "V":
        raise TypeError(f"Structured numpy arrays are not supported, got dtype {array.dtype}.")
    return array


def _column_names(data):
    """Return ``(names, string_names)``: see :class:`Table`."""
    if isinstance(data, pd.DataFrame):
        columns = data.columns.tolist()  # 4 times cheaper than list(columns)
        if columns and all(isinstance(name, str) for name in columns):
            if len(set(columns)) < len(columns):
                duplicated = sorted(name for name, count in Counter(columns).items() if count > 1)
                raise ValueError(
                    f"Duplicate column names are not supported, got {duplicated}. "
                    "Rename the columns so that each name is unique."
                )
            return columns, True
    return [f"x{i}" for i in range(data.shape[1])], False


def has_string_names(X):
    """Whether ``X`` is a DataFrame whose column names are all strings."""
    return (
        isinstance(X, pd.DataFrame)
        and X.shape[1] > 0
        and all(isinstance(name, str) for name in X.columns)
    )


def _reject_temporal(name, dtype):
    raise ValueError(
        f"Column {name!r} has dtype {dtype}: datetime and timedelta columns are not "
        "encoded automatically. Convert it to numbers first (e.g. "
        "X[col].dt.dayofweek, X[col].dt.hour, or elapsed seconds with "
        "(X[col] - reference).dt.total_seconds()), or list it in "
        "categorical_features to treat each timestamp as a category."
    )


def infer_kind(name, column, from_numpy):
    """Return ``(kind, reason)`` for one column under the "auto" rule."""
    dtype = column.dtype
    kind = getattr(dtype, "kind", "O")
    if holds_lists(column):
        return LIST, f"{'lists' if kind == 'O' else dtype} in the cells"
    if isinstance(dtype, pd.CategoricalDtype):
        return CATEGORICAL, "dtype category"
    if pdt.is_bool_dtype(dtype):
        return CATEGORICAL, f"dtype {dtype}"
    if kind in "mM" or isinstance(dtype, pd.PeriodDtype):
        _reject_temporal(name, dtype)
    if kind in "iuf" and pdt.is_numeric_dtype(dtype):
        return DENSE, f"dtype {dtype}"
    if from_numpy and pdt.is_object_dtype(dtype):
        inferred = pd.api.types.infer_dtype(column, skipna=True)
        if inferred in _NUMBER_INFERRED:
            return DENSE, f"object column of numbers ({inferred})"
        return CATEGORICAL, f"object column of {inferred} values"
    return CATEGORICAL, f"dtype {dtype}"


def _resolve_selection(selection, names, parameter):
    """Turn a user list of names or integer positions into a list of column names."""
    values = list(np.asarray(selection, dtype=object).ravel()) if len(selection) else []
    resolved = []
    for value in values:
        if isinstance(value, Integral) and not isinstance(value, bool):
            position = int(value)
            if not -len(names) <= position < len(names):
                raise ValueError(
                    f"{parameter} contains the index {position}, but X has only "
                    f"{len(names)} columns."
                )
            resolved.append(names[position])
        elif isinstance(value, str):
            if value not in names:
                raise ValueError(
                    f"{parameter} contains the column {value!r}, which is not in X. "
                    f"Known columns: {names[:10]}{' ...' if len(names) > 10 else ''}."
                )
            resolved.append(value)
        else:
            raise ValueError(
                f"{parameter} must contain column names (str) or integer indices, "
                f"got {value!r} of type {type(value).__name__}."
            )
    duplicated = sorted(name for name, count in Counter(resolved).items() if count > 1)
    if duplicated:
        raise ValueError(f"{parameter} lists the columns {duplicated} more than once.")
    return resolved


def split_columns(table, categorical_features, dense_features, list_features=None):
    """Decide the kind of every column.

    Returns
    -------
    kinds : dict
        Column name -> "categorical", "list" or "dense", in column order.
    reasons : dict
        Column name -> a short explanation of the decision.
    """
    names = table.names
    forced = {}
    for name in resolve_list_features(list_features, names):
        forced[name] = (LIST, "listed in list_features")
    for parameter, selection, kind in (
        ("categorical_features", categorical_features, CATEGORICAL),
        ("dense_features", dense_features, DENSE),
    ):
        if isinstance(selection, str):  # "auto"
            continue
        for name in _resolve_selection(selection, names, parameter):
            if name in forced:
                other = "list_features" if forced[name][0] == LIST else "categorical_features"
                if other == "list_features" and kind == CATEGORICAL:
                    continue  # a list column is categorical: no conflict
                raise ValueError(
                    f"Column {name!r} is listed in both {other} and {parameter}; list it "
                    "in only one of them."
                )
            forced[name] = (kind, f"listed in {parameter}")

    both_explicit = not isinstance(categorical_features, str) and not isinstance(
        dense_features, str
    )
    if both_explicit:
        unlisted = [name for name in names if name not in forced]
        if unlisted:
            raise ValueError(
                f"Columns {unlisted} are listed in neither categorical_features nor "
                "dense_features. Add them to one of the lists (or set one of the two "
                "parameters to 'auto'), or drop them from X."
            )

    kinds, reasons = {}, {}
    for position, name in enumerate(names):
        if name in forced:
            kind, reason = forced[name]
            if kind != LIST and holds_lists(table.column(position)):
                if kind == DENSE:
                    raise ValueError(
                        f"Column {name!r} is listed in dense_features but holds lists: "
                        "list columns are multi-valued categorical. Remove it from "
                        "dense_features, or aggregate its lists into numbers first."
                    )
                kind, reason = LIST, f"{reason}, lists in the cells"
        else:
            kind, reason = infer_kind(name, table.column(position), table.from_numpy)
        kinds[name] = kind
        reasons[name] = reason
    return kinds, reasons


def resolve_list_features(list_features, names):
    """``list_features`` as ``{column name: separator or None}``, checked against ``names``."""
    if not list_features:
        return {}
    resolved = {}
    for key, separator in list_features.items():
        (name,) = _resolve_selection([key], names, "list_features")
        if separator is not None and not (isinstance(separator, str) and separator):
            raise ValueError(
                f"list_features maps column {name!r} to {separator!r}: give a non-empty "
                "string separator (e.g. '|'), or None for a column that holds lists."
            )
        if name in resolved:
            raise ValueError(f"list_features lists the column {name!r} more than once.")
        resolved[name] = separator
    return resolved


def match_fitted_columns(estimator, table):
    """Check ``table`` against what ``estimator`` saw at fit time.

    Returns the table and, for each fit-time column, its position in ``table``.
    DataFrame columns are matched by name when they are the fitted ones in another
    order; any other difference raises scikit-learn's feature-name error (naming the
    missing and unexpected columns) or its feature-count error.
    """
    fitted_names = getattr(estimator, "feature_names_in_", None)
    if fitted_names is not None and table.string_names:
        names, fitted = table.names, fitted_names.tolist()
        if names == fitted:
            # The usual case, checked first: ~50 times cheaper than comparing sets and
            # calling Index.get_indexer, which dominate on a few rows.
            _check_n_features(estimator, table.data, reset=False)
            return table, np.arange(len(names), dtype=np.intp)
        if len(names) == len(fitted) and set(names) == set(fitted):
            _check_n_features(estimator, table.data, reset=False)
            position = {name: i for i, name in enumerate(names)}  # names are unique
            return table, np.array([position[name] for name in fitted], dtype=np.intp)
    validate_data(estimator, table.data, skip_check_array=True, reset=False)
    return table, np.arange(estimator.n_features_in_)


def match_batch_columns(estimator, table):
    """:func:`match_fitted_columns` for a later batch of ``partial_fit``.

    The error says that the batch's columns differ from the first batch's, and names
    those (besides the missing and unexpected columns).
    """
    try:
        return match_fitted_columns(estimator, table)
    except ValueError as error:
        names = list(estimator.column_kinds_)
        raise ValueError(
            "partial_fit got a batch whose columns differ from those of the first batch "
            f"({len(names)} columns: {names[:10]}{' ...' if len(names) > 10 else ''}); "
            f"every batch must have the same columns. {error}"
        ) from error
