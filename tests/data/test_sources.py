"""Record batches of ParquetSource and CSVSource: sizes, order, types, bounded reading."""

import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from skrank.data import CSVSource, ParquetSource
from skrank.datasets import make_ctr_classification


def numbered(start, n):
    rows = np.arange(start, start + n)
    return pd.DataFrame({"n": rows, "site": [f"s{i % 7}" for i in rows], "y": rows % 2})


def test_parquet_batches_follow_row_groups_and_file_order(tmp_path):
    numbered(0, 700).to_parquet(tmp_path / "a.parquet", row_group_size=300)
    numbered(700, 100).to_parquet(tmp_path / "b.parquet")
    source = ParquetSource(str(tmp_path / "*.parquet"), target="y", batch_rows=256)
    batches = list(source.iter_batches())
    assert [len(X) for X, _ in batches] == [256, 44, 256, 44, 100, 100]
    X = pd.concat([X for X, _ in batches], ignore_index=True)
    assert X["n"].tolist() == list(range(800))
    assert list(X.columns) == ["n", "site"]
    np.testing.assert_array_equal(np.concatenate([y for _, y in batches]), np.arange(800) % 2)
    reordered = [X["n"].iloc[0] for X, _ in source.iter_batches(file_order=[1, 0])]
    assert reordered == [700, 0, 256, 300, 556, 600]
    assert [list(X.columns) for X, y in source.iter_batches(with_target=False)][0] == ["n", "site"]


def test_parquet_files_are_cast_to_the_first_schema(tmp_path):
    numbered(0, 10).to_parquet(tmp_path / "a.parquet")
    numbered(10, 10).astype({"n": np.int32}).drop(columns="site").to_parquet(tmp_path / "b.parquet")
    source = ParquetSource(str(tmp_path / "*.parquet"), target="y")
    X, y = source.read()
    assert X["n"].tolist() == list(range(20)) and X["n"].dtype == np.int64
    assert X["site"].isna().sum() == 10 and len(y) == 20


def test_csv_batches_have_batch_rows_across_blocks(tmp_path):
    # ~1.6 MB: more than one 1 MiB parsing block.
    numbered(0, 90_000).to_csv(tmp_path / "a.csv", index=False)
    numbered(90_000, 10).to_csv(tmp_path / "b.csv", index=False)
    source = CSVSource(str(tmp_path / "*.csv"), target="y", batch_rows=20_000)
    batches = list(source.iter_batches())
    assert [len(X) for X, _ in batches] == [20_000] * 4 + [10_000, 10]
    X = pd.concat([X for X, _ in batches], ignore_index=True)
    assert X["n"].tolist() == list(range(90_010))
    assert X["site"].iloc[:3].tolist() == ["s0", "s1", "s2"]


def test_csv_types_come_from_the_first_file(tmp_path):
    pd.DataFrame({"a": [1.5, 2.0], "b": ["x", None], "y": [0, 1]}).to_csv(
        tmp_path / "a.csv", index=False
    )
    pd.DataFrame({"a": [3, 4], "b": ["7", "z"], "y": [1, 0]}).to_csv(
        tmp_path / "b.csv", index=False
    )
    X, y = CSVSource(str(tmp_path / "*.csv"), target="y").read()
    assert X["a"].dtype == np.float64 and X["a"].tolist() == [1.5, 2.0, 3.0, 4.0]
    assert X["b"].iloc[1] is None or pd.isna(X["b"].iloc[1])
    assert X["b"].iloc[2] == "7"
    np.testing.assert_array_equal(y, [0, 1, 1, 0])


def test_reading_does_not_run_ahead_of_the_consumer(tmp_path):
    # pyarrow.dataset's scanner decodes ahead until ~1 GiB is queued; the sources
    # must read only what is asked for, so that memory does not grow with the data.
    rng = np.random.default_rng(0)
    for i in range(12):
        frame = pd.DataFrame(rng.random((100_000, 4)), columns=list("abcd"))
        frame.to_parquet(tmp_path / f"part-{i:02d}.parquet", row_group_size=10_000)
    one_file = 100_000 * 4 * 8
    source = ParquetSource(str(tmp_path / "*.parquet"), batch_rows=10_000)
    before = pa.total_allocated_bytes()
    batches = source.iter_batches()
    first, _ = next(batches)
    time.sleep(0.5)  # room for a background reader to run ahead
    assert pa.total_allocated_bytes() - before < 2 * one_file
    assert len(first) == 10_000
    batches.close()


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_empty_file(tmp_path, kind):
    frame = numbered(0, 5)
    frame.to_parquet(tmp_path / "a.parquet")
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.iloc[:0].to_parquet(tmp_path / "b.parquet")
    frame.iloc[:0].to_csv(tmp_path / "b.csv", index=False)
    cls = ParquetSource if kind == "parquet" else CSVSource
    source = cls(str(tmp_path / f"*.{kind}"), target="y")
    assert [len(X) for X, _ in source.iter_batches()] == [5]


def test_unknown_column(tmp_path):
    numbered(0, 5).to_parquet(tmp_path / "a.parquet")
    source = ParquetSource(str(tmp_path / "a.parquet"), columns=["n", "nope"])
    with pytest.raises(ValueError, match=r"\['nope'\] are not in"):
        next(source.iter_batches())


def test_parquet_source_batches(tmp_path):
    X, y = make_ctr_classification(
        2000, n_dense=3, n_categorical=3, cardinalities=10, random_state=0
    )
    table = X.assign(clicked=y)
    for i, start in enumerate(range(0, 2000, 700)):
        table.iloc[start : start + 700].to_parquet(tmp_path / f"{i}.parquet", row_group_size=300)
    source = ParquetSource(str(tmp_path / "*.parquet"), target="clicked", batch_rows=256)
    sizes = [len(batch) for batch, _ in source.iter_batches()]
    assert max(sizes) <= 256 and sum(sizes) == 2000
    assert source.count_rows() == 2000
    assert source.feature_names == list(X.columns)
    X_read, y_read = source.read()
    pd.testing.assert_frame_equal(X_read, X.reset_index(drop=True), check_dtype=False)
    np.testing.assert_array_equal(y_read, y)


def test_source_errors(tmp_path):
    with pytest.raises(ValueError, match="No file matches"):
        ParquetSource(str(tmp_path / "*.parquet"))
    with pytest.raises(ValueError, match="batch_rows"):
        ParquetSource(str(tmp_path), batch_rows=0)
    pd.DataFrame({"a": [1.0]}).to_parquet(tmp_path / "x.parquet")
    with pytest.raises(ValueError, match="target column 'clicked'"):
        _ = ParquetSource(str(tmp_path / "x.parquet"), target="clicked").feature_names
