"""Callbacks: code that `fit` runs at the start and end of training, epochs and batches.

A callback is a `Callback` subclass, or TF.js's dict-of-functions form with snake_case keys
(`{"on_batch_end": lambda batch, logs: ...}`), or a list of either. `fit` calls
`configure_callbacks`, which puts them in TF.js's order (tfjs-layers base_callbacks.ts):

    BaseLogger (epoch averages), ProgressLogger (verbose 1/2), your callbacks..., History

and every event goes to each in that order. Logs are plain dicts of floats: batch logs
{batch, size, loss, <metrics>}, epoch logs {val_<...>, loss, <metrics>}; the train-begin,
train-end, epoch-begin and batch-begin logs are empty, as in TF.js.

Built-ins: `early_stopping`, `lambda_callback`, `terminate_on_nan`,
`reduce_lr_on_plateau`, `learning_rate_scheduler`, `csv_logger`, `model_checkpoint`.
Callbacks touch the model only through `model.stop_training`, `model.optimizer.learning_rate`,
`model.get_weights()`, `model.set_weights()`, `model.save()` and `model.save_weights()`.

>>> import lamina as lm
>>> class Printer(lm.callbacks.Callback):
...     def on_epoch_end(self, epoch, logs=None):
...         print(epoch, logs)
>>> Printer().on_epoch_end(0, {"loss": 0.5})
0 {'loss': 0.5}
"""

import csv
import math
import numbers
import os
import warnings

import numpy as np

from lamina._public import public_dir

__all__ = [
    "Callback", "CallbackList", "BaseLogger", "History", "HistoryDict", "LambdaCallback", "EarlyStopping",
    "TerminateOnNaN", "ReduceLROnPlateau", "LearningRateScheduler", "CSVLogger",
    "early_stopping", "lambda_callback", "terminate_on_nan", "reduce_lr_on_plateau",
    "learning_rate_scheduler", "csv_logger", "configure_callbacks", "standardize_callbacks",
    "ModelCheckpoint", "model_checkpoint",
]
__dir__ = public_dir(__all__)  # dir() lists the public names only

EVENTS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
          "on_batch_begin", "on_batch_end")

# The keys of the params dict that fit hands every callback (TF.js's, in snake_case).
PARAM_KEYS = ("epochs", "initial_epoch", "samples", "steps", "batch_size", "verbose",
              "do_validation", "metrics")


class Callback:
    """Base class of callbacks: override the events you need; the rest do nothing.

    `fit` sets `params` (the dict of PARAM_KEYS: epochs, initial_epoch, samples, steps,
    batch_size, verbose, do_validation, metrics) and `model` before training begins.

    Override on_batch_begin/on_batch_end only when you need them: while no callback does,
    fit trains whole epochs per call to the fused C++ trainer; one that follows batches makes
    it send every batch to Python (several times slower for small models).

    >>> import lamina as lm
    >>> class CountBatches(lm.callbacks.Callback):
    ...     def on_train_begin(self, logs=None):
    ...         self.batches = 0
    ...     def on_batch_end(self, batch, logs=None):
    ...         self.batches += 1
    >>> counter = CountBatches()
    >>> counter.on_train_begin({}); counter.on_batch_end(0, {"loss": 1.0})
    >>> counter.batches
    1
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def _follows_batches(self):
        """Whether this callback acts on batch events. When none of fit's callbacks does,
        fit may train many batches per call to the fused trainer without sending them (the
        epoch events and logs are unchanged). A subclass that overrides on_batch_begin or
        on_batch_end is taken to follow batches; one whose override may do nothing says so
        by overriding this."""
        cls = type(self)
        return cls.on_batch_begin is not Callback.on_batch_begin or cls.on_batch_end is not Callback.on_batch_end


class CallbackList:
    """Callbacks called in list order, each event passed on to every one of them.

    >>> import lamina as lm
    >>> calls = []
    >>> callbacks = lm.callbacks.CallbackList([
    ...     lm.callbacks.lambda_callback(on_epoch_begin=lambda epoch, logs: calls.append(("a", epoch))),
    ...     lm.callbacks.lambda_callback(on_epoch_begin=lambda epoch, logs: calls.append(("b", epoch)))])
    >>> callbacks.on_epoch_begin(3)
    >>> calls
    [('a', 3), ('b', 3)]
    """

    def __init__(self, callbacks=None):
        self.callbacks = list(callbacks or [])

    def append(self, callback):
        self.callbacks.append(callback)

    def set_params(self, params):
        for callback in self.callbacks:
            callback.set_params(params)

    def set_model(self, model):
        for callback in self.callbacks:
            callback.set_model(model)

    def on_train_begin(self, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def on_train_end(self, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_train_end(logs)

    def on_epoch_begin(self, epoch, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_batch_begin(self, batch, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_batch_begin(batch, logs)

    def on_batch_end(self, batch, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_batch_end(batch, logs)


def _number(value):
    """A log value as a plain Python number, as TF.js's logs hold JS numbers (a Tensor, a
    numpy scalar or a one-element array becomes a float)."""
    if type(value) in (int, float):
        return value
    return float(np.asarray(value).reshape(()))


class BaseLogger(Callback):
    """Writes the epoch averages of the batch logs into the epoch logs (TF.js BaseLogger).

    For every key in params['metrics'] that the batch logs had, the epoch log is the mean
    of the per-batch values weighted by each batch's `size`; keys already in the epoch logs
    (the `val_` ones, which fit adds first) keep their place, so TF.js's key order
    (val_loss, val_acc, loss, acc) comes out.

    >>> import lamina as lm
    >>> logger = lm.callbacks.BaseLogger()
    >>> logger.set_params({"metrics": ["loss"]})
    >>> logger.on_epoch_begin(0)
    >>> logger.on_batch_end(0, {"batch": 0, "size": 3, "loss": 1.0})
    >>> logger.on_batch_end(1, {"batch": 1, "size": 1, "loss": 5.0})
    >>> logs = {}
    >>> logger.on_epoch_end(0, logs)
    >>> logs
    {'loss': 2.0}
    """

    def __init__(self):
        super().__init__()
        self.seen = 0
        self.totals = {}

    def on_epoch_begin(self, epoch, logs=None):
        self.seen = 0
        self.totals = {}

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        size = logs.get("size") or 0
        self.seen += size
        for key, value in logs.items():
            self.totals[key] = self.totals.get(key, 0) + _number(value) * size

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        for key in self.params.get("metrics", ()):
            if key in self.totals:
                # seen is 0 only when every batch had size 0; TF.js divides anyway (NaN).
                logs[key] = self.totals[key] / self.seen if self.seen else math.nan


class HistoryDict(dict):
    """History.history: each log key -> its per-epoch values, a plain dict in every way
    (its keys are the logs' keys, TF.js's 'acc' among them) except that it also answers
    Keras's names for them: 'accuracy' and 'val_accuracy' when the model's metric was asked
    for as 'accuracy' (model.compile's `_log_aliases`).

    >>> import lamina as lm
    >>> history = lm.callbacks.HistoryDict({"loss": [0.5], "acc": [0.75]}, aliases={"accuracy": "acc"})
    >>> history["accuracy"], "accuracy" in history, list(history)
    ([0.75], True, ['loss', 'acc'])
    """

    def __init__(self, *args, aliases=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.aliases = dict(aliases or {})

    def _key(self, key):
        if not dict.__contains__(self, key) and key in self.aliases:
            return self.aliases[key]
        return key

    def __getitem__(self, key):
        return dict.__getitem__(self, self._key(key))

    def __contains__(self, key):
        return dict.__contains__(self, self._key(key))

    def get(self, key, default=None):
        return dict.get(self, self._key(key), default)


class History(Callback):
    """What `fit` returns: `epoch` (the epoch indices run), `history` (each log key -> one
    value per epoch) and `params` (fit's parameters); also stored as `model.history`.

    >>> import lamina as lm
    >>> history = lm.callbacks.History()
    >>> history.on_train_begin({})
    >>> history.on_epoch_end(0, {"loss": 0.9, "acc": 0.5})
    >>> history.on_epoch_end(1, {"loss": 0.7, "acc": 0.75})
    >>> history.epoch, history.history
    ([0, 1], {'loss': [0.9, 0.7], 'acc': [0.5, 0.75]})
    """

    def __init__(self):
        super().__init__()
        self.epoch = []
        self.history = {}

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = HistoryDict(aliases=getattr(self.model, "_log_aliases", None))

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(_number(value))

    def plot(self, keys=None):
        """Draws each metric per epoch with matplotlib, training and validation on the same
        axes (one subplot per metric), and returns the Figure.

        `keys` picks the metrics to draw (e.g. ["loss"]); by default every key, with each
        `val_` key drawn beside its training key. Needs matplotlib: `pip install 'lamina[plot]'`.
        """
        names = self._plot_names(keys)
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError("History.plot() needs matplotlib, which is not installed. Install it "
                              "with: pip install 'lamina[plot]'  (or: pip install matplotlib)") from None
        figure, axes = plt.subplots(len(names), 1, squeeze=False, sharex=True,
                                    figsize=(6, 2.5 * max(len(names), 1)))
        for ax, name in zip(axes[:, 0], names):
            for key in (name, "val_" + name):
                if key in self.history:
                    ax.plot(self.epoch[:len(self.history[key])], self.history[key], marker=".", label=key)
            ax.set_ylabel(name)
            ax.legend()
        axes[-1, 0].set_xlabel("epoch")
        figure.tight_layout()
        return figure

    def _plot_names(self, keys):
        """Metric names to draw, training names first seen order; a val_ key maps to its name."""
        if keys is None:
            keys = list(self.history)
        names = []
        for key in keys:
            name = key[len("val_"):] if key.startswith("val_") else key
            if name not in self.history and "val_" + name not in self.history:
                raise ValueError(f"History.plot: no values for {key!r}; the history has "
                                 f"{', '.join(self.history) or 'no keys (has fit run?)'}")
            if name not in names:
                names.append(name)
        if not names:
            raise ValueError("History.plot: the history is empty (has fit run?)")
        return names


class LambdaCallback(Callback):
    """A callback made of functions, one per event (TF.js's CustomCallback; Keras's
    LambdaCallback). Each takes the event's arguments: (logs) for train begin/end,
    (epoch, logs) and (batch, logs) for the others.

    >>> import lamina as lm
    >>> callback = lm.callbacks.LambdaCallback(on_batch_end=lambda batch, logs: print("Accuracy", logs["acc"]))
    >>> callback.on_batch_end(0, {"acc": 0.25})
    Accuracy 0.25
    """

    def __init__(self, on_train_begin=None, on_train_end=None, on_epoch_begin=None,
                 on_epoch_end=None, on_batch_begin=None, on_batch_end=None):
        super().__init__()
        functions = dict(on_train_begin=on_train_begin, on_train_end=on_train_end,
                         on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                         on_batch_begin=on_batch_begin, on_batch_end=on_batch_end)
        for event, function in functions.items():
            if function is not None and not callable(function):
                raise TypeError(f"callback {event} must be a function, got {type(function).__name__}")
        self.functions = {event: f for event, f in functions.items() if f is not None}

    def on_train_begin(self, logs=None):
        if "on_train_begin" in self.functions:
            self.functions["on_train_begin"](logs)

    def on_train_end(self, logs=None):
        if "on_train_end" in self.functions:
            self.functions["on_train_end"](logs)

    def on_epoch_begin(self, epoch, logs=None):
        if "on_epoch_begin" in self.functions:
            self.functions["on_epoch_begin"](epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if "on_epoch_end" in self.functions:
            self.functions["on_epoch_end"](epoch, logs)

    def on_batch_begin(self, batch, logs=None):
        if "on_batch_begin" in self.functions:
            self.functions["on_batch_begin"](batch, logs)

    def on_batch_end(self, batch, logs=None):
        if "on_batch_end" in self.functions:
            self.functions["on_batch_end"](batch, logs)

    def _follows_batches(self):
        return "on_batch_begin" in self.functions or "on_batch_end" in self.functions


def _camel_to_snake(key):
    return "".join("_" + c.lower() if c.isupper() else c for c in key)


def _from_dict(functions):
    """TF.js's dict-of-functions form, with lamina's snake_case keys."""
    unknown = [key for key in functions if key not in EVENTS]
    if unknown:
        key = unknown[0]
        hint = ""
        if isinstance(key, str) and _camel_to_snake(key) in EVENTS:
            hint = f" (did you mean {_camel_to_snake(key)!r}? lamina's keys are snake_case)"
        raise ValueError(f"Unknown callback key {key!r}{hint}; valid keys are {', '.join(EVENTS)}")
    return LambdaCallback(**functions)


def standardize_callbacks(callbacks):
    """`fit`'s callbacks argument as a list of Callback objects: None, a Callback, a dict of
    functions (snake_case event keys), or a list or tuple of Callbacks and dicts.

    >>> import lamina as lm
    >>> [type(c).__name__ for c in lm.callbacks.standardize_callbacks(
    ...     [lm.callbacks.terminate_on_nan(), {"on_epoch_end": print}])]
    ['TerminateOnNaN', 'LambdaCallback']
    """
    if callbacks is None:
        return []
    if isinstance(callbacks, (Callback, dict)):
        callbacks = [callbacks]
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks must be a Callback, a dict of functions such as "
                        f"{{'on_batch_end': fn}}, or a list of them, got {type(callbacks).__name__}")
    standardized = []
    for i, callback in enumerate(callbacks):
        if isinstance(callback, Callback):
            standardized.append(callback)
        elif isinstance(callback, dict):
            standardized.append(_from_dict(callback))
        else:
            raise TypeError(f"callbacks[{i}] must be a Callback or a dict of functions, got "
                            f"{type(callback).__name__}")
    return standardized


def configure_callbacks(callbacks, model, verbose, params):
    """The single entry point of the fit loop: the CallbackList to call, and the History.

    Arguments:
      callbacks: fit's `callbacks` argument (see standardize_callbacks).
      model: the model being trained (set as every callback's `model`).
      verbose: 0 (silent), 1 (a progress bar per epoch; one line per epoch when stdout is
        not a terminal) or 2 (one line per epoch).
      params: dict with the keys epochs, initial_epoch, samples, steps, batch_size,
        verbose, do_validation, metrics (the labels that BaseLogger averages into the epoch
        logs: loss and the metric labels, then their val_ forms when validating); None is
        fine as a value where it does not apply (steps for fit, samples for fit_dataset).

    Returns (CallbackList, History): the list is [BaseLogger, ProgressLogger (verbose 1/2),
    *callbacks, History], TF.js's order, with params and model already set.

    >>> import lamina as lm
    >>> params = dict(epochs=1, initial_epoch=0, samples=4, steps=None, batch_size=2,
    ...               verbose=0, do_validation=False, metrics=["loss"])
    >>> callback_list, history = lm.callbacks.configure_callbacks(None, None, 0, params)
    >>> [type(c).__name__ for c in callback_list.callbacks]
    ['BaseLogger', 'History']
    >>> callback_list.on_train_begin()
    >>> callback_list.on_epoch_begin(0)
    >>> callback_list.on_batch_end(0, {"batch": 0, "size": 2, "loss": 1.0})
    >>> callback_list.on_batch_end(1, {"batch": 1, "size": 2, "loss": 0.5})
    >>> callback_list.on_epoch_end(0)
    >>> history.history
    {'loss': [0.75]}
    """
    from lamina.engine.progress import ProgressLogger  # engine sits above callbacks

    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0 (silent), 1 (progress bar) or 2 (one line per "
                         f"epoch), got {verbose!r}")
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict, got {type(params).__name__}")
    missing = [key for key in PARAM_KEYS if key not in params]
    if missing:
        raise ValueError(f"params is missing {', '.join(missing)} (expected the keys "
                         f"{', '.join(PARAM_KEYS)})")
    history = History()
    every = [BaseLogger()]
    if verbose:
        every.append(ProgressLogger(verbose))
    every += standardize_callbacks(callbacks)
    every.append(history)
    callback_list = CallbackList(every)
    callback_list.set_params(params)
    callback_list.set_model(model)
    return callback_list, history


# --- built-in callbacks ----------------------------------------------------------------

def _direction(mode, monitor, callback):
    """'min' or 'max': 'auto' picks max when the monitored name contains 'acc' (TF.js)."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{callback}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "max" if "acc" in monitor else "min"
    return mode


def _check_number(value, argument, callback, minimum=None, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise TypeError(f"{callback}: {argument} must be a number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{callback}: {argument} must be >= {minimum}, got {value!r}")
    return value


def _check_count(value, argument, callback):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{callback}: {argument} must be a non-negative integer, got {value!r}")
    return int(value)


def _monitored(logs, monitor, callback):
    """The monitored value from the epoch logs, or None with a warning naming what is there."""
    logs = logs or {}
    value = logs.get(monitor)
    if value is None:
        warnings.warn(f"{callback} monitors {monitor!r}, which is not in the epoch logs; "
                      f"available keys: {', '.join(logs) or '(none)'}. (val_ keys exist only "
                      "when fit validates: pass validation_split or validation_data.)",
                      stacklevel=3)
        return None
    return _number(value)


def _optimizer(model, callback):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError(f"{callback} needs a compiled model whose optimizer has a "
                         f"learning_rate; model.optimizer is {optimizer!r}")
    return optimizer


class EarlyStopping(Callback):
    """Stops training when the monitored value has stopped improving (TF.js earlyStopping).

    After each epoch, the value counts as an improvement when it beats the best so far by
    more than min_delta (lower for 'min', higher for 'max'; 'auto' is max when the name
    contains 'acc'); after `patience` epochs in a row without one, it sets
    model.stop_training. With baseline, the value must first beat the baseline.

    restore_best_weights=True (which TF.js does not implement) puts back the weights of the
    best epoch when training ends, whatever ended it: this callback, another one, or the
    last epoch. A missing monitored key warns with the keys that are there.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False):
        super().__init__()
        if not isinstance(monitor, str):
            raise TypeError(f"EarlyStopping: monitor must be a log key such as 'val_loss', got {monitor!r}")
        self.monitor = monitor
        self.min_delta = abs(_check_number(min_delta, "min_delta", "EarlyStopping"))
        self.patience = _check_count(patience, "patience", "EarlyStopping")
        self.verbose = verbose
        self.mode = _direction(mode, monitor, "EarlyStopping")
        self.baseline = _check_number(baseline, "baseline", "EarlyStopping", allow_none=True)
        self.restore_best_weights = bool(restore_best_weights)
        self.best_weights = None
        self.best_epoch = 0
        self.stopped_epoch = 0

    def _improved(self, current):
        if self.mode == "min":
            return current + self.min_delta < self.best
        return current - self.min_delta > self.best

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.best_weights = None
        if self.baseline is not None:
            self.best = self.baseline
        else:
            self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored(logs, self.monitor, "EarlyStopping")
        if current is None:
            return
        if self._improved(current):
            self.best = current
            self.best_epoch = epoch
            self.wait = 0
            if self.restore_best_weights:
                # Copies: the model's buffers are updated in place by later steps.
                self.best_weights = [np.array(w, copy=True) for w in self.model.get_weights()]
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch}: early stopping.")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch}")
            self.model.set_weights(self.best_weights)


def early_stopping(monitor="val_loss", min_delta=0, patience=0, mode="auto", baseline=None,
                   restore_best_weights=False, verbose=0):
    """An EarlyStopping callback (TF.js tf.callbacks.earlyStopping, in snake_case).

    >>> import lamina as lm
    >>> class Model:
    ...     stop_training = False
    ...     def get_weights(self): return []
    >>> stopper = lm.callbacks.early_stopping(monitor="loss", patience=1)
    >>> stopper.set_model(Model()); stopper.on_train_begin({})
    >>> for epoch, loss in enumerate([1.0, 0.8, 0.9]):
    ...     stopper.on_epoch_end(epoch, {"loss": loss})
    >>> stopper.model.stop_training, stopper.stopped_epoch
    (True, 2)
    """
    return EarlyStopping(monitor=monitor, min_delta=min_delta, patience=patience, verbose=verbose,
                         mode=mode, baseline=baseline, restore_best_weights=restore_best_weights)


def lambda_callback(on_train_begin=None, on_train_end=None, on_epoch_begin=None,
                    on_epoch_end=None, on_batch_begin=None, on_batch_end=None):
    """A LambdaCallback: one function per event; the same as passing a dict to fit.

    >>> import lamina as lm
    >>> callback = lm.callbacks.lambda_callback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))
    >>> callback.on_epoch_end(4, {"loss": 0.125})
    4 0.125
    """
    return LambdaCallback(on_train_begin=on_train_begin, on_train_end=on_train_end,
                          on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                          on_batch_begin=on_batch_begin, on_batch_end=on_batch_end)


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch's loss is NaN or infinite (Keras TerminateOnNaN)."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(_number(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


def terminate_on_nan():
    """A TerminateOnNaN callback.

    >>> import lamina as lm
    >>> class Model:
    ...     stop_training = False
    >>> callback = lm.callbacks.terminate_on_nan()
    >>> callback.set_model(Model())
    >>> callback.on_batch_end(7, {"loss": float("nan")})
    Batch 7: Invalid loss, terminating training
    >>> callback.model.stop_training
    True
    """
    return TerminateOnNaN()


class ReduceLROnPlateau(Callback):
    """Multiplies the optimizer's learning rate by `factor` when the monitored value has not
    improved (by more than min_delta) for `patience` epochs; then waits `cooldown` epochs
    before counting again; never goes below min_lr (Keras ReduceLROnPlateau; TF.js has none).
    Sets model.optimizer.learning_rate.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0):
        super().__init__()
        name = "ReduceLROnPlateau"
        if not isinstance(monitor, str):
            raise TypeError(f"{name}: monitor must be a log key such as 'val_loss', got {monitor!r}")
        factor = _check_number(factor, "factor", name)
        if not 0 < factor < 1:
            raise ValueError(f"{name}: factor must be in (0, 1) (the learning rate is multiplied "
                             f"by it), got {factor!r}")
        self.monitor = monitor
        self.factor = factor
        self.patience = _check_count(patience, "patience", name)
        self.verbose = verbose
        self.mode = _direction(mode, monitor, name)
        self.min_delta = abs(_check_number(min_delta, "min_delta", name))
        self.cooldown = _check_count(cooldown, "cooldown", name)
        self.min_lr = _check_number(min_lr, "min_lr", name, minimum=0)

    def _improved(self, current):
        if self.mode == "min":
            return current < self.best - self.min_delta
        return current > self.best + self.min_delta

    def on_train_begin(self, logs=None):
        _optimizer(self.model, "ReduceLROnPlateau")
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0
        self.cooldown_counter = 0

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored(logs, self.monitor, "ReduceLROnPlateau")
        if current is None:
            return
        in_cooldown = self.cooldown_counter > 0
        if in_cooldown:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(current):
            self.best = current
            self.wait = 0
            return
        if in_cooldown:
            return
        self.wait += 1
        if self.wait >= self.patience:
            optimizer = _optimizer(self.model, "ReduceLROnPlateau")
            old_lr = float(optimizer.learning_rate)
            if old_lr > self.min_lr:
                optimizer.learning_rate = max(old_lr * self.factor, self.min_lr)
                if self.verbose:
                    print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                          f"{optimizer.learning_rate}.")
                self.cooldown_counter = self.cooldown
                self.wait = 0


