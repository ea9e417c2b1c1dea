"""Export a fitted estimator as a TensorFlow SavedModel with its preprocessing inside.

The exported graph re-implements :class:`~skrank.preprocessing.RankingPreprocessor`
in TensorFlow ops from the preprocessor's fitted attributes, so the SavedModel takes
raw columns and needs neither skrank, pandas nor scikit-learn to run:

- categorical columns are fed as ``tf.string``, in the string form the preprocessor
  uses (:func:`~skrank.preprocessing._categorical.string_form`: ``str(value)``, with
  integral floats written as integers, booleans as ``"True"`` / ``"False"``); the
  empty string means missing (id 0); known values go through a
  ``tf.lookup.StaticHashTable`` (unknown: id 1); hashed columns use
  ``tf.strings.to_hash_bucket_strong`` with the preprocessor's SipHash key, then the
  same 64-bit finaliser as ``pandas.util.hash_array``, so ids match bit for bit;
- list (multi-valued categorical) columns are fed as ``tf.string``, one delimited
  string per row: the string forms of the row's tokens joined by the column's
  separator (its ``list_features`` separator, else the first of
  :data:`LIST_SEPARATORS` that no known token contains; the columns file records
  it). The empty string is an empty list (as is a missing cell at ``predict``); an
  empty token is a missing one (id 0). Tokens are looked up as above, and tokens
  past the fitted width are dropped, as at ``predict``;
- dense columns are fed as ``tf.float64`` with NaN for missing, and go through the
  same clipping of infinities, signed ``log1p``, standardisation, imputation,
  float32 clipping and missing indicators as in numpy.
"""

from __future__ import annotations

import json
import os
import re
import warnings

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from skrank._tf import import_tensorflow
from skrank.estimators._data import model_inputs
from skrank.preprocessing._categorical import (
    _HASH_KEY,
    MISSING_ID,
    N_RESERVED_IDS,
    UNKNOWN_ID,
    _factorize,
    string_form,
)
from skrank.preprocessing._columns import check_table, match_fitted_columns
from skrank.preprocessing._dense import _FLOAT32_MAX, as_float
from skrank.preprocessing._lists import PADDING_ID, flatten_lists

tf = import_tensorflow()

import keras  # noqa: E402

# Signature input names: TensorFlow accepts [A-Za-z0-9.][A-Za-z0-9_.\-/]*; we keep
# to letters, digits and "_" (also valid as JSON keys and Python identifiers).
_INVALID_CHARS = re.compile(r"[^A-Za-z0-9_]")
_MASK64 = 2**64 - 1
# The 64-bit finaliser pandas.util.hash_array applies after SipHash.
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
COLUMNS_FILE = os.path.join("assets.extra", "skrank_columns.json")
# Separators of the serving input of a list column not given as delimited strings.
LIST_SEPARATORS = ("|", ";", ",", "\t", "\x1f")


def list_separator(preprocessor, column):
    """The separator of list column ``column`` in the exported model's input."""
    given = getattr(preprocessor, "_list_separators", {}).get(column)
    if given is not None:
        return given
    categories = preprocessor.categories_[column]
    tokens = [] if categories is None else string_form(categories).tolist()
    for separator in LIST_SEPARATORS:
        if not any(separator in token for token in tokens):
            return separator
    return LIST_SEPARATORS[-1]


def signature_names(columns):
    """Map each column name to a valid, unique TensorFlow signature input name.

    Characters other than ASCII letters, digits and ``_`` become ``_``; a name that
    does not start with a letter gets the prefix ``"x_"``; names that still collide
    get ``"_2"``, ``"_3"``, ... appended (in column order).

    Parameters
    ----------
    columns : list of str
        Column names, in input order.

    Returns
    -------
    names : dict of str to str
        Column name -> signature input name.
    """
    mapping, used = {}, set()
    for column in columns:
        name = _INVALID_CHARS.sub("_", str(column))
        if not name[:1].isalpha() or not name[:1].isascii():
            name = "x_" + name
        candidate, suffix = name, 2
        while candidate in used:
            candidate, suffix = f"{name}_{suffix}", suffix + 1
        used.add(candidate)
        mapping[column] = candidate
    return mapping


