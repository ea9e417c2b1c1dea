"""The "auto" training schedule: batch size and epochs from the number of rows."""

import pytest

from skrank.estimators._training import auto_batch_size, member_seed, resolve_schedule
from skrank.estimators._training import ensemble_size as resolved_ensemble_size


@pytest.mark.parametrize(
    ("n_train", "expected"),
    [
        (100, 16),  # floor
        (1_554, 64),  # tiny: about 24 steps per epoch
        (6_144, 256),
        (50_000, 256),
        (50_001, 512),
        (200_000, 512),
        (200_001, 1024),
        (5_000_000, 1024),
    ],
)
def test_auto_batch_size_tiers(n_train, expected):
    assert auto_batch_size(n_train) == expected


class _Params:
    def __init__(self, batch_size="auto", epochs="auto"):
        self.batch_size, self.epochs = batch_size, epochs


def test_auto_epochs_with_and_without_early_stopping():
    # With early stopping: the cap; without: about 250 steps, at least 2.
    assert resolve_schedule(_Params(), 10_000, early_stopping=True) == (256, 100)
    assert resolve_schedule(_Params(), 10_000) == (256, 7)
    assert resolve_schedule(_Params(), 1_000_000) == (1024, 2)
    assert resolve_schedule(_Params(batch_size=32, epochs=3), 10_000) == (32, 3)


class _Ensemble:
    def __init__(self, ensemble_size="auto"):
        self.ensemble_size = ensemble_size


@pytest.mark.parametrize(
    ("ensemble_size", "n_train", "expected"),
    [
        ("auto", 10, 5),
        ("auto", 300, 5),
        ("auto", 30_000, 5),
        ("auto", 30_001, 1),
        ("auto", None, 1),  # partial_fit: the table's size is not known
        (3, 1_000_000, 3),
        (1, 100, 1),
    ],
)
def test_ensemble_size_rule(ensemble_size, n_train, expected):
    assert resolved_ensemble_size(_Ensemble(ensemble_size), n_train) == expected


def test_member_seeds_differ_and_member_zero_keeps_the_fit_seed():
    seeds = [member_seed(2**31 - 2, i) for i in range(5)]
    assert seeds[0] == 2**31 - 2
    assert len(set(seeds)) == 5
    assert all(0 <= s < 2**31 - 1 for s in seeds)
