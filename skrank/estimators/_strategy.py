"""Training under a ``tf.distribute.Strategy``, with skrank's own loop.

Keras 3's ``Model.fit`` does not run under ``MultiWorkerMirroredStrategy``
(keras-team/keras#20585, "Attempt to convert a value (PerReplica...) to a
Tensor"), so under ``estimator.distribution`` the training step is driven here:
``strategy.run`` of one step inside a ``tf.function``, on the same
:class:`~skrank.models.Ranking` model, task loss and (composite) optimizer, over
``strategy.experimental_distribute_dataset``. The Keras optimizer all-reduces
(sums) the gradients across replicas through the strategy, so each replica's
loss is scaled to its share of the global batch.
"""

from __future__ import annotations

import contextlib
import math

from skrank._tf import import_tensorflow

tf = import_tensorflow()

from keras.src.losses.loss import unscale_loss_for_distribution  # noqa: E402


def strategy_scope(estimator):
    """``estimator.distribution.scope()``, or a no-op without a strategy."""
    strategy = estimator.distribution
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def _distributed_dataset(strategy, data):
    options = tf.data.Options()
    # Every worker builds the same pipeline and keeps its share of each global
    # batch (file-level sharding would need one file per worker).
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(data.with_options(options))


def strategy_fit(estimator, model, train_data, val_data, *, epochs):
    strategy = estimator.distribution
    if estimator.callbacks:
        raise ValueError(
            "callbacks are not supported with a distribution strategy: skrank drives the "
            "training loop itself there (keras.Model.fit does not run under "
            "MultiWorkerMirroredStrategy). Set callbacks=None."
        )
    optimizer = model.optimizer
    variables = model.trainable_variables

    def weighted_loss(x, y, w, training):
        """This replica's loss, scaled so that the sum over replicas is the global mean."""
        predictions = model(x, training=training)
        loss = model.task(y, predictions, sample_weight=w, training=training)
        # Keras divides "sum_over_batch_size" losses by the number of replicas;
        # undo that to get this replica's mean, then weigh it by its share of rows.
        loss = unscale_loss_for_distribution(loss)
        n_local = tf.cast(tf.shape(y)[0], loss.dtype)
        context = tf.distribute.get_replica_context()
        n_global = context.all_reduce(tf.distribute.ReduceOp.SUM, n_local)
        scaled = loss * n_local / tf.maximum(n_global, 1.0)
        extra = [tf.cast(tf.reduce_sum(term), loss.dtype) for term in model.losses]
        if extra and training:
            scaled += tf.add_n(extra) / strategy.num_replicas_in_sync
        return scaled, n_local

    def train_replica(x, y, w):
        with tf.GradientTape() as tape:
            loss, n_local = weighted_loss(x, y, w, training=True)
        optimizer.apply(tape.gradient(loss, variables), variables)
        return loss, n_local

    def eval_replica(x, y, w):
        return weighted_loss(x, y, w, training=False)

    def reduced(step):
        @tf.function
        def run(batch):
            loss, n = strategy.run(step, args=batch)
            total = tf.distribute.ReduceOp.SUM
            return strategy.reduce(total, loss, axis=None), strategy.reduce(total, n, axis=None)

        return run

    train_step, eval_step = reduced(train_replica), reduced(eval_replica)
    steps = int(train_data.cardinality())
    if steps < 0:
        raise ValueError("The training dataset must have a known number of batches.")
    # One iterator over the epochs, as keras.Model.fit iterates one dataset: a
    # distributed dataset rebuilt per epoch would restart its seeded shuffle.
    train_batches = iter(_distributed_dataset(strategy, train_data.repeat(epochs)))
    distributed_val = None if val_data is None else _distributed_dataset(strategy, val_data)

    def epoch_loss(step, batches):
        total = count = 0.0
        for batch in batches:
            loss, n = step(batch)
            total += float(loss) * float(n)
            count += float(n)
        return total / max(count, 1.0)

    history = {"loss": []}
    if distributed_val is not None:
        history["val_loss"] = []
    best, best_weights, waited = math.inf, None, 0
    for _ in range(epochs):
        loss = epoch_loss(train_step, (next(train_batches) for _ in range(steps)))
        history["loss"].append(loss)
        if not math.isfinite(loss):
            break
        if distributed_val is None:
            continue
        val_loss = epoch_loss(eval_step, distributed_val)
        history["val_loss"].append(val_loss)
        if val_loss < best:
            best, best_weights, waited = val_loss, model.get_weights(), 0
        else:
            waited += 1
            if waited >= estimator.n_iter_no_change:
                break
    if best_weights is not None:
        with strategy.scope():
            model.set_weights(best_weights)
    return history


class DistributionMixin:
    """Clones share the ``distribution`` strategy instead of deep-copying it.

    A ``tf.distribute.Strategy`` stands for devices and a cluster connection; a
    deep copy would be a second strategy over the same workers, which
    ``MultiWorkerMirroredStrategy`` does not support.
    """

    def __sklearn_clone__(self):
        strategy = getattr(self, "distribution", None)
        if strategy is None:
            return super().__sklearn_clone__()
        shallow = object.__new__(type(self))
        vars(shallow).update(vars(self), distribution=None)
        clone = super(DistributionMixin, shallow).__sklearn_clone__()
        clone.distribution = strategy
        return clone
