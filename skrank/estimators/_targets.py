"""One object per kind of target: what the estimators learn from ``y`` and feed the model.

A target object knows how to

- learn its fitted attributes from ``y`` in memory (:meth:`fit`), or over a stream
  of chunks (:meth:`update` per chunk, then :meth:`finalize`), or from the
  ``classes`` of a first ``partial_fit`` call (:meth:`start_partial`);
- come back from a fitted estimator's attributes (:meth:`restore`);
- validate and :meth:`encode` ``y`` for the model;
- give per-class weights (:meth:`class_weights`), the validation split's
  stratification (:meth:`stratify`) and the model's output (:meth:`output_spec`:
  number of outputs, final activation, loss).

The estimators never branch on the kind of target: a new kind (graded relevance
with query ids, say) is one new class here.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_y, column_or_1d

from skrank._numeric import RunningMoments, robust_mean_std
from skrank.metrics._ranking import check_relevance
from skrank.tasks._listwise import listwise_loss


class Target:
    """Base class of the target kinds; ``attributes`` names the fitted attributes."""

    attributes: tuple[str, ...] = ()

    def __init__(self, estimator):
        self.estimator = estimator
        self.state: dict = {}

    def fit(self, y) -> np.ndarray:
        """Learn the fitted attributes from all of ``y``; return ``y`` encoded."""
        self.update(y)
        self.finalize()
        return self.encode(y)

    def update(self, y) -> None:  # pragma: no cover - abstract
        """Take one chunk of ``y`` into account (validating it)."""
        raise NotImplementedError

    def finalize(self) -> dict:  # pragma: no cover - abstract
        """The fitted attributes learned from the chunks seen by :meth:`update`."""
        raise NotImplementedError

    def start_partial(self, y, classes) -> np.ndarray:
        """Fitted attributes of a first ``partial_fit`` call; return ``y`` encoded."""
        return self.fit(y)

    def restore(self) -> Target:
        """Take the fitted attributes back from the (fitted) estimator."""
        self.state = {name: getattr(self.estimator, name) for name in self.attributes}
        return self

    def encode(self, y) -> np.ndarray:  # pragma: no cover - abstract
        """``y`` validated and encoded as the model's training target."""
        raise NotImplementedError

    def class_weights(self) -> np.ndarray | None:
        """Weight of each encoded target value, or None (all rows weigh the same)."""
        return None

    def stratify(self, y_encoded):
        """What the validation split stratifies on (None: a plain random split)."""
        return None

    def output_spec(self) -> tuple[int, str | None, keras.losses.Loss]:  # pragma: no cover
        """``(n_outputs, final_activation, loss)`` of the model."""
        raise NotImplementedError

    # Name of the exported model's output (see serving_outputs).
    serving_output = "scores"

    def serving_outputs(self, raw) -> dict:
        """The exported model's outputs from its raw float64 outputs (a tensor)."""
        return {self.serving_output: keras.ops.reshape(raw, (-1,))}


def _one_dimensional(y, estimator):
    y = np.asarray(y) if not hasattr(y, "dtype") else y
    if getattr(y, "ndim", 1) == 2 and y.shape[1] == 1:
        return column_or_1d(y, warn=True)
    if getattr(y, "ndim", 1) != 1:
        raise ValueError(
            f"y must be 1-D (one label per row); got shape {np.shape(y)}. "
            f"{type(estimator).__name__} does not support multi-output targets."
        )
    return np.asarray(y)


