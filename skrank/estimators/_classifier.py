"""RankingClassifier: click-through-rate (binary) and multiclass prediction."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import StrOptions

from skrank.estimators._base import _RankingBase
from skrank.estimators._targets import ClassTarget


class RankingClassifier(ClassifierMixin, _RankingBase):
    """Deep ranking classifier (DLRM by default, DCN-v2 with ``interaction="cross"``).

    A scikit-learn classifier around :class:`skrank.models.Ranking`: a pandas
    DataFrame of mixed categorical and numeric columns goes through
    :class:`~skrank.RankingPreprocessor` (vocabularies with reserved ids for
    missing and unseen values, dense scaling), then trains embeddings, a bottom
    MLP over the dense features, a feature-interaction layer and a top MLP.
    Binary targets get a sigmoid output and binary cross-entropy (CTR);
    more classes get a softmax output and sparse categorical cross-entropy.

    Parameters
    ----------
    categorical_features, dense_features : "auto" or list of str or int, default="auto"
        Which columns are categorical (embedded) and which are dense (scaled).
        ``"auto"``: string, object, category and bool columns are categorical,
        numeric ones dense. Passed to :class:`~skrank.RankingPreprocessor`.
    min_frequency : int or float, default=2
        Categories seen fewer times (or in a smaller fraction of rows) at fit
        share the "unknown" id. The default maps ids seen once to "unknown": their
        own embedding could only memorize one row, while the shared one is trained
        by all of them and then serves ids never seen at fit (cold start).
    max_categories : int, default=None
        Cap on each column's vocabulary (most frequent kept).
    hash_buckets : int, default=None
        Hash columns with more distinct values than the cap into this many buckets
        (bounded memory for very high-cardinality columns).
    log_transform : "auto", bool or list of str, default="auto"
        Which dense columns get ``log1p`` before scaling (heavy-tailed counts).
    missing_indicator : bool, default=True
        Add a 0/1 dense column for each dense column that had missing values at fit.
    list_features : dict of str to str, default=None
        Columns of delimited strings to read as lists of categories, with their
        separators, e.g. ``{"genres": "|"}``. Columns whose cells are lists,
        tuples or arrays (and pyarrow list columns) are list columns anyway: each
        token is embedded and a row's vectors are pooled (their mean).
    embedding_dim : int, default=16
        Width of every embedding table (and of the bottom MLP's output).
    bottom_stack : tuple of int, default=(256, 64)
        Hidden widths of the bottom MLP over dense features; a layer of width
        ``embedding_dim`` is appended for you.
    top_stack : tuple of int, default=(512, 256)
        Hidden widths of the top MLP; the output layer is appended for you.
    interaction : {"dot", "cross"} or keras.layers.Layer, default="cross"
        Feature interaction: ``"cross"`` a DCN-v2 cross network (the better of
        the two on skrank's quality suite, at about 1.4x the training compute),
        ``"dot"`` DLRM's pairwise dot products, or any Keras layer taking the
        list of embeddings (and the bottom MLP's output).
    cross_layers : int, default=3
        Number of cross layers when ``interaction="cross"``.
    cross_projection_dim : int, default=None
        Low-rank projection of the cross layers (None: full rank).
    activation : str, default="relu"
        Activation of the hidden layers.
    numeric_embedding : {"periodic"} or None, default="periodic"
        ``"periodic"``: every dense column gets an embedding of its own
        (:class:`~skrank.layers.PeriodicEmbedding`, the PLR embedding of Gorishniy
        et al., 2022) and the bottom MLP takes these vectors instead of the raw
        values (MLP-PLR), so that single numeric thresholds are easy to learn.
        None: the bottom MLP takes the scaled dense values (the plain DLRM).
    frequency_scale : float or "auto", default="auto"
        Standard deviation of the initial frequencies of the periodic embedding
        (its ``sigma``), on the standardized dense values: larger values let a
        column act more like a lookup of its exact values, which pays only with
        many rows. ``"auto"``: ``0.3 * (n_train / 20_000) ** (1 / 3)`` clipped to
        [0.1, 1.0] (0.1 below ~750 rows, 0.3 at 20,000, 0.63 at 200,000), the
        cube-root growth of histogram bin counts with the number of rows.
    whiten_below : float in [0, 1) or None, default=0.2
        Append to the scaled dense features the principal directions of their
        correlation matrix whose variance is below this (each column has variance
        1) but above 0.001 (exact dependencies stay out), each rescaled to unit variance
        and clipped to +-10 (:class:`~skrank.layers.LowVarianceDirections`).
        Such a direction is a near-exact relation between correlated columns
        (family income minus the income without the wife's); at its tiny scale
        gradient steps barely see it, while a linear model or trees do. Found on
        the training rows in memory (the first batch of :meth:`partial_fit`; a
        fit from a data source has none), with at least 10 rows per dense
        feature. On skrank's quality suite it raised mroz's AUC from 0.865 to
        0.938 and lending_club's from 0.761 to 0.765, and lowered the RMSE on
        hitters and college, but raised boston's from 3.52 to 3.69
        (:ref:`tuning`). 0 or None: none.
    embedding_l2 : float, default=0.0
        L2 penalty on the embedding rows looked up in each batch (mean over the
        rows of the batch of their summed squared embeddings), added to the
        training loss: regularizes ids seen in few rows.
    id_dropout : float, default=0.0
        In training, each id (and list token) becomes the unknown id with this
        probability, so that ids unseen at fit time (new users, items, tags) get
        an embedding trained on all rows and the model learns to predict from the
        other columns without them (cold start).
    list_combiner : {"sum", "mean", "sqrtn"}, default="sum"
        How the token vectors of a row of a list column are pooled: their sum,
        their mean, or their sum over the square root of their number. "sum"
        measured best on bags of tags whose effects add up, and as well as the
        others on MovieLens genres (``skrank/benchmarks/_lists.py``).
    dropout : float, default=0.0
        Dropout rate after each hidden layer of the top MLP, during training.
    ensemble_size : int or "auto", default="auto"
        Number of models trained side by side (same batches, each its own seeded
        weights and loss; :class:`skrank.models.Ensemble`), whose predicted
        probabilities are averaged. On small tables the variance between seeds
        is large and averaging cancels much of it: on skrank's quality suite 5
        models raised the AUC on every table of 1,700 to 22,000 training rows
        but one (+0.010 on verbagg, +0.006 on guimmun, -0.0006 on
        lending_club), on 9 of 10 of its small tables of 300 to 1,000 training
        rows, and on 5 of 6 tiny tables of 74 to 210. ``"auto"``: 5 up to
        30,000 training rows (after early stopping's validation rows are held
        out), else 1; 1 by
        ``partial_fit``, where the table's size is not known up front.
        Training and prediction cost about 3-4x one model's time with 5 models.
        The resolved value is ``ensemble_size_``.
    dtype_policy : {"auto", "float32", "mixed_bfloat16"}, default="auto"
        Precision of the computation. ``"mixed_bfloat16"``: the MLPs and the
        interaction compute in bfloat16 (float32 weights; embedding tables and the
        output layer stay float32), up to 1.5x faster training on CPUs with
        bfloat16 matrix units at the same held-out AUC. ``"auto"`` picks it on x86
        CPUs with AMX-BF16 or AVX512-BF16 and no GPU, else ``"float32"``. The
        resolved policy is ``dtype_policy_``.
    optimizer : str, keras optimizer class or instance, default="adam"
        Optimizer of the dense weights (of all weights unless
        ``embedding_optimizer`` or ``embedding_learning_rate`` is set). Routed
        parameters such as ``optimizer__beta_1=0.8`` are passed to it.
    learning_rate : float, default=1e-3
        Learning rate of ``optimizer``.
    embedding_optimizer : str, keras optimizer class or instance, default=None
        Separate optimizer for the embedding tables (e.g. ``"adagrad"``), combined
        with ``optimizer`` through :class:`~skrank.optimizers.CompositeOptimizer`.
    embedding_learning_rate : float, default=None
        Learning rate of the embedding optimizer (defaults to ``learning_rate``).
    batch_size : int or "auto", default="auto"
        Rows per gradient step. ``"auto"``: 256 up to 50,000 training rows (at
        least 24 steps per epoch on tiny tables: ``max(16, n_train // 24)`` when
        smaller), 512 up to 200,000, 1024 beyond.
    epochs : int or "auto", default="auto"
        Passes over the training data. ``"auto"``: with early stopping, at most
        100 (early stopping ends sooner); without, enough epochs for about 250
        gradient steps, at least 2 and at most 100.
    early_stopping : bool or "auto", default="auto"
        Hold out ``validation_fraction`` of the rows (stratified) and stop when the
        validation loss has not improved for ``n_iter_no_change`` epochs,
        restoring the weights of the best epoch. ``"auto"``: on from 1,000 rows.
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping.
    n_iter_no_change : int, default=3
        Patience of early stopping, in epochs.
    shuffle : bool, default=True
        Reshuffle the training rows every epoch (seeded by ``random_state``).
    callbacks : list of keras.callbacks.Callback, default=None
        Extra Keras callbacks for ``fit`` (instances or classes; a class gets routed
        parameters ``callbacks__<i>__<name>``).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialization, shuffling and the validation split. The same
        integer gives identical predictions in any process; the global numpy,
        Python and TensorFlow random states are left untouched.
    verbose : int, default=0
        0 prints nothing; 1 shows Keras's progress bar; 2 one line per epoch.
    distribution : tf.distribute.Strategy, default=None
        Build and train the model under this strategy (data-parallel training,
        e.g. ``tf.distribute.MultiWorkerMirroredStrategy()`` with ``TF_CONFIG``
        set on each worker). ``batch_size`` is then the global batch, split across
        replicas. skrank drives the training steps itself (``keras.Model.fit`` does
        not run under ``MultiWorkerMirroredStrategy``), so ``callbacks`` must be
        None. Clones share the strategy; pickles drop it. See
        the user guide pages "Scaling out" and "Running on a cluster".
    **kwargs
        Routed parameters: ``model__*`` (to :class:`~skrank.models.Ranking`),
        ``optimizer__*``, ``embedding_optimizer__*``, ``fit__*`` (to
        ``keras.Model.fit``), ``callbacks__*``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    preprocessor_ : RankingPreprocessor
        The fitted preprocessor (its ``categorical_features_`` and
        ``dense_features_`` tell which column went where).
    model_ : skrank.models.Ranking or skrank.models.Ensemble
        The trained Keras model (an Ensemble of ``ensemble_size_`` Ranking
        models when there are several).
    ensemble_size_ : int
        Number of models trained side by side (``ensemble_size`` resolved).
    dtype_policy_ : str
        The dtype policy the model computes in: ``dtype_policy`` with ``"auto"``
        resolved.
    history_ : dict of str to list of float
        Per-epoch training (and validation) loss.
    n_iter_ : int
        Number of epochs run.
    best_validation_loss_ : float
        Smallest validation loss, that of the restored weights (only with early
        stopping); equal to ``min(history_["val_loss"])``.
    batch_size_ : int
        Batch size used.
    n_features_in_ : int
        Number of columns seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen during fit (when X had string column names).

    See Also
    --------
    RankingRegressor : The same model for ratings and other continuous targets.
    sklearn.ensemble.HistGradientBoostingClassifier : A strong tabular baseline.

    Examples
    --------
    >>> import pandas as pd
    >>> from skrank import RankingClassifier
    >>> X = pd.DataFrame({"user": list("abcdabcdabcdabcd"), "age": range(16)})
    >>> y = [0, 1, 0, 1] * 4
    >>> clf = RankingClassifier(embedding_dim=4, bottom_stack=(8,), top_stack=(8,),
    ...                         epochs=5, random_state=0).fit(X, y)
    >>> clf.predict_proba(X).shape
    (16, 2)
    >>> list(clf.classes_)
    [0, 1]
    """

    _parameter_constraints: dict = {
        **_RankingBase._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    _target_kind = ClassTarget

    def __init__(self, *, class_weight=None, **kwargs):
        super().__init__(**kwargs)
        self.class_weight = class_weight

    __init__.__signature__ = _RankingBase._signature_with(class_weight=None)

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : DataFrame, array-like of shape (n_samples, n_features) or FileSource
            Rows to score; columns are matched by name when fitted on a DataFrame.
            A :mod:`skrank.data` source is streamed in record batches.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; rows sum to 1.
        """
        raw = self._predict_raw(X).astype(np.float64)
        if raw.ndim == 1:
            raw = np.clip(raw, 0.0, 1.0)
            return np.column_stack([1.0 - raw, raw])
        return raw / raw.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Most probable class of each row.

        Parameters
        ----------
        X : DataFrame, array-like of shape (n_samples, n_features) or FileSource
            Rows to classify.
            A :mod:`skrank.data` source is streamed in record batches.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)  # checks that the estimator is fitted
        return self.classes_[np.argmax(proba, axis=1)]

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch on one chunk of rows, as ``SGDClassifier.partial_fit``.

        The first call builds the model: it fits the preprocessor on its chunk,
        unless :meth:`fit_preprocessor` was called before (to take the
        vocabularies and the dense scaling from a sample or from files), and takes
        the classes from ``classes``. ``batch_size="auto"`` is resolved on the
        first chunk. Each call runs one epoch over its chunk with the same model
        and optimizer state; ``n_iter_`` counts the calls. ``fit`` starts over.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            One chunk of rows, with the columns of the first chunk.
        y : array-like of shape (n_samples,)
            Its labels, all in ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every label of the problem; required on the first call, optional (and
            checked) afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; rescaled to mean 1 within the chunk.

        Returns
        -------
        self : RankingClassifier
            The updated estimator.
        """
        return self._partial_fit(X, y, classes, sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags
