"""The fused training path: whole train steps of eligible models in one C++ call.

`fit`, `fit_dataset`, `train_on_batch`, `evaluate`, `evaluate_dataset` and `predict` ask this
module first. For a model it can run, it returns a runner over a
`lamina._core.fused.FusedTrainer`: a plan built once per compiled model (layer shapes,
activations, loss, metrics, optimizer, workspaces for a maximum batch) that works on the very
numpy buffers the model's Variables and the optimizer's slots own, so `model.weights[i].val`
and `optimizer.get_weights()` always show the current state. The GIL is released for the
whole call, so other Python threads keep running while `fit` runs.

Eligible: a Sequential model (not a subclass) of Dense layers (activations linear relu relu6
elu selu sigmoid hard_sigmoid tanh softplus softsign swish gelu mish, softmax on the last
layer), Activation layers of those kinds and Dropout layers (without noise_shape), on
float32 inputs that are 2-D or flattened by leading Flatten layers (channels_last), every
weight trainable, float32, with L1L2 regularizers (l1, l2, l1l2) or none, no activity
regularizer, no constraints; losses categoricalCrossentropy,
sparseCategoricalCrossentropy, binaryCrossentropy, meanSquaredError, meanAbsoluteError;
metrics the accuracies and those losses; any of the seven lm.train optimizers (exact
classes). Anything else returns None and the tape path runs, silently and correctly. The
environment variable LAMINA_FUSED=0 (read at each call) forces the tape path.

>>> import lamina as lm
>>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[1])])
>>> model.compile(optimizer=lm.train.sgd(0.1), loss="meanSquaredError")
>>> from lamina.engine import fused
>>> fused.is_eligible(model)
True
>>> model.add(lm.layers.dropout(rate=0.5, noise_shape=[1, 1]))
>>> model.compile(optimizer=lm.train.sgd(0.1), loss="meanSquaredError")
>>> fused.is_eligible(model)
False

Dropout draws its masks in C++ from the very generator states the tape path would use
(`lamina.random.noise_seed`), so both paths zero the same values after the same `set_seed`.
"""

import os

import numpy as np

from lamina import _core, activations, optimizers, regularizers
from lamina.layers.core import Activation, Dense, Dropout, Flatten
from lamina.random import noise_seed, stream_noise_seeds
from lamina.losses import layers as layer_losses
from lamina import metrics as metric_functions

__all__ = ["enabled", "is_eligible", "batch_usable", "training_runner", "inference_runner"]

_KERNEL_ACTIVATIONS = {"linear", "relu", "relu6", "elu", "selu", "sigmoid", "hard_sigmoid", "tanh",
                       "softplus", "softsign", "swish", "gelu", "mish"}

_LOSSES = {
    layer_losses.categorical_crossentropy: "categorical_crossentropy",
    layer_losses.sparse_categorical_crossentropy: "sparse_categorical_crossentropy",
    layer_losses.binary_crossentropy: "binary_crossentropy",
    layer_losses.mean_squared_error: "mean_squared_error",
    layer_losses.mean_absolute_error: "mean_absolute_error",
}

_METRICS = {
    metric_functions.binary_accuracy: "binary_accuracy",
    metric_functions.categorical_accuracy: "categorical_accuracy",
    metric_functions.sparse_categorical_accuracy: "sparse_categorical_accuracy",
    **_LOSSES,
}

_SPARSE = {"sparse_categorical_accuracy", "sparse_categorical_crossentropy"}

# Exact classes only: a subclass may override _update.
_OPTIMIZERS = {optimizers.SGD: "sgd", optimizers.Momentum: "momentum", optimizers.Adam: "adam",
               optimizers.Adamax: "adamax", optimizers.RMSProp: "rmsprop",
               optimizers.Adagrad: "adagrad", optimizers.Adadelta: "adadelta"}


