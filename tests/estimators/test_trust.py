"""Persistence, determinism, isolation, divergence and interruption of the estimators."""

import io
import pickle
import random
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import joblib
import keras
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import skrank.estimators._persistence as base
from skrank import RankingClassifier, RankingRegressor
from skrank._tf import import_tensorflow
from skrank.estimators._training import fit_seed, validation_split
from tests.estimators.conftest import mixed_frame

tf = import_tensorflow()

TINY = dict(
    embedding_dim=4, bottom_stack=(8,), top_stack=(8,), ensemble_size=1, epochs=3, random_state=7
)
ROOT = str(Path(__file__).resolve().parents[2])


def rating_frame(n=200):
    X, y = mixed_frame(n=n, seed=3)
    return X, 1.0 + 3.0 * y + np.nan_to_num(X["price"].to_numpy()) / 50


FRESH_PROCESS = textwrap.dedent(
    """
    import pickle, sys, numpy as np
    sys.path.insert(0, {root!r})
    from tests.estimators.test_trust import TINY, rating_frame
    from skrank import RankingRegressor
    X, y = rating_frame()
    fitted = RankingRegressor(**TINY).fit(X, y).predict(X)
    with open({path!r}, "rb") as f:
        loaded = pickle.load(f).predict(X)
    np.save(sys.stdout.buffer, np.stack([fitted, loaded]))
    """
)


def _fresh_processes(pickle_path, n):
    """Run FRESH_PROCESS in ``n`` new Python processes at once."""
    code = FRESH_PROCESS.format(root=ROOT, path=str(pickle_path))
    command = [sys.executable, "-c", code]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(n)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err.decode()[-3000:]
    return [np.load(io.BytesIO(out)) for out, _ in outputs]


def test_regressor_seed_and_pickle_identical_in_fresh_processes(tmp_path):
    X, y = rating_frame()
    reg = RankingRegressor(**TINY).fit(X, y)
    expected = reg.predict(X)
    path = tmp_path / "reg.pkl"
    path.write_bytes(pickle.dumps(reg))
    for fitted, loaded in _fresh_processes(path, 2):
        np.testing.assert_array_equal(fitted, expected)  # same random_state, other process
        np.testing.assert_array_equal(loaded, expected)  # pickle round trip
    joblib.dump(reg, tmp_path / "reg.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "reg.joblib").predict(X), expected)


def test_pickle_written_by_another_format_names_its_version(monkeypatch):
    X, y = rating_frame(60)
    reg = RankingRegressor(**{**TINY, "epochs": 1}).fit(X, y)
    monkeypatch.setattr(base, "_PICKLE_FORMAT", 0)
    monkeypatch.setattr(base, "__version__", "0.0.7")
    old = pickle.dumps(reg)
    monkeypatch.undo()
    with pytest.raises(ValueError, match=r"pickled by skrank 0\.0\.7.*Load it with skrank 0\.0\.7"):
        pickle.loads(old)
    # A pickle from before the format marker existed.
    state = reg.__getstate__()
    del state["_skrank_pickle"]
    with pytest.raises(ValueError, match=r"unknown \(before 0\.1\.0\)"):
        RankingRegressor.__new__(RankingRegressor).__setstate__(state)
    # The current format loads.
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(reg)).predict(X), reg.predict(X))


def _global_states():
    from tensorflow.python.framework import config as tf_config

    tf_probe = tf.random.uniform((3,)).numpy()
    return (
        np.random.get_state()[1].copy(),
        random.getstate(),
        tf_probe,
        tf_config.is_op_determinism_enabled(),
    )


@pytest.mark.parametrize("Estimator", [RankingClassifier, RankingRegressor])
def test_fit_and_predict_leave_global_random_states_alone(Estimator):
    X, y = mixed_frame(n=120, seed=4)

    def reset():
        np.random.seed(123)
        random.seed(123)
        tf.random.set_seed(123)

    reset()
    before = _global_states()
    reset()
    est = Estimator(**TINY).fit(X, y)
    after_fit = _global_states()
    reset()
    est.predict(X)
    after_predict = _global_states()
    for after in (after_fit, after_predict):
        np.testing.assert_array_equal(after[0], before[0])
        assert after[1] == before[1]
        np.testing.assert_array_equal(after[2], before[2])
        assert after[3] == before[3]


