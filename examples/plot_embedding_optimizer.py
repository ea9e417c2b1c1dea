"""
=====================================================
Separate optimizers for embeddings and dense weights
=====================================================

Embedding tables get sparse gradients: a row is updated only when its category
appears in the batch, so rare categories see few updates. Recommendation models
therefore often train the tables with Adagrad (per-row adaptive steps) or a
larger learning rate, and the dense layers with Adam.

``embedding_optimizer`` and ``embedding_learning_rate`` do that: the estimator
then compiles its model with a :class:`~skrank.optimizers.CompositeOptimizer`
that sends the embedding variables to one optimizer and the rest to the other,
as TensorFlow Recommenders' ``CompositeOptimizer`` does.
"""

# %%
import os

import matplotlib.pyplot as plt
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from skrank import RankingClassifier
from skrank.datasets import make_ctr_classification

# SKRANK_EXAMPLE_SMALL=1 shrinks the data for the test suite.
SMALL = os.environ.get("SKRANK_EXAMPLE_SMALL") == "1"

X, y = make_ctr_classification(
    n_samples=380 if SMALL else 30_000,
    n_dense=4,
    n_categorical=8,
    cardinalities=[10, 20, 50, 100, 200, 500, 1_000, 2_000],
    n_interactions=6,
    latent_dim=2,
    random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

# %%
# One optimizer or two
# --------------------
# ``early_stopping=True`` holds out 10% of the training rows, so ``history_``
# has a validation loss to compare. Routed parameters reach each optimizer:
# ``embedding_optimizer__initial_accumulator_value`` goes to Adagrad.
common = dict(
    embedding_dim=8,
    bottom_stack=(64,),
    top_stack=(128, 64),
    early_stopping=True,
    epochs=3 if SMALL else 30,
    random_state=0,
)
models = {
    "Adam everywhere": RankingClassifier(optimizer="adam", learning_rate=1e-3, **common),
    "Adagrad embeddings + Adam": RankingClassifier(
        optimizer="adam",
        learning_rate=1e-3,
        embedding_optimizer="adagrad",
        embedding_learning_rate=0.05,
        embedding_optimizer__initial_accumulator_value=0.1,
        **common,
    ),
}
for name, model in models.items():
    model.fit(X_train, y_train)
    auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
    print(f"{name:>26}: ROC AUC {auc:.3f} after {model.n_iter_} epochs")

# %%
# The optimizer behind the estimator
# ----------------------------------
# The fitted Keras model exposes its embedding and dense variables separately
# (``embedding_trainable_variables`` / ``dense_trainable_variables``), which is
# what the composite optimizer splits on.
composite = models["Adagrad embeddings + Adam"].model_.optimizer
print(type(composite).__name__, [type(opt).__name__ for opt in composite.optimizers])
model = models["Adagrad embeddings + Adam"].model_
print(len(model.embedding_trainable_variables), "embedding tables,")
print(len(model.dense_trainable_variables), "dense variables")

# %%
# Validation loss per epoch
# -------------------------
fig, ax = plt.subplots(figsize=(6, 4))
for name, model in models.items():
    ax.plot(range(1, model.n_iter_ + 1), model.history_["val_loss"], marker="o", label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("validation binary cross-entropy")
ax.legend()
fig.tight_layout()
plt.show()
