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

__all__ = ["enabled", "is_eligible", "why_not_fused", "batch_usable", "training_runner", "inference_runner"]

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


class _NotFusable(Exception):
    """Why a model trains on the tape (raised while planning, caught by the callers)."""


def _leading_flattens(model):
    """1 when a Flatten layer takes the model's rank >= 3 input to 2-D by a reshape of
    C-ordered rows (channels_last; channels_first transposes first), 0 for a 2-D input model."""
    if len(model._input_batch_shape()) == 2:
        return 0
    first = model.layers[0]
    if type(first) is not Flatten:
        raise _NotFusable("its input has more than 2 axes and its first layer is not a Flatten layer")
    if first.data_format == "channels_first":
        raise _NotFusable("its Flatten layer is channels_first (a transpose, not a reshape)")
    return 1


def _dense_stage_problem(layer):
    """Why a Dense layer cannot be a fused stage, or None."""
    if layer.kernel is None:
        return f"layer {layer.name} is not built"
    for weight in _dense_weights(layer):  # the weights' own: those the tape applies
        if _rates(weight.regularizer) is None:
            return f"{weight.name} has a regularizer other than lm.regularizers.l1/l2/l1l2"
        if weight.constraint is not None:
            return f"{weight.name} has a constraint"
    return None


def _planned_stages(model):
    """[(kind, activation name or rate, layer)] for a model the fused trainer can run; raises
    _NotFusable otherwise. Dropout layers that never drop (rate 0, or 1, which Dropout treats
    as off) are left out."""
    from lamina.models import Sequential  # models imports the engine

    if type(model) is not Sequential:
        raise _NotFusable(f"it is a {type(model).__name__}, not a lm.sequential model")
    if not model.layers:
        raise _NotFusable("it has no layers")
    stages = []
    for layer in model.layers[_leading_flattens(model):]:
        if getattr(layer, "activity_regularizer", None) is not None:
            raise _NotFusable(f"layer {layer.name} has an activity regularizer")
        if type(layer) in (Dense, Activation):
            act = _activation_name(layer.activation)
            if act is None:
                given = getattr(layer.activation, "name", type(layer.activation).__name__)
                raise _NotFusable(f"layer {layer.name}'s activation {given!r} has no fused kernel (fused: "
                                  + ", ".join(sorted(_KERNEL_ACTIVATIONS)) + ", softmax last)")
        if type(layer) is Dense:
            problem = _dense_stage_problem(layer)
            if problem:
                raise _NotFusable(problem)
            stages.append(("dense", "linear" if act == "softmax" else act, layer))
            if act == "softmax":
                stages.append(("softmax", None, None))
        elif type(layer) is Activation:
            stages.append(("softmax", None, None) if act == "softmax" else ("activation", act, None))
        elif type(layer) is Dropout:
            if layer.noise_shape is not None:
                raise _NotFusable(f"layer {layer.name} has a noise_shape")
            if 0 < layer.rate < 1:
                stages.append(("dropout", layer.rate, layer))
        else:
            raise _NotFusable(f"layer {layer.name} is a {type(layer).__name__} (fused: Dense, Activation, "
                              "Dropout, a leading Flatten)")
    if not stages:
        raise _NotFusable("it has no Dense or Activation layer")
    if any(kind == "softmax" for kind, _, _ in stages[:-1]):
        raise _NotFusable("a softmax is not its last stage")
    weights = [w for kind, _, layer in stages if kind == "dense" for w in _dense_weights(layer)]
    for w in weights:
        if not w.trainable:
            raise _NotFusable(f"{w.name} is not trainable")
        if w.dtype != "float32":
            raise _NotFusable(f"{w.name} is {w.dtype}, not float32")
    compiled = getattr(model, "_collected_weights", None)
    if (compiled is None or [id(w) for w in compiled] != [id(w) for w in weights]
            or [id(w) for w in model.weights] != [id(w) for w in weights]):
        raise _NotFusable("its weights are not those it was compiled with (compile it again)")
    return stages


def _stages(model):
    """_planned_stages(model), or None for a model the fused trainer cannot run."""
    try:
        return _planned_stages(model)
    except _NotFusable:
        return None


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


def why_not_fused(model):
    """Why `fit` trains this model on the tape (the slower, general path), or None when the
    fused trainer runs it.

    >>> import lamina as lm
    >>> model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[3], kernel_constraint="nonNeg")])
    >>> model.compile(optimizer="sgd", loss="meanSquaredError")
    >>> why_not_fused(model)
    'dense_Dense.../kernel has a constraint'
    >>> model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[3])])
    >>> model.compile(optimizer="sgd", loss="meanSquaredError")
    >>> why_not_fused(model) is None
    True
    """
    if not getattr(model, "_compiled", False):
        return "it is not compiled"
    try:
        _planned_stages(model)
    except _NotFusable as reason:
        return str(reason)
    if model._loss_fn not in _LOSSES:
        return "its loss is not one of " + ", ".join(sorted(set(_LOSSES.values())))
    for name, fn in model._metric_fns:
        if fn not in _METRICS:
            return f"metric {name!r} is not one of the accuracies or built-in losses"
    if type(model.optimizer) not in _OPTIMIZERS:
        return f"its optimizer is a {type(model.optimizer).__name__}, not one of lm.train's own"
    # Sparse metrics need sparse labels and the others full rows (the tape reports the mix).
    sparse_loss = model._loss_fn is layer_losses.sparse_categorical_crossentropy
    if not all((_METRICS[fn] in _SPARSE) == sparse_loss for _, fn in model._metric_fns):
        return "it mixes sparse and one-hot losses or metrics"
    return None


def is_eligible(model):
    """Whether the fused path can train this compiled model (see the module docstring, and
    why_not_fused for the reason when not).

    >>> import lamina as lm
    >>> model = lm.sequential(layers=[lm.layers.flatten(input_shape=[2, 2]), lm.layers.dense(units=3),
    ...                               lm.layers.dropout(rate=0.2), lm.layers.dense(units=2, activation="softmax")])
    >>> is_eligible(model)  # not compiled yet
    False
    >>> model.compile(optimizer="adam", loss="categoricalCrossentropy", metrics=["accuracy"])
    >>> is_eligible(model)
    True
    """
    return why_not_fused(model) is None


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
        out = self.trainer.train_batch(self.inputs(x), self.labels(y), weights, self.optimizer.learning_rate,
                                       self.optimizer._step_state, noise_seeds=self.noise_seeds())
        return [float(v) for v in out]

    def train_epoch(self, x, y, weights, order, batch_size):
        """One call for all batches of `order`; a [batches, 1 + metrics] float64 array."""
        batches = -(-len(order) // batch_size)
        return self.trainer.train_epoch(self.inputs(x), self.labels(y), weights, order, batch_size,
                                        self.optimizer.learning_rate, self.optimizer._step_state,
                                        noise_seeds=self.noise_seeds(batches))

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
