"""Ranking metrics on flat rows with query ids (numpy and scikit-learn only)."""

from skrank.metrics._ranking import make_ndcg_scorer, ndcg_score

__all__ = ["make_ndcg_scorer", "ndcg_score"]
