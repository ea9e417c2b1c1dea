"""Tables on disk read in record batches with pyarrow, on demand (bounded memory)."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

DEFAULT_BATCH_ROWS = 65_536


def _conform(batch, schema):
    """``batch`` with the columns of ``schema``, in its order and types (missing: null)."""
    import pyarrow as pa

    if batch.schema.equals(schema):
        return batch
    columns = []
    for field in schema:
        if field.name in batch.schema.names:
            column = batch.column(field.name)
            columns.append(column if column.type == field.type else column.cast(field.type))
        else:
            columns.append(pa.nulls(batch.num_rows, field.type))
    return type(batch).from_arrays(columns, schema=schema)


def _rebatch(batches, n_rows):
    """Tables of ``n_rows`` consecutive rows of ``batches`` (the last one shorter)."""
    import pyarrow as pa

    pending, n_pending = [], 0
    for batch in batches:
        pending.append(batch)
        n_pending += batch.num_rows
        if n_pending < n_rows:
            continue
        table = pa.Table.from_batches(pending)
        end = n_pending // n_rows * n_rows
        for start in range(0, end, n_rows):
            yield table.slice(start, n_rows)
        pending = table.slice(end).to_batches() if end < n_pending else []
        n_pending -= end
        del table
    if n_pending:
        yield pa.Table.from_batches(pending)


def _expand(paths) -> list[str]:
    """Sorted list of files from a path, a directory, a glob pattern or a list of those."""
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    files = []
    for path in paths:
        path = os.fspath(path)
        if any(char in path for char in "*?["):
            matched = sorted(glob.glob(path, recursive=True))
        elif os.path.isdir(path):
            matched = sorted(
                os.path.join(root, name)
                for root, _, names in os.walk(path)
                for name in names
                if not name.startswith((".", "_"))
            )
        else:
            matched = [path]
        files.extend(matched)
    if not files:
        raise ValueError(f"No file matches {paths!r}: check the path or the glob pattern.")
    missing = [path for path in files if not os.path.isfile(path)]
    if missing:
        raise FileNotFoundError(f"These files do not exist: {missing[:5]}.")
    return files


class FileSource:
    """Base class of the file sources; not for direct use."""

    _format = None

    def __init__(
        self,
        paths: str | os.PathLike | Sequence[str | os.PathLike],
        *,
        target: str | None = None,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        columns: Sequence[str] | None = None,
    ) -> None:
        if not isinstance(batch_rows, int) or isinstance(batch_rows, bool) or batch_rows < 1:
            raise ValueError(f"batch_rows must be a positive int; got {batch_rows!r}.")
        self.paths = paths
        self.target = target
        self.batch_rows = batch_rows
        self.columns = None if columns is None else list(columns)
        self.files = _expand(paths)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.paths!r}, target={self.target!r}, "
            f"batch_rows={self.batch_rows})"
        )

    # pyarrow objects do not pickle; a source sent to another process (dask,
    # joblib) reopens its files there.
    def __getstate__(self):
        return {key: value for key, value in vars(self).items() if key != "_dataset"}

    def _pyarrow_format(self):  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def dataset(self):
        """The ``pyarrow.dataset.Dataset`` over the files, in file order."""
        if getattr(self, "_dataset", None) is None:
            import pyarrow.dataset as ds

            self._dataset = ds.dataset(self.files, format=self._pyarrow_format())
        return self._dataset

    @property
    def feature_names(self) -> list[str]:
        """The feature columns: ``columns`` (or every column) minus the target."""
        names = self.columns if self.columns is not None else self.dataset.schema.names
        if self.target is not None and self.target not in self.dataset.schema.names:
            raise ValueError(
                f"The target column {self.target!r} is not in {self.files[0]!r}; its "
                f"columns are {self.dataset.schema.names}."
            )
        return [name for name in names if name != self.target]

    def count_rows(self) -> int:
        """Number of rows (read from Parquet metadata; a CSV file is scanned)."""
        return int(self.dataset.count_rows())

    def _file_batches(self, path, columns, schema):  # pragma: no cover - abstract
        """Arrow record batches (or tables) of at most ``batch_rows`` rows of one file."""
        raise NotImplementedError

    def iter_batches(
        self, *, with_target: bool = True, file_order: Sequence[int] | None = None
    ) -> Iterator[tuple[pd.DataFrame, object]]:
        """Yield ``(X, y)`` per record batch of at most ``batch_rows`` rows, in file order.

        ``y`` is a numpy array of the target column, or None when the source has no
        target or ``with_target`` is False. ``file_order``, a permutation of
        ``range(len(files))``, reads the files in that order instead.

        Reading is pulled batch by batch: nothing is decoded ahead of the batch
        being yielded, so memory holds one batch (plus, for Parquet, the compressed
        row group it comes from) whatever the number of rows.
        """
        import pyarrow as pa

        schema = self.dataset.schema  # the first file's; every file is cast to it
        features = self.feature_names
        read = list(features)
        use_target = with_target and self.target is not None
        if use_target:
            read.append(self.target)
        missing = [name for name in read if name not in schema.names]
        if missing:
            raise ValueError(
                f"The columns {missing[:10]} are not in {self.files[0]!r}; its columns are "
                f"{schema.names}."
            )
        read_schema = pa.schema([schema.field(name) for name in read])
        files = self.files if file_order is None else [self.files[i] for i in file_order]
        for path in files:
            for batch in self._file_batches(path, read, read_schema):
                if batch.num_rows == 0:
                    continue
                frame = batch.to_pandas()
                del batch
                y = None
                if use_target:
                    y = frame.pop(self.target).to_numpy()
                    if y.dtype.kind == "O" and pd.isna(y).any():
                        raise ValueError(
                            f"The target column {self.target!r} has missing values; drop "
                            "those rows from the files before fitting."
                        )
                yield frame, y

    def read(self) -> tuple[pd.DataFrame, np.ndarray | None]:
        """The whole table in memory as ``(X, y)`` (for small files and tests)."""
        parts = list(self.iter_batches())
        X = pd.concat([frame for frame, _ in parts], ignore_index=True)
        y = None if self.target is None else np.concatenate([y for _, y in parts])
        return X, y


class ParquetSource(FileSource):
    """Parquet files to stream into ``fit``, ``partial_fit`` and ``predict``.

    The files are read in record batches of at most ``batch_rows`` rows, one
    row group at a time and only when the next batch is asked for, so that
    fitting a skrank estimator needs memory for one batch (and the compressed row
    group it comes from), not for the table.

    Parameters
    ----------
    paths : path, glob pattern, directory, or list of them
        The files, read in sorted order (a directory: every file under it).
    target : str, default=None
        Column holding the target; ``fit(source)`` is then called without ``y``.
        None for a source to predict on.
    batch_rows : int, default=65536
        Maximum rows per record batch (batches never span two row groups).
    columns : list of str, default=None
        Feature columns to read (all but ``target`` when None).

    See Also
    --------
    CSVSource : The same for CSV files.

    Examples
    --------
    >>> import tempfile, os
    >>> import pandas as pd
    >>> from skrank.data import ParquetSource
    >>> folder = tempfile.mkdtemp()
    >>> frame = pd.DataFrame({"site": ["a", "b"] * 4, "n": range(8), "clicked": [0, 1] * 4})
    >>> frame.to_parquet(os.path.join(folder, "part-0.parquet"))
    >>> source = ParquetSource(os.path.join(folder, "*.parquet"), target="clicked", batch_rows=3)
    >>> [len(X) for X, y in source.iter_batches()]
    [3, 3, 2]
    >>> source.feature_names
    ['site', 'n']
    """

    def _pyarrow_format(self):
        return "parquet"

    def _file_batches(self, path, columns, schema):
        import pyarrow.parquet as pq

        # ParquetFile reads on demand: one compressed row group and the batch being
        # decoded. (pyarrow.dataset's scanner decodes ahead of the consumer until
        # about 1 GiB is queued, whatever fragment_readahead and batch_readahead.)
        with pq.ParquetFile(path) as file:
            present = [name for name in columns if name in file.schema_arrow.names]
            for group in range(file.num_row_groups):
                batches = file.iter_batches(
                    batch_size=self.batch_rows, row_groups=[group], columns=present
                )
                for batch in batches:
                    yield _conform(batch, schema)


class CSVSource(FileSource):
    """CSV files to stream into ``fit``, ``partial_fit`` and ``predict``.

    Column types are inferred by pyarrow from the start of the first file and then
    fixed for every file (strings are categorical, numbers dense under "auto").
    Empty fields are missing values, as with :func:`pandas.read_csv`.

    Parameters
    ----------
    paths : path, glob pattern, directory, or list of them
        The files, read in sorted order; each has a header line.
    target : str, default=None
        Column holding the target; ``fit(source)`` is then called without ``y``.
    batch_rows : int, default=65536
        Rows per record batch (the last one of each file shorter); the files are
        parsed in blocks of 1 MiB, on demand.
    columns : list of str, default=None
        Feature columns to read (all but ``target`` when None).

    See Also
    --------
    ParquetSource : The same for Parquet files (faster, typed).
    """

    def _pyarrow_format(self):
        import pyarrow.csv as pacsv
        import pyarrow.dataset as ds

        # Empty fields are missing values, as in pandas.read_csv (and in the CSV
        # pandas writes from NaN), not the empty string.
        return ds.CsvFileFormat(convert_options=pacsv.ConvertOptions(strings_can_be_null=True))

    def _file_batches(self, path, columns, schema):
        import pyarrow.csv as pacsv

        # A streaming reader parses one block (1 MiB) at a time, on demand; the
        # column types are the ones inferred from the first file.
        convert = pacsv.ConvertOptions(
            column_types={field.name: field.type for field in schema},
            include_columns=list(columns),
            include_missing_columns=True,
            strings_can_be_null=True,
        )
        with pacsv.open_csv(path, convert_options=convert) as reader:
            for table in _rebatch(reader, self.batch_rows):
                yield _conform(table, schema)


def is_file_source(X) -> bool:
    """Whether ``X`` is a :class:`FileSource` (rather than an in-memory table)."""
    return isinstance(X, FileSource)
