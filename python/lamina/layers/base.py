"""The Layer base class, its weights (LayerWeight) and TF.js's naming of both.

A layer turns input tensors into output tensors with lamina ops, so every layer — built-in
or written by a user — trains through the tape. It creates its weights once, in
`build(input_shape)`, the first time it sees an input; `add_weight` names each one
`<layer name>/<weight name>` as TF.js does ('dense_Dense1/kernel').
"""

import inspect
import json
import re
import threading
import warnings

import numpy as np

from lamina import constraints, initializers, regularizers
from lamina._serialization import to_snake_case
from lamina.tensor import Tensor, Variable, as_tensor, live_variables

__all__ = ["Layer", "LayerWeight", "register_class", "get_class", "get_uid"]


# ---------------------------------------------------------------- names (TF.js §4)

_uid_lock = threading.Lock()
_uids = {}  # prefix -> how many names it has handed out (process-global, as TF.js's getUid)


def get_uid(prefix=""):
    """The next name for `prefix` from a process-global counter: 'Dense1', 'Dense2', ...

    Layers use it for their default names (`dense_Dense1`), models for theirs
    (`get_uid("sequential_")` -> 'sequential_1').

    >>> from lamina.layers.base import get_uid
    >>> first = get_uid("Doc"); second = get_uid("Doc")
    >>> int(second[3:]) - int(first[3:])
    1
    """
    with _uid_lock:
        _uids[prefix] = _uids.get(prefix, 0) + 1
        return f"{prefix}{_uids[prefix]}"


_VALID_TENSOR_NAME = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9._/]*$")
_name_uses = {}  # scoped weight name -> how many times it was asked for (TF.js's nameMap)


def _unique_weight_name(scoped_name):
    """TF.js's getUniqueTensorName: the first use keeps the name, later ones get '_1', '_2'.

    Unlike TF.js it also skips a name some live lm.Variable already has (made by hand with
    lm.variable(name=...)), since lamina refuses two live variables with one name.
    """
    if not _VALID_TENSOR_NAME.match(scoped_name):
        raise ValueError(f"Not a valid tensor name: '{scoped_name}' (a weight name is the layer "
                         "name, '/', and the weight's name; letters, digits, '-', '.', '_', '/')")
    with _uid_lock:
        while True:
            index = _name_uses.get(scoped_name, 0)
            _name_uses[scoped_name] = index + 1
            name = scoped_name if index == 0 else f"{scoped_name}_{index}"
            if index > 0:
                # As TF.js: mark the suffixed name used, so asking for it later suffixes it too.
                _name_uses[name] = max(_name_uses.get(name, 0), 1)
            if name not in live_variables:
                return name


# ---------------------------------------------------------------- LayerWeight

class LayerWeight:
    """A layer's weight (TF.js LayerVariable): an lm.Variable plus what the layer knows of it.

    `name` is unique among live variables ('dense_Dense1/kernel', then
    'dense_Dense1/kernel_1' for a second layer of that name); `original_name` is the name
    without that suffix, the one save files use. `val` is the Variable itself, which
    optimizers update; `constraint` is applied after each update (`apply_constraint`).

    >>> import lamina as lm
    >>> from lamina.layers import LayerWeight
    >>> w = LayerWeight(lm.zeros([2]), name="doc_layer/bias")
    >>> w.name, w.shape, w.dtype, w.trainable
    ('doc_layer/bias', [2], 'float32', True)
    """

    def __init__(self, value, dtype="float32", name="Variable", trainable=True, constraint=None,
                 regularizer=None):
        self.original_name = name
        self.name = _unique_weight_name(name)
        self.constraint = constraint
        self.regularizer = regularizer
        self.val = Variable(as_tensor(value, "value"), trainable=bool(trainable), name=self.name,
                            dtype=dtype)

    @property
    def shape(self):
        return self.val.shape

    @property
    def dtype(self):
        return self.val.dtype

    @property
    def trainable(self):
        return self.val.trainable

    @trainable.setter
    def trainable(self, trainable):
        self.val.trainable = bool(trainable)

    def read(self):
        """The Variable holding the value (use it in ops; it is what gradients are taken for)."""
        return self.val

    def write(self, value):
        """Assigns `value` (same shape and dtype), then applies the constraint if any.

        >>> import lamina as lm
        >>> from lamina.layers import LayerWeight
        >>> w = LayerWeight(lm.zeros([2]), name="doc_layer/w")
        >>> w.write([3.0, 4.0]).read().array()
        [3.0, 4.0]
        >>> w.write([1.0])
        Traceback (most recent call last):
        ...
        ValueError: Shape mismatch: [2] vs. [1]
        """
        array = np.asarray(value._data if isinstance(value, Tensor) else value)
        if list(array.shape) != self.shape:
            raise ValueError(f"Shape mismatch: {self.shape} vs. {list(array.shape)}")
        self.val.assign(value if isinstance(value, Tensor) else array.astype(self.val._data.dtype))
        self.apply_constraint()
        return self

    def apply_constraint(self):
        """Projects the value through the constraint (no-op without one); the trainer calls
        this after every optimizer update."""
        if self.constraint is not None:
            self.val.assign(self.constraint(self.val))

    def __repr__(self):
        return f"LayerWeight({self.name!r}, shape={self.shape}, dtype={self.dtype!r}, trainable={self.trainable})"


