"""Models: `lm.sequential`, a stack of layers with compile, fit, evaluate, predict and summary.

>>> import lamina as lm
>>> model = lm.sequential(layers=[
...     lm.layers.dense(input_shape=[4], units=8, activation="relu"),
...     lm.layers.dense(units=3, activation="softmax"),
... ])
>>> model.compile(optimizer="sgd", loss="categoricalCrossentropy", metrics=["accuracy"])
>>> model.metrics_names
['loss', 'acc']
>>> model.predict(lm.ones([2, 4])).shape
[2, 3]
"""

import asyncio
import numbers
import warnings

import numpy as np

from lamina._public import public_dir
from lamina import losses as _losses
from lamina import metrics as _metrics
from lamina.data.dataset import Dataset
from lamina.engine import dataset_training as _dataset_training
from lamina.engine import summary as _summary
from lamina.engine import training as _training
from lamina.tensor import Tensor, as_tensor

__all__ = ["Sequential", "sequential", "model_from_json"]
__dir__ = public_dir(__all__)  # dir() lists the public names only

FIRST_LAYER_NEEDS_SHAPE = ("The first layer in a Sequential model must get an `input_shape` or "
                           "`batch_input_shape` argument: input_shape=[...] or "
                           "batch_input_shape=[None, ...], e.g. lm.layers.dense(units=32, input_shape=[784]).")


def _layer_base():
    from lamina.layers import Layer

    return Layer


