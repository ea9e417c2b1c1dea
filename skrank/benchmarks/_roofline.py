"""The compute roof: FLOPs per row of the benchmarked models against the measured matmul peak.

A model cannot train or predict more rows per second than the machine's matrix
multiply peak divided by the model's floating-point operations per row. This
section counts those operations in the traced TensorFlow graphs (TensorFlow's
graph profiler: matrix multiplies, element-wise arithmetic; the backward pass is
counted from the gradient graph) and measures the peak of ``tf.linalg.matmul`` in
float32 and bfloat16 on this machine, at the shape of the models' widest layer
and at a large square shape. With the throughput section of the same run, it
says how close each contender comes to its roof and what a target ratio would
require of the machine.
"""

import time

import numpy as np

# (rows, inner, columns) of the timed matrix products: the training batch
# times the top MLP's first layer of the hand-written DLRM (367 inputs, 512
# units), and a large square product, the best case for the CPU's matrix units.
LAYER_SHAPE_INNER, LAYER_SHAPE_COLUMNS = 367, 512
SQUARE_SHAPE = (4096, 1024, 1024)
# FLOPs are counted on a batch of this many rows, then divided by it.
COUNT_BATCH = 256


def graph_flops(fn, *specs) -> float:
    """Floating-point operations of one call of ``fn`` on inputs of ``specs``."""
    from skrank._tf import import_tensorflow

    tf = import_tensorflow()
    graph = tf.function(fn).get_concrete_function(*specs).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return float(tf.compat.v1.profiler.profile(graph=graph, options=options).total_float_ops)


def model_flops_per_row(model, specs, call) -> dict:
    """Forward and training (forward + gradients) FLOPs per row of a Keras model.

    ``call(model, *inputs, training)`` runs the model on inputs of ``specs``
    (TensorSpecs with a leading batch dimension of :data:`COUNT_BATCH`).
    """
    from skrank._tf import import_tensorflow

    tf = import_tensorflow()

    def forward(*inputs):
        return call(model, *inputs, training=False)

    def train(*inputs):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.cast(call(model, *inputs, training=True), tf.float32))
        return tape.gradient(loss, model.trainable_variables)

    return {
        "forward": graph_flops(forward, *specs) / COUNT_BATCH,
        "train": graph_flops(train, *specs) / COUNT_BATCH,
    }


def matmul_gflops(dtype, shape, *, repeats=5, min_seconds=0.1) -> float:
    """Best GFLOP/s of ``tf.linalg.matmul`` of ``shape = (rows, inner, columns)``."""
    from skrank._tf import import_tensorflow

    tf = import_tensorflow()
    m, k, n = shape
    rng = np.random.default_rng(0)
    a = tf.cast(rng.standard_normal((m, k), dtype=np.float32), dtype)
    b = tf.cast(rng.standard_normal((k, n), dtype=np.float32), dtype)
    product = tf.function(tf.linalg.matmul)
    product(a, b).numpy()  # trace and warm
    start = time.perf_counter()
    product(a, b).numpy()
    calls = max(1, int(min_seconds / max(time.perf_counter() - start, 1e-6)))
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            c = product(a, b)
        c.numpy()
        best = max(best, 2.0 * m * k * n * calls / (time.perf_counter() - start))
    return best / 1e9


def _reference_flops(n_dense, n_categorical):
    from skrank._tf import import_tensorflow
    from skrank.benchmarks._reference import build_reference_dlrm

    tf = import_tensorflow()
    model = build_reference_dlrm([10] * n_categorical, n_dense)
    specs = (
        tf.TensorSpec((COUNT_BATCH, n_dense), tf.float32),
        tf.TensorSpec((COUNT_BATCH, n_categorical), tf.int32),
    )
    return model_flops_per_row(
        model, specs, lambda m, dense, ids, training: m([dense, ids], training=training)
    )


def _skrank_flops(X, y, seed):
    """FLOPs per row of the (one) model RankingClassifier's defaults build for ``X``,
    and its fitted ``dtype_policy_``."""
    from skrank import RankingClassifier
    from skrank._tf import import_tensorflow
    from skrank.estimators._data import model_inputs

    tf = import_tensorflow()
    clf = RankingClassifier(
        epochs=1, early_stopping=False, ensemble_size=1, random_state=seed, verbose=0
    ).fit(X, y)
    prep = clf.preprocessor_
    names = list(prep.categorical_features_)
    specs = (
        tf.TensorSpec((COUNT_BATCH, prep.n_dense_out_), tf.float32),
        tf.TensorSpec((COUNT_BATCH, len(names)), tf.int32),
    )

    def call(model, dense, ids, training):
        return model(model_inputs(dense, ids, names), training=training)

    return model_flops_per_row(clf.model_, specs, call), clf.dtype_policy_


# The throughput contenders and the model each of them runs.
_ARCHITECTURE = {
    "keras": "dlrm",
    "skrank_dlrm": "dlrm",
    "skrank_float32": "dlrm",
    "skrank": "default",
}


