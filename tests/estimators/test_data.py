"""The compiled forward pass: a row's prediction does not depend on the rows it comes with."""

import numpy as np
import pytest

from skrank import RankingClassifier, RankingRegressor
from skrank.estimators import _data
from tests.estimators.conftest import SMALL, mixed_frame


@pytest.fixture(scope="module")
def many_rows():
    """A tiny fitted classifier and more rows than one large block holds."""
    X, y = mixed_frame(600)
    clf = RankingClassifier(**{**SMALL, "epochs": 2}, random_state=0).fit(X, y)
    rows = np.random.default_rng(0).integers(0, len(X), _data.LARGE_BLOCK + 5_000)
    return clf, X.iloc[rows].reset_index(drop=True)


def test_large_inputs_give_the_bits_of_small_calls(many_rows):
    clf, X = many_rows
    whole = clf.predict_proba(X)
    # The large block was checked against PREDICT_BLOCK blocks (either outcome is
    # fine: it is used only when the bits agree).
    assert _data.LARGE_BLOCK in clf._forward._same_bits
    pieces = np.concatenate(
        [clf.predict_proba(X.iloc[i : i + 1_000]) for i in range(0, len(X), 1_000)]
    )
    np.testing.assert_array_equal(whole, pieces)
    for i in (0, _data.LARGE_BLOCK - 1, _data.LARGE_BLOCK, len(X) - 1):
        np.testing.assert_array_equal(whole[i : i + 1], clf.predict_proba(X.iloc[i : i + 1]))


def test_large_blocks_are_skipped_when_their_bits_differ(many_rows, monkeypatch):
    clf, X = many_rows
    expected = clf.predict_proba(X)
    calls = []
    real_run = _data._run

    def run(fn, dense, categorical):
        calls.append(len(dense))
        return real_run(fn, dense, categorical)

    monkeypatch.setattr(_data, "_run", run)
    monkeypatch.setitem(clf._forward._same_bits, _data.LARGE_BLOCK, False)
    np.testing.assert_array_equal(clf.predict_proba(X), expected)
    assert max(calls) == _data.PREDICT_BLOCK
    calls.clear()
    monkeypatch.setitem(clf._forward._same_bits, _data.LARGE_BLOCK, True)
    np.testing.assert_array_equal(clf.predict_proba(X), expected)
    assert calls.count(_data.LARGE_BLOCK) == len(X) // _data.LARGE_BLOCK


def test_the_large_block_is_checked_by_the_first_large_call_not_by_fit():
    # In fit, the large block's activations would raise the peak memory.
    X, y = mixed_frame(_data.LARGE_BLOCK + 100)
    reg = RankingRegressor(
        **{**SMALL, "epochs": 1, "batch_size": 512, "ensemble_size": 1}, random_state=0
    )
    reg.fit(X, y.astype(float))
    assert _data.LARGE_BLOCK not in reg._forward._same_bits
    assert set(_data.SMALL_BLOCKS) <= set(reg._forward._same_bits)
    reg.predict(X)
    assert _data.LARGE_BLOCK in reg._forward._same_bits
