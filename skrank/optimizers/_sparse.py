"""Row-sparse ("lazy") Adam updates for embedding tables.

Keras 3's Adam turns the ``tf.IndexedSlices`` gradient of an embedding lookup
into a dense tensor the size of the whole table (``gradient - m``), so every
step reads and writes every row of every table and of both moment slots. With
Criteo-sized vocabularies that is most of the cost of a training step. The
lazy variant (TF-Addons' ``LazyAdam``, the usual choice for recommenders)
updates only the rows looked up in the batch: rows absent from a batch keep
their moments instead of decaying them.
"""

from skrank._tf import import_tensorflow

tf = import_tensorflow()

import keras  # noqa: E402
from keras import ops  # noqa: E402


@keras.saving.register_keras_serializable(package="skrank")
class RowSparseAdam(keras.optimizers.Adam):
    """Adam that updates only the looked-up rows on sparse (``IndexedSlices``) gradients.

    Dense gradients get Keras's Adam update unchanged; so does everything with
    ``amsgrad=True``. Same parameters as :class:`keras.optimizers.Adam`.
    """

    def update_step(self, gradient, variable, learning_rate):
        if not isinstance(gradient, tf.IndexedSlices) or self.amsgrad:
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        local_step = ops.cast(self.iterations + 1, dtype)
        beta_1 = ops.cast(self.beta_1, dtype)
        beta_2 = ops.cast(self.beta_2, dtype)
        alpha = (
            lr * ops.sqrt(1 - ops.power(beta_2, local_step)) / (1 - ops.power(beta_1, local_step))
        )
        # A row looked up several times in the batch gets one summed gradient.
        rows, position = tf.unique(gradient.indices)
        grad = tf.math.unsorted_segment_sum(
            ops.cast(gradient.values, dtype), position, tf.shape(rows)[0]
        )
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        m_rows = tf.gather(m.value, rows) * beta_1 + grad * (1 - beta_1)
        v_rows = tf.gather(v.value, rows) * beta_2 + tf.square(grad) * (1 - beta_2)
        self.assign(m, tf.IndexedSlices(m_rows, rows))
        self.assign(v, tf.IndexedSlices(v_rows, rows))
        step = m_rows * alpha / (tf.sqrt(v_rows) + ops.cast(self.epsilon, dtype))
        self.assign_sub(variable, tf.IndexedSlices(step, rows))


def row_sparse(optimizer):
    """``optimizer`` with row-sparse embedding updates where that is the same algorithm.

    A plain :class:`keras.optimizers.Adam` becomes a :class:`RowSparseAdam` with the
    same configuration; inside a :class:`~skrank.optimizers.CompositeOptimizer` each
    wrapped Adam does. Other optimizers (Keras's SGD and Adagrad already scatter
    sparse gradients) are returned as they are.
    """
    from skrank.optimizers._composite import CompositeOptimizer

    if isinstance(optimizer, CompositeOptimizer):
        optimizer._optimizers = [row_sparse(inner) for inner in optimizer._optimizers]
        return optimizer
    if type(optimizer) is keras.optimizers.Adam and not optimizer.built:
        return RowSparseAdam.from_config(optimizer.get_config())
    return optimizer
