"""RankingPreprocessor: a table in, embedding ids and scaled dense features out."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from skrank.preprocessing._categorical import (
    categorical_attributes,
    encode_categorical,
    fit_categorical,
    lookup_ids,
)
from skrank.preprocessing._columns import (
    CATEGORICAL,
    DENSE,
    LIST,
    check_table,
    match_batch_columns,
    match_fitted_columns,
    resolve_list_features,
    split_columns,
)
from skrank.preprocessing._dense import (
    as_float,
    dense_attributes,
    encode_dense_block,
    encode_dense_columns,
    fit_dense_columns,
    log_policies,
)
from skrank.preprocessing._incremental import RunningFit
from skrank.preprocessing._lists import flatten_lists, list_width, scatter_ids
from skrank.preprocessing._threads import column_map

# Inputs of at most this many rows are encoded by dict lookups and whole-block dense
# arithmetic (same outputs, bit for bit): per-column pandas calls cost ~100 µs per
# column whatever the number of rows, which dominates single-row predictions. The
# Python loop of the dict lookups grows with the rows: measured on 26 string and 13
# float columns, it is ~13 times faster on 1 row, ~1.5 times on 1024, even at ~3000.
SMALL_INPUT_MAX_ROWS = 1024


class RankingPreprocessor(TransformerMixin, BaseEstimator):
    """Encode a table for deep ranking models: embedding ids plus scaled dense features.

    Each column is *categorical* (turned into integer ids for an embedding table),
    *list* (multi-valued categorical: a list of ids per row, which the model pools
    into one embedding) or *dense* (a scaled float). The split, the vocabularies and the scaling are
    learnt in :meth:`fit`, or batch by batch in :meth:`partial_fit`; :meth:`encode`
    returns the two arrays a DLRM / DCN model consumes and :meth:`transform` the same
    values as one scikit-learn style matrix.

    Categorical ids, per column:

    - ``0``: missing value (``NaN``, ``None``, ``pd.NA``, ``NaT``; the empty string
      ``""`` is an ordinary value);
    - ``1``: unknown value: unseen at fit time, rarer than ``min_frequency`` or beyond
      ``max_categories``;
    - ``2, 3, ...``: known values by decreasing frequency at fit time, ties broken by
      the sorted string form of the values.

    Values are matched by equality in their own dtype (``3`` and ``3.0`` are one value;
    ``3`` and ``"3"`` are not), except in object columns that mix types (for instance
    ints and strings), whose values are compared through ``str(value)``: there ``1`` and
    ``"1"`` share one id.

    List columns (cells holding lists, tuples or 1-D arrays of tokens, pyarrow list
    columns, or delimited strings named in ``list_features``) get one vocabulary of
    tokens per column, built as for a categorical column (``min_frequency`` counts
    token occurrences, ``max_categories`` and hashing apply), with the same reserved
    ids. Column ``col`` takes ``max_list_lengths_[col]`` id columns (its longest list
    at fit time): each row's token ids, left-aligned, then the padding id ``-1``.
    An empty list is all padding (the model pools it to a zero vector), and so is a
    missing cell; a missing token inside a list gets id 0; tokens past the fitted
    width are dropped. Tokens must be strings, integers or booleans: floats, nested lists, or
    scalars in a column of lists raise an error naming the column.

    Dense columns are transformed in this order: ``-inf`` / ``+inf`` are clipped to the
    finite minimum / maximum seen at fit time; ``sign(x) * log1p(|x|)`` is applied when
    ``log_transform`` selects the column; values are standardised (a constant column
    gets scale 1); missing values become 0 (the fitted mean). Dense outputs are always
    finite (clipped to the float32 range).

    Parameters
    ----------
    categorical_features : "auto" or array-like of str or int, default="auto"
        Columns to encode as categorical ids, by name or position. With "auto",
        columns of dtype object, ``str`` / ``string``, category, bool and nullable
        boolean are categorical, and for numpy object arrays a column is dense when
        all its non-missing values are numbers. List integer columns here (user or
        item ids) to embed them instead of scaling them. Datetime and timedelta columns
        are rejected under "auto" with an error asking to convert them to numbers;
        listing one here treats each timestamp as a category.
    dense_features : "auto" or array-like of str or int, default="auto"
        Columns to scale as dense floats, by name or position. With "auto", numeric
        columns (int, float, nullable Int64 / Float64) are dense. When only one of
        ``categorical_features`` and ``dense_features`` is a list, the other is "auto"
        over the remaining columns; when both are lists, every column must be listed.
    min_frequency : int or float, default=1
        Categorical values seen fewer times than this at fit time get the unknown id.
        An int is a count; a float in (0, 1) a fraction of the number of rows.
    max_categories : int or None, default=None
        Keep at most this many known values per categorical column (the most
        frequent); the others get the unknown id. Reserved ids are not counted.
    hash_buckets : int or None, default=None
        If set, categorical columns with more distinct values at fit time than
        ``max_categories`` (or, if that is None, than ``hash_buckets``) are hashed into
        ``hash_buckets`` buckets: ids ``2 .. hash_buckets + 1`` from a keyed SipHash of
        the value's string form, stable across processes and machines; missing values
        still get id 0. Unseen values get a bucket id too, never the unknown id, and
        ``min_frequency`` does not apply to hashed columns.
    log_transform : "auto", bool or array-like of str, default="auto"
        Which dense columns get ``sign(x) * log1p(|x|)`` before scaling. "auto": the
        non-negative columns whose maximum exceeds 10 times ``max(q99, 1)``, ``q99``
        being their 99th percentile (heavy-tailed counts). True: every dense column.
        False: none. A list: these dense columns.
    missing_indicator : bool, default=True
        Whether to add a 0/1 dense output ``"<column>__missing"`` for every dense
        column that had missing values at fit time.
    list_features : dict of str to (str or None), default=None
        List columns held as delimited strings, with their separators, e.g.
        ``{"genres": "|"}`` (an empty string is an empty list). A column mapped to
        None must hold lists. Columns whose cells are lists, tuples or arrays, and
        pyarrow list columns, are list columns without being named here.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the columns seen during :term:`fit`. Defined only when `X` has
        column names that are all strings.
    column_kinds_ : dict of str to str
        Every input column (``"x0", "x1", ...`` for arrays) to "categorical",
        "list" or "dense".
    column_kind_reasons_ : dict of str to str
        Why each column got its kind, e.g. "dtype object" or "listed in
        categorical_features".
    categorical_features_ : list of str
        The column each id column of the categorical output comes from: the
        categorical and list columns in input order, a list column repeated
        ``max_list_lengths_[col]`` times.
    list_features_ : list of str
        List (multi-valued categorical) columns, in input order.
    max_list_lengths_ : dict of str to int
        Number of id columns of each list column: its longest list at fit time,
        at least 2 (so that a list column always spans several id columns).
    dense_features_ : list of str
        Dense columns, in input order.
    categories_ : dict of str to ndarray or None
        Kept values of each categorical column in id order (the value with id ``i`` is
        ``categories_[col][i - 2]``); None for hashed columns.
    vocabulary_sizes_ : dict of str to int
        Number of ids of each categorical column, reserved ids included: every id of
        the column lies in ``[0, vocabulary_sizes_[col])``.
    hashed_features_ : list of str
        Categorical columns that are hashed.
    log_transformed_features_ : list of str
        Dense columns that get ``sign(x) * log1p(|x|)``.
    missing_indicator_features_ : list of str
        Dense columns with a missing indicator output.
    dense_feature_names_out_ : list of str
        Names of the dense outputs: ``dense_features_`` then ``"<col>__missing"`` for
        each of ``missing_indicator_features_``.
    n_dense_out_ : int
        Number of dense outputs.
    data_min_, data_max_ : ndarray of shape (n_dense,)
        Finite minimum / maximum of each dense column at fit time.
    mean_, scale_ : ndarray of shape (n_dense,)
        Standardisation of each dense column, after the optional log transform.
    categorical_encodings_ : dict of str to CategoricalEncoding
        How each categorical or list column (in input order) maps values (tokens) to
        ids: a frozen dataclass with ``vocabulary`` (a pandas Index of the kept values
        in id order, or None when hashed), ``hash_buckets`` (int, or None when not
        hashed) and ``as_string`` (whether values are matched through their string
        form). The SavedModel export reads it.
    dense_scalings_ : dict of str to DenseScaling
        How each dense column (in ``dense_features_`` order) is scaled: a frozen
        dataclass with ``data_min``, ``data_max``, ``log``, ``mean``, ``scale`` and
        ``has_missing``, the column's entries of the attributes above.
    n_samples_seen_ : int
        Number of rows fitted on: those of :meth:`fit`, or of every :meth:`partial_fit`
        call so far.

    See Also
    --------
    sklearn.preprocessing.OrdinalEncoder : Ordinal ids for categorical columns.
    sklearn.preprocessing.StandardScaler : Standardisation of numeric columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from skrank.preprocessing import RankingPreprocessor
    >>> X = pd.DataFrame(
    ...     {"site": ["a", "b", "a", None], "clicks": [1.0, 3.0, None, 0.0]}
    ... )
    >>> prep = RankingPreprocessor().fit(X)
    >>> prep.column_kinds_
    {'site': 'categorical', 'clicks': 'dense'}
    >>> prep.vocabulary_sizes_
    {'site': 4}
    >>> dense, categorical = prep.encode(pd.DataFrame({"site": ["b", "z"], "clicks": [3.0, 1.0]}))
    >>> categorical.ravel().tolist()
    [3, 1]
    >>> prep.dense_feature_names_out_
    ['clicks', 'clicks__missing']
    >>> prep.get_feature_names_out().tolist()
    ['site', 'clicks', 'clicks__missing']
    """

    _parameter_constraints: dict = {
        "categorical_features": [StrOptions({"auto"}), "array-like"],
        "dense_features": [StrOptions({"auto"}), "array-like"],
        "min_frequency": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
        ],
        "max_categories": [Interval(Integral, 1, None, closed="left"), None],
        "hash_buckets": [Interval(Integral, 1, None, closed="left"), None],
        "log_transform": [StrOptions({"auto"}), "boolean", "array-like"],
        "missing_indicator": ["boolean"],
        "list_features": [dict, None],
    }

    def __init__(
        self,
        *,
        categorical_features: str | Sequence[str | int] = "auto",
        dense_features: str | Sequence[str | int] = "auto",
        min_frequency: int | float = 1,
        max_categories: int | None = None,
        hash_buckets: int | None = None,
        log_transform: str | bool | Sequence[str] = "auto",
        missing_indicator: bool = True,
        list_features: dict[str, str | None] | None = None,
    ) -> None:
        self.categorical_features = categorical_features
        self.dense_features = dense_features
        self.min_frequency = min_frequency
        self.max_categories = max_categories
        self.hash_buckets = hash_buckets
        self.log_transform = log_transform
        self.missing_indicator = missing_indicator
        self.list_features = list_features

    def __getstate__(self):
        # The running counts of partial_fit stay out of pickles (see partial_fit).
        state = dict(super().__getstate__())
        state.pop("_running_fit", None)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags

    # ------------------------------------------------------------------ fitting

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None) -> RankingPreprocessor:
        """Learn the column split, the vocabularies and the dense scaling.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The table. Sparse matrices are not supported.
        y : None
            Ignored.

        Returns
        -------
        self : RankingPreprocessor
            The fitted preprocessor.
        """
        self._fit(X, encode=False)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None) -> np.ndarray | pd.DataFrame:
        """Fit, then transform ``X``; equal to ``fit(X).transform(X)``, but faster.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The table.
        y : None
            Ignored.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_categorical + n_dense_out_)
            Categorical ids (as floats), then dense outputs; see :meth:`transform`.
        """
        return self._wrap_output(self._fit(X, encode=True), X)

    def _fit(self, X, *, encode):
        """Fit; with ``encode``, also return the :meth:`transform` output of ``X``."""
        vars(self).pop("_running_fit", None)  # fit starts over
        table = self._fit_columns(X)
        id_columns = self._id_columns(table, np.arange(table.shape[1]))
        widths = [1 if lengths is None else list_width(lengths) for _, lengths in id_columns]
        n_categorical, n_dense = sum(widths), len(self.dense_features_)
        out = None
        if encode:
            # Written in place, column by column; room for every possible missing
            # indicator (np.empty does not touch the memory of columns that stay unused).
            out = np.empty((table.shape[0], n_categorical + 2 * n_dense), order="F")
        starts = np.cumsum([0, *widths[:-1]], dtype=int)

        def fit_ids(column, start, width):
            values, lengths = column
            encoding, ids = fit_categorical(
                values,
                min_count=self._min_count(table.shape[0]),
                max_categories=self.max_categories,
                hash_buckets=self.hash_buckets,
                return_ids=encode,
            )
            if encode:
                _write_ids(ids, lengths, out[:, start : start + width])
            return encoding

        dense_columns = [table.column(pos) for pos in self._dense_positions]
        with column_map(table.shape[0], len(id_columns) + n_dense) as map_columns:
            encodings = map_columns(fit_ids, id_columns, starts, widths)
            scalings = fit_dense_columns(
                dense_columns,
                self.dense_features_,
                log_policies(self.log_transform, self.dense_features_),
                missing_indicator=self.missing_indicator,
                out=None if out is None else out[:, n_categorical:],
                map_columns=map_columns,
            )
        self._set_fitted_attributes(table.shape[0], encodings, scalings, widths=widths)
        return None if out is None else out[:, : n_categorical + self.n_dense_out_]

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None) -> RankingPreprocessor:
        """Add one batch of rows to the fit, for tables too large for memory.

        After every call the preprocessor is fitted as :meth:`fit` on all the rows so
        far would fit it: the same column split (decided on the first batch),
        vocabularies, hashing and dense scaling (up to float rounding). One
        approximation: the "auto" ``log_transform`` rule is exact up to about 6.5
        million finite values per column, beyond that whenever the largest 65,536
        values settle it, else it estimates the 99th percentile from a sample.

        The running counts (one per distinct categorical value, none past the hashing
        threshold; 2 x 65,536 values per "auto" dense column) stay with the
        preprocessor for later calls, but pickles leave them out: they can outweigh
        the fitted attributes many times. Without them (after :meth:`fit`, which
        drops them, or after unpickling) ``partial_fit`` warns and starts over.
        Parameters are read at the first call.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            One batch. Every batch has the columns of the first one (DataFrame
            columns matched by name).
        y : None
            Ignored.

        Returns
        -------
        self : RankingPreprocessor
            The fitted preprocessor.

        Examples
        --------
        >>> import pandas as pd
        >>> from skrank.preprocessing import RankingPreprocessor
        >>> X = pd.DataFrame({"site": list("aabbbc"), "n": [1.0, 2, 3, 4, 5, 6]})
        >>> prep = RankingPreprocessor()
        >>> for batch in (X[:4], X[4:]):
        ...     prep = prep.partial_fit(batch)
        >>> prep.categories_["site"].tolist(), float(prep.mean_[0]), prep.n_samples_seen_
        (['b', 'a', 'c'], 3.5, 6)
        """
        running = vars(self).get("_running_fit")
        first_call = running is None
        if first_call:
            if hasattr(self, "n_samples_seen_"):
                warnings.warn(
                    "partial_fit was called on a fitted RankingPreprocessor without running "
                    "counts (fitted by fit(), or unpickled: pickles leave them out): this call "
                    "starts a new fit on its batch alone. To fit batch by batch, pass every "
                    "batch to partial_fit of one preprocessor.",
                    UserWarning,
                    stacklevel=3,  # _fit_context wraps this method
                )
            table = self._fit_columns(X)
            positions = np.arange(table.shape[1])
            running = RunningFit(
                len(self._id_features),
                list(log_policies(self.log_transform, self.dense_features_).values()),
                hash_buckets=self.hash_buckets,
                max_categories=self.max_categories,
            )
        else:
            table, positions = match_batch_columns(self, check_table(X, type(self).__name__))
        # Dense columns first: a non-numeric one raises before any count changes.
        dense_values = [
            as_float(table.column(positions[pos]), name, fitted=not first_call)
            for name, pos in zip(self.dense_features_, self._dense_positions, strict=True)
        ]
        id_columns = self._id_columns(table, positions)
        running.update(table.shape[0], [values for values, _ in id_columns], dense_values)
        running.widths = [
            1 if lengths is None else max(width, list_width(lengths))
            for width, (_, lengths) in zip(running.widths, id_columns, strict=True)
        ]
        self._running_fit = running
        min_count = self._min_count(running.n_samples)
        encodings, categories = running.encodings(min_count, self.max_categories)
        self._set_fitted_attributes(
            running.n_samples,
            encodings,
            running.scalings(),
            categories=categories,
            widths=running.widths,
        )
        return self

    def _fit_columns(self, X):
        """Validate ``X`` and learn the column split; return ``X`` as a Table."""
        table = check_table(X, type(self).__name__)
        validate_data(self, table.data, skip_check_array=True, reset=True)
        kinds, reasons = split_columns(
            table, self.categorical_features, self.dense_features, self.list_features
        )
        self.column_kinds_ = kinds
        self.column_kind_reasons_ = reasons
        names = table.names
        separators = resolve_list_features(self.list_features, names)
        self.list_features_ = [name for name in names if kinds[name] == LIST]
        self._list_separators = {name: separators.get(name) for name in self.list_features_}
        # Embedded columns, single ids and lists, in input order.
        self._id_features = [name for name in names if kinds[name] in (CATEGORICAL, LIST)]
        self.dense_features_ = [name for name in names if kinds[name] == DENSE]
        position = {name: i for i, name in enumerate(names)}
        self._categorical_positions = [position[name] for name in self._id_features]
        self._dense_positions = [position[name] for name in self.dense_features_]
        return table

    def _id_columns(self, table, positions):
        """``(values, lengths)`` of each embedded column: lengths None for single ids.

        A list column's values are its tokens, row after row (see ``_lists.py``).
        """
        separators = getattr(self, "_list_separators", {})
        columns = []
        for name, pos in zip(self._id_features, self._categorical_positions, strict=True):
            column = table.column(positions[pos])
            if name in separators:
                columns.append(flatten_lists(column, name, separators[name]))
            else:
                columns.append((column, None))
        return columns

    def _min_count(self, n_samples):
        """``min_frequency`` as a number of rows."""
        if isinstance(self.min_frequency, Integral):
            return self.min_frequency
        return self.min_frequency * n_samples

    def _set_fitted_attributes(self, n_samples, encodings, scalings, categories=None, *, widths):
        """The fitted attributes from one encoding / scaling per embedded / dense column.

        ``widths``: the number of id columns of each embedded column (1 for single ids).
        """
        attributes = categorical_attributes(self._id_features, encodings, categories)
        vars(self).update(attributes)
        lists = set(self.list_features_)
        self.max_list_lengths_ = {
            name: width
            for name, width in zip(self._id_features, widths, strict=True)
            if name in lists
        }
        self.categorical_features_ = [
            name
            for name, width in zip(self._id_features, widths, strict=True)
            for _ in range(width)
        ]
        vars(self).update(dense_attributes(self.dense_features_, scalings, self.missing_indicator))
        output_names = self._categorical_names_out() + self.dense_feature_names_out_
        clashes = sorted(name for name, count in Counter(output_names).items() if count > 1)
        if clashes:
            raise ValueError(
                f"The missing indicator outputs {clashes} clash with input column names. "
                "Rename those columns or set missing_indicator=False."
            )
        self.n_samples_seen_ = n_samples

    # ------------------------------------------------------------------ encoding

    def _check_table(self, X):
        """Validate X at transform time; return it and the position of each fit column."""
        check_is_fitted(self)
        return match_fitted_columns(self, check_table(X, type(self).__name__))

    def _categorical_names_out(self):
        """Names of the id columns: a list column's are ``"<col>__0", "<col>__1", ...``."""
        widths = getattr(self, "max_list_lengths_", {})
        names = []
        for name in self.categorical_encodings_:
            if name in widths:
                names.extend(f"{name}__{i}" for i in range(widths[name]))
            else:
                names.append(name)
        return names

    def _encode_categorical(self, table, positions, out, map_columns):
        """Write the ids into the columns of ``out`` (any dtype, ideally Fortran-ordered).

        On a few rows ids come from dict lookups (:func:`lookup_ids`) where they apply,
        else from :func:`encode_categorical`: the same ids either way.
        """
        small = table.shape[0] <= SMALL_INPUT_MAX_ROWS
        widths = getattr(self, "max_list_lengths_", {})
        separators = getattr(self, "_list_separators", {})
        names = list(self.categorical_encodings_)
        column_widths = [widths.get(name, 1) for name in names]
        starts = np.cumsum([0, *column_widths[:-1]], dtype=int)
        # Series taken here, in one thread (pandas does not document its indexing as
        # thread-safe); a few rows are encoded in this thread, from their arrays first.
        columns = [
            None if small else table.column(positions[pos]) for pos in self._categorical_positions
        ]

        def encode_ids(name, pos, column, start, width):
            position, lengths = positions[pos], None
            if name in widths:
                if column is None:
                    column = table.column(position)
                values, lengths = flatten_lists(column, name, separators[name])
            else:
                values = table.array(position) if small else column
            ids = lookup_ids(values, self.categorical_encodings_[name]) if small else None
            if ids is None:
                if small and lengths is None:
                    values = table.column(position)
                ids = encode_categorical(values, self.categorical_encodings_[name])
            _write_ids(ids, lengths, out[:, start : start + width])

        map_columns(encode_ids, names, self._categorical_positions, columns, starts, column_widths)

    def _encode_dense(self, table, positions, out, map_columns):
        """Write the dense outputs into the columns of ``out`` (float32 or float64)."""
        positions = [positions[pos] for pos in self._dense_positions]
        scalings = self.dense_scalings_.values()
        args = (table, positions, self.dense_features_, scalings, out, self.missing_indicator)
        if table.shape[0] > SMALL_INPUT_MAX_ROWS:
            encode_dense_columns(*args, map_columns)
            return
        # The fitted arrays are not rebuilt from the scalings at each call: a few rows
        # take microseconds.
        fitted_arrays = (self.data_min_, self.data_max_, self.mean_, self.scale_)
        encode_dense_block(*args, fitted_arrays=fitted_arrays)

    def encode(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Encode ``X`` into the two arrays a ranking model consumes.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            A table with the columns seen at fit time. DataFrame columns are matched
            by name (their order may differ); other inputs by position.

        Returns
        -------
        dense : ndarray of shape (n_samples, n_dense_out_), dtype float32
            C-contiguous scaled dense features, named by ``dense_feature_names_out_``.
        categorical : ndarray of shape (n_samples, len(categorical_features_)), dtype int32
            Fortran-ordered ids (each column is contiguous) in ``categorical_features_``
            order; column ``col`` lies in ``[0, vocabulary_sizes_[col])``.
        """
        table, positions = self._check_table(X)
        n_samples = table.shape[0]
        categorical = np.empty(
            (n_samples, len(self.categorical_features_)), dtype=np.int32, order="F"
        )
        # Column writes are contiguous in Fortran order; one transposing copy is cheaper.
        dense = np.empty((n_samples, self.n_dense_out_), dtype=np.float32, order="F")
        self._encode_into(table, positions, categorical, dense)
        return np.ascontiguousarray(dense), categorical

    def transform(self, X) -> np.ndarray | pd.DataFrame:
        """Encode ``X`` as one matrix: categorical ids (as floats), then dense outputs.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            A table with the columns seen at fit time.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_categorical + n_dense_out_)
            Float64, Fortran-ordered (each output column is contiguous), rows in input
            order. With ``set_output(transform="pandas")``, a DataFrame
            with the input's index, int32 id columns and float64 dense columns.
        """
        table, positions = self._check_table(X)
        n_categorical = len(self.categorical_features_)
        out = np.empty((table.shape[0], n_categorical + self.n_dense_out_), order="F")
        self._encode_into(table, positions, out[:, :n_categorical], out[:, n_categorical:])
        return self._wrap_output(out, X)

    def _encode_into(self, table, positions, categorical, dense):
        """Write the ids into ``categorical`` and the dense outputs into ``dense``; the
        columns of a large table side by side in one pool of threads."""
        n_columns = len(self._categorical_positions) + len(self._dense_positions)
        with column_map(table.shape[0], n_columns) as map_columns:
            self._encode_categorical(table, positions, categorical, map_columns)
            self._encode_dense(table, positions, dense, map_columns)

    def _wrap_output(self, out, X):
        """Return ``out``, or a DataFrame with int32 ids when pandas output is set."""
        if _get_output_config("transform", self)["dense"] != "pandas":
            return out
        n_categorical = len(self.categorical_features_)
        columns = {
            name: out[:, j].astype(np.int32) for j, name in enumerate(self._categorical_names_out())
        }
        for j, name in enumerate(self.dense_feature_names_out_):
            columns[name] = out[:, n_categorical + j]
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(columns, index=index, copy=False)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the :meth:`transform` outputs.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against ``feature_names_in_``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``categorical_features_`` then ``dense_feature_names_out_``.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        return np.asarray(
            self._categorical_names_out() + self.dense_feature_names_out_, dtype=object
        )


def _write_ids(ids, lengths, out):
    """Write one column's ids into ``out``: its one id column, or a list column's block."""
    if lengths is None:
        out[:, 0] = ids
    else:
        scatter_ids(np.asarray(ids), lengths, out)
