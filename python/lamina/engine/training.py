"""The training loop behind model.fit, evaluate, predict and train_on_batch (TF.js semantics).

Read `fit` top to bottom: check the data, split off validation rows, configure the
callbacks, then for each epoch shuffle, run the batches (each one a call to
`optimizer.minimize` on the tape) and validate after the last batch. The model supplies
`_forward(x, training)`, its compiled loss and metrics, its trainable variables, its
regularization penalties and its constraints; everything else lives here.

>>> import lamina as lm
>>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[1])])
>>> model.compile(optimizer=lm.train.sgd(0.1), loss="meanSquaredError")
>>> history = model.fit([[0.0], [1.0]], [[1.0], [3.0]], epochs=3, verbose=0)
>>> list(history.history), history.epoch
(['loss'], [0, 1, 2])
"""

import contextlib
import math
import numbers
import time

import numpy as np

from lamina import optimizers
from lamina._suggest import did_you_mean
from lamina.callbacks import BaseLogger, History, configure_callbacks
from lamina.engine import data_checks
from lamina.engine import fused as _fused
from lamina.engine.data_checks import NOT_COMPILED, NotCompiledError
from lamina.ops import add, mean, mul, reshape
from lamina.ops.tape import no_grad
from lamina.random import generator
from lamina.tensor import Tensor

__all__ = ["get_optimizer", "fit", "evaluate", "predict", "train_on_batch", "test_on_batch", "make_batches"]

# TF.js's optimizer strings (tfjs-layers/src/optimizers.ts getOptimizer): both spellings it
# accepts, each with the hyperparameters compile gives it. 'momentum' has no string.
_OPTIMIZERS = {
    "sgd": lambda: optimizers.sgd(0.01),
    "adam": lambda: optimizers.adam(0.001, 0.9, 0.999, optimizers.EPSILON),
    "rmsprop": lambda: optimizers.rmsprop(0.001, 0.9, 0.0, optimizers.EPSILON),
    "adagrad": lambda: optimizers.adagrad(0.01),
    "adadelta": lambda: optimizers.adadelta(1.0, 0.95, optimizers.EPSILON),
    "adamax": lambda: optimizers.adamax(0.002, 0.9, 0.999, optimizers.EPSILON, 0.0),
}
_OPTIMIZER_NAMES = {"sgd": "sgd", "SGD": "sgd", "adam": "adam", "Adam": "adam", "rmsprop": "rmsprop",
                    "RMSProp": "rmsprop", "adagrad": "adagrad", "Adagrad": "adagrad",
                    "adadelta": "adadelta", "Adadelta": "adadelta", "adamax": "adamax", "Adamax": "adamax"}


def get_optimizer(identifier):
    """A new optimizer for a TF.js optimizer string, or `identifier` itself if it is one.

    >>> get_optimizer("adam").get_config()
    {'learningRate': 0.001, 'beta1': 0.9, 'beta2': 0.999, 'epsilon': 1e-07}
    >>> get_optimizer("momentum")
    Traceback (most recent call last):
    ...
    ValueError: Unknown Optimizer momentum. Valid optimizers: sgd, SGD, adam, Adam, rmsprop, RMSProp, adagrad, Adagrad, adadelta, Adadelta, adamax, Adamax (or an optimizer made with lm.train, e.g. lm.train.momentum(0.01, 0.9))
    """
    if isinstance(identifier, optimizers.Optimizer):
        return identifier
    if isinstance(identifier, str):
        if identifier in _OPTIMIZER_NAMES:
            return _OPTIMIZERS[_OPTIMIZER_NAMES[identifier]]()
        raise ValueError(f"Unknown Optimizer {identifier}.{did_you_mean(identifier, _OPTIMIZER_NAMES)} "
                         f"Valid optimizers: {', '.join(_OPTIMIZER_NAMES)} "
                         "(or an optimizer made with lm.train, e.g. lm.train.momentum(0.01, 0.9))")
    raise TypeError("User-defined optimizer must be an instance of tf.Optimizer (lm.train.*), "
                    f"got {type(identifier).__name__}")


def make_batches(samples, batch_size):
    """(start, end) of each batch: consecutive slices, the last one smaller (TF.js makeBatches).

    >>> make_batches(70, 32)
    [(0, 32), (32, 64), (64, 70)]
    """
    return [(start, min(start + batch_size, samples)) for start in range(0, samples, batch_size)]


def _require_compiled(model):
    if not model._compiled:
        # A loaded model says why it came back uncompiled (set by lm.load_layers_model).
        reason = getattr(model, "_uncompiled_reason", None)
        raise NotCompiledError(NOT_COMPILED if reason is None else f"{NOT_COMPILED} {reason}")


def _require_trainable(model):
    """TF.js's variableGrads error, raised before training starts, when the model has
    nothing to train (model.trainable = False, every layer frozen, or no weights)."""
    collected = model._collected_trainable_weights()
    if not any(weight.trainable for weight in collected):
        raise ValueError("variableGrads() expects at least one of the input variables to be trainable, but none "
                         f"of the {len(collected)} variables is trainable. (The model has nothing to train: "
                         "set model.trainable = True, or a layer's trainable = True, then compile it again.)")


def _check_validation_split(validation_split):
    """validation_split as a float in [0, 1). TF.js ignores other values silently, but a
    split of 1 or more (or a negative one) is never what a user means."""
    if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real):
        raise TypeError(f"validation_split must be a number in [0, 1) (the fraction of the rows, taken from "
                        f"the end, kept for validation), got {validation_split!r}")
    if not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1) (the fraction of the rows, taken from the end, kept "
                         f"for validation), got {validation_split!r}")
    return float(validation_split)


def _count(value, argument, minimum=0):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{argument} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _standardize_xy(model, x, y, check_batch_axis):
    """x and y as float32 arrays the model accepts, with TF.js's checks in TF.js's order."""
    x = data_checks.standardize(x, model.input_names[0], model._input_batch_shape(), check_batch_axis, "input")
    output_shape = model._output_shape()
    expected_y = data_checks.target_shape(output_shape, model._loss_fn)
    y = data_checks.standardize(y, model.output_names[0], expected_y, check_batch_axis, "target")
    data_checks.check_array_lengths(x, y)
    data_checks.check_loss_and_target_compatibility(y, model._loss_fn, output_shape)
    return x, y


def _sample_weights(y, class_weight, sample_weight):
    """Per-sample loss weights [n] from class_weight and/or sample_weight (their product), or None."""
    weights = None
    if class_weight is not None:
        weights = data_checks.class_weight_to_sample_weight(y, class_weight)
    if sample_weight is not None:
        given = data_checks.check_sample_weight(sample_weight, y.shape[0])
        weights = given if weights is None else weights * given
    return weights


def _weighted(per_sample, weights):
    """per_sample loss × one weight per sample (broadcast over any further axes)."""
    if weights is None:
        return per_sample
    shape = [weights.shape[0]] + [1] * (per_sample.rank - 1)
    return mul(per_sample, reshape(weights, shape))


# ---------------------------------------------------------------- one step

def _train_step(model, x, y, weights):
    """One optimizer step on a batch; returns [loss, metric values...] as floats.

    The loss minimised is mean(per-sample loss × weight) + the layers' penalties (TF.js
    makeTrainFunction); metrics come from the same forward pass, before the update.
    """
    x, y = Tensor._wrap(x), Tensor._wrap(y)
    weights = None if weights is None else Tensor._wrap(weights)
    metric_values = []

    def total_loss():
        y_pred = model._forward(x, training=True)
        loss = mean(_weighted(model._loss_fn(y, y_pred), weights))
        with no_grad():  # metrics are reported, never differentiated
            metric_values[:] = [mean(fn(y, y_pred)) for _, fn in model._metric_fns]
        for penalty in model._regularization_losses():
            loss = add(loss, penalty)
        return loss

    cost = model.optimizer.minimize(total_loss, return_cost=True, var_list=model._trainable_variables())
    model._apply_constraints()
    return [cost.item()] + [value.item() for value in metric_values]


