"""export(): a TensorFlow SavedModel, preprocessing inside, served without skrank."""

import json
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from skrank import RankingClassifier, RankingRegressor
from skrank._tf import import_tensorflow
from skrank.estimators._export import _hash_ids, serving_inputs, signature_names
from skrank.preprocessing import RankingPreprocessor
from skrank.preprocessing._categorical import N_RESERVED_IDS
from tests.estimators.conftest import mixed_frame

tf = import_tensorflow()

TINY = dict(
    embedding_dim=4, bottom_stack=(8,), top_stack=(8,), ensemble_size=1, epochs=3, random_state=0
)


def serving_frame(n=300, seed=0):
    """Every kind of column the SavedModel must reproduce, names that need sanitizing."""
    X, y = mixed_frame(n=n, seed=seed)
    rng = np.random.default_rng(seed)
    X["user id"] = pd.Series(rng.integers(0, 1000, n).astype(str), dtype=object)  # hashed
    X["1st item"] = rng.integers(0, 5, n).astype(float)  # integer ids, listed as categorical
    X["count"] = rng.poisson(2.0, n)
    X.loc[0, "count"] = 10**6  # heavy tail: log1p
    # Nearly visits: their difference is a low-variance direction (whiten_below).
    X["sessions"] = np.asarray(X["visits"], dtype=float) + rng.normal(0, 0.3, n)
    return X, y


def unusual_rows(X):
    """Unseen categories, missing values and infinities in every column kind."""
    X = X.head(8).copy()
    X["city"] = ["berlin", None, "paris", "tokyo", "lima", "x", "oslo", "paris"]
    X["device"] = pd.Categorical(
        ["tv", None, "ios", "web", "tv", "ios", None, "web"],
        categories=["ios", "android", "web", "tv"],
    )
    X["premium"] = pd.Series([True, None, False, True, None, False, True, True], dtype=object)
    X["visits"] = pd.array([None, 1, 50, None, 2, 3, 4, 0], dtype="Int64")
    X["price"] = [np.nan, np.inf, -np.inf, 1e9, -5.0, 0.0, np.nan, 3.5]
    X["note"] = pd.Series(["a", None, "never", "b", None, "a", "b", "zzz"], dtype=object)
    X["user id"] = ["999999", None, "1", "42", None, "abc", "1", "77"]
    X["1st item"] = [0.0, 17.0, np.nan, 4.0, 2.0, 1.0, 3.0, -1.0]
    X["count"] = [0, 10**6, -3, 2, 1, 0, 5, 7]
    X["sessions"] = [1.0, np.nan, 80.0, 0.5, 2.0, -np.inf, 4.0, 0.2]
    return X


def export_three_estimators(root):
    """Three fitted estimators, their SavedModels and the expected outputs."""
    X, y = serving_frame()
    X_test = pd.concat([X.head(200), unusual_rows(X)], ignore_index=True)
    labels = np.where(X["city"].to_numpy() == "paris", "p", np.where(y == 1, "yes", "no"))
    common = dict(TINY, categorical_features=["1st item"], hash_buckets=100, max_categories=50)
    estimators = {
        "binary": RankingClassifier(**common, min_frequency=3).fit(X, y),
        "multiclass": RankingClassifier(**common, interaction="cross").fit(X, labels),
        # Two models side by side: the export serves their mean.
        "regressor": RankingRegressor(**{**common, "ensemble_size": 2}).fit(
            X, X["price"].fillna(0) * 10 + y
        ),
    }
    cases = {}
    for name, est in estimators.items():
        path = root / name
        mapping = est.export(path)
        expected = est.predict_proba(X_test) if name != "regressor" else est.predict(X_test)
        cases[name] = {
            "path": str(path),
            "inputs": {k: v.tolist() for k, v in serving_inputs(est, X_test).items()},
            "expected": expected.tolist(),
            "mapping": mapping,
        }
    return estimators, cases, X_test


ISOLATED = textwrap.dedent(
    """
    import json, sys
    sys.path.append({site!r})  # TensorFlow's site-packages, without .pth files: no skrank
    try:
        import skrank
    except ImportError:
        pass
    else:
        raise SystemExit("skrank must not be importable here")
    import numpy as np
    import tensorflow as tf
    cases = json.load(sys.stdin)
    results = {{}}
    for name, case in cases.items():
        signature = tf.saved_model.load(case["path"]).signatures["serving_default"]
        specs = signature.structured_input_signature[1]
        inputs = {{k: tf.constant(v, dtype=specs[k].dtype) for k, v in case["inputs"].items()}}
        outputs = signature(**inputs)
        results[name] = {{
            "outputs": {{k: v.numpy().tolist() for k, v in outputs.items()}},
            "specs": {{k: s.dtype.name for k, s in specs.items()}},
        }}
    json.dump(results, sys.stdout)
    """
)


