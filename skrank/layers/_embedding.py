"""Embedding tables of categorical features, stored fused: one variable per width."""

from collections.abc import Mapping

from skrank._tf import import_tensorflow
from skrank._validation import check_positive_int

tf = import_tensorflow()

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

from skrank.layers._init import fresh_initializer  # noqa: E402

COMBINERS = ("mean", "sum", "sqrtn")


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


def _padded_ids(ids):
    """``ids`` as a dense tensor: ragged, sparse and masked ids padded with -1."""
    if isinstance(ids, tuple | list) and len(ids) == 2:
        ids, mask = ids
        return ops.where(ops.cast(mask, "bool"), ids, ops.cast(-1, ids.dtype))
    if isinstance(ids, tf.RaggedTensor):
        return ids.to_tensor(default_value=tf.cast(-1, ids.dtype))
    if isinstance(ids, tf.SparseTensor):
        return tf.sparse.to_dense(ids, default_value=tf.cast(-1, ids.dtype))
    return ids


@keras.saving.register_keras_serializable(package="skrank")
class EmbeddingCollection(keras.layers.Layer):
    """Embed a dict of integer id features, one table per feature.

    Maps ``{name: ids}`` to ``{name: float tensor of shape (batch, embedding_dim)}``.
    Feature names may be any strings (``"user id"``, ``"a/b"``): the output keeps
    them as keys. The ids of a feature are, per row, one id or a bag of ids pooled
    into one vector by ``combiner``:

    - one id per row: an int tensor of shape ``(batch,)``;
    - several ids per row, padded: an int tensor of shape ``(batch, length)`` whose
      negative entries are padding (``(batch, 1)`` is one id or none per row);
    - padded ids and a mask: a tuple ``(ids, mask)`` of two ``(batch, length)``
      tensors, ``mask`` true where ``ids`` holds an id;
    - a ``tf.RaggedTensor`` of shape ``(batch, None)`` or a ``tf.SparseTensor`` of
      shape ``(batch, length)`` (TensorFlow backend), whose values are the ids.

    A row without ids pools to a zero vector, whatever the combiner.

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
    combiner : {"mean", "sum", "sqrtn"} or dict of str to str, default="mean"
        How the vectors of a row's ids are pooled, for every feature or by feature
        name (missing names: "mean"): their mean, their sum, or their sum divided by
        the square root of their number (the names and meanings of TensorFlow's
        ``tf.nn.safe_embedding_lookup_sparse``). One id per row is its vector under
        every combiner.
    id_dropout : float, default=0.0
        In training only, replace each id greater than ``unknown_id`` by
        ``unknown_id`` with this probability (ids of bags too). The unknown row then
        learns what a row whose id is not known looks like on average, as it will be
        at prediction for ids unseen at fit time (cold start).
    unknown_id : int, default=1
        The id that ``id_dropout`` substitutes (the unknown id of
        :class:`~skrank.preprocessing.RankingPreprocessor`); smaller ids are kept.
    seed : int or None, default=None
        Seed of the ``id_dropout`` draws.
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

    Bags of ids, padded with -1, pooled by their mean:

    >>> tags = EmbeddingCollection({"tags": 6}, embedding_dim=2)
    >>> out = tags({"tags": np.array([[1, 2], [3, -1], [-1, -1]])})["tags"]
    >>> bool(np.allclose(out[0], (tags.table("tags")[1] + tags.table("tags")[2]) / 2))
    True
    >>> np.asarray(out[2]).tolist()
    [0.0, 0.0]
    """

    def __init__(
        self,
        vocabulary_sizes: Mapping[str, int],
        embedding_dim: int | Mapping[str, int],
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        combiner: str | Mapping[str, str] = "mean",
        id_dropout: float = 0.0,
        unknown_id: int = 1,
        seed: int | None = None,
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
        combiners = combiner if isinstance(combiner, Mapping) else {}
        unknown = sorted(set(map(str, combiners)) - set(self.vocabulary_sizes))
        if unknown:
            raise ValueError(f"combiner names features {unknown} that have no vocabulary size.")
        for value in combiners.values() if combiners else [combiner]:
            if value not in COMBINERS:
                raise ValueError(f"combiner must be one of {COMBINERS}; got {value!r}.")
        self.combiner = dict(combiner) if isinstance(combiner, Mapping) else combiner
        if not 0.0 <= id_dropout < 1.0:
            raise ValueError(f"id_dropout must be in [0, 1); got {id_dropout!r}.")
        self.id_dropout = float(id_dropout)
        self.unknown_id = int(unknown_id)
        self.seed = seed
        self._seed_generator = keras.random.SeedGenerator(seed) if id_dropout else None

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

    def combiner_of(self, name: str) -> str:
        """How the ids of one row of feature ``name`` are pooled."""
        if isinstance(self.combiner, Mapping):
            return self.combiner.get(name, "mean")
        return self.combiner

    def _ids(self, inputs, name):
        """Ids of feature ``name``: int32, (batch,) or (batch, length) padded with -1."""
        if name not in inputs:
            raise ValueError(
                f"sparse feature {name!r} missing from inputs; expected keys "
                f"{self.feature_names}, got {sorted(map(str, inputs))}."
            )
        ids = _padded_ids(inputs[name])
        if len(ids.shape) not in (1, 2):
            raise ValueError(
                f"sparse feature {name!r} must have shape (batch,) or (batch, length); "
                f"got {tuple(ids.shape)}."
            )
        return ops.cast(ids, "int32") if ids.dtype != "int32" else ids

    def _dropped(self, ids):
        """``ids`` with each id above ``unknown_id`` replaced by it with prob. ``id_dropout``."""
        draw = keras.random.uniform(ops.shape(ids), seed=self._seed_generator)
        drop = ops.logical_and(draw < self.id_dropout, ids > self.unknown_id)
        return ops.where(drop, ops.cast(self.unknown_id, ids.dtype), ids)

    def call(self, inputs, training=None):
        if not isinstance(inputs, Mapping):
            raise ValueError(
                "EmbeddingCollection expects a dict {feature name: ids}; "
                f"got {type(inputs).__name__}."
            )
        outputs = {}
        for variable, names in zip(self._variables, self._groups().values(), strict=True):
            all_ids = {name: self._ids(inputs, name) for name in names}
            if training and self.id_dropout:
                all_ids = {name: self._dropped(ids) for name, ids in all_ids.items()}
            singles = [name for name in names if len(all_ids[name].shape) == 1]
            if singles:
                ids = ops.stack([all_ids[name] for name in singles], axis=1)
                sizes = np.array([self.vocabulary_sizes[name] for name in singles], np.int32)
                starts = np.array([self._rows[name][1] for name in singles], np.int32)
                # An id outside its feature's range is sent past the end of the
                # stacked variable, where the lookup fails, instead of reading the
                # rows of the next feature.
                valid = ops.logical_and(ids >= 0, ids < sizes)
                rows = ops.where(valid, ids + starts, int(variable.shape[0]))
                vectors = ops.unstack(_rows_of(variable, rows), axis=1)
                outputs.update(zip(singles, vectors, strict=True))
            for name in names:
                if name not in outputs:
                    outputs[name] = self._pooled(variable, name, all_ids[name])
        return {name: outputs[name] for name in self.vocabulary_sizes}

    def _pooled(self, variable, name, ids):
        """The ``combiner`` of the vectors of each row's ids; (batch, length) ids, -1 padding."""
        size = self.vocabulary_sizes[name]
        start = self._rows[name][1]
        present = ids >= 0
        # Ids past the feature's range fail at lookup, as for single ids.
        rows = ops.where(ids < size, ids + start, int(variable.shape[0]))
        # Only the present ids are looked up: padding gets no row, so no gradient
        # (and no row-sparse optimizer update) reaches any row through it.
        if keras.backend.backend() == "tensorflow":
            where = tf.where(present)  # (n present, 2): row, position
            vectors = _rows_of(variable, tf.gather_nd(rows, where))
            total = tf.math.unsorted_segment_sum(vectors, where[:, 0], tf.shape(ids)[0])
        else:
            weights = ops.cast(present, variable.dtype)[..., None]
            total = ops.sum(_rows_of(variable, ops.where(present, rows, start)) * weights, axis=1)
        combiner = self.combiner_of(name)
        if combiner == "sum":
            return total
        count = ops.sum(ops.cast(present, total.dtype), axis=1, keepdims=True)
        if combiner == "sqrtn":
            count = ops.sqrt(count)
        # Rows without ids have a zero sum: divided by 1, not by 0.
        return total / ops.maximum(count, 1.0)

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
                "combiner": (
                    dict(self.combiner) if isinstance(self.combiner, Mapping) else self.combiner
                ),
                "id_dropout": self.id_dropout,
                "unknown_id": self.unknown_id,
                "seed": self.seed,
            }
        )
        return config
