"""
=====================================================
Using the Keras model directly
=====================================================

The estimators are a thin scikit-learn layer over a Keras 3 model,
:class:`skrank.models.Ranking`, built in the design of TensorFlow Recommenders'
``tfrs.experimental.models.Ranking``. This example builds that model by hand
from :mod:`skrank.layers`, feeds it arrays encoded by
:class:`~skrank.RankingPreprocessor` and trains it with ``model.fit``: the
route to take for custom training loops, distribution strategies or callbacks
the estimator does not expose.
"""

# %%
# Encode the table
# ----------------
# :meth:`~skrank.RankingPreprocessor.encode` returns a float32 matrix of
# scaled dense features and an int32 matrix of categorical ids, one column per
# categorical feature. Ids 0 and 1 are reserved for missing and unknown values.
import os

import keras
import matplotlib.pyplot as plt
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from skrank import RankingPreprocessor
from skrank.datasets import make_ctr_classification
from skrank.layers import MLP, CrossNetwork, EmbeddingCollection
from skrank.models import Ranking
from skrank.optimizers import CompositeOptimizer
from skrank.tasks import Ranking as RankingTask

# SKRANK_EXAMPLE_SMALL=1 shrinks the data for the test suite.
SMALL = os.environ.get("SKRANK_EXAMPLE_SMALL") == "1"

X, y = make_ctr_classification(
    n_samples=3_000 if SMALL else 30_000,
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

preprocessor = RankingPreprocessor().fit(X_train)
dense, categorical = preprocessor.encode(X_train)
print(dense.dtype, dense.shape, categorical.dtype, categorical.shape)
print(preprocessor.vocabulary_sizes_)

# %%
# The model takes a dict: ``"dense_features"`` of shape ``(batch, n_dense)``
# and ``"sparse_features"``, a dict of one id vector of shape ``(batch,)`` per
# categorical feature.
names = preprocessor.categorical_features_


def as_inputs(dense, categorical):
    return {
        "dense_features": dense,
        "sparse_features": {name: categorical[:, j] for j, name in enumerate(names)},
    }


train_inputs = as_inputs(dense, categorical)
test_inputs = as_inputs(*preprocessor.encode(X_test))

# %%
# Build the model from blocks
# ---------------------------
# A DCN-v2: embeddings, a bottom MLP over the dense features, a low-rank cross
# network over everything, and a top MLP ending in a click probability. The
# default task is binary cross-entropy with AUC and accuracy metrics.
keras.utils.set_random_seed(0)
model = Ranking(
    embedding_layer=EmbeddingCollection(preprocessor.vocabulary_sizes_, embedding_dim=8),
    bottom_stack=MLP([32, 8]),
    feature_interaction=CrossNetwork(num_layers=2, projection_dim=16),
    top_stack=MLP([64, 1], final_activation="sigmoid"),
    task=RankingTask(loss=keras.losses.BinaryCrossentropy()),
)

# %%
# Adagrad for the embedding tables, Adam for the rest. The strings
# ``"embedding"`` and ``"dense"`` pick the model's
# ``embedding_trainable_variables`` and ``dense_trainable_variables``.
model.compile(
    optimizer=CompositeOptimizer(
        [
            (keras.optimizers.Adagrad(0.05), "embedding"),
            (keras.optimizers.Adam(1e-3), "dense"),
        ]
    )
)

# %%
# Train and evaluate
# ------------------
# No loss is passed to ``compile``: the task computes it, and its metrics show
# up in the history.
history = model.fit(
    train_inputs,
    y_train.to_numpy("float32"),
    validation_split=0.1,
    batch_size=512,
    epochs=2 if SMALL else 10,
    callbacks=[keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)],
    verbose=0,
)
print(sorted(history.history))
proba = model.predict(test_inputs, batch_size=4096, verbose=0)
print(f"held-out ROC AUC: {roc_auc_score(y_test, proba):.3f}")

# %%
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(history.history["auc"], marker="o", label="train")
ax.plot(history.history["val_auc"], marker="o", label="validation")
ax.set_xlabel("epoch")
ax.set_ylabel("AUC")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# Save and reload
# ---------------
# Every skrank layer, task and optimizer is registered with Keras, so the
# model round-trips through the native ``.keras`` format.
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "dcn.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    print("same predictions:", bool((reloaded.predict(test_inputs, verbose=0) == proba).all()))
