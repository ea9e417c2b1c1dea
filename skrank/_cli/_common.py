"""Pieces every command shares: user errors, quiet mode, table files, progress, tables."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import warnings
from pathlib import Path

from skrank._validation import check_positive_int

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")


class CLIError(Exception):
    """A mistake the user can fix: printed as one line, exit code 2, no traceback."""


@contextlib.contextmanager
def quiet(verbose: bool):
    """Keep warnings (and TensorFlow's import-time log lines) out of the terminal.

    TensorFlow is imported here, through :func:`skrank._tf.import_tensorflow`, before
    any module that imports Keras, so that its C++ log lines never reach stderr.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with warnings.catch_warnings():
        if not verbose:
            warnings.simplefilter("ignore")
        yield


def import_estimators():
    """``(RankingClassifier, RankingRegressor)``, with TensorFlow imported quietly first."""
    from skrank._tf import import_tensorflow

    import_tensorflow()
    from skrank.estimators import RankingClassifier, RankingRegressor

    return RankingClassifier, RankingRegressor


def _format_of(path: Path, role: str) -> str:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    raise CLIError(
        f"{path}: cannot tell the {role} format from the extension {suffix or '(none)'!r}; "
        f"use .csv (or .tsv) for CSV or .parquet for Parquet."
    )


def output_format(path: Path) -> str:
    """The format ("csv" or "parquet") of an output path; CLIError for other extensions."""
    return _format_of(Path(path), "output")


def _default_sep(path: Path, sep: str | None) -> str:
    if sep is not None:
        return sep
    return "\t" if path.suffix.lower() == ".tsv" else ","


def read_table(path, *, sep: str | None = None):
    """A DataFrame from a CSV or Parquet file, chosen by extension; CLIError if unreadable."""
    import pandas as pd

    path = Path(path)
    kind = _format_of(path, "input")
    if not path.exists():
        raise CLIError(f"{path}: no such file.")
    if path.is_dir():
        raise CLIError(f"{path}: is a directory, expected a {kind.upper()} file.")
    try:
        if kind == "csv":
            return pd.read_csv(path, sep=_default_sep(path, sep))
        return pd.read_parquet(path)
    except ImportError as exc:
        raise CLIError(f"{path}: reading Parquet needs pyarrow: pip install pyarrow") from exc
    except Exception as exc:  # any parser error is the file's fault, not a bug
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CLIError(f"{path}: cannot read as {kind.upper()}: {first_line}") from exc


def write_table(frame, path, *, sep: str | None = None) -> None:
    """Write a DataFrame as CSV or Parquet, chosen by extension; CLIError on failure."""
    path = Path(path)
    kind = _format_of(path, "output")
    try:
        if kind == "csv":
            frame.to_csv(path, sep=_default_sep(path, sep), index=False)
        else:
            frame.to_parquet(path, index=False)
    except ImportError as exc:
        raise CLIError(f"{path}: writing Parquet needs pyarrow: pip install pyarrow") from exc
    except OSError as exc:
        raise CLIError(f"{path}: cannot write: {exc.strerror or exc}") from exc


def check_columns(frame, columns, path, what: str = "column") -> None:
    """CLIError naming the file and every listed column it lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        have = ", ".join(repr(c) for c in list(frame.columns)[:12])
        more = ", ..." if len(frame.columns) > 12 else ""
        plural = "s" if len(missing) > 1 else ""
        raise CLIError(f"{path}: no {what}{plural} {names} (columns are: {have}{more}).")


class Progress:
    """One line per step on stderr, redrawn in place on a terminal; silent when disabled."""

    BAR_WIDTH = 20

    def __init__(self, *, enabled: bool = True, stream=None):
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self._label = ""
        self._start = 0.0

    @property
    def _tty(self) -> bool:
        return bool(getattr(self.stream, "isatty", lambda: False)())

    def start(self, label: str) -> None:
        sys.stdout.flush()  # keep the report and the progress lines in order
        self._label, self._start = label, time.perf_counter()
        self.update(0.0, "")

    def update(self, fraction: float, detail: str) -> None:
        if not (self.enabled and self._tty):
            return
        filled = int(round(self.BAR_WIDTH * min(max(fraction, 0.0), 1.0)))
        bar = "#" * filled + "." * (self.BAR_WIDTH - filled)
        self.stream.write(f"\r  {self._label:<34} [{bar}] {detail:<30}")
        self.stream.flush()

    def done(self, detail: str = "") -> float:
        elapsed = time.perf_counter() - self._start
        if self.enabled:
            bar = "#" * self.BAR_WIDTH
            end = f"done in {elapsed:.1f} s" + (f", {detail}" if detail else "")
            prefix = "\r" if self._tty else ""
            self.stream.write(f"{prefix}  {self._label:<34} [{bar}] {end:<30}\n")
            self.stream.flush()
        return elapsed

    def keras_callback(self):
        """A Keras callback that moves the bar once per epoch (the cap, early stopping aside)."""
        import keras

        progress = self

        class _EpochBar(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                total = self.params.get("epochs") or 1
                logs = logs or {}
                detail = f"epoch {epoch + 1}/{total}"
                if "val_loss" in logs:
                    detail += f" val_loss {float(logs['val_loss']):.4f}"
                progress.update((epoch + 1) / total, detail)

        return _EpochBar()


def format_table(rows, columns) -> str:
    """A plain-text table: ``columns`` is a list of ``(header, key, format)``."""
    cells = [[header for header, _, _ in columns]]
    for row in rows:
        cells.append(
            [fmt.format(row[key]) if row.get(key) is not None else "-" for _, key, fmt in columns]
        )
    widths = [max(len(r[j]) for r in cells) for j in range(len(columns))]

    def line(r):
        first = r[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1, or a usage error quoting the text."""
    try:
        return check_positive_int(int(text), "value")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
