"""The training loop behind model.fit_dataset and evaluate_dataset (TF.js training_dataset.ts).

The data comes from a Dataset (`lm.data`) one batch at a time and each batch is dropped
once its step is done, so training holds no more of the data than the dataset's own
buffers (a shuffle buffer, a few prefetched batches), however long the stream.

Read `fit_dataset` top to bottom: check the arguments, prepare the validation, configure
the callbacks (TF.js's params: no samples, no batch size, steps = batches_per_epoch or the
dataset's finite size), then for each epoch draw batches from an iterator -- a fresh one
per epoch, or one shared by all epochs when batches_per_epoch is given -- run fit's
train steps (`_TrainSteps`) on each, and validate once the epoch is complete. The per-batch
work (`_TrainSteps`, `_test_batch`) and the data checks are fit's own (engine/training.py,
engine/data_checks.py). As in fit, an eligible model's steps and test batches run on the fused
C++ trainer (engine/fused.py), one call per batch, and anything else on the tape;
LAMINA_FUSED=0 forces the tape. And as fit runs whole epochs in one call when only the
default loggers listen, fit_dataset then trains a batched in-order array dataset
(`lm.data.array(x, y).batch(32)`) a block of batches per call (_train_blocks).

Unlike TF.js, a dataset that runs out of data (fewer than batches_per_epoch batches left,
or an epoch without a single batch) ends training with a warning instead of running
empty epochs, and an endless dataset without a batch limit is refused instead of hanging.

>>> import lamina as lm
>>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[2])])
>>> model.compile(optimizer=lm.train.sgd(0.1), loss="meanSquaredError")
>>> ds = lm.data.array([([[1.0, 2.0]], [[3.0]])] * 6)  # six batches of one (x, y) pair each
>>> history = model.fit_dataset(ds, epochs=2, batches_per_epoch=3, verbose=0)
>>> history.epoch, history.params["steps"]
([0, 1], 3)
"""

import itertools
import json
import math
import numbers
import warnings

import numpy as np

from lamina.callbacks import configure_callbacks
from lamina.data.iterators import rows_of
from lamina.engine import data_checks
from lamina.engine import fused as _fused
from lamina.engine.training import (_count, _batch_followers, _require_compiled, _results, _sample_weights,
                                    _test_batch, _test_loop, _training_session, _TrainSteps, _standardize_xy)
from lamina.tensor import Tensor

__all__ = ["fit_dataset", "evaluate_dataset", "is_dataset"]

# Elements of any other form get TF.js's message, with lamina's tuple forms added.
ELEMENT_FORM = ("A Dataset iterator for {caller} is expected to generate objects of the form "
                "{{'xs': x_val, 'ys': y_val}} or tuples (x_val, y_val) / (x_val, y_val, sample_weight), where "
                "x_val and y_val may be a Tensor, a numpy array, a list of one Tensor, or a dict of input "
                "(output) name to Tensor.  The provided Dataset instead generates {element}")


# ---------------------------------------------------------------- what a dataset is

def is_dataset(value):
    """Whether `value` can be trained on by fit_dataset: an lm.data Dataset, or any object that
    starts a fresh pass over its elements with iter() and has a `size` (None when unknown).

    >>> import lamina as lm
    >>> is_dataset(lm.data.array([1, 2, 3])), is_dataset([1, 2, 3])
    (True, False)
    """
    if isinstance(value, (Tensor, np.ndarray, list, tuple, dict, str, bytes)):
        return False
    return hasattr(value, "__iter__") and hasattr(value, "size")


def _check_dataset(dataset, argument, caller):
    if is_dataset(dataset):
        return
    if hasattr(dataset, "__next__"):  # a generator or iterator: one pass only
        raise TypeError(f"{caller}: {argument} must be a Dataset (lm.data), got an iterator "
                        f"({type(dataset).__name__}), which can be read only once; wrap the function "
                        "that makes it in lm.data.generator(fn) so each epoch starts a fresh pass")
    raise TypeError(f"{caller}: {argument} must be a Dataset (lm.data), e.g. "
                    f"lm.data.array(...).batch(32), got {type(dataset).__name__}; to train on arrays "
                    "held in memory use model.fit(x, y)")


def _check_ends(dataset, limit, argument, limit_name, caller):
    """An endless dataset needs a batch limit, or its pass would never end (TF.js just hangs)."""
    if limit is None and getattr(dataset, "size", None) == math.inf:
        raise ValueError(f"{caller}: {argument} is endless (size inf, e.g. made by repeat()), so a pass over "
                         f"it would never end; give {limit_name}")


def _describe(value):
    """A short description of a dataset element for error messages (never its whole data)."""
    if isinstance(value, (Tensor, np.ndarray)):
        return f"a {type(value).__name__} of shape {list(np.shape(value))}"
    if isinstance(value, dict):
        return f"a dict with keys {list(value)}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} item(s)"
    return f"{value!r:.80}"


# ---------------------------------------------------------------- one element -> x, y, weights

def _split_element(element, caller):
    """(xs, ys, sample_weight or None) from {'xs', 'ys'} or (x, y) / (x, y, sample_weight)."""
    if isinstance(element, dict) and element.get("xs") is not None and element.get("ys") is not None:
        return element["xs"], element["ys"], None
    if isinstance(element, (tuple, list)) and len(element) in (2, 3) and not _is_numbers(element):
        xs, ys, *weights = element
        if xs is not None and ys is not None:
            return xs, ys, (weights[0] if weights else None)
    raise ValueError(ELEMENT_FORM.format(caller=caller, element=_describe(element)))


def _is_numbers(values):
    """A list of plain numbers (a batch of scalars, not an (x, y) pair)."""
    return all(isinstance(v, numbers.Number) for v in values)


def _only_value(values, names, kind):
    """The one Tensor of a Sequential model's input or output from TF.js's forms: the value,
    a list holding it, or a dict keyed by the input (output) name."""
    if isinstance(values, dict):
        if values.get(names[0]) is None:
            raise ValueError(f"The feature data generated by the dataset lacks the required {kind} key "
                             f"'{names[0]}'. (The dict has keys {list(values)}.)")
        return values[names[0]]
    if isinstance(values, (list, tuple)) and values and all(isinstance(v, (Tensor, np.ndarray)) for v in values):
        if len(values) != len(names):
            raise ValueError(f"Received an array of {len(values)} Tensors, but expected {len(names)} to match "
                             f"the {kind} keys {','.join(names)}.")
        return values[0]
    return values


def _batch_arrays(model, element, class_weight, caller):
    """x, y (float32 arrays the model accepts) and per-sample loss weights (or None) of one
    batch, with TF.js's checks: the batch size is that of the first xs, and ys must match."""
    xs, ys, sample_weight = _split_element(element, caller)
    x = data_checks.as_float_array(_only_value(xs, model.input_names, "input"), "xs")
    y = data_checks.as_float_array(_only_value(ys, model.output_names, "output"), "ys")
    _check_batched(model, x, caller)
    if y.ndim and x.ndim and y.shape[0] != x.shape[0]:
        raise ValueError(f"Batch size mismatch: output {model.output_names[0]} has {y.shape[0]}; expected  "
                         f"{x.shape[0]} based on input {model.input_names[0]}.")
    # Wrapped as Tensors so standardize uses these arrays as they are (no second copy).
    x, y = _standardize_xy(model, Tensor._wrap(x), Tensor._wrap(y), check_batch_axis=False)
    weights = _sample_weights(y, class_weight, sample_weight)
    # The fused trainer reads float32 C-contiguous buffers; these are no-ops when they are already.
    contiguous = np.ascontiguousarray
    return contiguous(x), contiguous(y), None if weights is None else contiguous(weights)


def _check_batched(model, x, caller):
    """A clear error for the commonest mistake, elements that are single examples because the
    dataset was never batched (TF.js reports a confusing batch size mismatch instead)."""
    example_shape = model._input_batch_shape()[1:]
    if list(x.shape) == example_shape and example_shape != [1]:
        raise ValueError(f"{caller} expects batches, but the dataset generates single examples: xs has "
                         f"shape {list(x.shape)}, one example of the model's input [null,"
                         f"{','.join(str(d) for d in example_shape)}]. Batch the dataset, e.g. "
                         "dataset.batch(32).")


# ---------------------------------------------------------------- fit_dataset

def fit_dataset(model, dataset, epochs=None, batches_per_epoch=None, validation_data=None,
                validation_batches=None, validation_batch_size=32, callbacks=None, verbose=1,
                initial_epoch=0, class_weight=None, validation_split=None):
    """Trains `model` on the batches of `dataset` (see Sequential.fit_dataset); returns the History."""
    _require_compiled(model)
    _check_dataset(dataset, "dataset", "fit_dataset()")
    if not _is_positive_int(epochs):
        raise ValueError(f"For fit_dataset(), epochs is expected to be a positive integer, but got {epochs!r}")
    if batches_per_epoch is not None and not _is_positive_int(batches_per_epoch):
        raise ValueError("For fit_dataset(), batches_per_epoch is expected to be a positive integer if "
                         f"specified, but got {batches_per_epoch!r}")
    if validation_split is not None:
        raise ValueError("`validation_split` is not supported by `fit_dataset()`. Use validation_data instead.")
    _check_ends(dataset, batches_per_epoch, "dataset", "batches_per_epoch", "fit_dataset()")
    initial_epoch = _count(initial_epoch, "initial_epoch")
    if class_weight is not None and not isinstance(class_weight, (dict, list, tuple)):
        raise TypeError(f"class_weight must be a dict {{class index: weight}}, got {type(class_weight).__name__}")

    with _training_session(model):
        validate = _validation(model, validation_data, validation_batches, validation_batch_size)
        labels = list(model.metrics_names)
        params = {"epochs": int(epochs), "initial_epoch": initial_epoch, "samples": None,
                  "steps": _steps_per_epoch(dataset, batches_per_epoch), "batch_size": None,
                  "verbose": verbose, "do_validation": validate is not None,
                  "metrics": labels + (["val_" + label for label in labels] if validate else [])}
        callback_list, history = configure_callbacks(callbacks, model, verbose, params)
        model.history = history
        _fit_dataset_loop(model, dataset, int(epochs), initial_epoch, batches_per_epoch, validate, labels,
                          class_weight, callback_list)
        return history


def _is_positive_int(value):
    return not isinstance(value, bool) and isinstance(value, numbers.Integral) and value > 0


def _steps_per_epoch(dataset, batches_per_epoch):
    """TF.js getStepsPerEpoch: batches_per_epoch, else the dataset's size if finite, else None."""
    if batches_per_epoch is not None:
        return int(batches_per_epoch)
    size = getattr(dataset, "size", None)
    if isinstance(size, numbers.Real) and math.isfinite(size):
        return int(size)
    return None


def _validation(model, validation_data, validation_batches, validation_batch_size):
    """A function returning the validation [loss, metrics...], or None without validation_data."""
    if validation_data is None:
        if validation_batches is not None:
            raise ValueError("validation_batches was given without validation_data")
        return None
    if is_dataset(validation_data):
        if validation_batches is not None and not _is_positive_int(validation_batches):
            raise ValueError("For fit_dataset() with dataset-based validation, validation_batches is expected "
                             f"not to be provided, or to be a positive integer, but got {validation_batches!r}")
        _check_ends(validation_data, validation_batches, "validation_data", "validation_batches", "fit_dataset()")
        return lambda: _evaluate_batches(model, validation_data, validation_batches, "fit_dataset() validation")
    if validation_batches is not None:
        raise ValueError("validation_batches applies only when validation_data is a Dataset; validation_data "
                         "given as (x, y) is evaluated whole, in batches of validation_batch_size")
    batch_size = data_checks.check_batch_size(validation_batch_size)
    x_val, y_val = data_checks.validation_pair(validation_data)
    x_val, y_val = _standardize_xy(model, x_val, y_val, check_batch_axis=True)
    return lambda: _test_loop(model, x_val, y_val, batch_size)


_END = object()


