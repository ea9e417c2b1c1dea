"""The benchmark runs end to end on a tiny configuration and writes its outputs.

Timings are never asserted: only that every section produced its figures, and that
every contender's predictions were timed warm (behaviour, not wall-clock numbers).
"""

import json

import pytest

from skrank.benchmarks import _contenders, _run
from skrank.benchmarks._cli import CONTENDERS, main

TINY = [
    "--rows=600",
    "--test-rows=300",
    "--rounds=1",
    "--single-row-repeats=3",
    "--preprocess-rows=500",
    "--scaling-rows=300,600",
    "--scaling-contenders=skrank",
    "--memory-rows=500",
    "--memory-contenders=skrank",
    "--n-dense=3",
    "--n-categorical=4",
    "--quiet",
]


def _rows(X):
    return len(X[0]) if isinstance(X, tuple) else len(X)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Run the benchmark once, recording every ``predict_proba`` call of every contender
    as (contender, rows, batch_size, whether a timer was running)."""
    out = tmp_path_factory.mktemp("bench")
    events, timing = [], []
    real_clock = _run._clock

    def clock(fn, *args):
        timing.append(True)
        try:
            return real_clock(fn, *args)
        finally:
            timing.pop()

    def spy(real):
        def predict_proba(self, X, **kwargs):
            events.append((self.name, _rows(X), kwargs.get("batch_size"), bool(timing)))
            return real(self, X, **kwargs)

        return predict_proba

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_run, "_clock", clock)
        for cls in vars(_contenders).values():
            if (
                isinstance(cls, type)
                and issubclass(cls, _contenders.Contender)
                and "predict_proba" in vars(cls)
            ):
                mp.setattr(cls, "predict_proba", spy(vars(cls)["predict_proba"]))
        # The defaults section fits skrank's auto schedule, too slow for a unit test;
        # memory spawns a fresh interpreter per contender: one keeps it short.
        main(
            [
                *TINY,
                f"--output={out}",
                "--sections=throughput,roofline,preprocessing,scaling,memory",
                f"--contenders={','.join(CONTENDERS)}",
            ]
        )
    return out, events


@pytest.fixture(scope="module")
def results(run):
    return run[0]


def test_contenders_include_lightgbm():
    assert CONTENDERS == ("skrank", "skrank_dlrm", "skrank_float32", "keras", "hgb", "lightgbm")


def test_like_for_like_rows_build_the_keras_models_architecture():
    """skrank_dlrm and skrank_float32 are DLRM, as the hand-written Keras model is."""
    (default, dlrm, float32) = _contenders.contenders(
        ["skrank", "skrank_dlrm", "skrank_float32"], seed=0, epochs=1, batch_size=1024
    )
    assert "interaction" not in default.params and "numeric_embedding" not in default.params
    for contender in (dlrm, float32):
        assert contender.params["interaction"] == "dot"
        assert contender.params["numeric_embedding"] is None
    assert float32.params["dtype_policy"] == "float32"


def test_every_prediction_is_timed_warm(run):
    """Each timed call follows one untimed call of the same contender on the same input."""
    _, events = run
    for name in CONTENDERS:
        calls = [event[1:] for event in events if event[0] == name]
        batches = _contenders.KerasContender.extra_predict_batches if name == "keras" else ()
        expected = [(300, None, False), (300, None, True)]
        for batch in batches:
            expected += [(300, batch, False), (300, batch, True)]
        expected += [(1, None, False)] + [(1, None, True)] * 3
        assert calls == expected, name


def test_keras_is_reported_at_its_fastest_batch(results):
    data = json.loads((results / "results.json").read_text())
    keras = data["throughput"]["keras"]["median"]
    for batch in (8192, 16384, 65536):
        assert keras[f"predict_rows_per_s_batch_{batch}"] > 0
    assert {
        "predict_rows_per_s_fastest_batch",
        "predict_rows_per_s_fastest_batch_dlrm",
        "predict_rows_per_s_fastest_batch_float32",
    } <= set(data["ratios"])
    markdown = (results / "results.md").read_text()
    assert "`predict(batch_size=1024)`" in markdown
    assert "(fastest of 8192, 16384, 65536)" in markdown
    assert "timed warm for every contender alike" in markdown
    assert "stays inside its fit time" in markdown


def test_writes_json_and_markdown(results):
    data = json.loads((results / "results.json").read_text())
    assert set(data["throughput"]) == set(CONTENDERS)
    assert "LightGBM" in data["throughput"]["lightgbm"]["label"]
    for entry in data["throughput"].values():
        assert set(entry["median"]) >= {
            "train_rows_per_s",
            "predict_rows_per_s",
            "single_row_seconds",
            "auc",
            "log_loss",
        }
        assert 0.0 <= entry["median"]["auc"] <= 1.0
    assert set(data["ratios"]) >= {
        "train_rows_per_s",
        "predict_rows_per_s",
        "single_row_speedup",
        "train_rows_per_s_dlrm",
        "train_rows_per_s_float32",
    }
    assert data["preprocessing"]["rows"] == 500
    assert {p["rows"] for p in data["scaling"]} == {300, 600}
    assert [m["contender"] for m in data["memory"]] == ["skrank"]
    assert all("peak_rss_during_fit" in m for m in data["memory"]), data["memory"]
    markdown = (results / "results.md").read_text()
    for heading in (
        "Throughput and quality",
        "skrank / hand-written Keras DLRM",
        "Preprocessing",
        "Peak memory",
        "Fit time vs rows",
        "Roofline",
        "target for skrank as DLRM",
    ):
        assert heading in markdown


def test_roofline_counts_the_models_work(results):
    roof = json.loads((results / "results.json").read_text())["roofline"]
    dlrm, default = roof["flops_per_row"]["dlrm"], roof["flops_per_row"]["default"]
    # Gradients cost about twice the forward pass: training ~ 3x forward.
    assert 2.5 * dlrm["forward"] < dlrm["train"] < 3.5 * dlrm["forward"]
    # The cross network and the numeric embeddings do more per row than dot products.
    assert default["forward"] > dlrm["forward"] > 0
    assert set(roof["peak_gflops"]) == {"float32", "bfloat16"}
    assert all(v > 0 for peak in roof["peak_gflops"].values() for v in peak.values())
    assert roof["precision"]["keras"] == "float32"


def test_graph_flops_of_a_dense_layer_match_the_formula():
    import keras
    import tensorflow as tf

    from skrank.benchmarks._roofline import COUNT_BATCH, model_flops_per_row

    layer = keras.layers.Dense(7)
    layer.build((None, 5))
    spec = tf.TensorSpec((COUNT_BATCH, 5), tf.float32)
    flops = model_flops_per_row(layer, (spec,), lambda m, x, training: m(x, training=training))
    # One multiply and one add per weight, one add per bias, per row.
    assert flops["forward"] == 2 * 5 * 7 + 7


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for option in ("--quick", "--rows", "--rounds", "--output", "--sections", "--memory-rows"):
        assert option in text


def test_unknown_section_is_rejected():
    with pytest.raises(SystemExit, match="sections"):
        main(["--sections=nope"])
