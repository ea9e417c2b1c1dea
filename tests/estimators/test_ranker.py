"""skrank.Ranker: ranking quality on a planted signal, query ids, scikit-learn integration."""

import pickle

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score

from skrank import Ranker, RankingRegressor
from skrank.estimators._list_training import validation_rows
from skrank.estimators._lists import (
    ListLayout,
    canonical_order,
    query_split,
    resolve_list_size,
    within_query_split,
)
from skrank.metrics import make_ndcg_scorer, ndcg_score
from skrank.tasks._listwise import LOSSES

TINY = dict(embedding_dim=4, bottom_stack=(8,), top_stack=(8,), random_state=0)
QUICK = dict(TINY, epochs=3, early_stopping=False)


def ranking_data(n_queries=30, seed=0):
    """Queries of 4 to 16 items; relevance 0-3 from item quality and a per-user taste."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(4, 17, n_queries)
    q = np.repeat(np.arange(n_queries), sizes)
    item = rng.integers(0, 25, len(q))
    taste = rng.choice([-1.0, 1.0], n_queries)
    x = rng.normal(size=len(q))
    latent = rng.normal(size=25)[item] + 1.5 * taste[q] * x + rng.normal(scale=0.3, size=len(q))
    X = pd.DataFrame(
        {
            "user": np.array([f"u{i}" for i in q], dtype=object),
            "item": np.array([f"i{i}" for i in item], dtype=object),
            "x": x,
        }
    )
    return X, np.digitize(latent, [0.5, 1.5, 2.5]).astype(float)


@pytest.fixture(scope="module")
def data():
    return ranking_data()


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return Ranker(query_column="user", **QUICK).fit(X, y)


# ----------------------------------------------------------------- quality
def search_data(n_queries=40, seed=0):
    """Search-like queries whose relevance grades carry a per-query bias no feature reveals.

    Annotators of some queries grade everything higher: a pointwise model must
    fit that noise, a ranker only compares items within a query.
    """
    rng = np.random.default_rng(seed)
    q = np.repeat(np.arange(n_queries), rng.integers(5, 16, n_queries))
    item = rng.integers(0, 25, len(q))
    quality = rng.normal(size=25)
    x = rng.normal(size=len(q))
    bias = rng.normal(scale=1.5, size=n_queries)
    latent = quality[item] + x + bias[q] + rng.normal(scale=0.3, size=len(q))
    X = pd.DataFrame({"item": np.array([f"i{i}" for i in item], dtype=object), "x": x})
    return X, np.clip(np.round(latent + 1.5), 0, 4), q


def test_planted_signal_ranks_unseen_queries_better_than_a_pointwise_regressor():
    # Tiny networks on ~300 rows need a larger step than the default to train in 30 epochs.
    params = dict(TINY, epochs=30, early_stopping=False, learning_rate=3e-3)
    ours, pointwise, chance = [], [], []
    for seed in (0, 1):  # one draw of ~90 test rows is noisy: two data sets
        X, y, q = search_data(seed=seed)
        test = q >= 28  # queries unseen at fit
        ranker = Ranker(**params).fit(X[~test], y[~test], qid=q[~test])
        regressor = RankingRegressor(**params).fit(X[~test], y[~test])
        ours.append(ranker.score(X[test], y[test], qid=q[test]))
        assert ours[-1] == pytest.approx(ndcg_score(y[test], ranker.predict(X[test]), qid=q[test]))
        pointwise.append(ndcg_score(y[test], regressor.predict(X[test]), qid=q[test]))
        rngs = [np.random.default_rng(s) for s in range(20)]
        chance.append(
            np.mean([ndcg_score(y[test], r.random(test.sum()), qid=q[test]) for r in rngs])
        )
    assert np.mean(ours) > np.mean(chance) + 0.2  # 0.94 against 0.68
    assert np.mean(ours) > np.mean(pointwise) + 0.01  # 0.94 against 0.92


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_every_loss_trains(data, loss):
    X, y = data
    ranker = Ranker(query_column="user", loss=loss, **QUICK).fit(X, y)
    assert np.isfinite(ranker.history_["loss"]).all() and len(ranker.history_["loss"]) == 3
    assert np.isfinite(ranker.predict(X)).all()


# ------------------------------------------------------------ query ids
def test_qid_equals_a_left_out_query_column(data):
    X, y = data
    features = ["item"]  # the query column is not listed: it is left out
    by_column = Ranker(query_column="user", categorical_features=features, **QUICK).fit(X, y)
    by_qid = Ranker(categorical_features=features, **QUICK).fit(
        X.drop(columns="user"), y, qid=X["user"]
    )
    assert "user" not in by_column.preprocessor_.column_kinds_
    assert by_column.n_features_in_ == 3 and list(by_column.feature_names_in_) == list(X.columns)
    np.testing.assert_array_equal(by_column.predict(X), by_qid.predict(X.drop(columns="user")))
    by_qid_score = by_qid.score(X.drop(columns="user"), y, qid=X["user"])
    assert by_column.score(X, y) == pytest.approx(by_qid_score)


def test_query_column_is_embedded_even_when_numeric(data):
    X, y = data
    X = X.assign(user=X["user"].str[1:].astype(int))
    ranker = Ranker(query_column="user", **QUICK).fit(X, y)
    assert ranker.preprocessor_.column_kinds_["user"] == "categorical"
    assert "user" in ranker.preprocessor_.categorical_features_
    # Explicit dense columns, "auto" categorical: still embedded.
    ranker = Ranker(query_column="user", dense_features=["x"], **QUICK).fit(X, y)
    assert ranker.preprocessor_.column_kinds_ == {
        "user": "categorical",
        "item": "categorical",
        "x": "dense",
    }


def test_rows_in_any_order_and_random_state_give_the_same_model(data):
    X, y = data
    order = np.random.default_rng(3).permutation(len(X))
    first = Ranker(query_column="user", **QUICK).fit(X, y).predict(X)
    again = Ranker(query_column="user", **QUICK).fit(X, y).predict(X)
    shuffled = Ranker(query_column="user", **QUICK).fit(X.iloc[order], y[order]).predict(X)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, shuffled)
    other_seed = Ranker(query_column="user", **{**QUICK, "random_state": 1}).fit(X, y)
    assert not np.array_equal(first, other_seed.predict(X))


def test_numpy_input_with_a_query_position(data):
    X, y = data
    array = X[["x", "user", "item"]].to_numpy(dtype=object)
    ranker = Ranker(query_column=1, categorical_features=[2], **QUICK).fit(array, y)
    assert ranker.n_features_in_ == 3 and ranker.preprocessor_.n_features_in_ == 2
    assert ranker.preprocessor_.column_kinds_ == {"x0": "dense", "x1": "categorical"}
    assert ranker.predict(array).shape == (len(y),)


def test_one_item_queries_and_queries_without_relevant_items(data):
    X, y = data
    y = y.copy()
    y[X["user"] == "u0"] = 0.0  # a query with nothing relevant
    X = pd.concat([X, pd.DataFrame({"user": ["solo"], "item": ["i1"], "x": [0.0]})])
    y = np.append(y, 2.0)
    ranker = Ranker(query_column="user", **QUICK).fit(X, y)
    assert np.isfinite(ranker.predict(X)).all()
    assert 0.0 <= ranker.score(X, y) <= 1.0


def test_sample_weight_zero_removes_rows(data):
    X, y = data
    w = np.where(np.arange(len(y)) % 4 == 0, 0.0, 1.0)
    y_noisy = np.where(w == 0, 3.0 - y, y)  # flipped relevance on weight-0 rows
    weighted = Ranker(query_column="user", **QUICK).fit(X, y, sample_weight=w)
    noisy = Ranker(query_column="user", **QUICK).fit(X, y_noisy, sample_weight=w)
    assert weighted.score(X, y, sample_weight=w) == pytest.approx(
        noisy.score(X, y, sample_weight=w), abs=0.05
    )


# ---------------------------------------------------------- scikit-learn
def test_cross_val_score_and_grid_search_with_the_query_column(data):
    X, y = data
    ranker = Ranker(query_column="user", **QUICK)
    scores = cross_val_score(ranker, X, y, groups=X["user"], cv=GroupKFold(n_splits=2))
    assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
    scored = cross_val_score(
        ranker, X, y, groups=X["user"], cv=GroupKFold(n_splits=2), scoring=make_ndcg_scorer(k=5)
    )
    assert all(0.0 <= s <= 1.0 for s in scored)
    search = GridSearchCV(ranker, {"loss": ["softmax", "pairwise_logistic"]}, cv=GroupKFold(2))
    search.fit(X, y, groups=X["user"])
    assert search.best_params_["loss"] in ("softmax", "pairwise_logistic")


def test_metadata_routing_slices_qid(data):
    X, y = data
    features, qid = X.drop(columns="user"), X["user"].to_numpy()
    with sklearn.config_context(enable_metadata_routing=True):
        ranker = Ranker(**QUICK).set_fit_request(qid=True).set_score_request(qid=True)
        scores = cross_val_score(
            ranker, features, y, cv=GroupKFold(n_splits=2), params={"qid": qid, "groups": qid}
        )
        assert all(0.0 <= s <= 1.0 for s in scores)
        scores = cross_val_score(
            Ranker(**QUICK).set_fit_request(qid=True),
            features,
            y,
            cv=GroupKFold(n_splits=2),
            scoring=make_ndcg_scorer(),
            params={"qid": qid, "groups": qid},
        )
        assert all(0.0 <= s <= 1.0 for s in scores)


def test_clone_params_pickle_and_export(fitted, data, tmp_path):
    X, y = data
    cloned = clone(fitted)
    assert cloned.get_params() == fitted.get_params() and not hasattr(cloned, "model_")
    assert clone(cloned.set_params(loss="listmle", list_size=8)).get_params()["list_size"] == 8
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))
    assert restored.score(X, y) == fitted.score(X, y)

    tf = pytest.importorskip("tensorflow")
    from skrank.estimators._export import serving_inputs

    names = fitted.export(tmp_path / "ranker")
    assert set(names) == {"user", "item", "x"}
    served = tf.saved_model.load(str(tmp_path / "ranker")).signatures["serving_default"]
    inputs = {k: tf.constant(v) for k, v in serving_inputs(fitted, X).items()}
    np.testing.assert_allclose(served(**inputs)["scores"].numpy(), fitted.predict(X), atol=1e-5)


def test_ensemble_of_rankers_trains_on_lists_and_round_trips(fitted, data):
    X, y = data
    assert fitted.ensemble_size_ == 1  # "auto" is one model for the Ranker
    ranker = Ranker(query_column="user", ensemble_size=2, **QUICK).fit(X, y)
    assert ranker.ensemble_size_ == 2 and len(ranker.model_.members) == 2
    scores = ranker.predict(X)
    assert scores.shape == (len(X),) and np.isfinite(scores).all()
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(ranker)).predict(X), scores)


def test_quiet_at_verbose_zero(data, capfd):
    X, y = data
    Ranker(query_column="user", **QUICK).fit(X, y).score(X, y)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_early_stopping_on_held_out_ndcg(data):
    X, y = data
    params = dict(TINY, query_column="user", early_stopping=True, epochs=30, learning_rate=3e-3)
    kept = Ranker(refit=False, **params).fit(X, y)
    history = kept.history_["val_ndcg"]
    assert len(history) == kept.n_iter_ and kept.best_validation_score_ == max(history)
    assert kept.n_iter_ < 30 and "early_stopping_loss" not in kept.history_

    # refit=True: the same held-out run picks the epochs, then every row is trained on.
    refitted = Ranker(**params).fit(X, y)
    assert refitted.history_["val_ndcg"] == history
    assert refitted.history_["early_stopping_loss"] == kept.history_["loss"]
    assert refitted.n_iter_ == int(np.argmax(history)) + 1 == len(refitted.history_["loss"])
    assert refitted.best_validation_score_ == max(history)


# -------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "params, fit_kwargs, match",
    [
        ({}, {}, "needs query ids: pass qid= .* or set query_column"),
        ({"query_column": "user"}, {"qid": "same"}, "Both qid and query_column='user'"),
        ({"query_column": "nope"}, {}, r"query_column='nope' is not a column of X"),
        ({}, {"qid": "short"}, "qid has 3 entries but there are"),
        ({}, {"qid": "missing"}, "qid has 1 missing values"),
        ({"query_column": "user"}, {"y": "negative"}, "y contains negative relevance"),
        ({"query_column": "user"}, {"y": "nan"}, "y contains 1 NaN"),
        (
            {"query_column": "user", "dense_features": ["user", "x"]},
            {},
            "dense_features lists the query column 'user'",
        ),
        ({"query_column": "user", "loss": "lambdamart"}, {}, "The 'loss' parameter"),
        ({"query_column": "user", "distribution": "mirrored"}, {}, "does not support distribution"),
    ],
)
def test_bad_input_names_what_to_change(data, params, fit_kwargs, match):
    X, y = data
    y = y.copy()
    qid = {"same": X["user"], "short": X["user"][:3], "missing": X["user"].where(X.index != 5)}
    kwargs = {}
    if "qid" in fit_kwargs:
        kwargs["qid"] = qid[fit_kwargs["qid"]]
    if fit_kwargs.get("y") == "negative":
        y[3] = -1.0
    if fit_kwargs.get("y") == "nan":
        y[3] = np.nan
    if params.get("distribution") == "mirrored":
        tf = pytest.importorskip("tensorflow")
        params = {**params, "distribution": tf.distribute.get_strategy()}
    ranker = Ranker(**{**QUICK, **params})
    with pytest.raises(ValueError, match=match):
        ranker.fit(X, y, **kwargs)
    assert not hasattr(ranker, "model_")


def test_score_needs_query_ids(fitted, data):
    X, y = data
    with pytest.raises(ValueError, match="Both qid and query_column"):
        fitted.score(X, y, qid=X["user"])
    bare = Ranker(**QUICK).fit(X, y, qid=X["user"])
    with pytest.raises(ValueError, match="needs query ids"):
        bare.score(X, y)


# ------------------------------------------------------- lists and splits
def test_layout_deals_every_row_once_per_epoch():
    codes = np.repeat([0, 1, 2], [3, 10, 17])
    layout = ListLayout(np.arange(30), codes, list_size=8)
    assert layout.n_lists == 1 + 2 + 3
    for rng in (None, np.random.default_rng(0)):
        lists = layout.lists(rng)
        rows = lists[lists >= 0]
        assert sorted(rows) == list(range(30))
        for row_list in lists:
            members = row_list[row_list >= 0]
            assert len(set(codes[members])) == 1  # never two queries in one list
        sizes = sorted(np.count_nonzero(lists >= 0, axis=1))
        assert sizes == [3, 5, 5, 5, 6, 6]  # near-equal lists within a query
    a, b = layout.lists(np.random.default_rng(0)), layout.lists(np.random.default_rng(1))
    assert not np.array_equal(a, b)


def test_resolve_list_size():
    assert resolve_list_size("auto", np.array([12] * 10)) == 12  # at most the largest query
    assert resolve_list_size("auto", np.array([40, 70, 200])) == 16
    assert resolve_list_size("auto", np.array([1, 2, 1, 3])) == 2
    assert resolve_list_size(7, np.array([3])) == 7


def test_canonical_order_ignores_row_order():
    rng = np.random.default_rng(0)
    codes, y = rng.integers(0, 4, 50), rng.integers(0, 3, 50).astype(float)
    dense, categorical, w = rng.normal(size=(50, 2)), rng.integers(0, 5, (50, 2)), np.ones(50)
    order = canonical_order(codes, dense, categorical, y, w)
    perm = rng.permutation(50)
    again = perm[canonical_order(codes[perm], dense[perm], categorical[perm], y[perm], w[perm])]
    np.testing.assert_array_equal(order, again)
    assert np.all(np.diff(codes[order]) >= 0)


def test_validation_holds_out_whole_queries_or_rows_of_each():
    codes = np.repeat(np.arange(20), 10)
    train, val = query_split(codes, 0.1, seed=0)
    assert set(codes[train]).isdisjoint(codes[val]) and len(set(codes[val])) == 2
    train, val = within_query_split(codes, 0.1, seed=0)
    assert np.all(np.bincount(codes[val]) <= 5) and set(codes[val]) <= set(codes[train])
    assert abs(len(val) - 20) <= 2 and np.all(np.bincount(codes[val])[codes[val]] >= 2)

    class Estimator:
        early_stopping, validation_fraction = True, 0.1

    order = np.arange(len(codes))
    _, by_query = validation_rows(Estimator, codes, order, known_queries=False, seed=0)
    _, by_row = validation_rows(Estimator, codes, order, known_queries=True, seed=0)
    assert len(set(codes[by_query])) == 2 and len(set(codes[by_row])) > 2


def test_docstring_examples():
    import doctest

    from skrank.estimators import _ranker

    result = doctest.testmod(_ranker, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