def _fit_dataset_loop(model, dataset, epochs, initial_epoch, batches_per_epoch, validate, labels,
                      class_weight, callback_list):
    """TF.js's fitDataset loop, except that running out of data ends training (with a warning)."""
    callback_list.on_train_begin({})
    model._stop_training = False  # after on_train_begin, as TF.js: setting it there is ignored
    shared = iter(dataset) if batches_per_epoch is not None else None
    in_blocks = shared is None and _trains_in_blocks(model, dataset, callback_list)
    batches_done = 0
    try:
        for epoch in range(initial_epoch, epochs):
            if shared is not None:
                batches = shared
            else:
                batches = dataset._blocks[1](BLOCK_BYTES) if in_blocks else iter(dataset)
            # The first batch is drawn before the epoch begins, so an epoch is only begun (and
            # recorded in the History) when there is data for it.
            first = next(batches, _END)
            if first is _END:
                _warn_no_data(epoch, batches_per_epoch, epochs, initial_epoch, batches_done)
                break
            callback_list.on_epoch_begin(epoch, {})
            epoch_logs = {}
            if in_blocks:
                steps, complete = _train_blocks(model, itertools.chain([first], batches), dataset._blocks[0],
                                                labels, class_weight, callback_list)
            else:
                steps, complete = _train_epoch(model, itertools.chain([first], batches), batches_per_epoch,
                                               labels, class_weight, callback_list)
            batches_done += steps
            if complete and validate is not None:
                # Written first, so val_ keys lead the epoch logs and the history (TF.js's order).
                epoch_logs.update(("val_" + label, value) for label, value in zip(labels, validate()))
            ran_dry = not complete and not model._stop_training
            if ran_dry:
                _warn_ran_dry(batches_per_epoch, epochs, initial_epoch, steps, batches_done)
            callback_list.on_epoch_end(epoch, epoch_logs)
            if shared is None:
                _close(batches)
            if ran_dry or model._stop_training:
                break
    finally:
        _close(shared)
    callback_list.on_train_end({})


def _train_epoch(model, batches, batches_per_epoch, labels, class_weight, callback_list):
    """Runs the epoch's steps; returns (steps done, whether the epoch completed).

    An epoch completes after batches_per_epoch steps, or without it when the data ends;
    model.stop_training (checked after each step) ends it early.
    """
    steps = 0
    train_step = _TrainSteps(model)
    for index, element in enumerate(batches):
        x, y, weights = _batch_arrays(model, element, class_weight, "fit_dataset()")
        _step(train_step, index, x, y, weights, labels, callback_list)
        steps += 1
        if steps == batches_per_epoch:
            return steps, True
        if model._stop_training:
            return steps, False
    return steps, batches_per_epoch is None


def _step(train_step, index, x, y, weights, labels, callback_list):
    """One batch's train step between its callbacks."""
    batch_logs = {"batch": index, "size": x.shape[0]}  # known at batch begin, as TF.js's fitDataset
    callback_list.on_batch_begin(index, batch_logs)
    outs = train_step(x, y, weights)
    batch_logs.update(zip(labels, outs))
    callback_list.on_batch_end(index, batch_logs)


# ---------------------------------------------------------------- whole blocks of batches

# The bytes of one block of batches trained in one fused call: enough batches that the
# block's fixed Python cost vanishes, few enough that memory stays bounded.
BLOCK_BYTES = 4 << 20


def _trains_in_blocks(model, dataset, callback_list):
    """Whether each epoch can train blocks of consecutive batches in one fused call each:
    the dataset is a batched in-order array source (lm.data.array(...) or a zip of them,
    then .batch(n): it offers its batches in blocks), no callback but fit's own follows batch
    events (they see a block's batches after it is trained, which a user callback must not),
    and the model suits the fused trainer."""
    return (getattr(dataset, "_blocks", None) is not None
            and _batch_followers(callback_list) is not False
            and _fused.enabled() and _fused.is_eligible(model))


def _train_blocks(model, blocks, batch_size, labels, class_weight, callback_list):
    """_train_epoch for an epoch of (block, rows) from the dataset's blocks: the same batches,
    the same logs reported batch by batch to the callbacks (after the block is trained),
    and the same errors (a block that fails a check goes batch by batch, so the batches
    before the failing one are trained first, as step by step)."""
    steps = 0
    train_step = _TrainSteps(model)
    for block, rows in blocks:
        per_batch = _train_block(model, block, rows, batch_size, class_weight)
        if per_batch is None:
            for first in range(0, rows, batch_size):
                element = rows_of(block, first, first + batch_size)
                x, y, weights = _batch_arrays(model, element, class_weight, "fit_dataset()")
                _step(train_step, steps, x, y, weights, labels, callback_list)
                steps += 1
        else:
            for first, outs in zip(range(0, rows, batch_size), per_batch):
                batch_logs = {"batch": steps, "size": min(batch_size, rows - first)}
                callback_list.on_batch_begin(steps, batch_logs)
                batch_logs.update(zip(labels, outs))
                callback_list.on_batch_end(steps, batch_logs)
                steps += 1
        if model._stop_training:  # (only the default loggers listen: set by another thread)
            return steps, False
    return steps, True


