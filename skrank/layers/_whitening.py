"""Whitened low-variance directions of numeric features, appended to the features."""

import numpy as np

from skrank._tf import import_tensorflow

import_tensorflow()

import keras  # noqa: E402
from keras import ops  # noqa: E402

# Rows that low_variance_directions reads at most (evenly spaced): the covariance of
# a few dozen columns is settled long before, and a 1M-row fit should not pay for it.
_MAX_ROWS = 100_000
# Fewer rows than this per feature give no directions: their smallest sample
# variances are noise.
_MIN_ROWS_PER_FEATURE = 10


def low_variance_directions(data, threshold=0.2, floor=1e-3, rows=None):
    """Center and projection of the whitened low-variance principal directions of ``data``.

    The principal directions of the standardized columns of ``data`` (rows are
    samples; the eigenvectors of their correlation matrix) whose variance lies
    between ``floor`` and ``threshold``, each divided by its standard deviation:
    ``(x - center) @ projection`` has unit variance in every direction kept.
    Directions below ``floor`` are exact (or rounding-level) linear dependencies,
    which whitening would turn into noise.

    Parameters
    ----------
    data : array-like of shape (n_samples, n_features)
        Finite numeric values. At most 100,000 evenly spaced rows are read; with
        fewer than 10 rows per feature, or fewer than 2 features, no direction is
        kept.
    threshold : float, default=0.2
        Keep directions whose variance is below this (each standardized column
        has variance 1; uncorrelated columns give directions of variance 1).
    floor : float, default=1e-3
        Drop directions whose variance is below this.
    rows : array-like of int, default=None
        Read only these rows of ``data`` (the training rows of a larger array,
        which is not copied). None: all rows.

    Returns
    -------
    center : ndarray of shape (n_features,), float32
    projection : ndarray of shape (n_features, n_directions), float32
        ``n_directions`` may be 0.
    """
    data = np.asarray(data)
    if data.ndim != 2:
        raise ValueError(f"data must be 2-D (n_samples, n_features); got shape {data.shape}.")
    n_features = data.shape[1]
    rows = np.arange(len(data)) if rows is None else np.asarray(rows, dtype=np.intp)
    empty = np.zeros(n_features, np.float32), np.zeros((n_features, 0), np.float32)
    if len(rows) < _MIN_ROWS_PER_FEATURE * n_features or n_features < 2:
        return empty
    if len(rows) > _MAX_ROWS:
        rows = rows[np.linspace(0, len(rows) - 1, _MAX_ROWS).astype(np.intp)]
    data = data[rows].astype(np.float64)  # one float64 copy of the rows read
    if not np.all(np.isfinite(data)):
        raise ValueError("data must be finite to find its low-variance directions.")
    center = data.mean(axis=0)
    centered = data  # in place: no other copy
    centered -= center
    std = centered.std(axis=0)
    # On the correlation matrix: a column of small variance of its own (a 0/1
    # indicator of rare missing values) is no direction; constant columns stay out.
    varying = std > 1e-12 * max(float(std.max()), 1e-300)
    if varying.sum() < 2:
        return empty
    standardized = centered[:, varying] if not varying.all() else centered
    standardized /= std[varying]
    correlation = standardized.T @ standardized / len(standardized)
    variances, vectors = np.linalg.eigh(correlation)
    keep = (variances > floor) & (variances < threshold)
    # eigh's signs are arbitrary: make each direction's largest entry positive, so
    # that the projection does not flip between LAPACK builds.
    vectors = vectors[:, keep]
    signs = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(vectors.shape[1])])
    projection = np.zeros((n_features, vectors.shape[1]))
    projection[varying] = vectors * signs / np.sqrt(variances[keep]) / std[varying, None]
    return center.astype(np.float32), projection.astype(np.float32)


def _values_or_zeros(values):
    if values is None:
        return "zeros"

    def initialize(shape, dtype=None):
        return ops.convert_to_tensor(values, dtype=dtype)

    return initialize


