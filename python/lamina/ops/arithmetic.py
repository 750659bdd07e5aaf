"""Element-wise arithmetic with numpy broadcasting, and its gradients."""

import numpy as np

from lamina.ops._operands import binary, unary_float
from lamina.ops.tape import input_needed, result
from lamina.tensor import Tensor, as_tensor

__all__ = [
    "add", "sub", "mul", "div", "neg", "square", "sqrt", "exp", "log",
    "pow", "rsqrt", "log1p", "abs", "sign", "maximum", "minimum", "clip_by_value", "floor_div", "mod",
]


def add(a, b):
    """a + b, element-wise with broadcasting.

    >>> import lamina as lm
    >>> lm.add(lm.tensor([1, 2]), 10).array()
    [11.0, 12.0]
    """
    a, b = binary(a, b, "add")
    return result(a._data + b._data, (a, b), lambda dy: (dy, dy), lambda dy, out: (dy, dy))


def sub(a, b):
    """a - b, element-wise with broadcasting.

    >>> import lamina as lm
    >>> lm.sub(lm.tensor([1, 2]), 1).array()
    [0.0, 1.0]
    """
    a, b = binary(a, b, "sub")
    return result(a._data - b._data, (a, b), lambda dy: (dy, -dy), lambda dy, out: (dy, neg(dy)))


def mul(a, b):
    """a * b, element-wise with broadcasting.

    >>> import lamina as lm
    >>> lm.mul(lm.tensor([1, 2]), lm.tensor([3, 4])).array()
    [3.0, 8.0]
    """
    a, b = binary(a, b, "mul")
    x, y = a._data, b._data
    return result(x * y, (a, b), lambda dy: (dy * y, dy * x), lambda dy, out: (mul(dy, b), mul(dy, a)))


def div(a, b):
    """a / b, element-wise with broadcasting. int32 / int32 is floor division and stays int32,
    as TF.js's tf.div (which calls floorDiv then); mixing in a float32 or a Python number
    divides as floats.

    >>> import lamina as lm
    >>> lm.div(lm.tensor([1, 2]), 4).array()
    [0.25, 0.5]
    >>> lm.div(lm.tensor([7, -7], dtype="int32"), lm.tensor(2, dtype="int32")).array()
    [3, -4]
    """
    a, b = binary(a, b, "div")
    if a.dtype == "int32":
        return floor_div(a, b)
    x, y = a._data, b._data
    if a.dtype != "float32":
        x, y = x.astype(np.float32), y.astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        return result(x / y, (a, b), lambda dy: (dy / y, -dy * x / (y * y)),
                      lambda dy, out: (div(dy, b), neg(div(mul(dy, a), square(b)))))


def neg(x):
    """-x.

    >>> import lamina as lm
    >>> lm.neg(lm.tensor([1, -2])).array()
    [-1.0, 2.0]
    """
    x = as_tensor(x)
    return result(-x._data, (x,), lambda dy: (-dy,), lambda dy, out: (neg(dy),))


def square(x):
    """x²; int32 stays int32 and bool stays bool, as in TF.js (the square of an integer is one).

    >>> import lamina as lm
    >>> lm.square(lm.tensor([3])).array()
    [9.0]
    >>> lm.square(lm.tensor([-3], dtype="int32")).array()
    [9]
    """
    x = as_tensor(x)
    v = x._data
    return result(v * v, (x,), lambda dy: (2.0 * dy * v,), lambda dy, out: (mul(mul(dy, 2.0), x),))


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
        return result(y, (x,), lambda dy: (dy / (2.0 * y),), lambda dy, out: (div(dy, mul(out, 2.0)),))


def exp(x):
    """eˣ.

    >>> import lamina as lm
    >>> round(lm.exp(lm.tensor([1])).item(), 5)
    2.71828
    """
    x = unary_float(x, "exp")
    with np.errstate(over="ignore"):
        y = np.exp(x._data)
    return result(y, (x,), lambda dy: (dy * y,), lambda dy, out: (mul(dy, out),))


def log(x):
    """Natural logarithm (-inf at 0, NaN below).

    >>> import lamina as lm
    >>> lm.log(lm.tensor([1])).array()
    [0.0]
    """
    x = unary_float(x, "log")
    v = x._data
    with np.errstate(divide="ignore", invalid="ignore"):
        return result(np.log(v), (x,), lambda dy: (dy / v,), lambda dy, out: (div(dy, x),))