# ---------------------------------------------------------------- Layer

def _json_shape(shape):
    """A shape as JSON.stringify writes it (TF.js's messages): [null,3]."""
    return json.dumps(list(shape), separators=(",", ":"))


def _shape_list(shape, argument):
    """A shape argument as a list of ints and Nones (None: a size not known yet)."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = [shape]
    if not isinstance(shape, (list, tuple)):
        raise TypeError(f"{argument} must be a list of ints (None for a size not known yet), got {shape!r}")
    out = []
    for dim in shape:
        if dim is None or (isinstance(dim, (int, np.integer)) and not isinstance(dim, bool) and dim >= 0):
            out.append(None if dim is None else int(dim))
        else:
            raise ValueError(f"{argument} must be a list of ints >= 0 (None for a size not known yet), "
                             f"got {list(shape)}")
    return out


def _check_input_shape(input_shape):
    """input_shape as a list; it describes one example, so a leading None (a batch axis
    written out, the habit of batch_input_shape) is refused with both ways to say it right.

    (When recurrent layers come, [None, features] means "any number of time steps" for
    them, as in TF.js and Keras: they should skip this check.)

    >>> _check_input_shape([None, 4])
    Traceback (most recent call last):
    ...
    ValueError: input_shape excludes the batch axis, got input_shape=[None, 4]: use batch_input_shape=[None, 4] or input_shape=[4]
    """
    shape = _shape_list(input_shape, "input_shape")
    if shape and shape[0] is None:
        raise ValueError(f"input_shape excludes the batch axis, got input_shape={shape}: use "
                         f"batch_input_shape={shape} or input_shape={shape[1:]}")
    return shape


def _accepts_training(call):
    parameters = inspect.signature(call).parameters.values()
    return any(p.name == "training" or p.kind is p.VAR_KEYWORD for p in parameters)


class Layer:
    """The base of every layer; subclass it to write your own.

    Override `build(input_shape)` to create weights with `add_weight`, `call(inputs,
    training=False)` to compute the output with lamina ops, `compute_output_shape` when the
    output shape differs from the input's, and `get_config` to add your constructor
    arguments (so `from_config` can rebuild the layer). Calling the layer converts the input
    to a Tensor, builds the layer once from its shape, and runs `call`.

    >>> import lamina as lm
    >>> class Scale(lm.layers.Layer):
    ...     def build(self, input_shape):
    ...         self.scale = self.add_weight("scale", [input_shape[-1]], initializer="ones")
    ...     def call(self, inputs, training=False):
    ...         return inputs * self.scale.read()
    >>> layer = Scale(name="scale_doc")
    >>> layer(lm.tensor([[1.0, 2.0]])).array()
    [[1.0, 2.0]]
    >>> [w.name for w in layer.weights], layer.class_name
    (['scale_doc/scale'], 'Scale')
    """

    class_name = "Layer"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A subclass is named after itself unless it says otherwise (TF.js's static className).
        if "class_name" not in cls.__dict__:
            cls.class_name = cls.__name__
        # Users often write call(self, inputs) without `training`; pass it only if accepted.
        cls._call_takes_training = _accepts_training(cls.call)
        _wrap_build(cls)

    def __init__(self, name=None, trainable=True, input_shape=None, batch_input_shape=None, dtype=None):
        if name is None:
            name = to_snake_case(self.class_name) + "_" + get_uid(self.class_name)
        elif not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty str, got {name!r}")
        if not isinstance(trainable, bool):
            raise TypeError(f"trainable must be a bool, got {trainable!r}")
        self.name = name
        self._trainable = trainable
        self.batch_input_shape = None
        if batch_input_shape is not None:
            self.batch_input_shape = _shape_list(batch_input_shape, "batch_input_shape")
            if not self.batch_input_shape:
                raise ValueError("batch_input_shape must start with the batch size (None for any), "
                                 "e.g. [None, 3]; got []")
        elif input_shape is not None:
            self.batch_input_shape = [None] + _check_input_shape(input_shape)
        if dtype is not None and dtype not in ("float32", "int32", "bool"):
            raise ValueError(f"dtype must be 'float32', 'int32' or 'bool', got {dtype!r}")
        # As TF.js: a layer that declares its input has an input dtype (float32 by default).
        self.dtype = dtype if dtype is not None or self.batch_input_shape is None else "float32"
        self.built = False
        self.activity_regularizer = None
        self.input_spec = None  # {"min_ndim": n, "axes": {axis: size}}: checked on every call
        self._trainable_weights = []
        self._non_trainable_weights = []
        self._weight_names = set()
        self._activity_loss = None
        self._input_shape = None
        self._output_shape = None

    # ---- what a subclass overrides

    def build(self, input_shape):
        """Creates the layer's weights for inputs of `input_shape` (a list, batch first)."""

    def call(self, inputs, training=False):
        """The layer's computation; the base layer passes its input through."""
        return inputs

    def compute_output_shape(self, input_shape):
        """The output shape for `input_shape` (None for unknown sizes); default: unchanged."""
        return list(input_shape)

    def get_config(self):
        """The constructor arguments that rebuild this layer, TF.js's base keys last:
        name, trainable, then batch_input_shape and dtype when the layer declares its input.

        >>> import lamina as lm
        >>> lm.layers.Layer(name="doc_base", input_shape=[3]).get_config()
        {'name': 'doc_base', 'trainable': True, 'batch_input_shape': [None, 3], 'dtype': 'float32'}
        """
        config = {"name": self.name, "trainable": self.trainable}
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = list(self.batch_input_shape)
        if self.dtype is not None:
            config["dtype"] = self.dtype
        return config

    @classmethod
    def from_config(cls, config):
        """A new layer from `get_config()`'s dict (snake_case keys).

        >>> import lamina as lm
        >>> layer = lm.layers.dense(units=3, name="doc_original")
        >>> config = dict(layer.get_config(), name="doc_copy")
        >>> lm.layers.Dense.from_config(config).units
        3
        """
        if not isinstance(config, dict):
            raise TypeError(f"config must be a dict, got {type(config).__name__}")
        return cls(**config)

    # ---- weights

    def add_weight(self, name, shape, dtype="float32", initializer=None, regularizer=None,
                   constraint=None, trainable=True):
        """Creates a weight named '<layer name>/<name>' and returns its LayerWeight.

        `initializer`, `regularizer` and `constraint` take identifiers ('glorotNormal',
        'l2', 'nonNeg') or instances; without an initializer the weight starts glorotNormal,
        the default of TF.js's layers.

        >>> import lamina as lm
        >>> layer = lm.layers.Layer(name="doc_owner")
        >>> layer.add_weight("w", [2, 3], initializer="zeros").name
        'doc_owner/w'
        """
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty str, got {name!r}")
        if name in self._weight_names:
            raise ValueError(f"Duplicate weight name {name} for layer {self.name}")
        shape = _shape_list(shape, "shape")
        if None in shape:
            raise ValueError(f"shape of weight {name} must be fully known, got {shape}")
        initializer = initializers.get("glorotNormal" if initializer is None else initializer)
        weight = LayerWeight(initializer(shape, dtype), dtype=dtype, name=f"{self.name}/{name}",
                             trainable=bool(trainable) and self._trainable,
                             constraint=constraints.get(constraint),
                             regularizer=regularizers.get(regularizer))
        self._weight_names.add(name)
        (self._trainable_weights if trainable else self._non_trainable_weights).append(weight)
        return weight

    def _warn_on_incompatible_input_shape(self, input_shape):
        """Warns (as TF.js's console.warn, with its text) when a layer that declares its
        input (input_shape or batch_input_shape) is connected to inputs of another rank or
        size; the layer is built for the shape it receives, so the declaration is ignored.

        >>> import warnings
        >>> import lamina as lm
        >>> layer = lm.layers.dense(units=2, input_shape=[5], name="doc_warn")
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     layer._warn_on_incompatible_input_shape([None, 3])
        >>> str(caught[0].message)
        'The shape of the input tensor ([null,3]) does not match the expectation of layer doc_warn: [null,5]'
        """
        expected = self.batch_input_shape
        if expected is None:
            return
        shown, declared = _json_shape(input_shape), _json_shape(expected)
        if len(input_shape) != len(expected):
            warnings.warn(f"The rank of the input tensor provided (shape: {shown}) does not match that of the "
                          f"batchInputShape ({declared}) of the layer {self.name}", stacklevel=3)
        elif any(d is not None and i is not None and d != i for d, i in zip(expected, input_shape)):
            warnings.warn(f"The shape of the input tensor ({shown}) does not match the expectation of layer "
                          f"{self.name}: {declared}", stacklevel=3)

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, trainable):
        if not isinstance(trainable, bool):
            raise TypeError(f"trainable must be a bool, got {trainable!r}")
        # As TF.js: freezing a layer freezes its trainable weights (the tape skips them).
        for weight in self._trainable_weights:
            weight.trainable = trainable
        self._trainable = trainable

    @property
    def trainable_weights(self):
        if not self._trainable:
            return []
        return [w for w in self._trainable_weights if w.trainable]

    @property
    def non_trainable_weights(self):
        if not self._trainable:
            return self._trainable_weights + self._non_trainable_weights
        return [w for w in self._trainable_weights if not w.trainable] + self._non_trainable_weights

    @property
    def weights(self):
        """Trainable weights, then non-trainable ones (TF.js's order)."""
        return self.trainable_weights + self.non_trainable_weights

    def get_weights(self):
        """The weights' values as numpy arrays (copies), in `weights` order."""
        return [w.val.numpy() for w in self.weights]

    def set_weights(self, weights):
        """Sets every weight from a list of arrays in `weights` order (constraints applied,
        as TF.js's write).

        >>> import lamina as lm
        >>> layer = lm.layers.dense(units=1, input_shape=[2], name="doc_set")
        >>> layer.build([None, 2])
        >>> layer.set_weights([[[1.0], [2.0]], [0.5]])
        >>> layer(lm.tensor([[1.0, 1.0]])).array()
        [[3.5]]
        """
        params = self.weights
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(f'You called set_weights(weights) on layer "{self.name}" with a weight list '
                             f"of length {len(weights)}, but the layer was expecting {len(params)} weights.")
        arrays = [np.asarray(w._data if isinstance(w, Tensor) else w) for w in weights]
        for param, array in zip(params, arrays):  # check all before writing any
            if list(array.shape) != param.shape:
                raise ValueError(f"Layer weight shape {param.shape} not compatible with provided "
                                 f"weight shape {list(array.shape)}")
        for param, array in zip(params, arrays):
            param.write(array)

    def count_params(self):
        """The number of values in the layer's weights."""
        if not self.built:
            raise RuntimeError(f"You tried to call count_params() on {self.name}, but the layer is not "
                               "built yet. Build it first by calling build(batch_input_shape).")
        return sum(int(np.prod(w.shape, dtype=np.int64)) for w in self.weights)

    def regularization_losses(self):
        """The penalties to add to the loss, as scalar Tensors: each weight regularizer on the
        weight's current value, then the activity regularizer on the last call's output.

        Call it inside the loss function so the penalties are on the tape.
        """
        losses = [w.regularizer(w.read()) for w in self._trainable_weights + self._non_trainable_weights
                  if w.regularizer is not None]
        if self._activity_loss is not None:
            losses.append(self._activity_loss)
        return losses

    # ---- calling

    def __call__(self, inputs, training=False):
        x = as_tensor(inputs, "inputs")
        if not self.built:
            self._check_input(x)
            self.build(x.shape)
            self._record_shapes([None] + x.shape[1:])
        self._check_input(x)
        output = self.call(x, training=training) if self._call_takes_training else self.call(x)
        if self.activity_regularizer is not None:
            # Keras 3's rule (TF.js does not support activity regularizers on eager calls):
            # the penalty of the output, not divided by the batch size.
            self._activity_loss = self.activity_regularizer(output)
        return output

    def _record_shapes(self, input_shape):
        self.built = True
        self._input_shape = list(input_shape)
        self._output_shape = self.compute_output_shape(list(input_shape))

    @property
    def input_shape(self):
        """The batch shape of the layer's input ([None, 784]) once built."""
        if self._input_shape is None:
            raise AttributeError(f"The layer {self.name} has never been called and thus has no defined input shape.")
        return list(self._input_shape)

    @property
    def output_shape(self):
        """The batch shape of the layer's output ([None, 32]) once built."""
        if self._output_shape is None:
            raise AttributeError(f"The layer {self.name} has never been called and thus has no defined output shape.")
        return list(self._output_shape)

    def _check_input(self, x):
        """TF.js's assertInputCompatibility for the two specs lamina's layers use."""
        spec = self.input_spec
        if not spec:
            return
        self._check_input_rank(x.rank)
        for axis, size in spec.get("axes", {}).items():
            if size is not None and x.shape[axis] != size:
                raise ValueError(f"Input 0 is incompatible with layer {self.name}: expected axis {axis} of "
                                 f"input shape to have value {size} but got shape {x.shape}.")

    def _check_input_rank(self, ndim):
        """The input spec's min_ndim; also checked when a model builds the layer for a shape,
        as TF.js checks it when the layer is applied to the model's symbolic input."""
        min_ndim = (self.input_spec or {}).get("min_ndim")
        if min_ndim is not None and ndim < min_ndim:
            raise ValueError(f"Input 0 is incompatible with layer {self.name}: expected min_ndim={min_ndim}, "
                             f"found ndim={ndim}.")

    def __repr__(self):
        return f"<{self.class_name} name={self.name!r} built={self.built}>"


