"""Every docstring example in the installed lamina package runs and prints what it shows."""

import doctest
import importlib
import pkgutil

import pytest

import lamina


def _modules():
    names = ["lamina"]
    for info in pkgutil.walk_packages(lamina.__path__, "lamina."):
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
