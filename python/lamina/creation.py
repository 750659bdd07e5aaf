"""Creating tensors: of a stated rank (tensor1d ... tensor4d), constants (zeros, ones, fill,
one_hot, range, linspace, eye) and random values (random_normal, random_uniform,
truncated_normal), with TF.js's semantics.

Created tensors are constants: no gradient flows into them. Random ops draw from
`lamina.random.generator(seed)`, so `lm.set_seed(n)` makes them reproducible.
"""

import builtins
import math
import numbers

import numpy as np

from lamina import random as _random
from lamina.dtypes import as_numpy_dtype, to_array
from lamina.tensor import Tensor, as_tensor, tensor

__all__ = ["tensor1d", "tensor2d", "tensor3d", "tensor4d", "zeros", "ones", "fill", "zeros_like", "ones_like", "one_hot", "range", "linspace",
           "eye", "random_normal", "random_uniform", "truncated_normal"]


# ---------------------------------------------------------------- argument checks

def _shape(shape, argument="shape"):
    """`shape` as a list of non-negative ints, or a ValueError/TypeError naming `argument`."""
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise TypeError(f"{argument} must be a list of non-negative ints, got {shape!r}")
    dims = list(shape)
    for dim in dims:
        if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"{argument} must be a list of non-negative ints, got {dims!r}")
        if dim < 0:
            raise ValueError(f"{argument} must be a list of non-negative ints, got {dims!r}")
    return [int(dim) for dim in dims]


def _number(value, argument):
    """A real number argument as a Python float (bools are not numbers here)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{argument} must be a number, got {value!r}")
    return float(value)


def _count(value, argument):
    """A non-negative int argument (a row count, a depth, a number of values)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{argument} must be an int, got {value!r}")
    return int(value)


def _numeric_dtype(dtype, op):
    """float32 or int32: the dtypes TF.js's range and random ops produce."""
    as_numpy_dtype(dtype)  # rejects unknown names
    if dtype == "bool":
        raise ValueError(f"{op}: dtype must be 'float32' or 'int32', got 'bool'")
    return dtype


# ---------------------------------------------------------------- tensors of a stated rank

_RANK_WORDS = {2: "two", 3: "three", 4: "four"}


def _inferred_shape(values):
    if values is None:
        raise ValueError("values must not be None")
    return values.shape if isinstance(values, Tensor) else list(to_array(values).shape)


def _tensor_of_rank(rank, values, shape, dtype):
    """TF.js's tensor2d/3d/4d: nested values of that rank, or flat values with a shape."""
    name = f"tensor{rank}d"
    if shape is not None and len(list(shape)) != rank:
        raise ValueError(f"{name}() requires shape to have {_RANK_WORDS[rank]} numbers, got shape {list(shape)}")
    inferred = _inferred_shape(values)
    if len(inferred) not in (rank, 1):
        raise ValueError(f"{name}() requires values to be number{'[]' * rank} or flat/TypedArray, "
                         f"got values of shape {inferred}")
    if len(inferred) == 1 and shape is None and rank != 1:
        raise ValueError(f"{name}() requires shape to be provided when `values` are a flat array "
                         f"(values has shape {inferred})")
    return tensor(values, shape, dtype)


def tensor1d(values, dtype=None):
    """A rank-1 tensor from a flat list or array (TF.js tf.tensor1d).

    >>> import lamina as lm
    >>> lm.tensor1d([1, 2, 3]).shape
    [3]
    """
    inferred = _inferred_shape(values)
    if len(inferred) != 1:
        raise ValueError(f"tensor1d() requires values to be a flat/TypedArray, got values of shape {inferred}")
    return tensor(values, dtype=dtype)


def tensor2d(values, shape=None, dtype=None):
    """A rank-2 tensor from nested lists, or from flat values and a shape (TF.js tf.tensor2d).

    >>> import lamina as lm
    >>> lm.tensor2d([[1, 2], [3, 4]]).shape, lm.tensor2d([1, 2, 3, 4], [2, 2]).shape
    ([2, 2], [2, 2])
    """
    return _tensor_of_rank(2, values, shape, dtype)


