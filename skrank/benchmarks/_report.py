"""Turn the benchmark's measurements into Markdown, JSON and a plot."""

import json

import numpy as np

_MiB = 2**20


def _ratio(a, b):
    return None if not a or not b else a / b


def _fmt(value, spec):
    return "n/a" if value is None else format(value, spec)


def _x(value):
    return "n/a" if value is None else f"{value:.2f}x"


_BATCH_PREFIX = "predict_rows_per_s_batch_"


def fastest_batch(median):
    """(batch size, rows/s) of the fastest extra predict batch timed, or None."""
    timed = [
        (int(key[len(_BATCH_PREFIX) :]), value)
        for key, value in median.items()
        if key.startswith(_BATCH_PREFIX)
    ]
    return max(timed, key=lambda item: item[1]) if timed else None


def throughput_table(section, batch_size=None):
    """One row per contender (plus one per contender timed at further predict batches)."""
    lines = [
        "| implementation | train rows/s | predict rows/s | 1-row latency (ms) | AUC | log loss |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for entry in section.values():
        m = entry["median"]
        fastest = fastest_batch(m)
        label = entry["label"]
        if fastest and batch_size:
            label += f", `predict(batch_size={batch_size})`"
        lines.append(
            f"| {label} | {m['train_rows_per_s']:,.0f} | {m['predict_rows_per_s']:,.0f} "
            f"| {m['single_row_seconds'] * 1e3:.2f} | {m['auc']:.4f} | {m['log_loss']:.4f} |"
        )
        if fastest:
            tried = ", ".join(
                key[len(_BATCH_PREFIX) :] for key in m if key.startswith(_BATCH_PREFIX)
            )
            lines.append(
                f"| {entry['label']}, `predict(batch_size={fastest[0]})` (fastest of {tried}) "
                f"| | {fastest[1]:,.0f} | | | |"
            )
    return "\n".join(lines)


# The skrank rows compared with the hand-written Keras DLRM: (contender, key suffix,
# label suffix). "skrank_dlrm" has the Keras model's architecture: like for like.
RATIO_ROWS = (
    ("skrank_dlrm", "_dlrm", ", skrank as DLRM (like for like)"),
    ("skrank_float32", "_float32", ", skrank as DLRM, dtype_policy='float32'"),
    ("skrank", "", ", skrank's default model (DCN-v2, numeric embeddings)"),
)


def ratios(results):
    """skrank / hand-written Keras ratios of every figure measured for both."""
    out = {}
    through = results.get("throughput", {})
    for name, suffix, _ in RATIO_ROWS:
        if name not in through or "keras" not in through:
            continue
        s, k = through[name]["median"], through["keras"]["median"]
        out["train_rows_per_s" + suffix] = _ratio(s["train_rows_per_s"], k["train_rows_per_s"])
        out["predict_rows_per_s" + suffix] = _ratio(
            s["predict_rows_per_s"], k["predict_rows_per_s"]
        )
        fastest = fastest_batch(k)
        if fastest:
            out["predict_rows_per_s_fastest_batch" + suffix] = _ratio(
                s["predict_rows_per_s"], fastest[1]
            )
        # Latency: how many times faster skrank answers (keras time / skrank time).
        out["single_row_speedup" + suffix] = _ratio(
            k["single_row_seconds"], s["single_row_seconds"]
        )
        out["auc_difference" + suffix] = s["auc"] - k["auc"]
    memory = {m["contender"]: m for m in results.get("memory", []) if "error" not in m}
    if "skrank" in memory and "keras" in memory:
        out["peak_rss"] = _ratio(
            memory["skrank"]["peak_rss_during_fit"], memory["keras"]["peak_rss_during_fit"]
        )
    return out


def memory_table(entries):
    lines = [
        "| implementation | rows | RSS before fit (MiB) | peak RSS in fit (MiB) | fit growth "
        "(MiB) | DataFrame (MiB) | encoded arrays (MiB) | model + optimizer (MiB) "
        "| peak / (before + encoded + model) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in entries:
        if "error" in m:
            lines.append(f"| {m['contender']} | {m['rows']:,} | failed: {m['error']} |||||||")
            continue
        before, peak = m["rss_before_fit"], m["peak_rss_during_fit"]
        budget = None
        if before is not None:
            budget = before + (m["encoded_bytes"] or 0) + (m["model_bytes"] or 0)
        mib = lambda v: _fmt(None if v is None else v / _MiB, ",.0f")  # noqa: E731
        lines.append(
            f"| {m['contender']} | {m['rows']:,} | {mib(before)} | {mib(peak)} "
            f"| {mib(None if before is None else peak - before)} | {mib(m['frame_bytes'])} "
            f"| {mib(m['encoded_bytes'])} | {mib(m['model_bytes'])} "
            f"| {_x(_ratio(peak, budget))} |"
        )
    return "\n".join(lines)


def scaling_table(points):
    lines = ["| implementation | rows | fit seconds | rows/s |", "|---|---:|---:|---:|"]
    for p in points:
        lines.append(
            f"| {p['contender']} | {p['rows']:,} | {p['fit_seconds']:.2f} "
            f"| {p['rows_per_s']:,.0f} |"
        )
    for name in sorted({p["contender"] for p in points}):
        slope = scaling_slope([p for p in points if p["contender"] == name])
        if slope is not None:
            lines.append(f"\n{name}: log-log slope of fit time vs rows = {slope:.2f} (1 = linear)")
    return "\n".join(lines)


def scaling_slope(points):
    """Least-squares slope of log(fit seconds) on log(rows); None with < 2 sizes."""
    if len({p["rows"] for p in points}) < 2:
        return None
    x = np.log([p["rows"] for p in points])
    y = np.log([p["fit_seconds"] for p in points])
    return float(np.polyfit(x, y, 1)[0])


def markdown(results):
    config = results["config"]
    parts = [
        "# skrank benchmark",
        "",
        f"Data: `make_ctr_classification` (seed {config['seed']}), {config['rows']:,} training "
        f"rows, {config['test_rows']:,} held-out rows, {config['n_dense']} dense + "
        f"{config['n_categorical']} categorical columns. "
        f"Throughput: epochs={config['epochs']}, batch_size={config['batch_size']}, no early "
        f"stopping; median of {config['rounds']} interleaved rounds. Machine: "
        f"{results['machine']}.",
    ]
    if "throughput" in results:
        through = results["throughput"]
        parts += [
            "",
            "## Throughput and quality",
            "",
            throughput_table(through, config["batch_size"]),
        ]
        parts += [
            "",
            "skrank times include preprocessing the DataFrame; the Keras model gets arrays "
            "encoded beforehand (untimed) and predicts with `model.predict` at the training "
            f"batch ({config['batch_size']}) and at its fastest larger batch. Predict and "
            "1-row figures are timed warm for every contender alike: one untimed call on "
            "the same input before each timed `predict_proba` call, and one untimed one-row "
            "call before the timed one-row calls (the Keras model traces its predict "
            "function there). skrank's own warm-up (tracing and checking its prediction "
            "blocks at the end of `fit`) stays inside its fit time.",
        ]
    rat = ratios(results)
    if rat:
        keras = results.get("throughput", {}).get("keras", {}).get("median", {})
        fastest = fastest_batch(keras)
        at_fastest = f"Keras `predict` at batch {fastest[0]}" if fastest else ""
        at_training = f"Keras `predict` at batch {config['batch_size']}"
        parts += ["", "## skrank / hand-written Keras DLRM", "", "| figure | ratio |", "|---|---:|"]
        names = {
            "train_rows_per_s": "train rows/s",
            "predict_rows_per_s": f"predict rows/s vs {at_training}",
            "predict_rows_per_s_fastest_batch": f"predict rows/s vs {at_fastest} (fastest)",
            "single_row_speedup": "1-row latency speed-up (Keras ms / skrank ms)",
        }
        for _, suffix, row_label in RATIO_ROWS:
            for key, label in names.items():
                if key + suffix in rat:
                    parts.append(f"| {label}{row_label} | {_x(rat[key + suffix])} |")
            if "auc_difference" + suffix in rat:
                diff = rat["auc_difference" + suffix]
                parts.append(f"| AUC difference (skrank - Keras){row_label} | {diff:+.4f} |")
        if "peak_rss" in rat:
            parts.append(f"| peak RSS in fit | {_x(rat['peak_rss'])} |")
    if "roofline" in results:
        from skrank.benchmarks._roofline import table

        parts += [
            "",
            "## Roofline: FLOPs per row against the measured matmul peak",
            "",
            table(results["roofline"], results.get("throughput")),
            "",
            "Roof = the best matmul GFLOP/s of the contender's precision / its FLOPs per "
            "row (TensorFlow's graph profiler; training = forward + gradients). Embedding "
            "lookups, optimizer updates, data feeding and per-step overhead do no matrix "
            "work, so no implementation reaches 100%.",
        ]
    if "preprocessing" in results:
        p = results["preprocessing"]
        s, c = p["skrank"]["median"], p["column_transformer"]["median"]
        parts += [
            "",
            f"## Preprocessing ({p['rows']:,} rows x {p['columns']} columns, fit_transform)",
            "",
            "| implementation | rows/s | seconds |",
            "|---|---:|---:|",
            f"| RankingPreprocessor | {s['rows_per_s']:,.0f} | {s['seconds']:.2f} |",
            f"| ColumnTransformer(OrdinalEncoder, StandardScaler) | {c['rows_per_s']:,.0f} "
            f"| {c['seconds']:.2f} |",
            "",
            f"Ratio: {_x(_ratio(s['rows_per_s'], c['rows_per_s']))}.",
        ]
    if "default_quality" in results:
        q = results["default_quality"]
        s, h = q["skrank_default"], q["hgb"]
        parts += [
            "",
            "## Quality of defaults (held-out)",
            "",
            "| model | AUC | log loss | fit seconds |",
            "|---|---:|---:|---:|",
            f"| RankingClassifier() ({s['epochs_run']} epochs, batch {s['batch_size']}) "
            f"| {s['auc']:.4f} | {s['log_loss']:.4f} | {s['fit_seconds']:.1f} |",
            f"| HistGradientBoostingClassifier() | {h['auc']:.4f} | {h['log_loss']:.4f} "
            f"| {h['fit_seconds']:.1f} |",
        ]
    if results.get("memory"):
        parts += [
            "",
            "## Peak memory of fit (fresh subprocess each)",
            "",
            memory_table(results["memory"]),
        ]
    if results.get("scaling"):
        parts += ["", "## Fit time vs rows", "", scaling_table(results["scaling"])]
        if results.get("scaling_plot"):
            parts += ["", f"![fit time vs rows]({results['scaling_plot']})"]
    if results.get("notes"):
        parts += ["", "## Notes", ""] + [f"- {note}" for note in results["notes"]]
    return "\n".join(parts) + "\n"


def plot_scaling(points, path):
    """Write a log-log plot of fit seconds vs rows; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    for name in sorted({p["contender"] for p in points}):
        mine = sorted((p for p in points if p["contender"] == name), key=lambda p: p["rows"])
        ax.plot([p["rows"] for p in mine], [p["fit_seconds"] for p in mine], "o-", label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training rows")
    ax.set_ylabel("fit seconds")
    ax.set_title("Fit time vs rows (1 epoch)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def write_json(results, path):
    with open(path, "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
