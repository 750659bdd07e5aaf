"""Reductions over axes, and their gradients."""

import builtins
import math

import numpy as np

from lamina.ops._operands import axes, unary_float
from lamina.ops.arithmetic import mul, square, sub
from lamina.ops.shape import reshape
from lamina.ops.tape import broadcast_to, result
from lamina.tensor import Tensor, as_tensor

__all__ = ["sum", "mean", "max", "min", "prod", "argmax", "argmin", "any", "all", "moments", "norm"]


def _reduced_axes(axis, rank):
    """The axes a reduction runs over, sorted; a scalar has none to reduce."""
    red = axes(axis, rank)
    return red if rank else ()


def _expand_back(dy, shape, reduced, keep_dims):
    """dy of a reduction, reshaped so it broadcasts against the input again."""
    if not keep_dims:
        dy = np.expand_dims(dy, reduced) if reduced else dy
    return np.broadcast_to(dy, shape)


def _expand_back_op(dy, shape, reduced, keep_dims):
    """_expand_back with lamina ops on a Tensor (for higher-order gradients)."""
    if not keep_dims and reduced:
        dy = reshape(dy, [1 if i in reduced else n for i, n in enumerate(shape)])
    return broadcast_to(dy, shape)


def _without(shape, reduced):
    """shape with the reduced axes removed (keep_dims=False)."""
    return tuple(n for i, n in enumerate(shape) if i not in reduced)


def _numeric(x):
    """bool reduces as int32, as TF.js's prod does."""
    return Tensor._wrap(x._data.astype(np.int32)) if x.dtype == "bool" else x


def sum(x, axis=None, keep_dims=False):  # noqa: A001 - TF.js's name
    """Sum over `axis` (all axes by default); bool and int32 sum as int32, as in TF.js.

    >>> import lamina as lm
    >>> lm.sum(lm.tensor([[1, 2], [3, 4]]), axis=0).array()
    [4.0, 6.0]
    """
    x = as_tensor(x)
    red = _reduced_axes(axis, x.rank)
    v = x._data.astype(np.int32) if x.dtype == "bool" else x._data
    value = np.sum(v, axis=red, keepdims=keep_dims, dtype=v.dtype)
    return result(value, (x,), lambda dy: (_expand_back(dy, x._data.shape, red, keep_dims),),
                  lambda dy, out: (_expand_back_op(dy, x._data.shape, red, keep_dims),))


def mean(x, axis=None, keep_dims=False):
    """Mean over `axis` (all axes by default), in float32.

    >>> import lamina as lm
    >>> lm.mean(lm.tensor([[1, 2], [3, 4]])).item()
    2.5
    """
    x = as_tensor(x)
    red = _reduced_axes(axis, x.rank)
    count = int(np.prod([x._data.shape[i] for i in red], dtype=np.int64)) if red else 1
    value = np.mean(x._data, axis=red, keepdims=keep_dims, dtype=np.float32)
    return result(value.astype(np.float32), (x,),
                  lambda dy: (_expand_back(dy / np.float32(count), x._data.shape, red, keep_dims),),
                  lambda dy, out: (_expand_back_op(mul(dy, 1.0 / count), x._data.shape, red, keep_dims),))


def _extreme(reduce, name, x, axis, keep_dims):
    """max or min over axis; the gradient goes to every position equal to the result."""
    x = as_tensor(x)
    red = _reduced_axes(axis, x.rank)
    if _has_empty(x._data.shape, red):
        raise ValueError(f"{name}: cannot reduce an empty axis (x has shape {x.shape}, axis {axis})")
    kept = reduce(x._data, axis=red, keepdims=True)

    def backward(dy):
        # TF.js's gradForMinAndMax: dy * (x == y), so tied positions all get the full dy.
        return (_expand_back(dy, x._data.shape, red, keep_dims) * (x._data == kept),)

    value = kept if keep_dims else kept.reshape(_without(kept.shape, red))
    return result(value, (x,), backward)


def _has_empty(shape, reduced):
    """True when one of the reduced axes has no elements (max and min have no identity)."""
    return builtins.any(shape[i] == 0 for i in reduced)


def max(x, axis=None, keep_dims=False):  # noqa: A001 - TF.js's name
    """Maximum over `axis` (all axes by default); the dtype is kept (bool too), as in TF.js.

    Its gradient goes to every position that equals the maximum (ties all receive it).

    >>> import lamina as lm
    >>> lm.max(lm.tensor([[1, 5], [3, 4]]), axis=1).array()
    [5.0, 4.0]
    """
    return _extreme(np.max, "max", x, axis, keep_dims)


