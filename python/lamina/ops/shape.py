"""Ops that move values around without changing them, and their gradients.

Ops that can return a view of their input read it through `readable`, so that a view of a
Variable never changes when the Variable is assigned later.
"""

import builtins
import functools

import numpy as np

from lamina.dtypes import as_numpy_dtype, upcast
from lamina.ops._operands import axes, readable
from lamina.ops.tape import result
from lamina.tensor import Tensor, as_tensor

__all__ = ["reshape", "transpose", "expand_dims", "squeeze", "concat", "stack", "unstack", "split",
           "slice", "gather", "tile", "pad", "reverse"]


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
    return result(readable(x).reshape(shape), (x,), lambda dy: (dy.reshape(x._data.shape),),
                  lambda dy, out: (reshape(dy, x.shape),))


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _int_list(values, argument):
    """values (a list, tuple, numpy array or int32 tensor of ints) as a list of Python ints."""
    if isinstance(values, Tensor):
        values = values._data
    if isinstance(values, np.ndarray):
        values = values.tolist() if values.ndim == 1 else values
    if not isinstance(values, (list, tuple)) or not builtins.all(_is_int(v) for v in values):
        raise TypeError(f"{argument} must be a list of ints, got {values!r}")
    return [int(v) for v in values]


def _one_axis(axis, rank, argument="axis"):
    """A single axis (an int, negatives count from the end) normalised to 0..rank-1."""
    if not _is_int(axis):
        raise TypeError(f"{argument} must be an int, got {axis!r}")
    return axes(axis, rank, argument)[0]


def _insertion_axis(axis, rank):
    """Where a new dimension goes: 0..rank, or -(rank+1)..-1 counted from the end (TF.js)."""
    if not _is_int(axis):
        raise TypeError(f"axis must be an int, got {axis!r}")
    if not -(rank + 1) <= axis <= rank:
        raise ValueError(f"Axis must be in the interval [{-(rank + 1)}, {rank}], got {axis}")
    return int(axis) % (rank + 1)


def _tensor_list(tensors, op):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"Argument tensors passed to {op} must be a list of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"Pass at least one tensor to {op}")
    return [as_tensor(t, f"tensors[{i}]") for i, t in enumerate(tensors)]


def _placed(dy, shape, index):
    """A zero gradient of `shape` with dy written at `index` (the backward of taking a part)."""
    g = np.zeros(shape, dy.dtype)
    g[index] = dy
    return g


def transpose(x, perm=None):
    """Permutes the dimensions: output dimension i is input dimension perm[i] (TF.js tf.transpose).

    perm defaults to reversing the dimensions (the matrix transpose for rank 2).

    >>> import lamina as lm
    >>> lm.transpose(lm.tensor([[1, 2, 3], [4, 5, 6]])).shape
    [3, 2]
    """
    x = as_tensor(x)
    perm = list(range(x.rank))[::-1] if perm is None else _int_list(perm, "perm")
    if len(perm) != x.rank:
        raise ValueError(f"Error in transpose: rank of input {x.rank} must match length of perm {perm}.")
    if builtins.any(not 0 <= p < x.rank for p in perm):
        raise ValueError(f"All entries in 'perm' must be between 0 and {x.rank - 1} but got {perm}")
    if sorted(perm) != list(range(x.rank)):
        raise ValueError(f"perm must name each of the {x.rank} axes once, got {perm}")
    inverse = np.argsort(perm)
    return result(np.transpose(readable(x), perm), (x,), lambda dy: (np.transpose(dy, inverse),))


def expand_dims(x, axis=0):
    """Inserts a dimension of size 1 at `axis` (negative counts from the end).

    >>> import lamina as lm
    >>> lm.expand_dims(lm.tensor([1, 2]), 1).shape
    [2, 1]
    """
    x = as_tensor(x)
    axis = _insertion_axis(axis, x.rank)
    return result(np.expand_dims(readable(x), axis), (x,), lambda dy: (dy.reshape(x._data.shape),))


def squeeze(x, axis=None):
    """Removes dimensions of size 1: all of them, or those in `axis` (which must have size 1).

    >>> import lamina as lm
    >>> lm.squeeze(lm.zeros([1, 2, 1])).shape
    [2]
    """
    x = as_tensor(x)
    shape = x._data.shape
    if axis is None:
        dropped = [i for i, n in enumerate(shape) if n == 1]
    else:
        dropped = axes(axis, x.rank) if x.rank else ()
        for i in dropped:
            if shape[i] != 1:
                raise ValueError(f"Can't squeeze axis {i} since its dim '{shape[i]}' is not 1")
    new_shape = [n for i, n in enumerate(shape) if i not in dropped]
    return result(readable(x).reshape(new_shape), (x,), lambda dy: (dy.reshape(shape),))


