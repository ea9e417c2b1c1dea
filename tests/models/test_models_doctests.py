"""The Examples sections of the layers, tasks, models and optimizers run as doctests."""

import doctest
import importlib

import pytest

MODULES = [
    "skrank.layers._embedding",
    "skrank.layers._mlp",
    "skrank.layers._cross",
    "skrank.tasks._ranking",
    "skrank.models._ranking",
    "skrank.models._ensemble",
    "skrank.optimizers._composite",
]


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name):
    import keras

    keras.utils.set_random_seed(0)
    module = importlib.import_module(module_name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.attempted > 0, f"{module_name} has no doctest examples"
    assert result.failed == 0