def serve_in_isolated_python(cases):
    """Outputs of the SavedModels in a fresh Python where skrank cannot be imported."""
    code = ISOLATED.format(site=sysconfig.get_paths()["purelib"])
    request = {k: {key: c[key] for key in ("path", "inputs")} for k, c in cases.items()}
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_saved_model_matches_predict_without_skrank(tmp_path):
    # One test, not several: the three fits and the fresh TensorFlow process are the
    # expensive part, and pytest-xdist would repeat a shared fixture in every worker.
    estimators, cases, X_test = export_three_estimators(tmp_path)
    assert estimators["regressor"].ensemble_size_ == 2
    for est in estimators.values():  # the SavedModel appends the directions too
        member = getattr(est.model_, "members", [est.model_])[0]
        assert member.dense_embedding_layer.layers[0].n_directions >= 1
    served = serve_in_isolated_python(cases)
    outputs = {"binary": "probabilities", "multiclass": "probabilities", "regressor": "predictions"}
    for name, output in outputs.items():
        assert list(served[name]["outputs"]) == [output]
        got = np.asarray(served[name]["outputs"][output])
        expected = np.asarray(cases[name]["expected"])
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5, err_msg=name)
    check_signature(estimators, cases, served, X_test)
    check_preprocessing_rules(estimators["binary"].preprocessor_)
    check_serving_inputs(estimators["binary"], X_test.tail(8))


def check_signature(estimators, cases, served, X_test):
    mapping = cases["binary"]["mapping"]
    assert mapping == {
        "city": "city",
        "device": "device",
        "premium": "premium",
        "visits": "visits",
        "price": "price",
        "note": "note",
        "user id": "user_id",
        "1st item": "x_1st_item",
        "count": "count",
        "sessions": "sessions",
    }
    categorical = set(estimators["binary"].preprocessor_.categorical_features_)
    expected = {mapping[c]: ("string" if c in categorical else "float64") for c in X_test.columns}
    assert served["binary"]["specs"] == expected
    described = json.loads(
        (Path(cases["multiclass"]["path"]) / "assets.extra" / "skrank_columns.json").read_text()
    )
    assert described["classes"] == ["no", "p", "yes"]
    assert described["inputs"]["x_1st_item"] == {
        "column": "1st item",
        "kind": "categorical",
        "dtype": "string",
    }


def check_preprocessing_rules(prep):
    assert prep.hashed_features_ == ["user id"]
    assert "count" in prep.log_transformed_features_
    assert set(prep.missing_indicator_features_) >= {"visits", "price"}
    assert prep.vocabulary_sizes_["1st item"] == 5 + N_RESERVED_IDS
    ids = prep.encode(unusual_rows(serving_frame()[0]))[1].T
    ids = dict(zip(prep.categorical_features_, ids, strict=True))
    assert ids["city"][:2].tolist() == [1, 0]  # unseen, missing
    assert ids["1st item"][1:3].tolist() == [1, 0]


def check_serving_inputs(estimator, rows):
    inputs = serving_inputs(estimator, rows)
    assert inputs["city"].tolist()[:2] == ["berlin", ""]
    assert inputs["premium"].tolist()[:3] == ["True", "", "False"]
    assert inputs["x_1st_item"].tolist()[:4] == ["0", "17", "", "4"]
    assert np.isnan(inputs["visits"][0]) and inputs["visits"][2] == 50.0
    assert inputs["price"].dtype == np.float64 and np.isposinf(inputs["price"][1])


def test_hashed_ids_in_tensorflow_equal_the_preprocessor():
    values = [f"user_{i}" for i in range(2000)] + ["", "日本", "a" * 300, "3", "True"]
    X = pd.DataFrame({"c": pd.Series(values, dtype=object)})
    for buckets in (1, 7, 1000, 2**30):
        prep = RankingPreprocessor(hash_buckets=buckets, max_categories=1).fit(X)
        expected = prep.encode(X)[1][:, 0]
        got = _hash_ids(tf.constant(values), buckets).numpy()
        np.testing.assert_array_equal(got, expected)
        assert got.min() >= N_RESERVED_IDS and got.max() < buckets + N_RESERVED_IDS


def test_signature_names_are_valid_and_unique():
    names = signature_names(["a b", "a_b", "a-b", "", "_x", "é", "ok", "9", "x_9"])
    assert names == {
        "a b": "a_b",
        "a_b": "a_b_2",
        "a-b": "a_b_3",
        "": "x_",
        "_x": "x__x",
        "é": "x__",
        "ok": "ok",
        "9": "x_9",
        "x_9": "x_9_2",
    }
    assert all(name.isascii() and name[0].isalpha() for name in names.values())


def test_empty_string_category_warns(tmp_path):
    X = pd.DataFrame({"c": ["", "a", "b", ""] * 10, "d": np.arange(40.0)})
    clf = RankingClassifier(**{**TINY, "epochs": 1}).fit(X, [0, 1] * 20)
    with pytest.warns(UserWarning, match="Column 'c' has the empty string as a category"):
        clf.export(tmp_path / "m")


def test_export_before_fit_raises(tmp_path):
    with pytest.raises(NotFittedError):
        RankingRegressor().export(tmp_path / "m")
