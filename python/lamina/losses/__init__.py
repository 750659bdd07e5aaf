"""Losses: TF.js's `tf.losses` (the Core API) and the Layers API losses that compile resolves.

TF.js has two families under similar names, and so does lamina:

- `lm.losses.<name>` are the Core API losses of `tf.losses` (tfjs-core/src/ops/losses),
  with TF.js's arguments in snake_case: they weight the per-element losses and reduce
  them to a scalar by default (`reduction=Reduction.SUM_BY_NONZERO_WEIGHTS`, the mean
  over the non-zero weights). `lm.losses.softmax_cross_entropy(ys, logits)` is the
  guide's training loss.
- `lm.losses.layers.<name>` are the fourteen Layers API losses (tfjs-layers/src/losses.ts)
  that `model.compile(loss=...)` uses: each returns one value per sample (reduced over
  the last axis) and the trainer takes the batch mean. `lm.losses.get(identifier)`
  resolves a name to one of these.

Why two namespaces: `mean_squared_error` names a different function in each family (TF.js
has `tf.losses.meanSquaredError`, reducing with weights, and the Layers loss
`meanSquaredError`, per sample). Keeping the Layers losses in their own submodule lets
both keep TF.js's name, with no prefix or suffix to remember, and lets the function
objects that compile and the metrics compare by identity stay one object per loss.

>>> import lamina as lm
>>> round(lm.losses.softmax_cross_entropy([[1, 0]], [[0, 1]]).item(), 6)
1.313262
>>> lm.losses.get("mse") is lm.losses.layers.mean_squared_error
True
"""

import enum
import re

import numpy as np

from lamina._public import public_dir
from lamina import _core
from lamina._suggest import did_you_mean
from lamina.losses import layers
from lamina.losses.layers import sigmoid_cross_entropy_with_logits
from lamina.ops import (abs as absolute, add, div, log, mean, minimum, mul, neg, relu, square, sub,
                        sum as reduce_sum)
from lamina.ops.tape import result
from lamina.tensor import Tensor, as_tensor

__all__ = [
    "Reduction", "compute_weighted_loss", "softmax_cross_entropy", "sigmoid_cross_entropy",
    "mean_squared_error", "absolute_difference", "log_loss", "hinge_loss", "huber_loss",
    "cosine_distance", "get", "layers",
]
__dir__ = public_dir(__all__)  # dir() lists the public names only


class Reduction(enum.IntEnum):
    """How a Core loss reduces its weighted per-element losses (TF.js's Reduction enum).

    NONE keeps them; MEAN is sum(weighted) / sum(weights); SUM adds them;
    SUM_BY_NONZERO_WEIGHTS (the default) is sum(weighted) / (number of non-zero weights),
    the plain mean when there are no weights.

    >>> import lamina as lm
    >>> lm.losses.absolute_difference([0, 0], [1, 3], reduction=lm.losses.Reduction.SUM).item()
    4.0
    """

    NONE = 0
    MEAN = 1
    SUM = 2
    SUM_BY_NONZERO_WEIGHTS = 3


def _reduction(reduction):
    try:
        return Reduction(reduction)
    except (ValueError, TypeError):
        raise ValueError(f"Unknown reduction: {reduction!r} (expected lm.losses.Reduction.NONE, "
                         "MEAN, SUM or SUM_BY_NONZERO_WEIGHTS)") from None


def _label_smoothing(value, op):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{op}: label_smoothing must be a number, got {type(value).__name__}")
    return float(value)


def _float(t):
    return t if t.dtype == "float32" else Tensor._wrap(t._data.astype(np.float32))


def _matching(labels, predictions, op, names):
    """labels and predictions as float32 tensors of the same shape (TF.js's assertShapesMatch)."""
    labels = _float(as_tensor(labels, names[0]))
    predictions = _float(as_tensor(predictions, names[1]))
    if labels.shape != predictions.shape:
        raise ValueError(f"Error in {op}: Shapes {labels.shape} and {predictions.shape} must match "
                         f"({names[0]} and {names[1]})")
    return labels, predictions


