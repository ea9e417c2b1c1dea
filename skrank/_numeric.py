"""Numeric helpers shared by the preprocessing and the estimators (numpy only)."""

from __future__ import annotations

import math

import numpy as np


class RunningMoments:
    """Count, mean and sum of squared deviations, merged batch by batch.

    Batches are merged with the pairwise formulas of Chan, Golub and LeVeque, so
    the result equals a one-pass computation on the concatenated values up to
    float rounding.

    Attributes
    ----------
    n : int
        Number of values added.
    mean : float
        Their mean (0.0 while ``n == 0``).
    m2 : float
        Sum of their squared deviations from ``mean``.
    """

    def __init__(self) -> None:
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, n: int, mean: float, m2: float) -> None:
        """Merge a group of ``n`` values with this ``mean`` and this ``m2``."""
        if n == 0:
            return
        total = self.n + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.n * n / total
        self.n = total

    def add_values(self, values: np.ndarray) -> None:
        """Merge the values of a 1-D float array."""
        if values.size:
            mean = float(values.mean())
            self.add(values.size, mean, float(np.square(values - mean).sum()))

    @property
    def std(self) -> float:
        """Population standard deviation, ``sqrt(m2 / n)``; 0.0 while ``n == 0``."""
        return math.sqrt(max(self.m2, 0.0) / self.n) if self.n else 0.0


def robust_mean_std(values: np.ndarray) -> tuple[float, float]:
    """Mean and std that neither overflow on huge values nor underflow on tiny ones."""
    if values.size == 0:
        return 0.0, 0.0
    largest = float(np.max(np.abs(values)))
    if largest == 0.0:
        return 0.0, 0.0
    if 1e-100 < largest < 1e100:
        return float(values.mean()), float(values.std())
    unit = values / largest
    return float(unit.mean()) * largest, float(unit.std()) * largest
