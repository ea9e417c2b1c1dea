"""
=====================================================
Custom blocks: your own interaction layer and model
=====================================================

The model is made of replaceable blocks. This example swaps two of them:

1. a user-defined Keras **feature-interaction layer**, passed to the
   estimator as ``interaction=``;
2. a **subclass of** :class:`skrank.models.Ranking` that overrides ``call``
   and ``compute_loss``, trained directly with Keras.
"""

# %%
# A factorization-machine interaction
# -----------------------------------
# The interaction layer receives the list of feature vectors, one per
# categorical column plus the bottom-MLP output, all of width
# ``embedding_dim``, and returns one tensor of shape ``(batch, k)``. The
# second-order term of a factorization machine (the "bi-interaction pooling"
# of NFM) sums all pairwise element-wise products in linear time:
# ``0.5 * ((sum_i v_i)**2 - sum_i v_i**2)``.
import os

import keras
import numpy as np
from keras import ops
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

import skrank
from skrank import RankingClassifier, RankingPreprocessor
from skrank.datasets import make_ctr_classification
from skrank.layers import MLP, EmbeddingCollection

# SKRANK_EXAMPLE_SMALL=1 shrinks the data for the test suite.
SMALL = os.environ.get("SKRANK_EXAMPLE_SMALL") == "1"


class FMInteraction(keras.layers.Layer):
    """Sum of the pairwise element-wise products of the feature vectors."""

    def call(self, features):
        stacked = ops.stack(features, axis=1)  # (batch, n_features, dim)
        square_of_sum = ops.square(ops.sum(stacked, axis=1))
        sum_of_squares = ops.sum(ops.square(stacked), axis=1)
        return 0.5 * (square_of_sum - sum_of_squares)


X, y = make_ctr_classification(
    n_samples=380 if SMALL else 20_000,
    n_dense=4,
    n_categorical=8,
    cardinalities=[10, 20, 30, 50, 50, 100, 100, 200],
    n_interactions=6,
    latent_dim=2,
    random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

# %%
# The layer is copied for every fit (through its ``get_config``), so the
# estimator can be cloned, grid-searched and refitted like any other.
classifier = RankingClassifier(
    interaction=FMInteraction(),
    embedding_dim=8,
    bottom_stack=(32,),
    top_stack=(64,),
    epochs=2 if SMALL else 8,
    random_state=0,
)
classifier.fit(X_train, y_train)
auc = roc_auc_score(y_test, classifier.predict_proba(X_test)[:, 1])
print(f"FM interaction: ROC AUC {auc:.3f}")
print(type(classifier.model_.feature_interaction).__name__)

# %%
# Subclassing the model
# ---------------------
# For changes beyond one block, subclass :class:`skrank.models.Ranking`, as
# TensorFlow Recommenders suggests for its own ``Ranking`` model. This one
#
# - overrides ``call`` to add a *wide* part, a linear model of the dense
#   features, to the logit of the deep part (Wide & Deep), and
# - overrides ``compute_loss`` to add an L2 penalty on the embedding rows used
#   in the batch, a common regularizer of large embedding tables.
#
# The top stack therefore ends without an activation, and the task's loss is
# told that it receives logits.


class WideAndDeepRanking(skrank.models.Ranking):
    def __init__(self, *args, embedding_l2=1e-4, **kwargs):
        super().__init__(*args, **kwargs)
        self.embedding_l2 = embedding_l2
        self.wide = keras.layers.Dense(1, name="wide")

    def call(self, inputs, training=None):
        deep_logit = super().call(inputs, training=training)  # shape (batch,)
        wide_logit = ops.squeeze(self.wide(inputs["dense_features"]), axis=-1)
        return deep_logit + wide_logit

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x, y, y_pred, sample_weight, training=training)
        embeddings = self.embedding_layer(x["sparse_features"]).values()
        penalty = ops.mean(ops.sum(ops.square(ops.concatenate(list(embeddings), axis=-1)), axis=-1))
        return loss + self.embedding_l2 * penalty

    def get_config(self):
        return {**super().get_config(), "embedding_l2": self.embedding_l2}


# %%
# Encode the table with :class:`~skrank.RankingPreprocessor` and arrange the
# arrays as the model's input dict.
preprocessor = RankingPreprocessor().fit(X_train)


def as_inputs(frame):
    dense, categorical = preprocessor.encode(frame)
    names = preprocessor.categorical_features_
    return {
        "dense_features": dense,
        "sparse_features": {name: categorical[:, j] for j, name in enumerate(names)},
    }


keras.utils.set_random_seed(0)
model = WideAndDeepRanking(
    EmbeddingCollection(preprocessor.vocabulary_sizes_, embedding_dim=8),
    bottom_stack=MLP([32, 8]),
    top_stack=MLP([64, 1]),  # linear output: a logit
    task=skrank.tasks.Ranking(
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.AUC(from_logits=True, name="auc")],
    ),
    embedding_l2=1e-4,
)
model.compile(optimizer=keras.optimizers.Adam(1e-3))
history = model.fit(
    as_inputs(X_train),
    y_train.to_numpy("float32"),
    batch_size=256,
    epochs=2 if SMALL else 8,
    verbose=0,
)
print("training AUC per epoch:", np.round(history.history["auc"], 3))

logits = model.predict(as_inputs(X_test), batch_size=4096, verbose=0)
print(f"wide & deep subclass: ROC AUC {roc_auc_score(y_test, logits):.3f}")
