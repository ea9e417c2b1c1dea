"""The implementations the benchmark compares, behind one small interface.

Each contender is fitted on a pandas DataFrame and scores DataFrame rows, except the
hand-written Keras model, which (as its users would) encodes the table once with
scikit-learn outside the timings and feeds numpy arrays to ``model.fit`` /
``model.predict``. ``prepare`` does that untimed work; ``fit`` and ``predict_proba``
are what the benchmark times.

The benchmark calls every contender's ``predict_proba`` once, untimed, before each timed
call (and once before the timed one-row calls), so all of them are timed warm.
"""

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder

# HistGradientBoosting's native categorical support takes at most this many categories.
_HGB_MAX_CATEGORIES = 255


class Contender:
    """Base class: ``prepare`` (untimed), ``fit`` and ``predict_proba`` (timed)."""

    name = ""
    label = ""
    #: Further ``predict_proba(X, batch_size=...)`` batch sizes to time, beside the default.
    extra_predict_batches = ()

    def prepare(self, X_train, X_test):
        """Untimed work before ``fit``; returns the inputs ``fit`` and ``predict_proba`` take."""
        return X_train, X_test

    def fit(self, X, y):  # pragma: no cover - abstract
        raise NotImplementedError

    def predict_proba(self, X):  # pragma: no cover - abstract
        """Probability of the positive class, shape (n_samples,)."""
        raise NotImplementedError

    def one_row(self, X, i):
        """Row ``i`` of a prepared input, as that contender's users would pass it."""
        return X.iloc[i : i + 1]


class SkrankContender(Contender):
    """skrank's RankingClassifier on the raw DataFrame (preprocessing timed)."""

    name = "skrank"
    label = "skrank RankingClassifier, default model: DCN-v2, periodic numeric embeddings"

    def __init__(self, *, seed, epochs=1, batch_size=1024, **params):
        # One model, as the hand-written contender is (ensemble_size="auto" would train
        # five side by side on the --quick run's 20,000 rows).
        self.params = dict(
            epochs=epochs,
            batch_size=batch_size,
            early_stopping=False,
            ensemble_size=1,
            random_state=seed,
        )
        self.params.update(params)

    def fit(self, X, y):
        from skrank import RankingClassifier

        self.model = RankingClassifier(**self.params).fit(X, y)
        return self

    def predict_proba(self, X):
        return self.model.predict_proba(X)[:, 1]


class SkrankDLRMContender(SkrankContender):
    """skrank built as the hand-written model is: the like-for-like comparison.

    skrank's default model is DCN-v2 with periodic numeric embeddings, which costs
    more compute per row than the hand-written DLRM; ``interaction="dot"`` and
    ``numeric_embedding=None`` give the same architecture (embeddings, bottom MLP
    (256, 64, 16), dot interaction, top MLP (512, 256, 1)).
    """

    name = "skrank_dlrm"
    label = "skrank RankingClassifier as DLRM (interaction='dot', numeric_embedding=None)"

    def __init__(self, *, seed, epochs=1, batch_size=1024, **params):
        params = {"interaction": "dot", "numeric_embedding": None, **params}
        super().__init__(seed=seed, epochs=epochs, batch_size=batch_size, **params)


class SkrankFloat32Contender(SkrankDLRMContender):
    """skrank as DLRM with ``dtype_policy="float32"``: also the Keras model's precision.

    Where ``dtype_policy="auto"`` picks bfloat16 (CPUs with bfloat16 matrix units),
    this row separates the speed-up of the precision from the rest.
    """

    name = "skrank_float32"
    label = "skrank RankingClassifier as DLRM, dtype_policy='float32'"

    def __init__(self, *, seed, epochs=1, batch_size=1024):
        super().__init__(seed=seed, epochs=epochs, batch_size=batch_size, dtype_policy="float32")


class SkrankDefaultContender(SkrankContender):
    """RankingClassifier with every default (auto schedule, early stopping)."""

    name = "skrank_default"
    label = "skrank RankingClassifier, default parameters"

    def __init__(self, *, seed):
        self.params = {"random_state": seed}


