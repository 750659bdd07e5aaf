"""Where datasets come from: arrays in memory, generator functions, TF.js-style functions, zips."""

import builtins
import contextlib
import inspect
import threading
from collections.abc import Iterator

import numpy as np

from lamina.data import iterators
from lamina.data.dataset import Dataset
from lamina.dtypes import to_array
from lamina.tensor import Tensor, Variable

__all__ = ["array", "generator", "func", "zip"]


def array(items, *more_items):
    """A dataset of the items of a list, or of the rows of arrays.

    * a list (or tuple) of items: one element per item, as given (numbers, lists, dicts,
      Tensors, ...); each pass hands out fresh copies of lists, dicts and numpy arrays, so a
      `map` that changes an element in place cannot change the next pass.
    * a numpy array or Tensor: one element per row (along axis 0), each a Tensor.
    * a dict of arrays (all with the same number of rows): elements `{key: row}`.
    * several arrays, `array(x, y)`: elements `(x_row, y_row)` tuples.

    Arrays are read as passes go (not copied up front; batch() reads about 1 MB of
    consecutive rows at a time, see iterators.sliced); they are converted as
    `lm.tensor` converts (float64 -> float32, int64 -> int32).

    >>> import lamina as lm
    >>> lm.data.array([1, 2, 3]).to_array()
    [1, 2, 3]
    >>> import numpy as np
    >>> ds = lm.data.array({"xs": np.zeros((4, 3)), "ys": np.arange(4)})
    >>> ds.size, {key: t.shape for key, t in next(iter(ds)).items()}
    (4, {'xs': [3], 'ys': []})
    >>> x, y = next(iter(lm.data.array(np.ones((5, 2)), np.zeros((5, 1))).batch(5)))
    >>> x.shape, y.shape
    ([5, 2], [5, 1])
    """
    if more_items:
        columns = tuple(_column(c, f"items[{i}]") for i, c in enumerate((items,) + more_items))
        return _array_rows(columns, _common_length(dict(enumerate(columns)), "array(x, y, ...)"))
    if isinstance(items, dict):
        if not items:
            raise ValueError("array: items must not be an empty dict; give it a key per array")
        columns = {key: _column(value, f"items[{key!r}]") for key, value in items.items()}
        return _array_rows(columns, _common_length(columns, "array(dict)"))
    if isinstance(items, (Tensor, np.ndarray)):
        column = _column(items, "items")
        return _array_rows(column, len(column))
    if isinstance(items, (list, tuple)):
        items = list(items)  # later appends to the caller's list do not change this dataset
        return Dataset(lambda: (_fresh(item) for item in items), len(items))
    raise TypeError(f"array: items must be a list, a numpy array, a Tensor or a dict of arrays, "
                    f"got {type(items).__name__}")


def generator(fn):
    """A dataset of what `fn()` yields; `fn` is called afresh for every pass.

    `fn` is a generator function (or any function returning an iterator), not a generator
    object: a generator object can be read only once.

    >>> import lamina as lm
    >>> def numbers():
    ...     for i in range(3):
    ...         yield i
    >>> ds = lm.data.generator(numbers)
    >>> ds.to_array(), ds.to_array(), ds.size
    ([0, 1, 2], [0, 1, 2], None)
    """
    if inspect.isgenerator(fn) or (isinstance(fn, Iterator) and not callable(fn)):
        raise TypeError("generator: fn must be a function that returns an iterator (e.g. `def data(): yield ...`, "
                        f"passed as lm.data.generator(data)), got a {type(fn).__name__} object; pass the "
                        "function itself, not its result, so that every pass can start afresh")
    if not callable(fn):
        raise TypeError(f"generator: fn must be a function that returns an iterator, got {type(fn).__name__}")

    def start_pass():
        stream = fn()
        try:
            return iter(stream)
        except TypeError:
            raise TypeError(f"generator: fn() must return an iterator (make fn a generator function), "
                            f"got {type(stream).__name__}") from None

    return Dataset(start_pass, None)


def func(f):
    """A dataset whose elements come from calling `f()` repeatedly (TF.js's tf.data.func).

    `f()` returns TF.js's iterator result: `{"value": element, "done": False}`, then
    `{"done": True}` at the end. As in TF.js, every pass reads one shared stream: a second
    pass continues where the first stopped (after the end, it is empty).

    >>> import lamina as lm
    >>> counter = iter(range(3))
    >>> def next_number():
    ...     value = next(counter, None)
    ...     return {"value": value, "done": value is None}
    >>> ds = lm.data.func(next_number)
    >>> ds.to_array(), ds.to_array()
    ([0, 1, 2], [])
    """
    if not callable(f):
        raise TypeError(f"func: f must be a function returning {{'value': ..., 'done': ...}}, got {type(f).__name__}")
    stream = _SharedFunctionStream(f)
    return Dataset(lambda: stream, None)


