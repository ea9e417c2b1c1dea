"""The one training path: the compiled model, the schedule, early stopping, the fit loop.

``fit(X, y)``, ``fit(source)`` and ``partial_fit`` all come here. Training runs
through ``keras.Model.fit`` on one worker, or through skrank's own
``strategy.run`` loop under a ``tf.distribute`` strategy (:mod:`._strategy`);
either way on the same :class:`~skrank.models.Ranking` model, task loss,
(composite) optimizer, early stopping with the best weights restored, and guard
against a non-finite loss.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import _check_sample_weight

from skrank._tf import import_tensorflow

tf = import_tensorflow()

import keras  # noqa: E402

from skrank.estimators._build import build_ranking_model, make_optimizer  # noqa: E402
from skrank.estimators._data import CompiledForward, model_inputs, training_dataset  # noqa: E402
from skrank.estimators._scikeras import route_params  # noqa: E402
from skrank.estimators._strategy import strategy_fit, strategy_scope  # noqa: E402
from skrank.layers._whitening import low_variance_directions  # noqa: E402
from skrank.models import Ensemble  # noqa: E402
from skrank.optimizers._sparse import row_sparse  # noqa: E402

# The "auto" training schedule (see the estimators' ``batch_size`` and ``epochs``
# docstrings): small batches on small tables (RealMLP and TabM train with 256),
# larger ones as the table grows, for speed.
AUTO_SMALL_BATCH = 256
AUTO_BATCH_TIERS = ((50_000, AUTO_SMALL_BATCH), (200_000, 512))
AUTO_MAX_BATCH = 1024
AUTO_MIN_BATCH = 16
# Tiny tables: at least about this many steps per epoch, so that early stopping
# (which checks once per epoch) can stop between a few steps rather than many.
AUTO_MIN_STEPS = 24
# Without early stopping: enough epochs for about this many steps.
AUTO_TARGET_STEPS = 250
# With early stopping, the cap on epochs (it stops long before on most tables).
AUTO_MAX_EPOCHS = 100
# frequency_scale="auto": this scale at this many training rows, growing as the
# cube root of the rows, within these bounds.
AUTO_FREQUENCY_SCALE = 0.3
AUTO_FREQUENCY_ROWS = 20_000
AUTO_FREQUENCY_MIN, AUTO_FREQUENCY_MAX = 0.1, 1.0
# ensemble_size="auto": this many members up to ..._MAX_ROWS training rows, else one.
# The quality suite's tables of 1,700 to 22,000 training rows gained from 5 members,
# and so did 9 of 10 small tables of 300 to 989 training rows and 5 of 6 tiny ones of
# 74 to 210 (docs/user_guide/quality.rst); larger tables would pay 3-4x the fit time.
AUTO_ENSEMBLE_SIZE = 5
AUTO_ENSEMBLE_MAX_ROWS = 30_000
# early_stopping="auto" holds out a validation set from this many rows on.
AUTO_EARLY_STOPPING_MIN_ROWS = 1_000
# Gradient steps per call of the compiled training function: fewer Python round
# trips per step (the dominant cost with small batches).
STEPS_PER_EXECUTION = 32


# ------------------------------------------------------------------ decisions
def fit_seed(estimator) -> int:
    """One integer seed per fit, drawn without touching numpy's global state."""
    rs = estimator.random_state
    if rs is None:
        return int(np.random.default_rng().integers(2**31 - 1))
    if isinstance(rs, numbers.Integral):
        return int(rs) % (2**31 - 1)
    return int(rs.randint(2**31 - 1))


def uses_early_stopping(estimator, n_samples: int) -> bool:
    """Whether a fit on ``n_samples`` rows holds out a validation set."""
    early_stopping = estimator.early_stopping
    if early_stopping == "auto":
        early_stopping = n_samples >= AUTO_EARLY_STOPPING_MIN_ROWS
    return bool(early_stopping) and n_samples >= 2


