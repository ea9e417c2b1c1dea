"""CompositeOptimizer: routing, validation, sparse gradients, persistence."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from skrank.layers import MLP, EmbeddingCollection
from skrank.models import Ranking
from skrank.optimizers import CompositeOptimizer

VOCAB = {"user": 10, "item": 6}


def make_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = {
        "dense_features": rng.normal(size=(n, 2)).astype("float32"),
        "sparse_features": {"user": rng.integers(0, 10, n), "item": rng.integers(0, 6, n)},
    }
    return x, (x["sparse_features"]["user"] % 2).astype("float32")


def make_model():
    return Ranking(
        EmbeddingCollection(VOCAB, 4),
        MLP([8, 4]),
        top_stack=MLP([4, 1], final_activation="sigmoid"),
    )


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)


def _snapshot(variables):
    return [np.array(v.numpy()) for v in variables]


@pytest.mark.parametrize(("frozen", "form"), [("embedding", "string"), ("dense", "callable")])
def test_zero_learning_rate_freezes_only_its_variables(frozen, form):
    x, y = make_data()
    model = make_model()
    model(x)
    rates = {"embedding": 0.1, "dense": 0.01, frozen: 0.0}

    def select(name):
        return name if form == "string" else lambda: getattr(model, f"{name}_trainable_variables")

    model.compile(
        optimizer=CompositeOptimizer(
            [
                (keras.optimizers.Adagrad(rates["embedding"]), select("embedding")),
                (keras.optimizers.SGD(rates["dense"]), select("dense")),
            ]
        )
    )
    other = "dense" if frozen == "embedding" else "embedding"
    frozen_before = _snapshot(getattr(model, f"{frozen}_trainable_variables"))
    other_before = _snapshot(getattr(model, f"{other}_trainable_variables"))
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    frozen_after = _snapshot(getattr(model, f"{frozen}_trainable_variables"))
    other_after = _snapshot(getattr(model, f"{other}_trainable_variables"))
    for before, after in zip(frozen_before, frozen_after, strict=True):
        np.testing.assert_array_equal(before, after)
    assert any(not np.array_equal(b, a) for b, a in zip(other_before, other_after, strict=True))
    assert int(model.optimizer.iterations) == 8
    assert [int(o.iterations) for o in model.optimizer.optimizers] == [8, 8]


def test_overlapping_variable_sets_are_rejected():
    x, y = make_data(n=8)
    model = make_model()
    model(x)
    optimizer = CompositeOptimizer(
        [
            (keras.optimizers.Adam(), lambda: model.trainable_variables),
            (keras.optimizers.Adagrad(), "embedding"),
        ]
    )
    model.compile(optimizer=optimizer)
    with pytest.raises(ValueError, match="selected by both .* must be disjoint"):
        model.fit(x, y, verbose=0)


def test_uncovered_variables_are_rejected():
    x, y = make_data(n=8)
    model = make_model()
    model.compile(optimizer=CompositeOptimizer([(keras.optimizers.Adagrad(), "embedding")]))
    with pytest.raises(ValueError, match="must cover every trainable variable"):
        model.fit(x, y, verbose=0)


def test_foreign_variables_are_rejected():
    model = make_model()
    model(make_data(n=4)[0])
    stray = keras.Variable(np.zeros(3), name="stray")
    optimizer = CompositeOptimizer(
        [(keras.optimizers.Adam(), lambda: [*model.trainable_variables, stray])]
    )
    with pytest.raises(ValueError, match="stray"):
        optimizer.build(model.trainable_variables)


def test_strings_need_a_model():
    optimizer = CompositeOptimizer([(keras.optimizers.Adam(), "dense")])
    with pytest.raises(ValueError, match="compile a skrank.models.Ranking"):
        optimizer.build([keras.Variable(np.zeros(2))])


@pytest.mark.parametrize(
    ("pairs", "match"),
    [
        ([], "at least one"),
        ([(keras.optimizers.Adam(),)], "pairs"),
        ([(keras.optimizers.Adam(), "embeddings")], "'embedding', 'dense'"),
        ([(42, "dense")], "keras optimizer"),
    ],
)
def test_bad_pairs_are_rejected(pairs, match):
    with pytest.raises(ValueError, match=match):
        CompositeOptimizer(pairs)


def test_embedding_gradients_stay_sparse():
    seen = []

    class RecordingAdagrad(keras.optimizers.Adagrad):
        def apply(self, grads, trainable_variables=None):
            seen.extend(type(g) for g in grads)
            return super().apply(grads, trainable_variables)

    x, y = make_data(n=16)
    model = make_model()
    model.compile(
        optimizer=CompositeOptimizer(
            [(RecordingAdagrad(0.1), "embedding"), (keras.optimizers.Adam(), "dense")]
        )
    )
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert seen and all(issubclass(kind, tf.IndexedSlices) for kind in seen)


def test_learning_rate_reads_first_and_scales_all():
    optimizer = CompositeOptimizer(
        [(keras.optimizers.Adagrad(0.2), "embedding"), (keras.optimizers.Adam(0.01), "dense")]
    )
    assert float(optimizer.learning_rate) == pytest.approx(0.2)
    optimizer.learning_rate = 0.1
    rates = [float(o.learning_rate) for o in optimizer.optimizers]
    assert rates == pytest.approx([0.1, 0.005])


def test_model_with_composite_optimizer_round_trips(tmp_path):
    x, y = make_data()
    model = make_model()
    model.compile(
        optimizer=CompositeOptimizer(
            [(keras.optimizers.Adagrad(0.1), "embedding"), (keras.optimizers.Adam(0.01), "dense")]
        )
    )
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert isinstance(loaded.optimizer, CompositeOptimizer)
    assert [type(o) for o in loaded.optimizer.optimizers] == [
        keras.optimizers.Adagrad,
        keras.optimizers.Adam,
    ]
    for saved, restored in zip(model.optimizer.variables, loaded.optimizer.variables, strict=True):
        np.testing.assert_array_equal(saved.numpy(), restored.numpy())
    # Training resumes identically from the restored optimizer state.
    model.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    loaded.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )


def test_model_callables_are_saved_as_strings():
    x, _ = make_data(n=16)
    model = make_model()
    model.compile(
        optimizer=CompositeOptimizer(
            [
                (keras.optimizers.Adagrad(), lambda: model.embedding_trainable_variables),
                (keras.optimizers.Adam(), lambda: model.dense_trainable_variables),
            ]
        )
    )
    model(x)
    model.optimizer.build(model.trainable_variables)
    pairs = model.optimizer.get_config()["optimizers_and_vars"]
    assert [name for _, name in pairs] == ["embedding", "dense"]


def test_other_callables_cannot_be_saved(tmp_path):
    x, _ = make_data(n=16)
    model = make_model()
    model(x)
    top = model.top_stack.trainable_variables
    rest = [v for v in model.trainable_variables if all(v is not t for t in top)]
    model.compile(
        optimizer=CompositeOptimizer(
            [(keras.optimizers.Adam(), lambda: top), (keras.optimizers.SGD(), lambda: rest)]
        )
    )
    model.optimizer.build(model.trainable_variables)
    with pytest.raises(ValueError, match="Use the strings 'embedding' / 'dense'"):
        model.save(tmp_path / "model.keras")
