"""Columns fitted and encoded side by side in threads, on large tables.

pandas' factorize of Arrow-backed strings, pyarrow compute and numpy's array loops
release the GIL, so the columns of a large table are encoded in parallel by threads
(no copies of the data, unlike processes). Each column is written into its own
columns of the output, so the result is the same bits in any order.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

# Below this many rows the columns are encoded one after another: a thread pool's start
# and hand-offs cost about what they save. Encoding 39 columns on 2 cores, one thread /
# two: 2,000 rows 8.2 / 11.4 ms; 20,000 rows 17.8 / 16.1 ms in one phase of the
# machine, 14.2 / 16.2 ms in another; 50,000 rows 33.0 / 25.2 ms, then 27.8 / 25.5 ms.
PARALLEL_MIN_ROWS = 50_000
# More threads than this gain little: the columns compete for memory bandwidth.
MAX_THREADS = 8


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextmanager
def column_map(n_rows: int, n_columns: int):
    """Yield ``map_columns(fn, *iterables) -> list``: the builtin ``map`` on small
    tables, a thread pool's on large ones. Results keep the order of the columns, and
    the first column (in order) that raises raises."""
    # Rows first: a few rows (one-row predictions) skip the CPU count's system call.
    n_threads = 1 if n_rows < PARALLEL_MIN_ROWS else min(MAX_THREADS, _available_cpus(), n_columns)
    if n_threads < 2:
        yield lambda fn, *iterables: list(map(fn, *iterables))
        return
    try:
        with ThreadPoolExecutor(n_threads, thread_name_prefix="skrank-columns") as pool:
            yield lambda fn, *iterables: list(pool.map(fn, *iterables))
    finally:
        # pyarrow's allocator keeps freed memory per thread: returned to the system
        # here, the peak RSS of fitting 1M rows is 2,251 MiB instead of 2,320-2,343
        # (one thread: 2,205-2,210; python -m skrank.benchmarks --sections memory).
        # pyarrow is optional: when nothing imported it, it holds no memory.
        pyarrow = sys.modules.get("pyarrow")
        if pyarrow is not None:
            pyarrow.default_memory_pool().release_unused()
