"""``skrank fit`` and ``skrank predict``: train on a user's table, score new rows."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from skrank._cli._common import (
    CLIError,
    check_columns,
    import_estimators,
    output_format,
    positive_int,
    read_table,
    write_table,
)
from skrank._version import __version__

MODEL_FORMAT = "skrank-model"
MODEL_FORMAT_VERSION = 1

FIT_DESCRIPTION = """\
Train a RankingClassifier or RankingRegressor (DCN-v2, or DLRM with --interaction dot)
on a CSV or Parquet table and save it to a model file.

Every column except the target (and --drop ones) is a feature. By default string and
boolean columns are categorical (embedded) and numeric columns dense (scaled); list
integer id columns (user or item ids) with --categorical to embed them."""

FIT_EPILOG = """\
examples:
  python -m skrank fit clicks.csv --target clicked --out ctr.skrank
  python -m skrank fit ratings.parquet --target rating --task regression \\
      --categorical userId movieId --interaction cross --epochs 20

The model file is a joblib dump of the fitted estimator with a small header (skrank
version, target name, task, feature columns). Loading it runs pickle: only load model
files you trust."""

PREDICT_DESCRIPTION = """\
Score a CSV or Parquet table with a model file written by 'python -m skrank fit'.

The table needs the feature columns the model was trained on (in any order); other
columns, the target included, are ignored. The output has one row per input row, in
the same order: a 'prediction' column (the predicted class or value), with --proba one
'proba_<class>' column per class, and any --keep columns copied from the input."""

PREDICT_EPILOG = """\
examples:
  python -m skrank predict ctr.skrank new.csv --out predictions.csv --proba
  python -m skrank predict ctr.skrank new.parquet --out predictions.parquet --keep userId
  python -m skrank predict ctr.skrank new.csv > predictions.csv"""


# ---------------------------------------------------------------- argument parsing
def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _int_or_auto(text: str):
    return "auto" if text == "auto" else positive_int(text)


def add_fit_parser(subparsers, formatter) -> None:
    p = subparsers.add_parser(
        "fit",
        help="train a model on your CSV or Parquet table and save it to a file",
        description=FIT_DESCRIPTION,
        epilog=FIT_EPILOG,
        formatter_class=formatter,
    )
    p.add_argument("data", help="training table: .csv / .tsv (CSV) or .parquet / .pq (Parquet)")
    p.add_argument("--target", required=True, metavar="COL", help="column to predict (required)")
    p.add_argument(
        "--out",
        default="model.skrank",
        metavar="FILE",
        help="model file to write (default: model.skrank)",
    )
    p.add_argument(
        "--task",
        choices=("classification", "regression", "auto"),
        default="auto",
        help="classification (RankingClassifier) or regression (RankingRegressor); auto "
        "(default) picks regression for a numeric target with more than 2 distinct "
        "values and classification otherwise (strings, booleans, 0/1)",
    )
    p.add_argument(
        "--categorical",
        nargs="+",
        default=None,
        metavar="COL",
        help="columns to embed as categories (default: string and boolean columns); the "
        "columns not listed here or in --dense are split automatically",
    )
    p.add_argument(
        "--dense",
        nargs="+",
        default=None,
        metavar="COL",
        help="columns to scale as numbers (default: numeric columns)",
    )
    p.add_argument(
        "--drop",
        nargs="+",
        default=(),
        metavar="COL",
        help="columns to leave out of the features (row ids, leaky columns)",
    )
    p.add_argument(
        "--interaction",
        choices=("dot", "cross"),
        default="cross",
        help="feature interaction: cross (DCN-v2 cross network, default) or dot "
        "(DLRM's pairwise dot products)",
    )
    p.add_argument(
        "--epochs",
        type=_int_or_auto,
        default="auto",
        metavar="N",
        help="passes over the data; 'auto' (default) runs about 250 gradient steps. With "
        "more than 10,000 rows, 10%% are held out and training stops early when their "
        "loss stops improving",
    )
    p.add_argument(
        "--batch-size",
        type=_int_or_auto,
        default="auto",
        metavar="N",
        help="rows per gradient step; 'auto' (default): 256 up to 50,000 training rows "
        "(max(16, rows // 24) on tiny tables), 512 up to 200,000, 1024 beyond",
    )
    p.add_argument(
        "--learning-rate",
        type=_positive_float,
        default=1e-3,
        metavar="LR",
        help="Adam learning rate (default: 0.001)",
    )
    p.add_argument(
        "--embedding-dim",
        type=positive_int,
        default=16,
        metavar="N",
        help="width of every embedding (default: 16)",
    )
    p.add_argument(
        "--bottom-stack",
        type=positive_int,
        nargs="+",
        default=(256, 64),
        metavar="N",
        help="hidden widths of the MLP over dense columns (default: 256 64)",
    )
    p.add_argument(
        "--top-stack",
        type=positive_int,
        nargs="+",
        default=(512, 256),
        metavar="N",
        help="hidden widths of the MLP after the interaction (default: 512 256)",
    )
    p.add_argument(
        "--random-state",
        type=int,
        default=0,
        metavar="SEED",
        help="seed of weights, shuffling and the validation split; the same seed gives the "
        "same model (default: 0)",
    )
    p.add_argument(
        "--sep",
        default=None,
        metavar="SEP",
        help="CSV field separator (default: ',' for .csv, tab for .tsv)",
    )
    p.add_argument(
        "--verbose",
        action="store_true",
        help="show Keras's progress bar, warnings and, on errors, the traceback",
    )
    p.set_defaults(run=run_fit)


def add_predict_parser(subparsers, formatter) -> None:
    p = subparsers.add_parser(
        "predict",
        help="score a CSV or Parquet table with a saved model",
        description=PREDICT_DESCRIPTION,
        epilog=PREDICT_EPILOG,
        formatter_class=formatter,
    )
    p.add_argument("model", help="model file written by 'python -m skrank fit'")
    p.add_argument("data", help="table to score: .csv / .tsv (CSV) or .parquet / .pq (Parquet)")
    p.add_argument(
        "--out",
        default=None,
        metavar="FILE",
        help="predictions file, CSV or Parquet by extension (default: CSV on stdout)",
    )
    p.add_argument(
        "--proba",
        action="store_true",
        help="add one 'proba_<class>' column per class (classification models only)",
    )
    p.add_argument(
        "--keep",
        nargs="+",
        default=(),
        metavar="COL",
        help="input columns to copy into the output (row ids), before the predictions",
    )
    p.add_argument(
        "--sep",
        default=None,
        metavar="SEP",
        help="CSV field separator of the input and of a CSV output (default: ',' for .csv "
        "and stdout, tab for .tsv)",
    )
    p.add_argument(
        "--verbose",
        action="store_true",
        help="show warnings and, on errors, the traceback",
    )
    p.set_defaults(run=run_predict)


# ---------------------------------------------------------------------- fit
def _resolve_task(task: str, y, target: str) -> str:
    import pandas as pd

    if task != "auto":
        return task
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    if numeric and y.nunique(dropna=True) > 2:
        return "regression"
    return "classification"


def run_fit(args) -> int:
    data_path = Path(args.data)
    frame = read_table(data_path, sep=args.sep)
    check_columns(frame, [args.target], data_path, "target column")
    listed = [*(args.categorical or ()), *(args.dense or ()), *args.drop]
    check_columns(frame, listed, data_path)
    if args.target in listed:
        raise CLIError(f"{data_path}: the target column {args.target!r} cannot also be a feature.")
    if frame.empty:
        raise CLIError(f"{data_path}: the table has no rows.")

    y = frame[args.target]
    n_missing = int(y.isna().sum())
    if n_missing:
        raise CLIError(
            f"{data_path}: target column {args.target!r} has {n_missing} missing values; "
            "drop those rows or fill them in."
        )
    X = frame.drop(columns=[args.target, *args.drop])
    if X.shape[1] == 0:
        raise CLIError(f"{data_path}: no feature columns left besides the target.")
    task = _resolve_task(args.task, y, args.target)
    if task == "regression" and not _is_numeric(y):
        raise CLIError(
            f"{data_path}: target column {args.target!r} is not numeric ({y.dtype}); "
            "use --task classification."
        )

    RankingClassifier, RankingRegressor = import_estimators()
    Estimator = RankingClassifier if task == "classification" else RankingRegressor
    estimator = Estimator(
        categorical_features=list(args.categorical) if args.categorical else "auto",
        dense_features=list(args.dense) if args.dense else "auto",
        interaction=args.interaction,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        embedding_dim=args.embedding_dim,
        bottom_stack=tuple(args.bottom_stack),
        top_stack=tuple(args.top_stack),
        random_state=args.random_state,
        verbose=1 if args.verbose else 0,
    )
    print(
        f"fitting {Estimator.__name__}(interaction={args.interaction!r}) on {len(X):,} rows "
        f"of {data_path} ({task}, target {args.target!r})",
        file=sys.stderr,
    )
    try:
        estimator.fit(X, y)
    except (ValueError, TypeError, FloatingPointError) as exc:
        if args.verbose:
            raise
        raise CLIError(f"{data_path}: cannot fit: {_one_line(exc)}") from exc

    header = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "skrank_version": __version__,
        "target": args.target,
        "task": task,
        "feature_names": [str(c) for c in X.columns],
        "trained_on": str(data_path),
        "n_rows": len(X),
    }
    _save_model(header, estimator, Path(args.out))
    split = estimator.preprocessor_
    print(
        f"wrote {args.out} (categorical: {', '.join(map(str, split.categorical_features_)) or '-'}"
        f"; dense: {', '.join(map(str, split.dense_features_)) or '-'}; "
        f"{estimator.n_iter_} epoch{'s' if estimator.n_iter_ != 1 else ''})",
        file=sys.stderr,
    )
    return 0


def _is_numeric(y) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _save_model(header: dict, estimator, path: Path) -> None:
    import joblib

    try:
        joblib.dump({"header": header, "estimator": estimator}, path)
    except OSError as exc:
        raise CLIError(f"{path}: cannot write the model: {exc.strerror or exc}") from exc


def load_model(path) -> tuple[dict, object]:
    """``(header, estimator)`` from a model file; CLIError if it is not one."""
    import joblib

    path = Path(path)
    if not path.exists():
        raise CLIError(f"{path}: no such file.")
    if path.is_dir():
        raise CLIError(f"{path}: is a directory, expected a model file.")
    import_estimators()  # TensorFlow quietly, before unpickling imports Keras
    try:
        content = joblib.load(path)
    except Exception as exc:
        raise CLIError(
            f"{path}: not a readable skrank model file ({_one_line(exc)[:200]}); write one "
            "with 'python -m skrank fit'."
        ) from exc
    header = content.get("header") if isinstance(content, dict) else None
    if not isinstance(header, dict) or header.get("format") != MODEL_FORMAT:
        raise CLIError(f"{path}: not a skrank model file; write one with 'python -m skrank fit'.")
    if header.get("format_version") != MODEL_FORMAT_VERSION:
        raise CLIError(
            f"{path}: model file format {header.get('format_version')} written by skrank "
            f"{header.get('skrank_version')} is not readable by skrank {__version__}."
        )
    return header, content["estimator"]


# ------------------------------------------------------------------ predict
def run_predict(args) -> int:
    data_path = Path(args.data)
    model_path = Path(args.model)
    if args.out is not None:
        output_format(Path(args.out))  # fail before the slow part
    if not model_path.exists():
        raise CLIError(f"{model_path}: no such file.")
    frame = read_table(data_path, sep=args.sep)
    header, estimator = load_model(model_path)
    features = header["feature_names"]
    check_columns(frame, features, data_path, "feature column")
    check_columns(frame, args.keep, data_path)
    if args.proba and header["task"] != "classification":
        raise CLIError(
            f"{model_path}: --proba needs a classification model; this one is a "
            f"{header['task']} model of {header['target']!r}."
        )

    X = frame[features]
    out = frame[list(args.keep)].reset_index(drop=True)
    try:
        if header["task"] == "classification":
            proba = estimator.predict_proba(X)
            out["prediction"] = estimator.classes_[proba.argmax(axis=1)]
            if args.proba:
                for j, label in enumerate(estimator.classes_):
                    out[f"proba_{label}"] = proba[:, j]
        else:
            out["prediction"] = estimator.predict(X)
    except (ValueError, TypeError) as exc:
        if args.verbose:
            raise
        raise CLIError(f"{data_path}: cannot predict: {_one_line(exc)}") from exc

    if args.out is None:
        out.to_csv(sys.stdout, sep=args.sep or ",", index=False)
    else:
        write_table(out, args.out, sep=args.sep)
        print(f"wrote {len(out):,} predictions to {args.out}", file=sys.stderr)
    return 0
