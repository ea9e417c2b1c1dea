"""The Ranking task: loss values, default metrics, config."""

import keras
import numpy as np
import pytest

from skrank.tasks import Ranking


def _bce(y, p):
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def test_default_task_is_weighted_binary_cross_entropy():
    y = np.array([1.0, 0.0, 1.0])
    p = np.array([0.9, 0.3, 0.4])
    w = np.array([1.0, 2.0, 0.5])
    task = Ranking()
    loss = float(task(y, p, sample_weight=w))
    np.testing.assert_allclose(loss, np.sum(w * _bce(y, p)) / 3, rtol=1e-5)
    assert [m.name for m in task.metrics] == ["auc", "binary_accuracy"]


def test_default_metrics_are_updated():
    task = Ranking()
    task(np.array([1, 0, 1, 0]), np.array([0.8, 0.2, 0.7, 0.75]))
    results = {m.name: float(m.result()) for m in task.metrics}
    assert results["binary_accuracy"] == pytest.approx(0.75)
    assert results["auc"] == pytest.approx(0.75, abs=0.01)


def test_logit_loss_gets_logit_metrics():
    task = Ranking(loss=keras.losses.BinaryCrossentropy(from_logits=True))
    task(np.array([1, 0]), np.array([2.0, -1.0]))
    assert float(task.ranking_metrics[1].result()) == 1.0


def test_mse_task_reports_rmse():
    task = Ranking(loss=keras.losses.MeanSquaredError())
    loss = float(task(np.array([3.0, 4.0]), np.array([[2.0], [4.0]])))
    assert loss == pytest.approx(0.5)
    assert [m.name for m in task.metrics] == ["root_mean_squared_error"]
    assert float(task.metrics[0].result()) == pytest.approx(np.sqrt(0.5))


def test_multiclass_task():
    task = Ranking(loss=keras.losses.SparseCategoricalCrossentropy())
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    loss = float(task(np.array([0, 1]), p))
    assert loss == pytest.approx(-(np.log(0.7) + np.log(0.1)) / 2, rel=1e-5)
    assert float(task.metrics[0].result()) == pytest.approx(0.5)


def test_explicit_prediction_and_label_metrics():
    task = Ranking(
        metrics=[],
        prediction_metrics=[keras.metrics.Mean(name="mean_prediction")],
        label_metrics=[keras.metrics.Mean(name="mean_label")],
    )
    task(np.array([1.0, 0.0, 0.0, 0.0]), np.array([0.5, 0.5, 0.5, 0.1]), training=True)
    results = {m.name: float(m.result()) for m in task.metrics}
    assert results == pytest.approx({"mean_prediction": 0.4, "mean_label": 0.25})


def test_compute_metrics_false_leaves_metrics_alone():
    task = Ranking()
    task(np.array([1.0]), np.array([0.2]), compute_metrics=False)
    assert float(task.metrics[1].count) == 0.0


def test_loss_functions_and_names_become_loss_objects():
    assert isinstance(Ranking(loss="mse").loss, keras.losses.MeanSquaredError)
    assert isinstance(
        Ranking(loss=keras.losses.binary_crossentropy).loss, keras.losses.BinaryCrossentropy
    )

    def half_squared_error(y_true, y_pred):
        return keras.ops.mean(0.5 * (y_true - y_pred) ** 2, axis=-1)

    task = Ranking(loss=half_squared_error)
    assert float(task(np.array([1.0, 3.0]), np.array([2.0, 3.0]))) == pytest.approx(0.25)
    assert task.metrics == []


def test_bad_loss_is_rejected():
    with pytest.raises(ValueError, match="loss"):
        Ranking(loss="no_such_loss")


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"loss": keras.losses.MeanSquaredError()},
        {"loss": "mean_absolute_error"},
        {"metrics": [keras.metrics.AUC(num_thresholds=50)]},
        {"prediction_metrics": [keras.metrics.Mean(name="avg")]},
    ],
)
def test_config_round_trip(kwargs):
    task = Ranking(**kwargs)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(task))
    assert type(restored) is Ranking
    assert restored.get_config() == task.get_config()
    assert [m.name for m in restored.metrics] == [m.name for m in task.metrics]