# --- TF.js helpers shared by the ops below --------------------------------------------------

def _numeric(x, op):
    """x as a tensor for an op that keeps int32 exact (abs, sign, maximum...): bool becomes
    int32, as TF.js's maximum/minimum cast it."""
    x = as_tensor(x, "x")
    if x.dtype == "bool":
        return Tensor._wrap(x._data.astype(np.int32))
    return x


def _numeric_pair(a, b, op):
    """Both operands in one dtype (TF.js's makeTypesMatch), bool computed as int32."""
    a, b = binary(a, b, op)
    if a.dtype == "bool":
        a, b = Tensor._wrap(a._data.astype(np.int32)), Tensor._wrap(b._data.astype(np.int32))
    return a, b


def _js_int32(values):
    """float64 values stored the way a JS Int32Array stores them (ECMAScript ToInt32):
    truncated toward zero, NaN and ±Infinity become 0, out-of-range values wrap mod 2³²."""
    values = np.asarray(values, np.float64)
    with np.errstate(invalid="ignore"):
        whole = np.trunc(np.where(np.isfinite(values), values, 0.0))
        wrapped = np.fmod(whole, 2.0 ** 32).astype(np.int64) & 0xFFFFFFFF
    return wrapped.astype(np.uint32).view(np.int32)


def _js_number(value):
    """A number as JS prints it in an error message: 3 (not 3.0), 0.5, Infinity."""
    value = float(value)
    if np.isnan(value):
        return "NaN"
    if np.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return str(int(value)) if value.is_integer() else repr(value)


