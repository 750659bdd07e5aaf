"""Activation functions and softmax, with TF.js's gradients.

relu, relu6, elu, selu, sigmoid, tanh and softplus run on the C++ activation kernels
(`_core.activation` / `_core.activation_backward`), and softmax on `_core.softmax`; the
kernels' derivatives at the kinks are TF.js's (relu'(0) = 0, elu'(0) = 1, selu'(0) =
scale·alpha), except relu6 at 6 (TF.js: 1, the kernel: 0), whose gradient is numpy's here.
"""

import numpy as np

from lamina import _core
from lamina.ops._operands import axes, binary, unary_float
from lamina.ops.arithmetic import _number, _numeric, mul, square, sub
from lamina.ops.tape import result
from lamina.tensor import Tensor, as_tensor

__all__ = [
    "relu", "relu6", "elu", "selu", "leaky_relu", "prelu", "sigmoid", "log_sigmoid", "tanh",
    "softplus", "softmax", "log_softmax",
]


def _f32(array):
    """array as the C-contiguous float32 the kernels take (np.ascontiguousarray would turn a
    0-d array into a 1-d one)."""
    array = np.asarray(array, np.float32)
    return array if array.flags.c_contiguous else np.ascontiguousarray(array)


def _kernel_activation(name, x):
    """f(x) for a float32 tensor by the C++ kernel, with the kernel's gradient."""
    v = x._data
    y = _core.activation(name, v)
    return result(y, (x,), lambda dy: (_core.activation_backward(name, v, y, _f32(dy)),))


def relu(x):
    """max(x, 0); int32 stays int32. relu'(0) = 0, as in TF.js.

    >>> import lamina as lm
    >>> lm.relu(lm.tensor([-1, 0, 2])).array()
    [0.0, 0.0, 2.0]
    """
    x = _numeric(x, "relu")
    if x.dtype == "int32":
        v = x._data
        return result(np.maximum(v, 0), (x,), lambda dy: (dy * (v > 0),))
    return _twice_differentiable("relu", x, lambda dy, y: (mul(dy, _step(x)),))


def relu6(x):
    """min(max(x, 0), 6); int32 stays int32. The gradient is TF.js's: 1 for 0 < x <= 6.

    >>> import lamina as lm
    >>> lm.relu6(lm.tensor([-1, 3, 8])).array()
    [0.0, 3.0, 6.0]
    """
    x = _numeric(x, "relu6")
    v = x._data
    y = np.clip(v, 0, 6) if x.dtype == "int32" else _core.activation("relu6", v)
    # Not the kernel's gradient: that one is 0 at x = 6, TF.js's (x <= 6)·step(x) is 1.
    return result(y, (x,), lambda dy: (dy * ((v > 0) & (v <= 6)),))


def elu(x):
    """x for x >= 0, eˣ - 1 below (TF.js's elu has no alpha). elu'(0) = 1.

    >>> import lamina as lm
    >>> [round(v, 4) for v in lm.elu(lm.tensor([-1, 0, 2])).array()]
    [-0.6321, 0.0, 2.0]
    """
    return _kernel_activation("elu", unary_float(x, "elu"))


def selu(x):
    """scale·x for x > 0, scale·alpha·(eˣ - 1) below, with TF.js's constants (scale ≈ 1.0507,
    alpha ≈ 1.6733). Its gradient at 0 is scale·alpha, as in TF.js.

    >>> import lamina as lm
    >>> [round(v, 4) for v in lm.selu(lm.tensor([-1, 0, 1])).array()]
    [-1.1113, 0.0, 1.0507]
    """
    return _kernel_activation("selu", unary_float(x, "selu"))


def leaky_relu(x, alpha=0.2):
    """x for x > 0, alpha·x below. The gradient at 0 is alpha, as in TF.js.

    >>> import lamina as lm
    >>> lm.leaky_relu(lm.tensor([-1, 0, 2]), alpha=0.5).array()
    [-0.5, 0.0, 2.0]
    """
    alpha = np.float32(_number(alpha, "alpha"))
    x = unary_float(x, "leakyRelu")
    v = x._data
    y = np.where(v < 0, alpha * v, v)
    return result(y, (x,), lambda dy: (np.where(v > 0, dy, alpha * dy),))


def prelu(x, alpha):
    """Leaky relu with a learned slope: x for x > 0, alpha·x below; alpha broadcasts against
    x and gets a gradient (TF.js tf.prelu).

    >>> import lamina as lm
    >>> lm.prelu(lm.tensor([-2, 0, 3]), lm.tensor([0.5])).array()
    [-1.0, 0.0, 3.0]
    """
    x, alpha = binary(x, alpha, "prelu")
    x, alpha = unary_float(x, "prelu"), unary_float(alpha, "prelu")
    v, a = x._data, alpha._data
    y = np.where(v < 0, a * v, v)

    def backward(dy):
        positive = v > 0
        return np.where(positive, dy, dy * a), np.where(positive, np.float32(0), dy * v)

    return result(y, (x, alpha), backward)