def serving_inputs(estimator, X):
    """The request a SavedModel written by ``export`` expects for the rows of ``X``.

    Parameters
    ----------
    estimator : RankingClassifier or RankingRegressor
        A fitted estimator.
    X : DataFrame or array-like of shape (n_samples, n_features)
        Rows as they would be passed to ``predict``.

    Returns
    -------
    inputs : dict of str to ndarray
        One 1-D array per column, keyed by signature input name: categorical columns
        as str objects (``""`` for missing), list columns as str objects (the row's
        tokens joined by the column's separator, ``""`` for an empty or missing
        list), dense columns as float64 (NaN for missing).
        ``{k: v.tolist() for k, v in inputs.items()}`` is the ``"inputs"``
        object of a TF Serving REST request (``json.dumps`` writes NaN as the token
        ``NaN``, which TF Serving accepts).
    """
    check_is_fitted(estimator)
    preprocessor = estimator.preprocessor_
    table, positions = match_fitted_columns(preprocessor, check_table(X, type(estimator).__name__))
    columns = list(preprocessor.column_kinds_)
    names = signature_names(columns)
    inputs = {}
    for j, column in enumerate(columns):
        values = table.column(positions[j])
        if preprocessor.column_kinds_[column] == "list":
            inputs[names[column]] = _joined_lists(preprocessor, column, values)
        elif preprocessor.column_kinds_[column] == "categorical":
            codes, uniques = _factorize(values)
            strings = np.append(string_form(uniques), "").astype(object)
            inputs[names[column]] = strings[codes]  # code -1 (missing) -> ""
        else:
            inputs[names[column]] = as_float(values, column, fitted=True).copy()
    return inputs


def _joined_lists(preprocessor, column, values):
    """Each row's tokens in string form joined by the column's serving separator."""
    separator = list_separator(preprocessor, column)
    tokens, lengths = flatten_lists(values, column, preprocessor._list_separators[column])
    codes, uniques = _factorize(tokens)
    strings = np.append(string_form(uniques), "").astype(object)[codes].tolist()
    ends = np.cumsum(lengths).tolist()
    starts = [0, *ends[:-1]]
    return np.array(
        [separator.join(strings[a:b]) for a, b in zip(starts, ends, strict=True)], dtype=object
    )


def _vocabulary_table(encoding, column):
    keys = string_form(np.asarray(encoding.vocabulary))
    ids = np.arange(N_RESERVED_IDS, N_RESERVED_IDS + len(keys), dtype=np.int64)
    # Two values with one string form (rare: e.g. mixed dtypes) keep the smaller id.
    keys, first = np.unique(np.asarray(keys, dtype=object).astype(str), return_index=True)
    if "" in set(keys.tolist()):
        warnings.warn(
            f"Column {column!r} has the empty string as a category; in the exported model "
            "the empty string means missing (id 0), so that category is not reachable.",
            UserWarning,
            stacklevel=4,
        )
    if not len(keys):
        return None
    initializer = tf.lookup.KeyValueTensorInitializer(
        tf.constant(keys.tolist(), tf.string), tf.constant(ids[first], tf.int64)
    )
    return tf.lookup.StaticHashTable(initializer, default_value=UNKNOWN_ID)


def _uint64(value):
    return tf.constant(value, tf.uint64)


def _hash_ids(strings, hash_buckets):
    """``2 + pandas.util.hash_array(strings, hash_key=_HASH_KEY) % hash_buckets`` in TF ops.

    ``to_hash_bucket_strong`` is SipHash-2-4 of the UTF-8 bytes modulo the bucket
    count; the full 64-bit hash is rebuilt from its residues modulo 2**32 and
    2**32 + 1, then mixed like pandas does.
    """
    key_bytes = _HASH_KEY.encode("utf-8")
    key = [int.from_bytes(key_bytes[:8], "little"), int.from_bytes(key_bytes[8:], "little")]
    low = tf.strings.to_hash_bucket_strong(strings, 2**32, key=key)
    residue = tf.strings.to_hash_bucket_strong(strings, 2**32 + 1, key=key)
    high = tf.math.floormod(low - residue, 2**32 + 1)  # 2**32 == -1 modulo 2**32 + 1
    h = tf.bitwise.bitwise_or(
        tf.bitwise.left_shift(tf.cast(high, tf.uint64), _uint64(32)), tf.cast(low, tf.uint64)
    )
    h = tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, _uint64(30)))
    h = h * _uint64(_MIX1)
    h = tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, _uint64(27)))
    h = h * _uint64(_MIX2)
    h = tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, _uint64(31)))
    bucket = tf.math.floormod(h, _uint64(hash_buckets))
    return tf.cast(bucket, tf.int64) + N_RESERVED_IDS


def _token_ids(strings, encoding, table):
    """Int32 ids of string values (or tokens) of one column; ``""`` is missing."""
    if encoding.hash_buckets is not None:
        known = _hash_ids(strings, encoding.hash_buckets)
    elif table is None:
        known = tf.fill(tf.shape(strings), tf.constant(UNKNOWN_ID, tf.int64))
    else:
        known = table.lookup(strings)
    missing = tf.equal(strings, "")
    return tf.cast(tf.where(missing, tf.constant(MISSING_ID, tf.int64), known), tf.int32)


