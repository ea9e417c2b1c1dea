"""Peak memory of one contender's fit, measured in a fresh process.

Run as ``python -m skrank.benchmarks._memory --contender skrank --rows 1000000``:
generates the data, records the resident set size (RSS) before ``fit``, samples it
every few milliseconds during ``fit``, and prints one JSON line. A fresh process per
measurement keeps one contender's allocations out of another's figures.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np

_SAMPLE_SECONDS = 0.005


def _rss_reader():
    """A function returning the current RSS in bytes (psutil, else /proc, else None)."""
    try:
        import psutil

        process = psutil.Process()
        return lambda: process.memory_info().rss
    except ImportError:
        pass
    if os.path.exists("/proc/self/statm"):
        page = os.sysconf("SC_PAGE_SIZE")

        def read():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * page

        return read
    return None


class PeakSampler:
    """Sample RSS in a background thread; ``peak`` is the largest value seen."""

    def __init__(self):
        self._read = _rss_reader()
        self.peak = self._read() if self._read else None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(_SAMPLE_SECONDS):
            self.peak = max(self.peak, self._read())

    def __enter__(self):
        if self._read:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._read:
            self._thread.join()
            self.peak = max(self.peak, self._read())


def _model_bytes(contender):
    """Bytes of the trained weights plus the optimizer's state."""
    model = getattr(contender.model, "model_", contender.model)
    if not hasattr(model, "weights"):  # not a Keras model
        return None
    optimizer = getattr(model, "optimizer", None)
    variables = list(model.weights) + list(getattr(optimizer, "variables", []) or [])
    return int(sum(np.prod(v.shape) * np.dtype(v.dtype).itemsize for v in variables))


def measure(contender_name, rows, seed, epochs, batch_size, columns=(13, 26)):
    """Fit one contender on ``rows`` generated rows; return the memory figures."""
    from skrank._tf import import_tensorflow
    from skrank.benchmarks._contenders import contenders
    from skrank.datasets import make_ctr_classification

    # TensorFlow's runtime (imported by every contender's module) counts as baseline.
    import_tensorflow().constant(0.0).numpy()
    n_dense, n_categorical = columns
    X, y = make_ctr_classification(
        rows, n_dense=n_dense, n_categorical=n_categorical, random_state=seed
    )
    (contender,) = contenders([contender_name], seed=seed, epochs=epochs, batch_size=batch_size)
    read = _rss_reader()
    frame_bytes = int(X.memory_usage(deep=True).sum())
    prepared, _ = contender.prepare(X, X.iloc[:1])
    # Settle the allocator before the baseline reading.
    time.sleep(0.1)
    before = read() if read else None
    with PeakSampler() as sampler:
        contender.fit(prepared, y.to_numpy())
    encoded_bytes = None
    skrank_model = getattr(contender.model, "preprocessor_", None)
    if skrank_model is not None:
        n_dense = skrank_model.n_dense_out_
        n_categorical = len(skrank_model.categorical_features_)
        encoded_bytes = rows * 4 * (n_dense + n_categorical)
    elif isinstance(prepared, tuple):
        encoded_bytes = int(sum(a.nbytes for a in prepared))
    return {
        "contender": contender_name,
        "rows": rows,
        "rss_before_fit": before,
        "peak_rss_during_fit": sampler.peak,
        "frame_bytes": frame_bytes,
        "encoded_bytes": encoded_bytes,
        "model_bytes": _model_bytes(contender),
        "sampler": "psutil or /proc" if read else "unavailable",
    }


def measure_in_subprocess(
    contender_name, rows, seed, epochs, batch_size, columns=(13, 26), timeout=3600
):
    """Run :func:`measure` in a fresh Python process; return its figures or an error."""
    command = [
        sys.executable,
        "-m",
        "skrank.benchmarks._memory",
        f"--contender={contender_name}",
        f"--rows={rows}",
        f"--seed={seed}",
        f"--epochs={epochs}",
        f"--batch-size={batch_size}",
        f"--n-dense={columns[0]}",
        f"--n-categorical={columns[1]}",
    ]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        return {"contender": contender_name, "rows": rows, "error": " | ".join(tail)}
    return json.loads(lines[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m skrank.benchmarks._memory")
    parser.add_argument("--contender", required=True, choices=["skrank", "keras", "hgb"])
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--n-dense", type=int, default=13)
    parser.add_argument("--n-categorical", type=int, default=26)
    args = parser.parse_args(argv)
    figures = measure(
        args.contender,
        args.rows,
        args.seed,
        args.epochs,
        args.batch_size,
        (args.n_dense, args.n_categorical),
    )
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
