"""``dtype_policy``: what "auto" resolves to, and what mixed bfloat16 computes.

The machine is mocked (``/proc/cpuinfo`` and TensorFlow's GPU list) for the
resolution tests; ``native_bfloat16`` is cached per process, so its cache is
cleared around each of them.
"""

from unittest import mock

import keras
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from skrank import RankingClassifier
from skrank.datasets import make_ctr_classification
from skrank.estimators import _build
from skrank.estimators._build import native_bfloat16, resolve_dtype_policy
from tests.estimators.conftest import TINY_ONE_MODEL

CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum
flags\t\t: fpu vme sse sse2 avx avx2 avx512f avx512bw avx512vl {extra}
bogomips\t: 4800.00
"""


@pytest.fixture
def machine(monkeypatch):
    """Set the CPU flags and GPUs TensorFlow reports: ``machine(flags, gpus)``."""

    def set_machine(flags="", *, gpus=(), cpuinfo=True):
        if cpuinfo:
            fake_open = mock.mock_open(read_data=CPUINFO.format(extra=flags))
        else:
            fake_open = mock.Mock(side_effect=FileNotFoundError("/proc/cpuinfo"))
        # Shadows the builtin for _build's module only.
        monkeypatch.setattr(_build, "open", fake_open, raising=False)

        def list_physical_devices(device_type=None):
            return list(gpus) if device_type == "GPU" else []

        monkeypatch.setattr(_build.tf.config, "list_physical_devices", list_physical_devices)
        native_bfloat16.cache_clear()
        return fake_open

    native_bfloat16.cache_clear()
    yield set_machine
    native_bfloat16.cache_clear()


@pytest.mark.parametrize("flags", ["avx512_bf16", "amx_bf16 amx_tile", "avx512_bf16 amx_bf16"])
def test_auto_is_mixed_bfloat16_on_a_cpu_with_bfloat16_units(machine, flags):
    fake_open = machine(flags)
    assert resolve_dtype_policy("auto") == "mixed_bfloat16"
    fake_open.assert_called_once_with("/proc/cpuinfo")


@pytest.mark.parametrize(
    "flags",
    [
        "",
        "amx_tile amx_int8",  # AMX without its bfloat16 part
        "avx512_fp16 xavx512_bf16",  # near misses: the flag must match exactly
    ],
)
def test_auto_is_float32_without_the_flags(machine, flags):
    machine(flags)
    assert resolve_dtype_policy("auto") == "float32"


def test_auto_is_float32_when_a_gpu_is_listed(machine):
    machine("avx512_bf16 amx_bf16", gpus=["/physical_device:GPU:0"])
    assert resolve_dtype_policy("auto") == "float32"


def test_auto_is_float32_without_proc_cpuinfo(machine):
    machine(cpuinfo=False)
    assert resolve_dtype_policy("auto") == "float32"


def test_the_machine_is_read_once(machine):
    fake_open = machine("amx_bf16")
    assert resolve_dtype_policy("auto") == resolve_dtype_policy("auto") == "mixed_bfloat16"
    assert fake_open.call_count == 1


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_explicit_policy_is_kept_on_any_machine(machine, policy):
    fake_open = machine("amx_bf16" if policy == "float32" else "")
    assert resolve_dtype_policy(policy) == policy
    fake_open.assert_not_called()


def test_auto_reaches_the_fitted_model(machine):
    machine("amx_bf16")
    X, y = make_ctr_classification(200, n_dense=2, n_categorical=2, random_state=0)
    clf = RankingClassifier(**TINY_ONE_MODEL, epochs=1).fit(X, y)
    assert clf.dtype_policy == "auto"
    assert clf.dtype_policy_ == "mixed_bfloat16"


# ------------------------------------------------ mixed bfloat16 against float32
def fit_both_policies(**params):
    """Tiny classifiers fitted in float32 and in mixed bfloat16, and the test labels."""
    # Few columns of few categories: 1,500 rows are enough to learn from in 3 epochs.
    X, y = make_ctr_classification(
        2000, n_dense=4, n_categorical=4, cardinalities=20, random_state=0
    )
    X_train, X_test, y_train, y_test = X.iloc[:1500], X.iloc[1500:], y[:1500], y[1500:]
    models = {}
    for policy in ("float32", "mixed_bfloat16"):
        clf = RankingClassifier(
            embedding_dim=4,
            bottom_stack=(8,),
            top_stack=(8,),
            epochs=3,
            batch_size=64,
            early_stopping=False,  # the epoch kept would be a choice rounding can flip
            dtype_policy=policy,
            random_state=0,
            **params,
        ).fit(X_train, y_train)
        models[policy] = (clf, clf.predict_proba(X_test)[:, 1])
    return models, y_test


@pytest.fixture(scope="module")
def fitted():
    # The plain DLRM: rounding in the MLPs and the interaction alone. The periodic
    # numeric embeddings amplify it along training (see the test after next).
    return fit_both_policies(learning_rate=1e-2, numeric_embedding=None)


def test_mixed_bfloat16_predicts_as_well_as_float32(fitted):
    models, y_test = fitted
    auc = {policy: roc_auc_score(y_test, proba) for policy, (_, proba) in models.items()}
    assert auc["float32"] > 0.6, auc  # the models learned something to compare
    assert abs(auc["mixed_bfloat16"] - auc["float32"]) < 0.02, auc
    for policy, (clf, proba) in models.items():
        assert clf.dtype_policy_ == policy
        assert np.isfinite(proba).all() and ((proba >= 0) & (proba <= 1)).all(), policy
        assert np.isfinite(clf.history_["loss"]).all(), policy
    # Same seed, same data: the two differ by rounding only, not by a different model.
    float32_proba, bfloat16_proba = models["float32"][1], models["mixed_bfloat16"][1]
    assert np.abs(float32_proba - bfloat16_proba).max() < 0.1
    assert not np.array_equal(float32_proba, bfloat16_proba)  # bfloat16 did compute


def test_mixed_bfloat16_with_periodic_embeddings_learns_as_well_as_float32():
    # With the default periodic numeric embeddings, bfloat16 rounding sends
    # training along another path (predictions differ by up to ~0.27 per row on
    # this tiny model), but the models are as good: held-out AUC within 0.02.
    models, y_test = fit_both_policies(learning_rate=5e-3)
    auc = {policy: roc_auc_score(y_test, proba) for policy, (_, proba) in models.items()}
    for clf, _ in models.values():
        assert clf.model_.dense_embedding_layer.compute_dtype == "float32"
    assert auc["float32"] > 0.6, auc
    assert abs(auc["mixed_bfloat16"] - auc["float32"]) < 0.02, auc


def test_hidden_layers_compute_in_bfloat16_and_the_output_in_float32(fitted):
    model = fitted[0]["mixed_bfloat16"][0].model_
    hidden, output = model.top_stack.dense_layers[0], model.top_stack.dense_layers[-1]
    x = np.ones((2, hidden.kernel.shape[0]), "float32")
    assert keras.backend.standardize_dtype(hidden(x).dtype) == "bfloat16"
    assert keras.backend.standardize_dtype(model.top_stack(x).dtype) == "float32"
    assert model.bottom_stack.compute_dtype == "bfloat16"
    assert output.compute_dtype == "float32"
    # Weights stay float32 under a mixed policy, embedding tables included.
    assert {keras.backend.standardize_dtype(w.dtype) for w in model.weights} == {"float32"}

    float32_model = fitted[0]["float32"][0].model_
    assert float32_model.top_stack.dense_layers[0].compute_dtype == "float32"
    assert float32_model.bottom_stack.compute_dtype == "float32"
