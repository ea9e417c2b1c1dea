"""Listwise losses: SoftmaxLoss by hand, the ListwiseLoss folding of flat rows, configs."""

import keras
import keras_rs
import numpy as np
import pytest

from skrank.tasks import (
    LambdaRankLoss,
    ListwiseLoss,
    PointwiseMeanSquaredError,
    Ranking,
    SoftmaxLoss,
)
from skrank.tasks._listwise import LOSSES, listwise_loss


def _log_softmax(s):
    s = np.asarray(s, dtype=np.float64)
    return s - np.log(np.sum(np.exp(s)))


@pytest.mark.parametrize("gain", ["exponential", "linear"])
def test_softmax_loss_by_hand_with_padding(gain):
    y = np.array([[2.0, 1.0, 0.0, -1.0], [0.0, 0.0, -1.0, -1.0]], dtype=np.float32)
    s = np.array([[0.5, 1.0, -1.0, 9.0], [3.0, 1.0, 0.0, 0.0]], dtype=np.float32)
    g = (2.0 ** y[0, :3] - 1) if gain == "exponential" else y[0, :3]
    first = -np.sum(g * _log_softmax(s[0, :3]))  # the padded score 9.0 plays no part
    per_list = SoftmaxLoss(gain=gain, reduction=None)(y, s)
    np.testing.assert_allclose(per_list, [first, 0.0], rtol=1e-5)


def test_softmax_loss_rejects_unknown_gain():
    with pytest.raises(ValueError, match="gain must be 'linear' or 'exponential'"):
        SoftmaxLoss(gain="log")


def test_listwise_loss_folds_rows_into_lists():
    y = np.array([2.0, 0.0, 1.0, -1.0, 0.0, 1.0], dtype=np.float32)
    s = np.array([0.3, -0.2, 0.9, 5.0, 0.1, 0.4], dtype=np.float32)
    folded = ListwiseLoss(SoftmaxLoss(), list_size=3)(y, s)
    direct = SoftmaxLoss()(y.reshape(2, 3), s.reshape(2, 3))
    np.testing.assert_allclose(folded, direct, rtol=1e-6)
    # A trailing axis of size 1 (what the Ranking task passes) changes nothing.
    np.testing.assert_allclose(
        ListwiseLoss(SoftmaxLoss(), list_size=3)(y[:, None], s[:, None]), direct, rtol=1e-6
    )


def test_listwise_loss_row_weights():
    y = np.array([2.0, 0.0, 1.0, 1.0, 0.0, 0.0], dtype=np.float32)
    s = np.array([0.3, 0.8, 0.9, 0.2, 0.1, 0.4], dtype=np.float32)
    w = np.array([2.0, 2.0, 2.0, 1.0, 0.0, 1.0], dtype=np.float32)
    loss = ListwiseLoss(SoftmaxLoss(), list_size=3)(y, s, sample_weight=w)
    # List 1 weighs 2; in list 2 the zero-weight row is padding, the others weigh 1.
    per_list = SoftmaxLoss(reduction=None)(
        np.array([[2.0, 0.0, 1.0], [1.0, -1.0, 0.0]]), np.array([[0.3, 0.8, 0.9], [0.2, 0.1, 0.4]])
    )
    np.testing.assert_allclose(loss, (2.0 * per_list[0] + 1.0 * per_list[1]) / 2, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_named_loss_ignores_padding(name):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 8).astype(np.float32)
    s = rng.normal(size=8).astype(np.float32)
    padded_y = np.concatenate([y[:4], [-1.0, -1.0], y[4:], [-1.0, -1.0]]).astype(np.float32)
    padded_s = np.concatenate([s[:4], [7.0, -7.0], s[4:], [3.0, 3.0]]).astype(np.float32)
    loss = listwise_loss(name, 6)
    value = float(loss(padded_y, padded_s))
    assert np.isfinite(value)
    # Changing the padded scores changes nothing.
    other = padded_s.copy()
    other[[4, 5, 10, 11]] = [-2.0, 4.0, 0.0, 1.0]
    assert float(loss(padded_y, other)) == pytest.approx(value, rel=1e-6)


