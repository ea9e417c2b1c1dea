"""A stack of Dense layers."""

from collections.abc import Sequence

from skrank._tf import import_tensorflow
from skrank._validation import check_positive_int_sequence

import_tensorflow()

import keras  # noqa: E402

from skrank.layers._init import fresh_initializer  # noqa: E402


@keras.saving.register_keras_serializable(package="skrank")
class MLP(keras.layers.Layer):
    """A multi-layer perceptron: Dense layers with optional dropout between them.

    Parameters
    ----------
    units : sequence of int
        Width of each Dense layer, input side first.
    activation : str or callable, default="relu"
        Activation of every layer but the last.
    final_activation : str or callable, default=None
        Activation of the last layer, e.g. ``"sigmoid"`` for a click probability
        or ``"softmax"`` for class probabilities. None keeps it linear.
    use_bias : bool, default=True
        Whether the Dense layers have a bias.
    kernel_initializer, bias_initializer : str or keras.initializers.Initializer
        Initializers of the Dense kernels and biases.
    kernel_regularizer : str or keras.regularizers.Regularizer, default=None
        Regularizer of the Dense kernels.
    dropout : float, default=0.0
        Dropout rate applied after the activation of every hidden layer (not
        after the last layer), in training only.
    seed : int, default=None
        Seed of the dropout masks: hidden layer ``i`` drops with seed
        ``seed + i``, so the same seed repeats the same masks step by step.
        None: unseeded masks.
    parametric_activation : bool, default=False
        Give every hidden unit a trainable ``alpha`` (initialised to 1) and
        compute ``x + alpha * (activation(x) - x)`` (RealMLP): each unit can
        learn to be more or less linear.
    final_dtype : str or keras.DTypePolicy, default=None
        Dtype policy of the last layer; None: the MLP's own. Under a mixed policy
        (``dtype="mixed_bfloat16"``) set ``"float32"`` on an output stack, so that
        predictions keep float32 precision while the hidden layers compute in
        bfloat16.
    **kwargs
        Passed to :class:`keras.layers.Layer`.

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.layers import MLP
    >>> mlp = MLP([8, 1], final_activation="sigmoid")
    >>> tuple(mlp(np.zeros((3, 5), dtype="float32")).shape)
    (3, 1)
    """

    def __init__(
        self,
        units: Sequence[int],
        activation="relu",
        final_activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        dropout: float = 0.0,
        final_dtype=None,
        seed: int | None = None,
        parametric_activation: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_positive_int_sequence(units, "units")
        if (
            isinstance(dropout, bool)
            or not isinstance(dropout, int | float)
            or not (0.0 <= dropout < 1.0)
        ):
            raise ValueError(f"dropout must be a float in [0, 1); got dropout={dropout!r}.")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"seed must be an int or None; got seed={seed!r}.")
        self.activation = keras.activations.get(activation)
        self.final_activation = keras.activations.get(final_activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.dropout = float(dropout)
        self.final_dtype = None if final_dtype is None else keras.dtype_policies.get(final_dtype)
        self.seed = seed
        self.parametric_activation = bool(parametric_activation)
        last = len(self.units) - 1
        # A parametric hidden layer is linear; call() mixes in the activation.
        hidden_activation = None if self.parametric_activation else self.activation
        self.dense_layers = [
            keras.layers.Dense(
                width,
                activation=self.final_activation if i == last else hidden_activation,
                use_bias=use_bias,
                kernel_initializer=fresh_initializer(self.kernel_initializer),
                bias_initializer=fresh_initializer(self.bias_initializer),
                kernel_regularizer=self.kernel_regularizer,
                dtype=self.final_dtype if i == last and self.final_dtype else self.dtype_policy,
                name=f"dense_{i}",
            )
            for i, width in enumerate(self.units)
        ]
        self.dropout_layers = (
            [
                keras.layers.Dropout(
                    self.dropout, seed=None if seed is None else seed + i, name=f"dropout_{i}"
                )
                for i in range(last)
            ]
            if self.dropout > 0
            else []
        )

    def build(self, input_shape):
        shape = tuple(input_shape)
        for dense in self.dense_layers:
            dense.build(shape)
            shape = (*shape[:-1], dense.units)
        self.alphas = (
            [
                self.add_weight(shape=(width,), initializer="ones", name=f"alpha_{i}")
                for i, width in enumerate(self.units[:-1])
            ]
            if self.parametric_activation
            else []
        )
        self.built = True

    def call(self, inputs, training=None):
        x = inputs
        for i, dense in enumerate(self.dense_layers):
            x = dense(x)
            if i < len(self.alphas):
                x = x + self.alphas[i] * (self.activation(x) - x)
            if i < len(self.dropout_layers):
                x = self.dropout_layers[i](x, training=training)
        return x

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-1], self.units[-1])

    def compute_output_spec(self, inputs, training=None):
        dtype = self.dense_layers[-1].compute_dtype
        return keras.KerasTensor(self.compute_output_shape(inputs.shape), dtype=dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": list(self.units),
                "activation": keras.activations.serialize(self.activation),
                "final_activation": keras.activations.serialize(self.final_activation),
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "dropout": self.dropout,
                "final_dtype": (None if self.final_dtype is None else self.final_dtype.name),
                "seed": self.seed,
                "parametric_activation": self.parametric_activation,
            }
        )
        return config
