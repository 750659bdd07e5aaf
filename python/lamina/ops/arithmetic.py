"""Element-wise arithmetic with numpy broadcasting, and its gradients."""

import numpy as np

from lamina.ops._operands import binary, unary_float
from lamina.ops.tape import result

__all__ = ["add", "sub", "mul", "div", "neg", "square", "sqrt", "exp", "log"]


def add(a, b):
    """a + b, element-wise with broadcasting.

    >>> import lamina as lm
    >>> lm.add(lm.tensor([1, 2]), 10).array()
    [11.0, 12.0]
    """
    a, b = binary(a, b, "add")
    return result(a._data + b._data, (a, b), lambda dy: (dy, dy))


def sub(a, b):
    """a - b, element-wise with broadcasting.

    >>> import lamina as lm
    >>> lm.sub(lm.tensor([1, 2]), 1).array()
    [0.0, 1.0]
    """
    a, b = binary(a, b, "sub")
    return result(a._data - b._data, (a, b), lambda dy: (dy, -dy))


def mul(a, b):
    """a * b, element-wise with broadcasting.

    >>> import lamina as lm
    >>> lm.mul(lm.tensor([1, 2]), lm.tensor([3, 4])).array()
    [3.0, 8.0]
    """
    a, b = binary(a, b, "mul")
    x, y = a._data, b._data
    return result(x * y, (a, b), lambda dy: (dy * y, dy * x))


def div(a, b):
    """a / b, element-wise with broadcasting (int32 / int32 divides as floats, as in TF.js).

    >>> import lamina as lm
    >>> lm.div(lm.tensor([1, 2]), 4).array()
    [0.25, 0.5]
    """
    a, b = binary(a, b, "div")
    x, y = a._data, b._data
    if a.dtype != "float32":
        x, y = x.astype(np.float32), y.astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        return result(x / y, (a, b), lambda dy: (dy / y, -dy * x / (y * y)))


def neg(x):
    """-x.

    >>> import lamina as lm
    >>> lm.neg(lm.tensor([1, -2])).array()
    [-1.0, 2.0]
    """
    from lamina.tensor import as_tensor

    x = as_tensor(x)
    return result(-x._data, (x,), lambda dy: (-dy,))


def square(x):
    """x².

    >>> import lamina as lm
    >>> lm.square(lm.tensor([3])).array()
    [9.0]
    """
    x = unary_float(x, "square")
    v = x._data
    return result(v * v, (x,), lambda dy: (2.0 * dy * v,))


def sqrt(x):
    """√x (NaN for negative x).

    >>> import lamina as lm
    >>> lm.sqrt(lm.tensor([4])).array()
    [2.0]
    """
    x = unary_float(x, "sqrt")
    with np.errstate(invalid="ignore"):
        y = np.sqrt(x._data)
    with np.errstate(divide="ignore"):
        return result(y, (x,), lambda dy: (dy / (2.0 * y),))


def exp(x):
    """eˣ.

    >>> import lamina as lm
    >>> round(lm.exp(lm.tensor([1])).item(), 5)
    2.71828
    """
    x = unary_float(x, "exp")
    with np.errstate(over="ignore"):
        y = np.exp(x._data)
    return result(y, (x,), lambda dy: (dy * y,))


def log(x):
    """Natural logarithm (-inf at 0, NaN below).

    >>> import lamina as lm
    >>> lm.log(lm.tensor([1])).array()
    [0.0]
    """
    x = unary_float(x, "log")
    v = x._data
    with np.errstate(divide="ignore", invalid="ignore"):
        return result(np.log(v), (x,), lambda dy: (dy / v,))