def enabled():
    """False when the environment variable LAMINA_FUSED is '0' (read at each call).

    >>> enabled() in (True, False)
    True
    """
    return os.environ.get("LAMINA_FUSED", "1") != "0"


def _activation_name(activation):
    """The kernel's name for a built-in activation, 'softmax', or None (not fusable)."""
    if isinstance(activation, activations._Function) or not isinstance(activation, activations.Activation):
        return None
    name = activation.name
    return name if name in _KERNEL_ACTIVATIONS or name == "softmax" else None


def _rates(regularizer):
    """(l1, l2) of a built-in L1L2 regularizer, (0, 0) for none, None for any other."""
    if regularizer is None:
        return 0.0, 0.0
    if type(regularizer) is not regularizers.L1L2:
        return None
    return float(regularizer.l1), float(regularizer.l2)


def _dense_weights(layer):
    """A Dense layer's kernel and bias (when it has one), as LayerWeights."""
    return [w for w in (layer.kernel, layer.bias) if w is not None]


def _leading_flattens(model):
    """1 when a Flatten layer takes the model's rank >= 3 input to 2-D by a reshape of
    C-ordered rows (channels_last; channels_first transposes first), 0 for a 2-D input
    model, None otherwise."""
    if len(model._input_batch_shape()) == 2:
        return 0
    first = model.layers[0]
    return 1 if type(first) is Flatten and first.data_format != "channels_first" else None


def _stages(model):
    """[(kind, activation name or rate, layer)] for an eligible model, else None. Dropout
    layers that never drop (rate 0, or 1, which Dropout treats as off) are left out."""
    from lamina.models import Sequential  # models imports the engine

    if type(model) is not Sequential or not model.layers:
        return None
    flattens = _leading_flattens(model)
    if flattens is None:
        return None
    stages = []
    for layer in model.layers[flattens:]:
        if getattr(layer, "activity_regularizer", None) is not None:
            return None
        if type(layer) is Dense:
            # The weights' own regularizers and constraints: those the tape applies.
            if layer.kernel is None or any(_rates(w.regularizer) is None or w.constraint is not None
                                           for w in _dense_weights(layer)):
                return None
            act = _activation_name(layer.activation)
            if act is None:
                return None
            stages.append(("dense", "linear" if act == "softmax" else act, layer))
            if act == "softmax":
                stages.append(("softmax", None, None))
        elif type(layer) is Activation:
            act = _activation_name(layer.activation)
            if act is None:
                return None
            stages.append(("softmax", None, None) if act == "softmax" else ("activation", act, None))
        elif type(layer) is Dropout:
            if layer.noise_shape is not None:
                return None
            if 0 < layer.rate < 1:
                stages.append(("dropout", layer.rate, layer))
        else:
            return None
    if not stages or any(kind == "softmax" for kind, _, _ in stages[:-1]):
        return None
    weights = [w for kind, _, layer in stages if kind == "dense" for w in _dense_weights(layer)]
    compiled = getattr(model, "_collected_weights", None)
    if (compiled is None or [id(w) for w in compiled] != [id(w) for w in weights]
            or [id(w) for w in model.weights] != [id(w) for w in weights]
            or not all(w.trainable and w.dtype == "float32" for w in weights)):
        return None
    return stages


def _plan_signature(stages):
    """What a plan bakes in besides buffers and optimizer: each stage's kind, activation or
    dropout rate, regularizer rates and dropout seed (a change to any means a new plan)."""
    signature = []
    for kind, act, layer in stages:
        if kind == "dense":
            signature.append((kind, act, *(_rates(w.regularizer) for w in _dense_weights(layer))))
        elif kind == "dropout":
            signature.append((kind, act, layer.seed))
        else:
            signature.append((kind, act))
    return signature


