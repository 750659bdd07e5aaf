"""The Layers API losses: what `model.compile(loss=...)` resolves, one value per sample.

Each function takes (y_true, y_pred) of the same shape and reduces over the last axis only,
so a [batch, n] pair gives a [batch] loss; the trainer takes the batch mean. The formulas
are TF.js's (tfjs-layers/src/losses.ts), including its epsilon 1e-7 and its clips.
`sparse_categorical_crossentropy` takes class indices instead: y_true of shape [batch] or
[batch, 1] against y_pred [batch, classes].

>>> import lamina as lm
>>> lm.losses.layers.mean_squared_error([[0, 1], [1, 1]], [[1, 1], [1, 1]]).array()
[0.5, 0.0]
"""

import math

import numpy as np

from lamina import _core
from lamina.ops import (abs as absolute, add, clip_by_value, div, exp, log, log1p, max as reduce_max,
                        maximum, mean, mul, neg, relu, softplus, sqrt, square, sub, sum as reduce_sum)
from lamina.ops.tape import result
from lamina.tensor import Tensor, as_tensor

__all__ = [
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "squared_hinge", "hinge", "categorical_hinge", "logcosh",
    "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
    "kullback_leibler_divergence", "poisson", "cosine_proximity",
]

EPSILON = 1e-7  # TF.js's epsilon() for float32 backends
MAX = float("inf")  # TF.js clips with Number.MAX_VALUE: no float32 exceeds it


def _pair(y_true, y_pred, loss):
    """Both arguments as float32 tensors of one shape (never a silent broadcast)."""
    y_true = _float(as_tensor(y_true, "y_true"))
    y_pred = _float(as_tensor(y_pred, "y_pred"))
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{loss}: y_true and y_pred must have the same shape, got y_true "
                         f"{y_true.shape} and y_pred {y_pred.shape}")
    if y_pred.rank == 0:
        raise ValueError(f"{loss}: y_true and y_pred need at least one axis (the loss reduces "
                         "over the last one), got scalars")
    return y_true, y_pred


def _float(t):
    return t if t.dtype == "float32" else Tensor._wrap(t._data.astype(np.float32))


def mean_squared_error(y_true, y_pred):
    """mean((y_pred - y_true)², -1) (TF.js meanSquaredError; 'mse').

    >>> import lamina as lm
    >>> lm.losses.layers.mean_squared_error([[1, 2]], [[2, 4]]).array()
    [2.5]
    """
    y_true, y_pred = _pair(y_true, y_pred, "meanSquaredError")
    return mean(square(sub(y_pred, y_true)), -1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_pred - y_true|, -1) (TF.js meanAbsoluteError; 'mae').

    >>> import lamina as lm
    >>> lm.losses.layers.mean_absolute_error([[1, 2]], [[2, 4]]).array()
    [1.5]
    """
    y_true, y_pred = _pair(y_true, y_pred, "meanAbsoluteError")
    return mean(absolute(sub(y_pred, y_true)), -1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 · mean(|(y_true - y_pred) / max(|y_true|, ε)|, -1) (TF.js; 'mape').

    >>> import lamina as lm
    >>> lm.losses.layers.mean_absolute_percentage_error([[2, 4]], [[1, 5]]).array()
    [37.5]
    """
    y_true, y_pred = _pair(y_true, y_pred, "meanAbsolutePercentageError")
    relative = div(sub(y_true, y_pred), clip_by_value(absolute(y_true), EPSILON, MAX))
    return mul(100, mean(absolute(relative), -1))


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(1 + max(y_pred, ε)) - log(1 + max(y_true, ε)))², -1) (TF.js; 'msle').

    >>> import lamina as lm
    >>> round(lm.losses.layers.mean_squared_logarithmic_error([[0]], [[math.e - 1]]).item(), 5)
    1.0
    """
    y_true, y_pred = _pair(y_true, y_pred, "meanSquaredLogarithmicError")
    log_pred = log(add(1, clip_by_value(y_pred, EPSILON, MAX)))
    log_true = log(add(1, clip_by_value(y_true, EPSILON, MAX)))
    return mean(square(sub(log_pred, log_true)), -1)


def squared_hinge(y_true, y_pred):
    """mean(max(0, 1 - y_true·y_pred)², -1), labels in {-1, 1} (TF.js squaredHinge).

    >>> import lamina as lm
    >>> lm.losses.layers.squared_hinge([[1, -1]], [[0.5, 0.5]]).array()
    [1.25]
    """
    y_true, y_pred = _pair(y_true, y_pred, "squaredHinge")
    return mean(square(maximum(0, sub(1, mul(y_true, y_pred)))), -1)


def hinge(y_true, y_pred):
    """mean(max(0, 1 - y_true·y_pred), -1), labels in {-1, 1} (TF.js hinge).

    >>> import lamina as lm
    >>> lm.losses.layers.hinge([[1, -1]], [[0.5, 0.5]]).array()
    [1.0]
    """
    y_true, y_pred = _pair(y_true, y_pred, "hinge")
    return mean(maximum(0, sub(1, mul(y_true, y_pred))), -1)


def categorical_hinge(y_true, y_pred):
    """max(0, 1 + max((1 - y_true)·y_pred) - sum(y_true·y_pred)), over the last axis.

    >>> import lamina as lm
    >>> lm.losses.layers.categorical_hinge([[0, 1, 0]], [[0.5, 0.25, 0.25]]).array()
    [1.25]
    """
    y_true, y_pred = _pair(y_true, y_pred, "categoricalHinge")
    positive = reduce_sum(mul(y_true, y_pred), -1)
    negative = reduce_max(mul(sub(1, y_true), y_pred), -1)
    return maximum(0, add(1, sub(negative, positive)))


def logcosh(y_true, y_pred):
    """mean(log(cosh(y_pred - y_true)), -1), as d + softplus(-2d) - log 2 (TF.js logcosh).

    >>> import lamina as lm
    >>> round(lm.losses.layers.logcosh([[0]], [[1]]).item(), 6)
    0.433781
    """
    y_true, y_pred = _pair(y_true, y_pred, "logcosh")
    difference = sub(y_pred, y_true)
    return mean(sub(add(difference, softplus(mul(-2, difference))), math.log(2)), -1)


def _rows(t):
    """A tensor's values as the C-contiguous float32 [rows, last axis] matrix kernels take."""
    return np.ascontiguousarray(t._data.reshape(-1, t.shape[-1]), dtype=np.float32)


