"""The benchmark runs end to end on a tiny configuration and writes its outputs.

Timings are never asserted: only that every section produced its figures.
"""

import json

import pytest

from skrank.benchmarks._cli import main

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


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    # The defaults section fits skrank's auto schedule, too slow for a unit test;
    # memory spawns a fresh interpreter per contender: one keeps it short.
    main(
        [
            *TINY,
            f"--output={out}",
            "--sections=throughput,preprocessing,scaling,memory",
            "--contenders=skrank,skrank_float32,keras,hgb",
        ]
    )
    return out


def test_writes_json_and_markdown(results):
    data = json.loads((results / "results.json").read_text())
    assert set(data["throughput"]) == {"skrank", "skrank_float32", "keras", "hgb"}
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
    ):
        assert heading in markdown


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for option in ("--quick", "--rows", "--rounds", "--output", "--sections", "--memory-rows"):
        assert option in text


def test_unknown_section_is_rejected():
    with pytest.raises(SystemExit, match="sections"):
        main(["--sections=nope"])
