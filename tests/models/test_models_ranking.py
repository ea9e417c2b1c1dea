"""The Ranking model: training, shapes, configurations, errors, persistence."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from skrank.layers import MLP, CrossNetwork, DotInteraction, EmbeddingCollection, FeatureCross
from skrank.layers._numeric import PeriodicEmbedding, PiecewiseLinearEmbedding
from skrank.models import Ranking
from skrank.optimizers import CompositeOptimizer
from skrank.tasks import Ranking as RankingTask

VOCAB = {"user id": 20, "item/category": 8}


def make_data(n=512, n_dense=3, seed=0):
    """Clicks driven by the user id and the first dense feature."""
    rng = np.random.default_rng(seed)
    users = rng.integers(0, VOCAB["user id"], n)
    items = rng.integers(0, VOCAB["item/category"], n)
    dense = rng.normal(size=(n, n_dense)).astype("float32")
    logit = 2.0 * np.where(users % 2 == 0, 1.0, -1.0) + 1.5 * dense[:, 0]
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype("float32")
    x = {"dense_features": dense, "sparse_features": {"user id": users, "item/category": items}}
    return x, y


def small_model(embedding_dim=4, **kwargs):
    kwargs.setdefault("bottom_stack", MLP([8, embedding_dim]))
    kwargs.setdefault("top_stack", MLP([8, 1], final_activation="sigmoid"))
    return Ranking(EmbeddingCollection(VOCAB, embedding_dim), **kwargs)


def auc(y, score):
    """Probability that a random positive outscores a random negative."""
    pos, neg = score[y == 1], score[y == 0]
    return np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(pos[:, None] == neg[None, :])


def _plain(config):
    """The config as JSON would store it (tuples become lists)."""
    return json.loads(json.dumps(config))


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)


def test_default_model_learns():
    x, y = make_data()
    model = Ranking(EmbeddingCollection(VOCAB, embedding_dim=16))  # default stacks
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    history = model.fit(x, y, epochs=4, batch_size=64, verbose=0)
    after = model.evaluate(x, y, verbose=0, return_dict=True)
    assert after["loss"] < before - 0.05
    assert {"loss", "auc", "binary_accuracy"} <= set(history.history)
    assert auc(y, model.predict(x, verbose=0)) > 0.75
    assert after["auc"] > 0.75


def test_fit_with_sample_weight_validation_data_and_callbacks():
    x, y = make_data(n=128)
    model = small_model()
    model.compile(optimizer="adam")
    seen = []
    callback = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(logs))
    history = model.fit(
        x,
        y,
        sample_weight=np.linspace(0.5, 1.5, len(y)),
        validation_data=(x, y),
        callbacks=[callback],
        epochs=2,
        batch_size=32,
        verbose=0,
    )
    assert {"val_loss", "val_auc", "val_binary_accuracy"} <= set(history.history)
    assert len(seen) == 2


def test_prediction_shapes_and_batch_size_one():
    x, y = make_data(n=1)
    model = small_model()
    model.compile(optimizer="adam")
    model.fit(x, y, epochs=1, batch_size=1, verbose=0)
    prediction = model.predict(x, verbose=0)
    assert prediction.shape == (1,)
    assert 0.0 < prediction[0] < 1.0


def test_train_on_batch_reports_loss():
    x, y = make_data(n=32)
    model = small_model()
    model.compile(optimizer="adam")
    logs = model.train_on_batch(x, y, return_dict=True)
    assert np.isfinite(logs["loss"]) and logs["loss"] > 0


def test_seed_dcn_recipe_and_cross_network():
    x, y = make_data(n=128)
    recipe = keras.Sequential([keras.layers.Concatenate(), FeatureCross(), FeatureCross()])
    for interaction in (recipe, CrossNetwork(num_layers=2, deep_units=[8])):
        model = small_model(bottom_stack=MLP([8, 5]), feature_interaction=interaction)
        model.compile(optimizer="adam")
        history = model.fit(x, y, epochs=1, batch_size=32, verbose=0)
        assert np.all(np.isfinite(history.history["loss"]))
        assert model.predict(x, verbose=0).shape == (128,)


@pytest.mark.parametrize("without", ["missing key", "zero width"])
def test_model_without_dense_features(without):
    x, y = make_data(n=64)
    if without == "missing key":
        del x["dense_features"]
    else:
        x["dense_features"] = np.zeros((64, 0), "float32")
    model = small_model()
    model.compile(optimizer="adam")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert model.predict(x, verbose=0).shape == (64,)
    assert not model.bottom_stack.built


@pytest.mark.parametrize("embedding_layer", [None, "empty"])
def test_model_without_sparse_features(embedding_layer):
    x, y = make_data(n=64)
    del x["sparse_features"]
    embedding = EmbeddingCollection({}, 4) if embedding_layer == "empty" else None
    model = Ranking(embedding, MLP([8, 4]), top_stack=MLP([4, 1], final_activation="sigmoid"))
    if embedding is not None:
        x["sparse_features"] = {}
    model.compile(optimizer="adam")
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]
    assert model.embedding_trainable_variables == []


def test_multiclass_softmax_top_stack():
    x, _ = make_data(n=96)
    y = x["sparse_features"]["user id"] % 3
    model = small_model(
        top_stack=MLP([8, 3], final_activation="softmax"),
        task=RankingTask(loss=keras.losses.SparseCategoricalCrossentropy()),
    )
    model.compile(optimizer=keras.optimizers.Adam(0.02))
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    assert "sparse_categorical_accuracy" in history.history
    assert history.history["loss"][-1] < history.history["loss"][0]
    proba = model.predict(x, verbose=0)
    assert proba.shape == (96, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def test_mse_rating_task():
    x, _ = make_data(n=96)
    y = (x["sparse_features"]["user id"] % 5 + 1).astype("float32")
    model = small_model(
        top_stack=MLP([8, 1]), task=RankingTask(loss=keras.losses.MeanSquaredError())
    )
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    assert "root_mean_squared_error" in history.history
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_bottom_width_must_match_embedding_dim_for_dot_interaction():
    x, y = make_data(n=8)
    model = small_model(embedding_dim=16, bottom_stack=MLP([8]))
    message = (
        r"bottom_stack outputs 8 units but the embeddings have 16; "
        r"make the last bottom_stack layer 16 wide or use CrossNetwork"
    )
    with pytest.raises(ValueError, match=message):
        model(x)
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match=message):
        model.fit(x, y, verbose=0)


def test_missing_sparse_feature_is_named():
    x, _ = make_data(n=8)
    del x["sparse_features"]["item/category"]
    with pytest.raises(ValueError, match=r"sparse feature 'item/category' missing from inputs"):
        small_model()(x)


def test_bad_inputs_are_explained():
    x, _ = make_data(n=8)
    model = small_model()
    with pytest.raises(ValueError, match="inputs lack 'sparse_features'"):
        model({"dense_features": x["dense_features"]})
    with pytest.raises(ValueError, match="expects a dict"):
        model(x["dense_features"])
    with pytest.raises(ValueError, match=r"keys \['dense'\]"):
        model({**x, "dense": x["dense_features"]})


def test_dense_and_embedding_variables_partition_trainable_variables():
    x, _ = make_data(n=8)
    model = small_model()
    model(x)
    embedding = {id(v) for v in model.embedding_trainable_variables}
    dense = {id(v) for v in model.dense_trainable_variables}
    assert len(embedding) == 1  # both tables, stacked in one variable
    assert not embedding & dense
    assert embedding | dense == {id(v) for v in model.trainable_variables}


def test_keras_file_round_trip(tmp_path):
    x, y = make_data(n=128)
    model = small_model(feature_interaction=CrossNetwork(2), bottom_stack=MLP([8, 3]))
    model.compile(optimizer="adam")
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    path = tmp_path / "ranking.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is Ranking
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert _plain(loaded.get_config()) == _plain(model.get_config())
    loaded.fit(x, y, epochs=1, verbose=0)  # still compiled and trainable


def test_default_model_config_round_trip():
    model = Ranking(EmbeddingCollection(VOCAB, 16))
    clone = Ranking.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert clone.top_stack.units == [512, 256, 1]
    assert clone.bottom_stack.units == [256, 64, 16]


class MarginRanking(Ranking):
    """Scores in (-1, 1) and a custom squared hinge loss: a user subclass."""

    def call(self, inputs, training=None):
        return 2.0 * super().call(inputs, training=training) - 1.0

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        signs = 2.0 * keras.ops.cast(y, y_pred.dtype) - 1.0
        return keras.ops.mean(keras.ops.square(keras.ops.relu(1.0 - signs * y_pred)))


def test_subclass_overriding_call_and_compute_loss_trains():
    x, y = make_data(n=256)
    model = MarginRanking(
        EmbeddingCollection(VOCAB, 4), MLP([8, 4]), top_stack=MLP([8, 1], final_activation="tanh")
    )
    model.compile(optimizer=keras.optimizers.Adam(0.02))
    history = model.fit(x, y, epochs=4, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    scores = model.predict(x, verbose=0)
    assert scores.min() >= -1.0 and scores.max() <= 1.0
    assert auc(y, scores) > 0.7


# ------------------------------------------------ numeric embeddings as tokens


class Identity(keras.layers.Layer):
    """A top stack that returns its input: the model then outputs the top input."""

    def call(self, inputs):
        return inputs


def _numpy(value):
    return keras.ops.convert_to_numpy(value)


def test_dense_embedding_vectors_join_the_dot_interaction():
    x, _ = make_data(n=6)
    numeric = PeriodicEmbedding(4, n_frequencies=3, sigma=1.0, seed=0)
    model = small_model(dense_embedding_layer=numeric, dense_tokens=True, top_stack=Identity())
    out = _numpy(model(x))
    embeddings = model.embedding_layer(x["sparse_features"])
    tokens = _numpy(numeric(x["dense_features"]))
    bottom = _numpy(model.bottom_stack(x["dense_features"]))
    features = [*embeddings.values(), *(tokens[:, j] for j in range(3)), bottom]
    expected = np.concatenate([bottom, _numpy(DotInteraction()(features))], axis=-1)
    # 2 embeddings + 3 dense vectors + bottom output: 6 * 5 / 2 pairs.
    assert out.shape == (6, 4 + 15)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_dense_embedding_vectors_feed_the_bottom_stack_by_default():
    x, _ = make_data(n=6)
    numeric = PeriodicEmbedding(3, n_frequencies=3, sigma=1.0, seed=0)
    model = small_model(dense_embedding_layer=numeric, top_stack=Identity())
    out = _numpy(model(x))
    # MLP-PLR: the bottom stack takes the 3 dense vectors of width 3, flattened.
    assert model.bottom_stack.dense_layers[0].kernel.shape[0] == 3 * 3
    flat = _numpy(numeric(x["dense_features"])).reshape(6, 9)
    bottom = _numpy(model.bottom_stack(flat))
    embeddings = model.embedding_layer(x["sparse_features"])
    expected = np.concatenate(
        [bottom, _numpy(DotInteraction()([*embeddings.values(), bottom]))], axis=-1
    )
    # 2 embeddings + bottom output: 3 pairs, as without the dense embedding.
    assert out.shape == (6, 4 + 3)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_dense_tokens_must_be_a_bool():
    with pytest.raises(ValueError, match="dense_tokens must be True or False"):
        Ranking(dense_tokens="yes")


def test_dense_embedding_vectors_are_flattened_for_a_cross_network():
    x, _ = make_data(n=6)
    numeric = PiecewiseLinearEmbedding([[-1.0, 0.0, 1.0]] * 3, dim=2, seed=0)
    concatenate = keras.Sequential([keras.layers.Concatenate()])
    model = small_model(
        dense_embedding_layer=numeric,
        dense_tokens=True,
        bottom_stack=MLP([5]),
        feature_interaction=concatenate,
        top_stack=Identity(),
    )
    out = _numpy(model(x))
    tables = model.embedding_layer
    users, items = x["sparse_features"]["user id"], x["sparse_features"]["item/category"]
    bottom = _numpy(model.bottom_stack(x["dense_features"]))
    tokens = _numpy(numeric(x["dense_features"])).reshape(6, 3 * 2)
    expected = np.concatenate(
        [
            bottom,
            _numpy(tables.table("user id"))[users],
            _numpy(tables.table("item/category"))[items],
            tokens,
            bottom,
        ],
        axis=-1,
    )
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_dense_embedding_with_dot_interaction_and_no_sparse_features():
    x, y = make_data(n=64)
    del x["sparse_features"]
    model = Ranking(
        bottom_stack=MLP([8, 4]),
        top_stack=MLP([4, 1], final_activation="sigmoid"),
        dense_embedding_layer=PeriodicEmbedding(4, n_frequencies=4, seed=0),
        dense_tokens=True,
    )
    model.compile(optimizer="adam")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    # 3 dense vectors + bottom output: 4 * 3 / 2 pairs.
    assert model.top_stack.dense_layers[0].kernel.shape[0] == 4 + 6


def test_dense_embedding_width_must_match_embedding_dim_for_dot_interaction():
    x, _ = make_data(n=8)
    model = small_model(dense_embedding_layer=PeriodicEmbedding(3, seed=0), dense_tokens=True)
    with pytest.raises(ValueError, match=r"dense_embedding_layer outputs vectors of width 3"):
        model(x)


def test_dense_embedding_is_skipped_without_dense_features():
    x, y = make_data(n=32)
    del x["dense_features"]
    numeric = PeriodicEmbedding(4, seed=0)
    model = small_model(dense_embedding_layer=numeric)
    model.compile(optimizer="adam")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert not numeric.built


def test_dense_embedding_weights_are_dense_variables_for_the_dense_optimizer():
    x, y = make_data(n=128)
    numeric = PeriodicEmbedding(4, n_frequencies=4, sigma=1.0, seed=0)
    model = small_model(dense_embedding_layer=numeric)
    optimizer = CompositeOptimizer(
        [(keras.optimizers.SGD(0.0), "embedding"), (keras.optimizers.Adam(0.01), "dense")]
    )
    model.compile(optimizer=optimizer)
    model(x)
    embedding = {id(v) for v in model.embedding_trainable_variables}
    dense = {id(v) for v in model.dense_trainable_variables}
    assert {id(v) for v in numeric.trainable_variables} <= dense
    assert not embedding & dense
    assert embedding | dense == {id(v) for v in model.trainable_variables}
    tables, frequencies = model.embedding_layer.get_weights()[0], numeric.get_weights()[0]
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    np.testing.assert_array_equal(model.embedding_layer.get_weights()[0], tables)
    assert not np.array_equal(numeric.get_weights()[0], frequencies)


@pytest.mark.parametrize("numeric", ["periodic", "piecewise"])
def test_model_with_dense_embedding_learns_and_round_trips(numeric, tmp_path):
    x, y = make_data(n=256)
    if numeric == "periodic":
        layer = PeriodicEmbedding(4, n_frequencies=8, sigma=2.0, seed=1)
        interaction = None
    else:
        quantiles = np.quantile(x["dense_features"], np.linspace(0, 1, 9), axis=0)
        layer = PiecewiseLinearEmbedding(quantiles.T.tolist(), dim=4, seed=1)
        interaction = CrossNetwork(2)
    model = small_model(
        dense_embedding_layer=layer, feature_interaction=interaction, embedding_l2=1e-3
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    history = model.fit(x, y, epochs=4, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert auc(y, model.predict(x, verbose=0)) > 0.75
    path = tmp_path / "ranking.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.dense_embedding_layer) is type(layer)
    assert loaded.embedding_l2 == 1e-3
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert _plain(loaded.get_config()) == _plain(model.get_config())
    loaded.fit(x, y, epochs=1, verbose=0)


def test_new_options_config_round_trip_and_old_configs_load():
    model = small_model(dense_embedding_layer=PeriodicEmbedding(4, sigma=10.0), embedding_l2=0.5)
    config = model.get_config()
    clone = Ranking.from_config(_plain(config))
    assert clone.get_config() == config
    assert clone.dense_embedding_layer.sigma == 10.0
    assert clone.embedding_l2 == 0.5
    assert clone.dense_tokens is False
    default = small_model().get_config()
    assert default["dense_embedding_layer"] is None and default["embedding_l2"] == 0.0
    # A config saved before these options existed.
    new_keys = ("dense_embedding_layer", "dense_tokens", "embedding_l2")
    old = {k: v for k, v in default.items() if k not in new_keys}
    assert Ranking.from_config(old).get_config() == default
    # Saved before dense_tokens existed, dense vectors were tokens of the interaction.
    tokens = {k: v for k, v in _plain(config).items() if k != "dense_tokens"}
    assert Ranking.from_config(tokens).dense_tokens is True


# ------------------------------------------------------------- embedding L2


def _penalty_by_hand(model, x, l2):
    tables = model.embedding_layer
    rows = [_numpy(tables.table(name))[ids] for name, ids in x["sparse_features"].items()]
    return l2 * np.mean(sum(np.sum(r.astype("float64") ** 2, axis=-1) for r in rows))


def test_embedding_l2_is_a_model_loss_in_training_only():
    x, _ = make_data(n=16)
    model = small_model(embedding_l2=0.25)
    model(x, training=True)
    (penalty,) = model.losses
    np.testing.assert_allclose(float(penalty), _penalty_by_hand(model, x, 0.25), rtol=1e-6)
    model(x, training=False)
    assert model.losses == []
    model(x)
    assert model.losses == []
    unused = small_model()
    unused(x, training=True)
    assert unused.losses == []


def test_embedding_l2_is_in_the_fit_loss():
    x, y = make_data(n=64)
    model = small_model(embedding_l2=2.0)
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    task_loss = model.evaluate(x, y, batch_size=64, verbose=0, return_dict=True)["loss"]
    logs = model.train_on_batch(x, y, return_dict=True)
    penalty = _penalty_by_hand(model, x, 2.0)
    assert penalty > 1e-3
    np.testing.assert_allclose(logs["loss"], task_loss + penalty, rtol=1e-5)


def test_embedding_l2_in_a_custom_loop_reaches_the_looked_up_rows_only():
    x, y = make_data(n=8)
    model = small_model(embedding_l2=0.5)
    model(x)
    (table,) = model.embedding_trainable_variables
    with tf.GradientTape() as tape:
        model(x, training=True)
        penalty = keras.ops.sum(keras.ops.stack(model.losses))
    gradient = tape.gradient(penalty, table)
    assert isinstance(gradient, tf.IndexedSlices)  # row-sparse
    dense_gradient = _numpy(tf.convert_to_tensor(gradient))
    # d/dv of 0.5 * mean_b sum ||v||^2 is 2 * 0.5 / batch * v for each lookup.
    expected = np.zeros_like(dense_gradient)
    values = _numpy(table)
    offset = {"user id": 0, "item/category": VOCAB["user id"]}
    for name, ids in x["sparse_features"].items():
        for row in ids + offset[name]:
            expected[row] += 2 * 0.5 / 8 * values[row]
    np.testing.assert_allclose(dense_gradient, expected, rtol=1e-5, atol=1e-8)
    untouched = np.ones(len(values), bool)
    for name, ids in x["sparse_features"].items():
        untouched[ids + offset[name]] = False
    assert not dense_gradient[untouched].any()


@pytest.mark.parametrize("value", [-0.1, True, "0.1", None, float("nan")])
def test_embedding_l2_rejects_bad_values(value):
    with pytest.raises(ValueError, match="embedding_l2"):
        small_model(embedding_l2=value)
