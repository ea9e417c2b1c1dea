"""
==================================================
Cross-validation and pipelines
==================================================

Estimate how well a model generalizes with
:func:`~sklearn.model_selection.cross_val_score` and
:class:`~sklearn.model_selection.StratifiedKFold`. A skrank estimator is
cloned and refitted on each fold like any scikit-learn estimator; with a fixed
``random_state`` every fold's model is reproducible.

The estimator can also sit at the end of a :class:`~sklearn.pipeline.Pipeline`:
here a small feature-engineering step adds a column before the model.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skrank import RankingClassifier
from skrank.datasets import make_ctr_classification

# SKRANK_EXAMPLE_SMALL=1 shrinks the data for the test suite.
SMALL = os.environ.get("SKRANK_EXAMPLE_SMALL") == "1"

X, y = make_ctr_classification(
    n_samples=580 if SMALL else 12_000,
    n_dense=4,
    n_categorical=6,
    cardinalities=[10, 20, 30, 50, 100, 200],
    n_interactions=4,
    latent_dim=2,
    random_state=1,
)

# %%
# Stratified folds
# ----------------
# ``StratifiedKFold`` keeps the click rate of every fold close to the overall
# 25%.
classifier = RankingClassifier(
    embedding_dim=8,
    bottom_stack=(32,),
    top_stack=(64,),
    epochs=2 if SMALL else 6,
    random_state=0,
)
cv = StratifiedKFold(n_splits=2 if SMALL else 5, shuffle=True, random_state=0)
auc = cross_val_score(classifier, X, y, cv=cv, scoring="roc_auc")
print("ROC AUC per fold:", np.round(auc, 3))
print(f"mean {auc.mean():.3f} +/- {auc.std():.3f}")

# %%
# In a pipeline
# -------------
# A feature-engineering step in front of the model: the pair of the two
# smallest categorical columns as a new categorical column. The preprocessor
# inside the estimator picks it up as categorical because it is a string.


def add_pair(frame):
    frame = frame.copy()
    frame["C1_x_C2"] = frame["C1"].astype(str) + "_" + frame["C2"].astype(str)
    return frame


pipeline = make_pipeline(FunctionTransformer(add_pair), classifier)
auc_pipeline = cross_val_score(pipeline, X, y, cv=cv, scoring="roc_auc")
print(f"with the pair column: {auc_pipeline.mean():.3f} +/- {auc_pipeline.std():.3f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.boxplot([auc, auc_pipeline], tick_labels=["RankingClassifier", "pipeline with C1 x C2"])
ax.set_ylabel("ROC AUC per fold")
fig.tight_layout()
plt.show()
