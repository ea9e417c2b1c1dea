"""Shared helpers of the preprocessing tests."""

from contextlib import contextmanager
from unittest import mock

import numpy as np

from skrank.preprocessing import _preprocessor


@contextmanager
def large_path():
    """Encode every input, however small, with the per-column pandas path."""
    with mock.patch.object(_preprocessor, "SMALL_INPUT_MAX_ROWS", 0):
        yield


def assert_same_bits(actual, expected):
    """Equal dtype, shape, memory layout and bytes (``-0.0`` differs from ``0.0``)."""
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    assert actual.flags.c_contiguous == expected.flags.c_contiguous
    assert actual.flags.f_contiguous == expected.flags.f_contiguous
    assert np.ascontiguousarray(actual).tobytes() == np.ascontiguousarray(expected).tobytes()
