"""Tensor (an immutable value) and Variable (a named, trainable, assignable one)."""

import gc
import itertools
import weakref

import numpy as np

from lamina.dtypes import as_numpy_dtype, dtype_name, to_array

__all__ = ["Tensor", "Variable", "tensor", "scalar", "variable", "as_tensor", "tidy", "dispose", "memory"]


class Tensor:
    """An immutable n-dimensional value: float32, int32 or bool, over a numpy array.

    Create one with `lm.tensor`; every op returns a new one.

    >>> import lamina as lm
    >>> t = lm.tensor([[1, 2], [3, 4]])
    >>> t.shape, t.dtype, t.rank, t.size
    ([2, 2], 'float32', 2, 4)
    """

    __slots__ = ("_data", "__weakref__")
    __array_priority__ = 100  # numpy defers to Tensor's operators (ndarray + Tensor -> Tensor)

    def __init__(self, array):
        # Internal: `array` is a C-contiguous float32/int32/bool array nobody else writes.
        self._data = array

    @classmethod
    def _wrap(cls, array):
        """Wraps an op's fresh result (made C-contiguous, read-only) without copying."""
        array = np.asarray(array)  # (np.ascontiguousarray would turn a 0-d array into 1-d)
        if not array.flags.c_contiguous:
            array = np.ascontiguousarray(array)
        if array.flags.writeable:  # views too: a reshaped result must not be writable either
            array.flags.writeable = False
        return cls(array)

    @property
    def shape(self):
        """The shape as a list of ints, as TF.js gives it: `[784, 32]`."""
        return list(self._data.shape)

    @property
    def dtype(self):
        """'float32', 'int32' or 'bool'."""
        return dtype_name(self._data)

    @property
    def rank(self):
        return self._data.ndim

    @property
    def size(self):
        return int(self._data.size)

    def numpy(self):
        """A copy of the values as a numpy array.

        >>> import lamina as lm
        >>> lm.tensor([1, 2]).numpy()
        array([1., 2.], dtype=float32)
        """
        return np.array(self._data, copy=True)

    def data_sync(self):
        """The values, flattened, as a new numpy array (TF.js's dataSync()).

        >>> import lamina as lm
        >>> lm.tensor([[1, 2], [3, 4]]).data_sync()
        array([1., 2., 3., 4.], dtype=float32)
        """
        return np.array(self._data, copy=True).reshape(-1)

    data = data_sync

    def array(self):
        """The values as nested Python lists (a plain number for a scalar).

        >>> import lamina as lm
        >>> lm.tensor([[1, 2]]).array()
        [[1.0, 2.0]]
        """
        return self._data.tolist()

    def array_sync(self):
        """The values as nested Python lists (TF.js's arraySync(); the same as array()).

        >>> import lamina as lm
        >>> lm.tensor([[1, 2]], dtype="int32").array_sync()
        [[1, 2]]
        """
        return self.array()

    def dispose(self):
        """Does nothing: numpy owns a tensor's memory and frees it when the last reference
        goes. Kept so TF.js code that disposes tensors runs unchanged.

        >>> import lamina as lm
        >>> t = lm.tensor([1, 2])
        >>> t.dispose()
        >>> t.array()
        [1.0, 2.0]
        """

    def item(self):
        """The value of a one-element tensor as a Python number.

        >>> import lamina as lm
        >>> lm.scalar(3).item()
        3.0
        """
        if self._data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self._data.reshape(-1)[0].item()

    def __array__(self, dtype=None, copy=None):
        if dtype is not None:
            return self._data.astype(dtype)
        return self._data if copy is False else self._data.copy()

    def __len__(self):
        if self.rank == 0:
            raise TypeError("len() of a scalar tensor")
        return self._data.shape[0]

    def __bool__(self):
        if self._data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.size} elements is ambiguous; "
                "use lm.any / lm.all or compare element-wise")
        return bool(self._data.reshape(-1)[0])

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def to_string(self, verbose=False):
        """TF.js's text form of a tensor: `Tensor\\n    [[1, 2],\\n     [3, 4]]`."""
        from lamina.tensor_format import tensor_to_string

        return tensor_to_string(self._data, self.dtype, verbose)

    def print(self, verbose=False):
        """Prints the tensor as TF.js's `tensor.print()` does.

        >>> import lamina as lm
        >>> lm.tensor([[1, 2], [3, 4]]).print()
        Tensor
            [[1, 2],
             [3, 4]]
        """
        print(self.to_string(verbose))

    def __repr__(self):
        return self.to_string()

    __str__ = __repr__

    # Hashing by identity keeps tensors usable as dict keys and set members (the tape relies
    # on it); == is element-wise, as in TF.js and numpy, and is defined with the other ops.
    __hash__ = object.__hash__


