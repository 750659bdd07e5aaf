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

__all__ = ["get_optimizer", "fit", "evaluate", "predict", "train_on_batch", "make_batches"]

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
        raise NotCompiledError(NOT_COMPILED)


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
    if runner is not None:  # every batch in one call
        for values, (start, end) in zip(runner.evaluate_batches(x, y, weights, batch_size), batches):
            totals += values * (end - start)
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
        if shuffle == "batch":
            raise NotImplementedError("batch shuffling is not implemented yet")

        x, y = _standardize_xy(model, x, y, check_batch_axis=False)
        weights = _sample_weights(y, class_weight, sample_weight)  # on the full y, as TF.js
        validation = None
        if validation_data is not None:
            x_val, y_val = data_checks.validation_pair(validation_data)
            validation = _standardize_xy(model, x_val, y_val, check_batch_axis=True)
        elif isinstance(validation_split, numbers.Real) and 0 < validation_split < 1:
            # The last rows, taken once before any shuffling (TF.js; other values are ignored).
            split_at = math.floor(x.shape[0] * (1 - validation_split))
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
    # The fused path runs whole epochs in one C++ call when no callback follows batch events,
    # and runs of batches per call when only fit's own progress logger does.
    progress = _batch_followers(callback_list)
    for epoch in range(initial_epoch, epochs):
        callback_list.on_epoch_begin(epoch, {})
        epoch_logs = {}
        if shuffle:
            rng.shuffle(order)  # Fisher–Yates on the previous epoch's order, as TF.js
        # Asked each epoch (a callback may have changed the model); and a stop asked for at
        # epoch begin still lets one batch train, as in the loop below.
        runner = _fused.training_runner(model, x, y, weights, batch_size) if progress is not False else None
        if runner is not None and not model._stop_training:
            _fused_epoch(model, runner, x, y, weights, order, batch_size, validation, labels, epoch_logs,
                         progress)
            callback_list.on_epoch_end(epoch, epoch_logs)
            continue
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
        callback_list.on_epoch_end(epoch, epoch_logs)
        if model._stop_training:
            break
    callback_list.on_train_end({})


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


# A run of batches per fused call when a progress logger follows them: about this long, so the
# bar moves several times a second while the calls stay few.
_RUN_SECONDS = 0.05


def _batch_logs(batches, index, labels, values):
    """The logs of batch `index` as the tape loop writes them: batch, size, then the values."""
    start, end = batches[index]
    logs = {"batch": index, "size": end - start}
    logs.update(zip(labels, (float(v) for v in values)))
    return logs


def _fused_runs(runner, x, y, weights, order, batch_size, batches, labels, progress):
    """Trains `batches` (of rows of `order`) in runs of about _RUN_SECONDS each, telling
    `progress` after each run but the last; ([batches, 1 + metrics] per-batch values, the
    last run's number of batches)."""
    results, done, run = [], 0, 8
    while done < len(batches):
        run = min(run, len(batches) - done)
        began = time.perf_counter()
        rows = order[batches[done][0]:batches[done + run - 1][1]]
        results.append(runner.train_epoch(x, y, weights, rows, batch_size))
        done += run
        if done < len(batches):
            progress.on_batches_end(run, _batch_logs(batches, done - 1, labels, results[-1][-1]))
        elapsed = time.perf_counter() - began
        run = max(1, min(4096, int(run * _RUN_SECONDS / max(elapsed, 1e-6))))
    return np.concatenate(results), len(results[-1])


def _fused_epoch(model, runner, x, y, weights, order, batch_size, validation, labels, epoch_logs,
                 progress=None):
    """One epoch in one fused call (in runs of calls when a progress logger listens);
    epoch_logs as the tape loop's callbacks would write them (val_ keys first, then
    BaseLogger's size-weighted batch means, summed in its order)."""
    batches = make_batches(len(order), batch_size)
    if not batches:
        return
    if progress is None:
        per_batch = runner.train_epoch(x, y, weights, order, batch_size)
    else:
        per_batch, last_run = _fused_runs(runner, x, y, weights, order, batch_size, batches, labels, progress)
    if validation is not None:
        val_outs = _test_loop(model, validation[0], validation[1], batch_size)
        epoch_logs.update(("val_" + label, value) for label, value in zip(labels, val_outs))
    if progress is not None:  # the last batch ends after validation, as in the tape loop
        progress.on_batches_end(last_run, _batch_logs(batches, len(batches) - 1, labels, per_batch[-1]))
    for column, label in enumerate(labels):
        total = 0
        for index, (start, end) in enumerate(batches):
            total += float(per_batch[index, column]) * (end - start)
        epoch_logs[label] = total / len(order)


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

def evaluate(model, x, y, batch_size=32, verbose=0, sample_weight=None):
    """The loss (a scalar Tensor), or [loss, metrics...] when compiled with metrics."""
    _require_compiled(model)
    batch_size = data_checks.check_batch_size(batch_size)
    x, y = _standardize_xy(model, x, y, check_batch_axis=True)
    weights = _sample_weights(y, None, sample_weight)
    values = _test_loop(model, x, y, batch_size, weights)
    scalars = [Tensor._wrap(np.array(v, np.float32)) for v in values]
    return scalars[0] if len(scalars) == 1 else scalars


def predict(model, x, batch_size=32):
    """The model's output for x, computed in batches without recording anything or dropout."""
    batch_size = data_checks.check_batch_size(batch_size)
    x = data_checks.check_predict_input(x, model.input_names[0], model._input_batch_shape())
    runner = _fused.inference_runner(model, x, batch_size)
    if runner is not None:
        return Tensor._wrap(runner.predict(x))
    with no_grad():
        batches = make_batches(x.shape[0], batch_size) or [(0, 0)]
        outputs = [model._forward(Tensor._wrap(x[start:end]), training=False)._data for start, end in batches]
    return Tensor._wrap(outputs[0] if len(outputs) == 1 else np.concatenate(outputs))


def train_on_batch(model, x, y, class_weight=None, sample_weight=None):
    """One optimizer step on (x, y) as a single batch; the loss, or [loss, metrics...], as floats."""
    _require_compiled(model)
    x, y = _standardize_xy(model, x, y, check_batch_axis=True)
    weights = _sample_weights(y, class_weight, sample_weight)
    runner = _fused.training_runner(model, x, y, weights, x.shape[0]) if x.shape[0] else None
    if runner is not None:
        outs = runner.train_batch(x, y, weights)
    else:
        outs = _train_step(model, x, y, weights)
    return outs[0] if len(outs) == 1 else outs
