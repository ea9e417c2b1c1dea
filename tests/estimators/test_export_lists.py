"""export() of list (multi-valued categorical) columns, served in plain TensorFlow."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from skrank import RankingRegressor
from skrank.estimators._export import serving_inputs
from tests.estimators.test_export import serve_in_isolated_python

TINY = dict(
    embedding_dim=4, bottom_stack=(8,), top_stack=(8,), ensemble_size=1, epochs=3, random_state=0
)


def list_frame(n=300, seed=0):
    """A list column of Python lists, one of delimited strings, one hashed, one id."""
    rng = np.random.default_rng(seed)
    tags = [
        list(rng.choice(["a", "b", "c|d", "e", "f"], rng.integers(0, 4), False)) for _ in range(n)
    ]
    tags[0], tags[1] = [], None  # empty and missing
    genres = ["|".join(rng.choice(list("ABCDEFG"), rng.integers(0, 3), False)) for _ in range(n)]
    X = pd.DataFrame(
        {
            "tags": tags,
            "genres": genres,
            "codes": [list(rng.integers(0, 500, rng.integers(1, 3))) for _ in range(n)],
            "item": rng.integers(0, 20, n).astype(str).astype(object),
            "price": rng.lognormal(2, 1, n),
        }
    )
    y = np.array([len(t or []) for t in tags]) + (X["genres"].str.contains("A")).to_numpy() * 2.0
    return X, y


def unusual_list_rows(X):
    X = X.head(6).copy()
    X["tags"] = [["zzz", "a"], [], None, ["c|d", "b", "a", "e", "f"], [None, "a"], ["a", "a"]]
    X["genres"] = ["A|Q", "", None, "B|C|D|E", "A", "G|A"]
    X["codes"] = [[1, 2], [], [999999], [3], [7, 7, 7], []]
    return X


def test_saved_model_with_list_columns_matches_predict(tmp_path):
    X, y = list_frame()
    model = RankingRegressor(
        **TINY, list_features={"genres": "|"}, hash_buckets=50, max_categories=40
    ).fit(X, y)
    prep = model.preprocessor_
    assert prep.column_kinds_ == {
        "tags": "list",
        "genres": "list",
        "codes": "list",
        "item": "categorical",
        "price": "dense",
    }
    assert prep.hashed_features_ == ["codes"]
    X_test = pd.concat([X.head(50), unusual_list_rows(X)], ignore_index=True)
    path = tmp_path / "lists"
    model.export(path)
    inputs = serving_inputs(model, X_test)
    # "c|d" is a token of tags: its serving separator is the next candidate.
    assert inputs["tags"].tolist()[-6:] == ["zzz;a", "", "", "c|d;b;a;e;f", ";a", "a;a"]
    assert inputs["genres"].tolist()[-6:] == ["A|Q", "", "", "B|C|D|E", "A", "G|A"]
    described = json.loads((path / "assets.extra" / "skrank_columns.json").read_text())
    assert described["inputs"]["tags"] == {
        "column": "tags",
        "kind": "list",
        "dtype": "string",
        "separator": ";",
    }
    assert described["inputs"]["genres"]["separator"] == "|"
    case = {"path": str(path), "inputs": {k: v.tolist() for k, v in inputs.items()}}
    served = serve_in_isolated_python({"lists": case})["lists"]
    np.testing.assert_allclose(
        served["outputs"]["predictions"], model.predict(X_test), rtol=1e-5, atol=1e-5
    )
    assert set(served["specs"].values()) == {"string", "float64"}
    assert Path(path).exists()