_variable_ids = itertools.count()

# Every live Variable by name, as TF.js's ENGINE.registeredVariables: optimizers'
# apply_gradients receives gradients by variable name and finds the variables here.
live_variables = weakref.WeakValueDictionary()


class Variable(Tensor):
    """A tensor whose value can change: model weights and anything an optimizer updates.

    Its buffer stays the same array for its whole life (`assign` copies into it), so the C++
    kernels can update it in place.

    >>> import lamina as lm
    >>> v = lm.variable(lm.zeros([2]), name="bias")
    >>> v.assign(lm.tensor([1, 2]))
    >>> v.name, v.trainable, v.array()
    ('bias', True, [1.0, 2.0])
    """

    __slots__ = ("name", "trainable")

    def __init__(self, initial, trainable=True, name=None, dtype=None):
        if isinstance(initial, Tensor):
            array = initial._data.astype(as_numpy_dtype(dtype), copy=True) if dtype else initial._data.copy()
        else:
            array = to_array(initial, dtype, argument="initial")
        if name is None:
            name = str(next(_variable_ids))
        elif not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type(name).__name__}")
        elif name in live_variables:
            # As TF.js: gradients and optimizer state are keyed by name, so two live variables
            # with one name would get each other's updates.
            raise ValueError(f"Variable with name {name} was already registered")
        if not isinstance(trainable, bool):
            raise TypeError(f"trainable must be a bool, got {type(trainable).__name__}")
        super().__init__(array)  # a fresh C-contiguous copy, which this Variable owns
        self.name = name
        self.trainable = trainable
        live_variables[name] = self

    def assign(self, value):
        """Replaces the value; `value` must have the same shape and dtype.

        >>> import lamina as lm
        >>> v = lm.variable(lm.zeros([2, 2]))
        >>> v.assign(lm.zeros([3]))
        Traceback (most recent call last):
        ...
        ValueError: assign: value must have shape [2, 2] (the variable's), got shape [3]
        """
        if isinstance(value, Tensor):
            array = value._data
        else:
            array = to_array(value, self.dtype, argument="value")
        if list(array.shape) != self.shape:
            raise ValueError(f"assign: value must have shape {self.shape} (the variable's), got shape {list(array.shape)}")
        if dtype_name(array) != self.dtype:
            raise ValueError(f"assign: value must have dtype {self.dtype} (the variable's), got {dtype_name(array)}")
        np.copyto(self._data, array)

    def __repr__(self):
        return f"Variable {self.name!r}\n" + self.to_string()

    __str__ = __repr__


def tensor(values, shape=None, dtype=None):
    """Creates a tensor from numbers, nested lists, a numpy array or another tensor.

    float64 data becomes float32; Python numbers default to float32 (as JS numbers do in
    TF.js); numpy integer arrays become int32. `shape` reshapes the values.

    >>> import lamina as lm
    >>> lm.tensor([1, 2, 3, 4], shape=[2, 2]).shape
    [2, 2]
    >>> lm.tensor([1, 2], dtype="int32").dtype
    'int32'
    """
    if isinstance(values, Tensor):
        array = values._data.astype(as_numpy_dtype(dtype), copy=True) if dtype else values._data.copy()
    else:
        array = to_array(values, dtype)
    if shape is not None:
        shape = list(shape)
        if int(np.prod(shape, dtype=np.int64)) != array.size:
            raise ValueError(
                f"shape {shape} has {int(np.prod(shape, dtype=np.int64))} elements but values has {array.size}")
        array = array.reshape(shape)
    return Tensor._wrap(array)


