"""Threads and instruction-set variants of the compiled kernels."""

from lamina import _core

__all__ = ["get_num_threads", "set_num_threads", "isa", "supported_isas"]


def get_num_threads():
    """Returns how many threads lamina's kernels use, the calling thread included.

    >>> import lamina as lm
    >>> lm.get_num_threads() >= 1
    True
    """
    return _core.get_num_threads()


def set_num_threads(n):
    """Sets how many threads lamina's kernels use (the default is the CPUs this process may use).

    Results are identical run to run for the same inputs and thread count.

    >>> import lamina as lm
    >>> old = lm.get_num_threads()
    >>> lm.set_num_threads(1)
    >>> lm.get_num_threads()
    1
    >>> lm.set_num_threads(old)
    """
    _core.set_num_threads(n)


def isa():
    """Returns the instruction-set variant the kernels run: 'scalar', 'avx2' or 'avx512'.

    >>> from lamina import runtime
    >>> runtime.isa() in runtime.supported_isas()
    True
    """
    return _core.isa()


def supported_isas():
    """Returns every instruction-set variant this CPU can run, 'scalar' first.

    >>> from lamina import runtime
    >>> runtime.supported_isas()[0]
    'scalar'
    """
    return list(_core.supported_isas())
