"""Multi-valued categorical columns: a list of tokens per row, as padded ids.

A list column (``["Action", "Comedy"]`` per row, a pyarrow ``list<string>`` column, or
delimited strings split by ``list_features``) is flattened into one array of tokens
plus one length per row. Its tokens get ids exactly as the values of a single
categorical column do (:mod:`skrank.preprocessing._categorical`: one vocabulary,
``min_frequency``, ``max_categories``, hashing, unknown id 1), and the ids of each row
are written left-aligned into ``width`` columns, the rest filled with
:data:`PADDING_ID`.

- an empty list (or an empty delimited string) has no token: all padding, which the
  model pools to a zero vector;
- a missing cell (``None``, ``NaN``, ``pd.NA``) is an empty list: nothing is known
  of the row's tokens (a delimited string, as the SavedModel export takes, could not
  tell the two apart);
- a missing token inside a list gets the missing id 0, a trained embedding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Fills the positions of a row past its last token; never an embedding row.
PADDING_ID = -1

_LIST_TYPES = (list, tuple, np.ndarray)
_FLOAT_TYPES = frozenset({"floating", "mixed-integer-float", "decimal", "complex"})


def _is_missing_scalar(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and value != value


def _first_present(values):
    """The first value of ``values`` that is not a missing scalar, or None."""
    for value in values:
        if not _is_missing_scalar(value):
            return value
    return None


def _arrow_list_type(dtype):
    """The pyarrow list type of a pandas ``ArrowDtype`` list column, else None."""
    if not isinstance(dtype, pd.ArrowDtype):
        return None
    import pyarrow as pa

    arrow_type = dtype.pyarrow_dtype
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return arrow_type
    return None


def holds_lists(column):
    """Whether a column holds lists: pyarrow lists, or cells of lists, tuples or arrays."""
    dtype = column.dtype
    if _arrow_list_type(dtype) is not None:
        return True
    if not pd.api.types.is_object_dtype(dtype):
        return False
    values = column.array if isinstance(column, pd.Series) else column
    return isinstance(_first_present(values), _LIST_TYPES)


def flatten_lists(column, name, separator=None):
    """The tokens of a list column and the number of tokens of each row.

    Parameters
    ----------
    column : pandas.Series or numpy.ndarray
        The 1-D column: lists, tuples or 1-D arrays of tokens, a pyarrow list column,
        or (with ``separator``) delimited strings.
    name : str
        The column's name, for error messages.
    separator : str or None
        Split string cells on it (an empty string is an empty list).

    Returns
    -------
    tokens : numpy.ndarray
        Every row's tokens, row after row; a missing cell has none.
    lengths : numpy.ndarray of int64
        Number of tokens of each row.
    """
    arrow_type = _arrow_list_type(column.dtype)
    if arrow_type is not None:
        return _flatten_arrow(column, name, arrow_type)
    values = column.tolist() if isinstance(column, pd.Series) else list(column)
    n = len(values)
    lengths = np.empty(n, dtype=np.int64)
    tokens = []
    extend = tokens.extend
    for i, value in enumerate(values):
        if isinstance(value, list | tuple):
            extend(value)
            lengths[i] = len(value)
        elif isinstance(value, np.ndarray):
            if value.ndim != 1:
                raise _nested_error(name, value)
            extend(value.tolist())
            lengths[i] = len(value)
        elif separator is not None and isinstance(value, str):
            parts = value.split(separator) if value else []
            extend(parts)
            lengths[i] = len(parts)
        elif _is_missing_scalar(value):
            lengths[i] = 0
        else:
            how = (
                f"strings split on {separator!r}, lists"
                if separator is not None
                else "lists, tuples or 1-D arrays"
            )
            raise ValueError(
                f"Column {name!r} is a list column (multi-valued categorical), but row {i} "
                f"holds the scalar {value!r} of type {type(value).__name__}: every cell "
                f"must hold {how} of tokens, or be missing. Wrap single values in a "
                "list (e.g. X[col].map(lambda v: [v])), or drop the column."
            )
    array = np.empty(len(tokens), dtype=object)  # not np.array: nested lists stay objects
    array[:] = tokens
    return _checked_tokens(array, name), lengths


def _flatten_arrow(column, name, arrow_type):
    """:func:`flatten_lists` of a pyarrow list column, without Python objects per row."""
    import pyarrow as pa

    value_type = arrow_type.value_type
    if pa.types.is_list(value_type) or pa.types.is_large_list(value_type):
        raise _nested_error(name, f"a pyarrow {arrow_type} column")
    if pa.types.is_floating(value_type) or pa.types.is_decimal(value_type):
        raise _float_error(name, f"pyarrow {arrow_type}")
    array = pa.array(column.array) if not isinstance(column, pd.Series) else column.array
    chunked = array._pa_array if hasattr(array, "_pa_array") else pa.chunked_array([array])
    combined = chunked.combine_chunks() if chunked.num_chunks != 1 else chunked.chunk(0)
    # Null rows (missing cells) have length 0: no tokens.
    lengths = combined.value_lengths().fill_null(0).to_numpy(zero_copy_only=False)
    lengths = lengths.astype(np.int64)
    values = combined.flatten()
    if values.null_count or not (
        pa.types.is_integer(value_type) or pa.types.is_boolean(value_type)
    ):
        tokens = np.asarray(values.to_pylist(), dtype=object)
    else:
        tokens = values.to_numpy(zero_copy_only=False)
    return tokens, lengths


def _nested_error(name, value):
    return ValueError(
        f"Column {name!r} holds nested lists (e.g. {value!r}): a list column holds a flat "
        "list of tokens per row. Flatten each row's lists, or join inner lists into one "
        "token each."
    )


def _float_error(name, what):
    return ValueError(
        f"Column {name!r} holds lists of floats ({what}): list tokens are categories "
        "(strings, integers or booleans), not numbers to scale. Convert integral "
        "ids with .astype(int) inside each list, or aggregate numeric lists (mean, "
        "count, ...) into dense columns."
    )


def _checked_tokens(tokens, name):
    """``tokens`` in their own dtype where one fits; errors for floats and nested lists."""
    if not len(tokens):
        return tokens
    inferred = pd.api.types.infer_dtype(tokens, skipna=True)
    if inferred in _FLOAT_TYPES:
        raise _float_error(name, f"{inferred} tokens")
    if inferred in ("mixed", "mixed-integer"):
        nested = next(
            (t for t in tokens.tolist() if isinstance(t, (*_LIST_TYPES, dict, set))), None
        )
        if nested is not None:
            raise _nested_error(name, nested)
    if inferred in ("integer", "boolean") and not pd.isna(tokens).any():
        # Typed tokens get a typed vocabulary (ints stay ints, as in a single column).
        return tokens.astype(np.int64 if inferred == "integer" else bool)
    return tokens


def scatter_ids(ids, lengths, out):
    """Write each row's token ids left-aligned into ``out`` (n_rows, width); pad the rest.

    Tokens past ``width`` in a row are dropped.
    """
    n_rows, width = out.shape
    out[...] = PADDING_ID
    if not len(ids):
        return
    ends = np.cumsum(lengths)
    starts = ends - lengths
    rows = np.repeat(np.arange(n_rows), lengths)
    slots = np.arange(len(ids)) - np.repeat(starts, lengths)
    keep = slots < width
    if keep.all():
        out[rows, slots] = ids
    else:
        out[rows[keep], slots[keep]] = np.asarray(ids)[keep]


def list_width(lengths):
    """Number of id columns of a list column: its longest list, at least 2.

    Never 1: a run of columns with one name is what marks a list column in the
    categorical output (see ``categorical_features_``), one column a single id.
    """
    return max(int(lengths.max(initial=0)), 2)
