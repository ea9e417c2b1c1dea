"""DCN-v2 cross network built from keras-rs ``FeatureCross`` layers."""

from collections.abc import Sequence

from skrank._tf import import_tensorflow
from skrank._validation import check_positive_int, check_positive_int_sequence

import_tensorflow()

import keras  # noqa: E402
import keras_rs  # noqa: E402
from keras import ops  # noqa: E402

from skrank.layers._init import copyable_initializer  # noqa: E402
from skrank.layers._mlp import MLP  # noqa: E402

_STRUCTURES = ("stacked", "parallel")


@keras.saving.register_keras_serializable(package="skrank")
class CrossNetwork(keras.layers.Layer):
    """DCN-v2 cross network, optionally combined with a deep network.

    The input tensors are concatenated into ``x0`` and ``num_layers`` cross layers
    compute ``x_{l+1} = x0 * (W_l x_l + b_l + diag_scale * x_l) + x_l`` (keras-rs
    :class:`~keras_rs.layers.FeatureCross` applied to ``(x0, x_l)``). With
    ``deep_units`` an MLP is added, either after the cross layers
    (``structure="stacked"``) or beside them on ``x0`` with both outputs
    concatenated (``structure="parallel"``).

    Parameters
    ----------
    num_layers : int, default=3
        Number of cross layers.
    projection_dim : int, default=None
        Rank of the low-rank ``W = U V``; None uses full-rank matrices.
    diag_scale : float, default=0.0
        Added to the diagonal of ``W`` for stability.
    use_bias : bool, default=True
        Whether the cross layers have a bias.
    deep_units : sequence of int, default=None
        Widths of the deep network (ReLU); None means cross layers only.
    structure : {"stacked", "parallel"}, default="stacked"
        How the deep network is combined with the cross layers.
    kernel_initializer : str or keras.initializers.Initializer
        Initializer of the cross kernels.
    kernel_regularizer : str or keras.regularizers.Regularizer, default=None
        Regularizer of the cross and deep kernels.
    **kwargs
        Passed to :class:`keras.layers.Layer`.

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.layers import CrossNetwork
    >>> net = CrossNetwork(num_layers=2)
    >>> out = net([np.ones((3, 4), "float32"), np.ones((3, 2), "float32")])
    >>> tuple(out.shape)
    (3, 6)
    """

    def __init__(
        self,
        num_layers: int = 3,
        projection_dim: int | None = None,
        diag_scale: float = 0.0,
        use_bias: bool = True,
        deep_units: Sequence[int] | None = None,
        structure: str = "stacked",
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        num_layers = check_positive_int(num_layers, "num_layers")
        if structure not in _STRUCTURES:
            raise ValueError(
                f"structure must be one of {_STRUCTURES}; got structure={structure!r}."
            )
        self.num_layers = num_layers
        self.projection_dim = projection_dim
        self.diag_scale = diag_scale
        self.use_bias = use_bias
        self.deep_units = (
            None if deep_units is None else check_positive_int_sequence(deep_units, "deep_units")
        )
        self.structure = structure
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.cross_layers = [
            keras_rs.layers.FeatureCross(
                projection_dim=projection_dim,
                diag_scale=diag_scale,
                use_bias=use_bias,
                # FeatureCross copies its initializer; see copyable_initializer.
                kernel_initializer=copyable_initializer(self.kernel_initializer),
                kernel_regularizer=self.kernel_regularizer,
                dtype=self.dtype_policy,
                name=f"cross_{i}",
            )
            for i in range(num_layers)
        ]
        self.deep = (
            None
            if self.deep_units is None
            else MLP(
                self.deep_units,
                kernel_initializer=self.kernel_initializer,
                kernel_regularizer=self.kernel_regularizer,
                dtype=self.dtype_policy,
                name="deep",
            )
        )

    def build(self, input_shape):
        # FeatureCross creates its Dense sublayers in build() but leaves them
        # unbuilt; a symbolic pass builds every weight now, so that a loaded
        # model finds all its variables before the weights are restored.
        shapes = [input_shape] if _is_shape(input_shape) else list(input_shape)
        width = sum(int(shape[-1]) for shape in shapes)
        x0 = keras.KerasTensor((None, width), dtype=self.compute_dtype)
        x = x0
        for cross in self.cross_layers:
            x = cross(x0, x)
        if self.deep is not None:
            self.deep(x if self.structure == "stacked" else x0)
        self.built = True

    def call(self, inputs):
        if isinstance(inputs, list | tuple):
            x0 = inputs[0] if len(inputs) == 1 else ops.concatenate(list(inputs), axis=-1)
        else:
            x0 = inputs
        x = x0
        for cross in self.cross_layers:
            x = cross(x0, x)
        if self.deep is None:
            return x
        if self.structure == "stacked":
            return self.deep(x)
        return ops.concatenate([x, self.deep(x0)], axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_layers": self.num_layers,
                "projection_dim": self.projection_dim,
                "diag_scale": self.diag_scale,
                "use_bias": self.use_bias,
                "deep_units": None if self.deep_units is None else list(self.deep_units),
                "structure": self.structure,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            }
        )
        return config


def _is_shape(value):
    return isinstance(value, list | tuple) and all(
        dim is None or isinstance(dim, int) for dim in value
    )