def _run_in_threads(functions):
    results = [None] * len(functions)
    errors = []

    def target(i):
        try:
            results[i] = functions[i]()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(len(functions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not errors, errors
    return results


def test_concurrent_fits_and_predictions_match_sequential_runs():
    X, y = mixed_frame(n=150, seed=5)
    X_reg, y_reg = rating_frame(150)
    jobs = [
        lambda: RankingClassifier(**TINY).fit(X, y).predict_proba(X),
        lambda: RankingRegressor(**{**TINY, "interaction": "cross"}).fit(X_reg, y_reg),
    ]
    sequential = [job() for job in jobs]
    concurrent = _run_in_threads(jobs)
    np.testing.assert_array_equal(concurrent[0], sequential[0])
    reg = concurrent[1]
    np.testing.assert_array_equal(reg.predict(X_reg), sequential[1].predict(X_reg))

    # Several threads predicting with one fitted estimator, on different rows.
    blocks = [X_reg.iloc[i::4] for i in range(4)]
    expected = [reg.predict(block) for block in blocks]
    fresh = pickle.loads(pickle.dumps(reg))  # its forward pass is traced by the threads
    got = _run_in_threads([lambda b=block: fresh.predict(b) for block in blocks * 2])
    for i, prediction in enumerate(got):
        np.testing.assert_array_equal(prediction, expected[i % 4])


def test_divergence_raises_and_keeps_the_previous_fit():
    X, y = rating_frame(120)
    diverging = dict(TINY, optimizer="sgd", learning_rate=1e6)
    reg = RankingRegressor(**diverging)
    with pytest.raises(FloatingPointError, match=r"diverged.*Lower learning_rate \(got 1000000"):
        reg.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(reg)

    reg = RankingRegressor(**TINY).fit(X, y)
    before = reg.predict(X)
    reg.set_params(**diverging)
    with pytest.raises(FloatingPointError):
        reg.fit(X, y)
    np.testing.assert_array_equal(reg.predict(X), before)
    assert np.all(np.isfinite(before))


class _InterruptAfter(keras.callbacks.Callback):
    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def on_train_batch_end(self, batch, logs=None):
        self.batches -= 1
        if self.batches <= 0:
            raise KeyboardInterrupt


def test_keyboard_interrupt_leaves_the_estimator_as_it_was():
    X, y = mixed_frame(n=200, seed=6)
    clf = RankingClassifier(**TINY, callbacks=[_InterruptAfter(2)])
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    assert not [k for k in vars(clf) if k.endswith("_")]

    clf = RankingClassifier(**TINY).fit(X, y)
    before, model = clf.predict_proba(X), clf.model_
    clf.set_params(callbacks=[_InterruptAfter(3)], epochs=5)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert clf.model_ is model and clf.n_iter_ == TINY["epochs"]
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_early_stopping_restores_the_best_weights():
    X, y = mixed_frame(n=400, seed=0)
    clf = RankingClassifier(
        **{**TINY, "epochs": 40, "random_state": 0},
        early_stopping=True,
        n_iter_no_change=2,
        learning_rate=0.05,
        shuffle=False,
    ).fit(X, y)
    val = clf.history_["val_loss"]
    assert clf.n_iter_ < 40  # stopped early ...
    assert val[-1] > min(val)  # ... after epochs worse than the best
    assert clf.best_validation_loss_ == min(val)

    # The returned model is the best epoch's: its loss on the validation rows is the best.
    seed = fit_seed(clf)
    _, val_idx = validation_split(clf, len(y), y.astype(np.float32), seed)
    p = np.clip(clf.predict_proba(X.iloc[val_idx])[:, 1], 1e-7, 1 - 1e-7)
    y_val = y[val_idx]
    loss = -np.mean(y_val * np.log(p) + (1 - y_val) * np.log(1 - p))
    np.testing.assert_allclose(loss, clf.best_validation_loss_, rtol=1e-4)
    assert not np.isclose(loss, val[-1], rtol=1e-4)
