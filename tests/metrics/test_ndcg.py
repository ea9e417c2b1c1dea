"""skrank.metrics.ndcg_score: hand-computed values, scikit-learn's and LightGBM's conventions."""

import subprocess
import sys

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import ndcg_score as sklearn_ndcg

from skrank.metrics import make_ndcg_scorer, ndcg_score


def _dcg(gains):
    return sum(g / np.log2(i + 2) for i, g in enumerate(gains))


def test_hand_computed_value():
    y = [3, 0, 1, 0, 2, 0]
    s = [0.9, 0.8, 0.1, 0.3, 0.2, 0.5]
    qid = ["a", "a", "a", "b", "b", "b"]
    # a: order 3, 0, 1 (gains 7, 0, 1); ideal 7, 1, 0.  b: order 0, 0, 2; ideal 3, 0, 0.
    a = _dcg([7, 0, 1]) / _dcg([7, 1, 0])
    b = _dcg([0, 0, 3]) / _dcg([3, 0, 0])
    assert ndcg_score(y, s, qid=qid) == pytest.approx((a + b) / 2, rel=1e-12)
    # k=1: only the top item counts.
    assert ndcg_score(y, s, qid=qid, k=1) == pytest.approx((1.0 + 0.0) / 2)


def test_rows_in_any_order_and_any_query_id_type():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 60)
    s = rng.normal(size=60)
    qid = rng.integers(0, 7, 60)
    reference = ndcg_score(y, s, qid=qid)
    order = rng.permutation(60)
    assert ndcg_score(y[order], s[order], qid=qid[order]) == pytest.approx(reference, rel=1e-12)
    as_strings = np.array([f"q{q}" for q in qid], dtype=object)
    assert ndcg_score(y, s, qid=as_strings) == pytest.approx(reference, rel=1e-12)
    mixed = np.array([q if q % 2 else f"q{q}" for q in qid], dtype=object)
    assert ndcg_score(y, s, qid=mixed) == pytest.approx(reference, rel=1e-12)


def test_equals_sklearn_with_exponential_gain_on_equal_length_lists():
    rng = np.random.default_rng(1)
    Y = rng.integers(0, 4, (8, 12))
    Y[:, 0] = np.maximum(Y[:, 0], 1)  # every list has a relevant item
    S = rng.normal(size=(8, 12))
    qid = np.repeat(np.arange(8), 12)
    for k in (3, 10, None):
        expected = sklearn_ndcg(2.0**Y - 1, S, k=k)
        assert ndcg_score(Y.ravel(), S.ravel(), qid=qid, k=k) == pytest.approx(expected)


def test_ties_share_their_discounts_as_in_sklearn():
    y = np.array([[3, 0, 1, 2]])
    s = np.array([[1.0, 1.0, 0.5, 1.0]])
    expected = sklearn_ndcg(2.0**y - 1, s, k=2)
    assert ndcg_score(y.ravel(), s.ravel(), qid=[0] * 4, k=2) == pytest.approx(expected)


def test_lightgbm_convention_apart_from_queries_without_relevant_items():
    lightgbm = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(2)
    sizes = [5, 8, 3, 6, 4]
    qid = np.repeat(np.arange(len(sizes)), sizes)
    y = rng.integers(0, 4, len(qid))
    y[qid == 2] = 0  # a query without relevant items: LightGBM scores it 1.0
    scores = rng.normal(size=len(qid))  # distinct scores: no ties to break
    X = rng.normal(size=(len(qid), 2))
    # One boosting round with a vanishing learning rate: LightGBM's NDCG of init_score.
    ranker = lightgbm.LGBMRanker(
        n_estimators=1, learning_rate=1e-12, verbose=-1, min_child_samples=1
    )
    ranker.fit(
        X,
        y,
        group=sizes,
        eval_X=(X.copy(),),
        eval_y=(y.copy(),),
        eval_group=[sizes],
        eval_init_score=[scores],
        eval_at=[3],
        init_score=scores,
    )
    lgbm = ranker.evals_result_["valid_0"]["ndcg@3"][0]
    ours = ndcg_score(y, scores, qid=qid, k=3)
    n_with_relevant = len(sizes) - 1
    assert (ours * n_with_relevant + 1.0) / len(sizes) == pytest.approx(lgbm, abs=1e-6)


