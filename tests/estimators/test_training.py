"""The "auto" training schedule: batch size and epochs from the number of rows."""

import pytest

from skrank.estimators._training import auto_batch_size, resolve_schedule


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