def categorical_crossentropy(y_true, y_pred):
    """-sum(y_true · log(clip(y_pred / sum(y_pred), ε, 1 - ε)), -1) (TF.js).

    y_pred is normalised by its row sum, then clipped; y_true is used as given. Computed
    by the C++ kernel, with its gradient.

    >>> import lamina as lm
    >>> round(lm.losses.layers.categorical_crossentropy([[1, 0]], [[0.2, 0.2]]).item(), 6)
    0.693147
    """
    y_true, y_pred = _pair(y_true, y_pred, "categoricalCrossentropy")
    labels, probs = _rows(y_true), _rows(y_pred)
    loss = _core.categorical_crossentropy(probs, labels, epsilon=EPSILON)

    def backward(dy):
        dloss = np.ascontiguousarray(dy.reshape(-1), dtype=np.float32)
        dprobs = _core.categorical_crossentropy_backward(probs, labels, dloss, epsilon=EPSILON)
        # d/dy_true of -sum(y_true · log p) is -log p, p normalised and clipped as above.
        p = np.clip(probs / probs.sum(axis=1, keepdims=True), np.float32(EPSILON),
                    np.float32(1 - EPSILON))
        dlabels = -np.log(p) * dloss[:, None]
        return dlabels.reshape(y_true._data.shape), dprobs.reshape(y_pred._data.shape)

    return result(loss.reshape(y_pred.shape[:-1]), (y_true, y_pred), backward)


def sparse_categorical_crossentropy(y_true, y_pred):
    """categorical_crossentropy against class indices: y_true of shape [batch] or [batch, 1]
    (floored to integers, as TF.js), y_pred [batch, classes] (TF.js clips y_pred before and
    after its normalisation; so does the C++ kernel that computes it).

    An index outside [0, classes) raises ValueError (TF.js's one-hot would silently give
    a zero loss for that sample).

    >>> import lamina as lm
    >>> round(lm.losses.layers.sparse_categorical_crossentropy([1], [[0.5, 0.5]]).item(), 6)
    0.693147
    """
    y_true = as_tensor(y_true, "y_true")
    y_pred = _float(as_tensor(y_pred, "y_pred"))
    if y_pred.rank == 0:
        raise ValueError("sparseCategoricalCrossentropy: y_pred needs a class axis, got a scalar")
    rows = y_pred.size // y_pred.shape[-1] if y_pred.shape[-1] else 0
    if y_true.size != rows:
        raise ValueError(f"sparseCategoricalCrossentropy: y_true must hold one class index per "
                         f"row of y_pred ({rows} for y_pred of shape {y_pred.shape}), got y_true "
                         f"of shape {y_true.shape}")
    indices = np.ascontiguousarray(np.floor(y_true._data.reshape(-1)).astype(np.int32))
    classes = y_pred.shape[-1]
    outside = np.flatnonzero((indices < 0) | (indices >= classes))
    if outside.size:
        raise ValueError(f"sparseCategoricalCrossentropy: y_true must hold class indices in "
                         f"[0, {classes}), got {indices[outside[0]]} at position {outside[0]}")
    probs = _rows(y_pred)
    loss = _core.sparse_categorical_crossentropy(probs, indices, epsilon=EPSILON)

    def backward(dy):
        dloss = np.ascontiguousarray(dy.reshape(-1), dtype=np.float32)
        dprobs = _core.sparse_categorical_crossentropy_backward(probs, indices, dloss, epsilon=EPSILON)
        # The indices pass through floor, whose gradient is zero (as in TF.js).
        return np.zeros(y_true._data.shape, np.float32), dprobs.reshape(y_pred._data.shape)

    return result(loss.reshape(y_pred.shape[:-1]), (y_true, y_pred), backward)


