"""Data on disk for skrank estimators: Parquet and CSV sources read in record batches.

``fit``, ``partial_fit``, ``predict`` and ``predict_proba`` of the skrank
estimators accept a :class:`ParquetSource` or :class:`CSVSource` in place of an
in-memory table and then stream it: memory holds one record batch at a time. To
fit a :class:`~skrank.preprocessing.RankingPreprocessor` alone from files, pass
the record batches to its ``partial_fit``::

    for X, _ in source.iter_batches(with_target=False):
        preprocessor.partial_fit(X)

Nothing here imports Keras.
"""

from skrank.data._sources import CSVSource, FileSource, ParquetSource

__all__ = ["CSVSource", "FileSource", "ParquetSource"]
