"""
=======================================================
Click-through-rate prediction: DLRM versus DCN-v2
=======================================================

Fit the two architectures skrank ships on a synthetic Criteo-like click log and
compare them with a linear baseline.

- **DLRM** (``interaction="dot"``, the default) takes the pairwise dot products
  of the embeddings of the categorical columns and of the bottom-MLP output.
- **DCN-v2** (``interaction="cross"``) feeds their concatenation through a
  cross network that learns explicit feature crosses.

:func:`~skrank.datasets.make_ctr_classification` plants interactions between
pairs of categorical columns, which a model that does not cross features (here
a one-hot logistic regression) cannot use.
"""

# %%
# The data
# --------
# Dense count columns ``I1..I4`` and categorical token columns ``C1..C8`` with
# missing values; about 25% of the rows are clicks.
import os

import matplotlib.pyplot as plt
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skrank import RankingClassifier
from skrank.datasets import make_ctr_classification

# SKRANK_EXAMPLE_SMALL=1 shrinks the data for the test suite.
SMALL = os.environ.get("SKRANK_EXAMPLE_SMALL") == "1"

X, y = make_ctr_classification(
    n_samples=4_000 if SMALL else 40_000,
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
X.head()

# %%
# The models
# ----------
# The estimators take the DataFrame as it is: string columns become embedded
# categorical features, numeric ones scaled dense features. The two skrank
# models differ only in ``interaction``.
common = dict(embedding_dim=8, bottom_stack=(64,), top_stack=(128, 64), random_state=0)
if SMALL:
    common.update(epochs=3, ensemble_size=1)
models = {
    "DLRM": RankingClassifier(interaction="dot", **common),
    "DCN-v2": RankingClassifier(interaction="cross", cross_layers=2, **common),
}

# A baseline without feature crosses: one-hot categories, scaled counts.
categorical = [c for c in X.columns if c.startswith("C")]
dense = [c for c in X.columns if c.startswith("I")]
models["logistic regression"] = make_pipeline(
    make_column_transformer(
        (
            make_pipeline(
                SimpleImputer(strategy="constant", fill_value="missing"),
                OneHotEncoder(handle_unknown="ignore", min_frequency=5),
            ),
            categorical,
        ),
        (make_pipeline(SimpleImputer(), StandardScaler()), dense),
    ),
    LogisticRegression(max_iter=1_000),
)

scores = {}
for name, model in models.items():
    model.fit(X_train, y_train)
    proba = model.predict_proba(X_test)[:, 1]
    scores[name] = (roc_auc_score(y_test, proba), log_loss(y_test, proba))
    print(f"{name:>20}: ROC AUC {scores[name][0]:.3f}  log loss {scores[name][1]:.3f}")

# %%
# What the estimator learned
# --------------------------
# The fitted preprocessor says how every column was routed, and ``history_``
# holds the per-epoch losses (with a validation loss when early stopping is on:
# by default above 10,000 rows).
dlrm = models["DLRM"]
print("categorical:", dlrm.preprocessor_.categorical_features_)
print("dense:", dlrm.preprocessor_.dense_features_)
print("vocabulary sizes:", dlrm.preprocessor_.vocabulary_sizes_)
print("epochs run:", dlrm.n_iter_, "batch size:", dlrm.batch_size_)

# %%
# Learning curves and scores
# --------------------------
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
for name in ("DLRM", "DCN-v2"):
    history = models[name].history_
    (line,) = left.plot(history["loss"], label=f"{name} train")
    if "val_loss" in history:
        left.plot(history["val_loss"], "--", color=line.get_color(), label=f"{name} validation")
left.set_xlabel("epoch")
left.set_ylabel("binary cross-entropy")
left.legend()
names = list(scores)
right.barh(names, [scores[n][0] for n in names], color=["C0", "C1", "C7"])
right.set_xlim(0.5, max(s[0] for s in scores.values()) + 0.05)
right.set_xlabel("ROC AUC on held-out rows")
fig.tight_layout()
plt.show()
