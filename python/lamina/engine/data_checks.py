"""The checks fit, evaluate and predict run on their data before training, with TF.js's texts.

Every function here takes user data (a Tensor, a numpy array or nested lists) or plain
numbers and either returns it standardised (a float32 numpy array of rank >= 2) or raises
a ValueError / TypeError worded as TF.js words it (tfjs-layers/src/engine/training.ts
`standardizeInputData`, `checkArrayLengths`, `checkLossAndTargetCompatibility`,
`checkInputData`, training_utils.ts `standardizeWeights`), so a message found in a TF.js
forum answers the same question here.

>>> import numpy as np
>>> standardize(np.zeros([4, 3]), "dense_Dense1_input", [None, 5], prefix="input")
Traceback (most recent call last):
...
ValueError: input expected a batch of elements where each example has shape [5] (i.e.,tensor shape [*,5]) but the input received an input with 4 examples, each with shape [3] (tensor shape [4,3])
"""

import json
import numbers

import numpy as np

from lamina import losses as _losses
from lamina.dtypes import to_array
from lamina.tensor import Tensor

__all__ = [
    "NotCompiledError", "as_float_array", "standardize", "check_array_lengths",
    "check_loss_and_target_compatibility", "check_batch_size", "check_predict_input",
    "validation_pair", "class_weight_to_sample_weight", "check_sample_weight", "target_shape",
]

NOT_COMPILED = "The model needs to be compiled before being used."


class NotCompiledError(RuntimeError):
    """fit/evaluate on a model that was never compiled (TF.js's RuntimeError).

    >>> raise NotCompiledError(NOT_COMPILED)
    Traceback (most recent call last):
    ...
    lamina.engine.data_checks.NotCompiledError: The model needs to be compiled before being used.
    """


def _shape_text(shape):
    """A shape as JS prints an array in a template string: `10,28,28` (null shows empty)."""
    return ",".join("" if d is None else str(d) for d in shape)


def _json(shape):
    """A shape as JSON.stringify prints it: `[null,784]`."""
    return json.dumps(list(shape), separators=(",", ":"))


def as_float_array(data, argument):
    """User data as a float32 numpy array (float64 and integers become float32).

    A Tensor's values and a float32 C-contiguous numpy array are used without copying (fit
    only reads them: batches are gathered into fresh arrays); anything else is converted once.

    >>> as_float_array([[1, 2]], "x").dtype
    dtype('float32')
    >>> as_float_array(None, "x")
    Traceback (most recent call last):
    ...
    TypeError: x must be a Tensor, a numpy array or a nested list of numbers, got None
    """
    if isinstance(data, Tensor):
        array = data._data
        return array if array.dtype == np.float32 else array.astype(np.float32)
    if isinstance(data, np.ndarray) and data.dtype == np.float32 and data.flags.c_contiguous:
        return data
    if data is None or isinstance(data, (str, bytes, dict, set)) or isinstance(data, numbers.Number):
        shown = "None" if data is None else type(data).__name__
        raise TypeError(f"{argument} must be a Tensor, a numpy array or a nested list of numbers, got {shown}")
    return to_array(data, "float32", argument=argument)


def _single(data, name, prefix):
    """The one array from TF.js's accepted forms: the data, [data], or {name: data}."""
    if isinstance(data, dict):
        if name not in data:
            raise ValueError(f'No data provided for "{name}". Need data for each key in: {name}')
        return data[name]
    if isinstance(data, (list, tuple)) and data and all(isinstance(d, (Tensor, np.ndarray)) for d in data):
        if len(data) != 1:
            shapes = ",".join(f"Tensor with shape [{_shape_text(np.shape(d))}]" for d in data)
            raise ValueError(
                f"Error when checking model {prefix}: the Array of Tensors that you are passing to your "
                "model is not the size the model expected. Expected to see 1 Tensor(s), but instead got "
                f"the following list of Tensor(s): {shapes}")
        return data[0]
    return data


def _batch_axis_hint(given_shape, expected_shape, taker):
    """Why a shape mismatch happened when x is one example without its batch axis (x[0]
    passed for x), or a 1-D x meets a model whose examples have several features.

    >>> _batch_axis_hint((64,), [None, 64], "predict")
    '. The input (shape [64]) has no batch axis: predict takes a batch of rows, e.g. x[None] or x.reshape(1, -1)'
    >>> _batch_axis_hint((10,), [None, 64], "fit")
    '. A 1-D input (shape [10]) is read as one feature per example; the model takes examples of shape [64], so x must have shape [samples, 64]'
    """
    example = list(expected_shape[1:])
    one_example = len(given_shape) == len(example) and all(
        expected is None or dim == expected for dim, expected in zip(given_shape, example))
    if one_example:
        reshape = " or x.reshape(1, -1)" if len(example) == 1 else ""
        return (f". The input (shape [{_shape_text(given_shape)}]) has no batch axis: {taker} takes "
                f"a batch of rows, e.g. x[None]{reshape}")
    if len(given_shape) == 1 and example not in ([1], [None]):
        return (f". A 1-D input (shape [{_shape_text(given_shape)}]) is read as one feature per example; "
                f"the model takes examples of shape [{_shape_text(example)}], so x must have shape "
                f"[samples, {_shape_text(example)}]")
    return ""


