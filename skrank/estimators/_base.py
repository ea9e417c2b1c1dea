"""Machinery shared by RankingClassifier and RankingRegressor.

This is the one place where scikit-learn meets Keras: a DataFrame goes through
:class:`~skrank.preprocessing.RankingPreprocessor`, the encoded arrays train a
:class:`~skrank.models.Ranking` model built inside ``fit`` from what the
preprocessor learned, and predictions come back through a compiled forward pass.
"""

import inspect
import numbers
import warnings

import keras  # noqa: E402  (TensorFlow is imported quietly by the modules above)
import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _check_feature_names, _num_samples, check_is_fitted

from skrank._validation import check_positive_int_sequence
from skrank.data._sources import is_file_source
from skrank.estimators._export import export_saved_model
from skrank.estimators._incremental import IncrementalMixin, drop_fitted
from skrank.estimators._persistence import PicklingMixin
from skrank.estimators._scikeras import BaseWrapper
from skrank.estimators._strategy import DistributionMixin
from skrank.estimators._streaming import fit_source, predict_source
from skrank.estimators._targets import Target
from skrank.estimators._training import (
    fit_arrays,
    fit_seed,
    fitted_attributes,
    training_weights,
    uses_early_stopping,
    validation_split,
)
from skrank.preprocessing import RankingPreprocessor

_PREPROCESSOR_PARAMS = (
    "categorical_features",
    "dense_features",
    "min_frequency",
    "max_categories",
    "hash_buckets",
    "log_transform",
    "missing_indicator",
    "list_features",
)


def _rows_of(X, y, what):
    """The number of rows of X, and y as an array, checked to have one ``what`` per row."""
    n_samples = _num_samples(X)
    y = np.asarray(y) if not hasattr(y, "__array__") else y
    if _num_samples(y) != n_samples:
        raise ValueError(
            f"X and y have different numbers of rows: X has {n_samples}, y has "
            f"{_num_samples(y)}. Pass one {what} per row of X."
        )
    return n_samples, y


