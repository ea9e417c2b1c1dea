"""The list-column benchmark script (skrank/benchmarks/_lists.py) on tiny data.

Numbers are never asserted here: the targets are read from the full run.
"""

import numpy as np
import pytest

from skrank.benchmarks import _lists
from skrank.benchmarks._cli import main as benchmark_main


def test_tag_frame_and_indicator_columns():
    X, y = _lists.make_tag_frame(300, n_tags=40, random_state=0)
    assert X.columns.tolist() == ["user", "price", "tags"]
    assert all(0 <= len(tags) <= 6 for tags in X["tags"])
    assert set(np.unique(y)) == {0, 1}
    wide = _lists.indicator_frame(X, "tags")
    tag_columns = [c for c in wide.columns if c.startswith("tags=")]
    np.testing.assert_array_equal(wide[tag_columns].sum(axis=1), X["tags"].map(len))
    assert set(_lists.tag_variants(X)) >= {"list column", "0/1 columns", "joined string"}


def test_tags_section_runs(capsys, monkeypatch):
    monkeypatch.setattr(_lists, "make_tag_frame", _small_tags)
    monkeypatch.setattr(_lists, "tag_variants", _two_variants)
    out = _lists.run_sections(["tags"], small=True)
    assert [r["variant"] for r in out["tags"]][0] == "list column"
    assert all(0.0 <= r["auc"] <= 1.0 for r in out["tags"])
    assert "Tag bags" in capsys.readouterr().out


def test_lists_is_a_subcommand_of_the_benchmark(capsys):
    with pytest.raises(SystemExit) as exit_info:
        benchmark_main(["lists", "--help"])
    assert exit_info.value.code == 0
    assert "python -m skrank.benchmarks lists" in capsys.readouterr().out


_make_tag_frame = _lists.make_tag_frame
_tag_variants = _lists.tag_variants


def _two_variants(X):
    variants = _tag_variants(X)
    return {name: variants[name] for name in ("list column", "joined string")}


def _small_tags(n_samples, *, n_tags, **kwargs):
    return _make_tag_frame(400, n_tags=30, **kwargs)
