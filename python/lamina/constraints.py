"""Weight constraints (tf.constraints): projections applied to a weight after each update.

A constraint is called with the weight's value and returns the constrained value; a layer
weight applies it when written (TF.js LayerVariable.write), i.e. after every optimizer step.
Norms are L2 norms along `axis` (for a Dense kernel [in, out], axis 0 constrains each
unit's incoming weights), and as in TF.js the rescaling divides by norm + 1e-7:

    max_norm:      w · clip(norm, 0, max_value) / (1e-7 + norm)
    unit_norm:     w / (1e-7 + norm)
    non_neg:       relu(w)
    min_max_norm:  w · (rate · clip(norm, min_value, max_value) + (1 - rate) · norm) / (1e-7 + norm)
"""

import math

import numpy as np

from lamina._public import public_dir
from lamina._serialization import Serializable, resolve, to_snake_case
from lamina.ops.activation import relu
from lamina.ops.arithmetic import add, clip_by_value, div, mul, sqrt
from lamina.ops.reduction import sum as _sum
from lamina.tensor import as_tensor

__all__ = ["Constraint", "MaxNorm", "UnitNorm", "NonNeg", "MinMaxNorm",
           "max_norm", "unit_norm", "non_neg", "min_max_norm", "get", "serialize"]
__dir__ = public_dir(__all__)  # dir() lists the public names only

EPSILON = 1e-7  # TF.js's backend epsilon()


class Constraint(Serializable):
    """Base class: `constraint(w)` returns the constrained value of the weight w.

    Subclass it and define `__call__` for a custom constraint.
    """

    def __call__(self, w):
        raise NotImplementedError


def _l2_norms(w, axis):
    """sqrt(sum(w², axis)), keeping the reduced axes so the result broadcasts against w."""
    return sqrt(_sum(mul(w, w), axis, keep_dims=True))


def _check_axis(axis):
    ints = axis if isinstance(axis, (list, tuple)) else [axis]
    if not ints or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in ints):
        raise ValueError(f"axis must be an int or a non-empty list of ints, got {axis!r}")
    return list(axis) if isinstance(axis, (list, tuple)) else int(axis)


