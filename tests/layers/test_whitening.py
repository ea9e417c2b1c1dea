"""LowVarianceDirections: whitened low-variance principal directions, appended."""

import numpy as np
import pytest

from skrank._tf import import_tensorflow

import_tensorflow()

import keras  # noqa: E402

from skrank.layers import LowVarianceDirections  # noqa: E402
from skrank.layers._whitening import low_variance_directions  # noqa: E402


def correlated(n=2000, seed=0):
    """Columns a and a + 0.05 b (their difference, b, is the hidden signal), and c."""
    rng = np.random.default_rng(seed)
    a, b, c = rng.normal(size=(3, n))
    return np.stack([a, a + 0.05 * b, c], axis=1).astype("float32"), b


def test_finds_the_difference_of_two_correlated_columns_at_unit_variance():
    x, b = correlated()
    center, projection = low_variance_directions(x)
    assert projection.shape == (3, 1)
    whitened = (x - center) @ projection
    assert whitened.std() == pytest.approx(1.0, rel=1e-3)
    assert abs(np.corrcoef(whitened[:, 0], b)[0, 1]) > 0.999


def test_signs_are_fixed_and_scaling_the_data_keeps_the_directions():
    x, _ = correlated()
    _, projection = low_variance_directions(x)
    _, scaled = low_variance_directions(x * 3.0)
    _, reversed_rows = low_variance_directions(x[::-1])
    np.testing.assert_allclose(reversed_rows, projection, rtol=1e-4)
    np.testing.assert_allclose(scaled * 3.0, projection, rtol=1e-4)


@pytest.mark.parametrize(
    "data",
    [
        np.random.default_rng(0).normal(size=(2000, 4)),  # uncorrelated
        np.repeat(np.random.default_rng(0).normal(size=(2000, 1)), 2, axis=1),  # exact copy
        correlated(n=25)[0],  # fewer than 10 rows per feature
        np.random.default_rng(0).normal(size=(100, 1)),  # one feature
        np.zeros((100, 3)),  # constant
    ],
    ids=["uncorrelated", "exact-copy", "few-rows", "one-feature", "constant"],
)
def test_no_direction_where_none_is_safe_to_whiten(data):
    center, projection = low_variance_directions(data)
    assert projection.shape == (data.shape[1], 0)
    assert center.shape == (data.shape[1],)


def test_bad_data_raises():
    with pytest.raises(ValueError, match="2-D"):
        low_variance_directions(np.zeros(10))
    x, _ = correlated()
    x[3, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        low_variance_directions(x)


def test_layer_appends_clipped_directions_and_keeps_the_inputs():
    x, _ = correlated()
    layer = LowVarianceDirections.from_data(x, clip=2.0)
    out = np.asarray(layer(x))
    assert out.shape == (len(x), 4)
    np.testing.assert_array_equal(out[:, :3], x)
    center, projection = low_variance_directions(x)
    expected = np.clip((x - center) @ projection, -2.0, 2.0)
    np.testing.assert_allclose(out[:, 3:], expected, rtol=1e-5, atol=1e-5)
    assert out[:, 3].max() == pytest.approx(2.0)
    assert not layer.trainable_weights and len(layer.non_trainable_weights) == 2


def test_layer_round_trips_through_a_saved_model(tmp_path):
    x, _ = correlated()
    inputs = keras.Input((3,))
    model = keras.Model(inputs, LowVarianceDirections.from_data(x)(inputs))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.layers[1].get_config()["n_directions"] == 1
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_directions": -1}, "n_directions"),
        ({"n_directions": 1.5}, "n_directions"),
        ({"n_directions": 1, "clip": 0}, "clip"),
        ({"n_directions": 1, "center": np.zeros(3)}, "both"),
        ({"n_directions": 2, "center": np.zeros(3), "projection": np.zeros((3, 1))}, "shape"),
    ],
)
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LowVarianceDirections(**kwargs)


def test_fitted_layer_rejects_inputs_of_another_width():
    layer = LowVarianceDirections.from_data(correlated()[0])
    with pytest.raises(ValueError, match="fitted on 3 features"):
        layer(np.zeros((4, 5), "float32"))


def test_rows_reads_only_those_rows():
    x, _ = correlated()
    noisy = np.vstack([x, np.random.default_rng(1).normal(size=(500, 3)).astype("float32")])
    rows = np.arange(len(x))
    np.testing.assert_array_equal(
        low_variance_directions(noisy, rows=rows)[1], low_variance_directions(x)[1]
    )
