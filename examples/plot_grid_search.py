"""
=========================================================
Tuning the architecture with GridSearchCV
=========================================================

The skrank estimators are ordinary scikit-learn estimators, so their
hyper-parameters, the architecture included, can be searched with
:class:`~sklearn.model_selection.GridSearchCV`. Here we search over the feature
interaction (DLRM's dot products or a DCN-v2 cross network) and the width of
the embeddings.
"""

# %%
import os

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skrank import RankingClassifier
from skrank.datasets import make_ctr_classification

# SKRANK_EXAMPLE_SMALL=1 shrinks the data for the test suite.
SMALL = os.environ.get("SKRANK_EXAMPLE_SMALL") == "1"

X, y = make_ctr_classification(
    n_samples=290 if SMALL else 8_000,
    n_dense=3,
    n_categorical=6,
    cardinalities=[10, 20, 30, 50, 100, 200],
    n_interactions=4,
    latent_dim=2,
    random_state=0,
)

# %%
# The search
# ----------
# Small networks and a fixed number of epochs keep the 12 fits quick. Every
# parameter of the estimator can be searched, including routed Keras
# parameters such as ``optimizer__beta_1``.
estimator = RankingClassifier(
    bottom_stack=(32,),
    top_stack=(64,),
    epochs=2 if SMALL else 8,
    cross_layers=2,
    random_state=0,
)
param_grid = {"interaction": ["dot", "cross"], "embedding_dim": [4, 16]}
if SMALL:
    param_grid["embedding_dim"] = [4]
search = GridSearchCV(
    estimator,
    param_grid,
    scoring="roc_auc",
    cv=StratifiedKFold(n_splits=2 if SMALL else 3, shuffle=True, random_state=0),
)
search.fit(X, y)
print("best parameters:", search.best_params_)
print("best cross-validated ROC AUC:", round(search.best_score_, 3))

# %%
# All results
# -----------
results = pd.DataFrame(search.cv_results_)[
    [
        "param_interaction",
        "param_embedding_dim",
        "mean_test_score",
        "std_test_score",
        "mean_fit_time",
    ]
]
results.sort_values("mean_test_score", ascending=False)

# %%
fig, ax = plt.subplots(figsize=(6, 4))
for interaction, group in results.groupby("param_interaction"):
    ax.errorbar(
        group["param_embedding_dim"].astype(int),
        group["mean_test_score"],
        yerr=group["std_test_score"],
        marker="o",
        capsize=3,
        label=f'interaction="{interaction}"',
    )
ax.set_xlabel("embedding_dim")
ax.set_ylabel("cross-validated ROC AUC")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# ``search.best_estimator_`` is refitted on all the data and predicts like any
# classifier.
search.best_estimator_.predict_proba(X.head())
