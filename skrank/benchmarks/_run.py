"""The benchmark's sections: each returns plain dicts of measurements.

Timings on a shared machine drift from minute to minute, so every comparison
interleaves the contenders within a round (their order rotating from round to
round) and reports the median over rounds; ratios are taken between figures
measured in the same run.

Predictions are timed warm for every contender alike: one untimed call on the same
input comes before each timed ``predict_proba`` call, and one untimed one-row call
before the timed one-row calls. Whatever a contender does inside ``fit`` to be ready
to predict (skrank traces and checks its prediction blocks at the end of ``fit``)
stays in its fit time.
"""

import gc
import time
from functools import partial

import numpy as np
from pandas.api.types import is_numeric_dtype
from sklearn.metrics import log_loss, roc_auc_score

from skrank.benchmarks._contenders import SkrankDefaultContender, contenders


def _rotated(items, shift):
    shift %= len(items)
    return items[shift:] + items[:shift]


def _clock(fn, *args):
    """``fn(*args)`` and the seconds it took."""
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def _timed(fn, *args):
    gc.collect()
    return _clock(fn, *args)


def _warm_timed(fn, *args):
    """One untimed call of ``fn(*args)`` (tracing, caches, allocation), then a timed one."""
    fn(*args)
    return _timed(fn, *args)


def _scores(y, proba):
    proba = np.clip(np.asarray(proba, dtype=np.float64), 1e-7, 1 - 1e-7)
    return {"auc": float(roc_auc_score(y, proba)), "log_loss": float(log_loss(y, proba))}


def single_row_latency(contender, X, repeats):
    """Median seconds of ``repeats`` one-row calls of ``predict_proba`` (distinct rows),
    after one untimed one-row call."""
    n = len(X[0]) if isinstance(X, tuple) else len(X)
    rows = [contender.one_row(X, i % n) for i in range(repeats + 1)]
    contender.predict_proba(rows[0])  # warm-up: the first call may trace / allocate
    times = [_clock(contender.predict_proba, row)[1] for row in rows[1:]]
    return float(np.median(times))


def throughput(data, names, *, rounds, epochs, batch_size, single_row_repeats, seed, log):
    """Train / predict throughput, one-row latency and held-out quality, per contender."""
    X_train, y_train, X_test, y_test = data
    runs = {name: [] for name in names}
    for r in range(rounds):
        for contender in _rotated(
            contenders(names, seed=seed + r, epochs=epochs, batch_size=batch_size), r
        ):
            train_in, test_in = contender.prepare(X_train, X_test)
            _, fit_s = _timed(contender.fit, train_in, y_train)
            proba, predict_s = _warm_timed(contender.predict_proba, test_in)
            extra = {}
            for batch in contender.extra_predict_batches:
                _, seconds = _warm_timed(
                    partial(contender.predict_proba, batch_size=batch), test_in
                )
                extra[f"predict_rows_per_s_batch_{batch}"] = len(y_test) / seconds
            latency = single_row_latency(contender, test_in, single_row_repeats)
            run = {
                "fit_seconds": fit_s,
                "train_rows_per_s": len(y_train) / fit_s,
                "predict_seconds": predict_s,
                "predict_rows_per_s": len(y_test) / predict_s,
                **extra,
                "single_row_seconds": latency,
                **_scores(y_test, proba),
            }
            runs[contender.name].append(run)
            batches = "".join(
                f" ({value:,.0f} at batch {key.rsplit('_', 1)[1]})" for key, value in extra.items()
            )
            log(
                f"  round {r + 1}/{rounds} {contender.name}: "
                f"{run['train_rows_per_s']:,.0f} train rows/s, "
                f"{run['predict_rows_per_s']:,.0f} predict rows/s{batches}, "
                f"{run['single_row_seconds'] * 1e3:.2f} ms/row, AUC {run['auc']:.4f}"
            )
            del contender
    return {
        name: {"label": _label(name), "median": _median(values), "runs": values}
        for name, values in runs.items()
    }


