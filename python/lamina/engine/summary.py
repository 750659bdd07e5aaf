"""model.summary(): TF.js's table (tfjs-layers/src/utils/layer_utils.ts printSummary), character for character.

A Sequential model prints four columns — name (type), input shape, output shape, parameter
count — in a 90-character table with columns starting at 0, 28, 54 and 80; shapes are
printed as JSON.stringify prints them (`[null,784]`, the input shapes as a list of shapes).
"""

import json
import math

__all__ = ["print_summary", "format_row"]

HEADERS = ["Layer (type)", "Input Shape", "Output shape", "Param #"]
LINE_LENGTH = 90
POSITIONS = [0.32, 0.61, 0.89, 1]


def _json(value):
    return json.dumps(value, separators=(",", ":"))


def format_row(fields, positions):
    """One table row as TF.js's printRow makes it: each field cut to end one space before the next column.

    >>> format_row(["batch_normalization_BatchNormalization2 (BatchNormalization)", "[[null,3]]"], [28, 54])
    'batch_normalization_BatchNo [[null,3]]                '
    """
    line = ""
    for i, field in enumerate(fields):
        if i > 0:
            line = line[:-1] + " "  # the last character of a full column gives way to a space
        line = (line + str(field))[:positions[i]]
        line += " " * (positions[i] - len(line))
    return line


def _absolute_positions(positions, line_length):
    if positions[-1] <= 1:  # fractions of the line, as TF.js accepts them
        return [math.floor(line_length * p) for p in positions]
    return [int(p) for p in positions]


def _check_layout(line_length, positions):
    if isinstance(line_length, bool) or not isinstance(line_length, int) or line_length <= 0:
        raise ValueError(f"line_length must be a positive int, got {line_length!r}")
    if (not isinstance(positions, (list, tuple)) or len(positions) != len(HEADERS)
            or not all(isinstance(p, (int, float)) and not isinstance(p, bool) and p > 0 for p in positions)
            or list(positions) != sorted(positions)):
        raise ValueError(f"positions must be {len(HEADERS)} increasing positive numbers (fractions of the line "
                         f"when the last is <= 1), got {positions!r}")


def _count(weights):
    return sum(math.prod(w.shape) for w in weights)


def print_summary(model, line_length=None, positions=None, print_fn=print):
    """Prints `model`'s summary table through print_fn, one line per call.

    `model` gives `layers` and, per layer, its input and output shapes through
    `model._layer_shapes()` and its parameter count through `layer.count_params()`.

    >>> import lamina as lm
    >>> model = lm.sequential(layers=[lm.layers.dense(units=4, input_shape=[3], name="hidden")])
    >>> print_summary(model, line_length=60)
    ____________________________________________________________
    Layer (type)       Input Shape     Output shape    Param #
    ============================================================
    hidden (Dense)     [[null,3]]      [null,4]        16
    ============================================================
    Total params: 16
    Trainable params: 16
    Non-trainable params: 0
    ____________________________________________________________
    """
    line_length = LINE_LENGTH if line_length is None else line_length
    positions = POSITIONS if positions is None else positions
    _check_layout(line_length, positions)
    positions = _absolute_positions(positions, line_length)
    if not callable(print_fn):
        raise TypeError(f"print_fn must be callable, got {type(print_fn).__name__}")

    print_fn("_" * line_length)
    print_fn(format_row(HEADERS, positions))
    print_fn("=" * line_length)
    rows = list(zip(model.layers, model._layer_shapes()))
    for i, (layer, (input_shape, output_shape)) in enumerate(rows):
        name = f"{layer.name} ({layer.class_name})"
        print_fn(format_row([name, _json([input_shape]), _json(output_shape), layer.count_params()], positions))
        print_fn(("=" if i == len(rows) - 1 else "_") * line_length)

    # TF.js counts a model's collectedTrainableWeights when it has them; a Sequential never
    # does (its compile sets them on an inner model), so its summary follows
    # model.trainable_weights, and a model frozen after compile shows as frozen.
    trainable = _count(model.trainable_weights)
    non_trainable = _count(model.non_trainable_weights)
    print_fn(f"Total params: {trainable + non_trainable}")
    print_fn(f"Trainable params: {trainable}")
    print_fn(f"Non-trainable params: {non_trainable}")
    print_fn("_" * line_length)