def scalar(value, dtype=None):
    """Creates a rank-0 tensor.

    >>> import lamina as lm
    >>> lm.scalar(2.5).rank
    0
    """
    array = to_array(value, dtype)
    if array.ndim != 0:
        raise ValueError(f"scalar() needs a single number, got shape {list(array.shape)}")
    return Tensor._wrap(array)


def variable(initial, trainable=True, name=None, dtype=None):
    """Creates a Variable (TF.js's tf.variable); unnamed ones are named "0", "1", ...

    >>> import lamina as lm
    >>> w = lm.variable(lm.ones([2, 3]), name="w")
    >>> w.shape
    [2, 3]
    """
    return Variable(initial, trainable=trainable, name=name, dtype=dtype)


def as_tensor(value, argument="x", dtype=None):
    """Returns `value` as a Tensor (converting numbers, lists and arrays), for op inputs.

    >>> import lamina as lm
    >>> lm.as_tensor([1, 2]).dtype
    'float32'
    """
    if isinstance(value, Tensor):
        return value
    if value is None or isinstance(value, (str, bytes, dict)):
        raise TypeError(f"{argument} must be a Tensor, a number, a list or a numpy array, got {type(value).__name__}")
    return Tensor._wrap(to_array(value, dtype, argument=argument))


# TF.js's memory management, for code translated from it. numpy owns every tensor's memory and
# frees it when the last reference goes, so there is nothing to release by hand.

def tidy(name_or_fn, fn=None):
    """Runs fn() and returns its result (TF.js tf.tidy). In TF.js it frees the tensors fn made;
    here Python's reference counting already does, so tidy only calls fn. tidy(name, fn) also works.

    >>> import lamina as lm
    >>> lm.tidy(lambda: lm.tensor([1, 2]).square()).array()
    [1.0, 4.0]
    """
    if fn is None:
        fn = name_or_fn
    elif not isinstance(name_or_fn, str):
        raise TypeError(f"name_or_fn passed to tidy(name, fn) must be a str, got {type(name_or_fn).__name__}")
    if not callable(fn):
        raise TypeError(f"tidy() needs a function to run, got {type(fn).__name__}")
    return fn()


def dispose(container):
    """Does nothing (TF.js tf.dispose): numpy frees a tensor's memory when the last reference
    to it goes. Accepts a tensor or any structure of them, as TF.js does.

    >>> import lamina as lm
    >>> lm.dispose([lm.tensor([1]), {"b": lm.tensor([2])}])
    """


def memory():
    """How many tensors are alive and their bytes (TF.js tf.memory(), keys in snake_case).

    Counted now, by walking the live objects: num_tensors (Tensors and Variables),
    num_data_buffers (distinct numpy buffers: views share one) and num_bytes (their size).
    `unreliable` is True, as on TF.js's cpu backend: a tensor nothing refers to any more may
    still be counted until the garbage collector runs.

    >>> import lamina as lm
    >>> before = lm.memory()["num_tensors"]
    >>> t = lm.zeros([4])
    >>> lm.memory()["num_tensors"] - before, sorted(lm.memory())
    (1, ['num_bytes', 'num_data_buffers', 'num_tensors', 'reasons', 'unreliable'])
    """
    tensors = [o for o in gc.get_objects() if isinstance(o, Tensor)]
    buffers = {}
    for t in tensors:
        base = t._data
        while isinstance(base.base, np.ndarray):
            base = base.base
        buffers[id(base)] = base.nbytes
    return {"num_tensors": len(tensors), "num_data_buffers": len(buffers), "num_bytes": sum(buffers.values()),
            "unreliable": True,
            "reasons": ["numpy owns tensor memory and frees it when the last reference goes; tensors "
                        "waiting for the garbage collector are still counted"]}