def test_pairwise_loss_is_keras_rs_on_the_lists():
    y = np.array([2.0, 0.0, 1.0, 1.0, 0.0, -1.0], dtype=np.float32)
    s = np.array([0.3, 0.8, 0.9, 0.2, 0.1, 0.4], dtype=np.float32)
    folded = listwise_loss("pairwise_logistic", 3)(y, s)
    direct = keras_rs.losses.PairwiseLogisticLoss()(y.reshape(2, 3), s.reshape(2, 3))
    np.testing.assert_allclose(folded, direct, rtol=1e-6)


def test_lambdarank_loss_by_hand():
    # Ranked by score: item 2 (gain 1), item 1 (gain 0), item 0 (gain 3); item 3 is padding.
    y = np.array([[2.0, 0.0, 1.0, -1.0]], dtype=np.float32)
    s = np.array([[0.0, 1.0, 2.0, 9.0]], dtype=np.float32)
    gain = {0: 3.0, 1: 0.0, 2: 1.0}
    discount = {0: 1 / np.log2(4), 1: 1 / np.log2(3), 2: 1.0}
    ideal = 3.0 + 1.0 / np.log2(3)
    expected = 0.0
    for i, j in [(0, 1), (0, 2), (2, 1)]:  # y_i > y_j
        weight = abs(gain[i] - gain[j]) * abs(discount[i] - discount[j]) / ideal
        expected += weight * np.log1p(np.exp(-(s[0, i] - s[0, j])))
    assert float(LambdaRankLoss(reduction="sum")(y, s)) == pytest.approx(expected, rel=1e-5)
    # Pairs already in an order that swapping cannot improve much weigh little:
    # a correctly ordered list has a smaller loss than RankNet's unweighted one.
    ordered = np.array([[3.0, 2.0, 1.0, 0.0]], dtype=np.float32)
    lambdarank = float(LambdaRankLoss()(np.array([[3.0, 2.0, 1.0, 0.0]]), ordered))
    assert 0 < lambdarank < float(keras_rs.losses.PairwiseLogisticLoss()(ordered, ordered))


def test_loss_instances_are_copied_and_names_checked():
    mine = keras_rs.losses.PairwiseHingeLoss(temperature=0.5)
    wrapped = listwise_loss(mine, 4)
    assert wrapped.loss is not mine and wrapped.loss.temperature == 0.5
    with pytest.raises(ValueError, match="Unknown loss 'lambdamart'; use one of"):
        listwise_loss("lambdamart", 4)
    with pytest.raises(ValueError, match="must be one of"):
        listwise_loss(3, 4)
    with pytest.raises(ValueError, match="list_size must be a positive integer"):
        ListwiseLoss(SoftmaxLoss(), list_size=0)


INNER = [
    SoftmaxLoss(gain="linear"),
    keras_rs.losses.ListMLELoss(),
    PointwiseMeanSquaredError(),
    LambdaRankLoss(temperature=0.5),
]


@pytest.mark.parametrize("inner", INNER)
def test_config_round_trip_inside_the_ranking_task(inner):
    task = Ranking(loss=ListwiseLoss(inner, list_size=4), metrics=[])
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(task))
    assert isinstance(restored.loss, ListwiseLoss) and restored.loss.list_size == 4
    assert type(restored.loss.loss) is type(inner)
    y = np.array([1.0, 0.0, 2.0, -1.0], dtype=np.float32)
    s = np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32)
    assert float(restored(y, s)) == pytest.approx(float(task(y, s)), rel=1e-6)


def test_docstring_examples():
    import doctest

    from skrank.tasks import _listwise

    result = doctest.testmod(_listwise, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
