"""EmbeddingCollection and MLP."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from skrank.layers import MLP, EmbeddingCollection


def test_embedding_collection_looks_up_rows_and_keeps_keys():
    layer = EmbeddingCollection({"user id": 6, "a/b": 4, "a_b": 3}, embedding_dim=2)
    ids = {"user id": np.array([5, 0]), "a/b": np.array([[3], [1]]), "a_b": np.array([2, 2])}
    out = layer(ids)
    assert list(out) == ["user id", "a/b", "a_b"]
    tables = {name: keras.ops.convert_to_numpy(layer.table(name)) for name in layer.feature_names}
    assert {name: t.shape for name, t in tables.items()} == {
        "user id": (6, 2),
        "a/b": (4, 2),
        "a_b": (3, 2),
    }
    np.testing.assert_array_equal(out["user id"], tables["user id"][[5, 0]])
    np.testing.assert_array_equal(out["a/b"], tables["a/b"][[3, 1]])
    np.testing.assert_array_equal(out["a_b"], tables["a_b"][[2, 2]])
    # Stored stacked: one variable holds every feature's own rows, none shared.
    (stacked,) = layer.get_weights()
    np.testing.assert_array_equal(stacked, np.concatenate(list(tables.values())))
    assert len(np.unique(stacked, axis=0)) == 6 + 4 + 3


@pytest.mark.parametrize("bad_id", [3, -1])
def test_embedding_collection_rejects_ids_out_of_range(bad_id):
    # An id past the end of "u" must not silently read the rows of "v".
    layer = EmbeddingCollection({"u": 3, "v": 5}, embedding_dim=2)
    with pytest.raises(Exception, match=r"indices.*not in \[0, 8\)"):
        layer({"u": np.array([0, bad_id]), "v": np.array([1, 1])})


def test_embedding_collection_tables_train_row_by_row():
    # A gradient step on the ids of one feature moves only those rows.
    layer = EmbeddingCollection({"u": 4, "v": 4}, embedding_dim=3)
    layer({"u": np.array([0]), "v": np.array([0])})
    before = layer.get_weights()[0].copy()
    optimizer = keras.optimizers.SGD(0.5)
    with tf.GradientTape() as tape:
        out = layer({"u": np.array([1]), "v": np.array([2])})
        loss = keras.ops.sum(out["u"]) + 2 * keras.ops.sum(out["v"])
    optimizer.apply(tape.gradient(loss, layer.trainable_variables), layer.trainable_variables)
    after = layer.get_weights()[0]
    changed = np.flatnonzero((after != before).any(axis=1))
    assert changed.tolist() == [1, 4 + 2]
    np.testing.assert_allclose(after[1], before[1] - 0.5, rtol=1e-6)
    np.testing.assert_allclose(after[6], before[6] - 1.0, rtol=1e-6)


def test_embedding_collection_unknown_table_name():
    layer = EmbeddingCollection({"u": 3}, embedding_dim=2)
    layer({"u": np.array([0])})
    with pytest.raises(KeyError, match="no feature 'x'"):
        layer.table("x")


def test_embedding_collection_per_feature_dims():
    layer = EmbeddingCollection({"u": 3, "i": 3}, embedding_dim={"u": 2, "i": 5})
    out = layer({"u": np.array([0]), "i": np.array([1])})
    assert tuple(out["u"].shape) == (1, 2)
    assert tuple(out["i"].shape) == (1, 5)
    # One stored variable per width.
    assert sorted(tuple(w.shape) for w in layer.weights) == [(3, 2), (3, 5)]
    np.testing.assert_array_equal(out["i"], keras.ops.convert_to_numpy(layer.table("i"))[[1]])


def test_embedding_collection_missing_key_is_explained():
    layer = EmbeddingCollection({"user": 3, "item": 3}, embedding_dim=2)
    with pytest.raises(ValueError, match=r"sparse feature 'item' missing from inputs; expected"):
        layer({"user": np.array([0])})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"vocabulary_sizes": {"u": 0}, "embedding_dim": 2}, r"vocabulary_sizes\['u'\]"),
        ({"vocabulary_sizes": {"u": 3}, "embedding_dim": 0}, "embedding_dim"),
        ({"vocabulary_sizes": {"u": 3}, "embedding_dim": {"v": 2}}, "embedding_dim"),
    ],
)
def test_embedding_collection_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EmbeddingCollection(**kwargs)


def test_embedding_collection_config_round_trip():
    layer = EmbeddingCollection(
        {"user id": 6, "x": 2}, {"user id": 3, "x": 4}, embeddings_regularizer="l2"
    )
    clone = EmbeddingCollection.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def test_mlp_computes_dense_stack_with_final_activation():
    mlp = MLP([4, 1], final_activation="sigmoid")
    x = np.random.default_rng(0).normal(size=(3, 2)).astype("float32")
    out = keras.ops.convert_to_numpy(mlp(x))
    (k0, b0), (k1, b1) = mlp.get_weights()[:2], mlp.get_weights()[2:]
    hidden = np.maximum(x @ k0 + b0, 0.0)
    expected = 1.0 / (1.0 + np.exp(-(hidden @ k1 + b1)))
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_mlp_dropout_only_in_training():
    mlp = MLP([64, 64], dropout=0.5)
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(mlp(x, training=False), mlp(x, training=False))
    assert not np.array_equal(mlp(x, training=True), mlp(x, training=False))


@pytest.mark.parametrize("units", [[], [4, 0], [2.5], 8, "8", [True]])
def test_mlp_rejects_bad_units(units):
    with pytest.raises(ValueError, match="units"):
        MLP(units)


def test_mlp_config_round_trip():
    mlp = MLP([8, 3], activation="tanh", final_activation="softmax", dropout=0.1, use_bias=False)
    clone = MLP.from_config(mlp.get_config())
    assert clone.get_config() == mlp.get_config()
    assert clone.units == [8, 3]


@pytest.mark.parametrize("seeded", [False, True])
def test_same_shaped_weights_start_different(seeded):
    seed = keras.random.SeedGenerator(0) if seeded else None
    tables = EmbeddingCollection(
        {"a": 5, "b": 5}, 3, embeddings_initializer=keras.initializers.RandomUniform(seed=seed)
    )
    tables.build(None)
    assert not np.array_equal(tables.table("a"), tables.table("b"))
    mlp = MLP([4, 4, 4], kernel_initializer=keras.initializers.GlorotUniform(seed=seed))
    mlp.build((None, 4))
    assert not np.array_equal(mlp.get_weights()[2], mlp.get_weights()[4])
