"""Embeddings of numeric features (Gorishniy et al., NeurIPS 2022; ``rtdl_num_embeddings``).

Both layers map float features ``(batch, n_features)`` to one vector per feature,
``(batch, n_features, dim)``: flattened, the input of an MLP (MLP-PLR, what
:class:`skrank.models.Ranking` does by default), or tokens of a feature
interaction beside the categorical embeddings (``Ranking(dense_tokens=True)``).
"""

import math
import random
from collections.abc import Sequence

from skrank._tf import import_tensorflow
from skrank._validation import check_positive_int

import_tensorflow()

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

# erf(3 / sqrt(2)): the probability mass of a standard normal within 3 sigma.
_MASS_WITHIN_3_SIGMA = math.erf(3.0 / math.sqrt(2.0))


def _check_seed(seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ValueError(f"seed must be an int >= 0 or None; got seed={seed!r}.")
    # Without a seed, draw one now (as Keras initializers do) so that every
    # weight below is drawn by a stateless, seeded op, also inside a graph.
    return random.randint(1, 10**9) if seed is None else seed


def _subseed(seed, *path):
    """An int seed for the random draw at ``path``, independent of the others of ``seed``."""
    return int(np.random.SeedSequence(seed, spawn_key=path).generate_state(1)[0] % 2**31)


def _uniform(bound, seed):
    """Uniform on [-bound, bound]: PyTorch's ``nn.Linear`` default, as rtdl uses."""
    return keras.initializers.RandomUniform(-bound, bound, seed=seed)


def _get_initializer(initializer):
    return None if initializer is None else keras.initializers.get(initializer)


def _serialize_initializer(initializer):
    return None if initializer is None else keras.initializers.serialize(initializer)


def _distinct(initializer, count):
    """``count`` initializers that draw different values from ``initializer``.

    One with an int seed is copied with independent int seeds derived from it;
    one seeded with a ``SeedGenerator`` advances the generator at every call, so
    it is shared as it is (a copy would repeat the generator's draws).
    """
    seed = getattr(initializer, "seed", None)
    if isinstance(seed, bool) or not isinstance(seed, int):
        return [initializer] * count
    config = initializer.get_config()
    return [
        initializer.__class__.from_config({**config, "seed": _subseed(seed, i)})
        for i in range(count)
    ]


def _per_feature(initializer, n_features):
    """An initializer of ``(n_features, *shape)`` drawing each feature's ``shape`` apart.

    Each feature's slice gets the fan-in and fan-out of its own linear map.
    """
    draws = _distinct(initializer, n_features)

    def initialize(shape, dtype=None):
        return ops.stack([draw(tuple(shape[1:]), dtype=dtype) for draw in draws])

    return initialize


def _check_features(layer, inputs, n_features):
    if len(inputs.shape) != 2 or inputs.shape[-1] != n_features:
        raise ValueError(
            f"{type(layer).__name__} expects float features of shape (batch, {n_features}); "
            f"got shape {tuple(inputs.shape)}."
        )


@keras.saving.register_keras_serializable(package="skrank")
class PeriodicEmbedding(keras.layers.Layer):
    """Periodic embeddings of numeric features: PLR (``rtdl_num_embeddings.PeriodicEmbeddings``).

    For each feature ``j`` and value ``x``: ``v = [cos(2 pi c_j x), sin(2 pi c_j x)]``
    with ``n_frequencies`` trainable frequencies ``c_j``, then a linear map of
    ``v`` to ``dim`` units (each feature its own weights; one map shared by all
    features with ``lite=True``), then ``activation``. The frequencies start
    from a normal distribution of standard deviation ``sigma`` truncated at
    ``3 sigma``.

    The periodic part always computes in float32, also under a mixed dtype
    policy: a bfloat16 ``2 pi c x`` would lose the fine detail that large
    frequencies resolve. The linear map follows the layer's dtype policy.

    Parameters
    ----------
    dim : int
        Width of each feature's embedding.
    n_frequencies : int, default=48
        Number of frequencies per feature (``k`` in the paper).
    sigma : float, default=0.01
        Scale of the initial frequencies, the key parameter. Small values start
        close to a linear embedding; large ones (5-20 on quantile-normal inputs)
        let a feature separate nearby values, much as a lookup of exact values.
    activation : str or callable, default="relu"
        Applied to the embeddings (PLR); None gives PL embeddings.
    lite : bool, default=False
        Share one linear map among all features (rtdl's ``lite=True``).
    kernel_initializer, bias_initializer : str or keras.initializers.Initializer, default=None
        Initializers of the linear map, each feature's ``(2 * n_frequencies, dim)``
        kernel and ``(dim,)`` bias drawn apart. None: uniform on
        ``+-1 / sqrt(2 * n_frequencies)``, as rtdl.
    seed : int, default=None
        Seed of the frequencies and of the default initializers. None draws one
        when the layer is created.
    **kwargs
        Passed to :class:`keras.layers.Layer`.

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.layers._numeric import PeriodicEmbedding
    >>> layer = PeriodicEmbedding(4, n_frequencies=8, sigma=1.0, seed=0)
    >>> tuple(layer(np.zeros((5, 3), "float32")).shape)
    (5, 3, 4)
    """

    def __init__(
        self,
        dim: int,
        n_frequencies: int = 48,
        sigma: float = 0.01,
        activation="relu",
        lite: bool = False,
        kernel_initializer=None,
        bias_initializer=None,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.dim = check_positive_int(dim, "dim")
        self.n_frequencies = check_positive_int(n_frequencies, "n_frequencies")
        if isinstance(sigma, bool) or not isinstance(sigma, int | float) or not sigma > 0:
            raise ValueError(f"sigma must be a positive float; got sigma={sigma!r}.")
        self.sigma = float(sigma)
        self.activation = keras.activations.get(activation)
        self.lite = bool(lite)
        self.kernel_initializer = _get_initializer(kernel_initializer)
        self.bias_initializer = _get_initializer(bias_initializer)
        self.seed = seed
        self._seed = _check_seed(seed)

    @property
    def input_dtype(self):
        # Keep float32 features: see the class docstring.
        return "float32"

    def _frequencies(self, shape, dtype=None):
        # Inverse CDF of a normal truncated at +-3 sigma (rtdl's trunc_normal_).
        bound, seed = _MASS_WITHIN_3_SIGMA, _subseed(self._seed, 0)
        uniform = keras.random.uniform(shape, -bound, bound, dtype="float32", seed=seed)
        return ops.cast(self.sigma * math.sqrt(2.0) * ops.erfinv(uniform), dtype)

    def build(self, input_shape):
        n_features = input_shape[-1]
        if n_features is None:
            raise ValueError("PeriodicEmbedding needs a known number of features.")
        self.n_features = int(n_features)
        width = 2 * self.n_frequencies
        bound = 1.0 / math.sqrt(width)
        kernel = self.kernel_initializer or _uniform(bound, _subseed(self._seed, 1))
        bias = self.bias_initializer or _uniform(bound, _subseed(self._seed, 2))
        self.frequencies = self.add_weight(
            shape=(self.n_features, self.n_frequencies),
            initializer=self._frequencies,
            dtype="float32",
            autocast=False,
            name="frequencies",
        )
        if self.lite:
            self.kernel = self.add_weight(
                shape=(width, self.dim), initializer=kernel, name="kernel"
            )
            self.bias = self.add_weight(shape=(self.dim,), initializer=bias, name="bias")
        else:
            self.kernel = self.add_weight(
                shape=(self.n_features, width, self.dim),
                initializer=_per_feature(kernel, self.n_features),
                name="kernel",
            )
            self.bias = self.add_weight(
                shape=(self.n_features, self.dim),
                initializer=_per_feature(bias, self.n_features),
                name="bias",
            )
        self.built = True

    def call(self, inputs):
        _check_features(self, inputs, self.n_features)
        angles = (2.0 * math.pi) * self.frequencies * ops.expand_dims(inputs, -1)
        periodic = ops.concatenate([ops.cos(angles), ops.sin(angles)], axis=-1)
        periodic = ops.cast(periodic, self.compute_dtype)
        if self.lite:
            outputs = ops.matmul(periodic, self.kernel)
        else:
            outputs = ops.einsum("bnf,nfd->bnd", periodic, self.kernel)
        return self.activation(outputs + self.bias)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape), self.dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "dim": self.dim,
                "n_frequencies": self.n_frequencies,
                "sigma": self.sigma,
                "activation": keras.activations.serialize(self.activation),
                "lite": self.lite,
                "kernel_initializer": _serialize_initializer(self.kernel_initializer),
                "bias_initializer": _serialize_initializer(self.bias_initializer),
                "seed": self.seed,
            }
        )
        return config