class _RankingBase(PicklingMixin, IncrementalMixin, DistributionMixin, BaseEstimator):
    """Base class of the skrank estimators; not for direct use."""

    # Prefixes routed to the Keras objects, as in scikeras.
    _routing_prefixes = {"model", "fit", "predict", "optimizer", "embedding_optimizer", "callbacks"}

    # The preprocessing parameters are RankingPreprocessor's, checked by its rules.
    _parameter_constraints: dict = {
        **{name: RankingPreprocessor._parameter_constraints[name] for name in _PREPROCESSOR_PARAMS},
        "embedding_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "bottom_stack": [tuple, list],
        "top_stack": [tuple, list],
        "interaction": [StrOptions({"dot", "cross"}), keras.layers.Layer],
        "cross_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "cross_projection_dim": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "activation": [str, callable],
        "numeric_embedding": [StrOptions({"periodic"}), None],
        "frequency_scale": [
            Interval(numbers.Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        "whiten_below": [Interval(numbers.Real, 0, 1, closed="left"), None],
        "embedding_l2": [Interval(numbers.Real, 0, None, closed="left")],
        "id_dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "list_combiner": [StrOptions({"mean", "sum", "sqrtn"})],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "ensemble_size": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "dtype_policy": [StrOptions({"auto", "float32", "mixed_bfloat16"})],
        "optimizer": [str, keras.optimizers.Optimizer, type],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "embedding_optimizer": [str, keras.optimizers.Optimizer, type, None],
        "embedding_learning_rate": [Interval(numbers.Real, 0, None, closed="left"), None],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "epochs": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "callbacks": [list, tuple, keras.callbacks.Callback, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "distribution": [HasMethods(["scope", "run", "experimental_distribute_dataset"]), None],
    }

    def __init__(
        self,
        *,
        categorical_features="auto",
        dense_features="auto",
        min_frequency=2,
        max_categories=None,
        hash_buckets=None,
        log_transform="auto",
        missing_indicator=True,
        list_features=None,
        embedding_dim=16,
        bottom_stack=(256, 64),
        top_stack=(512, 256),
        interaction="cross",
        cross_layers=3,
        cross_projection_dim=None,
        activation="relu",
        numeric_embedding="periodic",
        frequency_scale="auto",
        whiten_below=0.2,
        embedding_l2=0.0,
        id_dropout=0.0,
        list_combiner="sum",
        dropout=0.0,
        ensemble_size="auto",
        dtype_policy="auto",
        optimizer="adam",
        learning_rate=1e-3,
        embedding_optimizer=None,
        embedding_learning_rate=None,
        batch_size="auto",
        epochs="auto",
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=3,
        shuffle=True,
        callbacks=None,
        random_state=None,
        verbose=0,
        distribution=None,
        **kwargs,
    ):
        self.categorical_features = categorical_features
        self.dense_features = dense_features
        self.min_frequency = min_frequency
        self.max_categories = max_categories
        self.hash_buckets = hash_buckets
        self.log_transform = log_transform
        self.missing_indicator = missing_indicator
        self.list_features = list_features
        self.embedding_dim = embedding_dim
        self.bottom_stack = bottom_stack
        self.top_stack = top_stack
        self.interaction = interaction
        self.cross_layers = cross_layers
        self.cross_projection_dim = cross_projection_dim
        self.activation = activation
        self.numeric_embedding = numeric_embedding
        self.frequency_scale = frequency_scale
        self.whiten_below = whiten_below
        self.embedding_l2 = embedding_l2
        self.id_dropout = id_dropout
        self.list_combiner = list_combiner
        self.dropout = dropout
        self.ensemble_size = ensemble_size
        self.dtype_policy = dtype_policy
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.embedding_optimizer = embedding_optimizer
        self.embedding_learning_rate = embedding_learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose
        self.distribution = distribution
        vars(self).update(kwargs)

    @classmethod
    def _signature_with(cls, **extra):
        """The base ``__init__`` signature plus a subclass's own keyword parameters.

        Subclasses add a parameter (``class_weight``) and forward the rest; this
        keeps ``inspect.signature``, the repr and the docs showing every parameter.
        """
        base = inspect.signature(_RankingBase.__init__)
        params = list(base.parameters.values())
        kwargs = params.pop()  # **kwargs stays last
        params += [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
            for name, default in extra.items()
        ]
        return base.replace(parameters=[*params, kwargs])

    # ----------------------------------------------------------------- params
    # Routed parameters (``optimizer__beta_1=0.8``) live in ``__dict__`` like the
    # declared ones, so get_params / clone / GridSearchCV see them (scikeras).
    _get_param_names = BaseWrapper._get_param_names

    def _check_routed(self):
        declared = set(inspect.signature(type(self).__init__).parameters)
        for name in self.get_params(deep=False):
            if name in declared:
                continue
            prefix = name.split("__", 1)[0]
            if "__" not in name or prefix not in self._routing_prefixes:
                raise TypeError(
                    f"{type(self).__name__} got an unexpected keyword argument {name!r}. "
                    f"Routed Keras parameters must start with one of "
                    f"{sorted(p + '__' for p in self._routing_prefixes)}."
                )

    def set_params(self, **params):
        """Set parameters, including routed ones such as ``optimizer__beta_1``.

        Returns
        -------
        self : estimator
        """
        routed = {
            k: v
            for k, v in params.items()
            if "__" in k and k.split("__")[0] in self._routing_prefixes
        }
        for key, value in routed.items():
            setattr(self, key, value)
        rest = {k: v for k, v in params.items() if k not in routed}
        if rest:
            super().set_params(**rest)
        return self

    def _check_params(self):
        """Checks that _parameter_constraints cannot express."""
        self._check_routed()
        # Hidden layer widths; only the bottom stack may be empty.
        check_positive_int_sequence(self.bottom_stack, "bottom_stack", allow_empty=True)
        check_positive_int_sequence(self.top_stack, "top_stack")

    # ------------------------------------------------------------------- fit
    # The kind of target (a skrank.estimators._targets.Target subclass).
    _target_kind: type[Target]

    def _target(self) -> Target:
        return self._target_kind(self)

    def _preprocessor(self):
        return RankingPreprocessor(**{name: getattr(self, name) for name in _PREPROCESSOR_PARAMS})

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Fit the preprocessor and the ranking model.

        Parameters
        ----------
        X : DataFrame, array-like of shape (n_samples, n_features) or FileSource
            Mixed categorical and numeric columns, or a
            :class:`skrank.data.ParquetSource` / :class:`~skrank.data.CSVSource`
            streamed in record batches (then without ``y``: the target is the
            source's ``target`` column; the preprocessor is fitted in one pass and
            training reads the files again every epoch).
        y : array-like of shape (n_samples,), default=None
            Target values; required unless ``X`` is a file source.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; rescaled to mean 1 internally.

        Returns
        -------
        self : estimator
            The fitted estimator.
        """
        self._check_params()
        if y is None and not is_file_source(X):
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None. "
                "Pass the labels (or values) to learn as fit(X, y)."
            )
        fitted = self._fit(X, y, sample_weight)
        # Assign everything at once: an interrupted or failed fit leaves the
        # estimator as it was before, never half-built.
        drop_fitted(self)
        vars(self).update(fitted)
        return self

    def _fit(self, X, y, sample_weight):
        if is_file_source(X):  # streamed from files in record batches
            return fit_source(self, X, y, sample_weight)
        n_samples, y = _rows_of(X, y, "target value")
        preprocessor = self._preprocessor().fit(X)
        target = self._target()
        y_encoded = target.fit(y)
        dense, categorical = preprocessor.encode(X)
        weights = training_weights(sample_weight, n_samples, target, y_encoded)

        seed = fit_seed(self)
        if uses_early_stopping(self, n_samples):
            train_idx, val_idx = validation_split(self, n_samples, target.stratify(y_encoded), seed)
        else:
            train_idx, val_idx = slice(None), None
        model, history, batch_size = fit_arrays(
            self,
            preprocessor=preprocessor,
            target=target,
            arrays=(dense, categorical, y_encoded, weights),
            train_idx=train_idx,
            val_idx=val_idx,
            seed=seed,
        )
        return fitted_attributes(
            preprocessor=preprocessor,
            target=target,
            model=model,
            history=history,
            batch_size=batch_size,
            warm_up=(dense, categorical),
        )

    # --------------------------------------------------------------- predict
    def _check_predict_columns(self, X) -> bool:
        """Check that the estimator is fitted and X has the columns seen at fit.

        Returns whether X holds exactly the fitted columns in another order, which
        the preprocessor matches by name; otherwise scikit-learn's feature-name
        check runs.
        """
        check_is_fitted(self)
        fitted_names = getattr(self, "feature_names_in_", None)
        reordered = (
            fitted_names is not None
            and hasattr(X, "columns")
            and len(X.columns) == len(fitted_names)
            and set(X.columns) == set(fitted_names)
        )
        if not reordered:
            _check_feature_names(self, X, reset=False)
        return reordered

    def _encode(self, X):
        self._check_predict_columns(X)
        with warnings.catch_warnings():
            # Already reported above under the estimator's own name.
            warnings.filterwarnings("ignore", message="X (has|does not have valid) feature names")
            return self.preprocessor_.encode(X)

    def _predict_raw(self, X):
        if is_file_source(X):  # streamed from files in record batches
            return predict_source(self, X)
        dense, categorical = self._encode(X)
        return self._forward(dense, categorical)

    def export(self, path) -> dict:
        """Write the fitted estimator, preprocessing included, as a TensorFlow SavedModel.

        The SavedModel needs only TensorFlow to run (``tf.saved_model.load(path)``, TF
        Serving, ...): the preprocessor's vocabularies, hashing and dense scaling are
        rebuilt in TensorFlow ops, and it gives the numbers of ``predict_proba`` /
        ``predict`` (to about 1e-6), unseen categories and missing values included.

        Its ``serving_default`` signature takes one 1-D tensor per input column,
        named by the column name sanitized into a valid signature name (characters
        other than ASCII letters, digits and ``_`` become ``_``; names not starting
        with a letter get the prefix ``x_``; collisions get ``_2``, ``_3``...; array
        input columns are ``x0``, ``x1``...). The mapping is returned and written,
        with each input's dtype and the classes, to
        ``<path>/assets.extra/skrank_columns.json``.

        - Categorical columns (``preprocessor_.categorical_features_``, including bool,
          integer and category columns) are ``tf.string``: the value's ``str``, with
          integral floats written as integers (``3.0`` -> ``"3"``) and booleans as
          ``"True"`` / ``"False"``. The empty string ``""`` means missing (so a
          category that was the empty string at fit time cannot be reached; a
          warning says so). Unseen values get the unknown id, hashed columns
          (``hash_buckets``) the same bucket as in Python.
        - Dense columns are ``tf.float64``, NaN meaning missing.

        Outputs: ``"probabilities"``, float64 of shape (n, n_classes) in the order of
        ``classes_`` (classifier), or ``"predictions"``, float64 of shape (n,)
        (regressor).

        Parameters
        ----------
        path : str or path-like
            Directory to write; for TF Serving, a version directory such as
            ``models/ctr/1``.

        Returns
        -------
        input_names : dict of str to str
            Column name -> signature input name.

        Notes
        -----
        ``skrank.estimators._export.serving_inputs(estimator, X)`` turns a DataFrame
        into the per-column arrays the signature expects. To serve with TF Serving::

            est.export("models/ctr/1")
            docker run -p 8501:8501 \\
                --mount type=bind,source=$PWD/models/ctr,target=/models/ctr \\
                -e MODEL_NAME=ctr -t tensorflow/serving

        then POST to ``http://localhost:8501/v1/models/ctr:predict`` a body with one
        key per column (columnar format; missing numbers are the bare token ``NaN``,
        which TF Serving accepts and Python's ``json.dumps`` writes; missing
        categories are ``""``)::

            {"signature_name": "serving_default",
             "inputs": {"city": ["paris", ""], "price": [12.5, NaN], "user_id": ["42", "7"]}}

        The answer is ``{"outputs": [[p0, p1], ...]}`` (one output: its name is dropped).
        """
        return export_saved_model(self, path)

    # ----------------------------------------------------------------- tags
    @property
    def dtype_policy_(self):
        """The dtype policy of the fitted model's hidden layers (``dtype_policy`` resolved)."""
        return self.model_.top_stack.dtype_policy.name

    @property
    def ensemble_size_(self):
        """The number of models trained side by side (``ensemble_size`` resolved)."""
        return len(getattr(self.model_, "members", [self.model_]))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags
