"""The ranking task: a loss plus the metrics that go with it (TFRS ``tasks.Ranking``)."""

from skrank._tf import import_tensorflow

import_tensorflow()

import keras  # noqa: E402
from keras import ops  # noqa: E402


def _as_loss(loss):
    if loss is None:
        return keras.losses.BinaryCrossentropy()
    if isinstance(loss, keras.losses.Loss):
        return loss
    resolved = keras.losses.get(loss) if isinstance(loss, str | dict) else loss
    if resolved is None or not callable(resolved):
        raise ValueError(
            f"loss must be a keras loss, a loss name or a callable; got loss={loss!r}."
        )
    if isinstance(resolved, keras.losses.Loss):
        return resolved
    # A built-in loss function ("mse", keras.losses.binary_crossentropy) has a
    # Loss class of the same name, which handles sample weights and serializes.
    class_name = "".join(part.capitalize() for part in resolved.__name__.split("_"))
    as_class = getattr(keras.losses, class_name, None)
    if isinstance(as_class, type) and issubclass(as_class, keras.losses.Loss):
        return as_class()
    return _FunctionLoss(resolved)


@keras.saving.register_keras_serializable(package="skrank", name="FunctionLoss")
class _FunctionLoss(keras.losses.Loss):
    """A loss from a function ``fn(y_true, y_pred)`` returning per-sample losses."""

    def __init__(self, fn, name=None, reduction="sum_over_batch_size", dtype=None):
        if isinstance(fn, dict | str):
            fn = keras.saving.deserialize_keras_object(fn)
        super().__init__(name=name or fn.__name__, reduction=reduction, dtype=dtype)
        self.fn = fn

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred)

    def get_config(self):
        config = super().get_config()
        config["fn"] = keras.saving.serialize_keras_object(self.fn)
        return config


def _as_metrics(metrics, what):
    if metrics is None:
        return []
    if isinstance(metrics, str | keras.metrics.Metric) or not isinstance(metrics, list | tuple):
        metrics = [metrics]
    resolved = []
    for metric in metrics:
        obj = keras.metrics.get(metric)
        if isinstance(obj, keras.metrics.Metric):
            resolved.append(obj)
        elif callable(obj):
            resolved.append(keras.metrics.MeanMetricWrapper(obj, name=obj.__name__))
        else:
            raise ValueError(
                f"{what} must be keras metrics or metric names; got {metric!r} in {what}."
            )
    return resolved


def _default_metrics(loss):
    """Metrics that suit ``loss``: AUC and accuracy for clicks, RMSE for ratings."""
    fn = getattr(loss, "fn", None)
    from_logits = bool(loss.get_config().get("from_logits", False))
    binary = (keras.losses.binary_crossentropy, keras.losses.binary_focal_crossentropy)
    regression = (
        keras.losses.mean_squared_error,
        keras.losses.mean_absolute_error,
        keras.losses.huber,
        keras.losses.log_cosh,
    )
    if fn in binary:
        return [
            keras.metrics.AUC(name="auc", from_logits=from_logits),
            keras.metrics.BinaryAccuracy(
                name="binary_accuracy", threshold=0.0 if from_logits else 0.5
            ),
        ]
    if fn in regression:
        return [keras.metrics.RootMeanSquaredError(name="root_mean_squared_error")]
    if fn is keras.losses.sparse_categorical_crossentropy:
        return [keras.metrics.SparseCategoricalAccuracy(name="sparse_categorical_accuracy")]
    if fn is keras.losses.categorical_crossentropy:
        return [keras.metrics.CategoricalAccuracy(name="categorical_accuracy")]
    return []