def _check_bins(bins):
    if isinstance(bins, str | bytes) or not isinstance(bins, Sequence) or not bins:
        raise ValueError(
            "bins must be a non-empty list with one list of bin edges per feature; "
            f"got bins={bins!r}."
        )
    checked = []
    for j, edges in enumerate(bins):
        try:
            edges = np.asarray(edges, dtype="float64")
        except (TypeError, ValueError):
            edges = None
        if (
            edges is None
            or edges.ndim != 1
            or len(edges) < 2
            or not np.all(np.isfinite(edges))
            or np.any(np.diff(edges) <= 0)
        ):
            raise ValueError(
                "each feature needs at least two finite, strictly increasing bin edges; "
                f"got bins[{j}]={bins[j]!r}."
            )
        checked.append([float(edge) for edge in edges])
    return checked


def _encoding(bins):
    """Scales, offsets and masks of the piecewise-linear encoding, as rtdl lays it out.

    Feature ``j`` with ``m`` bins has components ``(x - left_i) / width_i``: the
    first ``m - 1`` at the start, the last at the end, zeros between. Then the
    first component is clipped at 1 from above, the middle ones to [0, 1], the
    last at 0 from below (not at all for a single bin: min-max scaling).
    """
    max_bins = max(len(edges) - 1 for edges in bins)
    scale = np.zeros((len(bins), max_bins), "float32")
    offset = np.zeros((len(bins), max_bins), "float32")
    for j, edges in enumerate(bins):
        edges = np.asarray(edges, "float64")
        width = np.diff(edges)
        slots = [*range(len(width) - 1), max_bins - 1]
        scale[j, slots] = 1.0 / width
        offset[j, slots] = -edges[:-1] / width
    single_bin = np.array([[len(edges) == 2] for edges in bins])
    return scale, offset, single_bin