def _twice_differentiable(name, x, backward_ops):
    """A kernel activation whose gradient is also written with lamina ops (grad of grad)."""
    v = x._data
    y = _core.activation(name, v)
    return result(y, (x,), lambda dy: (_core.activation_backward(name, v, y, _f32(dy)),), backward_ops)


def _step(x):
    """1 where x > 0, else 0, recorded as an op of x with TF.js's zero gradient (so relu's
    second derivative is 0, not "not connected")."""
    return result((x._data > 0).astype(np.float32), (x,), lambda dy: (np.zeros_like(dy),),
                  lambda dy, out: (mul(dy, 0.0),))


def sigmoid(x):
    """1 / (1 + e⁻ˣ).

    >>> import lamina as lm
    >>> lm.sigmoid(lm.tensor([0])).array()
    [0.5]
    """
    return _twice_differentiable("sigmoid", unary_float(x, "sigmoid"),
                                 lambda dy, y: (mul(dy, mul(y, sub(1.0, y))),))


def tanh(x):
    """The hyperbolic tangent.

    >>> import lamina as lm
    >>> [round(v, 4) for v in lm.tanh(lm.tensor([-1, 0, 1])).array()]
    [-0.7616, 0.0, 0.7616]
    """
    return _twice_differentiable("tanh", unary_float(x, "tanh"),
                                 lambda dy, y: (mul(dy, sub(1.0, square(y))),))


def softplus(x):
    """log(1 + eˣ), computed without overflow.

    >>> import lamina as lm
    >>> round(lm.softplus(lm.tensor([0])).item(), 4)
    0.6931
    """
    return _kernel_activation("softplus", unary_float(x, "softplus"))


def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), stable for large |x|; its gradient is sigmoid(-x).

    >>> import lamina as lm
    >>> round(lm.log_sigmoid(lm.tensor([0])).item(), 4)
    -0.6931
    """
    x = unary_float(x, "logSigmoid")
    minus_x = _f32(-x._data)
    y = -_core.activation("softplus", minus_x)
    return result(y, (x,), lambda dy: (dy * _core.activation("sigmoid", minus_x),))


def _float_logits(logits, op):
    """TF.js parses softmax's logits as float32: a tensor of another dtype is an error."""
    if isinstance(logits, Tensor) and logits.dtype != "float32":
        raise TypeError(f"Argument 'logits' passed to '{op}' must be float32 tensor, "
                        f"but got {logits.dtype} tensor")
    logits = as_tensor(logits, "logits", dtype=None if isinstance(logits, Tensor) else "float32")
    _check_rank(logits, op)
    return logits


def _check_rank(logits, op):
    if logits.rank == 0:
        raise ValueError(f"{op}: logits must have rank >= 1 (a softmax needs an axis), got a scalar")


def _rows(array):
    """array as the 2-D float32 (rows, last axis) the softmax kernels take."""
    return _f32(array).reshape(int(np.prod(array.shape[:-1], dtype=np.int64)), array.shape[-1])


def softmax(logits, dim=-1):
    """exp(logits) / sum(exp(logits)) along dim (default: the last axis).

    TF.js supports only the last axis; lamina takes any.

    >>> import lamina as lm
    >>> [round(v, 4) for v in lm.softmax(lm.tensor([1, 2, 3])).array()]
    [0.09, 0.2447, 0.6652]
    """
    logits = _float_logits(logits, "softmax")
    (axis,) = axes(dim, logits.rank, "dim")
    # The kernel works on the last axis: bring `axis` there and back.
    moved = np.moveaxis(logits._data, axis, -1)
    y_rows = _core.softmax(_rows(moved))

    def backward(dy):
        dx_rows = _core.softmax_backward(y_rows, _rows(np.moveaxis(dy, axis, -1)))
        return (np.moveaxis(dx_rows.reshape(moved.shape), -1, axis),)

    return result(np.moveaxis(y_rows.reshape(moved.shape), -1, axis), (logits,), backward)


def log_softmax(logits, axis=-1):
    """logits - log(sum(exp(logits))) along axis (default: the last), computed stably.

    TF.js supports only the last axis; lamina takes any.

    >>> import lamina as lm
    >>> [round(v, 4) for v in lm.log_softmax(lm.tensor([1, 2, 3])).array()]
    [-2.4076, -1.4076, -0.4076]
    """
    logits = unary_float(logits, "logSoftmax")
    _check_rank(logits, "logSoftmax")
    (axis,) = axes(axis, logits.rank, "axis")
    v = logits._data
    with np.errstate(invalid="ignore", over="ignore"):
        shifted = v - np.max(v, axis=axis, keepdims=True)
        y = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))

    def backward(dy):
        # TF.js: dy - sum(dy) · softmax, with softmax = exp(y).
        return (dy - np.sum(dy, axis=axis, keepdims=True) * np.exp(y),)

    return result(y, (logits,), backward)