def concat(tensors, axis=0):
    """Joins tensors along an existing axis; the other dimensions must match.

    Mixed dtypes are upcast (bool < int32 < float32).

    >>> import lamina as lm
    >>> lm.concat([lm.tensor([[1, 2]]), lm.tensor([[3, 4], [5, 6]])]).shape
    [3, 2]
    """
    tensors = _tensor_list(tensors, "concat")
    target = functools.reduce(upcast, [t.dtype for t in tensors])
    rank = tensors[0].rank
    for i, t in enumerate(tensors):
        if t.rank != rank:
            raise ValueError(f"Error in concat{rank}D: rank of tensors[{i}] must be the same as the "
                             f"rank of the rest ({rank})")
    if rank == 0:
        raise ValueError("Error in concat: tensors must have rank 1 or more (use stack to join scalars)")
    axis = _one_axis(axis, rank)
    first = tensors[0].shape
    for i, t in enumerate(tensors):
        for r in range(rank):
            if r != axis and t.shape[r] != first[r]:
                raise ValueError(f"Error in concat{rank}D: Shape of tensors[{i}] ({t.shape}) does not "
                                 f"match the shape of the rest ({first}) along the non-concatenated axis {r}.")
    arrays = [t._data.astype(as_numpy_dtype(target), copy=False) for t in tensors]
    boundaries = np.cumsum([a.shape[axis] for a in arrays])[:-1]
    return result(np.concatenate(arrays, axis=axis), tuple(tensors),
                  lambda dy: np.split(dy, boundaries, axis=axis))


def stack(tensors, axis=0):
    """Joins tensors of one shape and dtype along a new axis.

    >>> import lamina as lm
    >>> lm.stack([lm.tensor([1, 2]), lm.tensor([3, 4])], axis=1).array()
    [[1.0, 3.0], [2.0, 4.0]]
    """
    tensors = _tensor_list(tensors, "tf.stack")
    first = tensors[0]
    for i, t in enumerate(tensors):
        if t.shape != first.shape:
            raise ValueError(f"All tensors passed to stack must have matching shapes: tensors[{i}] has "
                             f"shape {t.shape}, tensors[0] has shape {first.shape}")
        if t.dtype != first.dtype:
            raise ValueError(f"All tensors passed to stack must have matching dtypes: tensors[{i}] is "
                             f"{t.dtype}, tensors[0] is {first.dtype}")
    axis = _insertion_axis(axis, first.rank)
    return result(np.stack([t._data for t in tensors], axis=axis), tuple(tensors),
                  lambda dy: [np.take(dy, i, axis=axis) for i in range(len(tensors))])


def _others(x, op):
    """The `x` of a method form (t.concat(x), t.stack(x)): one tensor or a list of them."""
    if isinstance(x, (Tensor, np.ndarray)):
        return [x]
    if isinstance(x, (list, tuple)):
        return list(x)
    raise TypeError(f"x passed to Tensor.{op} must be a Tensor or a list of tensors, got {type(x).__name__}")


def _concat_method(self, x, axis=0):
    """t.concat(x, axis=0): TF.js's method form, lm.concat([t, *x], axis); x is one tensor or a list.

    >>> import lamina as lm
    >>> a = lm.tensor([1, 2])
    >>> a.concat(lm.tensor([3])).array(), a.concat([lm.tensor([3]), lm.tensor([4])]).array()
    ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0])
    """
    return concat([self] + _others(x, "concat"), axis)


def _stack_method(self, x, axis=0):
    """t.stack(x, axis=0): TF.js's method form, lm.stack([t, *x], axis); x is one tensor or a list.

    >>> import lamina as lm
    >>> lm.tensor([1, 2]).stack(lm.tensor([3, 4]), axis=1).array()
    [[1.0, 3.0], [2.0, 4.0]]
    """
    return stack([self] + _others(x, "stack"), axis)


def unstack(x, axis=0):
    """Splits x along `axis` into a list of tensors of one rank less (the inverse of stack).

    >>> import lamina as lm
    >>> [t.array() for t in lm.unstack(lm.tensor([[1, 2], [3, 4]]), axis=1)]
    [[1.0, 3.0], [2.0, 4.0]]
    """
    x = as_tensor(x)
    if not _is_int(axis):
        raise TypeError(f"axis must be an int, got {axis!r}")
    if not -x.rank <= axis < x.rank:
        raise ValueError(f"Axis = {axis} is not in [-{x.rank}, {x.rank})")
    axis = int(axis) % x.rank
    base = readable(x)
    pieces = []
    for i in range(x._data.shape[axis]):
        index = (builtins.slice(None),) * axis + (i,)
        pieces.append(result(base[index], (x,),
                             lambda dy, index=index: (_placed(dy, x._data.shape, index),)))
    return pieces


