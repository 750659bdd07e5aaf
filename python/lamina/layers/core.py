"""The core layers of TF.js's tfjs-layers/src/layers/core.ts: Dense, Activation, Dropout,
Flatten, Reshape, and the InputLayer a Sequential model may start with.

Each is a class (for subclassing and `from_config`) and a snake_case factory, the form the
TF.js guide uses: `lm.layers.dense(units=32, input_shape=[784], activation="relu")`.
"""

import inspect
import numbers

import numpy as np

from lamina import activations, constraints, initializers, regularizers
from lamina.layers.base import Layer, _shape_list, get_uid, register_class
from lamina.ops import fused
from lamina.ops.arithmetic import add
from lamina.ops.linalg import matmul
from lamina.ops.nn import dropout as _dropout
from lamina.ops.shape import reshape as _reshape
from lamina.ops.shape import transpose

__all__ = ["Dense", "Activation", "Dropout", "Flatten", "Reshape", "InputLayer",
           "dense", "activation", "dropout", "flatten", "reshape", "input_layer"]


def _positive_int(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"Expected {argument} to be a positive integer, but got {value!r}.")
    return int(value)


def _bool(value, argument):
    if not isinstance(value, bool):
        raise TypeError(f"{argument} must be True or False, got {value!r}")
    return value