def binary_crossentropy(y_true, y_pred):
    """mean(sigmoid cross-entropy(y_true, logit(clip(y_pred, ε, 1 - ε))), -1) (TF.js).

    TF.js turns the clipped probabilities into logits and takes the stable sigmoid
    cross-entropy max(z, 0) - z·y + log1p(e^-|z|); so does lamina, to the same float32
    rounding ([1, 0] against [0, 1] gives 16.0302391, not -ln ε = 16.1180954).

    >>> import lamina as lm
    >>> round(lm.losses.layers.binary_crossentropy([[1, 0]], [[0.5, 0.5]]).item(), 6)
    0.693147
    """
    y_true, y_pred = as_tensor(y_true, "y_true"), as_tensor(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:  # TF.js's wording, from its sigmoid cross-entropy
        raise ValueError(f"logits and labels must have the same shape, but got shapes "
                         f"{y_true.shape} and {y_pred.shape} (y_true and y_pred of binaryCrossentropy)")
    y_true, y_pred = _pair(y_true, y_pred, "binaryCrossentropy")
    p = clip_by_value(y_pred, EPSILON, 1 - EPSILON)
    logits = log(div(p, sub(1, p)))
    return mean(sigmoid_cross_entropy_with_logits(y_true, logits), -1)


def sigmoid_cross_entropy_with_logits(labels, logits):
    """max(z, 0) - z·y + log1p(e^-|z|) element-wise: -y·log σ(z) - (1-y)·log(1-σ(z)) without
    overflow (shared with lm.losses.sigmoid_cross_entropy).

    >>> import lamina as lm
    >>> round(sigmoid_cross_entropy_with_logits(lm.tensor([1.0]), lm.tensor([0.0])).item(), 6)
    0.693147
    """
    return add(sub(relu(logits), mul(logits, labels)), log1p(exp(neg(absolute(logits)))))


def kullback_leibler_divergence(y_true, y_pred):
    """sum(y_true · log(clip(y_true, ε, 1) / clip(y_pred, ε, 1)), -1) (TF.js; 'kld').

    >>> import lamina as lm
    >>> round(lm.losses.layers.kullback_leibler_divergence([[0.5, 0.5]], [[0.25, 0.75]]).item(), 6)
    0.143841
    """
    y_true, y_pred = _pair(y_true, y_pred, "kullbackLeiblerDivergence")
    ratio = div(clip_by_value(y_true, EPSILON, 1), clip_by_value(y_pred, EPSILON, 1))
    return reduce_sum(mul(y_true, log(ratio)), -1)


def poisson(y_true, y_pred):
    """mean(y_pred - y_true · log(y_pred + ε), -1) (TF.js poisson).

    >>> import lamina as lm
    >>> lm.losses.layers.poisson([[0, 0]], [[1, 2]]).array()
    [1.5]
    """
    y_true, y_pred = _pair(y_true, y_pred, "poisson")
    return mean(sub(y_pred, mul(y_true, log(add(y_pred, EPSILON)))), -1)


def _l2_normalize(x):
    """x / sqrt(max(sum(x², -1), ε)) over the last axis (TF.js l2Normalize)."""
    squares = reduce_sum(square(x), -1, keep_dims=True)
    return div(x, sqrt(maximum(squares, EPSILON)))


def cosine_proximity(y_true, y_pred):
    """-sum(l2_normalize(y_true) · l2_normalize(y_pred), -1): -cos of the angle (TF.js;
    'cosine').

    >>> import lamina as lm
    >>> lm.losses.layers.cosine_proximity([[1, 0], [1, 0]], [[2, 0], [0, 3]]).array()
    [-1.0, -0.0]
    """
    y_true, y_pred = _pair(y_true, y_pred, "cosineProximity")
    return neg(reduce_sum(mul(_l2_normalize(y_true), _l2_normalize(y_pred)), -1))