class _ServingModule(tf.Module):
    """Preprocessing (from fitted attributes) + the Keras model + postprocessing."""

    def __init__(self, estimator):
        super().__init__(name="skrank_serving")
        preprocessor = estimator.preprocessor_
        self._model = estimator.model_
        self._columns = signature_names(list(preprocessor.column_kinds_))
        # One entry per embedded column (a list column once), in input order.
        self._categorical = list(preprocessor.categorical_encodings_)
        self._encodings = list(preprocessor.categorical_encodings_.values())
        self._id_columns = list(preprocessor.categorical_features_)
        widths = getattr(preprocessor, "max_list_lengths_", {})
        self._lists = {name: (list_separator(preprocessor, name), widths[name]) for name in widths}
        self.tables = [
            None if enc.hash_buckets is not None else _vocabulary_table(enc, name)
            for name, enc in zip(self._categorical, self._encodings, strict=True)
        ]
        self._dense = list(preprocessor.dense_features_)
        self._scalings = list(preprocessor.dense_scalings_.values())
        self._indicators = set(preprocessor.missing_indicator_features_)
        self._target = estimator._target().restore()

    def input_signature(self):
        """One 1-D TensorSpec per input column, keyed and named by signature name."""
        categorical = set(self._categorical)
        return {
            name: tf.TensorSpec(
                (None,), tf.string if column in categorical else tf.float64, name=name
            )
            for column, name in self._columns.items()
        }

    def _categorical_ids(self, inputs):
        ids = []
        for name, encoding, table in zip(
            self._categorical, self._encodings, self.tables, strict=True
        ):
            strings = inputs[self._columns[name]]
            if name in self._lists:
                ids.extend(tf.unstack(self._list_ids(name, strings, encoding, table), axis=1))
            else:
                ids.append(_token_ids(strings, encoding, table))
        return ids

    def _list_ids(self, name, strings, encoding, table):
        """The (n, width) padded ids of a list column's delimited strings."""
        separator, width = self._lists[name]
        tokens = tf.strings.split(strings, sep=separator)
        ids = tokens.with_flat_values(_token_ids(tokens.flat_values, encoding, table))
        padded = ids.to_tensor(default_value=PADDING_ID, shape=[None, width])
        # tf.strings.split makes "" one empty token: an empty string is an empty list.
        return tf.where(tf.equal(strings, "")[:, None], tf.constant(PADDING_ID), padded)

    def _dense_features(self, inputs):
        values, indicators = [], []
        for name, scaling in zip(self._dense, self._scalings, strict=True):
            x = tf.cast(inputs[self._columns[name]], tf.float64)
            missing = tf.math.is_nan(x)
            x = tf.where(tf.equal(x, np.inf), tf.constant(scaling.data_max, tf.float64), x)
            x = tf.where(tf.equal(x, -np.inf), tf.constant(scaling.data_min, tf.float64), x)
            if scaling.log:
                x = tf.math.sign(x) * tf.math.log1p(tf.abs(x))
            x = (x - scaling.mean) / scaling.scale
            x = tf.where(missing, tf.zeros_like(x), x)
            x = tf.clip_by_value(x, -_FLOAT32_MAX, _FLOAT32_MAX)
            values.append(tf.cast(x, tf.float32))
            if name in self._indicators:
                indicators.append(tf.cast(missing, tf.float32))
        return values + indicators

    def serve(self, inputs):
        n = tf.shape(next(iter(inputs.values())))[0]
        ids = self._categorical_ids(inputs)
        categorical = tf.stack(ids, axis=1) if ids else tf.zeros((n, 0), tf.int32)
        dense_columns = self._dense_features(inputs)
        dense = tf.stack(dense_columns, axis=1) if dense_columns else tf.zeros((n, 0), tf.float32)
        raw = self._model(model_inputs(dense, categorical, self._id_columns), training=False)
        return self._target.serving_outputs(tf.cast(raw, tf.float64))


def export_saved_model(estimator, path):
    """Write ``estimator`` as a SavedModel at ``path``; see ``_RankingBase.export``."""
    check_is_fitted(estimator)
    module = _ServingModule(estimator)
    archive = keras.export.ExportArchive()
    archive.track(estimator.model_)
    for table in module.tables:
        if table is not None:
            archive.track(table)
    archive.add_endpoint(
        name="serving_default", fn=module.serve, input_signature=[module.input_signature()]
    )
    path = os.fspath(path)
    archive.write_out(path, verbose=False)
    preprocessor = estimator.preprocessor_
    description = {
        "inputs": {
            module._columns[column]: {
                "column": str(column),
                "kind": kind,
                "dtype": "float64" if kind == "dense" else "string",
                **({"separator": module._lists[column][0]} if kind == "list" else {}),
            }
            for column, kind in preprocessor.column_kinds_.items()
        },
        "outputs": module._target.serving_output,
    }
    if "classes_" in module._target.state:
        description["classes"] = [_json_value(c) for c in estimator.classes_]
    os.makedirs(os.path.join(path, "assets.extra"), exist_ok=True)
    with open(os.path.join(path, COLUMNS_FILE), "w", encoding="utf-8") as f:
        json.dump(description, f, indent=2)
    return dict(module._columns)


def _json_value(value):
    return value.item() if isinstance(value, np.generic) else value if pd.notna(value) else None