class Sequential:
    """A linear stack of layers (TF.js tf.Sequential); make one with `lm.sequential`.

    Layers are built as they are added, so weights exist (and are named, and can be set)
    before any data is seen; the first layer must declare its input with `input_shape` or
    `batch_input_shape` (or be an `lm.layers.input_layer`).
    """

    class_name = "Sequential"

    def __init__(self, layers=None, name=None):
        from lamina.layers.base import get_uid

        if name is None:
            name = get_uid("sequential_")
        elif not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty str, got {name!r}")
        self.name = name
        self.layers = []
        self._shapes = []  # (input batch shape, output batch shape) of each layer in self.layers
        self._input_shape = None  # the model's input batch shape, [None, 784]
        self._input_name = None
        self._compiled = False
        self._trainable = True
        self._log_aliases = {}  # Keras's names for log keys: {"accuracy": "acc", ...}
        self._uncompiled_reason = None  # set by lm.load_layers_model for the NotCompiledError
        self._is_training = False
        self._stop_training = False
        self.optimizer = None
        self.loss = None
        self.metrics_names = []
        self.history = None
        self._input_layer = None  # an explicit InputLayer, saved first as TF.js does
        self._compile_metrics = None  # compile's metrics argument, for the saved trainingConfig
        self._user_defined_metadata = None
        if layers is not None:
            if not isinstance(layers, (list, tuple)):
                raise TypeError(f"layers must be a list of layers, got {type(layers).__name__}")
            for layer in layers:
                self.add(layer)

    # ---------------------------------------------------------------- structure

    def add(self, layer):
        """Appends a layer, building it for the previous layer's output shape.

        >>> import lamina as lm
        >>> model = lm.sequential()
        >>> model.add(lm.layers.dense(units=2))
        Traceback (most recent call last):
        ...
        ValueError: The first layer in a Sequential model must get an `input_shape` or `batch_input_shape` argument: input_shape=[...] or ...
        """
        if not isinstance(layer, _layer_base()):
            raise TypeError(f"The added layer must be an instance of class Layer. Found: {layer!r}")
        if layer.class_name == "InputLayer":
            if self.layers or self._input_shape is not None:
                raise ValueError("An input_layer can only be the first layer of a Sequential model; "
                                 f"this model already has an input of shape {self._input_shape}")
            self._input_shape, self._input_name = list(layer.batch_input_shape), layer.name
            self._input_layer = layer
            return
        if any(existing.name == layer.name for existing in self.layers):
            raise ValueError(f'The layer name "{layer.name}" is used 2 times in the model. '
                             "All layer names should be unique.")
        if self._input_shape is None:
            if layer.batch_input_shape is None:
                raise ValueError(FIRST_LAYER_NEEDS_SHAPE)
            self._input_shape = list(layer.batch_input_shape)
            self._input_name = f"{layer.name}_input"
        input_shape = self._shapes[-1][1] if self._shapes else self._input_shape
        layer._warn_on_incompatible_input_shape(list(input_shape))
        if not layer.built:
            layer.build(list(input_shape))
        output_shape = list(layer.compute_output_shape(list(input_shape)))
        self.layers.append(layer)
        self._shapes.append((list(input_shape), output_shape))

    def pop(self):
        """Removes the last layer (TF.js pop).

        >>> import lamina as lm
        >>> model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[3])])
        >>> model.pop(); model.layers
        []
        """
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        self.layers.pop()
        self._shapes.pop()

    def _require_layers(self):
        if not self.layers:
            raise ValueError("Sequential model cannot be built: model is empty. Add some layers first.")

    def _layer_shapes(self):
        return [(list(i), list(o)) for i, o in self._shapes]

    def _input_batch_shape(self):
        self._require_layers()
        return list(self._input_shape)

    def _output_shape(self):
        self._require_layers()
        return list(self._shapes[-1][1])

    @property
    def input_names(self):
        """[the input's name]: '<first layer name>_input', as TF.js names Sequential's input."""
        self._require_layers()
        return [self._input_name]

    @property
    def output_names(self):
        """[the last layer's name]."""
        self._require_layers()
        return [self.layers[-1].name]

    @property
    def input_shape(self):
        return self._input_batch_shape()

    @property
    def output_shape(self):
        return self._output_shape()

    def get_layer(self, name=None, index=None):
        """A layer by name or by position.

        >>> import lamina as lm
        >>> model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[3], name="first")])
        >>> model.get_layer("first").name, model.get_layer(index=0).name
        ('first', 'first')
        """
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, numbers.Integral):
                raise TypeError(f"index must be an int, got {index!r}")
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"Was asked to retrieve layer at index {index}, but model only has "
                                 f"{len(self.layers)} layer(s).")
            return self.layers[index]
        if name is None:
            raise ValueError("Provide either a layer name or layer index")
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Layers: {', '.join(l.name for l in self.layers)}")

    # ---------------------------------------------------------------- weights

    @property
    def trainable(self):
        """Whether fit trains the model's weights; setting it sets every layer's weights
        (TF.js Container.trainable). False freezes them all: trainable_weights is then
        empty, summary counts them as non-trainable and fit refuses to run (TF.js's
        "none of the variables is trainable"). Set it before compile, or compile again.
        The layers' own `trainable` flags are left as they are, as in TF.js.

        >>> import lamina as lm
        >>> model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[3])])
        >>> model.trainable = False
        >>> len(model.trainable_weights), len(model.non_trainable_weights)
        (0, 2)
        """
        return self._trainable

    @trainable.setter
    def trainable(self, trainable):
        if not isinstance(trainable, bool):
            raise TypeError(f"trainable must be True or False, got {trainable!r}")
        for layer in self.layers:
            for weight in layer._trainable_weights:
                weight.trainable = trainable
        self._trainable = trainable

    @property
    def trainable_weights(self):
        """The trainable LayerWeights, layer by layer ([] when model.trainable is False)."""
        if not self._trainable:
            return []
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        """The other LayerWeights; when model.trainable is False, every weight (the layers'
        trainable ones first, as TF.js)."""
        frozen = [w for layer in self.layers for w in layer.non_trainable_weights]
        if not self._trainable:
            return [w for layer in self.layers for w in layer.trainable_weights] + frozen
        return frozen

    @property
    def weights(self):
        """Every LayerWeight: the trainable ones, then the others (TF.js's order).

        >>> import lamina as lm
        >>> model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[3], name="doc_w")])
        >>> [(w.name, w.shape) for w in model.weights]
        [('doc_w/kernel', [3, 2]), ('doc_w/bias', [2])]
        """
        return self.trainable_weights + self.non_trainable_weights

    def get_weights(self):
        """The weights' values as numpy arrays (copies), in `weights` order."""
        return [w.val.numpy() for w in self.weights]

    def set_weights(self, weights):
        """Sets every weight from arrays in `weights` order; shapes are checked before any write.

        >>> import lamina as lm
        >>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[2])])
        >>> model.set_weights([[[1.0], [2.0]], [0.5]])
        >>> model.predict([[1.0, 1.0]]).array()
        [[3.5]]
        """
        targets = self.weights
        arrays = [np.asarray(w._data if isinstance(w, Tensor) else w, np.float32) for w in weights]
        if len(arrays) != len(targets):
            raise ValueError(f"set_weights: the model has {len(targets)} weights, got a list of {len(arrays)} arrays")
        for target, array in zip(targets, arrays):
            if list(array.shape) != target.shape:
                raise ValueError(f"set_weights: {target.name} has shape {target.shape}, "
                                 f"got an array of shape {list(array.shape)}")
        for target, array in zip(targets, arrays):
            target.val.assign(array.astype(target.val._data.dtype))

    def count_params(self):
        """The number of values in all the weights.

        >>> import lamina as lm
        >>> lm.sequential(layers=[lm.layers.dense(units=32, input_shape=[784])]).count_params()
        25120
        """
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, line_length=None, positions=None, print_fn=print):
        """Prints TF.js's summary table (see lamina.engine.summary); print_fn receives each line.

        >>> import lamina as lm
        >>> model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[3], name="doc_s")])
        >>> lines = []
        >>> model.summary(print_fn=lines.append)
        >>> lines[3].rstrip(), lines[5]
        ('doc_s (Dense)               [[null,3]]                [null,2]                  8', 'Total params: 8')
        """
        self._require_layers()
        _summary.print_summary(self, line_length, positions, print_fn)

    # ---------------------------------------------------------------- running

    def _forward(self, x, training):
        for layer in self.layers:
            x = layer(x, training=training)
        return x

    def __call__(self, x, training=False):
        """Runs the layers on x (recorded on the tape when inside a gradient).

        >>> import lamina as lm
        >>> model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[3])])
        >>> model(lm.ones([4, 3])).shape
        [4, 2]
        """
        self._require_layers()
        return self._forward(as_tensor(x, "x"), training)

    def predict(self, x, batch_size=32, verbose=0):
        """The output for x, in batches of batch_size; no dropout, nothing recorded on the tape.
        verbose (0, 1 or 2) is accepted as Keras's predict takes it; nothing is printed.

        >>> import lamina as lm
        >>> model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[3])])
        >>> model.predict(lm.ones([5, 3]), batch_size=2, verbose=0).shape
        [5, 2]
        """
        self._require_layers()
        return _training.predict(self, x, batch_size, verbose)

    def predict_on_batch(self, x):
        """The output for x as one batch (TF.js predictOnBatch)."""
        self._require_layers()
        return _training.predict(self, x, max(1, len(as_tensor(x, "x"))))

    # ---------------------------------------------------------------- training

    def compile(self, optimizer, loss, metrics=None):
        """Sets the optimizer, the loss and the metrics that fit and evaluate use.

        optimizer: a TF.js name ('sgd' lr 0.01, 'adam' lr 0.001 ε 1e-7, 'rmsprop',
        'adagrad', 'adadelta', 'adamax') or an `lm.train` optimizer. loss: a name
        (camelCase, snake_case or an alias, see `lm.losses.get`) or a function (y_true,
        y_pred) -> per-sample Tensor. metrics: names or functions; 'accuracy' is logged as
        'acc' and picks binary, categorical or sparse accuracy from the loss and output.

        >>> import lamina as lm
        >>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[2])])
        >>> model.compile(optimizer="adam", loss="mse", metrics=["mae", "accuracy"])
        >>> model.metrics_names, model.optimizer.learning_rate
        (['loss', 'mae', 'acc'], 0.001)
        """
        self._require_layers()
        loss_fn = _resolve_loss(loss)
        resolved = _resolve_metrics(metrics, loss_fn, self._output_shape(), self.output_names[0])
        self.optimizer = _training.get_optimizer(optimizer)
        self.loss = loss
        self._compile_metrics = metrics
        self._loss_fn = loss_fn
        labels = _metrics.dedupe_names([label for label, _ in resolved])
        self._metric_fns = list(zip(labels, [fn for _, fn in resolved]))
        self.metrics_names = ["loss"] + labels
        self._log_aliases = _log_aliases(metrics, labels)
        self._collected_weights = self.trainable_weights
        self._compiled = True

    def _collected_trainable_weights(self):
        """The trainable weights as of compile (TF.js's collectedTrainableWeights), else now."""
        return self._collected_weights if self._compiled else self.trainable_weights

    def _trainable_variables(self):
        if [w.name for w in self.trainable_weights] != [w.name for w in self._collected_weights]:
            warnings.warn("Discrepancy between trainableweights and collected trainable weights. Did you set "
                          "`model.trainable` without calling `model.compile()` afterwards?", stacklevel=4)
        return [w.read() for w in self._collected_weights]

    def _regularization_losses(self):
        return [penalty for layer in self.layers for penalty in layer.regularization_losses()]

    def _apply_constraints(self):
        for weight in self._collected_weights:
            if weight.constraint is not None:
                weight.apply_constraint()

    @property
    def stop_training(self):
        """Set it to True (e.g. from a callback) to end fit after the current batch."""
        return self._stop_training

    @stop_training.setter
    def stop_training(self, value):
        self._stop_training = bool(value)

    def fit(self, x, y=None, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0):
        """Trains for `epochs` epochs and returns the History (also kept as `model.history`).

        x may also be an `lm.data` Dataset of batches (then without y): as Keras's
        fit(dataset), that is `fit_dataset(x, epochs=..., ...)`, which it calls.

        TF.js's semantics: rank-1 x/y become columns; validation_split takes the last rows,
        before shuffling; the training rows are reshuffled each epoch; batches of
        batch_size, the last one smaller; batch logs {batch, size, loss, metrics...}; epoch
        logs are size-weighted means plus val_ keys. class_weight {class: weight} and
        sample_weight (one weight per sample) multiply each sample's loss before the batch
        mean. callbacks: Callback objects, dicts of functions ({"on_batch_end": fn}), or a
        list of either. verbose: 0 silent, 1 a progress bar, 2 a line per epoch.

        >>> import lamina as lm
        >>> lm.set_seed(1)
        >>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[1])])
        >>> model.compile(optimizer=lm.train.sgd(0.1), loss="meanSquaredError")
        >>> h = model.fit([[0.0], [1.0], [2.0], [3.0]], [[1.0], [3.0], [5.0], [7.0]], epochs=40, verbose=0)
        >>> h.history["loss"][-1] < 0.1 * h.history["loss"][0]
        True
        """
        if isinstance(x, Dataset):
            return self._fit_on_dataset(x, y, batch_size, validation_split, shuffle, sample_weight, epochs=epochs,
                                        verbose=verbose, callbacks=callbacks, validation_data=validation_data,
                                        class_weight=class_weight, initial_epoch=initial_epoch)
        if y is None:
            raise TypeError("fit() needs y, the targets (one row per row of x); to train on an lm.data Dataset "
                            "of (x, y) batches, pass it alone: model.fit(dataset, epochs=...)")
        return _training.fit(self, x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                             callbacks=callbacks, validation_split=validation_split,
                             validation_data=validation_data, shuffle=shuffle, class_weight=class_weight,
                             sample_weight=sample_weight, initial_epoch=initial_epoch)

    def _fit_on_dataset(self, dataset, y, batch_size, validation_split, shuffle, sample_weight, **kwargs):
        """fit(dataset): fit_dataset, after refusing fit's arguments that a Dataset decides."""
        if y is not None:
            raise ValueError("y must not be given when x is a Dataset: its elements carry the targets "
                             "({'xs': x, 'ys': y} or (x, y) batches)")
        decided = {"batch_size": (batch_size, 32, "the dataset's batches set it: dataset.batch(n)"),
                   "validation_split": (validation_split, 0.0, "use validation_data"),
                   "shuffle": (shuffle, True, "shuffle the dataset: dataset.shuffle(buffer_size)"),
                   "sample_weight": (sample_weight, None, "give (x, y, sample_weight) batches")}
        for argument, (value, default, instead) in decided.items():
            if (value is not None) if default is None else (value != default):
                raise ValueError(f"{argument} does not apply when x is a Dataset ({instead}); got {value!r}")
        return self.fit_dataset(dataset, **kwargs)

    async def fit_async(self, x, y, **kwargs):
        """`fit` for asyncio programs: awaitable, it runs fit in a worker thread
        (asyncio.to_thread), so the event loop keeps running meanwhile (the fused path
        releases the GIL for whole steps). Takes fit's arguments; returns the History.
        Callbacks run in the worker thread.

        >>> import asyncio
        >>> import lamina as lm
        >>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[1])])
        >>> model.compile(optimizer=lm.train.sgd(0.1), loss="meanSquaredError")
        >>> history = asyncio.run(model.fit_async([[0.0], [1.0]], [[1.0], [3.0]], epochs=2, verbose=0))
        >>> history.epoch
        [0, 1]
        """
        return await asyncio.to_thread(self.fit, x, y, **kwargs)

    def evaluate(self, x, y, batch_size=32, verbose=0, sample_weight=None, return_dict=False):
        """The mean loss over x, or [loss, metrics...] when there are metrics, as floats;
        with return_dict, {"loss": ..., "acc": ...} keyed by metrics_names.

        TF.js returns scalar Tensors; lamina returns plain floats, as Keras does and as
        train_on_batch, the logs and the history already hold: they print, format and
        compare as numbers (each holds the float32 value TF.js's Tensor would).

        >>> import lamina as lm
        >>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[1], kernel_initializer="ones")])
        >>> model.compile(optimizer="sgd", loss="meanSquaredError", metrics=["mae"])
        >>> model.evaluate([[1.0], [2.0]], [[1.0], [4.0]])
        [2.0, 1.0]
        >>> model.evaluate([[1.0], [2.0]], [[1.0], [4.0]], return_dict=True)
        {'loss': 2.0, 'mae': 1.0}
        """
        return _training.evaluate(self, x, y, batch_size=batch_size, verbose=verbose, sample_weight=sample_weight,
                                  return_dict=return_dict)

    def fit_dataset(self, dataset, epochs=None, batches_per_epoch=None, validation_data=None,
                    validation_batches=None, validation_batch_size=32, callbacks=None, verbose=1,
                    initial_epoch=0, class_weight=None, *, validation_split=None):
        """Trains on the batches of an `lm.data` Dataset and returns the History (TF.js fitDataset).

        Elements are batches: {"xs": x, "ys": y} (x and y a Tensor or array, a list of one,
        or a dict keyed by `input_names` / `output_names`) or tuples (x, y) or (x, y,
        sample_weight); a step's batch size is that of its x. epochs is required. Without
        batches_per_epoch each epoch iterates the dataset afresh to its end; with it, one
        iterator runs across all epochs, batches_per_epoch batches each, and if it runs out
        training stops with a warning (TF.js would run empty epochs). validation_data: a
        Dataset (validation_batches batches of it, or all) or (x, y) arrays evaluated in
        batches of validation_batch_size. Batch logs carry batch and size from
        on_batch_begin; params has samples and batch_size None and steps = batches_per_epoch,
        else the dataset's finite size. verbose=1 shows a progress bar. validation_split is
        not supported (TF.js's error).

        >>> import lamina as lm, numpy as np
        >>> lm.set_seed(0)
        >>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[1])])
        >>> model.compile(optimizer=lm.train.sgd(0.1), loss="meanSquaredError")
        >>> x = np.arange(8, dtype="float32").reshape(8, 1) / 8
        >>> ds = lm.data.zip({"xs": lm.data.array(x), "ys": lm.data.array(2 * x + 1)}).batch(4)
        >>> history = model.fit_dataset(ds, epochs=30, verbose=0)
        >>> history.params["steps"], history.history["loss"][-1] < 0.05
        (2, True)
        """
        return _dataset_training.fit_dataset(
            self, dataset, epochs=epochs, batches_per_epoch=batches_per_epoch, validation_data=validation_data,
            validation_batches=validation_batches, validation_batch_size=validation_batch_size,
            callbacks=callbacks, verbose=verbose, initial_epoch=initial_epoch, class_weight=class_weight,
            validation_split=validation_split)

    def evaluate_dataset(self, dataset, batches=None, verbose=0):
        """The mean loss over a Dataset's batches (a float), or [loss, metrics...] with
        metrics; `batches` limits how many are drawn (TF.js evaluateDataset). Elements as in
        fit_dataset; the result is the examples' mean whatever the batch sizes.

        >>> import lamina as lm
        >>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[1], kernel_initializer="ones")])
        >>> model.compile(optimizer="sgd", loss="meanSquaredError")
        >>> x, y = [[1.0], [2.0], [3.0]], [[1.0], [4.0], [3.0]]  # squared errors 0, 4, 0
        >>> ds = lm.data.zip({"xs": lm.data.array(x), "ys": lm.data.array(y)}).batch(2)
        >>> round(model.evaluate_dataset(ds), 6)  # batch means 2 and 0, weighted 2:1
        1.333333
        """
        return _dataset_training.evaluate_dataset(self, dataset, batches=batches, verbose=verbose)

    def train_on_batch(self, x, y, class_weight=None, sample_weight=None):
        """One optimizer step on (x, y); returns the loss, or [loss, metrics...], as floats."""
        return _training.train_on_batch(self, x, y, class_weight=class_weight, sample_weight=sample_weight)

    def test_on_batch(self, x, y, sample_weight=None, return_dict=False):
        """The loss, or [loss, metrics...], on (x, y) as one batch, as floats; no update, no
        dropout (Keras test_on_batch). With return_dict, {label: value}.

        >>> import lamina as lm
        >>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[1], kernel_initializer="ones")])
        >>> model.compile(optimizer="sgd", loss="meanSquaredError")
        >>> model.test_on_batch([[1.0], [2.0]], [[1.0], [4.0]])
        2.0
        """
        return _training.test_on_batch(self, x, y, sample_weight=sample_weight, return_dict=return_dict)

    # ---------------------------------------------------------------- saving (lamina.io)

    def save(self, path, include_optimizer=False):
        """Saves the model in TF.js's LayersModel format (a folder with model.json and
        weights.bin, written atomically); see `lamina.io.save`.

        >>> import os, tempfile
        >>> import lamina as lm
        >>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[2])])
        >>> info = model.save(os.path.join(tempfile.mkdtemp(), "m"))
        >>> os.path.basename(info["model_json"])
        'model.json'
        """
        from lamina import io

        return io.save(self, path, include_optimizer=include_optimizer)

    def save_weights(self, path):
        """Saves the weights alone to the folder `path`: `weights_manifest.json` (TF.js's
        weightsManifest, the list that model.json holds) and `weights.bin`, written
        atomically as `save` writes a model. No topology and no optimizer state: load them
        into a model of the same layers with `load_weights`. See `lamina.io.save_weights`.

        >>> import os, tempfile
        >>> import lamina as lm
        >>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[2], name="doc_sw")])
        >>> folder = os.path.join(tempfile.mkdtemp(), "w")
        >>> _ = model.save_weights(folder)
        >>> sorted(os.listdir(folder))
        ['weights.bin', 'weights_manifest.json']
        """
        from lamina import io

        return io.save_weights(self, path)

    def load_weights(self, path, strict=True):
        """Sets the weights (by name, else by position) from a `save_weights` folder or a saved model
        (a `save` folder or its model.json); see `lamina.io.load_weights`.

        >>> import os, tempfile
        >>> import lamina as lm
        >>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[2], name="doc_lw")])
        >>> folder = os.path.join(tempfile.mkdtemp(), "w")
        >>> _ = model.save_weights(folder)
        >>> model.set_weights([[[0.0], [0.0]], [0.0]])
        >>> model.load_weights(folder)
        >>> model.get_weights()[0].tolist() != [[0.0], [0.0]]
        True
        """
        from lamina import io

        io.load_weights(self, path, strict=strict)

    def get_config(self):
        """TF.js's Sequential config: {"name", "layers": [{"class_name", "config"}, ...]}.

        >>> import lamina as lm
        >>> model = lm.sequential(layers=[lm.layers.dropout(rate=0.5, input_shape=[2], name="doc_gc")], name="doc_m")
        >>> model.get_config()["layers"][0]["config"]["rate"]
        0.5
        """
        from lamina.io import model_json

        return model_json.model_config(self)

    @classmethod
    def from_config(cls, config):
        """A new model (new weights) from `get_config()`'s dict or a bare list of layers."""
        from lamina.io import model_json

        return model_json.model_from_config(cls.class_name, config, "Sequential.from_config")

    def to_json(self):
        """The model topology as JSON text, exactly as TF.js's model.toJSON() (the
        modelTopology of a saved model.json).

        >>> import lamina as lm
        >>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[2], name="doc_tj")], name="doc_tjm")
        >>> model.to_json()[:61]
        '{"class_name":"Sequential","config":{"name":"doc_tjm","layers'
        """
        from lamina.io import model_json

        return model_json.dumps(model_json.topology(self))

    def set_user_defined_metadata(self, metadata):
        """Attaches a JSON object saved with the model (TF.js setUserDefinedMetadata).

        >>> import lamina as lm
        >>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[2])])
        >>> model.set_user_defined_metadata({"labels": ["cat", "dog"]})
        >>> model.get_user_defined_metadata()
        {'labels': ['cat', 'dog']}
        """
        from lamina.io import check_user_defined_metadata

        self._user_defined_metadata = check_user_defined_metadata(metadata, self.name)

    def get_user_defined_metadata(self):
        """The metadata set with set_user_defined_metadata or loaded with the model (or None)."""
        return self._user_defined_metadata

    def __repr__(self):
        return f"<Sequential name={self.name!r} layers={[layer.name for layer in self.layers]}>"


