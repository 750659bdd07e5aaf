"""Neural-network ops that are not plain arithmetic: dropout."""

import numbers

import numpy as np

from lamina.ops._operands import readable
from lamina.ops.tape import result
from lamina.random import generator
from lamina.tensor import as_tensor

__all__ = ["dropout"]


def _noise_shape(x_shape, noise_shape):
    """TF.js's getNoiseShape: None means x's shape; None entries take x's dimension there.
    The mask must broadcast to x's shape (so a 1 shares one draw along that axis)."""
    if noise_shape is None:
        return tuple(x_shape)
    if not isinstance(noise_shape, (list, tuple)):
        raise TypeError(f"noise_shape must be a list of ints, got {type(noise_shape).__name__}")
    shape = list(noise_shape)
    if len(shape) == len(x_shape):
        shape = [n if s is None else s for s, n in zip(shape, x_shape)]
    if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in shape):
        raise TypeError(f"noise_shape must be a list of non-negative ints (or None), got {list(noise_shape)}")
    shape = tuple(int(s) for s in shape)
    try:
        fits = np.broadcast_shapes(shape, tuple(x_shape)) == tuple(x_shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"noise_shape {list(noise_shape)} must broadcast to the shape of x {list(x_shape)}")
    return shape


def dropout(x, rate, noise_shape=None, seed=None):
    """Inverted dropout (TF.js tf.dropout): each value is zeroed with probability `rate` and
    the kept ones are scaled by 1 / (1 - rate), so the expected value is unchanged.

    The keep mask is floor(U[0, 1) + keep_prob) / keep_prob, drawn in `noise_shape`
    (default x's shape; a 1 shares one draw along that axis). `seed` (an int) gives a
    reproducible mask; otherwise it comes from the stream `lm.set_seed` controls.

    >>> import lamina as lm
    >>> y = lm.dropout(lm.ones([2, 4]), 0.5, seed=1)
    >>> sorted(set(y.data_sync().tolist()))
    [0.0, 2.0]
    """
    x = as_tensor(x)
    if x.dtype != "float32":
        raise TypeError("x has to be a floating point tensor since it's going to be scaled, "
                        f"but got a {x.dtype} tensor instead.")
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
        raise ValueError(f"rate must be a float in the range [0, 1), but got {rate}.")
    if rate == 0:
        return result(readable(x), (x,), lambda dy: (dy,))
    shape = _noise_shape(x._data.shape, noise_shape)
    keep_prob = np.float32(1 - rate)
    draws = generator(seed).random(shape, dtype=np.float32)
    mask = np.floor(draws + keep_prob) / keep_prob
    return result(x._data * mask, (x,), lambda dy: (dy * mask,))
