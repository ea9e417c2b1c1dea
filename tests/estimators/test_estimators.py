"""RankingClassifier / RankingRegressor in the scikit-learn ecosystem, on mixed DataFrames."""

import pickle
import random
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.inspection import permutation_importance
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skrank import RankingClassifier, RankingRegressor
from tests.estimators.conftest import SMALL, mixed_frame


def test_fit_predict_proba_on_mixed_frame(mixed):
    X, y = mixed
    clf = RankingClassifier(**SMALL, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert roc_auc_score(y, proba[:, 1]) > 0.7
    assert set(clf.predict(X)) <= {0, 1}
    assert clf.preprocessor_.categorical_features_ == ["city", "device", "premium", "note"]
    assert clf.preprocessor_.dense_features_ == ["visits", "price"]
    assert list(clf.feature_names_in_) == list(X.columns)


def test_unseen_categories_and_new_missing_values_give_finite_predictions(mixed):
    X, y = mixed
    clf = RankingClassifier(**SMALL, random_state=0).fit(X, y)
    X_new = X.head(5).copy()
    X_new["city"] = ["berlin", None, "paris", "", "lima"]
    X_new["device"] = pd.Categorical(
        ["tv", None, "ios", "web", "tv"], categories=["ios", "android", "web", "tv"]
    )
    X_new.loc[X_new.index[:3], "price"] = np.nan
    X_new["premium"] = X_new["premium"].astype(object)
    X_new.loc[X_new.index[0], "premium"] = None
    proba = clf.predict_proba(X_new)
    assert np.all(np.isfinite(proba))


def test_cross_val_score_uses_stratified_folds(mixed):
    X, y = mixed
    scores = cross_val_score(
        RankingClassifier(**SMALL, random_state=0), X, y, cv=3, scoring="roc_auc"
    )
    assert scores.shape == (3,)
    assert np.all(scores > 0.6)


def test_grid_search_over_interaction_and_embedding_dim_same_with_n_jobs_2(mixed):
    X, y = mixed
    params = {k: v for k, v in SMALL.items() if k != "embedding_dim"}

    def search(n_jobs):
        return GridSearchCV(
            RankingClassifier(**params, random_state=0),
            # Two candidates that differ in both parameters (a full 2 x 2 grid costs
            # twice the fits and tests nothing more).
            [
                {"interaction": ["dot"], "embedding_dim": [4]},
                {"interaction": ["cross"], "embedding_dim": [8]},
            ],
            cv=StratifiedKFold(2),
            scoring="roc_auc",
            n_jobs=n_jobs,
        ).fit(X, y)

    grid = search(1)
    assert grid.cv_results_["params"] == [
        {"embedding_dim": 4, "interaction": "dot"},
        {"embedding_dim": 8, "interaction": "cross"},
    ]
    assert grid.best_estimator_.embedding_dim == grid.best_params_["embedding_dim"]
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    # Worker processes fit the same models as the parent.
    parallel = search(2)
    np.testing.assert_array_equal(
        parallel.cv_results_["mean_test_score"], grid.cv_results_["mean_test_score"]
    )
    assert parallel.best_params_ == grid.best_params_


def test_pipeline_with_user_transformer(mixed):
    X, y = mixed

    def add_ratio(frame):
        frame = frame.copy()
        frame["price_per_visit"] = frame["price"] / (frame["visits"].astype(float) + 1)
        return frame

    pipe = make_pipeline(FunctionTransformer(add_ratio), RankingClassifier(**SMALL, random_state=0))
    pipe.fit(X, y)
    assert pipe.predict_proba(X).shape == (len(X), 2)
    assert "price_per_visit" in pipe[-1].preprocessor_.dense_features_


def test_calibration_roc_display_and_permutation_importance(mixed):
    import matplotlib

    matplotlib.use("Agg")
    from sklearn.metrics import RocCurveDisplay

    X, y = mixed
    clf = RankingClassifier(**SMALL, random_state=0)
    calibrated = CalibratedClassifierCV(clf, cv=2).fit(X, y)
    assert calibrated.predict_proba(X).shape == (len(X), 2)
    fitted = clone(clf).fit(X, y)
    display = RocCurveDisplay.from_estimator(fitted, X, y)
    assert 0.5 < display.roc_auc <= 1.0
    result = permutation_importance(fitted, X, y, n_repeats=2, random_state=0, scoring="roc_auc")
    importances = dict(zip(X.columns, result.importances_mean, strict=True))
    # the target depends on city, not on the noise column
    assert importances["city"] > importances["note"]


def test_multiclass_string_labels_and_class_weight():
    X, y_bin = mixed_frame(n=600, seed=1)
    labels = np.where(X["city"].to_numpy() == "paris", "p", np.where(y_bin == 1, "yes", "no"))
    clf = RankingClassifier(**SMALL, random_state=0).fit(X, labels)
    assert list(clf.classes_) == ["no", "p", "yes"]
    proba = clf.predict_proba(X)
    assert proba.shape == (600, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert clf.score(X, labels) > 0.6
    assert set(clf.predict(X)) <= {"no", "p", "yes"}

    balanced = RankingClassifier(
        **SMALL, class_weight={"no": 1.0, "p": 1.0, "yes": 10.0}, random_state=0
    )
    balanced.fit(X, labels)
    assert (balanced.predict(X) == "yes").mean() > (clf.predict(X) == "yes").mean()


def test_sample_weight_changes_the_fit(mixed):
    X, y = mixed
    base = RankingClassifier(**SMALL, random_state=0).fit(X, y)
    sw = np.where(y == 1, 5.0, 1.0)
    weighted = RankingClassifier(**SMALL, random_state=0).fit(X, y, sample_weight=sw)
    assert weighted.predict_proba(X)[:, 1].mean() > base.predict_proba(X)[:, 1].mean()


def test_regressor_scales_the_target():
    X, y_bin = mixed_frame(n=500, seed=2)
    rating = 1 + 4 * (X["city"].to_numpy() == "paris") * 0.8 + np.asarray(X["premium"], dtype=float)
    for scale in (1.0, 1e6):
        reg = RankingRegressor(**SMALL, random_state=0).fit(X, rating * scale)
        pred = reg.predict(X)
        assert pred.shape == (500,)
        assert r2_score(rating * scale, pred) > 0.8


def test_same_seed_same_predictions_and_globals_untouched(mixed):
    X, y = mixed
    import tensorflow as tf
    from tensorflow.python.framework import config as tf_config

    np.random.seed(123)
    random.seed(123)
    tf.random.set_seed(123)
    np_state = np.random.get_state()[1].copy()
    py_state = random.getstate()
    tf_probe = tf.random.uniform((3,)).numpy()
    tf.random.set_seed(123)
    determinism = tf_config.is_op_determinism_enabled()

    p1 = RankingClassifier(**SMALL, random_state=7).fit(X, y).predict_proba(X)
    p2 = RankingClassifier(**SMALL, random_state=7).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)

    np.testing.assert_array_equal(np.random.get_state()[1], np_state)
    assert random.getstate() == py_state
    np.testing.assert_array_equal(tf.random.uniform((3,)).numpy(), tf_probe)
    assert tf_config.is_op_determinism_enabled() == determinism

    p3 = RankingClassifier(**SMALL, random_state=8).fit(X, y).predict_proba(X)
    assert not np.array_equal(p1, p3)


def test_ensemble_predicts_the_mean_of_its_members_and_round_trips(mixed):
    from skrank.estimators._data import model_inputs
    from skrank.models import Ensemble

    X, y = mixed
    # float32: bfloat16 products round differently with the batch's shape.
    params = dict(SMALL, epochs=8, ensemble_size=3, dtype_policy="float32", random_state=0)
    clf = RankingClassifier(**params).fit(X, y)
    assert clf.ensemble_size_ == 3 and isinstance(clf.model_, Ensemble)
    proba = clf.predict_proba(X)
    dense, categorical = clf.preprocessor_.encode(X)
    inputs = model_inputs(dense, categorical, clf.preprocessor_.categorical_features_)
    members = [np.asarray(m(inputs, training=False)) for m in clf.model_.members]
    assert not np.allclose(members[0], members[1])  # each its own weights
    np.testing.assert_allclose(proba[:, 1], np.mean(members, axis=0), rtol=1e-5, atol=1e-6)
    again = RankingClassifier(**params).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), proba)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), proba)
    assert roc_auc_score(y, proba[:, 1]) > 0.75


