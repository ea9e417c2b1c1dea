"""Keras layers of skrank ranking models.

:class:`DotInteraction` and :class:`FeatureCross` are the keras-rs layers,
re-exported unchanged.
"""

from skrank._tf import import_tensorflow

import_tensorflow()

import keras_rs  # noqa: E402

from skrank.layers._cross import CrossNetwork  # noqa: E402
from skrank.layers._embedding import EmbeddingCollection  # noqa: E402
from skrank.layers._mlp import MLP  # noqa: E402
from skrank.layers._numeric import PeriodicEmbedding, PiecewiseLinearEmbedding  # noqa: E402
from skrank.layers._whitening import LowVarianceDirections  # noqa: E402

DotInteraction = keras_rs.layers.DotInteraction
FeatureCross = keras_rs.layers.FeatureCross

__all__ = [
    "MLP",
    "CrossNetwork",
    "DotInteraction",
    "EmbeddingCollection",
    "FeatureCross",
    "LowVarianceDirections",
    "PeriodicEmbedding",
    "PiecewiseLinearEmbedding",
]
