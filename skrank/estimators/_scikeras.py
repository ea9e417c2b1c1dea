"""The parts of scikeras we build on, imported without its side effects.

We reuse scikeras's machinery: prefixed parameter routing (``model__``,
``optimizer__``, ``fit__``, ``callbacks__``), the unflattening of routed
parameters into optimizer / callback instances, and its callbacks set-up.
We do not inherit from ``scikeras.wrappers.BaseWrapper`` itself: it defines
the legacy ``_more_tags`` without ``__sklearn_tags__``, which scikit-learn >= 1.6
rejects for any class in an estimator's MRO (``check_estimator_tags_renamed``),
and ``KerasClassifier`` puts the base class before the mixin, so
``is_classifier`` is False on scikit-learn 1.9.

scikeras 0.13 also replaces ``keras.Model.__reduce__`` / ``__deepcopy__`` and the
``__reduce__`` of every loss, metric and optimizer class at import time. That
changes how *every* Keras object in the user's process pickles, not just ours.
We take scikeras's estimator machinery (``BaseWrapper``: prefixed parameter
routing, callbacks initialisation) and put Keras back the way it was; our
estimators pickle their model themselves (see ``_RankingBase.__getstate__``).
"""

from skrank._tf import import_tensorflow

import_tensorflow()

import keras  # noqa: E402

_PATCHED = [
    (keras.Model, "__reduce__"),
    (keras.Model, "__deepcopy__"),
    (keras.losses.Loss, "__reduce__"),
    (keras.metrics.Metric, "__reduce__"),
    (keras.optimizers.Optimizer, "__reduce__"),
]
_MISSING = object()
_saved = [(cls, name, cls.__dict__.get(name, _MISSING)) for cls, name in _PATCHED]

from scikeras._utils import (  # noqa: E402
    get_optimizer_class,
    route_params,
    try_to_convert_strings_to_classes,
    unflatten_params,
)
from scikeras.wrappers import BaseWrapper  # noqa: E402

for _cls, _name, _original in _saved:
    if _original is _MISSING:
        if _name in _cls.__dict__:
            delattr(_cls, _name)
    else:
        setattr(_cls, _name, _original)

__all__ = [
    "BaseWrapper",
    "get_optimizer_class",
    "route_params",
    "try_to_convert_strings_to_classes",
    "unflatten_params",
]
