"""Casts, comparisons, logical ops and `where`, with TF.js's dtype rules.

Comparisons return bool tensors and have no gradient; logical ops take bool tensors only
(numbers and lists are read as booleans, as TF.js parses them); `where` passes the
gradient to the branch it picked.
"""

import numpy as np

from lamina.dtypes import DTYPES, as_numpy_dtype
from lamina.ops._operands import binary
from lamina.ops.arithmetic import _js_int32
from lamina.ops.tape import result
from lamina.tensor import Tensor, as_tensor

__all__ = [
    "cast", "where", "equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
    "logical_and", "logical_or", "logical_not", "logical_xor",
]


def cast(x, dtype):
    """x converted to dtype ('float32', 'int32' or 'bool').

    To int32, values are truncated toward zero as a JS Int32Array stores them (NaN and
    ±Infinity give 0); to bool, anything but 0 is true. A float32 → float32 cast passes
    the gradient through; casts to or from int32/bool stop it (an integer has no derivative;
    TF.js passes dy through regardless).

    >>> import lamina as lm
    >>> lm.cast(lm.tensor([1.5, -2.7, 0]), "int32").array()
    [1, -2, 0]
    >>> lm.cast(lm.tensor([1.5, 0]), "bool").array()
    [True, False]
    """
    if dtype not in DTYPES:
        raise ValueError(f"Failed to cast to unknown dtype {dtype} (dtype must be one of "
                         f"{', '.join(DTYPES)})")
    x = as_tensor(x, "x")
    v = x._data
    if dtype == "int32" and x.dtype == "float32":
        return Tensor._wrap(_js_int32(v))
    if dtype != "float32" or x.dtype != "float32":
        return Tensor._wrap(v.astype(as_numpy_dtype(dtype)))
    return result(v.copy(), (x,), lambda dy: (dy,))


def where(condition, a, b):
    """a where condition is true, else b; condition, a and b broadcast together.

    condition must be bool; a and b are brought to one dtype. The gradient goes to a where
    condition holds and to b elsewhere; condition gets none.

    >>> import lamina as lm
    >>> cond = lm.tensor([False, False, True])
    >>> lm.where(cond, lm.tensor([1, 2, 3]), lm.tensor([-1, -2, -3])).array()
    [-1.0, -2.0, 3.0]
    """
    condition = _bool_operand(condition, "condition", "where")
    a, b = binary(a, b, "where")
    c = condition._data
    _broadcast_shape("where", condition.shape, a.shape, b.shape)
    return result(np.where(c, a._data, b._data), (a, b), lambda dy: (dy * c, dy * ~c))


def _where_method(self, condition, x):
    """t.where(condition, x): TF.js's method form, lm.where(condition, t, x) (t where true).

    >>> import lamina as lm
    >>> lm.tensor([1, 2]).where(lm.tensor([True, False]), lm.tensor([-1, -2])).array()
    [1.0, -2.0]
    """
    return where(condition, self, x)


def _broadcast_shape(op, *shapes):
    try:
        return np.broadcast_shapes(*[tuple(s) for s in shapes])
    except ValueError:
        listed = " and ".join(str(list(s)) for s in shapes)
        raise ValueError(f"{op}: operands could not be broadcast together with shapes {listed}") from None


def _compare(a, b, op, numpy_op):
    a, b = binary(a, b, op)
    _broadcast_shape(op, a.shape, b.shape)
    return Tensor._wrap(numpy_op(a._data, b._data))


def equal(a, b):
    """a == b element-wise, as a bool tensor (also `x == y`).

    >>> import lamina as lm
    >>> lm.equal(lm.tensor([1, 2, 3]), 2).array()
    [False, True, False]
    """
    return _compare(a, b, "equal", np.equal)


def not_equal(a, b):
    """a != b element-wise, as a bool tensor (also `x != y`).

    >>> import lamina as lm
    >>> lm.not_equal(lm.tensor([1, 2, 3]), 2).array()
    [True, False, True]
    """
    return _compare(a, b, "notEqual", np.not_equal)


def greater(a, b):
    """a > b element-wise, as a bool tensor (also `x > y`).

    >>> import lamina as lm
    >>> lm.greater(lm.tensor([1, 2, 3]), 2).array()
    [False, False, True]
    """
    return _compare(a, b, "greater", np.greater)


def greater_equal(a, b):
    """a >= b element-wise, as a bool tensor (also `x >= y`).

    >>> import lamina as lm
    >>> lm.greater_equal(lm.tensor([1, 2, 3]), 2).array()
    [False, True, True]
    """
    return _compare(a, b, "greaterEqual", np.greater_equal)


def less(a, b):
    """a < b element-wise, as a bool tensor (also `x < y`).

    >>> import lamina as lm
    >>> lm.less(lm.tensor([1, 2, 3]), 2).array()
    [True, False, False]
    """
    return _compare(a, b, "less", np.less)


def less_equal(a, b):
    """a <= b element-wise, as a bool tensor (also `x <= y`).

    >>> import lamina as lm
    >>> lm.less_equal(lm.tensor([1, 2, 3]), 2).array()
    [True, True, False]
    """
    return _compare(a, b, "lessEqual", np.less_equal)


def _bool_operand(x, argument, op):
    """x as a bool tensor: a tensor must already be bool (TF.js's error otherwise); numbers,
    lists and arrays are read as booleans, as TF.js parses them."""
    if isinstance(x, Tensor):
        if x.dtype != "bool":
            raise TypeError(f"Argument '{argument}' passed to '{op}' must be bool tensor, "
                            f"but got {x.dtype} tensor")
        return x
    return as_tensor(x, argument, dtype="bool")


def _logical(a, b, op, numpy_op):
    a = _bool_operand(a, "a", op)
    b = _bool_operand(b, "b", op)
    _broadcast_shape(op, a.shape, b.shape)
    return Tensor._wrap(numpy_op(a._data, b._data))


def logical_and(a, b):
    """a AND b element-wise for bool tensors, with broadcasting (also `a & b`).

    >>> import lamina as lm
    >>> lm.logical_and(lm.tensor([False, True, True]), lm.tensor([True, False, True])).array()
    [False, False, True]
    """
    return _logical(a, b, "logicalAnd", np.logical_and)


def logical_or(a, b):
    """a OR b element-wise for bool tensors, with broadcasting (also `a | b`).

    >>> import lamina as lm
    >>> lm.logical_or(lm.tensor([False, True, False]), lm.tensor([True, False, False])).array()
    [True, True, False]
    """
    return _logical(a, b, "logicalOr", np.logical_or)


def logical_xor(a, b):
    """a XOR b element-wise for bool tensors, with broadcasting (also `a ^ b`).

    >>> import lamina as lm
    >>> lm.logical_xor(lm.tensor([False, True, True]), lm.tensor([True, False, True])).array()
    [True, True, False]
    """
    return _logical(a, b, "logicalXor", np.logical_xor)


def logical_not(x):
    """NOT x element-wise for a bool tensor (also `~x`).

    >>> import lamina as lm
    >>> (~lm.tensor([True, False])).array()
    [False, True]
    """
    x = _bool_operand(x, "x", "logicalNot")
    return Tensor._wrap(np.logical_not(x._data))
