"""lm.fused: ops that TF.js fuses, here computed by one C++ call (tf.fused.matMul).

`mat_mul(a, b, bias=..., activation=...)` is act(a·b + bias) in one pass: the bias and the
activation are applied to each block of the product while it is still in cache, and the
backward computes dW, db and dX in one call too.
"""

import numpy as np

from lamina import _core
from lamina.ops import activation as _activation
from lamina.ops.arithmetic import add
from lamina.ops.linalg import matmul
from lamina.ops.tape import input_needed, result
from lamina.tensor import as_tensor

__all__ = ["mat_mul"]

# TF.js's fused activations; each maps to the C++ kernel's name.
_KERNEL_ACTIVATIONS = {"linear": "linear", "relu": "relu", "relu6": "relu6", "elu": "elu",
                       "sigmoid": "sigmoid"}
_COMPOSED = {"linear": lambda y: y, "relu": _activation.relu, "relu6": _activation.relu6,
             "elu": _activation.elu, "sigmoid": _activation.sigmoid}


def mat_mul(a, b, transpose_a=False, transpose_b=False, bias=None, activation="linear"):
    """activation(op(a)·op(b) + bias), as TF.js's tf.fused.matMul.

    activation is one of 'linear', 'relu', 'relu6', 'elu', 'sigmoid'.

    >>> import lamina as lm
    >>> x = lm.tensor([[1.0, -2.0]])
    >>> w = lm.tensor([[1.0, 0.0], [1.0, 1.0]])
    >>> lm.fused.mat_mul(x, w, bias=lm.tensor([0.5, 0.5]), activation="relu").array()
    [[0.0, 0.0]]
    """
    if activation not in _KERNEL_ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(_KERNEL_ACTIVATIONS)}, got {activation!r}")
    a = as_tensor(a, "a")
    b = as_tensor(b, "b")
    bias = None if bias is None else as_tensor(bias, "bias")
    one_kernel_call = (
        not transpose_a and not transpose_b and a.rank == 2 and b.rank == 2
        and a.dtype == b.dtype == "float32" and a.shape[1] == b.shape[0]
        and (bias is None or (bias.dtype == "float32" and bias.shape == [b.shape[1]])))
    if not one_kernel_call:
        y = matmul(a, b, transpose_a, transpose_b)
        return _COMPOSED[activation](y if bias is None else add(y, bias))

    name = _KERNEL_ACTIVATIONS[activation]
    x, w = a._data, b._data
    keep_z = _core.activation_backward_needs_input(name)
    out = _core.dense_forward(x, w, None if bias is None else bias._data, name, keep_preactivation=keep_z)
    y, z = out if keep_z else (out, None)
    inputs = (a, b) if bias is None else (a, b, bias)

    def backward(dy):
        dw, db, dx = _core.dense_backward(x, w, y, z, np.ascontiguousarray(dy, np.float32),
                                          activation=name, has_bias=bias is not None,
                                          need_dx=input_needed(0))
        return (dx, dw) if bias is None else (dx, dw, db)

    return result(y, inputs, backward)
