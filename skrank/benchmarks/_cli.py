"""``python -m skrank.benchmarks``: options, the order of the sections, the outputs."""

import argparse
import importlib
import importlib.util
import os
import platform
import sys
import time

SECTIONS = ("throughput", "roofline", "preprocessing", "defaults", "scaling", "memory")
CONTENDERS = ("skrank", "skrank_dlrm", "skrank_float32", "keras", "hgb", "lightgbm")

_FULL = {
    "rows": 200_000,
    "test_rows": 50_000,
    "rounds": 3,
    "single_row_repeats": 200,
    "preprocess_rows": 1_000_000,
    "scaling_rows": "10000,30000,100000,300000,1000000",
    "memory_rows": 1_000_000,
}
_QUICK = {
    "rows": 20_000,
    "test_rows": 5_000,
    "rounds": 1,
    "single_row_repeats": 50,
    "preprocess_rows": 50_000,
    "scaling_rows": "5000,10000,20000",
    "memory_rows": 20_000,
}


def _parser():
    p = argparse.ArgumentParser(
        prog="python -m skrank.benchmarks",
        description=(
            "Compare skrank's RankingClassifier with a hand-written Keras 3 DLRM, "
            "HistGradientBoostingClassifier and LightGBM on generated Criteo-like data "
            "(skrank.datasets.make_ctr_classification): train / predict throughput, "
            "one-row latency, the compute roof (FLOPs per row against the measured "
            "matmul peak), preprocessing speed, peak memory, held-out AUC and log "
            "loss, quality of the defaults, and fit time vs rows. Contenders are "
            "interleaved within each round and medians over rounds are reported; "
            "predictions are timed warm (one untimed call first) for every contender. "
            "Writes results.json and results.md (and fit_scaling.png with matplotlib)."
        ),
        epilog="`python -m skrank.benchmarks memory --help`: peak memory of a streamed fit "
        "(Parquet files) for tables of several sizes. `python -m skrank.benchmarks quality "
        "--help`: held-out quality of the defaults against GBDT and linear baselines on "
        "real tables. `python -m skrank.benchmarks ranking --help`: NDCG@10 and fit "
        "rows/s of the Ranker against LightGBM's LGBMRanker on per-user MovieLens ranking. "
        "`python -m skrank.benchmarks lists --help`: list columns against their "
        "workarounds (joined strings, 0/1 columns), cold start on MovieLens split by "
        "movie, and the fit cost of a list column.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="small sizes and one round (about a minute); explicit size options still override",
    )
    p.add_argument(
        "--rows",
        type=int,
        help=f"training rows (default {_FULL['rows']:,}; quick {_QUICK['rows']:,})",
    )
    p.add_argument(
        "--test-rows",
        type=int,
        help="held-out rows: scored for AUC / log loss and timed for predict "
        f"throughput (default {_FULL['test_rows']:,})",
    )
    p.add_argument(
        "--rounds",
        type=int,
        help=f"interleaved repetitions; medians are reported (default {_FULL['rounds']})",
    )
    p.add_argument(
        "--single-row-repeats",
        type=int,
        help="one-row predict_proba calls per latency measurement; the median "
        f"is reported (default {_FULL['single_row_repeats']})",
    )
    p.add_argument(
        "--preprocess-rows",
        type=int,
        help="rows of the frame for RankingPreprocessor vs ColumnTransformer "
        f"(default {_FULL['preprocess_rows']:,})",
    )
    p.add_argument(
        "--scaling-rows",
        help="comma-separated training sizes for the fit time vs rows curve "
        f"(default {_FULL['scaling_rows']})",
    )
    p.add_argument(
        "--scaling-contenders", default="skrank,keras", help="contenders timed on the scaling curve"
    )
    p.add_argument(
        "--memory-rows",
        type=int,
        help="training rows for the peak-memory fits, each in a fresh "
        f"subprocess (default {_FULL['memory_rows']:,})",
    )
    p.add_argument(
        "--memory-contenders",
        default="skrank,keras,hgb",
        help="contenders whose fit's peak memory is measured",
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=1,
        help="epochs of the throughput, scaling and memory fits (the same work "
        "for skrank and Keras; the defaults section uses skrank's own)",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=1024,
        help="batch size of the throughput, scaling and memory fits",
    )
    p.add_argument(
        "--contenders",
        default=",".join(CONTENDERS),
        help=f"comma-separated subset of {','.join(CONTENDERS)}",
    )
    p.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated subset of {','.join(SECTIONS)}",
    )
    p.add_argument("--n-dense", type=int, default=13, help="dense columns of the generated data")
    p.add_argument(
        "--n-categorical",
        type=int,
        default=26,
        help="categorical columns of the generated data (cardinalities spread "
        "log-uniformly from 10 to 100,000)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the data and of every model")
    p.add_argument(
        "--output",
        default="benchmark_results",
        help="directory for results.json, results.md and fit_scaling.png",
    )
    p.add_argument("--quiet", action="store_true", help="print only the final table")
    return p


