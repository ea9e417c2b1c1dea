"""
==================================================
Learning to rank with Ranker
==================================================

:class:`skrank.Ranker` orders the items of each query. Here, search-like
queries from :func:`skrank.datasets.make_ranking`, whose relevance grades carry
a per-query offset (annotators who grade everything higher): a pointwise
:class:`~skrank.RankingRegressor` has to fit that offset as noise, a ranker only
compares the items of one query. We compare two ranking losses and the
regressor on queries unseen at fit time, cross-validate the ranker with
:class:`~sklearn.model_selection.GroupKFold` on its query column, and turn the
scores into a top-3 per query.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, cross_val_score

from skrank import Ranker, RankingRegressor
from skrank.datasets import make_ranking
from skrank.metrics import ndcg_score

# SKRANK_EXAMPLE_SMALL=1 shrinks the data for the test suite.
SMALL = os.environ.get("SKRANK_EXAMPLE_SMALL") == "1"

n_queries = 25 if SMALL else 300
X, y = make_ranking(n_queries=n_queries, items_per_query=(5, 15), random_state=0)
y = y.to_numpy()
print(f"{len(X)} rows, {n_queries} queries, relevance grades {np.bincount(y)}")
X.head()

# %%
# Unseen queries
# --------------
# The last fifth of the queries is held out (rows come grouped by query, in
# order). The query ids are not a feature here (``categorical_features`` lists
# the item columns only; ``price`` and ``match_score`` are dense), so the models
# must rank the items of new queries.
query = pd.factorize(X["query_id"])[0]
test = query >= int(0.8 * n_queries)
params = dict(
    categorical_features=["item_id", "item_category"],
    embedding_dim=8,
    bottom_stack=(16,),
    top_stack=(32,),
    epochs=5 if SMALL else 30,
    early_stopping=False,
    learning_rate=3e-3,
    random_state=0,
)
results = {}
for loss in ("softmax", "pairwise_logistic"):
    ranker = Ranker(query_column="query_id", loss=loss, **params).fit(X[~test], y[~test])
    results[f"Ranker ({loss})"] = ranker.score(X[test], y[test])
features = X.drop(columns="query_id")  # the same features for the regressor
regressor = RankingRegressor(**params).fit(features[~test], y[~test])
qid = X["query_id"][test]
results["RankingRegressor"] = ndcg_score(y[test], regressor.predict(features[test]), qid=qid)
rng = np.random.default_rng(0)
results["random scores"] = ndcg_score(y[test], rng.random(test.sum()), qid=qid)
for name, value in results.items():
    print(f"{name:28s} NDCG@10 {value:.3f}")

# %%
# All three models rank far above chance. Which is ahead depends on the data and
# its size: the per-query offset costs the regressor most when few queries are
# there to average it out, and the best loss is a hyperparameter to search
# (``GridSearchCV`` over ``loss``, with the folds below).

# %%
# Cross-validation
# ----------------
# With ``query_column``, ``cross_val_score`` needs nothing but folds that keep
# every query whole: ``GroupKFold`` on the query column. ``score`` reads the
# query ids from ``X``.
ranker = Ranker(query_column="query_id", **params)
folds = cross_val_score(ranker, X, y, groups=X["query_id"], cv=GroupKFold(n_splits=3))
print("NDCG@10 per fold:", np.round(folds, 3))

# %%
# The top 3 of each query
# -----------------------
# Scores compare the items of one query: sort by query, then by score.
ranker = Ranker(query_column="query_id", **params).fit(X[~test], y[~test])
ranked = (
    X[test]
    .assign(relevance=y[test], score=ranker.predict(X[test]))
    .sort_values(["query_id", "score"], ascending=[True, False])
)
print(ranked.groupby("query_id").head(3).head(9).to_string(index=False))

# %%
fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(list(results), list(results.values()), color=["C0", "C0", "C1", "C7"])
ax.set_xlim(min(results.values()) - 0.05, 1.0)
ax.set_xlabel("NDCG@10 on unseen queries")
ax.invert_yaxis()
fig.tight_layout()
