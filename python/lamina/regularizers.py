"""Weight regularisers (tf.regularizers): penalties added to the training loss.

A regulariser is called with a weight Tensor and returns a scalar Tensor built from lamina
ops, so its gradient flows through the tape like the loss's. As in TF.js there is one class,
L1L2: `l1(l1=0.01)` is L1L2 with l2 = 0 and `l2(l2=0.01)` is L1L2 with l1 = 0, and all three
save as class "L1L2".

    penalty(x) = sum(l1 · |x|) + sum(l2 · x²)
"""

import math

from lamina._public import public_dir
from lamina import creation
from lamina._serialization import Serializable, resolve
from lamina.ops.arithmetic import abs as _abs, add, mul, square
from lamina.ops.reduction import sum as _sum
from lamina.tensor import as_tensor

__all__ = ["Regularizer", "L1L2", "l1", "l2", "l1l2", "get", "serialize"]
__dir__ = public_dir(__all__)  # dir() lists the public names only


class Regularizer(Serializable):
    """Base class: `regularizer(x)` returns a scalar Tensor penalty for the weight x.

    Subclass it and define `__call__` for a custom penalty.
    """

    def __call__(self, x):
        raise NotImplementedError


def _rate(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value < 0:
        raise ValueError(f"{argument} must be a finite number >= 0, got {value!r}")
    return value


class L1L2(Regularizer):
    """sum(l1·|x|) + sum(l2·x²); TF.js's defaults l1 = l2 = 0.01.

    >>> import lamina as lm
    >>> lm.regularizers.L1L2(l1=0.1, l2=1)(lm.tensor([1, -2])).item()
    5.300000190734863
    """

    class_name = "L1L2"

    def __init__(self, l1=0.01, l2=0.01):
        # TF.js turns a missing/null rate into 0.01 (so does a saved config with null).
        self.l1 = 0.01 if l1 is None else _rate(l1, "l1")
        self.l2 = 0.01 if l2 is None else _rate(l2, "l2")

    def __call__(self, x):
        x = as_tensor(x, "x")
        # As TF.js: multiply each element by the rate, then sum (the same rounding).
        penalty = creation.zeros([])
        if self.l1 != 0:
            penalty = add(penalty, _sum(mul(self.l1, _abs(x))))
        if self.l2 != 0:
            penalty = add(penalty, _sum(mul(self.l2, square(x))))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


def l1(l1=0.01):
    """The L1 penalty sum(l1·|x|) (TF.js tf.regularizers.l1).

    >>> import lamina as lm
    >>> lm.regularizers.l1(l1=0.5)(lm.tensor([1, -3])).item()
    2.0
    >>> lm.regularizers.l1().serialize()
    {'class_name': 'L1L2', 'config': {'l1': 0.01, 'l2': 0}}
    """
    return L1L2(l1=l1, l2=0)


def l2(l2=0.01):
    """The L2 penalty sum(l2·x²) (TF.js tf.regularizers.l2).

    >>> import lamina as lm
    >>> lm.regularizers.l2(l2=0.5)(lm.tensor([1, -3])).item()
    5.0
    """
    return L1L2(l1=0, l2=l2)


def l1l2(l1=0.01, l2=0.01):
    """Both penalties: sum(l1·|x|) + sum(l2·x²) (TF.js tf.regularizers.l1l2).

    >>> import lamina as lm
    >>> lm.regularizers.l1l2(l1=1, l2=1)(lm.tensor([2])).item()
    6.0
    """
    return L1L2(l1=l1, l2=l2)


_BY_CLASS_NAME = {"L1L2": L1L2}
# TF.js's get takes 'l1l2' and class names; lamina also takes 'l1', 'l2' and 'l1_l2'
# (Keras's names), each with the 0.01 default.
_BY_NAME = {"l1": l1, "l2": l2, "l1l2": l1l2, "l1_l2": l1l2, "L1L2": l1l2}


def get(identifier):
    """The Regularizer an identifier names, or None for None.

    identifier: a Regularizer; 'l1', 'l2', 'l1l2' (rates 0.01); or a saved dict
    {"class_name": "L1L2", "config": {"l1": ..., "l2": ...}}.

    >>> import lamina as lm
    >>> lm.regularizers.get("l2").get_config()
    {'l1': 0, 'l2': 0.01}
    >>> lm.regularizers.get({"class_name": "L1L2", "config": {"l1": 0.5, "l2": 0}}).get_config()
    {'l1': 0.5, 'l2': 0}
    """
    if identifier is None:
        return None
    return resolve(identifier, "regularizer", Regularizer, _BY_NAME, _BY_CLASS_NAME)


def serialize(regularizer):
    """The saved form of a regularizer (None for None).

    >>> import lamina as lm
    >>> lm.regularizers.serialize(lm.regularizers.l1l2())
    {'class_name': 'L1L2', 'config': {'l1': 0.01, 'l2': 0.01}}
    """
    return None if regularizer is None else regularizer.serialize()
