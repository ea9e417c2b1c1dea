"""Import TensorFlow without its C++ log lines reaching the user's terminal.

TensorFlow 2.21 writes absl / oneDNN / CUDA-stub lines straight to file
descriptor 2 while it is imported, even with ``TF_CPP_MIN_LOG_LEVEL=3``.
Pointing descriptor 2 at ``/dev/null`` for the duration of the import alone
silences them without turning oneDNN off (which would cost speed), and leaves
the user's own stderr untouched afterwards.
"""

import contextlib
import importlib
import os
import sys
import threading

_lock = threading.Lock()

# Threads of each of TensorFlow's pools (``SKRANK_TF_THREADS=1`` for one core per
# process, e.g. in the workers of a dask cluster or of joblib). Read once, when
# skrank first imports TensorFlow, before TensorFlow's runtime starts.
THREADS_ENV = "SKRANK_TF_THREADS"


_threads_limited = False


def _limit_threads(tf):
    global _threads_limited
    value = os.environ.get(THREADS_ENV, "").strip()
    if not value or _threads_limited:
        return
    _threads_limited = True
    try:
        n_threads = int(value)
    except ValueError:
        n_threads = 0
    if n_threads < 1:
        raise ValueError(f"{THREADS_ENV} must be a positive integer; got {value!r}.")
    try:
        tf.config.threading.set_intra_op_parallelism_threads(n_threads)
        # Collective ops (tf.distribute) and tf.data need two inter-op threads to make
        # progress; more than n_threads would oversubscribe.
        tf.config.threading.set_inter_op_parallelism_threads(max(2, n_threads))
    except RuntimeError:
        import warnings

        warnings.warn(
            f"{THREADS_ENV}={value} was not applied: TensorFlow had already started. Set it "
            "before the first TensorFlow operation of the process.",
            RuntimeWarning,
            stacklevel=3,
        )


def import_tensorflow():
    """Return the ``tensorflow`` module, importing it quietly the first time."""
    if "tensorflow" in sys.modules and "keras" in sys.modules:
        tf = sys.modules["tensorflow"]
        _limit_threads(tf)  # TensorFlow imported by ``import keras``, before skrank
        return tf
    with _lock:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        with contextlib.suppress(AttributeError, ValueError):  # stderr replaced or closed
            sys.stderr.flush()
        try:
            saved = os.dup(2)
        except OSError:  # no descriptor 2 at all: nothing to silence
            saved = None
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            if saved is not None:
                os.dup2(devnull, 2)
            tf = importlib.import_module("tensorflow")
            importlib.import_module("keras")
        finally:
            if saved is not None:
                os.dup2(saved, 2)
                os.close(saved)
            os.close(devnull)
        tf.get_logger().setLevel("ERROR")
        _limit_threads(tf)
        return tf