def zip(datasets):
    """Zips a dict, tuple or list (possibly nested) of datasets into one dataset.

    Elements have the structure of `datasets`, with each dataset's element in its place; a
    list gives tuple elements, so that `batch()` batches position by position. The zip stops
    at the end of the shortest dataset.

    >>> import lamina as lm
    >>> xs, ys = lm.data.array([1, 2, 3]), lm.data.array([4, 5])
    >>> lm.data.zip({"xs": xs, "ys": ys}).to_array()
    [{'xs': 1, 'ys': 4}, {'xs': 2, 'ys': 5}]
    >>> lm.data.zip([xs, ys]).size
    2
    """
    if not isinstance(datasets, (dict, list, tuple)):
        raise TypeError("The argument to zip() must be an object or array. "
                        f"(a dict, list or tuple of datasets; got {type(datasets).__name__})")
    leaves = []
    template = _flatten(datasets, leaves, "", {})
    if not leaves:
        raise ValueError("zip: datasets holds no dataset; give it at least one")
    return _zip_datasets(leaves, template)


# --- array ------------------------------------------------------------------------------


def _array_rows(columns, length):
    """Rows of numpy arrays (one array, a dict of them or a tuple of them), read by row number."""
    # each column's lamina dtype, decided once (as lm.tensor would: float64 -> float32, ...)
    dtypes = _map_columns(lambda column: to_array(column[:0]).dtype, columns)
    if isinstance(columns, dict):
        def row(index):
            return {key: _row(column, dtypes[key], index) for key, column in columns.items()}
    elif isinstance(columns, tuple):
        def row(index):
            return tuple(_row(column, dtype, index) for column, dtype in builtins.zip(columns, dtypes))
    else:
        def row(index):
            return _row(columns, dtypes, index)

    def gather(indices, view=False):
        # what batch() would stack from the rows: the same values, dtypes and shapes. With
        # view=True (fit_dataset's internal blocks, which never reach user code) a slice of a
        # column already in lamina's dtype is read in place, as fit reads its arrays.
        indices = _as_index(indices)

        def take(column, dtype):
            part = column[indices]
            if view and isinstance(indices, slice) and part.dtype == dtype and part.flags.c_contiguous:
                return Tensor._wrap(part)
            return Tensor._wrap(to_array(part))

        if isinstance(columns, dict):
            return {key: take(column, dtypes[key]) for key, column in columns.items()}
        if isinstance(columns, tuple):
            return tuple(take(column, dtype) for column, dtype in builtins.zip(columns, dtypes))
        return take(columns, dtypes)

    dataset = Dataset._from_rows(lambda: iter(range(length)), row, gather, length)
    dataset._in_order = True
    dataset._array_columns = columns  # marks a plain array source for zip()
    return dataset


def _as_index(numbers):
    # consecutive row numbers (batches of an unshuffled array) become a slice: a plain copy
    if isinstance(numbers, slice):
        return numbers
    if numbers[-1] - numbers[0] == len(numbers) - 1 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return slice(numbers[0], numbers[-1] + 1)
    return np.asarray(numbers, dtype=np.intp)


def _row(column, dtype, index):
    # A fresh copy (the caller may change their array later; a Tensor never changes), made
    # read-only and wrapped directly: this runs once per element, so it avoids to_array's checks.
    row = np.array(column[index], dtype=dtype, order="C")
    row.flags.writeable = False
    return Tensor(row)


def _column(value, name):
    if isinstance(value, Variable):
        array = value._data.copy()  # a Variable's buffer changes as it trains
    elif isinstance(value, Tensor):
        array = value._data  # immutable
    elif isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"array: {name} must hold numbers or booleans, got an array of {value.dtype}")
        array = value
    elif isinstance(value, (list, tuple)):
        array = to_array(value, argument=f"array: {name}")
    else:
        raise TypeError(f"array: {name} must be a numpy array, a Tensor or a list, got {type(value).__name__}")
    if array.ndim == 0:
        raise ValueError(f"array: {name} must have at least one dimension (its rows are the elements), "
                         f"got a scalar")
    return array


