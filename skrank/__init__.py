"""skrank: deep ranking models (DLRM, DCN-v2) as scikit-learn estimators on Keras 3.

Importing :mod:`skrank` is cheap and quiet: TensorFlow is imported (silently) only
when a Keras-backed object is first used.
"""

from skrank._version import __version__

__all__ = [
    "Ranker",
    "RankingClassifier",
    "RankingPreprocessor",
    "RankingRegressor",
    "__version__",
]

_LAZY = {
    "Ranker": "skrank.estimators",
    "RankingClassifier": "skrank.estimators",
    "RankingRegressor": "skrank.estimators",
    "RankingPreprocessor": "skrank.preprocessing",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "metrics":  # the subpackage, imported lazily (numpy and scikit-learn only)
        import importlib

        return importlib.import_module("skrank.metrics")
    raise AttributeError(f"module 'skrank' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