def _test_batch(model, x, y, weights=None):
    """[loss, metrics...] means over one batch (numpy arrays), as a float64 numpy vector.

    No dropout (training=False), nothing recorded, no regularization penalties (TF.js
    makeTestFunction).
    """
    runner = _fused.inference_runner(model, x, len(x), y, weights) if len(x) else None
    if runner is not None:
        return runner.evaluate_batch(x, y, weights)
    with no_grad():
        xb, yb = Tensor._wrap(x), Tensor._wrap(y)
        wb = None if weights is None else Tensor._wrap(weights)
        y_pred = model._forward(xb, training=False)
        values = [mean(_weighted(model._loss_fn(yb, y_pred), wb))]
        values += [mean(fn(yb, y_pred)) for _, fn in model._metric_fns]
        return np.array([v.item() for v in values])


def _test_loop(model, x, y, batch_size, weights=None):
    """[loss, metrics...] over all of x: batch means weighted by batch size (TF.js testLoop)."""
    totals = np.zeros(1 + len(model._metric_fns))
    samples = x.shape[0]
    batches = make_batches(samples, batch_size)
    runner = _fused.inference_runner(model, x, batch_size, y, weights) if samples else None
    if runner is not None:  # runs of batches, one call each
        for first, stop in _runs(len(batches)):
            start, end = batches[first][0], batches[stop - 1][1]
            run_weights = None if weights is None else weights[start:end]
            values = runner.evaluate_batches(x[start:end], y[start:end], run_weights, batch_size)
            totals += values.T @ np.array([e - s for s, e in batches[first:stop]], np.float64)
    else:
        for start, end in batches:
            wb = None if weights is None else weights[start:end]
            totals += _test_batch(model, x[start:end], y[start:end], wb) * (end - start)
    return [float(v) for v in totals / samples] if samples else [math.nan] * len(totals)


# ---------------------------------------------------------------- fit

def fit(model, x, y, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
        validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0):
    """Trains `model` on x, y (see Sequential.fit); returns the History."""
    _require_compiled(model)
    with _training_session(model):
        batch_size = data_checks.check_batch_size(batch_size)
        epochs = _count(epochs, "epochs")
        initial_epoch = _count(initial_epoch, "initial_epoch")
        validation_split = _check_validation_split(validation_split)
        if shuffle == "batch":
            raise NotImplementedError("batch shuffling is not implemented yet")
        _require_trainable(model)

        x, y = _standardize_xy(model, x, y, check_batch_axis=False)
        if x.shape[0] == 0:  # TF.js returns an empty history; a user never means it
            raise ValueError(f"x and y have 0 rows (x has shape {list(x.shape)}): fit needs at least one sample")
        weights = _sample_weights(y, class_weight, sample_weight)  # on the full y, as TF.js
        validation = None
        if validation_data is not None:
            x_val, y_val = data_checks.validation_pair(validation_data)
            validation = _standardize_xy(model, x_val, y_val, check_batch_axis=True)
        elif validation_split > 0:
            # The last rows, taken once before any shuffling (TF.js).
            split_at = math.floor(x.shape[0] * (1 - validation_split))
            if split_at == 0:
                raise ValueError(f"validation_split={validation_split} of {x.shape[0]} rows leaves no row to "
                                 "train on; use a smaller split or more data")
            validation = (x[split_at:], y[split_at:])
            x, y = x[:split_at], y[:split_at]
            weights = None if weights is None else weights[:split_at]

        labels = list(model.metrics_names)
        params = {"epochs": epochs, "initial_epoch": initial_epoch, "samples": x.shape[0], "steps": None,
                  "batch_size": batch_size, "verbose": verbose, "do_validation": validation is not None,
                  "metrics": labels + (["val_" + label for label in labels] if validation else [])}
        callback_list, history = configure_callbacks(callbacks, model, verbose, params)
        model.history = history
        _fit_loop(model, x, y, weights, validation, labels, batch_size, epochs, initial_epoch,
                  bool(shuffle), callback_list)
        return history


