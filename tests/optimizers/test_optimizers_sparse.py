"""RowSparseAdam: Adam's update on the looked-up rows, nothing elsewhere."""

import keras
import numpy as np
import tensorflow as tf

from skrank.optimizers._sparse import RowSparseAdam, row_sparse


def _step(optimizer, table, ids, upstream, densify=False):
    with tf.GradientTape() as tape:
        rows = tf.gather(table.value, ids)
        loss = tf.reduce_sum(rows * upstream)
    grad = tape.gradient(loss, table.value)
    assert isinstance(grad, tf.IndexedSlices)
    optimizer.apply([tf.convert_to_tensor(grad) if densify else grad], [table])


def test_first_step_equals_adam_on_the_dense_gradient():
    # Repeated ids are summed before squaring, as in Adam on the dense gradient
    # (Keras's Adam fed the IndexedSlices squares each repeat before summing).
    init = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")
    ids = tf.constant([1, 4, 1])
    upstream = tf.constant(np.random.default_rng(1).normal(size=(3, 3)).astype("float32"))
    dense_table, lazy_table = keras.Variable(init), keras.Variable(init)
    _step(keras.optimizers.Adam(0.1), dense_table, ids, upstream, densify=True)
    _step(RowSparseAdam(0.1), lazy_table, ids, upstream)
    np.testing.assert_allclose(lazy_table.numpy(), dense_table.numpy(), rtol=1e-5, atol=1e-6)


def test_untouched_rows_keep_their_moments():
    table = keras.Variable(np.ones((4, 2), "float32"))
    optimizer = RowSparseAdam(0.1)
    _step(optimizer, table, tf.constant([0]), tf.ones((1, 2)))
    _step(optimizer, table, tf.constant([1]), tf.ones((1, 2)))
    # Row 0's moments did not decay at the second step (lazy Adam), row 2 never moved.
    m = optimizer._momentums[0].numpy()
    np.testing.assert_allclose(m[0], m[1])
    np.testing.assert_array_equal(table.numpy()[2:], 1.0)


def test_row_sparse_converts_plain_adam_only():
    adam = keras.optimizers.Adam(0.01, beta_1=0.8)
    converted = row_sparse(adam)
    assert isinstance(converted, RowSparseAdam)
    assert converted.get_config() == {**adam.get_config(), "name": converted.name}
    sgd = keras.optimizers.SGD()
    assert row_sparse(sgd) is sgd
