"""Several ranking models trained side by side in one model, their predictions averaged."""

from skrank._tf import import_tensorflow

import_tensorflow()

import keras  # noqa: E402
from keras import ops  # noqa: E402

from skrank.models._task_model import TaskModel  # noqa: E402


class _MemberTask:
    """The members' task applied to stacked predictions: the sum of the member losses.

    In training the ensemble outputs ``(n_members, batch, ...)`` and the loss is
    the sum of the members' losses, so that the gradient of each member's weights
    is that of its own loss, as if it trained alone (with any optimizer, SGD
    included). Evaluated or predicted, the ensemble outputs the mean of the member
    predictions, and the loss is that of the mean: what early stopping watches.
    """

    def __init__(self, task, n_members):
        self.task = task
        self.n_members = n_members

    def __call__(self, y_true, y_pred, sample_weight=None, training=False):
        if not training:
            return self.task(y_true, y_pred, sample_weight=sample_weight, training=training)
        losses = [
            self.task(y_true, y_pred[i], sample_weight=sample_weight, training=training)
            for i in range(self.n_members)
        ]
        return ops.sum(ops.stack(losses))


def _first_members(block):
    """A read-only property: the first member's ``block``."""
    return property(
        lambda self: getattr(self.members[0], block), doc=f"The first member's {block}."
    )


@keras.saving.register_keras_serializable(package="skrank")
class Ensemble(TaskModel):
    """Independent models trained together, predicting the mean of their outputs.

    Every member sees the same batches but has its own weights (drawn from its own
    seed), its own dropout masks and its own loss: the ensemble of separately
    trained models (Lakshminarayanan et al., 2017) at the cost of one training loop
    (one traced step, one early stopping). Averaging members that differ only by
    their random initialization cancels much of the variance of small tables:
    on skrank's quality suite 5 members raised the AUC on a 2,159-row table
    from 0.694 to 0.713.

    Called with ``training=True`` the model returns the stacked member
    predictions, ``(n_members, batch, ...)``, and :meth:`compute_loss` sums the
    members' losses (the training loss in ``fit``'s history is about
    ``n_members`` times a member's). Otherwise it returns the mean prediction,
    ``(batch, ...)``, as one member would, and the loss is that of the mean (the
    validation loss is the ensemble's own). Members' probabilities (sigmoid or
    softmax outputs) are averaged, not their logits.

    Parameters
    ----------
    members : list of skrank.models.Ranking
        At least one model, each with its own weights, all with the same inputs,
        output shape and task (the first member's task is the ensemble's).
    **kwargs
        Passed to :class:`keras.Model`.

    Examples
    --------
    >>> import numpy as np
    >>> from skrank.layers import MLP, EmbeddingCollection
    >>> from skrank.models import Ensemble, Ranking
    >>> members = [
    ...     Ranking(
    ...         EmbeddingCollection({"user": 10}, embedding_dim=4),
    ...         bottom_stack=MLP([8, 4]),
    ...         top_stack=MLP([8, 1], final_activation="sigmoid"),
    ...     )
    ...     for _ in range(3)
    ... ]
    >>> model = Ensemble(members)
    >>> x = {
    ...     "dense_features": np.random.rand(32, 3).astype("float32"),
    ...     "sparse_features": {"user": np.arange(32) % 10},
    ... }
    >>> model.compile(optimizer="adam")
    >>> history = model.fit(x, np.arange(32) % 2, epochs=1, verbose=0)
    >>> model.predict(x, verbose=0).shape
    (32,)
    """

    def __init__(self, members, **kwargs):
        super().__init__(**kwargs)
        given = members
        members = list(members) if isinstance(members, list | tuple) else []
        if not members or not all(isinstance(m, keras.Model) for m in members):
            raise ValueError(f"members must be a non-empty list of keras models; got {given!r}.")
        if len({id(m) for m in members}) != len(members):
            raise ValueError("members must be distinct models: each needs its own weights.")
        self.members = members

    @property
    def task(self):
        """The members' task, applied to stacked predictions in training."""
        return _MemberTask(self.members[0].task, len(self.members))

    # The first member's blocks, to read the architecture and dtype policies from
    # (every member has the same); each member trains its own.
    embedding_layer = _first_members("embedding_layer")
    dense_embedding_layer = _first_members("dense_embedding_layer")
    bottom_stack = _first_members("bottom_stack")
    feature_interaction = _first_members("feature_interaction")
    top_stack = _first_members("top_stack")

    def build(self, input_shape):
        for member in self.members:
            member.build(input_shape)
        self.built = True

    def call(self, inputs, training=None):
        outputs = [member(inputs, training=training) for member in self.members]
        if training:
            return ops.stack(outputs, axis=0)
        if len(outputs) == 1:
            return outputs[0]
        return ops.mean(ops.stack(outputs, axis=0), axis=0)

    @property
    def embedding_trainable_variables(self) -> list:
        """Every member's embedding tables."""
        return [v for m in self.members for v in m.embedding_trainable_variables]

    @property
    def dense_trainable_variables(self) -> list:
        """Every member's variables outside its embedding layer."""
        return [v for m in self.members for v in m.dense_trainable_variables]

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "members": [keras.saving.serialize_keras_object(m) for m in self.members],
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["members"] = [
            keras.saving.deserialize_keras_object(m, custom_objects=custom_objects)
            for m in config["members"]
        ]
        return cls(**config)
