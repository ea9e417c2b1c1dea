"""Build the ranking model and train it, on one worker or under a tf.distribute strategy.

Single worker: ``keras.Model.fit``. Under a ``tf.distribute.Strategy``
(``estimator.distribution``) the training step is driven here instead, because
Keras 3's ``Model.fit`` does not run under ``MultiWorkerMirroredStrategy``
(keras-team/keras#20585, "Attempt to convert a value (PerReplica...) to a
Tensor"): ``strategy.run`` of one step inside a ``tf.function``, on the same
:class:`~skrank.models.Ranking` model, task loss and (composite) optimizer, over
``strategy.experimental_distribute_dataset``. The Keras optimizer all-reduces
(sums) the gradients across replicas through the strategy, so each replica's
loss is scaled to its share of the global batch.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from skrank._tf import import_tensorflow

tf = import_tensorflow()

import keras  # noqa: E402
from keras.src.losses.loss import unscale_loss_for_distribution  # noqa: E402

from skrank.estimators._build import build_ranking_model, make_optimizer  # noqa: E402
from skrank.estimators._data import model_inputs  # noqa: E402
from skrank.estimators._scikeras import route_params  # noqa: E402
from skrank.optimizers._sparse import row_sparse  # noqa: E402

# Gradient steps per call of the compiled training function: fewer Python round
# trips per step (the dominant cost with small batches).
_STEPS_PER_EXECUTION = 32


def strategy_scope(estimator):
    """``estimator.distribution.scope()``, or a no-op without a strategy."""
    strategy = estimator.distribution
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def build_model(estimator, *, preprocessor, target_state, seed, steps_per_epoch):
    """The compiled (and built) :class:`~skrank.models.Ranking` model of a fit."""
    names = list(preprocessor.categorical_features_)
    n_outputs, final_activation, loss = estimator._output_spec(target_state)
    with strategy_scope(estimator):
        model = build_ranking_model(
            estimator=estimator,
            vocabulary_sizes={n: preprocessor.vocabulary_sizes_[n] for n in names},
            n_dense=preprocessor.n_dense_out_,
            n_outputs=n_outputs,
            final_activation=final_activation,
            loss=loss,
            seed=seed,
        )
        model.compile(
            optimizer=row_sparse(make_optimizer(estimator)),
            jit_compile=False,
            steps_per_execution=max(1, min(_STEPS_PER_EXECUTION, steps_per_epoch)),
        )
        # Create every variable (and optimizer slot) now, eagerly, under the
        # strategy's scope if any. Left to the first training step, they would be
        # created inside its tf.function, which TensorFlow then traces a second
        # time: that halves the fixed cost of a fit (~2 s of ~4 s on 2 cores).
        dense = np.zeros((1, preprocessor.n_dense_out_), np.float32)
        categorical = np.zeros((1, len(names)), np.int32)
        model(model_inputs(dense, categorical, names), training=False)
        model.optimizer.build(model.trainable_variables)
    return model


def train(estimator, model, train_data, val_data, *, epochs):
    """Train ``model`` on tf.data datasets of ``(x, y, sample_weight)`` batches.

    Returns the history: ``{"loss": [...], "val_loss": [...]}`` per epoch.
    """
    if estimator.distribution is None:
        return _keras_fit(estimator, model, train_data, val_data, epochs=epochs)
    return _strategy_fit(estimator, model, train_data, val_data, epochs=epochs)


def _keras_fit(estimator, model, train_data, val_data, *, epochs):
    from skrank.estimators._base import _StopOnNonFiniteLoss

    callbacks = estimator._fit_callbacks()
    callbacks.append(_StopOnNonFiniteLoss())
    if val_data is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=estimator.n_iter_no_change, restore_best_weights=True
            )
        )
    fit_kwargs = route_params(
        estimator.get_params(), destination="fit", pass_filter=set(), strict=True
    )
    fit_kwargs = {k: v for k, v in fit_kwargs.items() if not k.startswith("callbacks")}
    history = model.fit(
        train_data,
        validation_data=val_data,
        epochs=epochs,
        callbacks=callbacks,
        verbose=estimator.verbose,
        shuffle=False,  # the dataset reshuffles itself, with the fit's seed
        **fit_kwargs,
    )
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


def _distributed_dataset(strategy, data):
    options = tf.data.Options()
    # Every worker builds the same pipeline and keeps its share of each global
    # batch (file-level sharding would need one file per worker).
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(data.with_options(options))


def _strategy_fit(estimator, model, train_data, val_data, *, epochs):
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


def fit_arrays(
    estimator, *, preprocessor, target_state, arrays, train_idx, val_idx, batch_size, epochs, seed
):
    """Model and history of an in-memory fit under ``estimator.distribution``.

    ``arrays`` are the encoded ``(dense, categorical, y, sample_weight)``; the
    datasets are the single-worker ones, split by the strategy.
    """
    from skrank.estimators._data import training_dataset

    dense, categorical, y, weights = arrays
    names = list(preprocessor.categorical_features_)

    def dataset(index, shuffle):
        return training_dataset(
            dense[index],
            categorical[index],
            names,
            y[index],
            weights[index],
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
        )

    n_train = len(y) if val_idx is None else len(train_idx)
    model = build_model(
        estimator,
        preprocessor=preprocessor,
        target_state=target_state,
        seed=seed,
        steps_per_epoch=math.ceil(n_train / batch_size),
    )
    val_data = None if val_idx is None else dataset(val_idx, False)
    history = train(
        estimator, model, dataset(train_idx, estimator.shuffle), val_data, epochs=epochs
    )
    return model, history


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
