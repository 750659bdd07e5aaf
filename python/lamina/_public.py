"""What `dir()` of a public module shows: its `__all__`, nothing else.

Each public module ends its `__all__` with `__dir__ = public_dir(__all__)` (a module
`__dir__`, PEP 562), so `dir(lm.losses)` and tab completion list the API, not the `np`,
`re` or `math` the module imports for itself. The names stay importable; they are only
not advertised.

>>> import lamina as lm
>>> "np" in dir(lm.losses), "mean_squared_error" in dir(lm.losses)
(False, True)
"""

__all__ = ["public_dir"]


def public_dir(names):
    """A module `__dir__` that lists `names` (the module's `__all__` list), sorted.

    >>> import types
    >>> module = types.ModuleType("example")
    >>> module.__all__ = ["b", "a"]
    >>> module.__dir__ = public_dir(module.__all__)
    >>> dir(module)
    ['a', 'b']
    """
    def __dir__():
        return sorted(names)
    return __dir__