@contextlib.contextmanager
def _training_session(model):
    """Marks `model` as training while the block runs: one fit (or fit_dataset) at a time, as
    TF.js; afterwards stop_training is cleared so the next fit starts afresh."""
    if model._is_training:
        raise RuntimeError("Cannot start training because another fit() call is ongoing.")
    model._is_training = True
    try:
        yield
    finally:
        model._is_training = False
        model._stop_training = False


def _fit_loop(model, x, y, weights, validation, labels, batch_size, epochs, initial_epoch, shuffle,
              callback_list):
    """TF.js's fitLoop: callbacks in its order, validation inside the last batch of each epoch."""
    callback_list.on_train_begin({})
    model._stop_training = False  # after on_train_begin, as TF.js: setting it there is ignored
    order = np.arange(x.shape[0])
    rng = generator()
    # The fused path runs runs of batches per C++ call when no callback follows batch events
    # (fit's own progress logger is told after each run).
    progress = _batch_followers(callback_list)
    for epoch in range(initial_epoch, epochs):
        callback_list.on_epoch_begin(epoch, {})
        epoch_logs = {}
        if shuffle:
            rng.shuffle(order)  # Fisher–Yates on the previous epoch's order, as TF.js
        # Asked each epoch (a callback may have changed the model); and a stop asked for at
        # epoch begin still lets one batch train, as in the batch-by-batch loop.
        runner = _fused.training_runner(model, x, y, weights, batch_size) if progress is not False else None
        if runner is not None and not model._stop_training:
            _fused_epoch(model, runner, x, y, weights, order, batch_size, validation, labels, epoch_logs,
                         progress)
        else:
            _batch_epoch(model, x, y, weights, order, batch_size, validation, labels, epoch_logs,
                         callback_list)
        callback_list.on_epoch_end(epoch, epoch_logs)
        if model._stop_training:
            break
    callback_list.on_train_end({})


def _batch_epoch(model, x, y, weights, order, batch_size, validation, labels, epoch_logs, callback_list):
    """One epoch batch by batch, each between its callbacks; a stop asked for ends it after
    the batch it was asked in (then without validation)."""
    batches = make_batches(len(order), batch_size)
    train_step = _TrainSteps(model)
    for index, (start, end) in enumerate(batches):
        batch_logs = {}
        callback_list.on_batch_begin(index, batch_logs)  # empty logs at batch begin, as TF.js
        rows = order[start:end]
        batch_logs["batch"] = index
        batch_logs["size"] = end - start
        batch_weights = None if weights is None else weights[rows]
        outs = train_step(x[rows], y[rows], batch_weights)
        batch_logs.update(zip(labels, outs))
        if index == len(batches) - 1 and validation is not None:
            # Written first, so val_ keys lead the epoch logs and the history (TF.js's order).
            val_outs = _test_loop(model, validation[0], validation[1], batch_size)
            epoch_logs.update(("val_" + label, value) for label, value in zip(labels, val_outs))
        callback_list.on_batch_end(index, batch_logs)
        if model._stop_training:
            break


def _batch_followers(callback_list):
    """Who must see the batches as they are trained: False when a callback other than fit's
    own follows batch events (the batches then go one by one); else the ProgressLogger, which
    takes them in runs (ProgressLogger.on_batches_end), or None. BaseLogger's batch
    averages are made by the fused epoch itself; History and epoch-only callbacks
    (EarlyStopping, epoch checkpoints, ...) see nothing but epoch events either way."""
    from lamina.engine.progress import ProgressLogger  # progress imports the callbacks

    progress = [c for c in callback_list.callbacks if type(c) is ProgressLogger]
    others = [c for c in callback_list.callbacks
              if type(c) not in (BaseLogger, History, ProgressLogger) and c._follows_batches()]
    if others or len(progress) > 1:
        return False
    return progress[0] if progress else None


