"""Keras ranking models."""

from skrank._tf import import_tensorflow

import_tensorflow()

from skrank.models._ensemble import Ensemble  # noqa: E402
from skrank.models._ranking import Ranking  # noqa: E402

__all__ = ["Ensemble", "Ranking"]
