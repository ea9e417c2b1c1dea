"""Quality of skrank's defaults against library-default baselines on real tables.

:func:`run_quality` fits every model on the same seeded splits of every table of
:data:`~skrank.benchmarks._tables.TABLES` and returns one record per (table, model,
split); :mod:`skrank.benchmarks._quality_report` summarizes them. Example, from a
script::

    from skrank.benchmarks._quality import run_quality
    from skrank.benchmarks._quality_report import summarize, markdown

    results = run_quality(
        tables=["verbagg", "churn"],
        models=["skrank", "lightgbm"],
        repeats=3,
        variants={"dim32": {"embedding_dim": 32}},
    )
    print(markdown(summarize(results)))
"""

from __future__ import annotations

import importlib.util
import time
import warnings
from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from skrank.benchmarks._tables import TABLES

MODELS = ("skrank", "hgb", "lightgbm", "linear", "bias")

MODEL_LABELS = {
    "skrank": "skrank RankingClassifier / RankingRegressor()",
    "hgb": "HistGradientBoosting (native categories up to 254 levels)",
    "lightgbm": "LightGBM LGBMClassifier / LGBMRegressor()",
    "linear": "one-hot LogisticRegression / Ridge",
    "bias": "per-user + per-item bias (pair tables)",
}


def _columns(X):
    categorical = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
    return categorical, [c for c in X.columns if c not in categorical]


def make_model(name, spec, X_train, *, seed, skrank_params=None):
    """An unfitted estimator of model ``name`` for table ``spec``, or None where it does not apply.

    ``skrank_params`` are passed to ``RankingClassifier`` / ``RankingRegressor`` (and
    so to every skrank variant) on top of ``random_state=seed``.
    """
    regression = spec.task == "regression"
    categorical, dense = _columns(X_train)
    if name == "skrank":
        from skrank import RankingClassifier, RankingRegressor

        Model = RankingRegressor if regression else RankingClassifier
        return Model(**{"random_state": seed, **(skrank_params or {})})
    if name == "hgb":
        # HGB splits natively on at most 254 categories; gradient_boosting gives
        # columns with more levels ordinal codes, split on as if they were numbers.
        from skrank._cli._baselines import gradient_boosting

        kind = "regressor" if regression else "classifier"
        return gradient_boosting(kind, X_train, categorical, dense, random_state=seed)
    if name == "lightgbm":
        import lightgbm

        Model = lightgbm.LGBMRegressor if regression else lightgbm.LGBMClassifier
        return Model(verbose=-1, random_state=seed)
    if name == "linear":
        from sklearn.linear_model import Ridge
        from sklearn.pipeline import make_pipeline

        from skrank._cli._baselines import logistic_regression

        model = logistic_regression(categorical, dense)
        # The same one-hot / impute / scale encoder in front of a ridge regression.
        return make_pipeline(model[0], Ridge()) if regression else model
    if name == "bias":
        if spec.pair is None or spec.task == "multiclass":
            return None
        from skrank._cli._baselines import BiasBaselineRegressor

        return BiasBaselineRegressor(user=spec.pair[0], item=spec.pair[1])
    raise ValueError(f"Unknown model {name!r}; choose from {list(MODELS)}.")


def splits(task: str, y, *, repeats: int, test_size: float, seed: int):
    """``repeats`` shuffled train / test splits (stratified for classification); split r
    uses ``random_state=seed + r``. Every model sees the same indices."""
    from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

    Split = ShuffleSplit if task == "regression" else StratifiedShuffleSplit
    placeholder = np.zeros((len(y), 1))
    return [
        next(Split(n_splits=1, test_size=test_size, random_state=seed + r).split(placeholder, y))
        for r in range(repeats)
    ]


def score(task: str, model, X_test, y_test) -> float:
    """ROC AUC (macro one-vs-rest if multiclass) or RMSE on the held-out rows."""
    from sklearn.metrics import roc_auc_score, root_mean_squared_error

    if task == "regression":
        return float(root_mean_squared_error(y_test, model.predict(X_test)))
    if not hasattr(model, "predict_proba"):  # the bias baseline scores a 0/1 target
        return float(roc_auc_score(y_test, model.predict(X_test)))
    proba = model.predict_proba(X_test)
    if task == "binary":
        return float(roc_auc_score(y_test, proba[:, 1]))
    return float(
        roc_auc_score(y_test, proba, multi_class="ovr", average="macro", labels=model.classes_)
    )


def subsample(X, y, max_rows, *, seed):
    """The same seeded ``max_rows`` rows for every model (all rows if there are fewer)."""
    if max_rows is None or len(X) <= max_rows:
        return X, y
    keep = np.sort(np.random.default_rng(seed).choice(len(X), size=max_rows, replace=False))
    X = X.iloc[keep].reset_index(drop=True)
    for column in X.columns:
        if isinstance(X[column].dtype, pd.CategoricalDtype):
            X[column] = X[column].cat.remove_unused_categories()
    return X, y.iloc[keep].reset_index(drop=True)