def _check_norm(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value < 0:
        raise ValueError(f"{argument} must be a finite number >= 0, got {value!r}")
    return value


class MaxNorm(Constraint):
    """Rescales the weights whose norm along `axis` exceeds max_value down to max_value.

    >>> import lamina as lm
    >>> [round(v, 4) for (v,) in lm.constraints.max_norm(max_value=1)(lm.tensor([[3.0], [4.0]])).array()]
    [0.6, 0.8]
    """

    class_name = "MaxNorm"

    def __init__(self, max_value=2, axis=0):
        self.max_value = _check_norm(max_value, "max_value")
        self.axis = _check_axis(axis)

    def __call__(self, w):
        w = as_tensor(w, "w")
        norms = _l2_norms(w, self.axis)
        desired = clip_by_value(norms, 0, self.max_value)
        return mul(w, div(desired, add(EPSILON, norms)))

    def get_config(self):
        return {"maxValue": self.max_value, "axis": self.axis}


class UnitNorm(Constraint):
    """Scales the weights to norm 1 along `axis`.

    >>> import lamina as lm
    >>> [round(v, 4) for (v,) in lm.constraints.unit_norm()(lm.tensor([[3.0], [4.0]])).array()]
    [0.6, 0.8]
    """

    class_name = "UnitNorm"

    def __init__(self, axis=0):
        self.axis = _check_axis(axis)

    def __call__(self, w):
        w = as_tensor(w, "w")
        return div(w, add(EPSILON, _l2_norms(w, self.axis)))

    def get_config(self):
        return {"axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to 0.

    >>> import lamina as lm
    >>> lm.constraints.non_neg()(lm.tensor([-1.0, 2.0])).array()
    [0.0, 2.0]
    """

    class_name = "NonNeg"

    def __call__(self, w):
        return relu(as_tensor(w, "w"))


class MinMaxNorm(Constraint):
    """Moves the norm along `axis` into [min_value, max_value]; rate < 1 moves it only part
    of the way each time: new norm = rate·clip(norm) + (1 - rate)·norm.

    >>> import lamina as lm
    >>> w = lm.constraints.min_max_norm(min_value=1, max_value=2)(lm.tensor([[0.3], [0.4]]))
    >>> [round(v, 4) for (v,) in w.array()]
    [0.6, 0.8]
    """

    class_name = "MinMaxNorm"

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = _check_norm(min_value, "min_value")
        self.max_value = _check_norm(max_value, "max_value")
        if self.min_value > self.max_value:
            raise ValueError(f"min_value must be <= max_value, got min_value={min_value!r} and "
                             f"max_value={max_value!r}")
        self.rate = _check_norm(rate, "rate")
        self.axis = _check_axis(axis)

    def __call__(self, w):
        w = as_tensor(w, "w")
        norms = _l2_norms(w, self.axis)
        desired = add(mul(self.rate, clip_by_value(norms, self.min_value, self.max_value)),
                      mul(1.0 - self.rate, norms))
        return mul(w, div(desired, add(EPSILON, norms)))

    def get_config(self):
        return {"minValue": self.min_value, "maxValue": self.max_value, "rate": self.rate,
                "axis": self.axis}


def max_norm(max_value=2, axis=0):
    """Caps each weight vector's L2 norm along `axis` at max_value (TF.js tf.constraints.maxNorm).

    >>> import lamina as lm
    >>> lm.constraints.max_norm(max_value=2, axis=0).serialize()
    {'class_name': 'MaxNorm', 'config': {'max_value': 2, 'axis': 0}}
    """
    return MaxNorm(max_value=max_value, axis=axis)


def unit_norm(axis=0):
    """Scales each weight vector along `axis` to L2 norm 1 (tf.constraints.unitNorm).

    >>> import lamina as lm
    >>> lm.constraints.unit_norm(axis=1).get_config()
    {'axis': 1}
    """
    return UnitNorm(axis=axis)


def non_neg():
    """Clips weights below 0 to 0 (tf.constraints.nonNeg).

    >>> import lamina as lm
    >>> lm.constraints.non_neg().serialize()
    {'class_name': 'NonNeg', 'config': {}}
    """
    return NonNeg()


def min_max_norm(min_value=0.0, max_value=1.0, axis=0, rate=1.0):
    """Keeps each weight vector's L2 norm along `axis` in [min_value, max_value]
    (tf.constraints.minMaxNorm).

    >>> import lamina as lm
    >>> lm.constraints.min_max_norm(rate=0.5).get_config()
    {'minValue': 0.0, 'maxValue': 1.0, 'rate': 0.5, 'axis': 0}
    """
    return MinMaxNorm(min_value=min_value, max_value=max_value, rate=rate, axis=axis)


_CLASSES = [MaxNorm, UnitNorm, NonNeg, MinMaxNorm]
_BY_CLASS_NAME = {cls.class_name: cls for cls in _CLASSES}
# TF.js's identifiers (CONSTRAINT_IDENTIFIER_REGISTRY_SYMBOL_MAP), their snake_case, and
# the class names, which TF.js's get also takes.
IDENTIFIERS = {"maxNorm": MaxNorm, "minMaxNorm": MinMaxNorm, "nonNeg": NonNeg, "unitNorm": UnitNorm}
_BY_NAME = {**IDENTIFIERS, **{to_snake_case(k): v for k, v in IDENTIFIERS.items()}, **_BY_CLASS_NAME}


def get(identifier):
    """The Constraint an identifier names, or None for None.

    identifier: a Constraint; 'maxNorm', 'unitNorm', 'nonNeg', 'minMaxNorm' (or snake_case,
    or the class name), with default arguments; or a saved dict
    {"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 0}}.

    >>> import lamina as lm
    >>> lm.constraints.get("max_norm").get_config()
    {'maxValue': 2, 'axis': 0}
    >>> lm.constraints.get({"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 1}}).get_config()
    {'maxValue': 3, 'axis': 1}
    """
    if identifier is None:
        return None
    return resolve(identifier, "constraint", Constraint, _BY_NAME, _BY_CLASS_NAME,
                   ", ".join(IDENTIFIERS) + " (or in snake_case, e.g. max_norm)")


def serialize(constraint):
    """The saved form of a constraint (None for None).

    >>> import lamina as lm
    >>> lm.constraints.serialize(lm.constraints.unit_norm())
    {'class_name': 'UnitNorm', 'config': {'axis': 0}}
    """
    return None if constraint is None else constraint.serialize()