def test_ensemble_size_auto_trains_five_models_on_small_tables():
    X, y = mixed_frame(n=250)
    small = dict(SMALL, epochs=2, early_stopping=False, ensemble_size="auto")
    reg = RankingRegressor(**small, random_state=0).fit(X, y)
    assert reg.ensemble_size_ == 5 and len(reg.model_.members) == 5


FRESH_PROCESS = textwrap.dedent(
    """
    import sys, pickle, numpy as np
    sys.path.insert(0, {root!r})
    from tests.estimators.conftest import mixed_frame, SMALL
    from skrank import RankingClassifier
    X, y = mixed_frame()
    fitted = RankingClassifier(**SMALL, random_state=7).fit(X, y).predict_proba(X)
    with open({path!r}, "rb") as f:
        loaded = pickle.load(f).predict_proba(X)
    np.save(sys.stdout.buffer, np.stack([fitted, loaded]))
    """
)


def _in_fresh_process(path):
    """Fit with random_state=7 and load the pickle at ``path`` in a new Python process."""
    import io
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    code = FRESH_PROCESS.format(root=root, path=str(path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, timeout=300)
    return np.load(io.BytesIO(out.stdout))


def test_same_seed_and_pickle_identical_in_a_fresh_process(mixed, tmp_path):
    X, y = mixed
    here = RankingClassifier(**SMALL, random_state=7).fit(X, y).predict_proba(X)
    clf = RankingClassifier(**SMALL, random_state=0).fit(X, y)
    expected = clf.predict_proba(X)
    path = tmp_path / "clf.pkl"
    path.write_bytes(pickle.dumps(clf))
    there, loaded = _in_fresh_process(path)
    np.testing.assert_array_equal(there, here)  # same random_state, other process
    np.testing.assert_array_equal(loaded, expected)  # pickle round trip
    joblib.dump(clf, tmp_path / "clf.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "clf.joblib").predict_proba(X), expected)


def test_verbose_0_prints_nothing_and_verbose_1_shows_progress(mixed, capfd):
    X, y = mixed
    RankingClassifier(**SMALL, random_state=0).fit(X, y).predict_proba(X)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    RankingClassifier(**{**SMALL, "epochs": 2}, verbose=1, random_state=0).fit(X, y)
    out, err = capfd.readouterr()
    assert "Epoch 1/2" in out and "loss" in out


def test_import_prints_nothing():
    out = subprocess.run(
        [sys.executable, "-c", "import skrank; skrank.RankingClassifier; import skrank.models"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout == "" and out.stderr == ""


def test_routed_parameters_reach_keras(mixed):
    X, y = mixed
    clf = RankingClassifier(**SMALL, optimizer__beta_1=0.5, random_state=0).fit(X, y)
    assert float(clf.model_.optimizer.beta_1) == 0.5
    clf.set_params(optimizer__beta_1=0.6)
    assert clf.get_params()["optimizer__beta_1"] == 0.6
    with pytest.raises(TypeError, match="optimizer__"):
        RankingClassifier(**SMALL, optimiser__beta_1=0.5).fit(X, y)


def test_separate_embedding_optimizer(mixed):
    X, y = mixed
    clf = RankingClassifier(
        **SMALL, embedding_optimizer="adagrad", embedding_learning_rate=0.05, random_state=0
    ).fit(X, y)
    assert roc_auc_score(y, clf.predict_proba(X)[:, 1]) > 0.7
    frozen = RankingClassifier(**SMALL, embedding_learning_rate=0.0, random_state=0)
    frozen.fit(X, y)
    initial = RankingClassifier(
        **{**SMALL, "epochs": 1}, embedding_learning_rate=0.0, random_state=0
    )
    initial.fit(X, y)
    for a, b in zip(
        frozen.model_.embedding_trainable_variables,
        initial.model_.embedding_trainable_variables,
        strict=True,
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_early_stopping_restores_best_weights(mixed):
    X, y = mixed
    clf = RankingClassifier(
        **{**SMALL, "epochs": 40},
        early_stopping=True,
        n_iter_no_change=2,
        learning_rate=0.02,
        random_state=0,
    ).fit(X, y)
    val = clf.history_["val_loss"]
    assert clf.n_iter_ < 40
    best = int(np.argmin(val))
    assert clf.n_iter_ == best + 1 + 2


def test_global_tensorflow_seed_does_not_change_the_fit(mixed):
    import tensorflow as tf

    X, y = mixed
    before = RankingClassifier(**SMALL, random_state=7).fit(X, y).predict_proba(X)
    tf.random.set_seed(2024)
    after = RankingClassifier(**SMALL, random_state=7).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(before, after)


def test_a_rows_prediction_does_not_depend_on_the_rows_scored_with_it(mixed):
    # Calls are cut into fixed blocks (4096 rows, the remainder in 16 / 256 / 1024-row
    # blocks): whatever the call's size, each row gets the same bits.
    X, y = mixed
    clf = RankingClassifier(**dict(SMALL, epochs=1), random_state=0).fit(X, y)
    big = pd.concat([X] * 13, ignore_index=True)  # 5200 rows: one full block + 1104
    full = clf.predict_proba(big)
    for start, stop in [(0, 1), (7, 20), (100, 300), (0, 400), (1000, 3100), (4000, 5200)]:
        np.testing.assert_array_equal(clf.predict_proba(big.iloc[start:stop]), full[start:stop])
    np.testing.assert_array_equal(full[:400], full[400:800])