def _check_names(kind, chosen, allowed):
    unknown = [name for name in chosen if name not in allowed]
    if unknown:
        raise ValueError(f"Unknown {kind} {unknown}; choose from {list(allowed)}.")


def _check_variants(variants):
    variants = dict(variants or {})
    for name, params in variants.items():
        if name in MODELS or not isinstance(params, Mapping):
            raise ValueError(
                f"Variant {name!r}: give a name other than {list(MODELS)} and a dict of "
                f"RankingClassifier / RankingRegressor parameters, got {params!r}."
            )
    return variants


def run_quality(
    tables: Iterable[str] | None = None,
    models: Iterable[str] | None = None,
    *,
    repeats: int = 3,
    variants: Mapping[str, Mapping] | None = None,
    skrank_params: Mapping | None = None,
    max_rows: int | None = None,
    test_size: float = 0.2,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Fit and score every model on ``repeats`` splits of every table.

    Parameters
    ----------
    tables : list of str, default=None
        Names from :data:`~skrank.benchmarks._tables.TABLES`; None for all of them.
    models : list of str, default=None
        A subset of :data:`MODELS`; None for all of them.
    repeats : int, default=3
        Shuffled ``1 - test_size`` / ``test_size`` splits per table.
    variants : dict of str to dict, default=None
        Extra skrank rows: ``{"dim32": {"embedding_dim": 32}}`` adds a model "dim32",
        skrank with ``skrank_params`` updated by ``{"embedding_dim": 32}``.
    skrank_params : dict, default=None
        Parameters of the "skrank" row (and base of every variant) besides
        ``random_state``.
    max_rows : int, default=None
        Seeded subsample of at most this many rows of every table; None keeps each
        table's own default (only ``flights`` is capped, at 100,000 rows).
    test_size : float, default=0.2
    seed : int, default=0
        Split ``r`` and every model fitted on it use ``seed + r``; the subsample uses
        ``seed``.
    log : callable, default=None
        Called with one line of progress per fit.

    Returns
    -------
    results : dict
        ``config``, ``tables`` (what was run on each table) and ``records``, one per
        (table, model, split): ``score``, ``fit_seconds``, ``predict_seconds``, or
        ``error``. Models that do not apply to a table (``bias`` without a user / item
        pair) have no record there.
    """
    tables = list(TABLES) if tables is None else list(tables)
    models = list(MODELS) if models is None else list(models)
    _check_names("tables", tables, TABLES)
    _check_names("models", models, MODELS)
    variants = _check_variants(variants)
    if "lightgbm" in models and importlib.util.find_spec("lightgbm") is None:
        raise ImportError(
            "The 'lightgbm' model needs LightGBM: pip install 'skrank[benchmarks]', or "
            "leave it out of models."
        )
    skrank_params = dict(skrank_params or {})
    variant_params = {name: {**skrank_params, **params} for name, params in variants.items()}
    log = log or (lambda message: None)
    started = time.perf_counter()
    results = {
        "config": {
            "tables": tables,
            "models": models + list(variants),
            "repeats": repeats,
            "test_size": test_size,
            "seed": seed,
            "max_rows": max_rows,
            "skrank_params": skrank_params,
            "variants": variants,
        },
        "tables": {},
        "records": [],
    }
    for table in tables:
        spec = TABLES[table]
        X, y = spec.load()  # once per table: every split and model reuses it
        cap = spec.max_rows if max_rows is None else max_rows
        X, y = subsample(X, y, cap, seed=seed)
        results["tables"][table] = {
            "source": spec.source,
            "task": spec.task,
            "target": spec.target,
            "rows": len(X),
            "rows_available": spec.rows,
            "columns": X.shape[1],
            "categorical": len(_columns(X)[0]),
            "id_columns": list(spec.id_columns),
        }
        for r, (train, test) in enumerate(
            splits(spec.task, y, repeats=repeats, test_size=test_size, seed=seed)
        ):
            X_train, y_train = X.iloc[train], y.iloc[train]
            X_test, y_test = X.iloc[test], y.iloc[test]
            for name in models + list(variants):
                base, params = (
                    ("skrank", variant_params[name]) if name in variants else (name, skrank_params)
                )
                model = make_model(base, spec, X_train, seed=seed + r, skrank_params=params)
                if model is None:
                    continue
                record = {"table": table, "model": name, "repeat": r}
                record.update(_fit_and_score(spec.task, model, X_train, y_train, X_test, y_test))
                results["records"].append(record)
                shown = record.get("error") or (
                    f"{record['score']:.4f}, fit {record['fit_seconds']:.1f} s"
                )
                log(f"  {table} split {r + 1}/{repeats} {name}: {shown}")
    results["seconds"] = time.perf_counter() - started
    return results


def _fit_and_score(task, model, X_train, y_train, X_test, y_test):
    # Library warnings (convergence, feature names) would drown the progress lines.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            started = time.perf_counter()
            model.fit(X_train, y_train)
            fitted = time.perf_counter()
            value = score(task, model, X_test, y_test)
        except Exception as exc:  # one failing model must not lose the whole run
            return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    return {
        "score": value,
        "fit_seconds": fitted - started,
        "predict_seconds": time.perf_counter() - fitted,
    }
