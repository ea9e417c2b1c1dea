"""
=================================================
List columns: genres, tags and cold start
=================================================

A movie has several genres, an item several tags: a *list column* holds a bag
of categories per row. :class:`~skrank.RankingRegressor` embeds each token and
pools the vectors of a row into one (their sum; ``list_combiner`` chooses).
This example compares that with the two usual workarounds on MovieLens
(:func:`~skrank.datasets.load_movielens`, ``pip install "skrank[datasets]"``):
the genres joined into one string (one category per distinct combination), and
one hand-made 0/1 column per genre.

The split is by movie: a fifth of the movies never appear in training, so
their ``movieId`` is unknown at prediction (cold start) and their genres are
all the model knows of them.
"""

# %%
# The data, split by movie
# ------------------------
# ``genres`` is one ``|``-separated string per movie, such as
# ``"Comedy|Romance"``.
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skrank import RankingRegressor
from skrank.datasets import load_movielens

# SKRANK_EXAMPLE_SMALL=1 shrinks the data and the model for the test suite.
SMALL = os.environ.get("SKRANK_EXAMPLE_SMALL") == "1"

X, y = load_movielens(return_X_y=True)
X = X.drop(columns=["title", "timestamp"])
if SMALL:
    X, y = X.iloc[:6_000], y.iloc[:6_000]
y = y.to_numpy()
rng = np.random.default_rng(0)
movies = X["movieId"].unique()
unseen_movies = rng.choice(movies, len(movies) // 5, replace=False)
unseen = X["movieId"].isin(unseen_movies).to_numpy()
X_train, X_test, y_train, y_test = X[~unseen], X[unseen], y[~unseen], y[unseen]
X_train.head()

# %%
# Three ways to give the genres
# -----------------------------
# A list column needs either Python lists in the cells, a pyarrow list column,
# or, for delimited strings, ``list_features={"genres": "|"}``. The joined
# string is the column as it comes; the 0/1 columns are made by hand.


def one_zero_columns(frame):
    indicators = frame["genres"].str.get_dummies(sep="|").add_prefix("genre=")
    return pd.concat([frame.drop(columns="genres"), indicators], axis=1)


both = one_zero_columns(pd.concat([X_train, X_test]))
variants = {
    "genres as a list": (X_train, X_test, {"list_features": {"genres": "|"}}),
    "joined string": (X_train, X_test, {}),
    "0/1 columns": (both[~unseen], both[unseen], {}),
    "no genres": (X_train.drop(columns="genres"), X_test.drop(columns="genres"), {}),
}
params = dict(random_state=0, id_dropout=0.1)
if SMALL:
    params.update(embedding_dim=4, bottom_stack=(16,), top_stack=(16,), epochs=3, ensemble_size=1)

rmse = {"training mean": np.sqrt(np.mean((y_test - y_train.mean()) ** 2))}
for name, (train, test, extra) in variants.items():
    model = RankingRegressor(**params, **extra).fit(train, y_train)
    rmse[name] = np.sqrt(np.mean((model.predict(test) - y_test) ** 2))
    if name == "genres as a list":
        print(model.preprocessor_.column_kinds_)
        print("genre vocabulary:", model.preprocessor_.categories_["genres"][:5], "...")
pd.Series(rmse, name="RMSE on unseen movies").round(4)

# %%
# Unseen movies get the unknown ``movieId``. The model learnt what that id
# means because ``id_dropout=0.1`` replaced a tenth of the training ids by it
# (and ``min_frequency=2`` gave it the movies rated once), so the genres carry
# the prediction. The joined string only helps for combinations seen in
# training; the list shares what each genre taught across all combinations.
fig, ax = plt.subplots(figsize=(6, 3))
names = list(rmse)
ax.barh(names, [rmse[n] for n in names], color=["grey"] + ["C0"] * (len(names) - 1))
ax.set_xlim(min(rmse.values()) * 0.97, max(rmse.values()) * 1.01)
ax.invert_yaxis()
ax.set_xlabel("RMSE on movies unseen in training (lower is better)")
fig.tight_layout()
plt.show()
