"""fit / predict round trips on CSV and Parquet, and the errors users hit."""

import joblib
import numpy as np
import pandas as pd
import pytest

from skrank import __version__
from skrank._cli import main
from tests.cli.conftest import TINY


def test_csv_round_trip_with_probabilities(click_model, data_dir, tmp_path, capfd):
    out = tmp_path / "predictions.csv"
    argv = ["predict", str(click_model), str(data_dir / "new.csv"), "--out", str(out)]
    assert main([*argv, "--proba", "--keep", "user"]) == 0
    predictions = pd.read_csv(out)
    new = pd.read_csv(data_dir / "new.csv")
    assert len(predictions) == len(new)
    assert list(predictions.columns) == ["user", "prediction", "proba_0", "proba_1"]
    assert predictions["user"].tolist() == new["user"].tolist()
    np.testing.assert_allclose(predictions[["proba_0", "proba_1"]].sum(axis=1), 1.0, atol=1e-6)
    assert set(predictions["prediction"]) <= {0, 1}
    expected = (predictions["proba_1"] > predictions["proba_0"]).astype(int)
    assert (predictions["prediction"] == expected).all()
    captured = capfd.readouterr()
    assert "Warning" not in captured.err and "I0000" not in captured.err


def test_model_file_has_a_header_and_the_estimator(click_model):
    content = joblib.load(click_model)
    header = content["header"]
    assert header["skrank_version"] == __version__
    assert header["target"] == "clicked"
    assert header["task"] == "classification"
    assert header["feature_names"] == ["user", "item", "price"]
    estimator = content["estimator"]
    assert type(estimator).__name__ == "RankingClassifier"
    # --categorical item embeds the integer ids; the rest is split automatically.
    assert list(estimator.preprocessor_.categorical_features_) == ["user", "item"]
    assert list(estimator.preprocessor_.dense_features_) == ["price"]
    assert estimator.embedding_dim == 4 and estimator.n_iter_ == 2


def test_parquet_round_trip_regression(rating_model, data_dir, tmp_path):
    out = tmp_path / "predictions.parquet"
    # new.parquet still has the target (and another column): they are ignored.
    argv = ["predict", str(rating_model), str(data_dir / "new.parquet"), "--out", str(out)]
    assert main(argv) == 0
    predictions = pd.read_parquet(out)
    assert list(predictions.columns) == ["prediction"]
    assert len(predictions) == len(pd.read_parquet(data_dir / "new.parquet"))
    assert np.isfinite(predictions["prediction"]).all()
    header = joblib.load(rating_model)["header"]
    assert header["task"] == "regression"  # auto: a float target with many values
    assert joblib.load(rating_model)["estimator"].interaction == "cross"


def test_predict_to_stdout_matches_file(click_model, data_dir, tmp_path, capsys):
    assert main(["predict", str(click_model), str(data_dir / "new.csv")]) == 0
    from io import StringIO

    stdout = pd.read_csv(StringIO(capsys.readouterr().out))
    out = tmp_path / "p.csv"
    assert main(["predict", str(click_model), str(data_dir / "new.csv"), "--out", str(out)]) == 0
    pd.testing.assert_frame_equal(stdout, pd.read_csv(out))


def test_task_classification_from_strings(data_dir, tmp_path):
    frame = pd.read_csv(data_dir / "clicks.csv")
    frame["clicked"] = frame["clicked"].map({0: "no", 1: "yes"})
    frame.to_csv(tmp_path / "labels.tsv", sep="\t", index=False)
    model = tmp_path / "m.skrank"
    argv = ["fit", str(tmp_path / "labels.tsv"), "--target", "clicked", "--out", str(model)]
    assert main([*argv, "--drop", "rating", *TINY]) == 0
    out = tmp_path / "p.csv"
    assert main(["predict", str(model), str(tmp_path / "labels.tsv"), "--out", str(out)]) == 0
    assert set(pd.read_csv(out)["prediction"]) <= {"no", "yes"}


# ------------------------------------------------------------------ errors
def _error(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err


def test_missing_data_file(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    err = _error(["fit", str(missing), "--target", "y"], capsys)
    assert str(missing) in err and "no such file" in err


def test_missing_target_column(data_dir, capsys):
    err = _error(["fit", str(data_dir / "clicks.csv"), "--target", "clicks"], capsys)
    assert "clicks.csv" in err and "'clicks'" in err and "target column" in err


def test_missing_listed_column(data_dir, capsys):
    argv = ["fit", str(data_dir / "clicks.csv"), "--target", "clicked", "--categorical", "zip"]
    err = _error(argv, capsys)
    assert "'zip'" in err


def test_unknown_extension(tmp_path, capsys):
    path = tmp_path / "data.xlsx"
    path.write_text("a,b\n1,2\n")
    err = _error(["fit", str(path), "--target", "a"], capsys)
    assert "data.xlsx" in err and ".parquet" in err


def test_unreadable_parquet(tmp_path, capsys):
    path = tmp_path / "broken.parquet"
    path.write_text("this is not parquet")
    err = _error(["fit", str(path), "--target", "a"], capsys)
    assert "broken.parquet" in err and "cannot read" in err


def test_missing_target_values(tmp_path, capsys):
    path = tmp_path / "gaps.csv"
    path.write_text("a,y\nx,1\nz,\nx,0\n")
    err = _error(["fit", str(path), "--target", "y"], capsys)
    assert "gaps.csv" in err and "'y'" in err and "missing" in err


def test_predict_missing_feature_column(click_model, tmp_path, capsys):
    path = tmp_path / "partial.csv"
    pd.DataFrame({"user": ["u1"], "item": [101]}).to_csv(path, index=False)
    err = _error(["predict", str(click_model), str(path)], capsys)
    assert "partial.csv" in err and "'price'" in err


def test_predict_not_a_model(data_dir, capsys):
    err = _error(["predict", str(data_dir / "clicks.csv"), str(data_dir / "new.csv")], capsys)
    assert "clicks.csv" in err and "model file" in err


def test_predict_missing_model(tmp_path, data_dir, capsys):
    err = _error(["predict", str(tmp_path / "gone.skrank"), str(data_dir / "new.csv")], capsys)
    assert "gone.skrank" in err


def test_proba_of_a_regressor(rating_model, data_dir, capsys):
    err = _error(["predict", str(rating_model), str(data_dir / "new.csv"), "--proba"], capsys)
    assert "--proba" in err and "regression" in err


def test_unwritable_output_format(click_model, data_dir, tmp_path, capsys):
    out = tmp_path / "p.json"
    err = _error(
        ["predict", str(click_model), str(data_dir / "new.csv"), "--out", str(out)], capsys
    )
    assert "p.json" in err


@pytest.mark.parametrize("flag", ["--epochs", "--batch-size", "--embedding-dim"])
def test_bad_numbers_are_usage_errors(flag, data_dir, capsys):
    code = main(["fit", str(data_dir / "clicks.csv"), "--target", "clicked", flag, "0"])
    assert code == 2
    assert "positive integer" in capsys.readouterr().err
