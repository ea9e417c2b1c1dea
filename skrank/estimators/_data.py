"""Feeding encoded arrays to the Keras model: tf.data for training, a compiled
forward pass for prediction."""

import threading

import numpy as np

from skrank._tf import import_tensorflow

tf = import_tensorflow()

# Rows per call of the compiled forward pass. Every call gets a block of a fixed
# size (the last one padded): matrix-multiply kernels pick their blocking by batch
# size, so a row's prediction could otherwise change in the last bits with the other
# rows it happens to be sent with. Fixed blocks make predictions independent of batch
# composition, as scikit-learn users expect.
PREDICT_BLOCK = 4096
# Smaller blocks for the rows left after the full blocks (and for small calls, such
# as one-row serving): a remainder of at most 16 rows goes in a 16-row block, at most
# 256 in a 256-row block, anything else in 1024-row blocks. Each size is used only once
# a check has shown that the kernels give its rows the same bits as a PREDICT_BLOCK
# block (kernels are chosen by shape, not values; on x86 oneDNN only a one-row
# matrix takes a different path); otherwise the remainder is padded to a full block.
SMALL_BLOCKS = (16, 256, 1024)
# Larger inputs go in blocks of this many rows (then PREDICT_BLOCK blocks for the
# rest), once a check (by the first call with that many rows) has shown that they
# give the PREDICT_BLOCK bits: fewer, larger matrix products. On the benchmark's
# DLRM in bfloat16 the forward pass of 49,152 rows ran at 249,000 rows/s in such
# blocks against 228,000 in PREDICT_BLOCK blocks.
LARGE_BLOCK = 4 * PREDICT_BLOCK


def categorical_layout(categorical_names):
    """``[(name, first column, width)]``: runs of one name are a list column's block."""
    layout = []
    for j, name in enumerate(categorical_names):
        if layout and layout[-1][0] == name:
            layout[-1] = (name, layout[-1][1], layout[-1][2] + 1)
        else:
            layout.append((name, j, 1))
    return layout


def model_inputs(dense, categorical, categorical_names):
    """Arrange a dense matrix and a categorical id matrix as the Ranking model's input dict.

    ``categorical_names`` names the feature of each id column (the preprocessor's
    ``categorical_features_``): a single id feature is one column, fed as ``(batch,)``;
    a list feature is a run of (at least two) columns with its name, fed as its
    ``(batch, width)`` block of ids padded with -1, which the embedding layer pools.
    """
    names = list(categorical_names)
    if len(set(names)) == len(names):  # no list feature: the usual case, kept cheap
        sparse = {name: categorical[:, j] for j, name in enumerate(names)}
    else:
        sparse = {
            name: categorical[:, j] if width == 1 else categorical[:, j : j + width]
            for name, j, width in categorical_layout(names)
        }
    inputs = {"sparse_features": sparse}
    if dense.shape[1]:
        inputs["dense_features"] = dense
    return inputs


def training_dataset(
    dense, categorical, categorical_names, y, sample_weight, *, batch_size, shuffle, seed
):
    """A tf.data pipeline that reshuffles every epoch with a fixed seed.

    The arrays are gathered per batch from tensors built once, so each epoch
    costs one permutation of indices, not a copy of the data. The permutation
    of the k-th pass is a *stateless* shuffle seeded with ``(seed, k)``:
    ``Dataset.shuffle(seed=...)`` would mix in TensorFlow's global seed, so a
    user's ``tf.random.set_seed`` would change our fits.
    """
    n = len(y)
    dense_t = tf.constant(np.ascontiguousarray(dense, dtype=np.float32))
    categorical_t = tf.constant(np.ascontiguousarray(categorical, dtype=np.int32))
    y_t = tf.constant(y)
    w_t = tf.constant(sample_weight.astype(np.float32))
    if shuffle:
        passes = tf.Variable(0, dtype=tf.int64, trainable=False)

        def permutation(_):
            seed_pair = tf.stack([tf.constant(seed, tf.int64), passes.assign_add(1)])
            return tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed_pair)

        indices = tf.data.Dataset.range(1).map(permutation).unbatch()
    else:
        indices = tf.data.Dataset.range(n)
    indices = indices.batch(batch_size)

    def gather(idx):
        x = model_inputs(tf.gather(dense_t, idx), tf.gather(categorical_t, idx), categorical_names)
        return x, tf.gather(y_t, idx), tf.gather(w_t, idx)

    return indices.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(
        tf.data.AUTOTUNE
    )


