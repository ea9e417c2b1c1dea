"""Listwise ranking losses for a model that scores flat rows.

The model scores one row at a time; a training batch holds whole lists of
``list_size`` rows each (padded rows labelled -1, keras-rs's convention). The
:class:`ListwiseLoss` wrapper folds the flat ``(n_lists * list_size,)`` labels,
scores and row weights into ``(n_lists, list_size)`` lists and hands them to a
ranking loss: keras-rs's pairwise losses and ``ListMLELoss``, or the two written
here because keras-rs 0.4 lacks them: :class:`SoftmaxLoss` (listwise softmax
cross-entropy) and :class:`PointwiseMeanSquaredError` (masked per item).
"""

from skrank._tf import import_tensorflow

import_tensorflow()

import keras  # noqa: E402
import keras_rs  # noqa: E402
from keras import ops  # noqa: E402

# A logit far below any real one: exp() of it relative to a real logit is 0.
_PADDING_LOGIT = -1e9


@keras.saving.register_keras_serializable(package="skrank", name="SoftmaxLoss")
class SoftmaxLoss(keras.losses.Loss):
    """Listwise softmax cross-entropy (TF-Ranking's ``SoftmaxLoss``), with NDCG's gain.

    For a list of scores ``s`` and relevance ``y`` (items with ``y < 0`` are
    padding and left out)::

        loss = -sum_i g(y_i) * log(softmax(s)_i)

    the cross-entropy between the gains, normalized to a distribution over the
    list, and the softmax of the scores, weighted by the list's total gain. A list
    without relevant items has loss 0.

    Called with ``y_true`` and ``y_pred`` of shape ``(batch, list_size)``; returns
    one loss per list.

    Parameters
    ----------
    gain : {"exponential", "linear"}, default="exponential"
        ``g(y) = 2**y - 1``, the gain of NDCG, or ``g(y) = y`` (TF-Ranking's
        default). Equal for 0/1 labels. On MovieLens ratings (0.5 to 5 stars),
        exponential gain ranked clearly better (NDCG@10 +0.007).
    **kwargs
        Passed to :class:`keras.losses.Loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.tasks import SoftmaxLoss
    >>> loss = SoftmaxLoss()
    >>> round(float(loss(np.array([[1.0, 0.0, -1.0]]), np.array([[2.0, 0.0, 5.0]]))), 4)
    0.1269
    """

    def __init__(self, gain="exponential", **kwargs):
        super().__init__(**kwargs)
        if gain not in ("linear", "exponential"):
            raise ValueError(f"gain must be 'linear' or 'exponential'; got gain={gain!r}.")
        self.gain = gain

    def call(self, y_true, y_pred):
        y_true = ops.convert_to_tensor(y_true)
        y_pred = ops.cast(ops.convert_to_tensor(y_pred), y_true.dtype)
        valid = ops.greater_equal(y_true, 0.0)
        target = ops.where(valid, y_true, ops.zeros_like(y_true))
        if self.gain == "exponential":
            target = ops.power(2.0, target) - 1.0
        logits = ops.where(valid, y_pred, ops.full_like(y_pred, _PADDING_LOGIT))
        log_softmax = logits - ops.logsumexp(logits, axis=-1, keepdims=True)
        terms = ops.where(valid, target * log_softmax, ops.zeros_like(log_softmax))
        return -ops.sum(terms, axis=-1)

    def get_config(self):
        config = super().get_config()
        config["gain"] = self.gain
        return config


@keras.saving.register_keras_serializable(package="skrank", name="PointwiseMeanSquaredError")
class PointwiseMeanSquaredError(keras.losses.Loss):
    """Squared error of each item's score against its relevance; padding (``y < 0``) is 0.

    Called with ``(batch, list_size)`` tensors; returns the squared errors, which
    ``"sum_over_batch_size"`` averages over every position, padding included.
    """

    def call(self, y_true, y_pred):
        y_true = ops.convert_to_tensor(y_true)
        y_pred = ops.cast(ops.convert_to_tensor(y_pred), y_true.dtype)
        valid = ops.greater_equal(y_true, 0.0)
        return ops.where(valid, ops.square(y_pred - y_true), ops.zeros_like(y_pred))