def min(x, axis=None, keep_dims=False):  # noqa: A001 - TF.js's name
    """Minimum over `axis` (all axes by default); the dtype is kept (bool too), as in TF.js.

    Its gradient goes to every position that equals the minimum (ties all receive it).

    >>> import lamina as lm
    >>> lm.min(lm.tensor([[1, 5], [3, 4]]), axis=0, keep_dims=True).array()
    [[1.0, 4.0]]
    """
    return _extreme(np.min, "min", x, axis, keep_dims)


def _product_of_others(x, reduced):
    """For each element, the product of the other elements of its reduction group.

    Exclusive cumulative products from both ends (as TF.js's Prod gradient), so a zero in
    the group gives the right answer instead of 0/0.
    """
    if x.size == 0:
        return np.zeros_like(x)
    kept = [i for i in range(x.ndim) if i not in reduced]
    order = kept + list(reduced)
    moved = np.transpose(x, order)
    group = int(np.prod([x.shape[i] for i in reduced], dtype=np.int64))
    flat = moved.reshape(moved.shape[:len(kept)] + (group,))
    ones = np.ones(flat.shape[:-1] + (1,), x.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = (before * after).reshape(moved.shape)
    return np.transpose(others, np.argsort(order))


def prod(x, axis=None, keep_dims=False):
    """Product over `axis` (all axes by default); bool multiplies as int32, as in TF.js.

    >>> import lamina as lm
    >>> lm.prod(lm.tensor([[1, 2], [3, 4]]), axis=1).array()
    [2.0, 12.0]
    """
    x = _numeric(as_tensor(x))
    red = _reduced_axes(axis, x.rank)
    with np.errstate(over="ignore", invalid="ignore"):
        value = np.prod(x._data, axis=red, keepdims=keep_dims, dtype=x._data.dtype)
    return result(value, (x,), lambda dy: (
        _expand_back(dy, x._data.shape, red, keep_dims) * _product_of_others(x._data, red),))


def _arg_extreme(reduce, name, x, axis, nan_loses):
    x = as_tensor(x)
    if x.rank == 0:
        raise ValueError(f"{name}: x must have rank 1 or more to index along an axis, got a scalar")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: axis must be an int, got {axis!r}")
    (a,) = axes(axis, x.rank)
    v = x._data
    if v.dtype == np.float32 and np.isnan(v).any():
        # TF.js's kernel starts from the first value and moves only on a strictly better one:
        # a NaN never wins a comparison, so NaNs are skipped, but a NaN first gives index 0.
        value = np.where(np.isnan(np.take(v, 0, axis=a)), 0,
                         reduce(np.where(np.isnan(v), np.float32(nan_loses), v), axis=a))
    else:
        value = reduce(v, axis=a)
    # TF.js's ArgMax/ArgMin gradient is zeros: the index does not move with x.
    return result(value.astype(np.int32), (x,), lambda dy: (np.zeros(x._data.shape, np.float32),))


def argmax(x, axis=0):
    """Index (int32) of the largest value along `axis` (default 0, as in TF.js); the first on ties.

    NaNs are skipped as TF.js's kernel skips them (argmax of [1, NaN, 3] is 2), except that
    a NaN in the first position gives 0.

    >>> import lamina as lm
    >>> lm.argmax(lm.tensor([[1, 5], [4, 3]]), axis=1).array()
    [1, 0]
    >>> lm.argmax(lm.tensor([1, float("nan"), 3])).item()
    2
    """
    return _arg_extreme(np.argmax, "argmax", x, axis, -np.inf)


def argmin(x, axis=0):
    """Index (int32) of the smallest value along `axis` (default 0, as in TF.js); the first on ties.

    NaNs are skipped as in argmax (a NaN in the first position gives 0).

    >>> import lamina as lm
    >>> lm.argmin(lm.tensor([[1, 5], [3, 4]])).array()
    [0, 1]
    """
    return _arg_extreme(np.argmin, "argmin", x, axis, np.inf)


def _boolean(x, name):
    if isinstance(x, Tensor):
        if x.dtype != "bool":
            raise TypeError(f"Argument 'x' passed to '{name}' must be bool tensor, but got {x.dtype} tensor")
        return x
    return as_tensor(x, dtype="bool")


def any(x, axis=None, keep_dims=False):  # noqa: A001 - TF.js's name
    """Logical OR over `axis` (all axes by default) of a bool tensor.

    >>> import lamina as lm
    >>> lm.any(lm.tensor([[True, False], [False, False]]), axis=1).array()
    [True, False]
    """
    x = _boolean(x, "any")
    return Tensor._wrap(np.any(x._data, axis=_reduced_axes(axis, x.rank), keepdims=keep_dims))


def all(x, axis=None, keep_dims=False):  # noqa: A001 - TF.js's name
    """Logical AND over `axis` (all axes by default) of a bool tensor.

    >>> import lamina as lm
    >>> lm.all(lm.tensor([[True, False], [True, True]]), axis=1).array()
    [False, True]
    """
    x = _boolean(x, "all")
    return Tensor._wrap(np.all(x._data, axis=_reduced_axes(axis, x.rank), keepdims=keep_dims))


def moments(x, axis=None, keep_dims=False):
    """{"mean": ..., "variance": ...} over `axis` (all axes by default), in float32.

    The variance is the population variance, mean((x - mean)^2), as in TF.js.

    >>> import lamina as lm
    >>> m = lm.moments(lm.tensor([[1, 2], [3, 6]]), axis=0)
    >>> m["mean"].array(), m["variance"].array()
    ([2.0, 4.0], [1.0, 4.0])
    """
    x = unary_float(x, "moments")
    red = _reduced_axes(axis, x.rank)
    centre = mean(x, red, keep_dims=True)
    variance = mean(square(sub(x, centre)), red, keep_dims)
    return {"mean": mean(x, red, keep_dims), "variance": variance}


def _abs(x):
    """|x| with gradient sign(x) (0 at 0, where TF.js's abs gives -1)."""
    return result(np.abs(x._data), (x,), lambda dy: (dy * np.sign(x._data),))


def _euclidean(x, red):
    """sqrt(sum(x^2)) over red, keeping dims; its gradient x / norm is 0 where the norm is 0."""
    with np.errstate(over="ignore"):
        value = np.sqrt(np.sum(np.square(x._data), axis=red, keepdims=True))

    def backward(dy):
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(value > 0, dy / value, np.float32(0))
        return (x._data * scale,)

    return result(value, (x,), backward)


def _norm_axes(axis, rank):
    """axis as a list of non-negative axes in the caller's order (order matters for matrix norms)."""
    items = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    if len(items) not in (1, 2):
        raise ValueError(f"Error in norm: invalid axis: {axis} (expected one axis for a vector norm "
                         "or two for a matrix norm)")
    normalised = [axes(a, rank)[0] for a in items]
    if len(set(normalised)) != len(normalised):
        raise ValueError(f"Error in norm: invalid axis: {axis} (the two axes must differ)")
    return normalised


def _invalid_ord(ord, kind):  # noqa: A002 - TF.js's name
    valid = "'euclidean', 1, 2, inf, -inf" if kind == "vector" else "'euclidean', 'fro', 1, inf, -inf"
    return ValueError(f"Error in norm: invalid ord value: {ord} (a {kind} norm takes {valid})")


def _vector_norm(x, ord, red):  # noqa: A002
    if isinstance(ord, str):
        if ord == "euclidean":
            return _euclidean(x, red)
    elif ord == 1:
        return sum(_abs(x), red, keep_dims=True)
    elif ord == 2:
        return _euclidean(x, red)
    elif ord == math.inf:
        return max(_abs(x), red, keep_dims=True)
    elif ord == -math.inf:
        return min(_abs(x), red, keep_dims=True)
    raise _invalid_ord(ord, "vector")


def _matrix_norm(x, ord, rows, cols):  # noqa: A002
    if isinstance(ord, str):
        if ord in ("euclidean", "fro"):
            return _euclidean(x, (rows, cols))
    elif ord == 1:  # the largest column sum
        return max(sum(_abs(x), rows, keep_dims=True), cols, keep_dims=True)
    elif ord == math.inf:  # the largest row sum
        return max(sum(_abs(x), cols, keep_dims=True), rows, keep_dims=True)
    elif ord == -math.inf:  # the smallest row sum
        return min(sum(_abs(x), cols, keep_dims=True), rows, keep_dims=True)
    raise _invalid_ord(ord, "matrix")


def norm(x, ord="euclidean", axis=None, keep_dims=False):  # noqa: A002 - TF.js's name
    """A vector or matrix norm (TF.js tf.norm), in float32.

    axis=None treats x as one flat vector; an int (or one-element list) takes vector norms
    along it; two axes [rows, cols] take matrix norms. Vector ords: 'euclidean' (= 2), 1,
    inf, -inf. Matrix ords: 'euclidean' (= 'fro'), 'fro', 1 (largest column sum of |x|),
    inf (largest row sum), -inf (smallest row sum).

    >>> import math
    >>> import lamina as lm
    >>> lm.norm(lm.tensor([3, -4])).item()
    5.0
    >>> lm.norm(lm.tensor([[1, -2], [3, 4]]), ord=math.inf, axis=[0, 1]).item()
    7.0
    """
    x = unary_float(x, "norm")
    if x.rank == 0:
        return _abs(x)
    if isinstance(ord, bool):
        raise _invalid_ord(ord, "vector")
    if axis is None:
        red = tuple(range(x.rank))
        y = _vector_norm(x, ord, red)
    else:
        chosen = _norm_axes(axis, x.rank)
        red = tuple(sorted(chosen))
        y = _vector_norm(x, ord, red) if len(chosen) == 1 else _matrix_norm(x, ord, *chosen)
    return y if keep_dims else reshape(y, list(_without(x._data.shape, red)))
