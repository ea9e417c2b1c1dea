"""The Ensemble model: members trained side by side, their predictions averaged."""

import json

import keras
import numpy as np
import pytest

from skrank.layers import MLP, EmbeddingCollection
from skrank.models import Ensemble, Ranking
from skrank.optimizers import CompositeOptimizer

from .test_models_ranking import VOCAB, make_data, small_model


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)


def test_prediction_is_the_mean_of_the_members():
    x, _ = make_data(n=64)
    members = [small_model() for _ in range(3)]
    model = Ensemble(members)
    predicted = keras.ops.convert_to_numpy(model(x, training=False))
    alone = np.stack([keras.ops.convert_to_numpy(m(x, training=False)) for m in members])
    assert predicted.shape == (64,)
    np.testing.assert_allclose(predicted, alone.mean(axis=0), rtol=1e-6)
    stacked = keras.ops.convert_to_numpy(model(x, training=True))
    assert stacked.shape == (3, 64)


def test_training_loss_is_the_sum_of_the_member_losses_and_evaluation_that_of_the_mean():
    x, y = make_data(n=64)
    members = [small_model() for _ in range(2)]
    model = Ensemble(members)
    model(x)
    stacked = model(x, training=True)
    loss = float(model.compute_loss(x, y, stacked, training=True))
    member_losses = [float(m.task(y, stacked[i], training=True)) for i, m in enumerate(members)]
    np.testing.assert_allclose(loss, sum(member_losses), rtol=1e-6)
    mean = model(x, training=False)
    evaluated = float(model.compute_loss(x, y, mean, training=False))
    np.testing.assert_allclose(evaluated, float(members[0].task(y, mean)), rtol=1e-6)


def test_members_train_as_if_alone():
    """With SGD, one step of the ensemble moves each member as one step of it alone."""
    x, y = make_data(n=32)
    members = [small_model() for _ in range(2)]
    alone = Ranking.from_config(members[1].get_config())
    alone(x)
    model = Ensemble(members)
    model(x)
    alone.set_weights(members[1].get_weights())
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    alone.compile(optimizer=keras.optimizers.SGD(0.1))
    model.train_on_batch(x, y)
    alone.train_on_batch(x, y)
    for got, want in zip(members[1].get_weights(), alone.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_ensemble_learns_and_round_trips(tmp_path):
    x, y = make_data()
    model = Ensemble([small_model() for _ in range(3)])
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    model.fit(x, y, epochs=4, batch_size=64, verbose=0)
    assert model.evaluate(x, y, verbose=0, return_dict=True)["loss"] < before - 0.05
    path = tmp_path / "ensemble.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is Ensemble and len(loaded.members) == 3
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    config = json.loads(json.dumps(model.get_config()))
    assert json.loads(json.dumps(Ensemble.from_config(config).get_config())) == config


def test_composite_optimizer_sees_every_members_tables():
    x, y = make_data(n=64)
    members = [small_model() for _ in range(2)]
    model = Ensemble(members)
    model(x)
    embedding = {id(v) for v in model.embedding_trainable_variables}
    dense = {id(v) for v in model.dense_trainable_variables}
    assert embedding == {id(v) for m in members for v in m.embedding_trainable_variables}
    assert not embedding & dense
    assert embedding | dense == {id(v) for v in model.trainable_variables}
    optimizer = CompositeOptimizer(
        [(keras.optimizers.Adagrad(0.1), "embedding"), (keras.optimizers.Adam(1e-2), "dense")]
    )
    model.compile(optimizer=optimizer)
    tables = [keras.ops.convert_to_numpy(v).copy() for v in model.embedding_trainable_variables]
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    for before, after in zip(tables, model.embedding_trainable_variables, strict=True):
        assert not np.array_equal(before, keras.ops.convert_to_numpy(after))


def test_embedding_penalties_of_every_member_count_in_training():
    x, y = make_data(n=64)
    members = [
        Ranking(
            EmbeddingCollection(VOCAB, 4),
            bottom_stack=MLP([8, 4]),
            top_stack=MLP([8, 1], final_activation="sigmoid"),
            embedding_l2=0.5,
        )
        for _ in range(2)
    ]
    model = Ensemble(members)
    model(x)
    stacked = model(x, training=True)
    assert len(model.losses) == 2
    penalised = float(model.compute_loss(x, y, stacked, training=True))
    plain = sum(float(m.task(y, stacked[i], training=True)) for i, m in enumerate(members))
    np.testing.assert_allclose(penalised - plain, sum(float(v) for v in model.losses), rtol=1e-5)


@pytest.mark.parametrize("members", [[], "abc", None])
def test_members_must_be_models(members):
    with pytest.raises(ValueError, match="members must be a non-empty list of keras models"):
        Ensemble(members)


def test_members_must_be_distinct():
    member = small_model()
    with pytest.raises(ValueError, match="distinct"):
        Ensemble([member, member])
