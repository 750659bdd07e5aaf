"""Turning op arguments into tensors of matching dtype, as TF.js's makeTypesMatch does."""

import numpy as np

from lamina.dtypes import as_numpy_dtype, upcast
from lamina.tensor import Tensor, Variable, as_tensor

__all__ = ["binary", "unary_float", "axes", "readable"]


def binary(a, b, op):
    """Both operands as tensors of one dtype (bool < int32 < float32; numbers are float32).

    >>> from lamina import tensor
    >>> x, y = binary(tensor([1], dtype="int32"), 2.0, "add")
    >>> x.dtype, y.dtype
    ('float32', 'float32')
    """
    a = as_tensor(a, "a")
    b = as_tensor(b, "b")
    target = upcast(a.dtype, b.dtype)
    if a.dtype != target:
        a = Tensor._wrap(a._data.astype(as_numpy_dtype(target)))
    if b.dtype != target:
        b = Tensor._wrap(b._data.astype(as_numpy_dtype(target)))
    return a, b


def unary_float(x, op):
    """x as a float32 tensor, for ops with fractional results (sqrt, log, sigmoid...). int32
    and bool are converted: TF.js's cpu kernels keep int32 there and truncate the result
    (sqrt of int32 5 is 2); lamina gives the float32 value instead.

    >>> from lamina import tensor
    >>> unary_float(tensor([1], dtype="int32"), "exp").dtype
    'float32'
    """
    x = as_tensor(x, "x")
    if x.dtype != "float32":
        return Tensor._wrap(x._data.astype(np.float32))
    return x


def axes(axis, rank, argument="axis"):
    """Normalises an axis argument (None, an int, or a list of ints; negatives count from
    the end) to a sorted tuple, with TF.js-style range errors.

    >>> axes(-1, 3), axes(None, 2), axes([0, 2], 3)
    ((2,), (0, 1), (0, 2))
    """
    if axis is None:
        return tuple(range(rank))
    items = [axis] if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool) else axis
    try:
        items = list(items)
    except TypeError:
        raise TypeError(f"{argument} must be an int or a list of ints, got {type(axis).__name__}") from None
    result = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"{argument} must be an int or a list of ints, got {a!r}")
        if not -rank <= a < max(rank, 1):
            raise ValueError(f"{argument} {a} is out of range for a rank-{rank} tensor "
                             f"(valid: {-rank} to {rank - 1})")
        result.append(int(a) % max(rank, 1))
    if len(set(result)) != len(result):
        raise ValueError(f"{argument} has repeated axes: {axis}")
    return tuple(sorted(result))


def readable(t):
    """The array of t for an op that returns a view of it: a copy when t is a Variable, so
    that a later assign() does not change the op's result.

    >>> import lamina as lm
    >>> readable(lm.variable(lm.ones([2]))).flags.owndata
    True
    """
    return t._data.copy() if isinstance(t, Variable) else t._data
