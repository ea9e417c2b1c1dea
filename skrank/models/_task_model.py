"""What the models that train for a task share: the loss, compile, the optimizer's binding."""

from skrank._tf import import_tensorflow

import_tensorflow()

import keras  # noqa: E402
from keras import ops  # noqa: E402


class TaskModel(keras.Model):
    """A Keras model whose loss is its ``task`` (a :class:`skrank.tasks.Ranking`).

    Compile without a loss: ``model.compile(optimizer=...)`` trains for ``task``.
    A :class:`skrank.optimizers.CompositeOptimizer` given to ``compile`` is bound to
    the model, which resolves its ``"embedding"`` / ``"dense"`` selectors through
    ``embedding_trainable_variables`` / ``dense_trainable_variables``.
    """

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Loss of the task plus regularization losses (and a compiled loss, if any)."""
        loss = self.task(y, y_pred, sample_weight=sample_weight, training=training)
        if self._compile_loss is not None:
            # The parent adds the compiled loss and the regularization losses.
            return loss + super().compute_loss(x, y, y_pred, sample_weight, training=training)
        extra = [ops.cast(ops.sum(term), loss.dtype) for term in self.losses]
        if extra:
            loss = loss + ops.sum(ops.stack(extra))
        return loss

    def compile(self, optimizer="rmsprop", **kwargs):
        """Configure training; see :meth:`keras.Model.compile`. No loss is needed."""
        super().compile(optimizer=optimizer, **kwargs)
        inner = getattr(self.optimizer, "inner_optimizer", self.optimizer)
        bind = getattr(inner, "bind_model", None)
        if callable(bind):
            bind(self)

    def compile_from_config(self, config):
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.optimizer is not None and self.built:
            self.optimizer.build(self.trainable_variables)