@keras.saving.register_keras_serializable(package="skrank")
class PiecewiseLinearEmbedding(keras.layers.Layer):
    """Piecewise-linear embeddings of numeric features: PLE, rtdl's ``version="B"``.

    Each feature ``x`` gets ``w x + b`` (a linear embedding) plus a linear map of
    its piecewise-linear encoding over the bins (1 for the bins left of ``x``,
    the covered fraction of ``x``'s bin, 0 to the right; the end bins
    extrapolate). The map starts at zero, so the layer starts as a linear
    embedding and learns the piecewise part in training.

    The encoding computes in float32, also under a mixed dtype policy.

    Parameters
    ----------
    bins : list of list of float
        Bin edges of each feature, strictly increasing, at least two per feature,
        e.g. quantiles of the training data (rtdl's ``compute_bins``).
    dim : int
        Width of each feature's embedding.
    activation : str or callable, default=None
        Applied to the piecewise-linear term only, as rtdl; version B uses none.
    kernel_initializer : str or keras.initializers.Initializer, default=None
        Initializer of the linear term's ``w`` and ``b`` (the piecewise map
        always starts at zero). None: uniform on ``+-1 / sqrt(dim)``, as rtdl.
    seed : int, default=None
        Seed of the default initializer. None draws one when the layer is created.
    **kwargs
        Passed to :class:`keras.layers.Layer`.

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.layers._numeric import PiecewiseLinearEmbedding
    >>> layer = PiecewiseLinearEmbedding([[0.0, 1.0, 2.0], [-1.0, 1.0]], dim=4, seed=0)
    >>> tuple(layer(np.zeros((5, 2), "float32")).shape)
    (5, 2, 4)
    """

    def __init__(
        self,
        bins: Sequence[Sequence[float]],
        dim: int,
        activation=None,
        kernel_initializer=None,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.bins = _check_bins(bins)
        self.dim = check_positive_int(dim, "dim")
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = _get_initializer(kernel_initializer)
        self.seed = seed
        self._seed = _check_seed(seed)
        self._scale, self._offset, self._single_bin = _encoding(self.bins)

    @property
    def input_dtype(self):
        return "float32"

    @property
    def n_features(self) -> int:
        """Number of embedded features: ``len(bins)``."""
        return len(self.bins)

    def build(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] != self.n_features:
            raise ValueError(
                f"PiecewiseLinearEmbedding has bins for {self.n_features} features; "
                f"got inputs of shape {tuple(input_shape)}."
            )
        linear = self.kernel_initializer or _uniform(1.0 / math.sqrt(self.dim), self._seed)
        weight, bias = _distinct(linear, 2)
        shape = (self.n_features, self.dim)
        self.linear_weight = self.add_weight(shape=shape, initializer=weight, name="linear_weight")
        self.linear_bias = self.add_weight(shape=shape, initializer=bias, name="linear_bias")
        self.kernel = self.add_weight(
            shape=(self.n_features, self._scale.shape[1], self.dim),
            initializer="zeros",
            name="kernel",
        )
        self.built = True

    def encode(self, inputs):
        """The piecewise-linear encoding: float32 ``(batch, n_features, max_n_bins)``."""
        _check_features(self, inputs, self.n_features)
        encoded = ops.expand_dims(ops.cast(inputs, "float32"), -1) * self._scale + self._offset
        if encoded.shape[-1] == 1:
            return encoded
        last = encoded[..., -1:]
        last = ops.where(self._single_bin, last, ops.maximum(last, 0.0))
        return ops.concatenate(
            [ops.minimum(encoded[..., :1], 1.0), ops.clip(encoded[..., 1:-1], 0.0, 1.0), last],
            axis=-1,
        )

    def call(self, inputs):
        encoded = ops.cast(self.encode(inputs), self.compute_dtype)
        piecewise = self.activation(ops.einsum("bnm,nmd->bnd", encoded, self.kernel))
        x = ops.expand_dims(ops.cast(inputs, self.compute_dtype), -1)
        return x * self.linear_weight + self.linear_bias + piecewise

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape), self.dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "bins": [list(edges) for edges in self.bins],
                "dim": self.dim,
                "activation": keras.activations.serialize(self.activation),
                "kernel_initializer": _serialize_initializer(self.kernel_initializer),
                "seed": self.seed,
            }
        )
        return config