class ClassTarget(Target):
    """Class labels: ``classes_``, a sigmoid (2 classes) or softmax output."""

    attributes = ("classes_",)

    def __init__(self, estimator):
        super().__init__(estimator)
        self.classes = None
        self.counts = None

    def _check(self, y):
        y = _one_dimensional(y, self.estimator)
        if y.dtype.kind == "O" and any(v is None for v in y):
            raise ValueError(
                "y contains None. Drop the rows without a label or fill them in before fitting."
            )
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise ValueError(
                "y contains NaN or infinite labels. Drop the rows without a label or fill "
                "them in before fitting."
            )
        check_classification_targets(y)
        return y

    def fit(self, y):
        # One np.unique gives the classes, their counts and the codes.
        y = self._check(y)
        classes, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
        self.classes, self.counts = classes, counts
        self.finalize()
        return self._as_model_target(codes)

    def update(self, y):
        classes, counts = np.unique(self._check(y), return_counts=True)
        if self.classes is None:
            self.classes, self.counts = classes, counts
            return
        merged = np.union1d(self.classes, classes)
        total = np.zeros(len(merged), np.int64)
        total[np.searchsorted(merged, self.classes)] += self.counts
        total[np.searchsorted(merged, classes)] += counts
        self.classes, self.counts = merged, total

    def finalize(self):
        if len(self.classes) < 2:
            raise ValueError(
                f"{type(self.estimator).__name__} needs samples of at least 2 classes in y; "
                f"got 1 class ({self.classes[0]!r}). A single-class target has nothing to learn."
            )
        self.state = {"classes_": self.classes}
        return self.state

    def start_partial(self, y, classes):
        if classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: the labels "
                "of every class, including those absent from this chunk."
            )
        self.classes, self.counts = None, None
        self.update(np.unique(np.asarray(classes)))
        self.counts = None  # the classes' frequencies are unknown: no "balanced" weights
        self.finalize()
        return self.encode(y)

    def check_classes(self, classes):
        """``classes`` given to a later ``partial_fit`` call must be the fitted ones."""
        if classes is not None and not np.array_equal(np.unique(classes), self.state["classes_"]):
            raise ValueError(
                f"classes={np.unique(classes).tolist()} differs from the classes of the "
                f"first partial_fit call, {self.state['classes_'].tolist()}."
            )

    def _as_model_target(self, codes):
        dtype = np.float32 if len(self.state["classes_"]) == 2 else np.int32
        return codes.astype(dtype)

    def encode(self, y):
        classes = self.state["classes_"]
        y = self._check(y)
        codes = np.minimum(np.searchsorted(classes, y), len(classes) - 1)
        unknown = classes[codes] != y
        if unknown.any():
            raise ValueError(
                f"y holds labels {np.unique(y[unknown])[:5].tolist()} that are not in "
                f"classes {classes.tolist()}."
            )
        return self._as_model_target(codes)

    def class_weights(self):
        class_weight = getattr(self.estimator, "class_weight", None)
        if class_weight is None:
            return None
        classes = self.state["classes_"]
        if class_weight == "balanced":
            if self.counts is None:
                raise ValueError(
                    "class_weight='balanced' needs the class frequencies of the whole "
                    "training set, which partial_fit does not see. Pass a dict of weights."
                )
            # As sklearn's compute_class_weight("balanced"), from the counts.
            return self.counts.sum() / (len(classes) * self.counts.astype(np.float64))
        return compute_class_weight(class_weight, classes=classes, y=classes)

    def stratify(self, y_encoded):
        return y_encoded

    def output_spec(self):
        n_classes = len(self.state["classes_"])
        if n_classes == 2:
            return 1, "sigmoid", keras.losses.BinaryCrossentropy()
        return n_classes, "softmax", keras.losses.SparseCategoricalCrossentropy()

    serving_output = "probabilities"

    def serving_outputs(self, raw):
        ops = keras.ops
        if len(self.state["classes_"]) == 2:
            p = ops.clip(ops.reshape(raw, (-1,)), 0.0, 1.0)
            return {self.serving_output: ops.stack([1.0 - p, p], axis=1)}
        return {self.serving_output: raw / ops.sum(raw, axis=1, keepdims=True)}


class ValueTarget(Target):
    """A continuous target, standardized for training: ``target_mean_``, ``target_scale_``."""

    attributes = ("target_mean_", "target_scale_")

    def __init__(self, estimator):
        super().__init__(estimator)
        self.moments = RunningMoments()

    def _check(self, y):
        y = _check_y(y, y_numeric=True, estimator=self.estimator)
        if y.ndim != 1:
            raise ValueError(
                f"y must be 1-D (one value per row); got shape {y.shape}. "
                f"{type(self.estimator).__name__} does not support multi-output targets."
            )
        y = y.astype(np.float64)
        if not np.isfinite(y).all():  # None in an object y becomes NaN only here
            raise ValueError(
                f"y contains {np.count_nonzero(~np.isfinite(y))} missing (None / NaN) or "
                "infinite values. Drop those rows or fill in their targets before fitting."
            )
        return y

    def fit(self, y):
        # All values at hand: a two-pass mean and std that cannot overflow.
        y = self._check(y)
        mean, scale = robust_mean_std(y)
        self._set(mean, scale)
        return self._standardized(y)

    def update(self, y):
        self.moments.add_values(self._check(y))

    def finalize(self):
        return self._set(float(self.moments.mean), self.moments.std)

    def _set(self, mean, scale):
        if not math.isfinite(scale) or scale == 0.0:
            scale = 1.0
        self.state = {"target_mean_": mean, "target_scale_": scale}
        return self.state

    def _standardized(self, y):
        return ((y - self.state["target_mean_"]) / self.state["target_scale_"]).astype(np.float32)

    def encode(self, y):
        return self._standardized(self._check(y))

    def output_spec(self):
        return 1, None, keras.losses.MeanSquaredError()

    serving_output = "predictions"

    def serving_outputs(self, raw):
        scale, mean = self.state["target_scale_"], self.state["target_mean_"]
        return {self.serving_output: keras.ops.reshape(raw, (-1,)) * scale + mean}


class RelevanceTarget(Target):
    """Graded relevance within queries (:class:`skrank.Ranker`): numbers >= 0, a listwise loss.

    The query ids travel beside ``y``, in the list training path; the model sees
    flat rows, ``list_size`` of them per list, and the loss folds them back into
    lists. ``list_size`` is set by that path before the model is built.
    """

    attributes = ()

    def __init__(self, estimator):
        super().__init__(estimator)
        self.list_size = None

    def _check(self, y):
        return check_relevance(_one_dimensional(y, self.estimator), name="y")

    def update(self, y):
        self._check(y)

    def finalize(self):
        self.state = {}
        return self.state

    def encode(self, y):
        return self._check(y).astype(np.float32)

    def output_spec(self):
        if self.list_size is None:  # pragma: no cover - a bug of the caller
            raise RuntimeError("RelevanceTarget.list_size must be set before the model is built.")
        return 1, None, listwise_loss(self.estimator.loss, self.list_size)