def is_eligible(model):
    """Whether the fused path can train this compiled model (see the module docstring).

    >>> import lamina as lm
    >>> model = lm.sequential(layers=[lm.layers.flatten(input_shape=[2, 2]), lm.layers.dense(units=3),
    ...                               lm.layers.dropout(rate=0.2), lm.layers.dense(units=2, activation="softmax")])
    >>> is_eligible(model)  # not compiled yet
    False
    >>> model.compile(optimizer="adam", loss="categoricalCrossentropy", metrics=["accuracy"])
    >>> is_eligible(model)
    True
    """
    if not getattr(model, "_compiled", False):
        return False
    if not (_stages(model) is not None and model._loss_fn in _LOSSES
            and all(fn in _METRICS for _, fn in model._metric_fns)
            and type(model.optimizer) in _OPTIMIZERS):
        return False
    # Sparse metrics need sparse labels and the others full rows (the tape reports the mix).
    sparse_loss = model._loss_fn is layer_losses.sparse_categorical_crossentropy
    return all((_METRICS[fn] in _SPARSE) == sparse_loss for _, fn in model._metric_fns)


def _hyperparameters(optimizer):
    kind = _OPTIMIZERS[type(optimizer)]
    if kind == "momentum":
        return {"momentum": optimizer.momentum, "nesterov": optimizer.use_nesterov}
    if kind in ("adam", "adamax"):
        values = {"beta1": optimizer.beta1, "beta2": optimizer.beta2, "epsilon": optimizer.epsilon}
        if kind == "adamax":
            values["decay"] = optimizer.decay
        return values
    if kind == "rmsprop":
        return {"decay": optimizer.decay, "momentum": optimizer.momentum, "epsilon": optimizer.epsilon,
                "centered": optimizer.centered}
    if kind == "adagrad":
        return {"epsilon": optimizers.EPSILON}
    if kind == "adadelta":
        return {"rho": optimizer.rho, "epsilon": optimizer.epsilon}
    return {}