@keras.saving.register_keras_serializable(package="skrank")
class LowVarianceDirections(keras.layers.Layer):
    """Append the whitened low-variance principal directions of the inputs.

    Maps ``x`` of shape ``(batch, n)`` to ``concat([x, clip((x - center) @ projection)])``
    of shape ``(batch, n + n_directions)``. Fitted by :func:`low_variance_directions`,
    the projection holds the principal directions of the training inputs along
    which they barely vary, rescaled to unit variance.

    Such a direction is a near-exact linear relation between correlated columns
    (family income minus the income without the wife's: the wife's earnings). On
    standardized columns its variance is tiny, so gradient steps barely move a
    network's weights along it, and networks miss a signal that a linear model finds;
    whitened, it is one more feature of unit scale. The weights are fixed (not
    trainable) and saved with the model.

    Parameters
    ----------
    n_directions : int
        Number of directions appended (the projection's columns).
    clip : float, default=10.0
        Whitened values are clipped to ``[-clip, clip]``: a row that breaks a
        relation of the training data would otherwise give an extreme value.
    center, projection : array-like, default=None
        Initial values of the weights, shapes ``(n,)`` and ``(n, n_directions)``;
        None: zeros, to be set by :meth:`adapt` or by loading weights.
    **kwargs
        Passed to :class:`keras.layers.Layer`.

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.layers import LowVarianceDirections
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(2, 1000))
    >>> x = np.stack([a, a + 0.05 * b, rng.normal(size=1000)], axis=1).astype("float32")
    >>> layer = LowVarianceDirections.from_data(x)
    >>> layer.n_directions
    1
    >>> tuple(layer(x).shape)
    (1000, 4)
    """

    def __init__(self, n_directions, clip=10.0, center=None, projection=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(n_directions, bool) or not isinstance(n_directions, int | np.integer):
            raise ValueError(f"n_directions must be an int >= 0; got {n_directions!r}.")
        if n_directions < 0:
            raise ValueError(f"n_directions must be an int >= 0; got {n_directions!r}.")
        if isinstance(clip, bool) or not isinstance(clip, int | float) or not clip > 0:
            raise ValueError(f"clip must be a positive float; got clip={clip!r}.")
        self.n_directions = int(n_directions)
        self.clip = float(clip)
        self._initial = None
        if (center is None) != (projection is None):
            raise ValueError("Pass both center and projection, or neither.")
        if center is not None:
            center = np.asarray(center, np.float32)
            projection = np.asarray(projection, np.float32)
            if projection.shape != (center.shape[0], self.n_directions):
                raise ValueError(
                    f"projection must have shape (len(center), n_directions) = "
                    f"({center.shape[0]}, {self.n_directions}); got {projection.shape}."
                )
            self._initial = center, projection

    @classmethod
    def from_data(cls, data, threshold=0.2, floor=1e-3, **kwargs):
        """The layer fitted on ``data`` by :func:`low_variance_directions`."""
        center, projection = low_variance_directions(data, threshold, floor)
        return cls(projection.shape[1], center=center, projection=projection, **kwargs)

    @property
    def input_dtype(self):
        # Whitening divides by small standard deviations: keep float32.
        return "float32"

    def build(self, input_shape):
        n_features = input_shape[-1]
        if n_features is None:
            raise ValueError("LowVarianceDirections needs a known number of features.")
        if self._initial is not None and self._initial[0].shape[0] != n_features:
            raise ValueError(
                f"LowVarianceDirections was fitted on {self._initial[0].shape[0]} features; "
                f"got inputs with {n_features}."
            )
        center, projection = self._initial or (None, None)
        # Initializers, not assign(): Ranking builds its layers symbolically, in a
        # stateless scope that drops assignments.
        self.center = self.add_weight(
            shape=(n_features,),
            initializer=_values_or_zeros(center),
            trainable=False,
            dtype="float32",
            autocast=False,
            name="center",
        )
        self.projection = self.add_weight(
            shape=(n_features, self.n_directions),
            initializer=_values_or_zeros(projection),
            trainable=False,
            dtype="float32",
            autocast=False,
            name="projection",
        )
        self.built = True

    def call(self, inputs):
        inputs = ops.cast(inputs, "float32")
        whitened = ops.matmul(inputs - self.center, self.projection)
        whitened = ops.clip(whitened, -self.clip, self.clip)
        return ops.cast(ops.concatenate([inputs, whitened], axis=-1), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        n = input_shape[-1]
        return (*tuple(input_shape[:-1]), None if n is None else n + self.n_directions)

    def get_config(self):
        config = super().get_config()
        config.update({"n_directions": self.n_directions, "clip": self.clip})
        return config
