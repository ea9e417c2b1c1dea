"""Tasks: the loss and metrics a ranking model is trained for."""

from skrank._tf import import_tensorflow

import_tensorflow()

from skrank.tasks._listwise import (  # noqa: E402
    LambdaRankLoss,
    ListwiseLoss,
    PointwiseMeanSquaredError,
    SoftmaxLoss,
)
from skrank.tasks._ranking import Ranking  # noqa: E402

__all__ = ["LambdaRankLoss", "ListwiseLoss", "PointwiseMeanSquaredError", "Ranking", "SoftmaxLoss"]