Layer._call_takes_training = True


def _wrap_build(cls):
    """Wraps cls.build so that a direct `layer.build(shape)` call (as a model does when it
    adds the layer) also records the layer's input and output shapes and marks it built."""
    build = cls.__dict__.get("build")
    if build is None or getattr(build, "_records_shapes", False):
        return

    def recording_build(self, input_shape):
        shape = _shape_list(input_shape, "input_shape")
        outermost = not getattr(self, "_building", False)
        if outermost:
            self._check_input_rank(len(shape))
        self._building = True
        try:
            build(self, shape)
        finally:
            if outermost:
                self._building = False
        if outermost:
            self._record_shapes(shape)

    recording_build._records_shapes = True
    recording_build.__doc__ = build.__doc__
    recording_build.__name__ = build.__name__
    recording_build.__qualname__ = build.__qualname__
    cls.build = recording_build


_wrap_build(Layer)


# ---------------------------------------------------------------- class registry

_registry = {}


def register_class(cls):
    """Registers a Layer subclass under its `class_name` so saved models can rebuild it.
    Returns the class, so it also works as a decorator.

    >>> import lamina as lm
    >>> @lm.layers.register_class
    ... class Twice(lm.layers.Layer):
    ...     def call(self, inputs, training=False):
    ...         return inputs * 2
    >>> lm.layers.get_class("Twice") is Twice
    True
    """
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise TypeError(f"register_class expects a Layer subclass, got {cls!r}")
    _registry[cls.class_name] = cls
    return cls


def get_class(class_name):
    """The registered Layer class for a saved `class_name` ('Dense')."""
    if class_name not in _registry:
        raise ValueError(
            f"Unknown layer: {class_name}. This may be due to one of the following reasons:\n"
            "1. The layer is defined in Python, in which case it needs to be ported to TensorFlow.js or your "
            "JavaScript code.\n"
            "2. The custom layer is defined in JavaScript, but is not registered properly with "
            "tf.serialization.registerClass().\n"
            f"(lamina: register a custom layer with lm.layers.register_class; registered: {', '.join(sorted(_registry))})")
    return _registry[class_name]