def _number(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{argument} must be a number, got {type(value).__name__}")
    return float(value)


# --- more ops ------------------------------------------------------------------------------

def pow(base, exp):  # noqa: A001 - TF.js's name; lm.pow shadows the builtin only inside lamina
    """base ** exp, element-wise with broadcasting (also `x ** 2`). int32 ** int32 stays int32
    and stores a fractional power truncated, as TF.js's Int32Array does.

    >>> import lamina as lm
    >>> lm.pow(lm.tensor([2, 3]), 2).array()
    [4.0, 9.0]
    >>> (lm.tensor([2, 3], dtype="int32") ** lm.tensor(2, dtype="int32")).array()
    [4, 9]
    """
    a, b = _numeric_pair(base, exp, "pow")
    x, e = a._data, b._data
    if a.dtype == "int32":
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            return result(_js_int32(np.power(x.astype(np.float64), e)), (a, b), lambda dy: (None, None))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        y = np.power(x, e)

    def backward(dy):
        # TF.js: d/dbase = exp·base^(exp-1); d/dexp = y·log(base) where base > 0, else 0.
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            d_base = dy * e * np.power(x, e - np.float32(1))
            log_base = np.where(x > 0, np.log(x), np.float32(0))
            return d_base, dy * y * log_base

    def backward_ops(dy, out):
        if input_needed(1):
            raise NotImplementedError("Higher-order gradients of pow with respect to its exponent are "
                                      "not supported yet (the base's are)")
        return mul(dy, mul(b, pow(a, sub(b, 1.0)))), None

    return result(y, (a, b), backward, backward_ops)


def rsqrt(x):
    """1 / √x.

    >>> import lamina as lm
    >>> lm.rsqrt(lm.tensor([4, 16])).array()
    [0.5, 0.25]
    """
    x = unary_float(x, "rsqrt")
    v = x._data
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.float32(1) / np.sqrt(v)

    def backward(dy):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (-dy / (np.power(v, np.float32(1.5)) * 2),)

    return result(y, (x,), backward)


def log1p(x):
    """log(1 + x), accurate for small x.

    >>> import lamina as lm
    >>> lm.log1p(lm.tensor([0])).array()
    [0.0]
    """
    x = unary_float(x, "log1p")
    v = x._data
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log1p(v)

    def backward(dy):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (dy / (1 + v),)

    return result(y, (x,), backward)


def abs(x):  # noqa: A001 - TF.js's name
    """|x| (also Python's `abs(x)`); int32 stays int32.

    Its gradient is TF.js's `dy·step(x, -1)`: 1 where x > 0 and -1 elsewhere, so -1 at 0.

    >>> import lamina as lm
    >>> abs(lm.tensor([-2, 3])).array()
    [2.0, 3.0]
    """
    x = _numeric(x, "abs")
    v = x._data
    return result(np.abs(v), (x,), lambda dy: (dy * np.where(v > 0, 1, -1).astype(dy.dtype),))


def sign(x):
    """-1, 0 or 1 by the sign of x; int32 stays int32. Its gradient is 0 (TF.js).

    >>> import lamina as lm
    >>> lm.sign(lm.tensor([-2, 0, 3])).array()
    [-1.0, 0.0, 1.0]
    """
    x = _numeric(x, "sign")
    return result(np.sign(x._data), (x,), lambda dy: (np.zeros_like(dy),))


def maximum(a, b):
    """The larger of a and b, element-wise with broadcasting.

    Where a == b the gradient goes to a (TF.js: a gets dy·(a >= b), b gets dy·(a < b)).

    >>> import lamina as lm
    >>> lm.maximum(lm.tensor([1, 4, 3]), 2).array()
    [2.0, 4.0, 3.0]
    """
    a, b = _numeric_pair(a, b, "maximum")
    x, y = a._data, b._data
    return result(np.maximum(x, y), (a, b), lambda dy: (dy * (x >= y), dy * (x < y)))


def minimum(a, b):
    """The smaller of a and b, element-wise with broadcasting.

    Where a == b the gradient goes to a (TF.js: a gets dy·(a <= b), b gets dy·(a > b)).

    >>> import lamina as lm
    >>> lm.minimum(lm.tensor([1, 4, 3]), 2).array()
    [1.0, 2.0, 2.0]
    """
    a, b = _numeric_pair(a, b, "minimum")
    x, y = a._data, b._data
    return result(np.minimum(x, y), (a, b), lambda dy: (dy * (x <= y), dy * (x > y)))


def clip_by_value(x, clip_value_min, clip_value_max):
    """x limited to [clip_value_min, clip_value_max]; int32 stays int32.

    The gradient passes where clip_value_min <= x <= clip_value_max (bounds included, as in
    TF.js) and is 0 elsewhere.

    >>> import lamina as lm
    >>> lm.clip_by_value(lm.tensor([-1, 2, -3, 4]), -2, 3).array()
    [-1.0, 2.0, -2.0, 3.0]
    """
    low = _number(clip_value_min, "clip_value_min")
    high = _number(clip_value_max, "clip_value_max")
    if not low <= high:
        raise ValueError(f"Error in clip: min ({_js_number(low)}) must be less than or equal to "
                         f"max ({_js_number(high)}).")
    x = _numeric(x, "clipByValue")
    v = x._data
    if x.dtype == "int32":
        clipped = _js_int32(np.clip(v.astype(np.float64), low, high))
    else:
        clipped = np.clip(v, np.float32(low), np.float32(high))
    return result(clipped, (x,), lambda dy: (dy * ((v >= low) & (v <= high)),))


def floor_div(a, b):
    """⌊a / b⌋, element-wise with broadcasting; int32 stays int32 (x // 0 is 0 for int32).

    Its gradient is TF.js's: that of a / b (not the zero derivative of the floor).

    >>> import lamina as lm
    >>> lm.floor_div(lm.tensor([7, -7]), 2).array()
    [3.0, -4.0]
    """
    a, b = _numeric_pair(a, b, "floorDiv")
    x, y = a._data, b._data
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        value = np.floor_divide(x, y)

    def backward(dy):
        with np.errstate(divide="ignore", invalid="ignore"):
            return dy / y, -dy * x / (y * y)

    return result(value, (a, b), backward)


def mod(a, b):
    """The remainder of ⌊a / b⌋, with the sign of b (as Python's %); int32 stays int32.

    >>> import lamina as lm
    >>> lm.mod(lm.tensor([7, -7]), 3).array()
    [1.0, 2.0]
    """
    a, b = _numeric_pair(a, b, "mod")
    x, y = a._data, b._data
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.mod(x, y)

    def backward(dy):
        with np.errstate(divide="ignore", invalid="ignore"):
            return dy, -dy * np.floor(x / y)

    return result(value, (a, b), backward)