def _train_block(model, block, rows, batch_size, class_weight):
    """Trains a block's batches in one fused call; [[loss, metrics...] per batch], or None
    with nothing trained when the block must go batch by batch (a check fails on it, or the
    fused trainer refuses its arrays)."""
    try:
        # Checks that look at a batch's shape see the block's first and last batches.
        _batch_arrays(model, rows_of(block, 0, batch_size), class_weight, "fit_dataset()")
        if rows % batch_size:
            _batch_arrays(model, rows_of(block, rows - rows % batch_size, rows), class_weight, "fit_dataset()")
        x, y, weights = _batch_arrays(model, block, class_weight, "fit_dataset()")
    except (ValueError, TypeError):
        return None
    runner = _fused.training_runner(model, x, y, weights, batch_size)
    if runner is None:
        return None
    return runner.train_epoch(x, y, weights, np.arange(rows), batch_size).tolist()


def _warn_ran_dry(batches_per_epoch, epochs, initial_epoch, steps, batches_done):
    warnings.warn(
        f"You provided `batches_per_epoch` as {batches_per_epoch}, but your dataset iterator ran out of data "
        f"after {steps} batches of this epoch ({batches_done} in all); training stops here. Make sure that "
        "your dataset can generate at least `batches_per_epoch * epochs` batches (in this case, "
        f"{batches_per_epoch * (epochs - initial_epoch)} batches). You may need to use the repeat() "
        "function when building your dataset.", stacklevel=5)


def _warn_no_data(epoch, batches_per_epoch, epochs, initial_epoch, batches_done):
    if batches_per_epoch is not None:
        _warn_ran_dry(batches_per_epoch, epochs, initial_epoch, 0, batches_done)
    elif epoch == initial_epoch:
        warnings.warn("fit_dataset(): the dataset generated no batches; nothing was trained.", stacklevel=5)
    else:
        warnings.warn(f"fit_dataset(): the dataset generated no batches for epoch {epoch + 1} (it did for "
                      "the epochs before), so training stops here. Each epoch iterates the dataset "
                      "afresh: a dataset that can be read only once (lm.data.func, or a generator "
                      "function that returns the same exhausted iterator) needs batches_per_epoch and "
                      "repeat(), or lm.data.generator(fn) with fn making a new generator each call.",
                      stacklevel=5)


def _close(iterator):
    """Ends an iterator that will not be read to its end, so a prefetching dataset's background
    thread and buffers go now rather than whenever the garbage collector gets to them."""
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


# ---------------------------------------------------------------- evaluate_dataset

def evaluate_dataset(model, dataset, batches=None, verbose=0):
    """The loss, or [loss, metrics...], over the batches of `dataset`, as floats (as evaluate)."""
    _require_compiled(model)
    _check_dataset(dataset, "dataset", "evaluate_dataset()")
    if batches is not None and not _is_positive_int(batches):
        shown = json.dumps(batches) if isinstance(batches, (int, float, str)) else repr(batches)
        raise ValueError(f"Test loop expects `batches` to be a positive integer, but received {shown}")
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    _check_ends(dataset, batches, "dataset", "batches", "evaluate_dataset()")
    values = _evaluate_batches(model, dataset, batches, "evaluate_dataset()")
    return _results(model, values, return_dict=False)


def _evaluate_batches(model, dataset, batches, caller):
    """[loss, metrics...] over a fresh pass (at most `batches` batches): each batch's means
    weighted by its size, divided by the number of examples (TF.js evaluateDataset)."""
    totals = np.zeros(1 + len(model._metric_fns))
    examples = seen = 0
    iterator = iter(dataset)
    try:
        for element in itertools.islice(iterator, batches):
            x, y, weights = _batch_arrays(model, element, None, caller)
            totals += _test_batch(model, x, y, weights) * x.shape[0]
            examples += x.shape[0]
            seen += 1
    finally:
        _close(iterator)
    if batches is not None and seen < batches:
        warnings.warn(f"Your dataset iterator ran out of data during {caller} after {seen} batches. "
                      "Interrupting evaluation. Make sure that your dataset can generate at least `batches` "
                      f"batches (in this case, {batches} batches). You may need to use the repeat() "
                      "function when building your dataset.", stacklevel=4)
    if not examples:
        warnings.warn(f"{caller}: the dataset generated no examples; the results are NaN.", stacklevel=4)
        return [math.nan] * len(totals)
    return [float(v) for v in totals / examples]