def _split_sizes(num_or_size_splits, dim, axis):
    """The size of each piece, with TF.js's rules: an int divides evenly; one -1 takes the rest."""
    if _is_int(num_or_size_splits):
        count = int(num_or_size_splits)
        if count <= 0 or dim % count:
            raise ValueError(f"Number of splits must evenly divide the axis. (axis {axis} has size {dim}, "
                             f"num_or_size_splits is {count})")
        return [dim // count] * count
    sizes = _int_list(num_or_size_splits, "num_or_size_splits")
    if sizes.count(-1) > 1:
        raise ValueError(f"There should be only one negative value in split array. (got {sizes})")
    if builtins.any(s < -1 for s in sizes):
        raise ValueError(f"num_or_size_splits must hold sizes >= 0 and at most one -1, got {sizes}")
    if -1 in sizes:
        sizes[sizes.index(-1)] = dim - builtins.sum(s for s in sizes if s > 0)
    if builtins.sum(sizes) != dim or builtins.any(s < 0 for s in sizes):
        raise ValueError(f"The sum of sizes must match the size of the axis dimension. (sizes "
                         f"{num_or_size_splits}, axis {axis} has size {dim})")
    return sizes


def split(x, num_or_size_splits, axis=0):
    """Splits x along `axis` into a list of tensors: `num_or_size_splits` equal pieces, or
    pieces of the listed sizes (one size may be -1: the rest of the axis).

    >>> import lamina as lm
    >>> [t.shape for t in lm.split(lm.zeros([2, 5]), [1, -1], axis=1)]
    [[2, 1], [2, 4]]
    """
    x = as_tensor(x)
    if x.rank == 0:
        raise ValueError("split: x must have rank 1 or more, got a scalar")
    axis = _one_axis(axis, x.rank)
    sizes = _split_sizes(num_or_size_splits, x._data.shape[axis], axis)
    base = readable(x)
    pieces, start = [], 0
    for size in sizes:
        index = (builtins.slice(None),) * axis + (builtins.slice(start, start + size),)
        pieces.append(result(base[index], (x,),
                             lambda dy, index=index: (_placed(dy, x._data.shape, index),)))
        start += size
    return pieces


def _slice_params(x, begin, size):
    """begin and size filled out to the rank as TF.js does: a number or a short list names the
    first axes; missing begins are 0, missing sizes (and -1) run to the end."""
    rank = x.rank
    begin = [begin] if _is_int(begin) else _int_list(begin, "begin")
    size = [-1] * rank if size is None else [size] if _is_int(size) else _int_list(size, "size")
    for name, values in (("begin", begin), ("size", size)):
        if len(values) > rank:
            raise ValueError(f"Error in slice{rank}D: Length of {name} {values} must match the rank "
                             f"of the array ({rank}).")
    begin = begin + [0] * (rank - len(begin))
    size = size + [-1] * (rank - len(size))
    shape = x._data.shape
    for i in range(rank):
        if begin[i] < 0:
            raise ValueError(f"slice() does not support negative begin indexing. (begin {begin})")
        if begin[i] > shape[i]:
            raise ValueError(f"Error in slice{rank}D: begin[{i}] ({begin[i]}) would overflow "
                             f"input.shape[{i}] ({shape[i]})")
        if size[i] < -1:
            raise ValueError(f"Negative size values should be exactly -1 but got {size[i]} for the "
                             f"slice() size at index {i}.")
        if size[i] == -1:
            size[i] = shape[i] - begin[i]
        if begin[i] + size[i] > shape[i]:
            raise ValueError(f"Error in slice{rank}D: begin[{i}] + size[{i}] ({begin[i] + size[i]}) "
                             f"would overflow input.shape[{i}] ({shape[i]})")
    return begin, size


def slice(x, begin, size=None):  # noqa: A001 - TF.js's name
    """The block of x starting at `begin` with extent `size` (-1: to the end of that axis).

    A number or a short list for begin/size names the first axes (TF.js's shorthand):
    slice(x, 1, 2) takes rows 1 and 2 of a matrix, every column.

    >>> import lamina as lm
    >>> x = lm.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    >>> lm.slice(x, [1, 1], [2, -1]).array()
    [[5.0, 6.0], [8.0, 9.0]]
    >>> lm.slice(x, 2).array()
    [[7.0, 8.0, 9.0]]
    """
    x = as_tensor(x)
    begin, size = _slice_params(x, begin, size)
    index = tuple(builtins.slice(b, b + s) for b, s in zip(begin, size))
    return result(readable(x)[index], (x,), lambda dy: (_placed(dy, x._data.shape, index),))


def _gather_indices(indices):
    """indices as an int32 array: an int32 tensor, or ints in a list or numpy array."""
    if isinstance(indices, Tensor):
        if indices.dtype != "int32":
            raise TypeError(f"Argument 'indices' passed to 'gather' must be int32 tensor, but got "
                            f"{indices.dtype} tensor")
        return indices._data
    array = np.asarray(indices)
    if array.size and array.dtype.kind not in "iu":
        raise TypeError(f"Argument 'indices' passed to 'gather' must be int32 indices, got {array.dtype} values")
    return array.astype(np.int32)


def gather(x, indices, axis=0):
    """Takes the slices of x at `indices` (int32) along `axis`; indices may repeat.

    The result's shape is x.shape[:axis] + indices.shape + x.shape[axis + 1:]. The gradient
    adds dy back into every gathered position.

    >>> import lamina as lm
    >>> lm.gather(lm.tensor([[1, 2], [3, 4]]), [1, 1, 0]).array()
    [[3.0, 4.0], [3.0, 4.0], [1.0, 2.0]]
    """
    x = as_tensor(x)
    idx = _gather_indices(indices)
    if x.rank == 0:
        raise ValueError("gather: x must have rank 1 or more, got a scalar")
    axis = _one_axis(axis, x.rank)
    dim = x._data.shape[axis]
    bad = idx[(idx < 0) | (idx >= dim)]
    if bad.size:
        raise ValueError(f"GatherV2: the index value {bad[0]} is not in [0, {dim - 1}]")
    where = (builtins.slice(None),) * axis + (idx,)

    def backward(dy):
        g = np.zeros(x._data.shape, dy.dtype)
        np.add.at(g, where, dy)  # repeated indices add up
        return (g,)

    return result(np.take(x._data, idx, axis=axis), (x,), backward)


def tile(x, reps):
    """Repeats x reps[i] times along each dimension i.

    >>> import lamina as lm
    >>> lm.tile(lm.tensor([1, 2]), [2]).array()
    [1.0, 2.0, 1.0, 2.0]
    """
    x = as_tensor(x)
    reps = _int_list(reps, "reps")
    if len(reps) != x.rank:
        raise ValueError(f"Error in tile: rank of input {x.rank} must match length of reps {reps}.")
    if builtins.any(r < 0 for r in reps):
        raise ValueError(f"reps must be non-negative, got {reps}")
    shape = x._data.shape

    def backward(dy):
        # The output is laid out copy-major along each axis: split each axis into
        # (copy, position) and add the copies up.
        interleaved = [n for pair in zip(reps, shape) for n in pair]
        return (dy.reshape(interleaved).sum(axis=tuple(range(0, 2 * len(shape), 2))),)

    return result(np.tile(x._data, reps), (x,), backward)


def pad(x, paddings, constant_value=0):
    """Pads each dimension i with paddings[i] = [before, after] copies of constant_value.

    >>> import lamina as lm
    >>> lm.pad(lm.tensor([1, 2]), [[1, 2]]).array()
    [0.0, 1.0, 2.0, 0.0, 0.0]
    """
    x = as_tensor(x)
    if x.rank == 0:
        raise ValueError("pad(scalar) is not defined. Pass non-scalar to pad")
    pairs = [_int_list(p, "paddings") for p in paddings] if isinstance(paddings, (list, tuple)) else None
    if pairs is None or len(pairs) != x.rank or builtins.any(len(p) != 2 or min(p) < 0 for p in pairs):
        raise ValueError(f"paddings must hold one [before, after] pair of non-negative ints per dimension "
                         f"of x (rank {x.rank}), got {paddings}")
    value = np.pad(x._data, pairs, constant_values=np.asarray(constant_value).astype(x._data.dtype))
    inner = tuple(builtins.slice(before, before + n) for (before, _), n in zip(pairs, x._data.shape))
    return result(value, (x,), lambda dy: (dy[inner],))


def reverse(x, axis=None):
    """Reverses the order of the values along `axis` (all axes by default).

    >>> import lamina as lm
    >>> lm.reverse(lm.tensor([[1, 2], [3, 4]]), axis=1).array()
    [[2.0, 1.0], [4.0, 3.0]]
    """
    x = as_tensor(x)
    flipped = axes(axis, x.rank) if x.rank else ()
    return result(np.flip(readable(x), flipped), (x,), lambda dy: (np.flip(dy, flipped),))
