"""Estimators with list (multi-valued categorical) columns: fit, predict, files, cold start."""

import pickle

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from skrank import RankingClassifier, RankingRegressor
from skrank.data import ParquetSource

TINY = dict(embedding_dim=4, bottom_stack=(8,), top_stack=(8,), ensemble_size=1, random_state=0)


def tag_frame(n=400, seed=0):
    """Clicks driven by three tags of a bag of 0-4 tags per row (5% flipped)."""
    rng = np.random.default_rng(seed)
    tags = [list(rng.choice(list("abcdefghij"), rng.integers(0, 5), False)) for _ in range(n)]
    X = pd.DataFrame(
        {
            "user": rng.integers(0, 10, n).astype(str).astype(object),
            "tags": tags,
            "price": rng.normal(size=n),
        }
    )
    clicked = np.array([("a" in t or "c" in t) and "b" not in t for t in tags])
    y = (clicked ^ (rng.random(n) < 0.05)).astype(np.int64)
    return X, y


def test_classifier_learns_from_a_list_column():
    X, y = tag_frame()
    model = RankingClassifier(**TINY, epochs=15, learning_rate=0.01).fit(X[:300], y[:300])
    prep = model.preprocessor_
    assert prep.column_kinds_["tags"] == "list"
    assert prep.categorical_features_.count("tags") == prep.max_list_lengths_["tags"] == 4
    assert model.score(X[300:], y[300:]) > 0.8  # 0.68 without the tags
    # One row, a batch, and a pickled copy agree.
    proba = model.predict_proba(X[300:])
    np.testing.assert_allclose(model.predict_proba(X[300:301]), proba[:1], rtol=1e-6)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict_proba(X[300:]), proba)


def test_lists_delimited_strings_and_arrow_lists_give_the_same_model():
    X, y = tag_frame(n=200)
    delimited = X.assign(tags=X["tags"].map("|".join))
    arrow_type = pd.ArrowDtype(pa.list_(pa.string()))
    arrow = X.assign(tags=pd.array(X["tags"].tolist(), dtype=arrow_type))
    predictions = [
        RankingRegressor(**TINY, epochs=2, **extra).fit(frame, y).predict(frame)
        for frame, extra in (
            (X, {}),
            (delimited, {"list_features": {"tags": "|"}}),
            (arrow, {}),
        )
    ]
    np.testing.assert_array_equal(predictions[0], predictions[1])
    np.testing.assert_array_equal(predictions[0], predictions[2])


def test_empty_and_missing_lists_and_unseen_tokens_predict():
    X, y = tag_frame(n=200)
    model = RankingRegressor(**TINY, epochs=1).fit(X, y)
    rows = X.iloc[[0, 0, 0, 0]].assign(
        tags=[[], None, ["never seen"], ["a", "never seen", "a", "b", "c"]]
    )
    predictions = model.predict(rows)
    assert np.isfinite(predictions).all()
    assert predictions[0] == predictions[1]  # a missing list is an empty list


def test_bad_list_columns_name_the_column():
    y = np.arange(3) % 2
    cases = {
        "scalar": ([["a"], "b", ["c"]], "row 1 holds the scalar 'b'"),
        "nested": ([["a", ["b"]], [], ["c"]], "nested lists"),
        "floats": ([[1.5], [2.0], []], "lists of floats"),
    }
    for column, (values, message) in cases.items():
        with pytest.raises(ValueError, match=rf"Column '{column}'.*{message}|{message}"):
            RankingClassifier(**TINY, epochs=1).fit(pd.DataFrame({column: values}), y)
    with pytest.raises(ValueError, match="list_features"):
        RankingClassifier(**TINY, list_features={"x": ""}).fit(pd.DataFrame({"x": ["a"] * 3}), y)


def test_streamed_parquet_list_column_equals_in_memory_fit(tmp_path):
    X, y = tag_frame(n=300)
    frame = X.assign(clicked=y)
    for i, start in enumerate(range(0, 300, 100)):
        frame[start : start + 100].to_parquet(tmp_path / f"part{i}.parquet")
    source = ParquetSource(str(tmp_path / "*.parquet"), target="clicked", batch_rows=100)
    streamed = RankingClassifier(**TINY, epochs=2, shuffle=False, early_stopping=False)
    streamed.fit(source)
    assert streamed.preprocessor_.column_kinds_["tags"] == "list"
    in_memory = RankingClassifier(**TINY, epochs=2, shuffle=False, early_stopping=False)
    in_memory.fit(X, y)
    assert streamed.preprocessor_.categories_["tags"].tolist() == (
        in_memory.preprocessor_.categories_["tags"].tolist()
    )
    np.testing.assert_allclose(
        streamed.predict_proba(X)[:, 1], in_memory.predict_proba(X)[:, 1], atol=1e-5
    )


def test_unseen_items_beat_the_training_mean():
    # Cold start: a fifth of the items never appear in training. Their rows get the
    # unknown item id, trained by the items rated once (min_frequency=2) and by the
    # ids id_dropout replaces; their genres as a list column carry what is known.
    rng = np.random.default_rng(0)
    n_items, n = 200, 3000
    genres = [list(rng.choice(list("ABCDEFGH"), rng.integers(1, 4), False)) for _ in range(n_items)]
    effect = {g: e for g, e in zip("ABCDEFGH", rng.normal(0, 1, 8), strict=True)}
    item_effect = np.array([sum(effect[g] for g in gs) for gs in genres])
    items = rng.zipf(1.3, n) % n_items
    users = rng.integers(0, 50, n)
    y = 3 + item_effect[items] + rng.normal(0, 0.3, 50)[users] + rng.normal(0, 0.3, n)
    X = pd.DataFrame(
        {
            "user": users.astype(str).astype(object),
            "item": items.astype(str).astype(object),
            "genres": [genres[i] for i in items],
        }
    )
    unseen = np.isin(items, rng.choice(n_items, n_items // 5, replace=False))
    model = RankingRegressor(**TINY, epochs=30, learning_rate=0.01, id_dropout=0.1)
    model.fit(X[~unseen], y[~unseen])
    rmse = np.sqrt(np.mean((model.predict(X[unseen]) - y[unseen]) ** 2))
    baseline = np.sqrt(np.mean((y[~unseen].mean() - y[unseen]) ** 2))
    assert rmse < 0.8 * baseline
