"""The demo's ranking table: each user's held-out movies ranked, NDCG@10."""

from __future__ import annotations

import time

RANK_K = 10
# The Ranker's losses in the ranking table: its default and the first other one here.
RANKING_LOSSES = ("softmax", "pairwise_logistic")
RANKING_COLUMNS = [
    ("model", "model", "{}"),
    (f"NDCG@{RANK_K}", "ndcg", "{:.4f}"),
    ("fit time s", "fit_time", "{:.1f}"),
]


def ranking_table(data, params, pointwise, progress, *, seed, features, lightgbm) -> list[dict]:
    """NDCG@10 of ranking each user's test movies.

    Ranker (two losses, with the demo's skrank ``params``), ``pointwise`` (the
    fitted DCN-v2 RankingRegressor of the rating table) as a pointwise ranker,
    LGBMRanker (when ``lightgbm`` is true) on ``features`` (categorical, dense
    column names), per-item mean rating and random scores.
    """
    from skrank import Ranker
    from skrank._cli._baselines import ItemMeanRanker, LightGBMRanker, RandomRanker
    from skrank.metrics import ndcg_score

    X_train, X_test = data["X_train"], data["X_test"]
    y_train, y_test = data["rating_train"], data["rating_test"]
    users = X_test["userId"].to_numpy()
    default_loss = Ranker().loss
    other_loss = next(loss for loss in RANKING_LOSSES if loss != default_loss)
    models = {
        f"Ranker(loss={default_loss!r})": Ranker(query_column="userId", **params),
        f"Ranker(loss={other_loss!r})": Ranker(query_column="userId", loss=other_loss, **params),
        "RankingRegressor(cross), pointwise": pointwise,
    }
    if lightgbm:
        categorical, dense = features
        models["LGBMRanker (lambdarank)"] = LightGBMRanker(
            "userId", categorical, dense, label_scale=2, random_state=seed
        )
    models["per-item mean rating"] = ItemMeanRanker("movieId")
    models["random"] = RandomRanker(random_state=seed)
    rows = []
    for label, model in models.items():
        if label.startswith("RankingRegressor"):  # fitted for the rating table
            scores, fit_time = model.predict(X_test), None
        else:
            progress.start(label)
            start = time.perf_counter()
            model.fit(X_train, y_train)
            fit_time = time.perf_counter() - start
            scores = model.predict(X_test)
            epochs = getattr(model, "n_iter_", None)
            progress.done(f"{epochs} epochs" if isinstance(epochs, int) else "")
        ndcg = ndcg_score(y_test, scores, qid=users, k=RANK_K)
        rows.append({"model": label, "ndcg": ndcg, "fit_time": fit_time})
    return rows
