"""scikit-learn estimators around the Keras ranking model."""

# TensorFlow first, quietly: the submodules import keras at their top.
from skrank._tf import import_tensorflow

import_tensorflow()

from skrank.estimators._classifier import RankingClassifier  # noqa: E402
from skrank.estimators._ranker import Ranker  # noqa: E402
from skrank.estimators._regressor import RankingRegressor  # noqa: E402

__all__ = ["Ranker", "RankingClassifier", "RankingRegressor"]