def standardize(data, name, expected_shape, check_batch_axis=False, prefix="input"):
    """`data` as a float32 array of the expected rank and shape (TF.js standardizeInputData).

    Rank-1 data becomes a column ([n] -> [n, 1]), as TF.js's ensureTensorsRank2OrHigher.
    `expected_shape` has None for any size (the batch axis); `prefix` is 'input' or 'target'.

    >>> standardize([1, 2, 3], "dense_Dense1", [None, 1], prefix="target").shape
    (3, 1)
    >>> standardize(np.zeros([10, 28, 28]), "dense_Dense1_input", [None, 784])
    Traceback (most recent call last):
    ...
    ValueError: Error when checking input: expected dense_Dense1_input to have 2 dimension(s). but got array with shape 10,28,28
    """
    array = as_float_array(_single(data, name, prefix), "x" if prefix == "input" else "y")
    if array.ndim == 0:
        raise ValueError("Expected tensor to be at least 1D, but received a 0D tensor (scalar).")
    given_shape = array.shape
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if expected_shape is None:
        return array
    # TF.js's texts, then for x the likely cause: one example passed without its batch axis.
    hint = _batch_axis_hint(given_shape, expected_shape, "the model") if prefix == "input" else ""
    if array.ndim != len(expected_shape):
        raise ValueError(f"Error when checking {prefix}: expected {name} to have {len(expected_shape)} "
                         f"dimension(s). but got array with shape {_shape_text(array.shape)}{hint}")
    for axis, (dim, expected) in enumerate(zip(array.shape, expected_shape)):
        if axis == 0 and not check_batch_axis:
            continue
        if expected is not None and dim != expected:
            example = _shape_text(expected_shape[1:])
            # For y, what a Python user most often meant: class indices as labels.
            if prefix == "target" and array.shape[1:] == (1,) and expected_shape[-1] not in (None, 1):
                hint = (". For integer class labels use the loss 'sparseCategoricalCrossentropy', "
                        "or one-hot encode them (lm.one_hot)")
            raise ValueError(
                f"{prefix} expected a batch of elements where each example has shape [{example}] "
                f"(i.e.,tensor shape [*,{example}]) but the {prefix} received an input with "
                f"{array.shape[0]} examples, each with shape [{_shape_text(array.shape[1:])}] "
                f"(tensor shape [{_shape_text(array.shape)}]){hint}")
    return array


def target_shape(output_shape, loss_fn):
    """The shape fit expects of y: the output's, or [.., 1] for sparse categorical cross-entropy.

    >>> import lamina as lm
    >>> target_shape([None, 10], lm.losses.get("sparseCategoricalCrossentropy"))
    [None, 1]
    """
    if loss_fn is _losses.layers.sparse_categorical_crossentropy:
        return list(output_shape[:-1]) + [1]
    return list(output_shape)


def check_array_lengths(x, y):
    """x and y must have one row per sample each (TF.js checkArrayLengths).

    >>> check_array_lengths(np.zeros([10, 2]), np.zeros([7, 1]))
    Traceback (most recent call last):
    ...
    ValueError: Input Tensors should have the same number of samples as target Tensors. Found 10 input sample(s) and 7 target sample(s).
    """
    if x.shape[0] != y.shape[0]:
        raise ValueError("Input Tensors should have the same number of samples as target Tensors. "
                         f"Found {x.shape[0]} input sample(s) and {y.shape[0]} target sample(s).")


def check_loss_and_target_compatibility(y, loss_fn, output_shape):
    """TF.js's checkLossAndTargetCompatibility, for the losses that need y shaped as the output.

    >>> import lamina as lm
    >>> cce = lm.losses.get("categoricalCrossentropy")
    >>> check_loss_and_target_compatibility(np.zeros([4, 1]), cce, [None, 1])
    Traceback (most recent call last):
    ...
    ValueError: You are passing a target array of shape 4,1 while using a loss 'categorical_crossentropy'. 'categorical_crossentropy'expects targets to be binary matrices (1s and 0s) of shape [samples, classes].
    """
    layers = _losses.layers
    if loss_fn is layers.categorical_crossentropy and y.shape[-1] == 1:
        raise ValueError(
            f"You are passing a target array of shape {_shape_text(y.shape)} while using a loss "
            "'categorical_crossentropy'. 'categorical_crossentropy'expects targets to be binary "
            "matrices (1s and 0s) of shape [samples, classes].")
    if loss_fn in (layers.mean_squared_error, layers.binary_crossentropy, layers.categorical_crossentropy):
        for target_dim, output_dim in zip(y.shape[1:], output_shape[1:]):
            if output_dim is not None and target_dim != output_dim:
                raise ValueError(
                    f"A target Tensor with shape {_shape_text(y.shape)} was passed for an output of "
                    f"shape {_shape_text(output_shape)}, while using a loss function that expects "
                    "targets to have the same shape as the output.")