def _settings(args):
    base = _QUICK if args.quick else _FULL
    settings = {k: getattr(args, k) if getattr(args, k) is not None else v for k, v in base.items()}
    settings["scaling_rows"] = [int(s) for s in str(settings["scaling_rows"]).split(",") if s]
    for name, allowed in (("contenders", CONTENDERS), ("sections", SECTIONS)):
        chosen = [s.strip() for s in getattr(args, name).split(",") if s.strip()]
        unknown = sorted(set(chosen) - set(allowed))
        if unknown:
            raise SystemExit(f"--{name}: unknown {unknown}; choose from {list(allowed)}")
        settings[name] = chosen
    for name in ("scaling_contenders", "memory_contenders"):
        settings[name] = [s for s in getattr(args, name).split(",") if s in CONTENDERS]
    return settings


def _machine():
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )


def _peer_notes():
    notes = []
    if importlib.util.find_spec("tensorflow_recommenders") is None:
        notes.append(
            "TFRS (tensorflow-recommenders on tf-keras) is not installed in this "
            "environment: skipped. It needs tf-keras, which conflicts with Keras 3, so it "
            "would run in its own environment."
        )
    return notes


# Subcommands, each a module with its own ``main(argv)``; the first argument picks one.
SUBCOMMANDS = {
    "lists": "skrank.benchmarks._lists",
    "memory": "skrank.benchmarks._memory",
    "quality": "skrank.benchmarks._quality_cli",
    "ranking": "skrank.benchmarks._ranking",
}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] and argv[0] in SUBCOMMANDS:
        return importlib.import_module(SUBCOMMANDS[argv[0]]).main(argv[1:])
    args = _parser().parse_args(argv)
    settings = _settings(args)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, flush=True))

    from skrank._tf import import_tensorflow

    import_tensorflow()

    import warnings

    from skrank.benchmarks import _report, _run
    from skrank.datasets import make_ctr_classification

    warnings.filterwarnings("ignore", message=".*shuffle.*ignored.*")
    seed = settings_seed = args.seed
    config = {
        **settings,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "seed": settings_seed,
        "quick": args.quick,
        "n_dense": args.n_dense,
        "n_categorical": args.n_categorical,
    }
    results = {"config": config, "machine": _machine(), "notes": _peer_notes()}
    os.makedirs(args.output, exist_ok=True)
    started = time.perf_counter()

    def data(n_train, n_test=0):
        X, y = make_ctr_classification(
            n_train + n_test,
            n_dense=args.n_dense,
            n_categorical=args.n_categorical,
            random_state=seed,
        )
        y = y.to_numpy()
        if not n_test:
            return X, y
        return X.iloc[:n_train], y[:n_train], X.iloc[n_train:], y[n_train:]

    sections = settings["sections"]
    common = {"epochs": args.epochs, "batch_size": args.batch_size, "seed": seed, "log": log}
    if {"throughput", "roofline", "defaults"} & set(sections):
        split = data(settings["rows"], settings["test_rows"])
    if "throughput" in sections:
        log(f"throughput ({settings['rows']:,} training rows, {settings['rounds']} rounds)")
        results["throughput"] = _run.throughput(
            split,
            settings["contenders"],
            rounds=settings["rounds"],
            single_row_repeats=settings["single_row_repeats"],
            **common,
        )
    if "roofline" in sections:
        from skrank.benchmarks._roofline import roofline

        log("roofline (FLOPs per row, matmul peaks)")
        results["roofline"] = roofline(
            split[0], split[1], batch_size=args.batch_size, seed=seed, log=log
        )
    if "preprocessing" in sections:
        log(f"preprocessing ({settings['preprocess_rows']:,} rows)")
        X, _ = data(settings["preprocess_rows"])
        results["preprocessing"] = _run.preprocessing(X, rounds=settings["rounds"], log=log)
        del X
    if "defaults" in sections:
        log("quality of defaults")
        results["default_quality"] = _run.default_quality(split, seed=seed, log=log)
    if "scaling" in sections:
        log("fit time vs rows")
        results["scaling"] = _run.fit_scaling(
            data, settings["scaling_rows"], names=settings["scaling_contenders"], **common
        )
        path = os.path.join(args.output, "fit_scaling.png")
        if _report.plot_scaling(results["scaling"], path):
            results["scaling_plot"] = "fit_scaling.png"
        else:
            results["notes"].append("matplotlib is not installed: no fit_scaling.png.")
    if "memory" in sections:
        log(f"peak memory ({settings['memory_rows']:,} rows, fresh subprocesses)")
        results["memory"] = _run.memory(
            settings["memory_contenders"],
            settings["memory_rows"],
            columns=(args.n_dense, args.n_categorical),
            **common,
        )
    results["ratios"] = _report.ratios(results)
    results["seconds"] = time.perf_counter() - started
    _report.write_json(results, os.path.join(args.output, "results.json"))
    text = _report.markdown(results)
    with open(os.path.join(args.output, "results.md"), "w") as f:
        f.write(text)
    print(text)
    log(
        f"wrote {os.path.join(args.output, 'results.json')} and results.md "
        f"in {results['seconds']:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
