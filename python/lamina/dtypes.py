"""The dtypes lamina's tensors hold, named as TF.js names them, and conversion of user data."""

import numpy as np

__all__ = ["DTYPES", "as_numpy_dtype", "dtype_name", "to_array", "upcast"]

DTYPES = ("float32", "int32", "bool")
_NUMPY = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}
_RANK = {"bool": 0, "int32": 1, "float32": 2}


def as_numpy_dtype(dtype, argument="dtype"):
    """Returns the numpy dtype for 'float32', 'int32' or 'bool'.

    >>> as_numpy_dtype("int32")
    <class 'numpy.int32'>
    """
    if dtype not in _NUMPY:
        raise ValueError(f"{argument} must be one of {', '.join(DTYPES)}, got {dtype!r}")
    return _NUMPY[dtype]


def dtype_name(array):
    """The TF.js dtype name of a numpy array lamina holds.

    >>> dtype_name(np.zeros(2, np.float32))
    'float32'
    """
    kind = array.dtype
    if kind == np.float32:
        return "float32"
    if kind == np.int32:
        return "int32"
    if kind == np.bool_:
        return "bool"
    raise TypeError(f"unsupported array dtype {kind}")


def upcast(a, b):
    """The dtype two operands are computed in, as TF.js's upcastType: bool < int32 < float32.

    >>> upcast("int32", "float32")
    'float32'
    """
    return a if _RANK[a] >= _RANK[b] else b


def _infer(array):
    kind = array.dtype.kind
    if kind == "b":
        return "bool"
    if kind in "iu":
        return "int32"
    if kind == "f":
        return "float32"
    raise TypeError(f"values must be numbers or booleans, got an array of {array.dtype}")


def to_array(values, dtype=None, argument="values"):
    """Converts user data (numbers, nested lists, numpy arrays) to a fresh C-contiguous array.

    Without `dtype`: numpy integer arrays become int32, booleans bool, everything else
    float32 (Python numbers and lists are float32, as TF.js treats JS numbers).

    >>> to_array([[1, 2], [3, 4]]).dtype
    dtype('float32')
    >>> to_array(np.arange(3)).dtype
    dtype('int32')
    """
    if isinstance(values, np.ndarray):
        inferred = _infer(values)
    else:
        try:
            probe = np.asarray(values)
        except (ValueError, TypeError) as error:
            raise ValueError(f"{argument} must be a number, a nested list of numbers or an array; {error}") from None
        if probe.dtype == object:
            raise ValueError(f"{argument} must be a rectangular nested list of numbers, got {values!r:.80}")
        if probe.dtype.kind not in "biuf":
            raise TypeError(f"{argument} must hold numbers or booleans, got {probe.dtype}")
        inferred = "bool" if probe.dtype.kind == "b" else "float32"
        values = probe
    target = inferred if dtype is None else dtype
    return np.array(values, dtype=as_numpy_dtype(target), order="C", copy=True)
