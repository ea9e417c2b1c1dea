"""Different optimizers for different variables (TFRS ``CompositeOptimizer``) on Keras 3."""

import weakref
from collections.abc import Callable

from skrank._tf import import_tensorflow

import_tensorflow()

import keras  # noqa: E402
from keras import ops  # noqa: E402

SELECTORS = ("embedding", "dense")


@keras.saving.register_keras_serializable(package="skrank")
class CompositeOptimizer(keras.optimizers.Optimizer):
    """Apply several Keras optimizers, each to its own set of variables.

    Typical use gives the embedding tables Adagrad and the dense layers Adam.
    Each pair names its variables either with a callable returning them (as in
    TFRS) or with a string: ``"embedding"`` or ``"dense"``, resolved against the
    ``embedding_trainable_variables`` / ``dense_trainable_variables`` of the
    :class:`skrank.models.Ranking` compiled with this optimizer.

    When the optimizer is built (at the first ``fit`` step, or on
    ``optimizer.build``), the sets must be disjoint and cover every trainable
    variable, else a ValueError says which variables are wrong. Gradients are
    passed on untouched, so sparse ``tf.IndexedSlices`` gradients of embedding
    lookups stay sparse.

    A model compiled with this optimizer can be saved to ``.keras`` and loaded
    when every pair uses a string, or a callable returning exactly the
    model's embedding or dense variables (recognised when the optimizer is
    built); any other callable cannot be serialized and ``model.save`` raises
    a ValueError saying so.

    ``learning_rate`` reads the first optimizer's learning rate; setting it
    (as ``ReduceLROnPlateau`` does) scales every optimizer's learning rate by
    the same factor, keeping their ratios.

    Parameters
    ----------
    optimizers_and_vars : list of (keras.optimizers.Optimizer, callable or str)
        The optimizers, each with the variables it updates: a callable taking no
        argument and returning a list of variables, or ``"embedding"`` /
        ``"dense"``.
    name : str, default=None
        Name of the optimizer.

    Examples
    --------
    >>> import keras
    >>> import numpy as np
    >>> from skrank.layers import MLP, EmbeddingCollection
    >>> from skrank.models import Ranking
    >>> from skrank.optimizers import CompositeOptimizer
    >>> optimizer = CompositeOptimizer([
    ...     (keras.optimizers.Adagrad(0.25), "embedding"),
    ...     (keras.optimizers.Adam(1e-3), "dense"),
    ... ])
    >>> float(optimizer.learning_rate)
    0.25
    >>> model = Ranking(
    ...     EmbeddingCollection({"user": 5}, embedding_dim=2),
    ...     bottom_stack=MLP([2]),
    ...     top_stack=MLP([1], final_activation="sigmoid"),
    ... )
    >>> model.compile(optimizer=optimizer)
    >>> x = {"dense_features": np.ones((4, 1), "float32"),
    ...      "sparse_features": {"user": np.arange(4)}}
    >>> _ = model.fit(x, np.array([0, 1, 0, 1]), verbose=0)
    >>> [int(opt.iterations) for opt in optimizer.optimizers]
    [1, 1]
    """

    def __init__(
        self,
        optimizers_and_vars: list[tuple[keras.optimizers.Optimizer, Callable | str]],
        name: str | None = None,
    ):
        super().__init__(learning_rate=0.0, name=name)
        pairs = list(optimizers_and_vars)
        if not pairs:
            raise ValueError("optimizers_and_vars must hold at least one (optimizer, vars) pair.")
        optimizers, selectors = [], []
        for i, pair in enumerate(pairs):
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise ValueError(
                    "optimizers_and_vars must be a list of (optimizer, variables) pairs; "
                    f"got {pair!r} at position {i}."
                )
            optimizer, selector = pair
            try:
                optimizer = keras.optimizers.get(optimizer)
            except ValueError:
                optimizer = None
            if not isinstance(optimizer, keras.optimizers.Optimizer):
                raise ValueError(
                    f"optimizers_and_vars[{i}][0] must be a keras optimizer; got {pair[0]!r}."
                )
            if not callable(selector) and selector not in SELECTORS:
                raise ValueError(
                    f"optimizers_and_vars[{i}][1] must be a callable returning variables or "
                    f"one of {SELECTORS}; got {selector!r}."
                )
            if any(optimizer is other for other in optimizers):
                raise ValueError(
                    f"optimizers_and_vars[{i}] reuses an optimizer object; give each pair "
                    "its own optimizer."
                )
            optimizers.append(optimizer)
            selectors.append(selector)
        self._optimizers = optimizers
        self._selectors = selectors
        self._selector_names = [s if isinstance(s, str) else None for s in selectors]
        self._model_ref = None
        self._assignment = {}

    @property
    def optimizers(self) -> list:
        """The wrapped optimizers, in the order given."""
        return list(self._optimizers)

    def bind_model(self, model):
        """Resolve ``"embedding"`` / ``"dense"`` against ``model``.

        :meth:`skrank.models.Ranking.compile` calls this; a weak reference avoids
        a model <-> optimizer reference cycle.
        """
        self._model_ref = weakref.ref(model)

    def _model(self):
        return None if self._model_ref is None else self._model_ref()

    def _resolve(self, selector, model):
        if callable(selector):
            return list(selector())
        if model is None:
            raise ValueError(
                f"CompositeOptimizer cannot resolve {selector!r} variables without a model: "
                "compile a skrank.models.Ranking with it (model.compile(optimizer=...)) "
                "or pass callables returning the variables."
            )
        return list(getattr(model, f"{selector}_trainable_variables"))

    def build(self, variables):
        variables = list(variables)
        model = self._model()
        keys = {self._var_key(v): v for v in variables}
        owner = {}
        groups = []
        for i, selector in enumerate(self._selectors):
            group = self._resolve(selector, model)
            for variable in group:
                key = self._var_key(variable)
                if key not in keys:
                    raise ValueError(
                        f"optimizers_and_vars[{i}] selects variable {_path(variable)!r}, "
                        "which is not among the trainable variables being optimized."
                    )
                if key in owner and owner[key] != i:
                    raise ValueError(
                        f"variable {_path(variable)!r} is selected by both "
                        f"optimizers_and_vars[{owner[key]}] and optimizers_and_vars[{i}]; "
                        "the variable sets must be disjoint."
                    )
                owner[key] = i
            groups.append(group)
        uncovered = [_path(v) for key, v in keys.items() if key not in owner]
        if uncovered:
            raise ValueError(
                f"no optimizer in optimizers_and_vars updates the variables {uncovered}; "
                "the variable sets must cover every trainable variable."
            )
        if model is not None:
            self._name_callable_selectors(groups, model)
        super().build(variables)
        self._assignment = owner
        for i, optimizer in enumerate(self._optimizers):
            if not optimizer.built:
                optimizer.build([v for v in variables if owner[self._var_key(v)] == i])

    def _name_callable_selectors(self, groups, model):
        # A callable returning exactly the model's embedding (or dense) variables
        # can be saved as that string, which a loaded model can resolve again.
        for i, group in enumerate(groups):
            if self._selector_names[i] is not None:
                continue
            selected = {self._var_key(v) for v in group}
            for name in SELECTORS:
                reference = self._resolve(name, model)
                if selected == {self._var_key(v) for v in reference}:
                    self._selector_names[i] = name
                    break

    def apply(self, grads, trainable_variables=None):
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "Call optimizer.build(variables) or pass trainable_variables before "
                    "applying gradients."
                )
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        buckets = [([], []) for _ in self._optimizers]
        for grad, variable in zip(grads, trainable_variables, strict=True):
            index = self._assignment.get(self._var_key(variable))
            if index is None:
                raise ValueError(
                    f"variable {_path(variable)!r} was not among the variables this "
                    "CompositeOptimizer was built with."
                )
            if grad is not None:
                buckets[index][0].append(grad)
                buckets[index][1].append(variable)
        for optimizer, (group_grads, group_vars) in zip(self._optimizers, buckets, strict=True):
            if group_vars:
                optimizer.apply(group_grads, group_vars)
        self._iterations.assign_add(1)

    def finalize_variable_values(self, var_list):
        for i, optimizer in enumerate(self._optimizers):
            optimizer.finalize_variable_values(
                [v for v in var_list if self._assignment.get(self._var_key(v)) == i]
            )

    @property
    def variables(self):
        """This optimizer's own variables followed by those of every wrapped optimizer."""
        own = list(self._variables)
        for optimizer in self._optimizers:
            own.extend(optimizer.variables)
        return own

    def save_own_variables(self, store):
        # The wrapped optimizers are saved as children of this one.
        for i, variable in enumerate(self._variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store):
        for i, variable in enumerate(self._variables):
            if str(i) in store:
                variable.assign(store[str(i)])

    @property
    def learning_rate(self):
        return self._optimizers[0].learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        current = float(ops.convert_to_numpy(self.learning_rate))
        value = float(value)
        if value == current:
            return
        if current == 0.0:
            raise ValueError(
                "cannot scale the learning rates of a CompositeOptimizer whose first "
                "optimizer has learning rate 0; set optimizer.optimizers[i].learning_rate "
                "of each optimizer instead."
            )
        factor = value / current
        for optimizer in self._optimizers:
            rate = float(ops.convert_to_numpy(optimizer.learning_rate))
            optimizer.learning_rate = rate * factor

    def get_config(self):
        pairs = []
        for i, optimizer in enumerate(self._optimizers):
            name = self._selector_names[i]
            if name is None:
                raise ValueError(
                    f"optimizers_and_vars[{i}] selects its variables with a callable, which "
                    "cannot be saved. Use the strings 'embedding' / 'dense' instead of the "
                    "callables to save a model compiled with this CompositeOptimizer."
                )
            pairs.append([keras.saving.serialize_keras_object(optimizer), name])
        return {"name": self.name, "optimizers_and_vars": pairs}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        pairs = [
            (keras.saving.deserialize_keras_object(optimizer, custom_objects=custom_objects), name)
            for optimizer, name in config["optimizers_and_vars"]
        ]
        return cls(pairs, name=config.get("name"))


def _path(variable):
    return getattr(variable, "path", None) or variable.name