# A run of batches per fused call: about this long, so that Ctrl-C (raised by Python once the
# call returns) lands within a run, the progress bar moves several times a second, and a stop
# asked for from another thread is seen soon, while the calls stay few.
_RUN_SECONDS = 0.05


def _batch_logs(batches, index, labels, values):
    """The logs of batch `index` as the tape loop writes them: batch, size, then the values."""
    start, end = batches[index]
    logs = {"batch": index, "size": end - start}
    logs.update(zip(labels, (float(v) for v in values)))
    return logs


def _runs(count, first=8):
    """(start, stop) runs over range(count), each sized from the last so that the work the
    caller does between two of them takes about _RUN_SECONDS.

    >>> list(_runs(3, first=2))[0]
    (0, 2)
    """
    done, run = 0, first
    while done < count:
        run = min(run, count - done)
        began = time.perf_counter()
        yield done, done + run
        done += run
        elapsed = time.perf_counter() - began
        run = max(1, min(4096, int(run * _RUN_SECONDS / max(elapsed, 1e-6))))


def _fused_runs(model, runner, x, y, weights, order, batch_size, batches, labels, progress):
    """Trains `batches` (of rows of `order`) in runs of about _RUN_SECONDS each, telling
    `progress` (when given) after each run but the last, until all are trained or
    model.stop_training is set (by another thread); ([batches done, 1 + metrics] per-batch
    values, the last run's number of batches)."""
    results = []
    for first, stop in _runs(len(batches)):
        rows = order[batches[first][0]:batches[stop - 1][1]]
        results.append(runner.train_epoch(x, y, weights, rows, batch_size))
        if stop < len(batches) and model._stop_training:
            break
        if stop < len(batches) and progress is not None:
            progress.on_batches_end(stop - first, _batch_logs(batches, stop - 1, labels, results[-1][-1]))
    return np.concatenate(results), len(results[-1])


def _fused_epoch(model, runner, x, y, weights, order, batch_size, validation, labels, epoch_logs,
                 progress=None):
    """One epoch on the fused trainer, in runs of batches; epoch_logs as the batch-by-batch
    loop's callbacks would write them (val_ keys first, then BaseLogger's size-weighted
    batch means, summed in its order). A stop asked for from another thread ends the epoch
    after the current run, without validation, as the batch-by-batch loop does."""
    batches = make_batches(len(order), batch_size)
    if not batches:
        return
    per_batch, last_run = _fused_runs(model, runner, x, y, weights, order, batch_size, batches, labels, progress)
    done = len(per_batch)
    if validation is not None and done == len(batches):
        val_outs = _test_loop(model, validation[0], validation[1], batch_size)
        epoch_logs.update(("val_" + label, value) for label, value in zip(labels, val_outs))
    if progress is not None:  # the last batch ends after validation, as in the tape loop
        progress.on_batches_end(last_run, _batch_logs(batches, done - 1, labels, per_batch[-1]))
    rows_done = batches[done - 1][1]
    for column, label in enumerate(labels):
        total = 0
        for index, (start, end) in enumerate(batches[:done]):
            total += float(per_batch[index, column]) * (end - start)
        epoch_logs[label] = total / rows_done


class _TrainSteps:
    """One epoch's train steps: on the fused trainer when the model and the batch allow it,
    else on the tape; [loss, metrics...] as floats either way.

    The full eligibility check (and LAMINA_FUSED) is read at the epoch's first batch; later
    batches only check that the plan still describes the model (a callback may have
    recompiled it, replaced its optimizer's state or changed a dropout rate) and is large
    enough for the batch, and that the batch's own arrays and labels suit the fused trainer.
    fit and fit_dataset use it whenever batches go one by one (a callback follows them).
    """

    def __init__(self, model):
        self.model = model
        self.runner = None
        self.asked = False

    def __call__(self, x, y, weights):
        runner = self._runner_for(x, y, weights)
        if runner is not None:
            return runner.train_batch(x, y, weights)
        return _train_step(self.model, x, y, weights)

    def _runner_for(self, x, y, weights):
        if not x.shape[0]:
            return None
        if not self.asked or (self.runner is not None and not self.runner.current(self.model, x.shape[0])):
            self.asked = True
            self.runner = _fused.training_runner(self.model, x, y, weights, x.shape[0])
            return self.runner
        if self.runner is None or not _fused.batch_usable(self.model, x, y, weights):
            return None
        return self.runner