def reduce_lr_on_plateau(monitor="val_loss", factor=0.1, patience=10, min_delta=1e-4, cooldown=0,
                         min_lr=0, mode="auto", verbose=0):
    """A ReduceLROnPlateau callback.

    >>> import lamina as lm
    >>> class Model:
    ...     optimizer = lm.train.sgd(0.1)
    >>> callback = lm.callbacks.reduce_lr_on_plateau(monitor="loss", factor=0.5, patience=1)
    >>> callback.set_model(Model()); callback.on_train_begin({})
    >>> for epoch, loss in enumerate([1.0, 1.0, 1.0]):
    ...     callback.on_epoch_end(epoch, {"loss": loss})
    >>> callback.model.optimizer.learning_rate
    0.025
    """
    return ReduceLROnPlateau(monitor=monitor, factor=factor, patience=patience, verbose=verbose,
                             mode=mode, min_delta=min_delta, cooldown=cooldown, min_lr=min_lr)


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate to schedule(epoch, current_lr) at the start of
    every epoch (Keras LearningRateScheduler; epoch is the absolute 0-based index)."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be a function (epoch, lr) -> lr, "
                            f"got {type(schedule).__name__}")
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = _optimizer(self.model, "LearningRateScheduler")
        lr = self.schedule(epoch, float(optimizer.learning_rate))
        try:
            lr = _number(lr)
        except (TypeError, ValueError):
            raise TypeError(f"LearningRateScheduler: the schedule must return a number, got "
                            f"{type(lr).__name__} for epoch {epoch}") from None
        if isinstance(lr, bool) or not math.isfinite(lr):
            raise ValueError(f"LearningRateScheduler: the schedule must return a finite number, "
                             f"got {lr!r} for epoch {epoch}")
        optimizer.learning_rate = float(lr)
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")


