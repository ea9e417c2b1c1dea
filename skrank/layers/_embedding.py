"""Embedding tables of categorical features, stored fused: one variable per width."""

from collections.abc import Mapping

from skrank._tf import import_tensorflow
from skrank._validation import check_positive_int

tf = import_tensorflow()

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

from skrank.layers._init import fresh_initializer  # noqa: E402


def _rows_of(variable, rows):
    """``variable[rows]``, on TensorFlow as a sparse read of the variable.

    ``ops.take`` reads the whole variable, then gathers. Once row-sparse
    optimizer updates have put a TensorFlow variable in copy-on-read mode, that
    whole read is a copy of the table on every call (a one-row prediction paid
    for copying every table). ``tf.gather`` on the variable itself is one
    ``ResourceGather`` of the rows asked for, with the same gradient.
    """
    if keras.backend.backend() == "tensorflow":
        value = variable.value
        if isinstance(value, tf.Variable):
            return tf.gather(value, rows)
    return ops.take(variable, rows, axis=0)


@keras.saving.register_keras_serializable(package="skrank")
class EmbeddingCollection(keras.layers.Layer):
    """Embed a dict of integer id features, one table per feature.

    Maps ``{name: int tensor of shape (batch,)}`` to
    ``{name: float tensor of shape (batch, embedding_dim)}``. Ids of shape
    ``(batch, 1)`` are accepted too. Feature names may be any strings (``"user id"``,
    ``"a/b"``): the output keeps them as keys.

    The tables of all features of one width are stored stacked in one variable
    (rows of feature ``name`` start at its offset), so a training step makes one
    lookup and one row-sparse optimizer update per width instead of one per
    feature: the traced step is several times smaller. Each feature still has
    its own rows, exactly as with separate tables; :meth:`table` returns them. An
    id outside ``[0, vocabulary_sizes[name])`` raises an error at lookup (it never
    reads another feature's rows).

    Parameters
    ----------
    vocabulary_sizes : dict of str to int
        Number of distinct ids of each feature; ids must lie in ``[0, size)``.
    embedding_dim : int or dict of str to int
        Width of every table, or of each table by feature name. Keep a single
        width when the tables feed a :class:`DotInteraction`.
    embeddings_initializer : str or keras.initializers.Initializer, default="uniform"
        Initializer of the tables.
    embeddings_regularizer : str or keras.regularizers.Regularizer, default=None
        Regularizer of the tables.
    **kwargs
        Passed to :class:`keras.layers.Layer` (``name``, ``dtype``, ...).

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.layers import EmbeddingCollection
    >>> layer = EmbeddingCollection({"user id": 10, "item": 5}, embedding_dim=4)
    >>> out = layer({"user id": np.array([1, 2]), "item": np.array([0, 4])})
    >>> {name: tuple(value.shape) for name, value in out.items()}
    {'user id': (2, 4), 'item': (2, 4)}
    >>> tuple(layer.table("item").shape)
    (5, 4)
    """

    def __init__(
        self,
        vocabulary_sizes: Mapping[str, int],
        embedding_dim: int | Mapping[str, int],
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(vocabulary_sizes, Mapping):
            raise ValueError(
                "vocabulary_sizes must be a dict {feature name: number of ids}; "
                f"got {vocabulary_sizes!r}."
            )
        for name, size in vocabulary_sizes.items():
            check_positive_int(size, f"vocabulary_sizes[{name!r}]")
        if isinstance(embedding_dim, Mapping):
            missing = [name for name in vocabulary_sizes if name not in embedding_dim]
            if missing:
                raise ValueError(
                    f"embedding_dim has no width for features {missing}; give one "
                    "int for all features or a dict covering every feature."
                )
            for name in vocabulary_sizes:
                check_positive_int(embedding_dim[name], f"embedding_dim[{name!r}]")
            embedding_dim = {name: int(embedding_dim[name]) for name in vocabulary_sizes}
        else:
            embedding_dim = check_positive_int(embedding_dim, "embedding_dim")
        self.vocabulary_sizes = {str(k): int(v) for k, v in vocabulary_sizes.items()}
        self.embedding_dim = embedding_dim
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.embeddings_regularizer = keras.regularizers.get(embeddings_regularizer)

    @property
    def feature_names(self) -> list[str]:
        """Names of the embedded features, in output order."""
        return list(self.vocabulary_sizes)

    def dim_of(self, name: str) -> int:
        """Width of the embedding of feature ``name``."""
        if isinstance(self.embedding_dim, Mapping):
            return self.embedding_dim[name]
        return self.embedding_dim

    def _groups(self):
        """``{width: [feature names]}`` in feature order: one stored variable per width."""
        groups = {}
        for name in self.vocabulary_sizes:
            groups.setdefault(self.dim_of(name), []).append(name)
        return groups

    def build(self, input_shape=None):
        groups = self._groups()
        # A list, not a dict keyed by width: TensorFlow's SavedModel tracking
        # rejects non-string keys.
        self._variables = []  # one per width, in the order of self._groups()
        self._rows = {}  # feature -> (group index, first row)
        for group, (width, names) in enumerate(groups.items()):
            sizes = [self.vocabulary_sizes[name] for name in names]
            starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            for name, start in zip(names, starts, strict=True):
                self._rows[name] = (group, int(start))
            self._variables.append(
                self.add_weight(
                    shape=(int(sum(sizes)), width),
                    initializer=fresh_initializer(self.embeddings_initializer),
                    regularizer=self.embeddings_regularizer,
                    name="embeddings" if len(groups) == 1 else f"embeddings_{width}",
                )
            )
        self.built = True

    def table(self, name: str):
        """The embedding table of feature ``name``: a tensor of shape (vocabulary_size, width)."""
        if name not in self.vocabulary_sizes:
            raise KeyError(f"no feature {name!r}; features are {self.feature_names}.")
        group, start = self._rows[name]
        return self._variables[group][start : start + self.vocabulary_sizes[name]]

    def _ids(self, inputs, name):
        if name not in inputs:
            raise ValueError(
                f"sparse feature {name!r} missing from inputs; expected keys "
                f"{self.feature_names}, got {sorted(map(str, inputs))}."
            )
        ids = inputs[name]
        if len(ids.shape) == 2 and ids.shape[-1] == 1:
            ids = ops.squeeze(ids, axis=-1)
        if len(ids.shape) != 1:
            raise ValueError(
                f"sparse feature {name!r} must have shape (batch,) or (batch, 1); "
                f"got {tuple(ids.shape)}."
            )
        return ops.cast(ids, "int32") if ids.dtype != "int32" else ids

    def call(self, inputs):
        if not isinstance(inputs, Mapping):
            raise ValueError(
                "EmbeddingCollection expects a dict {feature name: ids}; "
                f"got {type(inputs).__name__}."
            )
        outputs = {}
        for variable, names in zip(self._variables, self._groups().values(), strict=True):
            ids = ops.stack([self._ids(inputs, name) for name in names], axis=1)
            sizes = np.array([self.vocabulary_sizes[name] for name in names], np.int32)
            starts = np.array([self._rows[name][1] for name in names], np.int32)
            # An id outside its feature's range is sent past the end of the
            # stacked variable, where the lookup fails, instead of reading the
            # rows of the next feature.
            valid = ops.logical_and(ids >= 0, ids < sizes)
            rows = ops.where(valid, ids + starts, int(variable.shape[0]))
            vectors = ops.unstack(_rows_of(variable, rows), axis=1)
            outputs.update(zip(names, vectors, strict=True))
        return {name: outputs[name] for name in self.vocabulary_sizes}

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_sizes": dict(self.vocabulary_sizes),
                "embedding_dim": (
                    dict(self.embedding_dim)
                    if isinstance(self.embedding_dim, Mapping)
                    else self.embedding_dim
                ),
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": keras.regularizers.serialize(self.embeddings_regularizer),
            }
        )
        return config