def check_batch_size(batch_size):
    """batch_size must be a positive integer (TF.js checkBatchSize); returns it as an int.

    >>> check_batch_size(0)
    Traceback (most recent call last):
    ...
    ValueError: batch_size is required to be a positive integer, but got 0
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size <= 0:
        raise ValueError(f"batch_size is required to be a positive integer, but got {batch_size!r}")
    return int(batch_size)


def check_predict_input(data, name, expected_shape):
    """predict's input as a float32 array of the model's input shape (TF.js checkInputData).

    Its messages differ from fit's, as TF.js's do: the whole expected shape is printed.

    >>> check_predict_input(np.zeros([3, 100]), "dense_Dense1_input", [None, 784])
    Traceback (most recent call last):
    ...
    ValueError: Error when checking : expected dense_Dense1_input to have shape [null,784] but got array with shape [3,100].
    """
    array = as_float_array(_single(data, name, ""), "x")
    if array.ndim == 0:
        raise ValueError("Expected tensor to be at least 1D, but received a 0D tensor (scalar).")
    given_shape = array.shape
    if array.ndim == 1:
        array = array.reshape(-1, 1)  # TF.js's predict expands [784] to [784, 1] too
    # TF.js's texts, then the likely cause: one example passed without its batch axis.
    hint = _batch_axis_hint(given_shape, expected_shape, "predict")
    if array.ndim != len(expected_shape):
        raise ValueError(f"Error when checking : expected {name} to have {len(expected_shape)} dimension(s), "
                         f"but got array with shape {_json(array.shape)}{hint}")
    for axis, (dim, expected) in enumerate(zip(array.shape, expected_shape)):
        if axis > 0 and expected is not None and dim != expected:
            raise ValueError(f"Error when checking : expected {name} to have shape {_json(expected_shape)} "
                             f"but got array with shape {_json(array.shape)}{hint or '.'}")
    return array


def validation_pair(validation_data):
    """(x_val, y_val) from fit's validation_data, which must hold exactly two items.

    >>> validation_pair([[1, 2]])
    Traceback (most recent call last):
    ...
    ValueError: When passing validation data, it must contain 2 (x_val, y_val) or 3 (x_val, y_val, val_sample_weight) items; a list of 1 item(s) is invalid.
    """
    if not isinstance(validation_data, (list, tuple)):
        raise TypeError("validation_data must be a pair (x_val, y_val), got "
                        f"{type(validation_data).__name__}")
    if len(validation_data) == 3:
        raise NotImplementedError("validation_data including sample weights is not supported yet.")
    if len(validation_data) != 2:
        raise ValueError("When passing validation data, it must contain 2 (x_val, y_val) or 3 (x_val, y_val, "
                         f"val_sample_weight) items; a list of {len(validation_data)} item(s) is invalid.")
    return validation_data[0], validation_data[1]


def _class_indices(y):
    """Each sample's class: y itself if one column, else the argmax of its one-hot row."""
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    if y.ndim == 2:
        return np.rint(y[:, 0]).astype(np.int64)
    raise ValueError(f"class_weight needs targets of rank 1 or 2, got shape [{_shape_text(y.shape)}]")


def class_weight_to_sample_weight(y, class_weight):
    """Per-sample weights [n] from {class index: weight} (TF.js standardizeWeights).

    >>> class_weight_to_sample_weight(np.array([[1, 0], [0, 1], [0, 1]]), {0: 1, 1: 3})
    array([1., 3., 3.], dtype=float32)
    >>> class_weight_to_sample_weight(np.array([[0.0], [2.0]]), {0: 1, 1: 3})
    Traceback (most recent call last):
    ...
    ValueError: class_weight must contain all classes in the training data. The class 2 exists in the data but not in class_weight
    """
    if isinstance(class_weight, (list, tuple)):
        class_weight = dict(enumerate(class_weight))
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be a dict {{class index: weight}}, got {type(class_weight).__name__}")
    classes = _class_indices(y)
    weights = np.empty(len(classes), np.float32)
    for c in np.unique(classes):
        if int(c) not in class_weight:
            raise ValueError("class_weight must contain all classes in the training data. "
                             f"The class {int(c)} exists in the data but not in class_weight")
        weights[classes == c] = class_weight[int(c)]
    return weights


def check_sample_weight(sample_weight, samples):
    """sample_weight as a float32 vector [samples] (lamina's addition; TF.js lacks it).

    >>> check_sample_weight([1, 2], 3)
    Traceback (most recent call last):
    ...
    ValueError: sample_weight must have one weight per sample: shape [3], got shape [2]
    """
    weights = as_float_array(sample_weight, "sample_weight")
    if weights.ndim == 2 and weights.shape[1] == 1:
        weights = weights[:, 0]
    if weights.shape != (samples,):
        raise ValueError(f"sample_weight must have one weight per sample: shape [{samples}], "
                         f"got shape [{_shape_text(weights.shape)}]")
    return weights