def compute_weighted_loss(losses, weights=None, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Weights per-element losses and reduces them (TF.js tf.losses.computeWeightedLoss).

    `weights` is a number or a tensor that broadcasts to the shape of `losses`.

    >>> import lamina as lm
    >>> lm.losses.compute_weighted_loss([1, 2, 3], [1, 0, 1]).item()
    2.0
    >>> lm.losses.compute_weighted_loss([1, 2, 3], [1, 0, 1], reduction=lm.losses.Reduction.MEAN).item()
    2.0
    >>> lm.losses.compute_weighted_loss([1, 2, 3], 0.5, reduction=lm.losses.Reduction.MEAN).item()
    2.0
    """
    reduction = _reduction(reduction)
    losses = _float(as_tensor(losses, "losses"))
    if weights is None:
        weighted = losses
    else:
        weights = _float(as_tensor(weights, "weights"))
        try:
            fits = np.broadcast_shapes(weights._data.shape, losses._data.shape) == losses._data.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"weights of shape {weights.shape} must broadcast to the shape of "
                             f"the losses, {losses.shape}")
        weighted = mul(losses, weights)
    if reduction == Reduction.NONE:
        return weighted
    if reduction == Reduction.SUM:
        return reduce_sum(weighted)
    if weights is None:  # MEAN and SUM_BY_NONZERO_WEIGHTS are both the plain mean
        return mean(weighted)
    if reduction == Reduction.MEAN:
        per_weight = div(reduce_sum(weighted), reduce_sum(weights))
        # A weight that broadcasts over several losses counts once per loss it covers.
        spread = losses.size / max(weights.size, 1)
        return div(per_weight, spread) if spread > 1 else per_weight
    nonzero = np.count_nonzero(np.broadcast_to(weights._data, losses._data.shape))
    return div(reduce_sum(weighted), np.float32(nonzero))


def softmax_cross_entropy(onehot_labels, logits, weights=None, label_smoothing=0,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Softmax cross-entropy of logits against (one-hot or soft) labels, over the last axis,
    then weighted and reduced (TF.js tf.losses.softmaxCrossEntropy).

    With label_smoothing s > 0 the labels become labels·(1 - s) + s / classes. Pass
    logits, not probabilities: the softmax is taken here. Computed by the fused C++ kernel,
    which gives the logits' gradient in the same pass.

    >>> import lamina as lm
    >>> round(lm.losses.softmax_cross_entropy([[1, 0], [0, 1]], [[0, 1], [0, 1]]).item(), 6)
    0.813262
    """
    labels, logits = _matching(onehot_labels, logits, "softmaxCrossEntropy", ("onehot_labels", "logits"))
    if logits.rank == 0:
        raise ValueError("softmaxCrossEntropy: logits need a class axis, got a scalar")
    if _label_smoothing(label_smoothing, "softmaxCrossEntropy") > 0:
        classes = labels.shape[-1]  # TF.js takes shape[1]: the same for [batch, classes]
        labels = add(mul(labels, 1 - label_smoothing), label_smoothing / classes)
    return compute_weighted_loss(_softmax_cross_entropy_rows(labels, logits), weights, reduction)


def _softmax_cross_entropy_rows(labels, logits):
    """Per-row loss from the C++ kernel, recorded with the dlogits it computed alongside."""
    classes = logits.shape[-1]
    rows_logits = np.ascontiguousarray(logits._data.reshape(-1, classes), dtype=np.float32)
    rows_labels = np.ascontiguousarray(labels._data.reshape(-1, classes), dtype=np.float32)
    loss, dlogits = _core.softmax_cross_entropy(rows_logits, rows_labels)

    def backward(dy):
        dloss = dy.reshape(-1, 1)
        # d loss / d labels = -log softmax(logits), the true gradient (TF.js's custom
        # gradient gives labels - softmax(logits) here, which is not).
        shifted = rows_logits - rows_logits.max(axis=1, keepdims=True)
        log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return ((-log_softmax * dloss).reshape(labels._data.shape),
                (dlogits * dloss).reshape(logits._data.shape))

    return result(loss.reshape(logits.shape[:-1]), (labels, logits), backward)


def sigmoid_cross_entropy(multi_class_labels, logits, weights=None, label_smoothing=0,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Element-wise sigmoid cross-entropy of logits against labels in [0, 1], weighted and
    reduced (TF.js tf.losses.sigmoidCrossEntropy). With label_smoothing s > 0 the labels
    become labels·(1 - s) + s / 2.

    >>> import lamina as lm
    >>> round(lm.losses.sigmoid_cross_entropy([1, 0], [0, 0]).item(), 6)
    0.693147
    """
    labels, logits = _matching(multi_class_labels, logits, "sigmoidCrossEntropy",
                               ("multi_class_labels", "logits"))
    if _label_smoothing(label_smoothing, "sigmoidCrossEntropy") > 0:
        labels = add(mul(labels, 1 - label_smoothing), 0.5 * label_smoothing)
    return compute_weighted_loss(sigmoid_cross_entropy_with_logits(labels, logits), weights, reduction)


def mean_squared_error(labels, predictions, weights=None, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """(labels - predictions)², weighted and reduced (TF.js tf.losses.meanSquaredError; the
    per-sample Layers loss is lm.losses.layers.mean_squared_error).

    >>> import lamina as lm
    >>> lm.losses.mean_squared_error([1, 2], [2, 4]).item()
    2.5
    """
    labels, predictions = _matching(labels, predictions, "meanSquaredError", ("labels", "predictions"))
    return compute_weighted_loss(square(sub(labels, predictions)), weights, reduction)


def absolute_difference(labels, predictions, weights=None, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """|labels - predictions|, weighted and reduced (TF.js tf.losses.absoluteDifference).

    >>> import lamina as lm
    >>> lm.losses.absolute_difference([1, 2], [2, 4]).item()
    1.5
    """
    labels, predictions = _matching(labels, predictions, "absoluteDifference", ("labels", "predictions"))
    return compute_weighted_loss(absolute(sub(labels, predictions)), weights, reduction)


def log_loss(labels, predictions, weights=None, epsilon=1e-7, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """-labels·log(predictions + ε) - (1 - labels)·log(1 - predictions + ε), weighted and
    reduced (TF.js tf.losses.logLoss).

    >>> import lamina as lm
    >>> round(lm.losses.log_loss([1, 0], [0.5, 0.5]).item(), 6)
    0.693147
    """
    labels, predictions = _matching(labels, predictions, "logLoss", ("labels", "predictions"))
    positive = neg(mul(labels, log(add(predictions, epsilon))))
    negative = mul(sub(1, labels), log(add(sub(1, predictions), epsilon)))
    return compute_weighted_loss(sub(positive, negative), weights, reduction)


def hinge_loss(labels, predictions, weights=None, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """max(0, 1 - (2·labels - 1)·predictions) for labels in {0, 1}, weighted and reduced
    (TF.js tf.losses.hingeLoss).

    >>> import lamina as lm
    >>> lm.losses.hinge_loss([1, 0], [0.5, 0.5]).item()
    1.0
    """
    labels, predictions = _matching(labels, predictions, "hingeLoss", ("labels", "predictions"))
    signs = sub(mul(2, labels), 1)
    return compute_weighted_loss(relu(sub(1, mul(signs, predictions))), weights, reduction)


def huber_loss(labels, predictions, weights=None, delta=1.0, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """0.5·e² where e = |predictions - labels| <= delta, else delta·(e - delta/2); weighted
    and reduced (TF.js tf.losses.huberLoss).

    >>> import lamina as lm
    >>> lm.losses.huber_loss([0, 0], [0.5, 3]).item()
    1.3125
    """
    labels, predictions = _matching(labels, predictions, "huberLoss", ("labels", "predictions"))
    error = absolute(sub(predictions, labels))
    quadratic = minimum(error, delta)
    linear = sub(error, quadratic)
    return compute_weighted_loss(add(mul(0.5, square(quadratic)), mul(delta, linear)), weights, reduction)


def cosine_distance(labels, predictions, axis, weights=None, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """1 - sum(labels·predictions, axis) (inputs expected unit-normalised), weighted and
    reduced (TF.js tf.losses.cosineDistance; the axis is kept with size 1).

    >>> import lamina as lm
    >>> lm.losses.cosine_distance([[1, 0], [0, 1]], [[1, 0], [1, 0]], axis=1).item()
    0.5
    """
    labels, predictions = _matching(labels, predictions, "cosineDistance", ("labels", "predictions"))
    if axis is None:
        raise ValueError("cosineDistance: axis is required (the axis the vectors lie along)")
    return compute_weighted_loss(sub(1, reduce_sum(mul(labels, predictions), axis, keep_dims=True)),
                                 weights, reduction)


# The Layers losses by TF.js name (the only strings TF.js's losses.get accepts).
LOSSES = {
    "meanSquaredError": layers.mean_squared_error,
    "meanAbsoluteError": layers.mean_absolute_error,
    "meanAbsolutePercentageError": layers.mean_absolute_percentage_error,
    "meanSquaredLogarithmicError": layers.mean_squared_logarithmic_error,
    "squaredHinge": layers.squared_hinge,
    "hinge": layers.hinge,
    "categoricalHinge": layers.categorical_hinge,
    "logcosh": layers.logcosh,
    "categoricalCrossentropy": layers.categorical_crossentropy,
    "sparseCategoricalCrossentropy": layers.sparse_categorical_crossentropy,
    "binaryCrossentropy": layers.binary_crossentropy,
    "kullbackLeiblerDivergence": layers.kullback_leibler_divergence,
    "poisson": layers.poisson,
    "cosineProximity": layers.cosine_proximity,
}

# Keras's short names (TF.js exports these as functions but its losses.get rejects them
# as strings; lamina accepts them, as Keras users expect).
ALIASES = {
    "mse": "meanSquaredError", "MSE": "meanSquaredError",
    "mae": "meanAbsoluteError", "MAE": "meanAbsoluteError",
    "mape": "meanAbsolutePercentageError", "MAPE": "meanAbsolutePercentageError",
    "msle": "meanSquaredLogarithmicError", "MSLE": "meanSquaredLogarithmicError",
    "kld": "kullbackLeiblerDivergence", "KLD": "kullbackLeiblerDivergence",
    "kl_divergence": "kullbackLeiblerDivergence",
    "log_cosh": "logcosh",
    "cosine": "cosineProximity",
}


def _snake_case(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


_BY_NAME = dict(LOSSES)
_BY_NAME.update({_snake_case(name): fn for name, fn in LOSSES.items()})
_BY_NAME.update({alias: LOSSES[name] for alias, name in ALIASES.items()})


def get(identifier):
    """The Layers loss for a name, or `identifier` itself when it is a function.

    Names: TF.js camelCase ('meanSquaredError'), Keras snake_case ('mean_squared_error')
    and the short aliases ('mse', 'mae', 'mape', 'msle', 'kld', 'cosine', ...).

    >>> import lamina as lm
    >>> lm.losses.get("categoricalCrossentropy") is lm.losses.get("categorical_crossentropy")
    True
    >>> lm.losses.get("mae")([[1, 2]], [[2, 4]]).array()
    [1.5]
    """
    if callable(identifier):
        return identifier
    if not isinstance(identifier, str):
        raise TypeError(f"loss must be a loss name or a function, got {type(identifier).__name__}")
    if identifier in _BY_NAME:
        return _BY_NAME[identifier]
    hint = did_you_mean(identifier, _BY_NAME)
    if "softmaxcrossentropy" in identifier.lower().replace("_", ""):
        hint = ' Use "categoricalCrossentropy" as the string name for tf.losses.softmaxCrossEntropy.'
    raise ValueError(f"Unknown loss {identifier}.{hint} Valid losses: {', '.join(LOSSES)} (or in snake_case, e.g. "
                     f"mean_squared_error), or the aliases {', '.join(ALIASES)}")
