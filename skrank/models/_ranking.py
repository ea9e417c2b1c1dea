"""The configurable ranking model of TFRS (``tfrs.experimental.models.Ranking``) on Keras 3."""

from collections.abc import Mapping

from skrank._tf import import_tensorflow

import_tensorflow()

import keras  # noqa: E402
from keras import ops  # noqa: E402

from skrank.layers import MLP, DotInteraction  # noqa: E402
from skrank.models._task_model import TaskModel  # noqa: E402
from skrank.tasks import Ranking as RankingTask  # noqa: E402

DENSE_KEY = "dense_features"
SPARSE_KEY = "sparse_features"


@keras.saving.register_keras_serializable(package="skrank")
class Ranking(TaskModel):
    """A configurable ranking model: DLRM by default, DCN-v2 with a cross network.

    The model takes ``{"dense_features": float (batch, n_dense),
    "sparse_features": {name: int (batch,)}}`` and computes: embeddings of the
    sparse features; ``bottom_stack`` of the dense features; ``feature_interaction``
    of the list ``[*embeddings, bottom output]``; ``top_stack`` of the bottom
    output concatenated with the interaction output. A top stack with one output
    unit gives predictions of shape ``(batch,)``, a wider one ``(batch, k)``.

    With a ``dense_embedding_layer`` the dense features are embedded first: the
    layer maps them to ``(batch, n_dense, d)`` and the bottom stack takes these
    vectors flattened, ``(batch, n_dense * d)``, instead of the raw values (an
    MLP on numeric embeddings, Gorishniy et al.'s MLP-PLR). With
    ``dense_tokens=True`` the bottom stack takes the raw values as without the
    layer, and the ``n_dense`` vectors join the interaction as tokens instead,
    which then sees ``[*embeddings, *dense vectors, bottom output]`` (a cross
    network concatenates them, flattened).

    Without dense features (``"dense_features"`` absent or of width 0) the bottom
    stack is skipped; without sparse features (``embedding_layer=None``) the
    interaction sees the bottom output alone, and a :class:`DotInteraction`,
    which needs two inputs, is skipped.

    Compile without a loss: ``model.compile(optimizer=...)`` trains for ``task``,
    and the task's metrics appear in the ``fit`` history. A loss given to
    ``compile`` would be added to the task's loss. Subclasses may override
    ``call`` and ``compute_loss``.

    Parameters
    ----------
    embedding_layer : keras.layers.Layer, default=None
        Maps the dict of sparse ids to a dict of embeddings, e.g.
        :class:`skrank.layers.EmbeddingCollection`. None: no sparse features.
    bottom_stack : keras.layers.Layer, default=None
        Applied to the dense features. None: ``MLP([256, 64, 16])``. With
        :class:`DotInteraction` its output width must equal the embedding width.
    feature_interaction : keras.layers.Layer, default=None
        Applied to the list of embeddings and bottom output. None:
        :class:`DotInteraction` (DLRM). For DCN-v2 use
        :class:`skrank.layers.CrossNetwork` or
        ``keras.Sequential([keras.layers.Concatenate(), FeatureCross(), FeatureCross()])``.
    top_stack : keras.layers.Layer, default=None
        Applied to the concatenated bottom and interaction outputs. None:
        ``MLP([512, 256, 1], final_activation="sigmoid")``.
    task : skrank.tasks.Ranking, default=None
        Loss and metrics. None: binary cross-entropy, AUC and accuracy.
    dense_embedding_layer : keras.layers.Layer, default=None
        Maps the dense features ``(batch, n_dense)`` to one vector per feature,
        ``(batch, n_dense, d)``, e.g. :class:`skrank.layers.PeriodicEmbedding`.
        Its weights are dense variables (``dense_trainable_variables``). None:
        the bottom stack takes the dense features as they are.
    dense_tokens : bool, default=False
        Feed the dense vectors to the interaction as tokens (the bottom stack
        then takes the raw dense features) rather than to the bottom stack.
        With :class:`DotInteraction`, ``d`` must then equal the embedding
        width. Tokens make the interaction and the top stack's input wider (40
        instead of 27 tokens, 2.2x the pairs, for 13 dense and 26 sparse
        features) and did worse on skrank's quality suite.
    embedding_l2 : float, default=0.0
        Weight of an L2 penalty on the embedding rows looked up in a training
        step: ``embedding_l2`` times the batch mean of the sum of squares of
        every embedding vector of ``embedding_layer`` a row uses. Added with
        ``add_loss`` when the model is called with ``training=True``, so it
        appears in ``model.losses`` and in the training loss (not in evaluation
        or prediction); its gradient reaches the looked-up rows only.
    **kwargs
        Passed to :class:`keras.Model`.

    Attributes
    ----------
    dense_trainable_variables : list of keras.Variable
        Trainable variables outside the embedding layer, including those of
        ``dense_embedding_layer``.
    embedding_trainable_variables : list of keras.Variable
        Trainable variables of ``embedding_layer``: the tables, updated row by
        row.

    See Also
    --------
    skrank.optimizers.CompositeOptimizer : one optimizer for the embeddings and
        another for the dense variables.

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.layers import MLP, EmbeddingCollection
    >>> from skrank.models import Ranking
    >>> model = Ranking(
    ...     EmbeddingCollection({"user": 10, "item": 10}, embedding_dim=4),
    ...     bottom_stack=MLP([8, 4]),
    ...     top_stack=MLP([8, 1], final_activation="sigmoid"),
    ... )
    >>> x = {
    ...     "dense_features": np.random.rand(32, 3).astype("float32"),
    ...     "sparse_features": {"user": np.arange(32) % 10, "item": np.arange(32) % 7},
    ... }
    >>> model.compile(optimizer="adam")
    >>> history = model.fit(x, np.arange(32) % 2, epochs=1, verbose=0)
    >>> sorted(history.history)
    ['auc', 'binary_accuracy', 'loss']
    >>> model.predict(x, verbose=0).shape
    (32,)
    """

    def __init__(
        self,
        embedding_layer: keras.layers.Layer | None = None,
        bottom_stack: keras.layers.Layer | None = None,
        feature_interaction: keras.layers.Layer | None = None,
        top_stack: keras.layers.Layer | None = None,
        task: RankingTask | None = None,
        *,
        dense_embedding_layer: keras.layers.Layer | None = None,
        dense_tokens: bool = False,
        embedding_l2: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if (
            isinstance(embedding_l2, bool)
            or not isinstance(embedding_l2, int | float)
            or not embedding_l2 >= 0
        ):
            raise ValueError(
                f"embedding_l2 must be a float >= 0; got embedding_l2={embedding_l2!r}."
            )
        self.embedding_layer = embedding_layer
        self.bottom_stack = bottom_stack if bottom_stack is not None else MLP([256, 64, 16])
        self.feature_interaction = (
            feature_interaction if feature_interaction is not None else DotInteraction()
        )
        self.top_stack = (
            top_stack if top_stack is not None else MLP([512, 256, 1], final_activation="sigmoid")
        )
        self.task = task if task is not None else RankingTask()
        self.dense_embedding_layer = dense_embedding_layer
        if not isinstance(dense_tokens, bool):
            raise ValueError(f"dense_tokens must be True or False; got {dense_tokens!r}.")
        self.dense_tokens = dense_tokens
        self.embedding_l2 = float(embedding_l2)

    # ------------------------------------------------------------------ forward
    def build(self, input_shape):
        # Sparse ids are integers: a symbolic pass with the right dtypes
        # creates every weight (also when a saved model is loaded). It runs on
        # backend placeholders rather than KerasTensors, because a
        # keras.Sequential that starts with a merge layer (the DCN recipe)
        # cannot be called on a list of KerasTensors.
        if not isinstance(input_shape, Mapping):
            raise ValueError(_input_message(type(input_shape).__name__))
        symbolic = {}
        if input_shape.get(DENSE_KEY) is not None:
            symbolic[DENSE_KEY] = keras.KerasTensor(
                tuple(input_shape[DENSE_KEY]), dtype=self.compute_dtype
            )
        if input_shape.get(SPARSE_KEY) is not None:
            symbolic[SPARSE_KEY] = {
                name: keras.KerasTensor(tuple(shape), dtype="int32")
                for name, shape in input_shape[SPARSE_KEY].items()
            }
        keras.layers.Layer.compute_output_spec(self, symbolic)
        self.built = True

    def call(self, inputs, training=None):
        if not isinstance(inputs, Mapping):
            raise ValueError(_input_message(type(inputs).__name__))
        unknown = sorted(set(map(str, inputs)) - {DENSE_KEY, SPARSE_KEY})
        if unknown:
            raise ValueError(_input_message(f"dict with keys {unknown}"))

        features = []
        if self.embedding_layer is not None:
            if SPARSE_KEY not in inputs:
                raise ValueError(
                    f"inputs lack {SPARSE_KEY!r}; the embedding layer needs a dict "
                    f"{{feature name: ids}} under inputs[{SPARSE_KEY!r}]."
                )
            embeddings = self.embedding_layer(inputs[SPARSE_KEY])
            features.extend(embeddings.values())
            if training and self.embedding_l2 > 0 and embeddings:
                self.add_loss(self._embedding_penalty(list(embeddings.values())))
        n_sparse = len(features)

        bottom = None
        dense = inputs.get(DENSE_KEY)
        if dense is not None and dense.shape[-1] != 0:
            bottom_input = dense
            if self.dense_embedding_layer is not None:
                vectors = self.dense_embedding_layer(dense)
                if self.dense_tokens:
                    features.extend(ops.unstack(vectors, num=vectors.shape[1], axis=1))
                else:
                    width = vectors.shape[1] * vectors.shape[2]
                    bottom_input = ops.reshape(vectors, (-1, width))
            bottom = self.bottom_stack(bottom_input)
            features.append(bottom)

        if not features:
            raise ValueError(
                f"the model has no input features: give inputs[{DENSE_KEY!r}] of width "
                f"> 0, or an embedding_layer and inputs[{SPARSE_KEY!r}]."
            )

        if isinstance(self.feature_interaction, DotInteraction):
            self._check_dot_interaction(features, n_sparse, bottom)
            skip_interaction = len(features) < 2
        else:
            skip_interaction = False
        parts = [] if bottom is None else [bottom]
        if not skip_interaction:
            parts.append(self.feature_interaction(features))
        elif not parts:  # one embedding and no dense features: nothing to interact with
            parts = features
        top_input = parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=-1)

        outputs = self.top_stack(top_input)
        if outputs.shape[-1] == 1:
            outputs = ops.squeeze(outputs, axis=-1)
        return outputs

    def _embedding_penalty(self, vectors):
        """``embedding_l2`` times the batch mean of the squared norms of the looked-up rows."""
        squares = [ops.sum(ops.square(ops.cast(v, "float32")), axis=-1) for v in vectors]
        total = squares[0]
        for square in squares[1:]:
            total = total + square
        return self.embedding_l2 * ops.mean(total)

    def _check_dot_interaction(self, features, n_sparse, bottom):
        widths = [feature.shape[-1] for feature in features]
        embedding_widths = widths[:n_sparse]
        token_widths = widths[n_sparse : len(widths) - (bottom is not None)]
        if embedding_widths and token_widths and token_widths[0] != embedding_widths[0]:
            raise ValueError(
                f"dense_embedding_layer outputs vectors of width {token_widths[0]} but the "
                f"embeddings have {embedding_widths[0]}; give it dim={embedding_widths[0]} "
                "or use CrossNetwork."
            )
        embedding_widths = embedding_widths or token_widths
        if len(set(embedding_widths)) > 1:
            raise ValueError(
                f"DotInteraction needs embeddings of one width; got widths {embedding_widths}. "
                "Give every feature the same embedding_dim or use CrossNetwork."
            )
        if bottom is not None and embedding_widths and widths[-1] != embedding_widths[0]:
            raise ValueError(
                f"bottom_stack outputs {widths[-1]} units but the embeddings have "
                f"{embedding_widths[0]}; make the last bottom_stack layer "
                f"{embedding_widths[0]} wide or use CrossNetwork."
            )

    @property
    def embedding_trainable_variables(self) -> list:
        """Trainable variables of the embedding layer."""
        if self.embedding_layer is None:
            return []
        return list(self.embedding_layer.trainable_variables)

    @property
    def dense_trainable_variables(self) -> list:
        """All trainable variables that are not in the embedding layer."""
        embedding_ids = {id(variable) for variable in self.embedding_trainable_variables}
        return [v for v in self.trainable_variables if id(v) not in embedding_ids]

    # ---------------------------------------------------------- serialization
    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        config = {"name": self.name, "trainable": self.trainable}
        config.update(
            {
                "embedding_layer": serialize(self.embedding_layer),
                "bottom_stack": serialize(self.bottom_stack),
                "feature_interaction": serialize(self.feature_interaction),
                "top_stack": serialize(self.top_stack),
                "task": serialize(self.task),
                "dense_embedding_layer": serialize(self.dense_embedding_layer),
                "dense_tokens": self.dense_tokens,
                "embedding_l2": self.embedding_l2,
            }
        )
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if config.get("dense_embedding_layer") is not None:
            # Saved before dense_tokens existed, the vectors were tokens.
            config.setdefault("dense_tokens", True)
        layers = ("embedding_layer", "bottom_stack", "feature_interaction", "top_stack", "task")
        for key in (*layers, "dense_embedding_layer"):
            if config.get(key) is not None:
                config[key] = keras.saving.deserialize_keras_object(
                    config[key], custom_objects=custom_objects
                )
        return cls(**config)


def _input_message(received):
    return (
        f"Ranking expects a dict {{{DENSE_KEY!r}: float array (batch, n_dense), "
        f"{SPARSE_KEY!r}: {{feature name: int array (batch,)}}}}; got {received}."
    )
