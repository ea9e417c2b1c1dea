"""The Ranking model: training, shapes, configurations, errors, persistence."""

import json

import keras
import numpy as np
import pytest

from skrank.layers import MLP, CrossNetwork, EmbeddingCollection, FeatureCross
from skrank.models import Ranking
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
