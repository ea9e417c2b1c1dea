"""The hand-written Keras 3 DLRM that skrank is compared against.

What a Keras user would write without skrank: an sklearn ``OrdinalEncoder`` and
``StandardScaler`` encode the table once, outside the timings, and a functional
Keras model (one ``keras.layers.Embedding`` per categorical column, keras-rs's
``DotInteraction``) trains with ``model.fit`` on the numpy arrays and predicts
with ``model.predict``.
"""

import numpy as np
from pandas.api.types import is_numeric_dtype
from sklearn.preprocessing import OrdinalEncoder, StandardScaler

from skrank._tf import import_tensorflow

import_tensorflow()

import keras  # noqa: E402
import keras_rs  # noqa: E402

# Encoded ids: -1 is missing, -2 unseen at fit; shifted by 2 into [0, vocabulary).
_MISSING, _UNKNOWN = -1, -2


class ReferenceEncoder:
    """OrdinalEncoder for the categorical columns, log1p + StandardScaler for the dense ones."""

    def fit(self, X):
        self.categorical_ = [c for c in X.columns if not is_numeric_dtype(X[c])]
        self.dense_ = [c for c in X.columns if c not in self.categorical_]
        self.ordinal_ = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=_UNKNOWN,
            encoded_missing_value=_MISSING,
            dtype=np.float64,
        ).fit(X[self.categorical_])
        self.scaler_ = StandardScaler().fit(np.log1p(X[self.dense_].to_numpy()))
        self.vocabulary_sizes_ = [len(c) + 2 for c in self.ordinal_.categories_]
        return self

    def transform(self, X):
        ids = self.ordinal_.transform(X[self.categorical_]) - min(_MISSING, _UNKNOWN)
        dense = self.scaler_.transform(np.log1p(X[self.dense_].to_numpy()))
        dense = np.nan_to_num(dense, nan=0.0)
        return dense.astype(np.float32), ids.astype(np.int32)


def build_reference_dlrm(
    vocabulary_sizes,
    n_dense,
    *,
    embedding_dim=16,
    bottom_stack=(256, 64),
    top_stack=(512, 256),
    learning_rate=1e-3,
    seed=0,
):
    """Functional DLRM on ``[dense (n, n_dense) float32, ids (n, n_categorical) int32]``."""
    seeds = keras.random.SeedGenerator(seed)
    kernel = keras.initializers.GlorotUniform(seed=seeds)
    uniform = keras.initializers.RandomUniform(-0.05, 0.05, seed=seeds)
    dense_in = keras.Input((n_dense,), name="dense_features")
    ids_in = keras.Input((len(vocabulary_sizes),), dtype="int32", name="categorical_ids")
    embeddings = [
        keras.layers.Embedding(size, embedding_dim, embeddings_initializer=uniform)(ids_in[:, j])
        for j, size in enumerate(vocabulary_sizes)
    ]
    bottom = dense_in
    for units in (*bottom_stack, embedding_dim):
        bottom = keras.layers.Dense(units, activation="relu", kernel_initializer=kernel)(bottom)
    interaction = keras_rs.layers.DotInteraction()([*embeddings, bottom])
    top = keras.layers.Concatenate()([bottom, interaction])
    for units in top_stack:
        top = keras.layers.Dense(units, activation="relu", kernel_initializer=kernel)(top)
    output = keras.layers.Dense(1, activation="sigmoid", kernel_initializer=kernel)(top)
    model = keras.Model([dense_in, ids_in], output)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy")
    return model
