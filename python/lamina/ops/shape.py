"""Ops that move values around without changing them, and their gradients."""

import numpy as np

from lamina.ops._operands import readable
from lamina.ops.tape import result
from lamina.tensor import as_tensor

__all__ = ["reshape"]


def reshape(x, shape):
    """The same values in a new shape; one dimension may be -1 (inferred).

    >>> import lamina as lm
    >>> lm.reshape(lm.tensor([1, 2, 3, 4]), [2, -1]).shape
    [2, 2]
    """
    x = as_tensor(x)
    shape = [int(s) for s in shape]
    known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
    if shape.count(-1) > 1 or (-1 in shape and (known == 0 or x.size % known)) or \
            (-1 not in shape and known != x.size):
        raise ValueError(f"Size({x.size}) must match the product of shape {shape}")
    return result(readable(x).reshape(shape), (x,), lambda dy: (dy.reshape(x._data.shape),))
