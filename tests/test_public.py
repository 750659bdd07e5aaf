"""lamina._public: dir() of every public module lists its public API (__all__) and nothing
it imports for itself (np, re, os, math, ...)."""

import importlib
import types

import pytest

from lamina._public import public_dir

PUBLIC_MODULES = ["lamina", "lamina.layers", "lamina.data", "lamina.train", "lamina.losses", "lamina.metrics",
                  "lamina.callbacks", "lamina.activations", "lamina.initializers", "lamina.regularizers",
                  "lamina.constraints", "lamina.io", "lamina.models"]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_dir_lists_exactly_the_public_names(name):
    module = importlib.import_module(name)
    shown = dir(module)
    assert set(shown) == set(module.__all__)
    for hidden in ("np", "re", "os", "math", "numbers", "warnings", "enum", "asyncio"):
        assert hidden not in shown
    for attribute in shown:
        value = getattr(module, attribute)  # every listed name resolves
        if isinstance(value, types.ModuleType):  # a module listed is one of lamina's own
            assert value.__name__.startswith("lamina."), (attribute, value)


def test_hidden_names_still_resolve():
    import lamina.losses
    assert lamina.losses.LOSSES["meanSquaredError"] is lamina.losses.layers.mean_squared_error


def test_model_from_json_is_listed_in_lm_models_not_at_the_top():
    import lamina as lm
    assert "model_from_json" in dir(lm.models) and "model_from_json" not in dir(lm)


def test_public_dir_follows_the_list_it_was_given():
    names = ["b", "a"]
    listing = public_dir(names)
    names.append("c")  # __all__ extended in place later in a module
    assert listing() == ["a", "b", "c"]
