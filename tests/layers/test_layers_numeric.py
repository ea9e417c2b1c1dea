"""PeriodicEmbedding (PLR) and PiecewiseLinearEmbedding (PLE) of numeric features."""

import doctest
import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from skrank.layers import _numeric
from skrank.layers._numeric import PeriodicEmbedding, PiecewiseLinearEmbedding


def _features(n=5, n_features=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n, n_features)).astype("float32")


def _periodic_by_hand(x, frequencies, kernel, bias, *, lite, relu=True):
    angles = 2 * np.pi * frequencies[None] * x[..., None].astype("float64")
    periodic = np.concatenate([np.cos(angles), np.sin(angles)], axis=-1)
    if lite:  # one map shared by every feature
        kernel = np.broadcast_to(kernel, (x.shape[1], *kernel.shape))
    out = np.einsum("bnf,nfd->bnd", periodic, kernel) + bias
    return np.maximum(out, 0.0) if relu else out


@pytest.mark.parametrize("lite", [False, True])
@pytest.mark.parametrize("activation", ["relu", None])
def test_periodic_embedding_matches_hand_computation(lite, activation):
    x = _features()
    layer = PeriodicEmbedding(4, n_frequencies=6, sigma=2.0, activation=activation, lite=lite)
    out = keras.ops.convert_to_numpy(layer(x))
    frequencies, kernel, bias = layer.get_weights()
    assert frequencies.shape == (3, 6)
    assert kernel.shape == ((12, 4) if lite else (3, 12, 4))
    assert bias.shape == ((4,) if lite else (3, 4))
    expected = _periodic_by_hand(x, frequencies, kernel, bias, lite=lite, relu=activation)
    assert out.shape == (5, 3, 4)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    if activation is None:
        assert out.min() < 0  # PL: no ReLU


def test_periodic_frequencies_are_truncated_normal_of_scale_sigma():
    layer = PeriodicEmbedding(2, n_frequencies=4000, sigma=5.0, seed=3)
    layer.build((None, 2))
    frequencies = layer.get_weights()[0]
    # A normal truncated at +-3 sigma has standard deviation 0.9866 sigma.
    assert abs(frequencies.std() / 5.0 - 0.9866) < 0.02
    assert abs(frequencies.mean()) < 0.15
    assert np.abs(frequencies).max() <= 15.0
    assert np.abs(frequencies).max() > 12.0


def test_periodic_default_initializers_are_rtdl_uniform_and_distinct_per_feature():
    layer = PeriodicEmbedding(8, n_frequencies=16, seed=0)
    layer.build((None, 3))
    _, kernel, bias = layer.get_weights()
    bound = 1 / math.sqrt(32)
    assert np.abs(kernel).max() <= bound and np.abs(kernel).max() > 0.9 * bound
    assert np.abs(bias).max() <= bound
    assert not np.array_equal(kernel[0], kernel[1])
    assert not np.array_equal(bias[0], bias[1])
    assert not np.allclose(bias[0], kernel[1, 0])


@pytest.mark.parametrize(
    "initializer",
    [
        keras.initializers.GlorotUniform(seed=7),
        keras.initializers.GlorotUniform(seed=keras.random.SeedGenerator(7)),
    ],
)
def test_periodic_given_initializer_is_drawn_per_feature(initializer):
    layer = PeriodicEmbedding(4, n_frequencies=3, kernel_initializer=initializer, seed=0)
    layer.build((None, 2))
    kernel = layer.get_weights()[1]
    assert not np.array_equal(kernel[0], kernel[1])
    # Glorot of each feature's own (6, 4) map, not of the stacked (2, 6, 4) shape.
    assert np.abs(kernel).max() <= math.sqrt(6 / (6 + 4))
    assert np.abs(kernel).max() > math.sqrt(6 / (2 * 6 + 2 * 4))


def test_periodic_seed_repeats_weights_and_other_seeds_differ():
    def weights(seed):
        layer = PeriodicEmbedding(3, n_frequencies=5, sigma=1.0, seed=seed)
        layer.build((None, 2))
        return layer.get_weights()

    for a, b in zip(weights(1), weights(1), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(weights(1), weights(2), strict=True):
        assert not np.array_equal(a, b)


def test_periodic_embedding_trains_its_frequencies():
    x = _features()
    layer = PeriodicEmbedding(2, n_frequencies=3, sigma=1.0, activation=None, seed=0)
    layer(x)
    optimizer = keras.optimizers.SGD(0.1)
    before = [w.copy() for w in layer.get_weights()]
    with tf.GradientTape() as tape:
        loss = keras.ops.sum(keras.ops.square(layer(x)))
    gradients = tape.gradient(loss, layer.trainable_variables)
    optimizer.apply(gradients, layer.trainable_variables)
    assert [v.name for v in layer.trainable_variables] == ["frequencies", "kernel", "bias"]
    for old, new in zip(before, layer.get_weights(), strict=True):
        assert not np.array_equal(old, new)


def test_periodic_large_sigma_stays_float32_under_mixed_bfloat16():
    # With sigma = 20, 2 pi c x reaches hundreds of radians: computed in
    # bfloat16 it would be off by whole periods.
    x = _features(n=64, n_features=2)
    exact = PeriodicEmbedding(4, n_frequencies=8, sigma=20.0, activation=None, seed=0)
    mixed = PeriodicEmbedding(
        4, n_frequencies=8, sigma=20.0, activation=None, seed=0, dtype="mixed_bfloat16"
    )
    expected = keras.ops.convert_to_numpy(exact(x))
    out = mixed(x)
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"
    assert mixed.frequencies.dtype == "float32"
    out = keras.ops.convert_to_numpy(keras.ops.cast(out, "float32"))
    # Only the final linear map rounds to bfloat16 (about 3 significant digits).
    np.testing.assert_allclose(out, expected, atol=0.05)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dim": 0}, "dim"),
        ({"dim": 4, "n_frequencies": 0}, "n_frequencies"),
        ({"dim": 4, "sigma": 0.0}, "sigma"),
        ({"dim": 4, "sigma": -1.0}, "sigma"),
        ({"dim": 4, "seed": "1"}, "seed"),
        ({"dim": 4, "seed": -1}, "seed"),
    ],
)
def test_periodic_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PeriodicEmbedding(**kwargs)


