"""Where a Ranker's query ids come from: ``qid``, or a column of X (``query_column``).

A query column is embedded as a categorical feature when ``categorical_features``
is "auto" (or lists it), and left out of the features otherwise; it is never a
dense feature. This module decides which, and hands the preprocessor its column
lists and X without the query column when it is left out.
"""

from __future__ import annotations

import numbers

import numpy as np

from skrank.metrics._ranking import query_codes, query_column_values
from skrank.preprocessing._columns import CATEGORICAL, check_table, split_columns


def _is_position(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def query_position(X, query_column, estimator_name) -> int:
    """Position of the query column in X, with an error naming ``query_column``."""
    table = check_table(X, estimator_name)
    if table.string_names and query_column in table.names:
        return table.names.index(query_column)
    if _is_position(query_column) and -table.shape[1] <= query_column < table.shape[1]:
        return int(query_column) % table.shape[1]
    known = table.names[:10] if table.string_names else f"positions 0 to {table.shape[1] - 1}"
    raise ValueError(
        f"query_column={query_column!r} is not a column of X (columns: {known}). Name the "
        "column that holds the query ids, or pass qid= to fit instead."
    )


def _selection_positions(selection, names):
    """Positions of a user's column list (names or positions) in ``names``."""
    out = []
    for value in np.asarray(selection, dtype=object).ravel():
        if _is_position(value) and -len(names) <= value < len(names):
            out.append(int(value) % len(names))
        elif value in names:
            out.append(names.index(value))
        else:
            out.append(None)  # the preprocessor reports it
    return out


class QueryColumn:
    """The query column of a Ranker fitted with ``query_column``.

    Attributes
    ----------
    position : int
        Its position in X.
    name : str or None
        Its name, when X has string column names.
    n_features : int
        Number of columns of X, the query column included.
    embedded : bool
        Whether it is a categorical feature of the model (else it is left out).
    categorical_features, dense_features
        The preprocessor's column parameters (positions shifted when the column is
        left out of an array).
    """

    def __init__(self, estimator, X):
        name = type(estimator).__name__
        self.position = query_position(X, estimator.query_column, name)
        table = check_table(X, name)
        names = table.names
        self.n_features = len(names)
        query_name = names[self.position]
        # DataFrames are matched by column name (their columns may come reordered).
        self.name = query_name if table.string_names else None
        categorical, dense = estimator.categorical_features, estimator.dense_features
        dense_positions = [] if isinstance(dense, str) else _selection_positions(dense, names)
        if self.position in dense_positions:
            raise ValueError(
                f"dense_features lists the query column {query_name!r} "
                f"(query_column={estimator.query_column!r}): query ids are never dense "
                "features. Remove it from dense_features."
            )
        if isinstance(categorical, str):  # "auto": embedded, whatever its dtype
            self.embedded = True
            if isinstance(dense, str):
                self.categorical_features, self.dense_features = [query_name], dense
            else:
                kinds, _ = split_columns(table, "auto", dense)
                self.categorical_features = [query_name] + [
                    n for n, kind in kinds.items() if kind == CATEGORICAL and n != query_name
                ]
                self.dense_features = [
                    n for n, kind in kinds.items() if kind != CATEGORICAL and n != query_name
                ]
            return
        self.embedded = self.position in _selection_positions(categorical, names)
        self.categorical_features, self.dense_features = categorical, dense
        if not self.embedded and not table.string_names:
            # Positions after the left-out column move one to the left.
            n_columns = len(names)
            self.categorical_features = self._shifted(categorical, n_columns)
            if not isinstance(dense, str):
                self.dense_features = self._shifted(dense, n_columns)

    def _shifted(self, selection, n_columns):
        out = []
        for value in np.asarray(selection, dtype=object).ravel().tolist():
            if _is_position(value) and -n_columns <= value < n_columns:
                value = int(value) % n_columns
                value -= value > self.position
            out.append(value)
        return out

    def codes(self, X) -> np.ndarray:
        """Query codes of the rows of X."""
        values = query_column_values(X, self._key(X))
        return query_codes(values, len(values), name="the query column")

    def features(self, X):
        """X as the preprocessor sees it: without the query column unless embedded."""
        if self.embedded:
            return X
        if hasattr(X, "columns"):
            return X.drop(columns=self._key(X))
        table = check_table(X, "Ranker")
        return np.delete(np.asarray(table.data), self.position, axis=1)

    def _key(self, X):
        if hasattr(X, "columns"):
            if self.name is not None and self.name in X.columns:
                return self.name
            if self.position < len(X.columns):
                return X.columns[self.position]
        return self.position