def preprocessing(X, *, rounds, log):
    """RankingPreprocessor.fit_transform vs a ColumnTransformer, same frame."""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OrdinalEncoder, StandardScaler

    from skrank.preprocessing import RankingPreprocessor

    categorical = [c for c in X.columns if not is_numeric_dtype(X[c])]
    dense = [c for c in X.columns if c not in categorical]

    def column_transformer():
        return ColumnTransformer(
            [
                (
                    "categorical",
                    OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                    categorical,
                ),
                ("dense", StandardScaler(), dense),
            ]
        )

    makers = {"skrank": RankingPreprocessor, "column_transformer": column_transformer}
    runs = {name: [] for name in makers}
    for r in range(rounds):
        for name in _rotated(list(makers), r):
            _, seconds = _timed(makers[name]().fit_transform, X)
            runs[name].append({"seconds": seconds, "rows_per_s": len(X) / seconds})
            log(f"  round {r + 1}/{rounds} {name}: {len(X) / seconds:,.0f} rows/s")
    return {
        "rows": len(X),
        "columns": X.shape[1],
        **{name: {"median": _median(values), "runs": values} for name, values in runs.items()},
    }


def default_quality(data, *, seed, log):
    """Held-out quality of RankingClassifier() with its defaults vs default HGB."""
    from skrank.benchmarks._contenders import HGBContender

    X_train, y_train, X_test, y_test = data
    result = {}
    for contender in (SkrankDefaultContender(seed=seed), HGBContender(seed=seed)):
        _, seconds = _timed(contender.fit, X_train, y_train)
        scores = _scores(y_test, contender.predict_proba(X_test))
        extra = {}
        if contender.name == "skrank_default":
            model = contender.model
            extra = {"epochs_run": model.n_iter_, "batch_size": model.batch_size_}
        result[contender.name] = {"fit_seconds": seconds, **scores, **extra}
        log(
            f"  {contender.name}: AUC {scores['auc']:.4f}, log loss {scores['log_loss']:.4f}, "
            f"fit {seconds:.1f} s"
        )
    return result


def fit_scaling(make_data, sizes, *, epochs, batch_size, seed, names, log):
    """Fit seconds vs training rows, for the contenders in ``names``."""
    points = []
    for n in sizes:
        X, y = make_data(n)
        for contender in contenders(names, seed=seed, epochs=epochs, batch_size=batch_size):
            train_in, _ = contender.prepare(X, X.iloc[:1])
            _, seconds = _timed(contender.fit, train_in, y)
            points.append(
                {
                    "contender": contender.name,
                    "rows": n,
                    "fit_seconds": seconds,
                    "rows_per_s": n / seconds,
                }
            )
            log(f"  {contender.name} {n:,} rows: {seconds:.1f} s ({n / seconds:,.0f} rows/s)")
            del contender
    return points


def memory(names, rows, *, columns, seed, epochs, batch_size, log):
    """Peak RSS of each contender's fit, each in a fresh subprocess."""
    from skrank.benchmarks._memory import measure_in_subprocess

    results = []
    for name in names:
        figures = measure_in_subprocess(name, rows, seed, epochs, batch_size, columns)
        results.append(figures)
        if "error" in figures:
            log(f"  {name}: failed: {figures['error']}")
        else:
            log(
                f"  {name}: peak RSS {figures['peak_rss_during_fit'] / 2**20:,.0f} MiB "
                f"(before fit {figures['rss_before_fit'] / 2**20:,.0f} MiB)"
            )
    return results


def _median(runs):
    return {key: float(np.median([run[key] for run in runs])) for key in runs[0]}


def _label(name):
    from skrank.benchmarks import _contenders

    for cls in vars(_contenders).values():
        if isinstance(cls, type) and getattr(cls, "name", None) == name:
            return cls.label
    return name
