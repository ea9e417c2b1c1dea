"""fit / predict from Parquet and CSV files in record batches, and partial_fit."""

import numpy as np
import pytest
from sklearn.metrics import log_loss

from skrank import RankingClassifier, RankingRegressor
from skrank.data import CSVSource, ParquetSource
from skrank.datasets import make_ctr_classification
from tests.estimators.conftest import TINY_ONE_MODEL

TINY = TINY_ONE_MODEL


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ctr")
    X, y = make_ctr_classification(
        1500, n_dense=3, n_categorical=3, cardinalities=[5, 30, 300], random_state=0
    )
    table = X.assign(clicked=y)
    for i, start in enumerate(range(0, 1500, 600)):
        part = table.iloc[start : start + 600]
        part.to_parquet(folder / f"part-{i}.parquet", row_group_size=250)
        part.to_csv(folder / f"part-{i}.csv", index=False)
    return folder, X, y


def parquet(folder, **kwargs):
    return ParquetSource(str(folder / "*.parquet"), **{"target": "clicked", **kwargs})


@pytest.mark.parametrize("batch_rows", [100, 4096])
def test_streamed_fit_equals_in_memory_fit(files, batch_rows):
    folder, X, y = files
    kw = dict(TINY, epochs=2, shuffle=False, early_stopping=False)
    if batch_rows == 100:  # "auto" on 1,500 rows: five models, on both paths
        kw["ensemble_size"] = "auto"
    source = parquet(folder, batch_rows=batch_rows)
    streamed = RankingClassifier(**kw).fit(source)
    in_memory = RankingClassifier(**kw).fit(X, y)
    assert streamed.preprocessor_.categories_.keys() == in_memory.preprocessor_.categories_.keys()
    assert streamed.preprocessor_.vocabulary_sizes_ == in_memory.preprocessor_.vocabulary_sizes_
    np.testing.assert_array_equal(streamed.classes_, in_memory.classes_)
    expected = in_memory.predict_proba(X)
    np.testing.assert_allclose(streamed.predict_proba(X), expected, rtol=0, atol=1e-4)
    np.testing.assert_allclose(streamed.predict_proba(source), expected, rtol=0, atol=1e-4)
    np.testing.assert_array_equal(streamed.predict(source), streamed.predict(X))
    assert streamed.n_iter_ == 2 and streamed.batch_size_ == in_memory.batch_size_
    assert streamed.ensemble_size_ == in_memory.ensemble_size_ == (5 if batch_rows == 100 else 1)


def test_streamed_regressor_and_csv(files):
    folder, X, y = files
    kw = dict(TINY, epochs=1, shuffle=False, early_stopping=False)
    source = CSVSource(str(folder / "*.csv"), target="clicked", batch_rows=500)
    streamed = RankingRegressor(**kw).fit(source)
    in_memory = RankingRegressor(**kw).fit(X, y.astype(float))
    assert streamed.target_mean_ == pytest.approx(in_memory.target_mean_, rel=1e-12)
    assert streamed.target_scale_ == pytest.approx(in_memory.target_scale_, rel=1e-12)
    np.testing.assert_allclose(streamed.predict(source), in_memory.predict(X), atol=1e-4)


def test_streamed_shuffle_early_stopping_class_weight(files):
    folder, X, y = files
    kw = dict(TINY, epochs=3, early_stopping=True, class_weight="balanced")
    first = RankingClassifier(**kw).fit(parquet(folder, batch_rows=256))
    again = RankingClassifier(**kw).fit(parquet(folder, batch_rows=256))
    assert len(first.history_["val_loss"]) == first.n_iter_
    np.testing.assert_array_equal(first.predict_proba(X), again.predict_proba(X))
    assert first.best_validation_loss_ == min(first.history_["val_loss"])


def test_streamed_class_weight_matches_in_memory(files):
    folder, X, y = files
    kw = dict(TINY, epochs=1, shuffle=False, early_stopping=False, class_weight={0: 1.0, 1: 3.0})
    streamed = RankingClassifier(**kw).fit(parquet(folder))
    in_memory = RankingClassifier(**kw).fit(X, y)
    np.testing.assert_allclose(streamed.predict_proba(X), in_memory.predict_proba(X), atol=1e-4)


def test_source_errors(files, tmp_path):
    folder, X, y = files
    clf = RankingClassifier(**TINY, epochs=1)
    with pytest.raises(ValueError, match="takes no y"):
        clf.fit(parquet(folder), y)
    with pytest.raises(ValueError, match="no target column"):
        clf.fit(ParquetSource(str(folder / "*.parquet")))
    with pytest.raises(ValueError, match="sample_weight is not supported"):
        clf.fit(parquet(folder), sample_weight=np.ones(len(y)))
    X.assign(clicked=1).to_parquet(tmp_path / "one.parquet")
    with pytest.raises(ValueError, match="at least 2 classes"):
        clf.fit(ParquetSource(str(tmp_path / "one.parquet"), target="clicked"))


def test_partial_fit_one_epoch_equals_fit(files):
    _, X, y = files
    # An explicit ensemble_size: "auto" is one model by partial_fit, which cannot
    # know the table's size, and five for fit on these rows.
    kw = dict(TINY, shuffle=False, early_stopping=False, ensemble_size=2)
    full = RankingClassifier(**kw, epochs=1).fit(X, y)
    partial = RankingClassifier(**kw).partial_fit(X, y, classes=[0, 1])
    np.testing.assert_allclose(partial.predict_proba(X), full.predict_proba(X), atol=1e-6)
    assert partial.n_iter_ == 1 and partial.ensemble_size_ == 2
    assert RankingClassifier(**TINY).partial_fit(X, y, classes=[0, 1]).ensemble_size_ == 1


def test_partial_fit_chunks(files):
    folder, X, y = files
    clf = RankingClassifier(**TINY, learning_rate=0.01)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X[:500], y[:500])
    # Vocabularies from every file, then chunks.
    clf.fit_preprocessor(parquet(folder))
    assert not hasattr(clf, "model_")
    losses = []  # on all rows, after each chunk: training makes progress
    for start in range(0, 1500, 500):
        clf.partial_fit(X[start : start + 500], y[start : start + 500], classes=[0, 1])
        losses.append(log_loss(y, clf.predict_proba(X)[:, 1]))
    assert clf.n_iter_ == 3 and len(clf.history_["loss"]) == 3
    assert losses[-1] < losses[0]
    assert clf.preprocessor_.vocabulary_sizes_ == (
        RankingClassifier(**TINY).fit_preprocessor(X).preprocessor_.vocabulary_sizes_
    )
    with pytest.raises(ValueError, match="differs from the classes"):
        clf.partial_fit(X[:10], y[:10], classes=[0, 1, 2])
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X[:3], [0, 1, 5])


def test_partial_fit_regressor(files):
    _, X, y = files
    reg = RankingRegressor(**TINY)
    reg.partial_fit(X[:700], y[:700].astype(float))
    mean = reg.target_mean_
    reg.partial_fit(X[700:], y[700:].astype(float))
    assert reg.target_mean_ == mean and reg.n_iter_ == 2
    assert reg.predict(X).shape == (1500,)


def test_partial_fit_continues_a_fit(files):
    _, X, y = files
    clf = RankingClassifier(**TINY, epochs=1).fit(X, y)
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 2 and len(clf.history_["loss"]) == 2
