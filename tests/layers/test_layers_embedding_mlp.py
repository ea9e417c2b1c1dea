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


def test_mlp_dropout_follows_hidden_activations_and_spares_the_output():
    # With an identity output kernel the training output shows each hidden
    # unit either dropped (0) or kept and scaled by 1 / (1 - rate).
    mlp = MLP([16, 16], dropout=0.5, seed=3)
    x = np.random.default_rng(1).normal(size=(8, 3)).astype("float32")
    mlp(x)
    k0, b0, _, _ = mlp.get_weights()
    mlp.set_weights([k0, b0, np.eye(16, dtype="float32"), np.zeros(16, "float32")])
    hidden = np.maximum(x @ k0 + b0, 0.0)
    out = keras.ops.convert_to_numpy(mlp(x, training=True))
    kept = np.isclose(out, 2.0 * hidden, rtol=1e-5, atol=1e-6)
    dropped = out == 0.0
    assert np.all(kept | dropped)
    assert dropped[hidden > 0].any() and kept[hidden > 0].any()
    np.testing.assert_allclose(mlp(x, training=False), hidden, rtol=1e-5, atol=1e-6)
    # No hidden layer, no dropout.
    single = MLP([4], dropout=0.5, seed=3)
    np.testing.assert_array_equal(single(x, training=True), single(x, training=False))


def test_mlp_dropout_seed_repeats_masks():
    x = np.ones((4, 3), "float32")

    def training_outputs(seed):
        mlp = MLP([32, 32, 2], dropout=0.3, seed=seed, kernel_initializer="ones")
        return [keras.ops.convert_to_numpy(mlp(x, training=True)) for _ in range(2)]

    first, second = training_outputs(5)
    assert not np.array_equal(first, second)  # a new mask at every call
    for a, b in zip(training_outputs(5), (first, second), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(training_outputs(6)[0], first)


def test_mlp_parametric_activation_by_hand():
    x = np.random.default_rng(2).normal(size=(5, 3)).astype("float32")
    mlp = MLP([4, 2], parametric_activation=True)
    plain = MLP([4, 2])
    mlp(x)
    plain(x)
    np.testing.assert_array_equal(mlp.alphas[0], np.ones(4))
    k0, b0, k1, b1 = (
        keras.ops.convert_to_numpy(w) for d in mlp.dense_layers for w in (d.kernel, d.bias)
    )
    plain.set_weights([k0, b0, k1, b1])
    # alpha = 1: exactly the plain activation.
    np.testing.assert_allclose(mlp(x), plain(x), rtol=1e-6)
    alpha = np.array([0.0, 0.5, 1.0, -1.0], "float32")
    mlp.alphas[0].assign(alpha)
    pre = x @ k0 + b0
    hidden = pre + alpha * (np.maximum(pre, 0.0) - pre)
    np.testing.assert_allclose(mlp(x), hidden @ k1 + b1, rtol=1e-5, atol=1e-6)
    assert len(mlp.trainable_variables) == 5


def test_mlp_new_options_are_off_by_default():
    mlp = MLP([4, 4])
    mlp.build((None, 3))
    assert len(mlp.weights) == 4
    assert mlp.dropout_layers == []
    config = mlp.get_config()
    assert config["seed"] is None and config["parametric_activation"] is False
    assert config["dropout"] == 0.0


def test_mlp_options_config_and_keras_file_round_trip(tmp_path):
    mlp = MLP([6, 4, 1], dropout=0.2, seed=11, parametric_activation=True, activation="selu")
    clone = MLP.from_config(mlp.get_config())
    assert clone.get_config() == mlp.get_config()
    x = np.random.default_rng(3).normal(size=(7, 3)).astype("float32")
    inputs = keras.Input((3,))
    model = keras.Model(inputs, mlp(inputs))
    mlp.alphas[1].assign(np.linspace(-1.0, 2.0, 4).astype("float32"))
    path = tmp_path / "mlp.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[-1].get_config() == mlp.get_config()


@pytest.mark.parametrize("seed", ["1", 1.5, True])
def test_mlp_rejects_bad_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        MLP([4], seed=seed)