class _Runner:
    """A FusedTrainer with what it was built from, so a stale plan is noticed and rebuilt."""

    def __init__(self, model, stages, train, max_batch):
        self.model = model
        self.optimizer = model.optimizer
        self.loss_fn = model._loss_fn
        self.metric_fns = [fn for _, fn in model._metric_fns]
        self.train = train
        variables = [w.read() for w in model._collected_weights]
        self.buffers = [v._data for v in variables]
        self.slots = []
        if train:
            # Made now, in the tape's order (TF.js creates them lazily at the first step).
            names = {v.name for v in variables}
            self.slots = [self.optimizer._slots_for(v, i, names) for i, v in enumerate(variables)]
        kinds = self.optimizer.slot_kinds
        self.slot_arrays = [[slots[kind] for kind in kinds] for slots in self.slots]
        self.hyperparameters = _hyperparameters(self.optimizer)
        specs, position = [], 0
        self.signature = _plan_signature(stages)
        self.dropouts = []  # the Dropout layers, in stage order: one noise seed each per step
        self.flattens = _leading_flattens(model)
        for kind, act, layer in stages:
            if kind == "dropout":
                if train:  # forward-only plans never drop
                    specs.append({"kind": "dropout", "rate": float(act)})
                    self.dropouts.append(layer)
                continue
            spec = {"kind": kind, "activation": act or "linear"}
            if kind == "dense":
                for which, weight in zip(("kernel", "bias"), _dense_weights(layer)):
                    spec[which + "_l1"], spec[which + "_l2"] = _rates(weight.regularizer)
                spec["kernel"] = self.buffers[position]
                spec["kernel_slots"] = self.slot_arrays[position] if train else []
                position += 1
                if layer.bias is not None:
                    spec["bias"] = self.buffers[position]
                    spec["bias_slots"] = self.slot_arrays[position] if train else []
                    position += 1
            specs.append(spec)
        self.trainer = _core.fused.FusedTrainer(
            specs, int(np.prod(model._input_batch_shape()[1:])), _LOSSES[self.loss_fn],
            [_METRICS[fn] for fn in self.metric_fns], _OPTIMIZERS[type(self.optimizer)],
            self.hyperparameters, int(max_batch), train)
        self.max_batch = int(max_batch)
        self.sparse = _LOSSES[self.loss_fn] == "sparse_categorical_crossentropy"

    def current(self, model, max_batch):
        """Whether this plan still describes `model` (same objects, same buffers and slots,
        same activations, dropout rates and seeds, regularizer rates)."""
        stages = _stages(model)
        if stages is None or _plan_signature(stages) != self.signature:
            return False
        if (model.optimizer is not self.optimizer or model._loss_fn is not self.loss_fn
                or max_batch > self.max_batch
                or [fn for _, fn in model._metric_fns] != self.metric_fns
                or _hyperparameters(self.optimizer) != self.hyperparameters):
            return False
        variables = [w.read() for w in model._collected_weights]
        if len(variables) != len(self.buffers) or any(v._data is not b for v, b in zip(variables, self.buffers)):
            return False
        if self.train:
            by_name = self.optimizer._slots_by_variable
            kinds = self.optimizer.slot_kinds
            for v, arrays in zip(variables, self.slot_arrays):
                slots = by_name.get(v.name)
                if slots is None or any(slots.arrays.get(k) is not a for k, a in zip(kinds, arrays)):
                    return False
        return True

    # --- optimizer state, synced both ways around every call

    def _state(self):
        opt = self.optimizer
        return (opt._iterations, float(getattr(opt, "_acc_beta1", 1.0)), float(getattr(opt, "_acc_beta2", 1.0)))

    def _store(self, iterations, beta1_power, beta2_power):
        opt = self.optimizer
        opt._iterations = int(iterations)
        if hasattr(opt, "_acc_beta1"):
            opt._acc_beta1 = np.float32(beta1_power)
        if hasattr(opt, "_acc_beta2"):
            opt._acc_beta2 = np.float32(beta2_power)

    def labels(self, y):
        """y as the trainer takes it: sparse labels as one column."""
        return y.reshape(-1) if self.sparse else y

    def inputs(self, x):
        """x as the trainer takes it: the leading Flatten layers' reshape to [rows, features]."""
        return x.reshape(x.shape[0], -1) if self.flattens else x

    def noise_seeds(self, steps=None):
        """The generator states each Dropout layer would draw its mask from on the tape path,
        step by step and layer by layer (the tape's order): [steps, dropouts, 4] uint64, or
        [dropouts, 4] for one step; None without dropout."""
        if not self.dropouts:
            return None
        count = 1 if steps is None else steps
        seeds = np.empty((count, len(self.dropouts), 4), np.uint64)
        drawing = [index for index, layer in enumerate(self.dropouts) if layer.seed is None]
        for index, layer in enumerate(self.dropouts):
            if layer.seed is not None:  # its own generator: the same state every step
                seeds[:, index] = noise_seed(layer.seed)
        if drawing:  # the global stream's next generators, step by step, layer by layer
            seeds[:, drawing] = stream_noise_seeds(count * len(drawing)).reshape(count, len(drawing), 4)
        return seeds[0] if steps is None else seeds

    def train_batch(self, x, y, weights):
        """One step; [loss, metrics...] as floats."""
        out, *state = self.trainer.train_batch(self.inputs(x), self.labels(y), weights,
                                               self.optimizer.learning_rate, *self._state(),
                                               noise_seeds=self.noise_seeds())
        self._store(*state)
        return [float(v) for v in out]

    def train_epoch(self, x, y, weights, order, batch_size):
        """One call for all batches of `order`; a [batches, 1 + metrics] float64 array."""
        batches = -(-len(order) // batch_size)
        out, *state = self.trainer.train_epoch(self.inputs(x), self.labels(y), weights, order, batch_size,
                                               self.optimizer.learning_rate, *self._state(),
                                               noise_seeds=self.noise_seeds(batches))
        self._store(*state)
        return out

    def evaluate_batch(self, x, y, weights):
        return self.trainer.evaluate_batch(self.inputs(x), self.labels(y), weights)

    def evaluate_batches(self, x, y, weights, batch_size):
        """[batches, 1 + metrics]: evaluate_batch of each batch of batch_size rows, one call."""
        return self.trainer.evaluate_batches(self.inputs(x), self.labels(y), weights, batch_size)

    def predict(self, x):
        return self.trainer.predict(self.inputs(x))


def _labels_usable(model, y):
    """Sparse labels must be class indices in range, else the tape path raises its error."""
    if model._loss_fn is not layer_losses.sparse_categorical_crossentropy and not any(
            fn is layer_losses.sparse_categorical_crossentropy for _, fn in model._metric_fns):
        return True
    classes = model._output_shape()[-1]
    indices = np.floor(y)
    return bool(np.all((indices >= 0) & (indices < classes)))


def _runner(model, train, max_batch):
    if not enabled() or not is_eligible(model):
        return None
    cache = model.__dict__.setdefault("_fused_runners", {})
    runner = cache.get(train)
    if runner is None or not runner.current(model, max_batch):
        runner = _Runner(model, _stages(model), train, max(max_batch, 1))
        cache[train] = runner
    return runner


def _arrays_usable(x, y=None, weights=None):
    arrays = [x] + [a for a in (y, weights) if a is not None]
    return all(isinstance(a, np.ndarray) and a.dtype == np.float32 and a.flags.c_contiguous for a in arrays)


def batch_usable(model, x, y=None, weights=None):
    """Whether the fused trainer takes these arrays for `model`: float32 C-contiguous, x of
    the model's input rank, sparse labels in range (else the tape raises its error).

    >>> import lamina as lm, numpy as np
    >>> model = lm.sequential(layers=[lm.layers.dense(units=3, input_shape=[4], activation="softmax")])
    >>> model.compile(optimizer="sgd", loss="sparseCategoricalCrossentropy")
    >>> x = np.zeros((2, 4), np.float32)
    >>> batch_usable(model, x, np.array([[0], [2]], np.float32)), batch_usable(model, x, np.array([[0], [3]], np.float32))
    (True, False)
    """
    return (_arrays_usable(x, y, weights) and x.ndim == len(model._input_batch_shape())
            and (y is None or _labels_usable(model, y)))


def training_runner(model, x, y, weights, batch_size):
    """A runner that trains `model` on rows of x, y (float32 arrays) in batches of at most
    batch_size, or None for the tape path.

    >>> import lamina as lm, numpy as np
    >>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[2])])
    >>> model.compile(optimizer=lm.train.sgd(0.1), loss="meanSquaredError")
    >>> x, y = np.ones((4, 2), np.float32), np.ones((4, 1), np.float32)
    >>> runner = training_runner(model, x, y, None, batch_size=2)
    >>> runner.train_epoch(x, y, None, np.arange(4), 2).shape  # [batches, 1 + metrics]
    (2, 1)
    >>> model.optimizer.iterations
    2
    """
    if not batch_usable(model, x, y, weights):
        return None
    return _runner(model, True, batch_size)


def inference_runner(model, x, batch_size, y=None, weights=None):
    """A forward-only runner (evaluate with y, predict without), or None for the tape path.

    >>> import lamina as lm, numpy as np
    >>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[2], kernel_initializer="ones")])
    >>> model.compile(optimizer="sgd", loss="meanSquaredError")
    >>> inference_runner(model, np.ones((3, 2), np.float32), batch_size=2).predict(np.ones((3, 2), np.float32)).tolist()
    [[2.0], [2.0], [2.0]]
    """
    if not batch_usable(model, x, y, weights):
        return None
    if y is None and not getattr(model, "_compiled", False):
        return None
    return _runner(model, False, batch_size)