def _ndcg_swap_weights(labels, scores, valid):
    """``|delta NDCG|`` of swapping items i and j in the order of ``scores``: ``(..., n, n)``.

    ``|g_i - g_j| * |d(r_i) - d(r_j)| / IDCG`` with gain ``g = 2**y - 1``,
    discount ``d(r) = 1 / log2(1 + r)`` and ``r`` the rank of an item by score
    among the valid items of its list (ties broken by position). No gradient.
    """
    scores = ops.stop_gradient(scores)
    valid_f = ops.cast(valid, scores.dtype)
    gains = ops.where(valid, ops.power(2.0, labels) - 1.0, ops.zeros_like(labels))
    n = ops.shape(labels)[-1]
    position = ops.arange(n)
    earlier = ops.expand_dims(position, 0) < ops.expand_dims(position, 1)  # [i, j]: j < i

    def rank(values):
        mine, other = ops.expand_dims(values, -1), ops.expand_dims(values, -2)
        ahead = ops.logical_or(other > mine, ops.logical_and(other == mine, earlier))
        return 1.0 + ops.sum(ops.cast(ahead, scores.dtype) * ops.expand_dims(valid_f, -2), -1)

    discount = 1.0 / ops.log2(1.0 + rank(scores))
    ideal = ops.sum(valid_f * gains / ops.log2(1.0 + rank(gains)), axis=-1, keepdims=True)
    gain_gap = ops.abs(ops.expand_dims(gains, -1) - ops.expand_dims(gains, -2))
    discount_gap = ops.abs(ops.expand_dims(discount, -1) - ops.expand_dims(discount, -2))
    weights = gain_gap * discount_gap / ops.expand_dims(ops.maximum(ideal, 1e-9), -1)
    return ops.stop_gradient(weights)


@keras.saving.register_keras_serializable(package="skrank", name="LambdaRankLoss")
class LambdaRankLoss(keras_rs.losses.PairwiseLogisticLoss):
    """RankNet's pairwise logistic loss with LambdaRank's NDCG weights.

    keras-rs's :class:`~keras_rs.losses.PairwiseLogisticLoss` with each pair
    ``(i, j)``, ``y_i > y_j``, weighted by how much NDCG would change if the two
    items swapped places in the current order of the scores (gain ``2**y - 1``,
    log2 discount, normalized by the list's ideal DCG): the gradient of LambdaRank
    (Burges 2010), the objective of LightGBM's ``lambdarank``. keras-rs 0.4 has no
    lambda weights. Items labelled below 0 are padding.

    Parameters
    ----------
    temperature : float, default=1.0
        Divides the score differences, as in keras-rs.
    **kwargs
        Passed to :class:`keras.losses.Loss`.
    """

    def compute_unreduced_loss(self, labels, logits, mask=None):
        losses, pairs = super().compute_unreduced_loss(labels, logits, mask)
        valid = ops.greater_equal(labels, ops.cast(0.0, labels.dtype))
        if mask is not None:
            valid = ops.logical_and(valid, mask)
        weights = _ndcg_swap_weights(labels, ops.cast(logits, labels.dtype), valid)
        return losses, pairs * ops.cast(weights, pairs.dtype)


# The names of the Ranker's ``loss`` parameter.
LOSSES = {
    "softmax": SoftmaxLoss,
    "pairwise_logistic": keras_rs.losses.PairwiseLogisticLoss,
    "lambdarank": LambdaRankLoss,
    "pairwise_hinge": keras_rs.losses.PairwiseHingeLoss,
    "pairwise_soft_zero_one": keras_rs.losses.PairwiseSoftZeroOneLoss,
    "pairwise_mse": keras_rs.losses.PairwiseMeanSquaredError,
    "listmle": keras_rs.losses.ListMLELoss,
    "mse": PointwiseMeanSquaredError,
}


