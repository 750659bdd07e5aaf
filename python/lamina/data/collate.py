"""Turning a list of dataset elements into one batch (TF.js's deepBatchConcat).

Each element has the same structure. At each node of that structure, dicts recurse key by
key and tuples position by position; everything else is a column of values that becomes one
Tensor whose axis 0 is the batch: Tensors and numpy arrays are stacked, Python numbers
become a float32 1-D tensor (JS numbers are float32 in TF.js), bools a bool tensor, nested
lists a tensor of one more dimension. Strings (csv text columns) stay a list of str, as
lamina has no string tensors.

Only numpy is used here, never lamina ops: a batch is data, not part of any gradient, and
it may be made on a prefetch thread while the training thread is recording a tape.

>>> import lamina as lm
>>> batch = collate([{"a": 1, "b": [1, 2]}, {"a": 2, "b": [3, 4]}])
>>> batch["a"].shape, batch["a"].dtype, batch["b"].shape
([2], 'float32', [2, 2])
"""

import numbers

import numpy as np

from lamina.dtypes import to_array
from lamina.tensor import Tensor

__all__ = ["collate"]


def collate(rows, where="", enclosing=None):
    """One batch from a non-empty list of same-structured elements.

    `where` names the position inside the element (e.g. `["xs"]`) for error messages;
    `enclosing` maps the ids of the dicts and tuples around that position to their places,
    to refuse an element that contains itself (as TF.js's deepBatchConcat does).

    >>> import lamina as lm
    >>> xs, ys = collate([(lm.tensor([1, 2]), 0), (lm.tensor([3, 4]), 1)])
    >>> xs.array(), ys.array()
    ([[1.0, 2.0], [3.0, 4.0]], [0.0, 1.0])
    """
    first = rows[0]
    if isinstance(first, (dict, tuple)):
        enclosing = {} if enclosing is None else enclosing
        # the walk follows element 0's structure (the others must match it), so only its
        # containers can make a cycle
        if id(first) in enclosing:
            raise ValueError(f"batch: Circular references are not supported. (in element 0 of the batch, "
                             f"{_place(where)} is the {type(first).__name__} at {_place(enclosing[id(first)])}, "
                             "which contains it)")
        enclosing[id(first)] = where
        try:
            if isinstance(first, dict):
                return _collate_dict(rows, where, enclosing)
            return _collate_tuple(rows, where, enclosing)
        finally:
            del enclosing[id(first)]
    if isinstance(first, str):
        _check_all(rows, str, where, "a str")
        return list(rows)
    if first is None:
        raise ValueError(f"batch: element 0 of the batch has None at {_place(where)} (a missing value); "
                         "give the column a default, or filter or map such elements away before batch()")
    if isinstance(first, (Tensor, np.ndarray, np.generic)):
        return _stack_arrays(rows, where)
    if isinstance(first, (numbers.Number, list)):
        return _tensor_from_values(rows, where)
    raise TypeError(f"batch: cannot batch {type(first).__name__} values at {_place(where)}; elements must "
                    "be Tensors, numpy arrays, numbers, bools, nested lists, str, or dicts/tuples of these")


def _collate_dict(rows, where, enclosing):
    keys = list(rows[0])
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or set(row) != set(keys):
            got = sorted(row) if isinstance(row, dict) else type(row).__name__
            raise ValueError(f"batch: elements must all have the same structure; element 0 of the batch has "
                             f"keys {keys} at {_place(where)}, element {i} has {got}")
    return {key: collate([row[key] for row in rows], f"{where}[{key!r}]", enclosing) for key in keys}


def _collate_tuple(rows, where, enclosing):
    length = len(rows[0])
    for i, row in enumerate(rows):
        if not isinstance(row, tuple) or len(row) != length:
            got = f"{len(row)} items" if isinstance(row, tuple) else type(row).__name__
            raise ValueError(f"batch: elements must all have the same structure; element 0 of the batch is "
                             f"a tuple of {length} items at {_place(where)}, element {i} has {got}")
    return tuple(collate([row[p] for row in rows], f"{where}[{p}]", enclosing) for p in range(length))


def _stack_arrays(rows, where):
    arrays = [row._data if isinstance(row, Tensor) else np.asarray(row) for row in rows]
    for i, array in enumerate(arrays):
        if array.shape != arrays[0].shape:
            raise ValueError(f"batch: the values at {_place(where)} must have one shape to be stacked; "
                             f"element 0 of the batch has shape {list(arrays[0].shape)}, "
                             f"element {i} has shape {list(array.shape)}")
    return _wrap(np.stack(arrays), where)


def _tensor_from_values(rows, where):
    try:
        return Tensor._wrap(to_array(rows, argument=f"batch: the values at {_place(where)}"))
    except (ValueError, TypeError) as error:
        raise ValueError(f"{error} (each element's value there must be a number, bool or nested list "
                         "of one shape)") from None


def _wrap(array, where):
    if array.dtype in (np.float32, np.int32, np.bool_):
        return Tensor._wrap(array)  # already fresh and of a lamina dtype: no second copy
    return Tensor._wrap(to_array(array, argument=f"batch: the values at {_place(where)}"))


def _check_all(rows, kind, where, name):
    for i, row in enumerate(rows):
        if not isinstance(row, kind):
            raise ValueError(f"batch: element 0 of the batch has {name} at {_place(where)}, "
                             f"element {i} has {type(row).__name__}")


def _place(where):
    return f"element{where}" if where else "the top level"