def sequential(layers=None, name=None):
    """A Sequential model of `layers` (TF.js tf.sequential); unnamed models are 'sequential_1', ...

    >>> import lamina as lm
    >>> model = lm.sequential(layers=[lm.layers.dense(units=3, input_shape=[2])])
    >>> model.name
    'sequential_...'
    """
    return Sequential(layers=layers, name=name)


def model_from_json(json_text):
    """A model from its JSON topology (`model.to_json()` or a model.json); new weights, not
    compiled (TF.js tf.models.modelFromJSON). See `lamina.io.model_from_json`.

    >>> import lamina as lm
    >>> model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[4], name="doc_models_mfj")])
    >>> lm.models.model_from_json(model.to_json()).layers[0].units
    2
    """
    from lamina.io import loading

    return loading.model_from_json(json_text)


# ---------------------------------------------------------------- compile's helpers

def _resolve_loss(loss):
    """One loss function; TF.js's forms: a name, a function, [one], {output name: one}."""
    if loss is None:
        raise ValueError("When passing an Array as loss, it should have one entry per model output. "
                         "The model has 1 output(s), but you passed loss=None.")
    if isinstance(loss, (list, tuple)):
        if len(loss) != 1:
            raise ValueError("When passing an Array as loss, it should have one entry per model output. "
                             f"The model has 1 output(s), but you passed loss={list(loss)}.")
        loss = loss[0]
    return _losses.get(loss)