# ---------------------------------------------------------------- evaluate, predict, train_on_batch

def _results(model, values, return_dict):
    """evaluate's and test_on_batch's answer: plain floats, as Keras (and as train_on_batch
    and the logs): the loss alone, [loss, metrics...], or {label: value} with return_dict.
    Each is the float32 value TF.js's scalar Tensor would hold (so the fused and the tape
    paths, which sum in different precisions, give the same numbers)."""
    values = [float(np.float32(v)) for v in values]
    if return_dict:
        return dict(zip(model.metrics_names, values))
    return values[0] if len(values) == 1 else values


def _check_verbose(verbose):
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")


def evaluate(model, x, y, batch_size=32, verbose=0, sample_weight=None, return_dict=False):
    """The loss, or [loss, metrics...] when compiled with metrics, as floats ({label: value}
    with return_dict)."""
    _require_compiled(model)
    batch_size = data_checks.check_batch_size(batch_size)
    _check_verbose(verbose)
    x, y = _standardize_xy(model, x, y, check_batch_axis=True)
    weights = _sample_weights(y, None, sample_weight)
    return _results(model, _test_loop(model, x, y, batch_size, weights), return_dict)


def predict(model, x, batch_size=32, verbose=0):
    """The model's output for x, computed in batches without recording anything or dropout.
    verbose is accepted for Keras's sake: predict prints nothing."""
    batch_size = data_checks.check_batch_size(batch_size)
    _check_verbose(verbose)
    x = data_checks.check_predict_input(x, model.input_names[0], model._input_batch_shape())
    runner = _fused.inference_runner(model, x, batch_size)
    if runner is not None:  # runs of batches, one call each, so that Ctrl-C lands soon
        out = None
        for first, stop in _runs(-(-x.shape[0] // batch_size)):
            part = runner.predict(x[first * batch_size:stop * batch_size])
            if out is None:
                out = np.empty((x.shape[0],) + part.shape[1:], part.dtype)
            out[first * batch_size:first * batch_size + part.shape[0]] = part
        return Tensor._wrap(out if out is not None else runner.predict(x))
    with no_grad():
        batches = make_batches(x.shape[0], batch_size) or [(0, 0)]
        outputs = [model._forward(Tensor._wrap(x[start:end]), training=False)._data for start, end in batches]
    return Tensor._wrap(outputs[0] if len(outputs) == 1 else np.concatenate(outputs))


def train_on_batch(model, x, y, class_weight=None, sample_weight=None):
    """One optimizer step on (x, y) as a single batch; the loss, or [loss, metrics...], as floats."""
    _require_compiled(model)
    _require_trainable(model)
    x, y = _standardize_xy(model, x, y, check_batch_axis=True)
    weights = _sample_weights(y, class_weight, sample_weight)
    runner = _fused.training_runner(model, x, y, weights, x.shape[0]) if x.shape[0] else None
    if runner is not None:
        outs = runner.train_batch(x, y, weights)
    else:
        outs = _train_step(model, x, y, weights)
    return outs[0] if len(outs) == 1 else outs


def test_on_batch(model, x, y, sample_weight=None, return_dict=False):
    """The loss, or [loss, metrics...], on (x, y) as one batch, as floats (Keras test_on_batch):
    no dropout, no update, no regularization penalties."""
    _require_compiled(model)
    x, y = _standardize_xy(model, x, y, check_batch_axis=True)
    weights = _sample_weights(y, None, sample_weight)
    if x.shape[0] == 0:
        raise ValueError("x and y have 0 rows: test_on_batch needs at least one sample")
    return _results(model, _test_batch(model, x, y, weights), return_dict)
