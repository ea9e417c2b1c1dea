"""
=====================================================
Saving a model and exporting it for serving
=====================================================

Two ways to keep a fitted estimator:

- **pickle / joblib** keeps the whole scikit-learn estimator (preprocessor
  and Keras model) for use from Python with the same skrank version;
- :meth:`~skrank.RankingClassifier.export` writes a TensorFlow SavedModel
  that takes the raw columns and needs neither skrank nor scikit-learn to
  serve, e.g. from TensorFlow Serving or ``tf.saved_model.load``.
"""

# %%
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np

from skrank import RankingClassifier
from skrank.datasets import make_ctr_classification

# SKRANK_EXAMPLE_SMALL=1 shrinks the data for the test suite.
SMALL = os.environ.get("SKRANK_EXAMPLE_SMALL") == "1"

X, y = make_ctr_classification(
    n_samples=290 if SMALL else 20_000,
    n_dense=3,
    n_categorical=5,
    cardinalities=[10, 20, 50, 100, 200],
    random_state=0,
)
classifier = RankingClassifier(
    embedding_dim=8,
    bottom_stack=(32,),
    top_stack=(64,),
    epochs=2 if SMALL else "auto",
    random_state=0,
).fit(X, y)
expected = classifier.predict_proba(X.head(5))[:, 1]

# %%
# Pickle
# ------
# The pickle holds the preprocessor and the model's architecture and weights;
# the unpickled estimator predicts exactly the same probabilities.
restored = pickle.loads(pickle.dumps(classifier))
print(np.array_equal(restored.predict_proba(X.head(5))[:, 1], expected))

# %%
# Export a SavedModel
# -------------------
import tensorflow as tf  # noqa: E402

export_dir = Path(tempfile.mkdtemp()) / "ctr_model" / "1"
input_names = classifier.export(export_dir)
print(input_names)

# %%
# The SavedModel has the preprocessing inside: its ``serving_default``
# signature takes one 1-D tensor per raw column, named as ``export`` returned,
# and the column list and dtypes are also written to
# ``assets.extra/skrank_columns.json`` beside it.
print(sorted(p.name for p in export_dir.iterdir()))

# %%
# Serve it
# --------
# Load it with TensorFlow alone. Categorical columns are fed as strings, with
# ``""`` for a missing value; dense columns as float64, with NaN for a missing
# value. The classifier's output is ``"probabilities"``, in the order of
# ``classes_``.
served = tf.saved_model.load(str(export_dir))
serving_fn = served.signatures["serving_default"]

batch = X.head(5)
kinds = classifier.preprocessor_.column_kinds_
request = {}
for column, name in input_names.items():
    if kinds[column] == "categorical":
        request[name] = tf.constant(batch[column].fillna("").astype(str).to_numpy(dtype=object))
    else:
        request[name] = tf.constant(batch[column].to_numpy(dtype="float64"))

served_proba = serving_fn(**request)["probabilities"].numpy()[:, 1]
print("served:   ", served_proba.round(4))
print("estimator:", expected.round(4))
print("largest difference:", float(np.max(np.abs(served_proba - expected))))

# %%
# The same request, as JSON lists, is the ``"inputs"`` object of a TensorFlow
# Serving REST call (``POST /v1/models/<name>:predict``) for a model directory
# such as ``models/ctr/1``.
import shutil  # noqa: E402

shutil.rmtree(export_dir.parent.parent)  # remove the temporary folder
