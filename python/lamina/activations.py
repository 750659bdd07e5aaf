"""Layer activations (TF.js tfjs-layers activations.ts): objects a layer calls on its output.

`get(identifier)` resolves a name — TF.js's ('relu', 'hardSigmoid', 'logSoftmax', ...) or its
snake_case ('hard_sigmoid') — an Activation, a saved dict, a plain function, or None (linear).
An Activation has:
  - `__call__(x)`: the values, built from lamina ops so gradients flow through the tape;
  - `name`: the string a saved config holds ('relu', 'hard_sigmoid', 'linear');
  - `kernel`: the activation name `lm.fused.mat_mul` / `_core.dense_forward` take when the
    activation can be fused into a Dense layer's matmul, else None.

Gradients at the kinks are those of TF.js's Layers formulas: relu'(0) = 0; relu6 is
minimum(6, relu(x)), whose gradient at x = 6 is 0 (lm.relu6, the Core op, gives 1 there);
hard_sigmoid is clip(0.2x + 0.5, 0, 1), gradient 0.2 on [-2.5, 2.5] bounds included.
"""

import math

from lamina._public import public_dir
from lamina._serialization import Serializable, resolve, to_camel_case, to_snake_case
from lamina.ops import activation as _ops
from lamina.ops._operands import unary_float
from lamina.ops.arithmetic import add, mul, pow as _pow
from lamina.tensor import as_tensor

__all__ = ["Activation", "get", "serialize", "ACTIVATIONS"]
__dir__ = public_dir(__all__)  # dir() lists the public names only


class Activation(Serializable):
    """Base class: `activation(x)` returns f(x) as a Tensor.

    Subclasses set `class_name` (TF.js's className, e.g. 'hardSigmoid') and `kernel`.
    """

    kernel = None

    @property
    def name(self):
        """The saved name: TF.js's className in snake_case ('hard_sigmoid')."""
        return to_snake_case(self.get_class_name())

    def __call__(self, x):
        raise NotImplementedError

    def serialize(self):
        """The saved form of an activation is its name (TF.js serializeActivation)."""
        return self.name

    def __repr__(self):
        return f"Activation({self.name!r})"


def _kernel(name, x):
    """f(x) by the C++ activation kernel, with the kernel's derivative on the tape."""
    return _ops._kernel_activation(name, unary_float(x, to_camel_case(name)))


class _Linear(Activation):
    class_name = "linear"
    kernel = "linear"

    def __call__(self, x):
        return as_tensor(x)


class _Relu(Activation):
    class_name = "relu"
    kernel = "relu"

    def __call__(self, x):
        return _ops.relu(x)


class _Relu6(Activation):
    class_name = "relu6"
    kernel = "relu6"

    def __call__(self, x):
        x = as_tensor(x)
        # The kernel's derivative is TF.js Layers' (0 at x = 6), unlike the lm.relu6 op's.
        return _ops.relu6(x) if x.dtype == "int32" else _kernel("relu6", x)


class _Elu(Activation):
    class_name = "elu"
    kernel = "elu"

    def __call__(self, x):
        return _ops.elu(x)


class _Selu(Activation):
    class_name = "selu"

    def __call__(self, x):
        return _ops.selu(x)


class _Sigmoid(Activation):
    class_name = "sigmoid"
    kernel = "sigmoid"

    def __call__(self, x):
        return _ops.sigmoid(x)


class _HardSigmoid(Activation):
    class_name = "hardSigmoid"

    def __call__(self, x):
        return _kernel("hard_sigmoid", x)


class _Softplus(Activation):
    class_name = "softplus"

    def __call__(self, x):
        return _ops.softplus(x)


class _Softsign(Activation):
    class_name = "softsign"

    def __call__(self, x):
        return _kernel("softsign", x)


class _Tanh(Activation):
    class_name = "tanh"

    def __call__(self, x):
        return _ops.tanh(x)


class _Softmax(Activation):
    class_name = "softmax"

    def __call__(self, x, axis=-1):
        return _ops.softmax(x, axis)


class _LogSoftmax(Activation):
    class_name = "logSoftmax"

    def __call__(self, x, axis=-1):
        return _ops.log_softmax(x, axis)


class _Swish(Activation):
    class_name = "swish"

    def __call__(self, x):
        return _kernel("swish", x)


class _Gelu(Activation):
    """x·Φ(x) with the exact normal CDF (erf form), TF.js's 'gelu'."""

    class_name = "gelu"

    def __call__(self, x):
        return _kernel("gelu", x)


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


class _GeluNew(Activation):
    """GELU's tanh approximation, TF.js's 'gelu_new':
    0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³)))."""

    class_name = "gelu_new"

    def __call__(self, x):
        x = unary_float(x, "geluNew")
        inner = mul(_SQRT_2_OVER_PI, add(x, mul(0.044715, _pow(x, 3))))
        return mul(0.5, mul(x, add(1, _ops.tanh(inner))))


class _Mish(Activation):
    class_name = "mish"

    def __call__(self, x):
        return _kernel("mish", x)


class _Function(Activation):
    """A user's function used as an activation (Keras allows this; TF.js does not). It is
    saved by the function's name, which only a program defining it can load."""

    def __init__(self, fn):
        self.fn = fn

    def get_class_name(self):
        return getattr(self.fn, "__name__", type(self.fn).__name__)

    @property
    def name(self):
        return self.get_class_name()

    def __call__(self, x):
        return self.fn(x)

    def __eq__(self, other):
        return isinstance(other, _Function) and self.fn is other.fn

    def __hash__(self):
        return hash(self.fn)


_CLASSES = [_Elu, _Selu, _Relu, _Relu6, _Linear, _Sigmoid, _HardSigmoid, _Softplus, _Softsign,
            _Tanh, _Softmax, _LogSoftmax, _Swish, _Gelu, _GeluNew, _Mish]
# TF.js's activation names (each Activation's className).
ACTIVATIONS = [cls.class_name for cls in _CLASSES]
_BY_NAME = {**{cls.class_name: cls for cls in _CLASSES},
            **{to_snake_case(cls.class_name): cls for cls in _CLASSES},
            **{to_camel_case(cls.class_name): cls for cls in _CLASSES}}


def get(identifier):
    """The Activation for an identifier; None gives linear.

    identifier: a name (TF.js's 'relu', 'hardSigmoid', 'logSoftmax', ... or snake_case
    'hard_sigmoid'), an Activation, a saved dict {"class_name": "relu", "config": {}}, or a
    function of one Tensor.

    >>> import lamina as lm
    >>> act = lm.activations.get("hardSigmoid")
    >>> act.name, act.kernel, act(lm.tensor([-3, 0, 1])).array()
    ('hard_sigmoid', None, [0.0, 0.5, 0.699999988079071])
    >>> lm.activations.get(None).name, lm.activations.get("relu").kernel
    ('linear', 'relu')
    """
    if identifier is None:
        return _Linear()
    if callable(identifier) and not isinstance(identifier, Activation):
        return _Function(identifier)
    # A saved dict may name the class in either spelling too ({"class_name": "hard_sigmoid"}).
    return resolve(identifier, "activation", Activation, _BY_NAME, _BY_NAME, ACTIVATIONS)


def serialize(activation):
    """The saved name of an activation ('relu', 'hard_sigmoid').

    >>> import lamina as lm
    >>> lm.activations.serialize(lm.activations.get("logSoftmax"))
    'log_softmax'
    """
    return get(activation).name
