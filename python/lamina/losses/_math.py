"""The few element-wise ops and reductions the losses need beyond lamina.ops' first ones.

Each is a small tape op (numpy value, explicit backward) with TF.js's gradient convention
at ties and clip edges: `clip` passes the gradient where lo <= x <= hi, `maximum` where
x >= floor, `minimum` where x <= ceiling, and a max reduction to every element equal to
the maximum. They are private to the losses; once lamina.ops has abs, maximum, minimum,
clip_by_value, max, softplus and log1p, the losses can use those instead.
"""

import numpy as np

from lamina.ops._operands import unary_float
from lamina.ops.tape import result

__all__ = ["absolute", "maximum", "minimum", "clip", "max_last_axis", "softplus", "log1p"]


def absolute(x):
    """|x|; the gradient is sign(x) (0 at 0).

    >>> import lamina as lm
    >>> absolute(lm.tensor([-2, 3])).array()
    [2.0, 3.0]
    """
    x = unary_float(x, "abs")
    v = x._data
    return result(np.abs(v), (x,), lambda dy: (dy * np.sign(v),))


def maximum(x, floor):
    """max(x, floor) element-wise, with `floor` a number.

    >>> import lamina as lm
    >>> maximum(lm.tensor([-1, 2]), 0).array()
    [0.0, 2.0]
    """
    x = unary_float(x, "maximum")
    v = x._data
    floor = np.float32(floor)
    return result(np.maximum(v, floor), (x,), lambda dy: (dy * (v >= floor),))


def minimum(x, ceiling):
    """min(x, ceiling) element-wise, with `ceiling` a number.

    >>> import lamina as lm
    >>> minimum(lm.tensor([-1, 2]), 1).array()
    [-1.0, 1.0]
    """
    x = unary_float(x, "minimum")
    v = x._data
    ceiling = np.float32(ceiling)
    return result(np.minimum(v, ceiling), (x,), lambda dy: (dy * (v <= ceiling),))


def clip(x, lo, hi):
    """x clipped to [lo, hi] (numbers; hi may be inf), as TF.js's clipByValue.

    >>> import lamina as lm
    >>> clip(lm.tensor([-1, 0.5, 2]), 0, 1).array()
    [0.0, 0.5, 1.0]
    """
    x = unary_float(x, "clipByValue")
    v = x._data
    lo, hi = np.float32(lo), np.float32(hi)
    return result(np.clip(v, lo, hi), (x,), lambda dy: (dy * ((v >= lo) & (v <= hi)),))


def max_last_axis(x):
    """The maximum over the last axis.

    >>> import lamina as lm
    >>> max_last_axis(lm.tensor([[1, 3], [4, 2]])).array()
    [3.0, 4.0]
    """
    x = unary_float(x, "max")
    v = x._data
    top = v.max(axis=-1)
    return result(top, (x,), lambda dy: (dy[..., None] * (v == top[..., None]),))


def softplus(x):
    """log(1 + eˣ), computed as max(x, 0) + log1p(e^-|x|) so large |x| does not overflow.

    >>> import lamina as lm
    >>> round(softplus(lm.tensor([0])).item(), 6)
    0.693147
    """
    x = unary_float(x, "softplus")
    v = x._data
    y = np.maximum(v, 0) + np.log1p(np.exp(-np.abs(v)))
    return result(y, (x,), lambda dy: (dy / (1 + np.exp(-v)),))


def log1p(x):
    """log(1 + x), accurate for small x.

    >>> import lamina as lm
    >>> log1p(lm.tensor([0])).array()
    [0.0]
    """
    x = unary_float(x, "log1p")
    v = x._data
    with np.errstate(divide="ignore", invalid="ignore"):
        return result(np.log1p(v), (x,), lambda dy: (dy / (1 + v),))