def tensor3d(values, shape=None, dtype=None):
    """A rank-3 tensor from nested lists, or from flat values and a shape (TF.js tf.tensor3d).

    >>> import lamina as lm
    >>> lm.tensor3d([1, 2, 3, 4], [2, 2, 1]).shape
    [2, 2, 1]
    """
    return _tensor_of_rank(3, values, shape, dtype)


def tensor4d(values, shape=None, dtype=None):
    """A rank-4 tensor from nested lists, or from flat values and a shape (TF.js tf.tensor4d).

    >>> import lamina as lm
    >>> lm.tensor4d([[[[1], [2]], [[3], [4]]]]).shape
    [1, 2, 2, 1]
    """
    return _tensor_of_rank(4, values, shape, dtype)


# ---------------------------------------------------------------- constants

def zeros(shape, dtype="float32"):
    """A tensor of zeros.

    >>> import lamina as lm
    >>> lm.zeros([2, 3]).array()
    [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    return Tensor._wrap(np.zeros(_shape(shape), as_numpy_dtype(dtype)))


def ones(shape, dtype="float32"):
    """A tensor of ones.

    >>> import lamina as lm
    >>> lm.ones([2], dtype="int32").array()
    [1, 1]
    """
    return Tensor._wrap(np.ones(_shape(shape), as_numpy_dtype(dtype)))


def fill(shape, value, dtype=None):
    """A tensor with every element `value`; dtype defaults to bool for a bool, else
    float32 (TF.js infers it from the JS value, and every JS number is float32).

    >>> import lamina as lm
    >>> lm.fill([2, 2], 4).array()
    [[4.0, 4.0], [4.0, 4.0]]
    >>> lm.fill([2], True).dtype
    'bool'
    """
    shape = _shape(shape)
    if isinstance(value, (bool, np.bool_)):
        inferred = "bool"
    elif isinstance(value, numbers.Real):
        inferred = "float32"
    else:
        raise TypeError(f"value must be a number or a bool, got {value!r}")
    return Tensor._wrap(np.full(shape, value, as_numpy_dtype(dtype or inferred)))


def zeros_like(x):
    """Zeros with the shape and dtype of `x`.

    >>> import lamina as lm
    >>> lm.zeros_like(lm.tensor([[1, 2]], dtype="int32")).array()
    [[0, 0]]
    """
    x = as_tensor(x)
    return Tensor._wrap(np.zeros_like(x._data))


def ones_like(x):
    """Ones with the shape and dtype of `x`.

    >>> import lamina as lm
    >>> lm.ones_like(lm.tensor([1.5, 2])).array()
    [1.0, 1.0]
    """
    x = as_tensor(x)
    return Tensor._wrap(np.ones_like(x._data))


def _int32_indices(indices):
    """one_hot's indices as an int32 array. Tensors and numpy arrays must already hold
    integers (TF.js: int32 tensors only); plain lists of whole numbers are converted."""
    if isinstance(indices, (Tensor, np.ndarray)):
        array = indices._data if isinstance(indices, Tensor) else indices
        if array.dtype.kind not in "iu":
            kind = "bool" if array.dtype.kind == "b" else "float32"
            raise ValueError(f"Argument 'indices' passed to 'oneHot' must be int32 tensor, "
                             f"but got {kind} tensor")
        return array.astype(np.int32)
    try:
        array = np.asarray(indices)
    except (ValueError, TypeError) as error:
        raise ValueError(f"indices must be an int32 tensor or a nested list of ints; {error}") from None
    if array.dtype.kind == "f" and np.all(np.floor(array) == array):
        return array.astype(np.int32)
    if array.dtype.kind not in "iu":
        raise ValueError(f"Argument 'indices' passed to 'oneHot' must be int32 tensor, "
                         f"got values {indices!r:.80}")
    return array.astype(np.int32)


def one_hot(indices, depth, on_value=1, off_value=0, dtype="int32"):
    """A one-hot encoding: the result has shape `indices.shape + [depth]`, `on_value` at
    each index and `off_value` elsewhere (a row whose index is outside [0, depth) is all
    `off_value`). Indices must be int32, the result is int32 by default, as in TF.js.

    >>> import lamina as lm
    >>> lm.one_hot(lm.tensor([0, 2], dtype="int32"), 3).array()
    [[1, 0, 0], [0, 0, 1]]
    >>> lm.one_hot([1], 2, dtype="float32").array()
    [[0.0, 1.0]]
    """
    depth = _count(depth, "depth")
    if depth < 2:
        raise ValueError(f"Error in oneHot: depth must be >=2, but it is {depth}")
    on_value = _number(on_value, "on_value")
    off_value = _number(off_value, "off_value")
    indices = _int32_indices(indices)
    out = np.full(indices.shape + (depth,), off_value, as_numpy_dtype(dtype))
    flat = indices.reshape(-1)
    rows = np.flatnonzero((flat >= 0) & (flat < depth))
    out.reshape(-1, depth)[rows, flat[rows]] = on_value
    return Tensor._wrap(out)


def _sequence(first, step, count, dtype):
    """TF.js's range/linspace kernel: values[0] = first, values[i] = values[i-1] + step,
    each stored in a float32 (rounded) or int32 (truncated) typed array, so rounding
    accumulates exactly as in TF.js."""
    store = (lambda v: float(np.float32(v))) if dtype == "float32" else \
        (lambda v: float(math.trunc(v)))
    if count == 0:
        return np.zeros(0, as_numpy_dtype(dtype))
    first = store(first)
    last = first + (count - 1) * step
    exact_limit = 2.0 ** 24 if dtype == "float32" else 2.0 ** 31 - 1
    if float(step).is_integer() and max(abs(first), abs(last)) <= exact_limit:
        # Whole numbers within the type's exact range: the running sum never rounds.
        return (first + step * np.arange(count, dtype=np.float64)).astype(as_numpy_dtype(dtype))
    values = np.empty(count, np.float64)
    value = first
    for i in builtins.range(count):
        values[i] = value
        value = store(value + step)
    return values.astype(as_numpy_dtype(dtype))


def range(start, stop=None, step=1, dtype="float32"):
    """The 1-D tensor start, start + step, ... up to but excluding `stop` (TF.js's tf.range).
    `lm.range(n)` is `lm.range(0, n)`; a decreasing range with the default step counts
    down by 1; a step pointing away from `stop` gives an empty tensor.

    >>> import lamina as lm
    >>> lm.range(0, 9, 2).array()
    [0.0, 2.0, 4.0, 6.0, 8.0]
    >>> lm.range(3, 0, dtype="int32").array()
    [3, 2, 1]
    >>> lm.range(1, 0, -0.25).array()
    [1.0, 0.75, 0.5, 0.25]
    """
    if stop is None:
        start, stop = 0, start
    start, stop, step = _number(start, "start"), _number(stop, "stop"), _number(step, "step")
    dtype = _numeric_dtype(dtype, "range")
    if step == 0:
        raise ValueError("Cannot have a step of zero")
    # As TF.js: a decreasing range with the default step counts down. TF.js empties a
    # decreasing range only for steps > 1, so range(5, 0, 0.5) counts *up* from 5 there;
    # here every other positive step gives an empty range, like a negative increasing one.
    if stop < start and step == 1:
        step = -1.0
    if start == stop or (start < stop and step < 0) or (stop < start and step > 0):
        return Tensor._wrap(np.zeros(0, as_numpy_dtype(dtype)))
    count = abs(math.ceil((stop - start) / step))
    return Tensor._wrap(_sequence(start, step, count, dtype))


def linspace(start, stop, num):
    """`num` evenly spaced float32 values from `start` to `stop` (both included). As in
    TF.js, each value is the previous float32 value plus the step, so the rounding adds
    up: `lm.linspace(0, 1, 11)` ends at 1.0000001.

    >>> import lamina as lm
    >>> lm.linspace(0, 9, 4).array()
    [0.0, 3.0, 6.0, 9.0]
    """
    start, stop = _number(start, "start"), _number(stop, "stop")
    num = _count(num, "num")
    if num <= 0:
        raise ValueError("The number of values should be positive.")
    step = (stop - start) / (num - 1) if num > 1 else 0.0
    return Tensor._wrap(_sequence(start, step, num, "float32"))


def eye(num_rows, num_columns=None, batch_shape=None, dtype="float32"):
    """An identity matrix [num_rows, num_columns], repeated over `batch_shape` if given.

    >>> import lamina as lm
    >>> lm.eye(2, 3).array()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    >>> lm.eye(2, batch_shape=[3]).shape
    [3, 2, 2]
    """
    num_rows = _count(num_rows, "num_rows")
    num_columns = num_rows if num_columns is None else _count(num_columns, "num_columns")
    if num_rows < 0 or num_columns < 0:
        raise ValueError(f"num_rows and num_columns must be >= 0, got {num_rows} and {num_columns}")
    matrix = np.eye(num_rows, num_columns, dtype=as_numpy_dtype(dtype))
    if batch_shape is None:
        return Tensor._wrap(matrix)
    batch_shape = _shape(batch_shape, "batch_shape")
    return Tensor._wrap(np.broadcast_to(matrix, batch_shape + [num_rows, num_columns]).copy())


# ---------------------------------------------------------------- random values

def _store_random(values, dtype):
    """Random doubles as float32, or rounded to int32 as TF.js's Math.round (halves up)."""
    if dtype == "int32":
        return np.floor(values + 0.5).astype(np.int32)
    return values.astype(np.float32)


def random_normal(shape, mean=0, stddev=1, dtype="float32", seed=None):
    """Values from a normal distribution (int32: rounded to the nearest integer).

    >>> import lamina as lm
    >>> x = lm.random_normal([1000], mean=5, stddev=0.1, seed=1)
    >>> x.shape, 4.9 < x.mean().item() < 5.1
    ([1000], True)
    """
    shape = _shape(shape)
    mean, stddev = _number(mean, "mean"), _number(stddev, "stddev")
    dtype = _numeric_dtype(dtype, "random_normal")
    values = mean + stddev * _random.generator(seed).standard_normal(shape)
    return Tensor._wrap(_store_random(values, dtype))


def random_uniform(shape, minval=0, maxval=1, dtype="float32", seed=None):
    """Values drawn uniformly from [minval, maxval). int32 values are whole numbers in
    [minval, maxval) (drawn as floats, then floored).

    >>> import lamina as lm
    >>> x = lm.random_uniform([2, 3], -1, 1, seed=0)
    >>> x.shape, bool(((x.numpy() >= -1) & (x.numpy() < 1)).all())
    ([2, 3], True)
    """
    shape = _shape(shape)
    minval, maxval = _number(minval, "minval"), _number(maxval, "maxval")
    dtype = _numeric_dtype(dtype, "random_uniform")
    values = minval + (maxval - minval) * _random.generator(seed).random(shape)
    if dtype == "int32":
        return Tensor._wrap(np.floor(values).astype(np.int32))
    out = values.astype(np.float32)
    if maxval > minval:
        # A double just below maxval can round up to it in float32; keep maxval excluded.
        np.minimum(out, np.nextafter(np.float32(maxval), np.float32(-np.inf)), out=out)
    return Tensor._wrap(out)


def truncated_normal(shape, mean=0, stddev=1, dtype="float32", seed=None):
    """Values from a normal distribution, where any value more than 2 standard deviations
    from the mean is drawn again (TF.js's truncatedNormal; no variance correction).

    >>> import lamina as lm
    >>> x = lm.truncated_normal([1000], stddev=0.5, seed=2).numpy()
    >>> bool(abs(x).max() <= 1.0)
    True
    """
    shape = _shape(shape)
    mean, stddev = _number(mean, "mean"), _number(stddev, "stddev")
    if stddev < 0:
        raise ValueError(f"stddev must be >= 0, got {stddev}")
    dtype = _numeric_dtype(dtype, "truncated_normal")
    rng = _random.generator(seed)
    z = rng.standard_normal(shape)
    outside = np.abs(z) > 2
    while outside.any():
        z[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(z) > 2
    return Tensor._wrap(_store_random(mean + stddev * z, dtype))