def auto_batch_size(n_train: int) -> int:
    """The batch size ``batch_size="auto"`` stands for with ``n_train`` training rows."""
    for rows, batch_size in AUTO_BATCH_TIERS:
        if n_train <= rows:
            return int(min(batch_size, max(AUTO_MIN_BATCH, n_train // AUTO_MIN_STEPS)))
    return AUTO_MAX_BATCH


def resolve_schedule(estimator, n_train: int, *, early_stopping: bool = False) -> tuple[int, int]:
    """``(batch_size, epochs)`` for ``n_train`` training rows, "auto" resolved."""
    batch_size = estimator.batch_size
    if batch_size == "auto":
        batch_size = auto_batch_size(n_train)
    steps = math.ceil(n_train / batch_size)
    epochs = estimator.epochs
    if epochs == "auto":
        if early_stopping:
            epochs = AUTO_MAX_EPOCHS
        else:
            epochs = int(min(AUTO_MAX_EPOCHS, max(2, math.ceil(AUTO_TARGET_STEPS / steps))))
    return batch_size, epochs


def validation_split(estimator, n_samples, stratify, seed):
    """Sorted training and validation row indices (stratified when possible)."""
    n_val = max(1, int(round(estimator.validation_fraction * n_samples)))
    n_val = min(n_val, n_samples - 1)
    indices = np.arange(n_samples)
    try:
        train_idx, val_idx = train_test_split(
            indices, test_size=n_val, random_state=seed, stratify=stratify
        )
    except ValueError:  # too few members of a class to stratify
        train_idx, val_idx = train_test_split(indices, test_size=n_val, random_state=seed)
    return np.sort(train_idx), np.sort(val_idx)


def training_weights(sample_weight, n_samples, target, y_encoded) -> np.ndarray:
    """Per-row weights: ``sample_weight`` times the class weights, of mean 1."""
    try:
        weights = _check_sample_weight(
            sample_weight, np.empty((n_samples, 0)), dtype=np.float64, ensure_non_negative=True
        )
    except ValueError as exc:
        raise ValueError(
            f"Invalid sample_weight: {exc} Pass one finite, non-negative weight per row "
            f"of X ({n_samples} rows), not all zero."
        ) from exc
    total = weights.sum()
    if not total > 0:
        raise ValueError(
            "sample_weight is zero for every sample: there is nothing to learn from. "
            "Pass positive weights for at least one sample."
        )
    # Mean weight 1 keeps the loss, and so the effect of learning_rate, on the
    # same scale whatever units the weights come in.
    weights = weights * (n_samples / total)
    class_weights = target.class_weights()
    if class_weights is not None:
        weights = weights * class_weights[y_encoded.astype(np.intp)]
        weights *= n_samples / weights.sum()
    return weights


# ---------------------------------------------------------------------- model
def frequency_scale(estimator, n_train: int | None) -> float:
    """The ``frequency_scale`` of the periodic numeric embeddings, "auto" resolved.

    ``"auto"`` grows as the cube root of the training rows, as histogram bin counts
    do (Freedman-Diaconis): finer numeric detail is worth learning only with more
    rows. 0.3 at 20,000 rows, clipped to [0.1, 1.0].
    """
    if estimator.frequency_scale != "auto":
        return float(estimator.frequency_scale)
    n_train = AUTO_FREQUENCY_ROWS if n_train is None else n_train
    scale = AUTO_FREQUENCY_SCALE * (n_train / AUTO_FREQUENCY_ROWS) ** (1 / 3)
    return float(min(AUTO_FREQUENCY_MAX, max(AUTO_FREQUENCY_MIN, scale)))


def ensemble_size(estimator, n_train=None) -> int:
    """The number of models ``ensemble_size`` stands for with ``n_train`` training rows
    (None: not known up front, as by ``partial_fit``)."""
    if estimator.ensemble_size != "auto":
        return int(estimator.ensemble_size)
    if n_train is not None and n_train <= AUTO_ENSEMBLE_MAX_ROWS:
        return AUTO_ENSEMBLE_SIZE
    return 1


def member_seed(seed: int, member: int) -> int:
    """Member ``member``'s seed; member 0 uses the fit's own, as a single model does."""
    return (seed + 104_729 * member) % (2**31 - 1)


def dense_directions(estimator, dense_train, rows=None):
    """``(center, projection)`` of the directions ``whiten_below`` appends, or None.

    Found on the encoded dense training rows ``dense_train[rows]`` (``rows`` None:
    all; ``dense_train`` None: not in memory, as in a fit from a data source, so
    none).
    """
    if not estimator.whiten_below or dense_train is None:
        return None
    center, projection = low_variance_directions(dense_train, estimator.whiten_below, rows=rows)
    return (center, projection) if projection.shape[1] else None


def build_model(
    estimator,
    *,
    preprocessor,
    target,
    seed,
    steps_per_epoch,
    n_train=None,
    members=None,
    dense_train=None,
    dense_rows=None,
):
    """The compiled (and built) model of a fit: a :class:`~skrank.models.Ranking`, or an
    :class:`~skrank.models.Ensemble` of ``members`` of them (default: ``ensemble_size``
    resolved for ``n_train`` rows).

    ``n_train``, the number of training rows, sets ``frequency_scale="auto"``;
    ``dense_train[dense_rows]``, the encoded dense training rows (``dense_rows`` None:
    all), the directions of ``whiten_below``.
    """
    names = list(preprocessor.categorical_features_)
    n_outputs, final_activation, loss = target.output_spec()
    if members is None:
        members = ensemble_size(estimator, n_train)
    directions = dense_directions(estimator, dense_train, dense_rows)
    with strategy_scope(estimator):
        rankings = [
            build_ranking_model(
                estimator=estimator,
                vocabulary_sizes={n: preprocessor.vocabulary_sizes_[n] for n in names},
                n_dense=preprocessor.n_dense_out_,
                n_outputs=n_outputs,
                final_activation=final_activation,
                loss=loss,
                seed=member_seed(seed, i),
                frequency_scale=frequency_scale(estimator, n_train),
                directions=directions,
            )
            for i in range(members)
        ]
        model = rankings[0] if members == 1 else Ensemble(rankings)
        model.compile(
            optimizer=row_sparse(make_optimizer(estimator)),
            jit_compile=False,
            steps_per_execution=max(1, min(STEPS_PER_EXECUTION, steps_per_epoch)),
        )
        # Create every variable (and optimizer slot) now, eagerly, under the
        # strategy's scope if any. Left to the first training step, they would be
        # created inside its tf.function, which TensorFlow then traces a second
        # time: that halves the fixed cost of a fit (~2 s of ~4 s on 2 cores).
        dense = np.zeros((1, preprocessor.n_dense_out_), np.float32)
        categorical = np.zeros((1, len(names)), np.int32)
        model(model_inputs(dense, categorical, names), training=False)
        model.optimizer.build(model.trainable_variables)
    return model


def forward_of(model, preprocessor) -> CompiledForward:
    """The compiled prediction function of a trained model."""
    return CompiledForward(
        model, preprocessor.n_dense_out_, list(preprocessor.categorical_features_)
    )


# ---------------------------------------------------------------------- train
class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stop at the first non-finite batch loss, silently (``TerminateOnNaN`` prints)."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.model.stop_training = True


def user_callbacks(estimator) -> list:
    """The ``callbacks`` parameter as instances (classes get their routed parameters)."""
    callbacks = estimator.callbacks
    if callbacks is None:
        return []
    if isinstance(callbacks, keras.callbacks.Callback):
        return [callbacks]
    params = estimator.get_params()
    built = []
    for i, cb in enumerate(callbacks):
        if isinstance(cb, type):
            kwargs = route_params(params, destination=f"callbacks__{i}", pass_filter=set())
            cb = cb(**kwargs)
        if not isinstance(cb, keras.callbacks.Callback):
            raise TypeError(
                f"callbacks[{i}] must be a keras.callbacks.Callback instance or class; got {cb!r}."
            )
        built.append(cb)
    return built


def train(estimator, model, train_data, val_data, *, epochs, extra_callbacks=()) -> dict:
    """Train ``model`` on tf.data datasets of ``(x, y, sample_weight)`` batches.

    Returns the history: ``{"loss": [...], "val_loss": [...]}`` per epoch. With
    ``val_data``, training stops once the validation loss has not improved for
    ``n_iter_no_change`` epochs and the best weights are restored.
    ``extra_callbacks`` are the caller's own (the Ranker's early stopping on NDCG).
    """
    if estimator.distribution is not None:
        return strategy_fit(estimator, model, train_data, val_data, epochs=epochs)
    callbacks = user_callbacks(estimator)
    callbacks.append(StopOnNonFiniteLoss())
    callbacks.extend(extra_callbacks)
    if val_data is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=estimator.n_iter_no_change, restore_best_weights=True
            )
        )
    fit_kwargs = route_params(
        estimator.get_params(), destination="fit", pass_filter=set(), strict=True
    )
    fit_kwargs = {k: v for k, v in fit_kwargs.items() if not k.startswith("callbacks")}
    history = model.fit(
        train_data,
        validation_data=val_data,
        epochs=epochs,
        callbacks=callbacks,
        verbose=estimator.verbose,
        shuffle=False,  # the dataset reshuffles itself, with the fit's seed
        **fit_kwargs,
    )
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


def check_converged(estimator, history, model) -> None:
    """Raise if the loss or the weights became non-finite: never hand back a NaN model."""
    losses = history.get("loss", [])
    bad_epoch = next((i for i, v in enumerate(losses) if not math.isfinite(v)), None)
    weights_finite = all(np.all(np.isfinite(w)) for w in model.get_weights())
    if bad_epoch is None and weights_finite and losses:
        return
    what = f"{losses[bad_epoch]} at epoch {bad_epoch + 1}" if bad_epoch is not None else "nan"
    raise FloatingPointError(
        f"Training diverged: the loss became {what}; the estimator was not fitted. "
        f"Lower learning_rate (got {estimator.learning_rate}) or embedding_learning_rate, "
        "or check the target for extreme values."
    )


def fit_arrays(estimator, *, preprocessor, target, arrays, train_idx, val_idx, seed):
    """Model, history and batch size of a fit on encoded in-memory arrays.

    ``arrays`` are the encoded ``(dense, categorical, y, sample_weight)``;
    ``val_idx`` None means no early stopping.
    """
    dense, categorical, y, weights = arrays
    names = list(preprocessor.categorical_features_)
    n_train = len(y) if val_idx is None else len(train_idx)
    batch_size, epochs = resolve_schedule(estimator, n_train, early_stopping=val_idx is not None)

    def dataset(index, shuffle):
        return training_dataset(
            dense[index],
            categorical[index],
            names,
            y[index],
            weights[index],
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
        )

    model = build_model(
        estimator,
        preprocessor=preprocessor,
        target=target,
        seed=seed,
        steps_per_epoch=math.ceil(n_train / batch_size),
        n_train=n_train,
        dense_train=dense,
        dense_rows=None if val_idx is None else train_idx,
    )
    val_data = None if val_idx is None else dataset(val_idx, False)
    history = train(
        estimator, model, dataset(train_idx, estimator.shuffle), val_data, epochs=epochs
    )
    check_converged(estimator, history, model)
    return model, history, batch_size


def fitted_attributes(*, preprocessor, target, model, history, batch_size, warm_up=None) -> dict:
    """Every attribute a finished fit sets on the estimator.

    ``warm_up=(dense, categorical)``: encoded rows on which the prediction
    function is traced and its blocks checked now, so that the first
    prediction does not pay for it.
    """
    forward = forward_of(model, preprocessor)
    if warm_up is not None:
        forward.warm_up(*warm_up)
    fitted = {
        "preprocessor_": preprocessor,
        "n_features_in_": preprocessor.n_features_in_,
        **target.state,
        "_forward": forward,
        "model_": model,
        "history_": history,
        "n_iter_": len(history.get("loss", [])),
        "batch_size_": batch_size,
    }
    if hasattr(preprocessor, "feature_names_in_"):
        fitted["feature_names_in_"] = preprocessor.feature_names_in_
    if "val_loss" in history:
        fitted["best_validation_loss_"] = min(history["val_loss"])
    return fitted