def test_periodic_rejects_inputs_of_another_width():
    layer = PeriodicEmbedding(4, seed=0)
    layer(_features(n_features=3))
    with pytest.raises(ValueError, match=r"shape \(batch, 3\); got shape \(5, 2\)"):
        layer(_features(n_features=2))


def _round_trips(layer, x, tmp_path):
    clone = layer.__class__.from_config(json.loads(json.dumps(layer.get_config())))
    assert clone.get_config() == layer.get_config()
    inputs = keras.Input((x.shape[1],))
    model = keras.Model(inputs, layer(inputs))
    path = tmp_path / "numeric.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert type(loaded.layers[-1]) is type(layer)
    assert loaded.layers[-1].get_config() == layer.get_config()


@pytest.mark.parametrize("lite", [False, True])
def test_periodic_config_and_keras_file_round_trip(lite, tmp_path):
    layer = PeriodicEmbedding(
        5,
        n_frequencies=7,
        sigma=12.0,
        activation="gelu",
        lite=lite,
        kernel_initializer=keras.initializers.HeNormal(seed=1),
        seed=4,
    )
    _round_trips(layer, _features(), tmp_path)


# ------------------------------------------------------------------ PLE


BINS = [[0.0, 1.0, 3.0], [-1.0, 1.0], [0.0, 1.0, 2.0, 4.0]]


def test_piecewise_linear_encoding_by_hand():
    layer = PiecewiseLinearEmbedding(BINS, dim=2, seed=0)
    x = np.array([[0.5, 0.0, 2.5], [5.0, 3.0, -1.0], [-2.0, -3.0, 1.5]], "float32")
    encoded = keras.ops.convert_to_numpy(layer.encode(x))
    # Feature 0 (bins [0,1), [1,3)): first component clipped at 1 from above,
    # the last at 0 from below; the padding slot in between stays 0.
    # Feature 1 (one bin): min-max scaled, unclipped, in the last slot.
    # Feature 2 (bins [0,1), [1,2), [2,4)).
    expected = np.array(
        [
            [[0.5, 0.0, 0.0], [0.0, 0.0, 0.5], [1.0, 1.0, 0.25]],
            [[1.0, 0.0, 2.0], [0.0, 0.0, 2.0], [-1.0, 0.0, 0.0]],
            [[-2.0, 0.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.5, 0.0]],
        ],
        "float32",
    )
    np.testing.assert_allclose(encoded, expected, rtol=1e-6)


def test_piecewise_linear_embedding_starts_linear_then_adds_the_piecewise_term():
    x = np.array([[0.5, 0.0, 2.5], [5.0, 3.0, -1.0]], "float32")
    layer = PiecewiseLinearEmbedding(BINS, dim=2, seed=0)
    out = keras.ops.convert_to_numpy(layer(x))
    weight, bias, kernel = layer.get_weights()
    assert kernel.shape == (3, 3, 2) and not kernel.any()  # zero-initialised
    np.testing.assert_allclose(out, x[..., None] * weight + bias, rtol=1e-6)
    assert not np.array_equal(weight, bias)
    assert np.abs(weight).max() <= 1 / math.sqrt(2)

    kernel = np.arange(18, dtype="float32").reshape(3, 3, 2) / 10
    layer.set_weights([weight, bias, kernel])
    encoded = keras.ops.convert_to_numpy(layer.encode(x))
    expected = x[..., None] * weight + bias + np.einsum("bnm,nmd->bnd", encoded, kernel)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), expected, rtol=1e-5)


def test_piecewise_activation_applies_to_the_piecewise_term_only():
    x = np.array([[0.5, 0.0, 2.5]], "float32")
    layer = PiecewiseLinearEmbedding(BINS, dim=2, activation="relu", seed=0)
    layer(x)
    weight, bias, _ = layer.get_weights()
    kernel = -np.ones((3, 3, 2), "float32")
    layer.set_weights([weight, bias, kernel])
    np.testing.assert_allclose(layer(x), x[..., None] * weight + bias, rtol=1e-6)


@pytest.mark.parametrize(
    "bins",
    [[], [[0.0]], [[1.0, 0.0]], [[0.0, 0.0, 1.0]], [[0.0, float("inf")]], [["a", "b"]], "01"],
)
def test_piecewise_rejects_bad_bins(bins):
    with pytest.raises(ValueError, match="bin"):
        PiecewiseLinearEmbedding(bins, dim=2)


def test_piecewise_rejects_inputs_of_another_width():
    with pytest.raises(ValueError, match="bins for 3 features"):
        PiecewiseLinearEmbedding(BINS, dim=2)(np.zeros((2, 4), "float32"))


def test_piecewise_config_and_keras_file_round_trip(tmp_path):
    layer = PiecewiseLinearEmbedding(BINS, dim=3, activation="relu", seed=2)
    x = np.array([[0.5, 0.0, 2.5], [5.0, 3.0, -1.0]], "float32")
    assert layer.get_config()["bins"] == BINS
    _round_trips(layer, x, tmp_path)


def test_docstring_examples():
    result = doctest.testmod(_numeric, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