def learning_rate_scheduler(schedule, verbose=0):
    """A LearningRateScheduler callback: schedule(epoch, lr) -> the epoch's learning rate.

    >>> import lamina as lm
    >>> class Model:
    ...     optimizer = lm.train.sgd(0.1)
    >>> callback = lm.callbacks.learning_rate_scheduler(lambda epoch, lr: lr / 2 if epoch >= 1 else lr)
    >>> callback.set_model(Model())
    >>> for epoch in range(3):
    ...     callback.on_epoch_begin(epoch, {})
    >>> callback.model.optimizer.learning_rate
    0.025
    """
    return LearningRateScheduler(schedule, verbose=verbose)


class CSVLogger(Callback):
    """Writes one CSV row per epoch: `epoch` then the epoch logs' keys, sorted (Keras
    CSVLogger). The header comes from the first epoch's keys; a key missing in a later
    epoch is written NA. Each row is flushed to disk when written, so a crash loses at most
    the epoch in progress. append=True adds to an existing file (no second header).
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError(f"CSVLogger: filename must be a path (str or os.PathLike), got "
                            f"{type(filename).__name__}")
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"CSVLogger: separator must be a single character, got {separator!r}")
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = bool(append)
        self.keys = None
        self._file = None
        self._writer = None

    def on_train_begin(self, logs=None):
        self._close()
        has_content = (self.append and os.path.exists(self.filename)
                       and os.path.getsize(self.filename) > 0)
        self._write_header = not has_content
        self.keys = None
        self._file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file, delimiter=self.separator, lineterminator="\n")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self._write_header:
                self._writer.writerow(["epoch"] + self.keys)
        row = [epoch] + [_csv_value(logs[key]) if key in logs else "NA" for key in self.keys]
        self._writer.writerow(row)
        self._file.flush()
        os.fsync(self._file.fileno())

    def on_train_end(self, logs=None):
        self._close()

    def _close(self):
        if self._file is not None:
            self._file.close()
            self._file = None
            self._writer = None


def _csv_value(value):
    value = _number(value)
    return repr(float(value)) if isinstance(value, float) else value


def csv_logger(filename, separator=",", append=False):
    """A CSVLogger callback writing the epoch logs to `filename`.

    >>> import lamina as lm, os, tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = os.path.join(folder.name, "log.csv")
    >>> logger = lm.callbacks.csv_logger(path)
    >>> logger.on_train_begin({})
    >>> logger.on_epoch_end(0, {"loss": 0.5, "acc": 0.75})
    >>> logger.on_train_end({})
    >>> with open(path) as f:
    ...     print(f.read(), end="")
    epoch,acc,loss
    0,0.75,0.5
    >>> folder.cleanup()
    """
    return CSVLogger(filename, separator=separator, append=append)


class ModelCheckpoint(Callback):
    """Saves the model (`model.save`, the TF.js LayersModel format) during training (Keras
    ModelCheckpoint; TF.js has none).

    `path` may hold `str.format` fields filled from `epoch` (1-based, as Keras: the file
    written after the third epoch has epoch=3), `batch` (1-based, when saving every N
    batches) and any log key: `"ckpt/{epoch:02d}-{val_loss:.3f}"`. With save_best_only the
    model is saved only when `monitor` improves ('min' or 'max'; 'auto' is max when the
    name contains 'acc'); a missing monitored key warns and skips. save_freq is "epoch" or a
    number of batches. include_optimizer=True (the default, unlike `model.save`) saves the
    optimizer state, so `lm.load_layers_model` + `fit(..., initial_epoch=k)` resumes
    training where the checkpoint left off. save_weights_only=True writes the weights alone
    (`model.save_weights`; include_optimizer then does not apply), to be read back with
    `model.load_weights`. `last_path` is the last path written.
    """

    def __init__(self, path, monitor="val_loss", save_best_only=False, mode="auto",
                 save_freq="epoch", include_optimizer=True, verbose=0, save_weights_only=False):
        super().__init__()
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"ModelCheckpoint: path must be a str or os.PathLike, got {type(path).__name__}")
        if not isinstance(monitor, str):
            raise TypeError(f"ModelCheckpoint: monitor must be a log key such as 'val_loss', got {monitor!r}")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, numbers.Integral)
                                     or save_freq < 1):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or a positive integer "
                             f"(a number of batches), got {save_freq!r}")
        self.path = os.fspath(path)
        self.monitor = monitor
        self.save_best_only = bool(save_best_only)
        self.mode = _direction(mode, monitor, "ModelCheckpoint")
        self.save_freq = save_freq
        self.include_optimizer = bool(include_optimizer)
        if not isinstance(save_weights_only, bool):
            raise TypeError(f"ModelCheckpoint: save_weights_only must be True or False, got {save_weights_only!r}")
        self.save_weights_only = save_weights_only
        self.verbose = verbose
        # Kept across fit calls, as Keras: a resumed run saves only what beats the best so far.
        self.best = math.inf if self.mode == "min" else -math.inf
        self.last_path = None
        self._epoch = 0
        self._batches_since_save = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def _follows_batches(self):
        return self.save_freq != "epoch"

    def on_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._epoch, batch, logs or {})

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def _save(self, epoch, batch, logs):
        path = self._format_path(epoch, batch, logs)
        if self.save_best_only:
            current = _monitored(logs, self.monitor, "ModelCheckpoint")
            if current is None:
                return
            improved = current < self.best if self.mode == "min" else current > self.best
            if not improved:
                if self.verbose:
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                      f"{current:.5f}, saving model to {path}")
            self.best = current
        elif self.verbose:
            print(f"Epoch {epoch + 1}: saving model to {path}")
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path, include_optimizer=self.include_optimizer)
        self.last_path = path

    def _format_path(self, epoch, batch, logs):
        fields = {key: _number(value) for key, value in logs.items()}
        fields["epoch"] = epoch + 1
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.path.format(**fields)
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"ModelCheckpoint: cannot fill in path {self.path!r} ({error!r}); its "
                             f"fields may name: {', '.join(fields)}") from None


def model_checkpoint(path, monitor="val_loss", save_best_only=False, mode="auto", save_freq="epoch",
                     include_optimizer=True, verbose=0, save_weights_only=False):
    """A ModelCheckpoint callback: saves the model to `path` (formatted with epoch and the
    logs) after every epoch, every `save_freq` batches, or only when `monitor` improves.

    >>> import lamina as lm
    >>> class Model:
    ...     def save(self, path, include_optimizer=False):
    ...         print("saved", path, include_optimizer)
    >>> checkpoint = lm.callbacks.model_checkpoint("ckpt/{epoch:02d}-{loss:.2f}", monitor="loss",
    ...                                            save_best_only=True)
    >>> checkpoint.set_model(Model())
    >>> for epoch, loss in enumerate([0.9, 0.95, 0.5]):
    ...     checkpoint.on_epoch_end(epoch, {"loss": loss})
    saved ckpt/01-0.90 True
    saved ckpt/03-0.50 True
    """
    return ModelCheckpoint(path, monitor=monitor, save_best_only=save_best_only, mode=mode,
                           save_freq=save_freq, include_optimizer=include_optimizer, verbose=verbose,
                           save_weights_only=save_weights_only)
