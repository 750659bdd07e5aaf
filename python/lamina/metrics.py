"""Metrics: what `model.compile(metrics=[...])` resolves and `fit` logs.

Each metric is a function (y_true, y_pred) -> Tensor with one value per sample (reduced
over the last axis); the trainer takes the batch mean, as TF.js does
(tfjs-layers/src/metrics.ts). `precision` and `recall` are the exception, as in TF.js:
they count over the whole batch and return one scalar (whose mean is itself).

The crossentropies and mse/mae/mape/cosine are the Layers losses themselves
(`lm.losses.layers`), the same function objects, so a metric given as a function gets
TF.js's name for it ('meanSquaredError' for `lm.metrics.mse`).

`resolve(identifier, loss_fn, output_shape)` turns one entry of compile's `metrics` list
into (log label, function) with TF.js's rules, and `dedupe_names(labels)` renames
repeated labels as TF.js does.

>>> import lamina as lm
>>> lm.metrics.categorical_accuracy([[0, 1], [1, 0]], [[0.3, 0.7], [0.4, 0.6]]).array()
[1.0, 0.0]
>>> label, fn = lm.metrics.resolve("accuracy", lm.losses.get("categoricalCrossentropy"), [None, 10])
>>> label, fn is lm.metrics.categorical_accuracy
('acc', True)
"""

import numbers
import re

import numpy as np

from lamina._public import public_dir
from lamina import losses as _losses
from lamina._suggest import did_you_mean
from lamina.losses import layers as _layer_losses
from lamina.tensor import Tensor, as_tensor

__all__ = [
    "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "precision", "recall", "r2_score",
    "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "cosine_proximity", "mse", "mae", "mape", "cosine", "MSE", "MAE", "MAPE",
    "get", "resolve", "get_loss_or_metric_name", "dedupe_names",
]
__dir__ = public_dir(__all__)  # dir() lists the public names only


# --- argument handling -----------------------------------------------------------------

def _values(y, argument):
    """A metric argument's values as a numpy array (metrics have no gradient to keep)."""
    return as_tensor(y, argument)._data


def _same_shape(y_true, y_pred, metric):
    """Both arguments as numpy arrays of one shape with at least one axis."""
    y_true, y_pred = _values(y_true, "y_true"), _values(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{metric}: y_true and y_pred must have the same shape, got y_true "
                         f"{list(y_true.shape)} and y_pred {list(y_pred.shape)}")
    if y_pred.ndim == 0:
        raise ValueError(f"{metric}: y_true and y_pred need at least one axis (the metric "
                         "reduces over the last one), got scalars")
    return y_true, y_pred


def _class_indices(y_true, y_pred, metric):
    """Sparse labels [batch] or [batch, 1] checked against y_pred [batch, classes]."""
    y_true, y_pred = _values(y_true, "y_true"), _values(y_pred, "y_pred")
    if y_pred.ndim == 0:
        raise ValueError(f"{metric}: y_pred needs a class axis, got a scalar")
    if y_true.ndim == y_pred.ndim:  # TF.js squeezes a trailing axis of size 1
        if y_true.shape[-1] != 1:
            raise ValueError(f"{metric}: y_true must hold one class index per sample, shape "
                             f"{list(y_pred.shape[:-1])} or {list(y_pred.shape[:-1]) + [1]}, "
                             f"got {list(y_true.shape)}")
        y_true = y_true[..., 0]
    if y_true.shape != y_pred.shape[:-1]:
        raise ValueError(f"{metric}: y_true must hold one class index per sample, shape "
                         f"{list(y_pred.shape[:-1])} or {list(y_pred.shape[:-1]) + [1]}, "
                         f"got {list(y_true.shape)}")
    return y_true, y_pred


def _float32(values):
    return Tensor._wrap(np.asarray(values, dtype=np.float32))


def _positive_int(k, argument, metric):
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"{metric}: {argument} must be a positive integer, got {k!r}")
    return int(k)


