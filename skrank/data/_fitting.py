"""Removed once the estimators switch to ``RankingPreprocessor.partial_fit``.

Kept only so that ``skrank.estimators`` keeps importing while it moves: fit a
preprocessor from record batches with
``for X, _ in source.iter_batches(with_target=False): prep.partial_fit(X)``.
"""

from __future__ import annotations

from skrank._numeric import RunningMoments
from skrank.preprocessing import RankingPreprocessor

_Moments = RunningMoments  # removed once estimators switch to skrank._numeric


class PreprocessorFitter:
    """``partial_fit`` of each batch; removed once estimators switch to partial_fit."""

    def __init__(self, preprocessor: RankingPreprocessor) -> None:
        self.preprocessor = preprocessor
        self.n_samples = 0

    def update(self, X) -> None:
        self.preprocessor.partial_fit(X)
        self.n_samples = self.preprocessor.n_samples_seen_

    def finalize(self) -> RankingPreprocessor:
        if not self.n_samples:
            raise ValueError("No rows were read: the source is empty.")
        return self.preprocessor
