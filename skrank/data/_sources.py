"""Tables on disk read in record batches with ``pyarrow.dataset`` (bounded memory)."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

DEFAULT_BATCH_ROWS = 65_536


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

    def iter_batches(
        self, *, with_target: bool = True, file_order: Sequence[int] | None = None
    ) -> Iterator[tuple[pd.DataFrame, object]]:
        """Yield ``(X, y)`` per record batch of at most ``batch_rows`` rows, in file order.

        ``y`` is a numpy array of the target column, or None when the source has no
        target or ``with_target`` is False. ``file_order``, a permutation of
        ``range(len(files))``, reads the files in that order instead.
        """
        dataset = self.dataset
        if file_order is not None:
            import pyarrow.dataset as ds

            files = [self.files[i] for i in file_order]
            dataset = ds.dataset(files, format=self._pyarrow_format(), schema=dataset.schema)
        features = self.feature_names
        read = list(features)
        use_target = with_target and self.target is not None
        if use_target:
            read.append(self.target)
        # Read ahead one file and a few batches only: pyarrow's defaults (4 files,
        # 16 batches) would hold several decoded files in memory.
        batches = dataset.to_batches(
            columns=read, batch_size=self.batch_rows, fragment_readahead=1, batch_readahead=2
        )
        for batch in batches:
            if batch.num_rows == 0:
                continue
            frame = batch.to_pandas()
            y = None
            if use_target:
                y = frame.pop(self.target).to_numpy()
                if y.dtype.kind == "O" and pd.isna(y).any():
                    raise ValueError(
                        f"The target column {self.target!r} has missing values; drop those "
                        "rows from the files before fitting."
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

    The files are read in record batches of at most ``batch_rows`` rows with
    ``pyarrow.dataset``, so that fitting a skrank estimator needs memory for one
    batch at a time, not for the table.

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
        Maximum rows per record batch.
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


def is_file_source(X) -> bool:
    """Whether ``X`` is a :class:`FileSource` (rather than an in-memory table)."""
    return isinstance(X, FileSource)
