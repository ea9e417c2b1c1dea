"""Optimizers for ranking models."""

from skrank._tf import import_tensorflow

import_tensorflow()

from skrank.optimizers._composite import CompositeOptimizer  # noqa: E402

__all__ = ["CompositeOptimizer"]