class Dense(Layer):
    """A densely connected layer: activation(inputs · kernel + bias) (TF.js tf.layers.dense).

    The kernel starts glorotNormal (TF.js's default: a truncated normal), the bias zeros.
    Inputs of rank > 2 are multiplied on their last axis. When the activation is one the
    fused kernel has (linear, relu, relu6, elu, sigmoid), product, bias and activation run
    as one C++ call forward and one backward.

    >>> import lamina as lm
    >>> layer = lm.layers.dense(units=2, input_shape=[3], kernel_initializer="ones")
    >>> layer(lm.tensor([[1.0, 2.0, 3.0]])).array()
    [[6.0, 6.0]]
    >>> [w.shape for w in layer.weights]
    [[3, 2], [2]]
    """

    class_name = "Dense"

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorotNormal",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 input_shape=None, batch_input_shape=None, input_dim=None, name=None, trainable=True,
                 dtype=None):
        units = _positive_int(units, "units")  # checked before a name is drawn from the counter
        if input_dim is not None and input_shape is None and batch_input_shape is None:
            input_shape = [_positive_int(input_dim, "input_dim")]
        self.activation = activations.get(activation)
        super().__init__(name=name, trainable=trainable, input_shape=input_shape,
                         batch_input_shape=batch_input_shape, dtype=dtype)
        self.units = units
        self.use_bias = _bool(use_bias, "use_bias")
        self.kernel_initializer = initializers.get(kernel_initializer or "glorotNormal")
        self.bias_initializer = initializers.get(bias_initializer or "zeros")
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel = None
        self.bias = None
        self.input_spec = {"min_ndim": 2}

    def build(self, input_shape):
        input_dim = input_shape[-1] if input_shape else None
        if input_dim is None:
            raise ValueError(f"The last dimension of the inputs to Dense {self.name} must be known, "
                             f"got input shape {input_shape}")
        if self.kernel is None:  # kernel first, then bias: TF.js's weight order
            self.kernel = self.add_weight("kernel", [input_dim, self.units], initializer=self.kernel_initializer,
                                          regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
            if self.use_bias:
                self.bias = self.add_weight("bias", [self.units], initializer=self.bias_initializer,
                                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.input_spec = {"min_ndim": 2, "axes": {-1: input_dim}}

    def compute_output_shape(self, input_shape):
        return list(input_shape[:-1]) + [self.units]

    def call(self, inputs, training=False):
        kernel = self.kernel.read()
        bias = None if self.bias is None else self.bias.read()
        rows = inputs if inputs.rank == 2 else _reshape(inputs, [-1, inputs.shape[-1]])
        fused_activation = self.activation.kernel
        if fused_activation is not None:
            outputs = fused.mat_mul(rows, kernel, bias=bias, activation=fused_activation)
        else:
            outputs = matmul(rows, kernel)
            if bias is not None:
                outputs = add(outputs, bias)
        if inputs.rank != 2:
            outputs = _reshape(outputs, inputs.shape[:-1] + [self.units])
        return outputs if fused_activation is not None else self.activation(outputs)

    def get_config(self):
        """TF.js's Dense config in its key order, values in saved (snake_case) form.

        >>> import lamina as lm
        >>> config = lm.layers.dense(units=4, activation="relu", name="doc_cfg").get_config()
        >>> list(config)[:4], config["activation"], config["kernel_initializer"]["class_name"]
        (['units', 'activation', 'use_bias', 'kernel_initializer'], 'relu', 'VarianceScaling')
        """
        config = {
            "units": self.units,
            "activation": self.activation.name,
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }
        config.update(super().get_config())
        return config


class Activation(Layer):
    """Applies an activation function to its input (TF.js tf.layers.activation).

    >>> import lamina as lm
    >>> lm.layers.activation("relu")(lm.tensor([[-1.0, 2.0]])).array()
    [[0.0, 2.0]]
    """

    class_name = "Activation"

    def __init__(self, activation, name=None, trainable=True, input_shape=None, batch_input_shape=None,
                 dtype=None):
        self.activation = activations.get(activation)
        super().__init__(name=name, trainable=trainable, input_shape=input_shape,
                         batch_input_shape=batch_input_shape, dtype=dtype)

    def call(self, inputs, training=False):
        return self.activation(inputs)

    def get_config(self):
        config = {"activation": self.activation.name}
        config.update(super().get_config())
        return config


class Dropout(Layer):
    """Inverted dropout while training, identity otherwise (TF.js tf.layers.dropout).

    With `training=True` (as fit's training step calls it) and 0 < rate < 1, each value is
    zeroed with probability `rate` and the rest are scaled by 1 / (1 - rate); predict and
    evaluate call layers with training=False and get the input back.

    >>> import lamina as lm
    >>> layer = lm.layers.dropout(rate=0.5, seed=1)
    >>> layer(lm.ones([1, 4])).array()
    [[1.0, 1.0, 1.0, 1.0]]
    >>> sorted(set(layer(lm.ones([1, 4]), training=True).data_sync().tolist()))
    [0.0, 2.0]
    """

    class_name = "Dropout"

    def __init__(self, rate, noise_shape=None, seed=None, name=None, trainable=True, input_shape=None,
                 batch_input_shape=None, dtype=None):
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate <= 1:
            raise ValueError(f"rate must be a number in [0, 1], got {rate!r}")
        if noise_shape is not None:
            noise_shape = _shape_list(noise_shape, "noise_shape")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be an int >= 0, got {seed!r}")
        super().__init__(name=name, trainable=trainable, input_shape=input_shape,
                         batch_input_shape=batch_input_shape, dtype=dtype)
        self.rate = float(rate)
        self.noise_shape = noise_shape
        self.seed = seed

    def call(self, inputs, training=False):
        if training and 0 < self.rate < 1:
            return _dropout(inputs, self.rate, noise_shape=self.noise_shape, seed=self.seed)
        return inputs

    def get_config(self):
        config = {"rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}
        config.update(super().get_config())
        return config


_DATA_FORMATS = {"channelsLast": "channels_last", "channels_last": "channels_last",
                 "channelsFirst": "channels_first", "channels_first": "channels_first"}


class Flatten(Layer):
    """Flattens each example to one axis: [batch, d1, d2, ...] -> [batch, d1*d2*...]
    (TF.js tf.layers.flatten; as there, the input needs rank >= 3).

    >>> import lamina as lm
    >>> lm.layers.flatten()(lm.zeros([2, 3, 4])).shape
    [2, 12]
    """

    class_name = "Flatten"

    def __init__(self, data_format=None, name=None, trainable=True, input_shape=None, batch_input_shape=None,
                 dtype=None):
        if data_format is not None and data_format not in _DATA_FORMATS:
            raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
        super().__init__(name=name, trainable=trainable, input_shape=input_shape,
                         batch_input_shape=batch_input_shape, dtype=dtype)
        self.data_format = None if data_format is None else _DATA_FORMATS[data_format]
        self.input_spec = {"min_ndim": 3}

    def compute_output_shape(self, input_shape):
        if any(dim is None for dim in input_shape[1:]):
            raise ValueError(
                f'The shape of the input to "Flatten" is not fully defined (got {list(input_shape[1:])}). '
                'Make sure to pass a complete "input_shape" or "batch_input_shape" argument to the first '
                "layer in your model.")
        return [input_shape[0], int(np.prod(input_shape[1:], dtype=np.int64))]

    def call(self, inputs, training=False):
        if self.data_format == "channels_first":
            # Channels go last first, so both formats flatten to the same feature order.
            inputs = transpose(inputs, [0] + list(range(2, inputs.rank)) + [1])
        return _reshape(inputs, [inputs.shape[0], int(np.prod(inputs.shape[1:], dtype=np.int64))])

    def get_config(self):
        config = {"data_format": self.data_format}
        config.update(super().get_config())
        return config


def _resolve_unknown_dimension(input_shape, target_shape):
    """TF.js's fixUnknownDimension: fills the one None of target_shape from the input size."""
    size = int(np.prod(input_shape, dtype=np.int64))
    known = int(np.prod([d for d in target_shape if d is not None], dtype=np.int64))
    message = (f"Total size of new array must be unchanged: cannot reshape examples of shape {list(input_shape)} "
               f"to {list(target_shape)}.")
    if None in target_shape:
        if known == 0 or size % known:
            raise ValueError(message)
        return [size // known if d is None else d for d in target_shape]
    if size != known:
        raise ValueError(message)
    return list(target_shape)


class Reshape(Layer):
    """Reshapes each example to `target_shape` (the batch axis is kept); one entry may be -1
    (or None), inferred from the size (TF.js tf.layers.reshape).

    >>> import lamina as lm
    >>> lm.layers.reshape(target_shape=[2, -1])(lm.zeros([5, 6])).shape
    [5, 2, 3]
    """

    class_name = "Reshape"

    def __init__(self, target_shape, name=None, trainable=True, input_shape=None, batch_input_shape=None,
                 dtype=None):
        if not isinstance(target_shape, (list, tuple)):
            raise TypeError(f"target_shape must be a list of ints (one may be -1), got {target_shape!r}")
        # As TF.js: every unknown dimension (-1 or None) is kept as None.
        target = [None if d is None or (isinstance(d, (int, np.integer)) and d < 0) else d for d in target_shape]
        target = _shape_list(target, "target_shape")
        if target.count(None) > 1:
            raise ValueError(f"target_shape can have only one unknown dimension (-1), got {list(target_shape)}")
        super().__init__(name=name, trainable=trainable, input_shape=input_shape,
                         batch_input_shape=batch_input_shape, dtype=dtype)
        self.target_shape = target

    def compute_output_shape(self, input_shape):
        # TF.js leaves the -1 unresolved when any input size is unknown, even just the batch
        # size; like Keras, lamina resolves it whenever the example shape is known.
        if any(dim is None for dim in input_shape[1:]):
            return [input_shape[0]] + list(self.target_shape)
        return [input_shape[0]] + _resolve_unknown_dimension(input_shape[1:], self.target_shape)

    def call(self, inputs, training=False):
        return _reshape(inputs, inputs.shape[:1] + _resolve_unknown_dimension(inputs.shape[1:], self.target_shape))

    def get_config(self):
        config = {"target_shape": list(self.target_shape)}
        config.update(super().get_config())
        return config


class InputLayer(Layer):
    """Declares a model's input shape (TF.js tf.layers.inputLayer); a Sequential model takes
    it as its first element. It has no weights and is never called itself.

    >>> import lamina as lm
    >>> layer = lm.layers.input_layer(input_shape=[784], name="pixels")
    >>> layer.batch_input_shape, layer.get_config()
    ([None, 784], {'batch_input_shape': [None, 784], 'dtype': 'float32', 'sparse': False, 'name': 'pixels'})
    """

    class_name = "InputLayer"

    def __init__(self, input_shape=None, batch_input_shape=None, name=None, dtype=None, sparse=False):
        if input_shape is not None and batch_input_shape is not None:
            raise ValueError("Only provide the input_shape OR batch_input_shape argument to input_layer, "
                             "not both at the same time.")
        if input_shape is None and batch_input_shape is None:
            raise ValueError("An InputLayer should be passed either a `batch_input_shape` or an `input_shape`.")
        # TF.js names input layers 'input1', 'input2', ... (no snake_case prefix).
        super().__init__(name=get_uid("input") if name is None else name, input_shape=input_shape,
                         batch_input_shape=batch_input_shape, dtype=dtype)
        self.sparse = _bool(sparse, "sparse")
        self._trainable = False
        self._record_shapes(self.batch_input_shape)

    def __call__(self, inputs, training=False):
        raise ValueError(f"Cannot pass any input to an InputLayer's apply() method. InputLayer name: {self.name}")

    def get_config(self):
        return {"batch_input_shape": list(self.batch_input_shape), "dtype": self.dtype, "sparse": self.sparse,
                "name": self.name}


for _cls in (Dense, Activation, Dropout, Flatten, Reshape, InputLayer):
    register_class(_cls)


# ---------------------------------------------------------------- factories (the guide's form)

def _same_signature(cls):
    """Gives a factory its class's constructor signature, for help() and editors."""
    def decorate(factory):
        parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]  # without self
        factory.__signature__ = inspect.Signature(parameters)
        return factory
    return decorate


@_same_signature(Dense)
def dense(units, **kwargs):
    """A Dense layer (see `Dense`): `lm.layers.dense(units=32, input_shape=[784], activation="relu")`.

    >>> import lamina as lm
    >>> lm.layers.dense(units=32, input_shape=[784]).batch_input_shape
    [None, 784]
    >>> lm.layers.dense(units=-3)
    Traceback (most recent call last):
    ...
    ValueError: Expected units to be a positive integer, but got -3.
    """
    return Dense(units, **kwargs)


@_same_signature(Activation)
def activation(activation, **kwargs):  # noqa: A002 - TF.js's argument name
    """An Activation layer (see `Activation`): `lm.layers.activation("softmax")`.

    >>> import lamina as lm
    >>> lm.layers.activation("softmax")(lm.tensor([[0.0, 0.0]])).array()
    [[0.5, 0.5]]
    """
    return Activation(activation, **kwargs)


@_same_signature(Dropout)
def dropout(rate, **kwargs):
    """A Dropout layer (see `Dropout`): `lm.layers.dropout(rate=0.5)`.

    >>> import lamina as lm
    >>> lm.layers.dropout(rate=1.5)
    Traceback (most recent call last):
    ...
    ValueError: rate must be a number in [0, 1], got 1.5
    """
    return Dropout(rate, **kwargs)


@_same_signature(Flatten)
def flatten(**kwargs):
    """A Flatten layer (see `Flatten`): `lm.layers.flatten(input_shape=[28, 28])`.

    >>> import lamina as lm
    >>> lm.layers.flatten(input_shape=[28, 28]).compute_output_shape([None, 28, 28])
    [None, 784]
    """
    return Flatten(**kwargs)


@_same_signature(Reshape)
def reshape(target_shape, **kwargs):
    """A Reshape layer (see `Reshape`): `lm.layers.reshape(target_shape=[28, 28])`.

    >>> import lamina as lm
    >>> lm.layers.reshape(target_shape=[28, 28]).compute_output_shape([None, 784])
    [None, 28, 28]
    """
    return Reshape(target_shape, **kwargs)


@_same_signature(InputLayer)
def input_layer(**kwargs):
    """An InputLayer (see `InputLayer`): `lm.layers.input_layer(input_shape=[784])`.

    >>> import lamina as lm
    >>> lm.layers.input_layer()
    Traceback (most recent call last):
    ...
    ValueError: An InputLayer should be passed either a `batch_input_shape` or an `input_shape`.
    """
    return InputLayer(**kwargs)