class CompiledForward:
    """The model's forward pass as one traced ``tf.function`` (no ``model.predict``).

    ``model.predict`` builds a data adapter, an iterator and callbacks on every
    call (~50 ms even for one row); calling the concrete function traced once for
    any batch size costs well under a millisecond. Safe to call from several
    threads.
    """

    def __init__(self, model, n_dense, categorical_names):
        self._lock = threading.Lock()
        self._model = model
        self._names = list(categorical_names)
        self._fn = None
        self._n_dense = n_dense
        # Block size -> whether it gives the PREDICT_BLOCK bits (absent: not checked yet).
        self._same_bits = {}

    def _function(self):
        with self._lock:
            if self._fn is None:
                model, names = self._model, self._names
                signature = [
                    tf.TensorSpec((None, self._n_dense), tf.float32),
                    tf.TensorSpec((None, len(names)), tf.int32),
                ]

                @tf.function(input_signature=signature, autograph=False)
                def forward(dense, categorical):
                    return model(model_inputs(dense, categorical, names), training=False)

                # The concrete function skips the per-call argument binding of the
                # polymorphic one (about a quarter of a one-row call).
                self._fn = forward.get_concrete_function()
            return self._fn

    def warm_up(self, dense, categorical):
        """Trace the forward pass and check the small blocks on the first rows given.

        Called at the end of ``fit`` with training rows, so that the first
        predictions pay neither the tracing (a few tenths of a second) nor a
        small block's check. The large block is checked by the first call with
        that many rows instead: its activations would raise the peak memory of
        ``fit`` (by about 350 MiB for the benchmark's DLRM on 1,000,000 rows:
        1.44x instead of 1.25x of data, encoded arrays and model).
        """
        fn = self._function()
        dense = np.ascontiguousarray(dense[: SMALL_BLOCKS[-1]], dtype=np.float32)
        categorical = np.ascontiguousarray(categorical[: SMALL_BLOCKS[-1]], dtype=np.int32)
        for size in SMALL_BLOCKS:
            self._remainder(fn, dense[:size], categorical[:size])

    def _large_blocks_agree(self, fn, dense, categorical):
        """Whether LARGE_BLOCK blocks give the PREDICT_BLOCK bits; checked once, on
        the first LARGE_BLOCK rows of the first call that has them."""
        agree = self._same_bits.get(LARGE_BLOCK)
        if agree is None:
            dense, categorical = dense[:LARGE_BLOCK], categorical[:LARGE_BLOCK]
            blocks = [
                _run(fn, dense[i : i + PREDICT_BLOCK], categorical[i : i + PREDICT_BLOCK])
                for i in range(0, LARGE_BLOCK, PREDICT_BLOCK)
            ]
            agree = bool(np.array_equal(_run(fn, dense, categorical), np.concatenate(blocks)))
            self._same_bits[LARGE_BLOCK] = agree
        return agree

    def __call__(self, dense, categorical):
        fn = self._function()
        dense = np.ascontiguousarray(dense, dtype=np.float32)
        categorical = np.ascontiguousarray(categorical, dtype=np.int32)
        n = len(dense)
        large = 0
        if n >= LARGE_BLOCK and self._large_blocks_agree(fn, dense, categorical):
            large = n // LARGE_BLOCK * LARGE_BLOCK
        full = n // PREDICT_BLOCK * PREDICT_BLOCK
        parts = [
            _run(fn, dense[i : i + LARGE_BLOCK], categorical[i : i + LARGE_BLOCK])
            for i in range(0, large, LARGE_BLOCK)
        ]
        parts += [
            _run(fn, dense[i : i + PREDICT_BLOCK], categorical[i : i + PREDICT_BLOCK])
            for i in range(large, full, PREDICT_BLOCK)
        ]
        if full < n or n == 0:
            parts.append(self._remainder(fn, dense[full:], categorical[full:]))
        return np.concatenate(parts)

    def _remainder(self, fn, dense, categorical):
        """Predictions for fewer than PREDICT_BLOCK rows."""
        n = len(dense)
        size = next((s for s in SMALL_BLOCKS if s >= n), SMALL_BLOCKS[-1])
        checked = self._same_bits.get(size)
        if checked is not False:
            rows = -(-max(n, 1) // size) * size
            d, c = _padded(dense, categorical, rows)
            small = np.concatenate(
                [_run(fn, d[i : i + size], c[i : i + size]) for i in range(0, rows, size)]
            )[:n]
            if checked:
                return small
        reference = _run(fn, *_padded(dense, categorical, PREDICT_BLOCK))[:n]
        if checked is None:
            self._same_bits[size] = bool(np.array_equal(small, reference))
        return reference


def _run(fn, dense, categorical):
    """``fn(dense, categorical)`` as a numpy array.

    A concrete function binds its arguments to its signature on every call,
    converting numpy arrays through ``tf.cast``: about 0.2 ms, a fifth of a one-row
    prediction. ``_call_flat`` (TensorFlow's own entry point behind ``__call__``,
    private; checked on TensorFlow 2.21) takes the tensors as they are. Where a
    TensorFlow release lacks it, the public call does the same work.
    """
    call_flat = getattr(fn, "_call_flat", None)
    if call_flat is None:
        return fn(dense, categorical).numpy()
    inputs = [tf.constant(dense, tf.float32), tf.constant(categorical, tf.int32)]
    return call_flat(inputs, fn.captured_inputs).numpy()


def _padded(dense, categorical, rows):
    """The arrays with zero rows appended up to ``rows`` rows."""
    extra = rows - len(dense)
    if extra == 0:
        return dense, categorical
    return (
        np.concatenate([dense, np.zeros((extra, dense.shape[1]), np.float32)]),
        np.concatenate([categorical, np.zeros((extra, categorical.shape[1]), np.int32)]),
    )
