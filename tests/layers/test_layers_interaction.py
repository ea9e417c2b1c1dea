"""DotInteraction, the seed DCN recipe and CrossNetwork against hand computations."""

import keras
import numpy as np
import pytest

from skrank.layers import CrossNetwork, DotInteraction, FeatureCross

RNG = np.random.default_rng(0)


def _cross_weights(layer, width):
    kernel = RNG.normal(size=(width, width)).astype("float32")
    bias = RNG.normal(size=(width,)).astype("float32")
    layer.dense.set_weights([kernel, bias])
    return kernel, bias


def test_dot_interaction_matches_numpy_dot_products():
    features = [RNG.normal(size=(5, 3)).astype("float32") for _ in range(4)]
    out = keras.ops.convert_to_numpy(DotInteraction()(features))
    assert out.shape == (5, 4 * 3 // 2)
    expected = np.stack(
        [np.sum(features[i] * features[j], axis=1) for i in range(len(features)) for j in range(i)],
        axis=1,
    )
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_seed_dcn_recipe_matches_cross_formula():
    a = RNG.normal(size=(4, 3)).astype("float32")
    b = RNG.normal(size=(4, 2)).astype("float32")
    recipe = keras.Sequential([keras.layers.Concatenate(), FeatureCross(), FeatureCross()])
    recipe([a, b])
    weights = [_cross_weights(layer, 5) for layer in recipe.layers[1:]]
    out = keras.ops.convert_to_numpy(recipe([a, b]))

    x = np.concatenate([a, b], axis=1)
    for kernel, bias in weights:
        # Called with one input, FeatureCross crosses its input with itself.
        x = x * (x @ kernel + bias) + x
    np.testing.assert_allclose(out, x, rtol=1e-4, atol=1e-4)


def test_cross_network_matches_dcn_v2_formula():
    a = RNG.normal(size=(4, 3)).astype("float32")
    b = RNG.normal(size=(4, 2)).astype("float32")
    net = CrossNetwork(num_layers=3)
    net([a, b])
    weights = [_cross_weights(layer, 5) for layer in net.cross_layers]
    out = keras.ops.convert_to_numpy(net([a, b]))

    x0 = np.concatenate([a, b], axis=1)
    x = x0
    for kernel, bias in weights:
        x = x0 * (x @ kernel + bias) + x
    np.testing.assert_allclose(out, x, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(("structure", "width"), [("stacked", 3), ("parallel", 5 + 3)])
def test_cross_network_with_deep_part(structure, width):
    x = [RNG.normal(size=(4, 3)).astype("float32"), RNG.normal(size=(4, 2)).astype("float32")]
    net = CrossNetwork(num_layers=2, projection_dim=2, deep_units=[6, 3], structure=structure)
    assert tuple(net(x).shape) == (4, width)
    assert len(net.trainable_variables) == 2 * 3 + 4  # (U, V, bias) per cross + 2 Dense


def test_cross_network_build_creates_every_weight():
    net = CrossNetwork(num_layers=2, deep_units=[4])
    net.build([(None, 3), (None, 2)])
    assert len(net.weights) == 2 * 2 + 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_layers": 0}, "num_layers"),
        ({"structure": "sideways"}, "structure"),
        ({"deep_units": []}, "deep_units"),
    ],
)
def test_cross_network_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CrossNetwork(**kwargs)


def test_cross_network_config_round_trip():
    net = CrossNetwork(
        num_layers=2, projection_dim=3, diag_scale=0.5, deep_units=[4], structure="parallel"
    )
    clone = CrossNetwork.from_config(net.get_config())
    assert clone.get_config() == net.get_config()
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(net))
    assert isinstance(restored, CrossNetwork)
    assert restored.get_config() == net.get_config()


def _kernels(seed):
    generator = keras.random.SeedGenerator(seed)
    initializer = keras.initializers.GlorotUniform(seed=generator)
    net = CrossNetwork(num_layers=2, deep_units=[5, 5], kernel_initializer=initializer)
    net.build((None, 5))
    return [w for w in net.get_weights() if w.ndim == 2]


def test_seed_generator_gives_distinct_reproducible_cross_weights():
    first, again = _kernels(3), _kernels(3)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])  # the two cross layers
    assert not np.array_equal(first[-1], first[-2])  # the two deep layers