def _common_length(columns, what):
    lengths = {key: len(column) for key, column in columns.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{key!r} has {n}" for key, n in lengths.items())
        raise ValueError(f"{what}: every array must have the same number of rows; {described}")
    return next(iter(lengths.values()))


def _map_columns(fn, columns):
    if isinstance(columns, dict):
        return {key: fn(column) for key, column in columns.items()}
    if isinstance(columns, tuple):
        return tuple(fn(column) for column in columns)
    return fn(columns)


def _fresh(item, copies=None):
    """A copy of the containers (and numpy arrays) in an item; numbers, str and Tensors are immutable.

    `copies` maps the id of each dict and list already copied to its copy, so that a
    container met twice is copied once and one that contains itself (TF.js hands such items
    out as they are; batch() refuses them) is copied as a cycle, not followed forever.
    """
    if isinstance(item, (dict, list)):
        copies = {} if copies is None else copies
        copy = copies.get(id(item))
        if copy is None:
            copy = copies[id(item)] = {} if isinstance(item, dict) else []  # before its contents: they may refer back
            if isinstance(item, dict):
                copy.update((key, _fresh(value, copies)) for key, value in item.items())
            else:
                copy.extend(_fresh(value, copies) for value in item)
        return copy
    if isinstance(item, tuple):
        return tuple(_fresh(value, copies) for value in item)
    if isinstance(item, np.ndarray):
        return item.copy()
    return item


# --- func ---------------------------------------------------------------------------------


class _SharedFunctionStream:
    """One stream over `f()` results, shared by every pass (TF.js creates it once)."""

    def __init__(self, f):
        self._f = f
        self._finished = False
        self._lock = threading.Lock()  # passes on prefetch threads read it one call at a time

    def __iter__(self):
        return self

    def __next__(self):
        with self._lock:
            if self._finished:
                raise StopIteration
            result = self._f()
            if not isinstance(result, dict) or not ("value" in result or "done" in result):
                raise TypeError("func: f() must return {'value': element, 'done': False}, or {'done': True} at "
                                f"the end (TF.js's iterator result), got {result!r:.80}")
            if result.get("done"):
                self._finished = True
                raise StopIteration
            return result.get("value")


# --- zip ----------------------------------------------------------------------------------

_LEAF = object()


def _zip_datasets(leaves, template):
    sizes = [leaf.size for leaf in leaves]
    size = None if None in sizes else min(sizes)
    plain_arrays = all(getattr(leaf, "_array_columns", None) is not None for leaf in leaves)
    if plain_arrays and len(set(sizes)) == 1:
        # Arrays of one length zip into rows of arrays: batch() and shuffle() then work on
        # row numbers. (With different lengths the longer ones' last batch would differ.)
        rows = [leaf._rows for leaf in leaves]
        dataset = Dataset._from_rows(
            lambda: iter(range(size)),
            lambda index: _fill(template, (row(index) for _, row, _ in rows)),
            lambda indices, view=False: _fill(template, (gather(indices, view=view) for _, _, gather in rows)),
            size)
        dataset._in_order = True
        return dataset

    def zipped():
        with contextlib.ExitStack() as stack:
            streams = [stack.enter_context(iterators.opened(leaf)) for leaf in leaves]
            for values in builtins.zip(*streams):
                yield _fill(template, iter(values))

    return Dataset(zipped, size)


def _flatten(structure, leaves, where, enclosing):
    """The template of `structure` (its dicts and tuples, _LEAF for each dataset), appending
    the datasets to `leaves`. `enclosing` maps the id of each container on the path down to
    here to its place, to catch a structure that contains itself (TF.js's deepMap does too).
    The same container may appear twice side by side; only a cycle is refused."""
    if isinstance(structure, Dataset):
        leaves.append(structure)
        return _LEAF
    if isinstance(structure, (dict, list, tuple)):
        if id(structure) in enclosing:
            raise ValueError(f"Circular references are not supported. (datasets{where} is "
                             f"datasets{enclosing[id(structure)]}, which contains it)")
        enclosing[id(structure)] = where
        try:
            if isinstance(structure, dict):
                return {key: _flatten(value, leaves, f"{where}[{key!r}]", enclosing)
                        for key, value in structure.items()}
            return tuple(_flatten(value, leaves, f"{where}[{i}]", enclosing) for i, value in enumerate(structure))
        finally:
            del enclosing[id(structure)]
    raise TypeError("Leaves of the structure passed to zip() must be Datasets, not primitives. "
                    f"(got {type(structure).__name__} at datasets{where})")


def _fill(template, values):
    if template is _LEAF:
        return next(values)
    if isinstance(template, dict):
        return {key: _fill(part, values) for key, part in template.items()}
    return tuple(_fill(part, values) for part in template)
