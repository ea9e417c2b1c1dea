"""
==================================================
Learning to rank with Ranker
==================================================

:class:`skrank.Ranker` orders the items of each query. Here, search queries
whose relevance grades carry a per-query bias (some annotators grade everything
higher): a pointwise :class:`~skrank.RankingRegressor` has to fit that bias as
noise, a ranker only compares the items of one query. We compare two ranking
losses and the regressor on queries unseen at fit time, cross-validate the
ranker with :class:`~sklearn.model_selection.GroupKFold` on its query column,
and turn the scores into a top-3 per query.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, cross_val_score

from skrank import Ranker, RankingRegressor
from skrank.metrics import ndcg_score

# SKRANK_EXAMPLE_SMALL=1 shrinks the data for the test suite.
SMALL = os.environ.get("SKRANK_EXAMPLE_SMALL") == "1"

rng = np.random.default_rng(0)
n_queries = 60 if SMALL else 300
query = np.repeat(np.arange(n_queries), rng.integers(5, 16, n_queries))
doc = rng.integers(0, 40, len(query))
freshness = rng.normal(size=len(query))
annotator_bias = rng.normal(scale=1.5, size=n_queries)
latent = rng.normal(size=40)[doc] + freshness + annotator_bias[query]
X = pd.DataFrame(
    {
        "query": np.array([f"q{q}" for q in query], dtype=object),
        "doc": np.array([f"d{d}" for d in doc], dtype=object),
        "freshness": freshness,
    }
)
y = np.clip(np.round(latent + rng.normal(scale=0.3, size=len(query)) + 1.5), 0, 4)
print(f"{len(X)} rows, {n_queries} queries, relevance grades {np.bincount(y.astype(int))}")

# %%
# Unseen queries
# --------------
# The last fifth of the queries is held out. The query ids are not a feature
# here (``categorical_features`` lists the document and freshness only), so the
# models must rank documents of new queries.
test = query >= int(0.8 * n_queries)
params = dict(
    categorical_features=["doc"],
    embedding_dim=8,
    bottom_stack=(16,),
    top_stack=(32,),
    epochs=15 if SMALL else 30,
    early_stopping=False,
    learning_rate=3e-3,
    random_state=0,
)
results = {}
for loss in ("softmax", "pairwise_logistic"):
    ranker = Ranker(query_column="query", loss=loss, **params).fit(X[~test], y[~test])
    results[f"Ranker ({loss})"] = ranker.score(X[test], y[test])
features = X.drop(columns="query")  # the same features for the regressor
regressor = RankingRegressor(**params).fit(features[~test], y[~test])
qid = X["query"][test]
results["RankingRegressor"] = ndcg_score(y[test], regressor.predict(features[test]), qid=qid)
results["random scores"] = ndcg_score(y[test], rng.random(test.sum()), qid=qid)
for name, value in results.items():
    print(f"{name:28s} NDCG@10 {value:.3f}")

# %%
# All three models rank far above chance. Which is ahead depends on the data and
# its size: the per-query bias costs the regressor most when few queries are
# there to average it out, and the best loss is a hyperparameter to search
# (``GridSearchCV`` over ``loss``, with the folds below).

# %%
# Cross-validation
# ----------------
# With ``query_column``, ``cross_val_score`` needs nothing but folds that keep
# every query whole: ``GroupKFold`` on the query column. ``score`` reads the
# query ids from ``X``.
ranker = Ranker(query_column="query", **params)
folds = cross_val_score(ranker, X, y, groups=X["query"], cv=GroupKFold(n_splits=3))
print("NDCG@10 per fold:", np.round(folds, 3))

# %%
# The top 3 of each query
# -----------------------
# Scores compare the items of one query: sort by query, then by score.
ranker = Ranker(query_column="query", **params).fit(X[~test], y[~test])
ranked = (
    X[test]
    .assign(relevance=y[test], score=ranker.predict(X[test]))
    .sort_values(["query", "score"], ascending=[True, False])
)
print(ranked.groupby("query").head(3).head(9).to_string(index=False))

# %%
fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(list(results), list(results.values()), color=["C0", "C0", "C1", "C7"])
ax.set_xlim(min(results.values()) - 0.05, 1.0)
ax.set_xlabel("NDCG@10 on unseen queries")
ax.invert_yaxis()
fig.tight_layout()
