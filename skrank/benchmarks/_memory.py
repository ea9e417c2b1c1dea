"""Peak memory of a fit, each measured in a fresh process.

A fresh process per measurement keeps one fit's allocations out of another's
figures. Two measurements share it and the resident set size (RSS) sampler:

* one contender's in-memory fit, for the ``memory`` section of
  ``python -m skrank.benchmarks``: the RSS before ``fit`` and its peak during
  ``fit`` (sampled every few milliseconds), see :func:`measure_in_subprocess`;
* a streamed fit of :class:`skrank.RankingClassifier` from Parquet files, for
  tables of several sizes: ``python -m skrank.benchmarks memory`` (1M and 10M
  rows) or ``python -m skrank.benchmarks memory --rows 200000 2000000``, see
  :func:`streamed`. Not a test: it takes minutes.

The streamed fit: Criteo-like rows from
:func:`skrank.datasets.make_ctr_classification` (13 dense and 26 categorical
columns) are written to Parquet in chunks, then each size is fitted (one epoch)
reading a :class:`skrank.data.ParquetSource`, and the peak RSS of its process is
reported. The sources read on demand (one compressed row group and the record
batch being decoded) and the fit keeps nothing per row, so the peak should not
depend on the number of rows; allocators keep some freed memory, so it settles
only after a few files. Compare sizes that both span several files
(``--file-rows``).

Measured on a shared 2-core machine (the defaults, 1M and 10M rows): peak RSS
1,216 MiB and 1,250 MiB (+2.8%), fits of 24 s and 127 s (a second run: 1,163
and 1,185 MiB, +2.0%; a third, after the sparse embedding reads: 1,144 and 1,171
MiB, +2.3%). Before the sources read on demand, ``pyarrow.dataset``'s
scanner decoded up to about 1 GiB ahead of training (its queue limit, whatever
``fragment_readahead`` and ``batch_readahead``): 1,728 MiB and 2,547 MiB (+47%).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

_SAMPLE_SECONDS = 0.005
CHUNK_ROWS = 250_000
ROW_GROUP_ROWS = 65_536


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


def _max_rss():
    """Peak RSS of this process since it started, in bytes (None where unknown)."""
    try:
        import resource
    except ImportError:  # not on Unix
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux


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


# ------------------------------------------------------- measured in the child process
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


def measure_streamed(folder, batch_rows):
    """Fit one epoch on the Parquet files of ``folder``; return the memory figures."""
    from skrank import RankingClassifier
    from skrank.data import ParquetSource

    start = time.perf_counter()
    source = ParquetSource(
        os.path.join(folder, "*.parquet"), target="clicked", batch_rows=batch_rows
    )
    clf = RankingClassifier(
        embedding_dim=8,
        bottom_stack=(32,),
        top_stack=(32,),
        batch_size=1024,
        epochs=1,
        early_stopping=False,
        hash_buckets=20_000,
        random_state=0,
    )
    read = _rss_reader()
    before = read() if read else None
    with PeakSampler() as sampler:
        clf.fit(source)
    return {
        "rows": int(source.count_rows()),
        "rss_before_fit": before,
        "peak_rss_during_fit": sampler.peak,
        # The high-water mark of the whole process, as the kernel counts it.
        "peak_rss": _max_rss() or sampler.peak,
        "fit_seconds": time.perf_counter() - start,
        "loss": clf.history_["loss"],
    }


_CHILD_FUNCTIONS = {"measure": measure, "measure_streamed": measure_streamed}


def _in_fresh_process(function, timeout, **kwargs):
    """Run ``function(**kwargs)`` in a fresh Python process; its figures or an error."""
    command = [
        sys.executable,
        "-m",
        "skrank.benchmarks._memory",
        "--child",
        json.dumps({"function": function, "kwargs": kwargs}),
    ]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        return {"error": " | ".join(tail)}
    return json.loads(lines[-1])


# ------------------------------------------------------- run from the parent process
def measure_in_subprocess(
    contender_name, rows, seed, epochs, batch_size, columns=(13, 26), timeout=3600
):
    """Run :func:`measure` in a fresh Python process; return its figures or an error."""
    figures = _in_fresh_process(
        "measure",
        timeout,
        contender_name=contender_name,
        rows=rows,
        seed=seed,
        epochs=epochs,
        batch_size=batch_size,
        columns=list(columns),
    )
    return {"contender": contender_name, "rows": rows, **figures}


def write_parquet(folder, n_rows, file_rows=CHUNK_ROWS):
    """Write ``n_rows`` generated rows (target column ``clicked``) as Parquet files."""
    from skrank.datasets import make_ctr_classification

    for i, start in enumerate(range(0, n_rows, file_rows)):
        X, y = make_ctr_classification(min(file_rows, n_rows - start), random_state=i)
        path = os.path.join(folder, f"part-{i:05d}.parquet")
        X.assign(clicked=y).to_parquet(path, row_group_size=ROW_GROUP_ROWS)


def streamed(rows, *, batch_rows=65_536, file_rows=CHUNK_ROWS, timeout=24 * 3600, log=None):
    """Peak RSS of a streamed fit for each table size in ``rows``, each in a fresh process."""
    log = log or (lambda message: print(message, flush=True))
    results = []
    for n_rows in rows:
        with tempfile.TemporaryDirectory() as folder:
            write_parquet(folder, n_rows, file_rows)
            result = _in_fresh_process(
                "measure_streamed", timeout, folder=folder, batch_rows=batch_rows
            )
        if "error" in result:
            raise RuntimeError(f"the streamed fit of {n_rows:,} rows failed: {result['error']}")
        results.append(result)
        log(
            f"{result['rows']:>11,} rows: peak RSS {result['peak_rss'] / 2**20:8.1f} MiB, "
            f"fit {result['fit_seconds']:7.1f} s"
        )
    if len(results) > 1:
        growth = results[-1]["peak_rss"] / results[0]["peak_rss"] - 1
        log(f"peak RSS growth from the smallest to the largest: {growth:+.1%}")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m skrank.benchmarks memory",
        description=(
            "Peak memory of a streamed fit (RankingClassifier reading Parquet files, one "
            "epoch, each size in a fresh process) for tables of several sizes. The memory "
            "section of `python -m skrank.benchmarks` measures in-memory fits instead."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--rows", type=int, nargs="+", default=[1_000_000, 10_000_000], help="table sizes"
    )
    parser.add_argument(
        "--batch-rows", type=int, default=65_536, help="rows per record batch read from the files"
    )
    parser.add_argument(
        "--file-rows",
        type=int,
        default=CHUNK_ROWS,
        help="rows per Parquet file; compare sizes that both span several files",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        call = json.loads(args.child)
        figures = _CHILD_FUNCTIONS[call["function"]](**call["kwargs"])
        print(json.dumps(figures), flush=True)
        return 0
    streamed(args.rows, batch_rows=args.batch_rows, file_rows=args.file_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