# Registered as "skrank>RankingTask": "skrank>Ranking" is the model.
@keras.saving.register_keras_serializable(package="skrank", name="RankingTask")
class Ranking(keras.layers.Layer):
    """Ranking task: computes the loss and updates the metrics, as in TFRS.

    Called as ``task(labels, predictions, sample_weight=None, training=False)``
    it returns the scalar loss and updates the metrics. Used as the ``task`` of
    :class:`skrank.models.Ranking`, its metrics appear in ``model.fit`` history.

    Predictions of shape ``(batch,)`` or ``(batch, 1)`` (one score per row) are
    compared with labels of shape ``(batch,)``; predictions of shape
    ``(batch, n_classes)`` go with integer labels for
    :class:`keras.losses.SparseCategoricalCrossentropy`.

    Parameters
    ----------
    loss : keras.losses.Loss or str, default=None
        None means :class:`keras.losses.BinaryCrossentropy` (click prediction).
        Pass :class:`keras.losses.MeanSquaredError` for rating prediction and
        :class:`keras.losses.SparseCategoricalCrossentropy` for several classes.
    metrics : list of keras.metrics.Metric, default=None
        Metrics updated with ``(labels, predictions)``. None picks defaults from
        the loss: AUC and binary accuracy for binary cross-entropy, root mean
        squared error for regression losses, accuracy for categorical
        cross-entropies. Pass ``[]`` for no metrics.
    prediction_metrics : list of keras.metrics.Metric, default=None
        Metrics updated with the predictions only (e.g. their mean).
    label_metrics : list of keras.metrics.Metric, default=None
        Metrics updated with the labels only.
    **kwargs
        Passed to :class:`keras.layers.Layer`.

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.tasks import Ranking
    >>> task = Ranking()
    >>> loss = task(np.array([1.0, 0.0]), np.array([0.9, 0.2]))
    >>> round(float(loss), 4)
    0.1643
    >>> [metric.name for metric in task.metrics]
    ['auc', 'binary_accuracy']
    """

    def __init__(
        self,
        loss=None,
        metrics=None,
        prediction_metrics=None,
        label_metrics=None,
        **kwargs,
    ):
        if kwargs.get("name") is None:
            kwargs["name"] = "ranking_task"
        super().__init__(**kwargs)
        self.loss = _as_loss(loss)
        self.ranking_metrics = (
            _default_metrics(self.loss) if metrics is None else _as_metrics(metrics, "metrics")
        )
        self.prediction_metrics = _as_metrics(prediction_metrics, "prediction_metrics")
        self.label_metrics = _as_metrics(label_metrics, "label_metrics")
        self._uses_default_metrics = metrics is None

    def call(self, labels, predictions, sample_weight=None, training=False, compute_metrics=True):
        """Return the scalar loss of ``predictions`` against ``labels``."""
        labels, predictions = _align(labels, predictions)
        loss = self.loss(labels, predictions, sample_weight=sample_weight)
        if compute_metrics:
            for metric in self.ranking_metrics:
                metric.update_state(labels, predictions, sample_weight=sample_weight)
            for metric in self.prediction_metrics:
                metric.update_state(predictions, sample_weight=sample_weight)
            for metric in self.label_metrics:
                metric.update_state(labels, sample_weight=sample_weight)
        return loss

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        config = super().get_config()
        config.update(
            {
                "loss": serialize(self.loss),
                "metrics": (
                    None
                    if self._uses_default_metrics
                    else [serialize(metric) for metric in self.ranking_metrics]
                ),
                "prediction_metrics": [serialize(m) for m in self.prediction_metrics],
                "label_metrics": [serialize(m) for m in self.label_metrics],
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        deserialize = keras.saving.deserialize_keras_object
        config["loss"] = deserialize(config["loss"])
        for key in ("metrics", "prediction_metrics", "label_metrics"):
            if config.get(key) is not None:
                config[key] = [deserialize(metric) for metric in config[key]]
        return cls(**config)


def _align(labels, predictions):
    """Give labels and one-score-per-row predictions the shape ``(batch, 1)``.

    Keras losses average over the last axis, so ``(batch,)`` inputs would be
    reduced to one number before the sample weights are applied.
    """
    predictions = ops.convert_to_tensor(predictions)
    labels = ops.convert_to_tensor(labels)
    if len(predictions.shape) == 1:
        predictions = ops.expand_dims(predictions, axis=-1)
    if len(labels.shape) == 1 and predictions.shape[-1] == 1:
        labels = ops.expand_dims(labels, axis=-1)
    return labels, predictions