# --- accuracies ------------------------------------------------------------------------

def binary_accuracy(y_true, y_pred):
    """Fraction of entries where (y_pred > 0.5) equals y_true, over the last axis.

    Strictly greater: a prediction of exactly 0.5 counts as class 0 (TF.js binaryAccuracy).

    >>> import lamina as lm
    >>> lm.metrics.binary_accuracy([[1, 0], [1, 1]], [[0.7, 0.5], [0.5, 0.9]]).array()
    [1.0, 0.5]
    """
    y_true, y_pred = _same_shape(y_true, y_pred, "binaryAccuracy")
    predicted = (y_pred > 0.5).astype(y_true.dtype)
    return _float32(np.mean(y_true == predicted, axis=-1))


def categorical_accuracy(y_true, y_pred):
    """1 where argmax(y_true) == argmax(y_pred) over the last axis, else 0.

    On ties the first maximum wins, as in TF.js: [0.5, 0.5] predicts class 0.

    >>> import lamina as lm
    >>> lm.metrics.categorical_accuracy([[1, 0], [0, 1]], [[0.5, 0.5], [0.5, 0.5]]).array()
    [1.0, 0.0]
    """
    y_true, y_pred = _same_shape(y_true, y_pred, "categoricalAccuracy")
    return _float32(np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1))


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where the class index y_true equals argmax(y_pred), else 0.

    y_true has shape [batch] or [batch, 1] (TF.js squeezes the last axis) against y_pred
    [batch, classes].

    >>> import lamina as lm
    >>> lm.metrics.sparse_categorical_accuracy([[1], [0]], [[0.2, 0.8], [0.3, 0.7]]).array()
    [1.0, 0.0]
    """
    y_true, y_pred = _class_indices(y_true, y_pred, "sparseCategoricalAccuracy")
    return _float32(y_true == np.argmax(y_pred, axis=-1))


def _in_top_k(targets, y_pred, k):
    """Whether each target class is among the k highest predictions. Like Keras's in_top_k,
    predictions tied with the target's do not push it out: it is in when fewer than k
    classes score strictly higher."""
    target_scores = np.take_along_axis(y_pred, targets[..., None].astype(np.intp), axis=-1)
    higher = np.sum(y_pred > target_scores, axis=-1)
    return _float32(higher < k)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where the true class (argmax of y_true) is among the k highest predictions.

    TF.js declares this metric but throws NotImplementedError; lamina follows Keras
    (ties with the true class's score count in its favour). To use another k in compile,
    pass a function: `metrics=[lambda t, p: lm.metrics.top_k_categorical_accuracy(t, p, k=2)]`.

    >>> import lamina as lm
    >>> lm.metrics.top_k_categorical_accuracy([[0, 0, 1]], [[0.5, 0.3, 0.2]], k=2).array()
    [0.0]
    >>> lm.metrics.top_k_categorical_accuracy([[0, 1, 0]], [[0.5, 0.3, 0.2]], k=2).array()
    [1.0]
    """
    k = _positive_int(k, "k", "topKCategoricalAccuracy")
    y_true, y_pred = _same_shape(y_true, y_pred, "topKCategoricalAccuracy")
    return _in_top_k(np.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """top_k_categorical_accuracy with class indices as y_true ([batch] or [batch, 1]).

    >>> import lamina as lm
    >>> lm.metrics.sparse_top_k_categorical_accuracy([2, 1], [[0.5, 0.3, 0.2]] * 2, k=2).array()
    [0.0, 1.0]
    """
    k = _positive_int(k, "k", "sparseTopKCategoricalAccuracy")
    y_true, y_pred = _class_indices(y_true, y_pred, "sparseTopKCategoricalAccuracy")
    classes = y_pred.shape[-1]
    indices = np.floor(y_true)
    if np.any((indices < 0) | (indices >= classes)):
        raise ValueError(f"sparseTopKCategoricalAccuracy: y_true must hold class indices in "
                         f"[0, {classes}), got {y_true.reshape(-1).tolist()}")
    return _in_top_k(indices, y_pred, k)


# --- precision and recall --------------------------------------------------------------

def _confusion_counts(y_true, y_pred, metric):
    """True positives, false positives and false negatives over the whole batch. As in
    TF.js, only exact values count: a prediction is positive when it equals 1 and negative
    when it equals 0 (threshold probabilities yourself first)."""
    y_true, y_pred = _same_shape(y_true, y_pred, metric)
    true_positive = np.sum((y_true == 1) & (y_pred == 1))
    false_positive = np.sum((y_true == 0) & (y_pred == 1))
    false_negative = np.sum((y_true == 1) & (y_pred == 0))
    return true_positive, false_positive, false_negative


def _ratio_or_zero(numerator, denominator):
    return _float32(numerator / denominator if denominator > 0 else 0.0)


def precision(y_true, y_pred):
    """tp / (tp + fp) over the whole batch (0 when nothing is predicted positive): a scalar.

    Entries count only when exactly 0 or 1, as in TF.js.

    >>> import lamina as lm
    >>> lm.metrics.precision([[0, 0, 1], [0, 0, 1], [1, 0, 0], [0, 1, 0]],
    ...                      [[0, 0, 1], [1, 0, 0], [1, 0, 0], [0, 1, 0]]).item()
    0.75
    """
    true_positive, false_positive, _ = _confusion_counts(y_true, y_pred, "precision")
    return _ratio_or_zero(true_positive, true_positive + false_positive)


def recall(y_true, y_pred):
    """tp / (tp + fn) over the whole batch (0 when there are no positives): a scalar.

    Entries count only when exactly 0 or 1, as in TF.js.

    >>> import lamina as lm
    >>> round(lm.metrics.recall([1, 0, 1, 0, 0, 0, 1], [0, 0, 1, 1, 1, 1, 0]).item(), 6)
    0.333333
    """
    true_positive, _, false_negative = _confusion_counts(y_true, y_pred, "recall")
    return _ratio_or_zero(true_positive, true_positive + false_negative)


# --- regression ------------------------------------------------------------------------

def r2_score(y_true, y_pred):
    """The coefficient of determination over the whole batch: a scalar (TF.js r2Score).

    1 - sum((y_true - y_pred)^2) / sum((y_true - mean(y_true))^2), with the sums and the mean
    taken over every entry together (not column by column) and no epsilon, as TF.js: a
    constant y_true gives -inf or NaN. As a compile metric ('r2Score' or 'r2_score') the
    epoch value is the size-weighted mean of the batches' scores, not the score of the
    whole epoch's rows.

    >>> import lamina as lm
    >>> round(lm.metrics.r2_score([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]).item(), 4)
    0.9486
    """
    y_true, y_pred = _same_shape(y_true, y_pred, "r2Score")
    y_true, y_pred = y_true.astype(np.float32), y_pred.astype(np.float32)
    residual = np.sum(np.square(y_true - y_pred))
    total = np.sum(np.square(y_true - np.mean(y_true)))
    with np.errstate(divide="ignore", invalid="ignore"):  # TF.js divides by zero too
        return _float32(np.float32(1) - residual / total)


# --- the Layers losses, as metrics (the same objects) -----------------------------------

binary_crossentropy = _layer_losses.binary_crossentropy
categorical_crossentropy = _layer_losses.categorical_crossentropy
sparse_categorical_crossentropy = _layer_losses.sparse_categorical_crossentropy
mean_squared_error = mse = MSE = _layer_losses.mean_squared_error
mean_absolute_error = mae = MAE = _layer_losses.mean_absolute_error
mean_absolute_percentage_error = mape = MAPE = _layer_losses.mean_absolute_percentage_error
cosine_proximity = cosine = _layer_losses.cosine_proximity


# --- names -----------------------------------------------------------------------------

# TF.js's metricsMap, in its order (the order get_loss_or_metric_name searches).
TFJS_METRICS = {
    "binaryAccuracy": binary_accuracy,
    "categoricalAccuracy": categorical_accuracy,
    "precision": precision,
    "categoricalCrossentropy": categorical_crossentropy,
    "sparseCategoricalCrossentropy": sparse_categorical_crossentropy,
    "mse": mse, "MSE": MSE,
    "mae": mae, "MAE": MAE,
    "mape": mape, "MAPE": MAPE,
    "cosine": cosine,
}

# Metrics lamina accepts as strings beyond TF.js's (which rejects these names as strings).
EXTRA_METRICS = {
    "recall": recall,
    "sparseCategoricalAccuracy": sparse_categorical_accuracy,
    "topKCategoricalAccuracy": top_k_categorical_accuracy,
    "sparseTopKCategoricalAccuracy": sparse_top_k_categorical_accuracy,
    "binaryCrossentropy": binary_crossentropy,
    "r2Score": r2_score,  # TF.js exports tf.metrics.r2Score but its compile does not take the name
}

METRICS = {**TFJS_METRICS, **EXTRA_METRICS}

# compile's special strings: resolved by the loss and the output width, logged as TF.js does.
_ACCURACY = ("accuracy", "acc")
_CROSSENTROPY = ("crossentropy", "ce")


def _snake_case(name):
    """TF.js's toSnakeCase: 'topKCategoricalAccuracy' -> 'top_k_categorical_accuracy',
    'MSE' -> 'mse'."""
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _names():
    """Every string `get` accepts: the metrics above and every Layers loss (Keras lets any
    loss be a metric), in camelCase and snake_case, plus the losses' short aliases."""
    by_name = dict(METRICS)
    for name, fn in _losses.LOSSES.items():
        by_name.setdefault(name, fn)
    for alias, name in _losses.ALIASES.items():
        by_name.setdefault(alias, _losses.LOSSES[name])
    for name, fn in list(by_name.items()):
        by_name.setdefault(_snake_case(name), fn)
    return by_name


_BY_NAME = _names()


def get(identifier):
    """The metric function for a name, or `identifier` itself when it is a function.

    Names: TF.js's ('binaryAccuracy', 'mse', 'MAE', ...), their snake_case forms
    ('binary_accuracy'), lamina's additions ('recall', 'sparseCategoricalAccuracy',
    'topKCategoricalAccuracy', 'binaryCrossentropy', 'r2Score') and every Layers loss name. The
    strings 'accuracy'/'acc' and 'crossentropy'/'ce' depend on the model: use `resolve`.

    >>> import lamina as lm
    >>> lm.metrics.get("MSE") is lm.metrics.get("mse") is lm.losses.layers.mean_squared_error
    True
    >>> lm.metrics.get("binary_accuracy") is lm.metrics.binary_accuracy
    True
    """
    if callable(identifier):
        return identifier
    if not isinstance(identifier, str):
        raise TypeError(f"metric must be a metric name or a function (y_true, y_pred) -> Tensor, "
                        f"got {type(identifier).__name__}")
    if identifier in _BY_NAME:
        return _BY_NAME[identifier]
    hint = did_you_mean(identifier, [*_BY_NAME, *_ACCURACY, *_CROSSENTROPY])
    raise ValueError(f"Unknown metric {identifier}.{hint} Valid metrics: "
                     f"{', '.join(_ACCURACY + _CROSSENTROPY + tuple(METRICS))}, any loss name "
                     f"(e.g. meanSquaredError), or the snake_case form of any of these "
                     f"(e.g. binary_accuracy)")


def get_loss_or_metric_name(fn):
    """TF.js's getLossOrMetricName: a string as given; a function by its first name among
    the Layers losses, then among the metrics, else its `__name__`.

    >>> import lamina as lm
    >>> lm.metrics.get_loss_or_metric_name(lm.metrics.mse)
    'meanSquaredError'
    >>> lm.metrics.get_loss_or_metric_name(lm.metrics.recall)
    'recall'
    >>> def my_metric(y_true, y_pred): return y_pred
    >>> lm.metrics.get_loss_or_metric_name(my_metric)
    'my_metric'
    """
    if isinstance(fn, str):
        return fn
    if fn is None:
        raise ValueError("Unknown LossOrMetricFn None")
    for table in (_losses.LOSSES, METRICS):
        for name, known in table.items():
            if known is fn:
                return name
    return getattr(fn, "__name__", None) or type(fn).__name__


def _last_dim(output_shape):
    if output_shape is None or len(output_shape) == 0:
        return None
    return output_shape[-1]


def resolve(identifier, loss_fn, output_shape):
    """One entry of compile's `metrics` as (log label, metric function), by TF.js's rules.

    Arguments:
      identifier: a metric name (see `get`), 'accuracy'/'acc', 'crossentropy'/'ce', or a
        function (y_true, y_pred) -> Tensor.
      loss_fn: the model's loss function as `lm.losses.get` returned it (a loss name is
        resolved here too); it is compared by identity.
      output_shape: the model output's shape, e.g. [None, 10] (None if unknown).

    Rules (tfjs-layers training.ts compile):
      - 'accuracy'/'acc' -> label 'acc'; binary_accuracy when the output's last dimension
        is 1 or the loss is binary_crossentropy, else sparse_categorical_accuracy when the
        loss is sparse_categorical_crossentropy, else categorical_accuracy.
      - 'crossentropy'/'ce' -> label 'ce'; binary/sparse/categorical crossentropy by the
        same rule.
      - any other string -> label = the string as given ('MAE' stays 'MAE').
      - a function -> label = get_loss_or_metric_name(fn).
    Unknown names raise ValueError('Unknown metric foo. Valid metrics: ...').

    >>> import lamina as lm
    >>> bce = lm.losses.get("binaryCrossentropy")
    >>> label, fn = lm.metrics.resolve("acc", bce, [None, 3])
    >>> label, fn.__name__
    ('acc', 'binary_accuracy')
    >>> lm.metrics.resolve("ce", "sparseCategoricalCrossentropy", [None, 3])[1].__name__
    'sparse_categorical_crossentropy'
    >>> lm.metrics.resolve(lm.metrics.mae, bce, [None, 1])[0]
    'meanAbsoluteError'
    """
    if isinstance(loss_fn, str):
        loss_fn = _losses.get(loss_fn)
    if isinstance(identifier, str) and identifier in _ACCURACY + _CROSSENTROPY:
        accuracy = identifier in _ACCURACY
        if _last_dim(output_shape) == 1 or loss_fn is _layer_losses.binary_crossentropy:
            fn = binary_accuracy if accuracy else binary_crossentropy
        elif loss_fn is _layer_losses.sparse_categorical_crossentropy:
            fn = sparse_categorical_accuracy if accuracy else sparse_categorical_crossentropy
        else:
            fn = categorical_accuracy if accuracy else categorical_crossentropy
        return ("acc" if accuracy else "ce"), fn
    fn = get(identifier)
    return get_loss_or_metric_name(identifier), fn


def dedupe_names(labels):
    """TF.js's getDedupedMetricsNames: a label that occurs more than once gets `_k` on
    every occurrence, k counting its earlier occurrences (the first gets `_0`).

    >>> import lamina as lm
    >>> lm.metrics.dedupe_names(["loss", "acc", "mse", "acc"])
    ['loss', 'acc_0', 'mse', 'acc_1']
    """
    labels = list(labels)
    deduped = []
    for i, label in enumerate(labels):
        if labels.count(label) > 1:
            label = f"{label}_{labels[:i].count(label)}"
        deduped.append(label)
    return deduped