def test_one_item_queries_and_queries_without_relevant_items():
    y = [2, 0, 0, 0, 1]
    s = [0.1, 0.5, 0.4, 0.3, 0.2]
    qid = ["solo", "empty", "empty", "x", "x"]
    # "solo" scores 1; "empty" is left out; "x" ranks its relevant item second.
    x = 1 / np.log2(3)
    assert ndcg_score(y, s, qid=qid) == pytest.approx((1.0 + x) / 2)
    with pytest.warns(UndefinedMetricWarning, match="No query has a relevant item"):
        assert ndcg_score([0, 0], [1, 2], qid=[1, 1]) == 0.0


def test_sample_weight_drops_zero_weight_rows_and_weighs_queries():
    y = np.array([1, 0, 0, 1, 1, 0])
    s = np.array([0.0, 1.0, 0.5, 1.0, 0.9, 0.0])
    qid = np.array([0, 0, 0, 1, 1, 1])
    # Weight 0 on the row ranked above the relevant one of query 0: it now ranks first.
    w = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    assert ndcg_score(y, s, qid=qid, sample_weight=w) == pytest.approx(1.0)
    per_query = [ndcg_score(y[qid == q], s[qid == q], qid=qid[qid == q]) for q in (0, 1)]
    w = np.array([3.0, 3.0, 3.0, 1.0, 1.0, 1.0])
    expected = (3 * per_query[0] + per_query[1]) / 4
    assert ndcg_score(y, s, qid=qid, sample_weight=w) == pytest.approx(expected)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(y_true=[1, -1], y_score=[0, 1], qid=[0, 0]), "y_true contains negative relevance"),
        (dict(y_true=[1, np.nan], y_score=[0, 1], qid=[0, 0]), "y_true contains 1 NaN"),
        (dict(y_true=[1, 0], y_score=[0, 1], qid=[0]), "qid has 1 entries but there are 2 rows"),
        (dict(y_true=[1, 0], y_score=[0, 1], qid=[0, None]), "qid has 1 missing values"),
        (dict(y_true=[1, 0], y_score=[0, np.nan], qid=[0, 0]), "y_score contains NaN"),
        (dict(y_true=[1, 0], y_score=[0, 1], qid=[0, 0], k=0), "k must be a positive integer"),
    ],
)
def test_bad_input_is_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ndcg_score(**kwargs)


class _Fixed(BaseEstimator):
    """A fitted estimator stand-in that scores rows by column "s"."""

    def __init__(self, query_column="q"):
        self.query_column = query_column

    def __sklearn_is_fitted__(self):
        return True

    def predict(self, X):
        return np.asarray(X["s"], dtype=float)


def test_scorer_reads_the_query_column_or_a_routed_qid():
    import pandas as pd

    X = pd.DataFrame({"q": [0, 0, 1, 1], "s": [0.0, 1.0, 1.0, 0.0]})
    y = np.array([1, 0, 1, 0])
    scorer = make_ndcg_scorer(k=10)
    expected = ndcg_score(y, X["s"], qid=X["q"])
    assert scorer(_Fixed(), X, y) == pytest.approx(expected)
    with sklearn.config_context(enable_metadata_routing=True):
        # A routed qid wins over the column.
        assert scorer(_Fixed(), X, y, qid=[0, 0, 0, 0]) == pytest.approx(
            ndcg_score(y, X["s"], qid=[0, 0, 0, 0])
        )
    bare = _Fixed(query_column=None)
    with pytest.raises(ValueError, match="needs query ids: route them as qid"):
        scorer(bare, X, y)


def test_scorer_requests_qid_under_metadata_routing():
    with sklearn.config_context(enable_metadata_routing=True):
        routing = make_ndcg_scorer().get_metadata_routing()
        assert routing.score.requests["qid"] is True


def test_importing_skrank_metrics_does_not_import_tensorflow():
    code = "import sys, skrank.metrics; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_docstring_examples():
    import doctest

    from skrank.metrics import _ranking

    result = doctest.testmod(_ranking, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