class KerasContender(Contender):
    """The hand-written Keras 3 DLRM on arrays pre-encoded by scikit-learn."""

    name = "keras"
    label = "hand-written Keras 3 DLRM (pre-encoded arrays)"
    # ``model.predict`` runs fastest at batches far above the training batch; the
    # benchmark reports the fastest of these beside the training batch.
    extra_predict_batches = (8192, 16384, 65536)

    def __init__(self, *, seed, epochs=1, batch_size=1024):
        self.seed, self.epochs, self.batch_size = seed, epochs, batch_size

    def prepare(self, X_train, X_test):
        from skrank.benchmarks._reference import ReferenceEncoder

        self.encoder = ReferenceEncoder().fit(X_train)
        return self.encoder.transform(X_train), self.encoder.transform(X_test)

    def fit(self, X, y):
        from skrank.benchmarks._reference import build_reference_dlrm

        dense, ids = X
        self.model = build_reference_dlrm(
            self.encoder.vocabulary_sizes_, dense.shape[1], seed=self.seed
        )
        self.model.fit(
            [dense, ids],
            np.asarray(y, dtype=np.float32),
            batch_size=self.batch_size,
            epochs=self.epochs,
            shuffle=True,
            verbose=0,
        )
        return self

    def predict_proba(self, X, batch_size=None):
        dense, ids = X
        batch_size = batch_size or self.batch_size
        return self.model.predict([dense, ids], batch_size=batch_size, verbose=0).ravel()

    def one_row(self, X, i):
        dense, ids = X
        return dense[i : i + 1], ids[i : i + 1]


class HGBContender(Contender):
    """HistGradientBoostingClassifier behind an OrdinalEncoder, from the DataFrame."""

    name = "hgb"
    label = "HistGradientBoostingClassifier (OrdinalEncoder, DataFrame in)"

    def __init__(self, *, seed):
        self.seed = seed

    def fit(self, X, y):
        categorical = [c for c in X.columns if not is_numeric_dtype(X[c])]
        dense = [c for c in X.columns if c not in categorical]
        # Columns with few categories use HGB's native categorical splits; the others
        # are split as ordinal numbers (native support caps at 255 categories).
        native = [c for c in categorical if X[c].nunique() < _HGB_MAX_CATEGORIES]
        ordinal = [c for c in categorical if c not in native]
        encoder = ColumnTransformer(
            [
                (
                    "native",
                    OrdinalEncoder(
                        handle_unknown="use_encoded_value",
                        unknown_value=np.nan,
                        encoded_missing_value=np.nan,
                    ),
                    native,
                ),
                (
                    "ordinal",
                    OrdinalEncoder(
                        handle_unknown="use_encoded_value",
                        unknown_value=-1,
                        encoded_missing_value=-2,
                    ),
                    ordinal,
                ),
                ("dense", "passthrough", dense),
            ]
        )
        is_native = [True] * len(native) + [False] * (len(ordinal) + len(dense))
        self.model = make_pipeline(
            encoder,
            HistGradientBoostingClassifier(categorical_features=is_native, random_state=self.seed),
        ).fit(X, y)
        return self

    def predict_proba(self, X):
        return self.model.predict_proba(X)[:, 1]


class LightGBMContender(Contender):
    """LightGBM's LGBMClassifier on pandas ``category`` columns, from the DataFrame.

    The string columns are cast to ``category`` dtypes fixed at ``fit`` (inside the
    timings, in ``fit`` and in every ``predict_proba``), as its users would; values
    unseen in ``fit`` become missing.
    """

    name = "lightgbm"
    label = "LightGBM LGBMClassifier (pandas categories, DataFrame in)"

    def __init__(self, *, seed):
        self.seed = seed

    def _categorical(self, X):
        # Values unseen in fit (and missing values) get code -1: missing.
        X = X.copy(deep=False)
        for column, dtype in self.dtypes_.items():
            codes = dtype.categories.get_indexer(X[column])
            X[column] = pd.Categorical.from_codes(codes, dtype=dtype)
        return X

    def fit(self, X, y):
        from lightgbm import LGBMClassifier

        self.dtypes_ = {
            c: pd.CategoricalDtype(pd.unique(X[c].dropna()))
            for c in X.columns
            if not is_numeric_dtype(X[c])
        }
        self.model = LGBMClassifier(verbose=-1, random_state=self.seed)
        self.model.fit(self._categorical(X), y)
        return self

    def predict_proba(self, X):
        return self.model.predict_proba(self._categorical(X))[:, 1]


def contenders(names, *, seed, epochs, batch_size):
    """The contenders to time, by name."""
    factories = {
        "skrank": lambda: SkrankContender(seed=seed, epochs=epochs, batch_size=batch_size),
        "skrank_dlrm": lambda: SkrankDLRMContender(seed=seed, epochs=epochs, batch_size=batch_size),
        "skrank_float32": lambda: SkrankFloat32Contender(
            seed=seed, epochs=epochs, batch_size=batch_size
        ),
        "keras": lambda: KerasContender(seed=seed, epochs=epochs, batch_size=batch_size),
        "hgb": lambda: HGBContender(seed=seed),
        "lightgbm": lambda: LightGBMContender(seed=seed),
    }
    return [factories[name]() for name in names]