@keras.saving.register_keras_serializable(package="skrank", name="ListwiseLoss")
class ListwiseLoss(keras.losses.Loss):
    """A ranking loss on lists, fed flat rows: ``list_size`` consecutive rows are a list.

    ``y_true``, ``y_pred`` and ``sample_weight`` of ``n_lists * list_size`` rows
    (any trailing axis of size 1) are reshaped to ``(n_lists, list_size)``. Rows
    labelled below 0 are padding; rows of weight 0 are treated as padding too. Each
    list weighs the mean weight of its remaining rows, and ``loss`` is called as
    ``loss(labels, scores, sample_weight=list_weights[:, None])``, so any loss that
    reads labels below 0 as padding works: the keras-rs ranking losses,
    :class:`SoftmaxLoss`, :class:`PointwiseMeanSquaredError`.

    Parameters
    ----------
    loss : keras.losses.Loss
        The loss on ``(n_lists, list_size)`` labels and scores.
    list_size : int
        Rows per list.
    **kwargs
        Passed to :class:`keras.losses.Loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.tasks import ListwiseLoss, SoftmaxLoss
    >>> loss = ListwiseLoss(SoftmaxLoss(), list_size=3)
    >>> y = np.array([1.0, 0.0, -1.0, 0.0, 2.0, 0.0])
    >>> s = np.array([2.0, 0.0, 5.0, 0.0, 0.0, 0.0])
    >>> round(float(loss(y, s)), 4)  # mean over the two lists
    1.7114
    """

    def __init__(self, loss, list_size, **kwargs):
        kwargs.setdefault("name", "listwise_loss")
        super().__init__(**kwargs)
        if isinstance(loss, dict):
            loss = keras.saving.deserialize_keras_object(loss)
        if not isinstance(loss, keras.losses.Loss):
            raise ValueError(f"loss must be a keras.losses.Loss; got {loss!r}.")
        if isinstance(list_size, bool) or not isinstance(list_size, int) or list_size < 1:
            raise ValueError(f"list_size must be a positive integer; got {list_size!r}.")
        self.loss = loss
        self.list_size = list_size

    def __call__(self, y_true, y_pred, sample_weight=None):
        shape = (-1, self.list_size)
        labels = ops.reshape(ops.cast(ops.convert_to_tensor(y_true), "float32"), shape)
        scores = ops.reshape(ops.cast(ops.convert_to_tensor(y_pred), "float32"), shape)
        valid = ops.greater_equal(labels, 0.0)
        if sample_weight is None:
            weights = ops.cast(valid, "float32")
        else:
            weights = ops.reshape(ops.cast(ops.convert_to_tensor(sample_weight), "float32"), shape)
            valid = ops.logical_and(valid, ops.greater(weights, 0.0))
            weights = ops.where(valid, weights, ops.zeros_like(weights))
        labels = ops.where(valid, labels, -ops.ones_like(labels))
        n_valid = ops.sum(ops.cast(valid, "float32"), axis=-1, keepdims=True)
        list_weights = ops.sum(weights, axis=-1, keepdims=True) / ops.maximum(n_valid, 1.0)
        return self.loss(labels, scores, sample_weight=list_weights)

    def call(self, y_true, y_pred):  # pragma: no cover - __call__ does the work
        return self.loss.call(y_true, y_pred)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"loss": keras.saving.serialize_keras_object(self.loss), "list_size": self.list_size}
        )
        return config


def listwise_loss(loss, list_size: int) -> ListwiseLoss:
    """:class:`ListwiseLoss` of a loss name of :data:`LOSSES` or a Keras loss instance.

    An instance is copied (through its config), so a fit never shares its state.
    """
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"Unknown loss {loss!r}; use one of {sorted(LOSSES)}.")
        inner = LOSSES[loss]()
    elif isinstance(loss, keras.losses.Loss):
        inner = loss.__class__.from_config(loss.get_config())
    else:
        raise ValueError(
            f"loss must be one of {sorted(LOSSES)} or a keras.losses.Loss instance; got {loss!r}."
        )
    return ListwiseLoss(inner, list_size)
