"""scikit-learn estimators around the Keras ranking model."""

from skrank.estimators._classifier import RankingClassifier
from skrank.estimators._regressor import RankingRegressor

__all__ = ["RankingClassifier", "RankingRegressor"]
