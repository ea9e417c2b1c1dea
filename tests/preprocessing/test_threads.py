"""Large tables are fitted and encoded column by column in threads: same bits as one thread."""

import threading

import numpy as np
import pandas as pd
import pytest

from skrank.preprocessing import RankingPreprocessor, _threads


def _table(n=3_000, seed=0):
    rng = np.random.default_rng(seed)
    users = rng.integers(0, 300, n).astype(str).astype(object)
    users[rng.random(n) < 0.05] = None
    heavy = rng.lognormal(0, 3, n)
    heavy[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "user": users,
            "item": pd.Categorical(rng.integers(0, 50, n)),
            "tags": ["|".join(map(str, rng.choice(8, rng.integers(0, 4)))) for _ in range(n)],
            "price": rng.normal(10, 3, n),
            "clicks": heavy,  # log-transformed, with missing values
            "visits": rng.integers(0, 9, n),
        }
    )


def _everything(X_fit, X_new, **params):
    pre = RankingPreprocessor(list_features={"tags": "|"}, **params)
    fitted = pre.fit_transform(X_fit)
    dense, categorical = pre.encode(X_new)
    return [fitted, pre.transform(X_new), dense, categorical]


@pytest.mark.parametrize("params", [{}, {"min_frequency": 3, "missing_indicator": False}])
def test_threads_give_the_same_bits_as_one_thread(monkeypatch, params):
    X_fit, X_new = _table(), _table(seed=1)
    one_thread = _everything(X_fit, X_new, **params)
    monkeypatch.setattr(_threads, "PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(_threads, "_available_cpus", lambda: 4)
    threaded = _everything(X_fit, X_new, **params)
    for expected, got in zip(one_thread, threaded, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_column_map_runs_in_threads_only_on_large_tables(monkeypatch):
    monkeypatch.setattr(_threads, "_available_cpus", lambda: 4)
    with _threads.column_map(10, 3) as map_columns:
        assert map_columns(lambda a, b: a + b, [1, 2, 3], [10, 20, 30]) == [11, 22, 33]
    with _threads.column_map(_threads.PARALLEL_MIN_ROWS, 8) as map_columns:
        names = map_columns(lambda _: threading.current_thread().name, range(8))
    assert all(name.startswith("skrank-columns") for name in names)


def test_the_first_failing_column_raises_from_threads(monkeypatch):
    monkeypatch.setattr(_threads, "PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(_threads, "_available_cpus", lambda: 4)
    X = _table(200)
    pre = RankingPreprocessor(dense_features=["price", "clicks"]).fit(X)
    bad = X.assign(price="cheap", clicks="many")
    with pytest.raises(ValueError, match="'price'"):
        pre.transform(bad)
