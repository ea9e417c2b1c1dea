"""EmbeddingCollection with bags of ids per row: forms, combiners, gradients, id_dropout."""

import keras
import numpy as np
import pytest

from skrank._tf import import_tensorflow
from skrank.layers import EmbeddingCollection
from skrank.models import Ranking
from skrank.optimizers._sparse import RowSparseAdam

tf = import_tensorflow()

BAGS = [[1, 2, 2], [3], []]


def table(layer, name):
    return keras.ops.convert_to_numpy(layer.table(name))


def padded(bags, width=3):
    return np.array([bag + [-1] * (width - len(bag)) for bag in bags], dtype=np.int32)


@pytest.mark.parametrize("combiner", ["mean", "sum", "sqrtn"])
def test_bags_are_pooled_by_the_combiner(combiner):
    layer = EmbeddingCollection({"tags": 5, "user": 4}, embedding_dim=3, combiner=combiner)
    out = layer({"tags": padded(BAGS), "user": np.array([0, 1, 2])})
    rows = table(layer, "tags")
    expected = []
    for bag in BAGS:
        total = rows[bag].sum(axis=0) if bag else np.zeros(3)
        scale = {"mean": max(len(bag), 1), "sum": 1, "sqrtn": max(np.sqrt(len(bag)), 1)}
        expected.append(total / scale[combiner])
    np.testing.assert_allclose(out["tags"], expected, rtol=1e-6)
    assert not np.isnan(keras.ops.convert_to_numpy(out["tags"])).any()
    np.testing.assert_array_equal(out["user"], table(layer, "user")[[0, 1, 2]])


def test_ragged_sparse_masked_and_padded_ids_agree():
    layer = EmbeddingCollection({"tags": 5}, embedding_dim=2, combiner="sqrtn")
    ragged = tf.ragged.constant(BAGS, dtype=tf.int64)
    ids = np.array([[1, 2, 2], [3, 4, 4], [0, 0, 0]])
    mask = np.array([[1, 1, 1], [1, 0, 0], [0, 0, 0]], dtype=bool)
    expected = keras.ops.convert_to_numpy(layer({"tags": padded(BAGS)})["tags"])
    for form in (ragged, ragged.to_sparse(), (ids, mask), padded(BAGS, width=5)):
        np.testing.assert_allclose(layer({"tags": form})["tags"], expected, rtol=1e-6)


def test_padding_gets_no_gradient_and_row_sparse_adam_updates_only_used_rows():
    layer = EmbeddingCollection({"tags": 6}, embedding_dim=2)
    layer.build()
    optimizer = RowSparseAdam(0.1)
    optimizer.build(layer.trainable_variables)
    before = table(layer, "tags").copy()
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer({"tags": padded(BAGS)})["tags"])
    (gradient,) = tape.gradient(loss, layer.trainable_variables)
    assert isinstance(gradient, tf.IndexedSlices)
    assert sorted(set(gradient.indices.numpy().tolist())) == [1, 2, 3]
    optimizer.apply_gradients(zip([gradient], layer.trainable_variables, strict=True))
    changed = np.flatnonzero(np.any(table(layer, "tags") != before, axis=1))
    assert changed.tolist() == [1, 2, 3]


def test_bags_out_of_range_fail_like_single_ids():
    layer = EmbeddingCollection({"tags": 3}, embedding_dim=2)
    with pytest.raises(Exception, match="(?i)indices|index|out of range|not in"):
        layer({"tags": np.array([[1, 3]])})


def test_id_dropout_only_in_training_and_keeps_reserved_ids():
    layer = EmbeddingCollection({"item": 50}, embedding_dim=2, id_dropout=0.5, seed=0)
    ids = np.arange(50, dtype=np.int32)
    inference = keras.ops.convert_to_numpy(layer({"item": ids})["item"])
    rows = table(layer, "item")
    np.testing.assert_array_equal(inference, rows)
    trained = keras.ops.convert_to_numpy(layer({"item": ids}, training=True)["item"])
    dropped = np.all(trained == rows[1], axis=1) & (ids > 1)
    assert 10 < dropped.sum() < 40
    np.testing.assert_array_equal(trained[:2], rows[:2])  # missing and unknown stay
    with pytest.raises(ValueError, match="id_dropout"):
        EmbeddingCollection({"item": 5}, embedding_dim=2, id_dropout=1.0)
    with pytest.raises(ValueError, match="combiner"):
        EmbeddingCollection({"item": 5}, embedding_dim=2, combiner="max")


def test_config_and_keras_file_round_trip_with_bags(tmp_path):
    layer = EmbeddingCollection(
        {"tags": 5, "u": 3}, embedding_dim=2, combiner={"tags": "sum"}, id_dropout=0.1, seed=3
    )
    model = Ranking(layer, top_stack=keras.layers.Dense(1))
    x = {"sparse_features": {"tags": padded(BAGS), "u": np.array([0, 1, 2])}}
    expected = keras.ops.convert_to_numpy(model(x))
    clone = EmbeddingCollection.from_config(layer.get_config())
    assert clone.combiner == {"tags": "sum"} and clone.id_dropout == 0.1 and clone.seed == 3
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), expected, rtol=1e-6)
