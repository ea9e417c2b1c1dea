"""Pickling of fitted estimators: the Keras model travels as its config and weights.

The estimators pickle their model themselves rather than relying on a process-wide
patch of ``keras.Model.__reduce__`` (what scikeras does at import): architecture
and weights, without the optimizer, are enough to predict bit for bit.
"""

import numpy as np

from skrank._tf import import_tensorflow

import_tensorflow()

import keras  # noqa: E402

from skrank._version import __version__  # noqa: E402
from skrank.estimators._data import CompiledForward, model_inputs  # noqa: E402

# Pickles written by this version of skrank carry this number; bump it when the
# pickled state changes shape so that old pickles fail with a message that says
# which version wrote them.
_PICKLE_FORMAT = 2  # 2: embedding tables stacked in one variable per width


class PicklingMixin:
    """``__getstate__`` / ``__setstate__`` of the skrank estimators."""

    def __getstate__(self):
        state = dict(vars(self))
        state.pop("_forward", None)
        # A strategy is bound to this process and its cluster; it does not pickle.
        state["distribution"] = None
        model = state.pop("model_", None)
        if model is not None:
            state["_model_state"] = _pack_model(model)
        state["_skrank_pickle"] = {"format": _PICKLE_FORMAT, "version": __version__}
        return state

    def __setstate__(self, state):
        state = dict(state)
        origin = state.pop("_skrank_pickle", None)
        if origin is None or origin.get("format") != _PICKLE_FORMAT:
            written_by = (origin or {}).get("version", "unknown (before 0.1.0)")
            raise ValueError(
                f"This {type(self).__name__} was pickled by skrank {written_by}, whose format "
                f"this skrank {__version__} cannot read. Load it with skrank {written_by} "
                "and refit, or export it with export()."
            )
        packed = state.pop("_model_state", None)
        vars(self).update(state)
        if packed is not None:
            n_dense = self.preprocessor_.n_dense_out_
            names = self.preprocessor_.categorical_features_
            self.model_ = _unpack_model(packed, n_dense, names)
            self._forward = CompiledForward(self.model_, n_dense, names)


def _pack_model(model):
    """Architecture and weights, without the optimizer: enough to predict bit for bit."""
    return {
        "config": keras.saving.serialize_keras_object(model),
        "weights": [np.array(w) for w in model.get_weights()],
    }


def _unpack_model(packed, n_dense, categorical_names):
    model = keras.saving.deserialize_keras_object(packed["config"])
    dense = np.zeros((1, n_dense), dtype=np.float32)
    categorical = np.zeros((1, len(categorical_names)), dtype=np.int32)
    model(model_inputs(dense, categorical, categorical_names), training=False)
    model.set_weights(packed["weights"])
    return model
