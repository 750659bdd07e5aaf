"""Reductions over axes, and their gradients."""

import numpy as np

from lamina.ops._operands import axes
from lamina.ops.tape import result
from lamina.tensor import as_tensor

__all__ = ["sum", "mean"]


def _expand_back(dy, shape, reduced, keep_dims):
    """dy of a reduction, reshaped so it broadcasts against the input again."""
    if not keep_dims:
        dy = np.expand_dims(dy, reduced) if reduced else dy
    return np.broadcast_to(dy, shape)


def sum(x, axis=None, keep_dims=False):  # noqa: A001 - TF.js's name
    """Sum over `axis` (all axes by default); bool and int32 sum as int32, as in TF.js.

    >>> import lamina as lm
    >>> lm.sum(lm.tensor([[1, 2], [3, 4]]), axis=0).array()
    [4.0, 6.0]
    """
    x = as_tensor(x)
    red = axes(axis, x.rank)
    v = x._data.astype(np.int32) if x.dtype == "bool" else x._data
    value = np.sum(v, axis=red, keepdims=keep_dims, dtype=v.dtype)
    return result(value, (x,), lambda dy: (_expand_back(dy, x._data.shape, red, keep_dims),))


def mean(x, axis=None, keep_dims=False):
    """Mean over `axis` (all axes by default), in float32.

    >>> import lamina as lm
    >>> lm.mean(lm.tensor([[1, 2], [3, 4]])).item()
    2.5
    """
    x = as_tensor(x)
    red = axes(axis, x.rank)
    count = int(np.prod([x._data.shape[i] for i in red], dtype=np.int64)) if red else 1
    value = np.mean(x._data, axis=red, keepdims=keep_dims, dtype=np.float32)
    return result(value.astype(np.float32), (x,),
                  lambda dy: (_expand_back(dy / np.float32(count), x._data.shape, red, keep_dims),))