def _log_aliases(metrics, labels):
    """Keras's names for TF.js's log keys: a metric asked for as 'accuracy' is logged 'acc'
    (TF.js), and the History also answers 'accuracy' and 'val_accuracy' for it (Keras)."""
    asked = list(metrics.values()) if isinstance(metrics, dict) else metrics
    if isinstance(asked, str) or not isinstance(asked, (list, tuple)):
        asked = [asked]
    flat = [m for item in asked for m in (item if isinstance(item, (list, tuple)) else [item])]
    if "acc" in labels and any(isinstance(m, str) and m == "accuracy" for m in flat):
        return {"accuracy": "acc", "val_accuracy": "val_acc"}
    return {}


def _resolve_metrics(metrics, loss_fn, output_shape, output_name):
    """[(label, fn)] for compile's metrics argument (TF.js collectMetrics + resolution)."""
    if metrics is None:
        return []
    if isinstance(metrics, dict):
        unknown = [key for key in metrics if key != output_name]
        if unknown:
            raise ValueError(f"Unknown entry in metrics dictionary: {unknown[0]!r}. Only expected the "
                             f"following keys: {output_name}")
        metrics = metrics.get(output_name, [])
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    if not isinstance(metrics, (list, tuple)):
        raise TypeError("Type of metrics argument not understood. Expected a string, function, list, "
                        f"or dict, found: {type(metrics).__name__}")
    return [_metrics.resolve(m, loss_fn, output_shape) for m in metrics]