def roofline(X, y, *, batch_size, seed, log):
    """FLOPs per row of the DLRM and of skrank's default model, and the matmul peaks."""
    from pandas.api.types import is_float_dtype

    from skrank._tf import import_tensorflow

    tf = import_tensorflow()
    n_dense = sum(1 for c in X.columns if is_float_dtype(X[c].dtype))
    n_categorical = X.shape[1] - n_dense
    log("  counting FLOPs per row")
    flops = {"dlrm": _reference_flops(n_dense, n_categorical)}
    flops["default"], policy = _skrank_flops(X.iloc[:2000], y[:2000], seed)
    # skrank as DLRM keeps dtype_policy="auto" too: the same fitted precision.
    auto = "bfloat16" if "bfloat16" in str(policy) else "float32"
    peaks = {}
    for name, dtype in (("float32", tf.float32), ("bfloat16", tf.bfloat16)):
        layer = matmul_gflops(dtype, (batch_size, LAYER_SHAPE_INNER, LAYER_SHAPE_COLUMNS))
        square = matmul_gflops(dtype, SQUARE_SHAPE)
        peaks[name] = {"layer": layer, "square": square}
        log(f"  matmul peak {name}: {layer:.0f} GFLOP/s at the layer, {square:.0f} square")
    precision = {
        "keras": "float32",
        "skrank_float32": "float32",
        "skrank_dlrm": auto,
        "skrank": auto,
    }
    return {
        "flops_per_row": flops,
        "peak_gflops": peaks,
        "precision": precision,
        "architecture": dict(_ARCHITECTURE),
        "batch_size": batch_size,
    }


def roof_rows(section, contender, what):
    """Rows/s a contender could reach at its precision's best matmul peak, or None."""
    if contender not in section["architecture"]:
        return None
    flops = section["flops_per_row"][section["architecture"][contender]][what]
    peak = max(section["peak_gflops"][section["precision"][contender]].values())
    return peak * 1e9 / flops


def table(section, throughput=None):
    """Markdown: FLOPs, peaks, roofs and (with the throughput section) the share reached."""
    peaks = section["peak_gflops"]
    lines = [
        "| precision | matmul GFLOP/s at the widest layer "
        f"({section['batch_size']} x {LAYER_SHAPE_INNER} x {LAYER_SHAPE_COLUMNS}) "
        f"| at {' x '.join(map(str, SQUARE_SHAPE))} |",
        "|---|---:|---:|",
    ]
    for name, peak in peaks.items():
        lines.append(f"| {name} | {peak['layer']:,.0f} | {peak['square']:,.0f} |")
    lines += [
        "",
        "| model | forward MFLOP/row | training MFLOP/row |",
        "|---|---:|---:|",
    ]
    labels = {"dlrm": "DLRM (hand-written Keras = skrank as DLRM)", "default": "skrank default"}
    for key, label in labels.items():
        f = section["flops_per_row"][key]
        lines.append(f"| {label} | {f['forward'] / 1e6:.3f} | {f['train'] / 1e6:.3f} |")
    lines += [
        "",
        "| implementation | precision | train rows/s (roof) | share of roof "
        "| predict rows/s (roof) | share of roof |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name in section["architecture"]:
        if throughput is not None and name not in throughput:
            continue
        train_roof, predict_roof = (
            roof_rows(section, name, "train"),
            roof_rows(section, name, "forward"),
        )
        measured = (throughput or {}).get(name, {}).get("median", {})
        cells = []
        for roof, key in ((train_roof, "train_rows_per_s"), (predict_roof, "predict_rows_per_s")):
            value = measured.get(key)
            if key == "predict_rows_per_s" and name == "keras":
                value = _fastest_predict(measured)
            share = "n/a" if value is None else f"{value / roof:.0%}"
            shown = "" if value is None else f"{value:,.0f} "
            cells += [f"{shown}({roof:,.0f})", share]
        lines.append(f"| {name} | {section['precision'][name]} | " + " | ".join(cells) + " |")
    lines += _targets(section, throughput or {})
    return "\n".join(lines)


def _targets(section, throughput):
    """What the like-for-like targets (3x Keras train, 1.5x / 2x its predict) require."""
    if "keras" not in throughput or "skrank_dlrm" not in throughput:
        return []
    keras = throughput["keras"]["median"]
    fastest = _fastest_predict(keras)
    needs = (
        ("train 3x Keras", 3 * keras["train_rows_per_s"], "train"),
        ("predict 2x Keras at the training batch", 2 * keras["predict_rows_per_s"], "forward"),
        ("predict 1.5x Keras at its fastest batch", 1.5 * fastest, "forward"),
    )
    lines = ["", "| target for skrank as DLRM | rows/s | share of its roof |", "|---|---:|---:|"]
    for label, rows, what in needs:
        roof = roof_rows(section, "skrank_dlrm", what)
        lines.append(f"| {label} | {rows:,.0f} | {rows / roof:.0%} |")
    return lines


def _fastest_predict(measured):
    """The best predict rows/s among every batch size timed (training batch included)."""
    rates = [v for k, v in measured.items() if k.startswith("predict_rows_per_s")]
    return max(rates, default=None)
