"""Build the Keras model and its optimizer from an estimator's parameters."""

import copy
import functools

from skrank._tf import import_tensorflow

tf = import_tensorflow()

import keras  # noqa: E402

from skrank.estimators._scikeras import (  # noqa: E402
    get_optimizer_class,
    route_params,
    try_to_convert_strings_to_classes,
    unflatten_params,
)
from skrank.layers import (  # noqa: E402
    MLP,
    CrossNetwork,
    DotInteraction,
    EmbeddingCollection,
    LowVarianceDirections,
    PeriodicEmbedding,
)
from skrank.models import Ranking  # noqa: E402
from skrank.optimizers import CompositeOptimizer  # noqa: E402
from skrank.tasks import Ranking as RankingTask  # noqa: E402


@functools.cache
def native_bfloat16():
    """Whether this machine multiplies bfloat16 matrices in hardware, on CPU only.

    True on x86 CPUs with AMX-BF16 or AVX512-BF16 (oneDNN's fast bfloat16
    kernels) when TensorFlow sees no GPU. Read from ``/proc/cpuinfo``; False
    where that file does not exist.
    """
    if tf.config.list_physical_devices("GPU"):
        return False
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            flags = next((line for line in cpuinfo if line.startswith("flags")), "")
    except OSError:
        return False
    return bool({"amx_bf16", "avx512_bf16"} & set(flags.split()))


def resolve_dtype_policy(dtype_policy):
    """``"float32"`` or ``"mixed_bfloat16"``: the policy ``"auto"`` stands for here."""
    if dtype_policy != "auto":
        return dtype_policy
    return "mixed_bfloat16" if native_bfloat16() else "float32"


def _interaction(estimator, initializer, policy):
    interaction = estimator.interaction
    if isinstance(interaction, keras.layers.Layer):
        # A fresh copy per fit: refitting (or cloning) must not share trained weights.
        return interaction.__class__.from_config(interaction.get_config())
    if interaction == "dot":
        return DotInteraction(dtype=policy)
    return CrossNetwork(
        num_layers=estimator.cross_layers,
        projection_dim=estimator.cross_projection_dim,
        kernel_initializer=initializer,
        dtype=policy,
    )


def build_ranking_model(
    *,
    estimator,
    vocabulary_sizes,
    n_dense,
    n_outputs,
    final_activation,
    loss,
    seed,
    frequency_scale,
    directions=None,
):
    """The :class:`~skrank.models.Ranking` model an estimator trains.

    ``directions``: ``(center, projection)`` of the whitened low-variance directions
    of the dense features (:func:`skrank.layers._whitening.low_variance_directions`),
    appended to them before the numeric embedding (or the bottom stack); None: none.

    Every random initializer draws from one ``SeedGenerator`` seeded with the
    fit's seed, so the same ``random_state`` gives the same weights in any
    process without touching Python's, numpy's or TensorFlow's global seeds.

    Under ``dtype_policy="mixed_bfloat16"`` the MLPs and the interaction compute
    in bfloat16 with float32 weights; the embedding tables and the output layer
    stay float32, so predictions keep float32 precision.
    """
    policy = resolve_dtype_policy(estimator.dtype_policy)
    seeds = keras.random.SeedGenerator(seed)
    kernel = keras.initializers.GlorotUniform(seed=seeds)
    embeddings = keras.initializers.RandomUniform(-0.05, 0.05, seed=seeds)
    model_params = route_params(
        estimator.get_params(), destination="model", pass_filter=set(), strict=True
    )
    # Integer seeds of the layers that take one (dropout masks, frequencies).
    layer_seeds = iter(range(seed * 7 + 1, seed * 7 + 7))
    dense_embedding_layer = None
    if n_dense and estimator.numeric_embedding == "periodic":
        dense_embedding_layer = PeriodicEmbedding(
            estimator.embedding_dim,
            sigma=frequency_scale,
            seed=next(layer_seeds),
            # float32 like the embedding tables: bfloat16 rounding of the cosines
            # and their linear map moved predictions by up to 0.25 on a tiny model.
            dtype="float32",
        )
    bottom_stack = None
    if n_dense:
        bottom_stack = MLP(
            (*estimator.bottom_stack, estimator.embedding_dim),
            activation=estimator.activation,
            final_activation=estimator.activation,
            kernel_initializer=kernel,
            dtype=policy,
        )
    top_stack = MLP(
        (*estimator.top_stack, n_outputs),
        activation=estimator.activation,
        final_activation=final_activation,
        kernel_initializer=kernel,
        dropout=estimator.dropout,
        seed=next(layer_seeds),
        dtype=policy,
        final_dtype="float32",
    )
    embedding_layer = None
    if vocabulary_sizes:
        embedding_layer = EmbeddingCollection(
            vocabulary_sizes,
            estimator.embedding_dim,
            embeddings_initializer=embeddings,
            id_dropout=estimator.id_dropout,
            combiner=estimator.list_combiner,
            seed=next(layer_seeds),
        )
    if directions is not None and n_dense:
        center, projection = directions
        whiten = LowVarianceDirections(
            projection.shape[1], center=center, projection=projection, dtype="float32"
        )
        # The directions join the dense features wherever these go first.
        if dense_embedding_layer is not None:
            dense_embedding_layer = keras.Sequential([whiten, dense_embedding_layer])
        else:
            bottom_stack = keras.Sequential([whiten, bottom_stack])
    return Ranking(
        embedding_layer=embedding_layer,
        bottom_stack=bottom_stack,
        feature_interaction=_interaction(estimator, kernel, policy),
        top_stack=top_stack,
        task=RankingTask(loss=loss, metrics=[]),
        dense_embedding_layer=dense_embedding_layer,
        embedding_l2=estimator.embedding_l2,
        **model_params,
    )


def _optimizer(spec, learning_rate, routed, what):
    if isinstance(spec, keras.optimizers.Optimizer):
        # A fresh copy: an optimizer instance carries state tied to one model.
        return spec.__class__.from_config(spec.get_config())
    try:
        cls = try_to_convert_strings_to_classes(spec, get_optimizer_class)
    except ValueError as exc:
        raise ValueError(
            f"Unknown {what} {spec!r}: use a Keras optimizer name such as 'adam', "
            "'adagrad' or 'sgd', a keras.optimizers.Optimizer class or an instance."
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, keras.optimizers.Optimizer)):
        raise ValueError(f"{what} must name a Keras optimizer; got {spec!r}.")
    return unflatten_params(items=cls, params={"learning_rate": learning_rate, **routed})


def make_optimizer(estimator):
    """The optimizer to compile with: one for everything, or a CompositeOptimizer.

    ``embedding_optimizer`` (or a separate ``embedding_learning_rate``) gives the
    embedding tables their own optimizer, as TFRS's CompositeOptimizer does.
    """
    params = estimator.get_params()

    def routed(prefix):
        return route_params(params, destination=prefix, pass_filter=set(), strict=True)

    dense = _optimizer(
        estimator.optimizer, estimator.learning_rate, routed("optimizer"), "optimizer"
    )
    if estimator.embedding_optimizer is None and estimator.embedding_learning_rate is None:
        return dense
    embedding_spec = estimator.embedding_optimizer
    if embedding_spec is None:
        embedding_spec = copy.copy(estimator.optimizer)
    embedding_lr = estimator.embedding_learning_rate
    if embedding_lr is None:
        embedding_lr = estimator.learning_rate
    embedding = _optimizer(
        embedding_spec, embedding_lr, routed("embedding_optimizer"), "embedding_optimizer"
    )
    return CompositeOptimizer([(embedding, "embedding"), (dense, "dense")])
