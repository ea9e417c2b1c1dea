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


def import_tensorflow():
    """Return the ``tensorflow`` module, importing it quietly the first time."""
    if "tensorflow" in sys.modules and "keras" in sys.modules:
        return sys.modules["tensorflow"]
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
        return tf
