"""Peak memory of a streamed fit, for a table and one ten times larger.

Run ``python -m skrank.data._memory_benchmark`` (1M and 10M rows) or
``python -m skrank.data._memory_benchmark --rows 200000 2000000``. Criteo-like
rows from :func:`skrank.datasets.make_ctr_classification` (13 dense and 26
categorical columns) are written to Parquet in chunks, then each size is fitted
(one epoch) in a fresh process reading a :class:`skrank.data.ParquetSource`,
and its peak resident memory is reported. Not a test: it takes minutes.

The sources read on demand (one compressed row group and the record batch being
decoded) and the fit keeps nothing per row, so the peak should not depend on the
number of rows; allocators keep some freed memory, so it settles only after a
few files. Compare sizes that both span several files (``--file-rows``).

Measured on a shared 2-core machine (the defaults, 1M and 10M rows): peak RSS
1,216 MiB and 1,250 MiB (+2.8%), fits of 24 s and 127 s (a second run: 1,163
and 1,185 MiB, +2.0%; a third, after the sparse embedding reads: 1,144 and 1,171
MiB, +2.3%). Before the sources read on demand, ``pyarrow.dataset``'s
scanner decoded up to about 1 GiB ahead of training (its queue limit, whatever
``fragment_readahead`` and ``batch_readahead``): 1,728 MiB and 2,547 MiB (+47%).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

CHUNK_ROWS = 250_000
ROW_GROUP_ROWS = 65_536


def write_parquet(folder, n_rows, file_rows=CHUNK_ROWS):
    from skrank.datasets import make_ctr_classification

    for i, start in enumerate(range(0, n_rows, file_rows)):
        X, y = make_ctr_classification(min(file_rows, n_rows - start), random_state=i)
        path = os.path.join(folder, f"part-{i:05d}.parquet")
        X.assign(clicked=y).to_parquet(path, row_group_size=ROW_GROUP_ROWS)


def fit_and_measure(folder, batch_rows):
    """Run in a child process: fit one epoch on the files, print peak RSS as JSON."""
    from skrank import RankingClassifier
    from skrank.data import ParquetSource

    start = time.perf_counter()
    source = ParquetSource(
        os.path.join(folder, "*.parquet"), target="clicked", batch_rows=batch_rows
    )
    clf = RankingClassifier(
        embedding_dim=8,
        bottom_stack=(32,),
        top_stack=(32,),
        batch_size=1024,
        epochs=1,
        early_stopping=False,
        hash_buckets=20_000,
        random_state=0,
    ).fit(source)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        json.dumps(
            {
                "rows": int(source.count_rows()),
                "peak_rss_mib": peak_kib / 1024,
                "fit_seconds": time.perf_counter() - start,
                "loss": clf.history_["loss"],
            }
        )
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--batch-rows", type=int, default=65_536)
    parser.add_argument(
        "--file-rows",
        type=int,
        default=CHUNK_ROWS,
        help="rows per Parquet file; compare sizes that both span several files",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        fit_and_measure(args.child, args.batch_rows)
        return
    results = []
    for n_rows in args.rows:
        with tempfile.TemporaryDirectory() as folder:
            write_parquet(folder, n_rows, args.file_rows)
            output = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "skrank.data._memory_benchmark",
                    "--child",
                    folder,
                    "--batch-rows",
                    str(args.batch_rows),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            result = json.loads(output.strip().splitlines()[-1])
            results.append(result)
            print(
                f"{result['rows']:>11,} rows: peak RSS {result['peak_rss_mib']:8.1f} MiB, "
                f"fit {result['fit_seconds']:7.1f} s",
                flush=True,
            )
    if len(results) > 1:
        growth = results[-1]["peak_rss_mib"] / results[0]["peak_rss_mib"] - 1
        print(f"peak RSS growth from the smallest to the largest: {growth:+.1%}")


if __name__ == "__main__":
    main()
