"""Hyperparameter search over skrank estimators on a dask.distributed cluster."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

from skrank import RankingClassifier
from skrank.datasets import make_ctr_classification

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install 'skrank[distributed]')"
)
joblib = pytest.importorskip("joblib")

TINY = dict(embedding_dim=4, bottom_stack=(8,), top_stack=(8,), epochs=2, batch_size=64)


@pytest.fixture(scope="module")
def client():
    # Processes with one thread each, and TensorFlow limited to one core per
    # worker (SKRANK_TF_THREADS is read when skrank imports TensorFlow there).
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        env={"SKRANK_TF_THREADS": "1"},
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


def searches():
    estimator = RankingClassifier(**TINY, random_state=0)
    return [
        GridSearchCV(
            estimator, {"learning_rate": [1e-3, 3e-2]}, cv=2, scoring="roc_auc", refit=False
        ),
        RandomizedSearchCV(
            estimator,
            {"learning_rate": [1e-3, 1e-2, 3e-2], "top_stack": [(4,), (8,)]},
            n_iter=2,
            cv=2,
            scoring="roc_auc",
            refit=False,
            random_state=0,
        ),
    ]


def test_search_on_dask_equals_local_search(client):
    X, y = make_ctr_classification(
        400, n_dense=2, n_categorical=2, cardinalities=[5, 20], random_state=0
    )
    for local, remote in zip(searches(), searches(), strict=True):
        local.fit(X, y)
        with joblib.parallel_backend("dask"):
            remote.fit(X, y)
        assert remote.best_params_ == local.best_params_
        np.testing.assert_allclose(
            remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"], atol=1e-6
        )
        for key in ("split0_test_score", "split1_test_score"):
            np.testing.assert_allclose(remote.cv_results_[key], local.cv_results_[key], atol=1e-6)
    # The work ran in the worker processes, with TensorFlow limited to one thread.
    threads = client.run(
        lambda: __import__("tensorflow").config.threading.get_intra_op_parallelism_threads()
    )
    assert sorted(threads.values()) == [1, 1]
