"""Preprocessing of tables for ranking models (numpy, pandas and scikit-learn only)."""

from skrank.preprocessing._preprocessor import RankingPreprocessor

__all__ = ["RankingPreprocessor"]
