"""Core ops: each is a function (`lm.matmul(x, w)`) and a Tensor method (`x.matmul(w)`).

Every op computes its value with numpy or a C++ kernel and records its gradient through
`lamina.ops.tape.result` when, and only when, a gradient is being taken.
"""

from lamina.ops import activation, arithmetic, linalg, logic, nn, reduction, shape
from lamina.ops.activation import *  # noqa: F401,F403
from lamina.ops.arithmetic import *  # noqa: F401,F403
from lamina.ops.linalg import *  # noqa: F401,F403
from lamina.ops.logic import *  # noqa: F401,F403
from lamina.ops.nn import *  # noqa: F401,F403
from lamina.ops.reduction import *  # noqa: F401,F403
from lamina.ops.shape import *  # noqa: F401,F403
from lamina.ops.tape import (custom_grad, grad, grads, no_grad, value_and_grad,  # noqa: F401
                             value_and_grads, variable_grads)
from lamina.tensor import Tensor

_MODULES = (activation, arithmetic, linalg, logic, nn, reduction, shape)
OPS = {name: getattr(module, name) for module in _MODULES for name in module.__all__}

__all__ = sorted(OPS) + ["grad", "grads", "value_and_grad", "value_and_grads", "variable_grads",
                         "custom_grad", "no_grad"]


def _attach_methods():
    """x.op(...) is lm.op(x, ...); Python operators map to the same ops."""
    for name, fn in OPS.items():
        setattr(Tensor, name, fn)
    # Where TF.js's method puts the tensor elsewhere than first (t.concat(x) is concat([t, ...x])).
    Tensor.concat = shape._concat_method
    Tensor.stack = shape._stack_method
    Tensor.where = logic._where_method

    def reflected(fn):
        return lambda self, other: fn(other, self)

    operators = {
        "__add__": OPS["add"], "__radd__": reflected(OPS["add"]),
        "__sub__": OPS["sub"], "__rsub__": reflected(OPS["sub"]),
        "__mul__": OPS["mul"], "__rmul__": reflected(OPS["mul"]),
        "__truediv__": OPS["div"], "__rtruediv__": reflected(OPS["div"]),
        "__matmul__": OPS["matmul"], "__rmatmul__": reflected(OPS["matmul"]),
        "__neg__": OPS["neg"],
    }
    optional = {
        "__pow__": "pow", "__rpow__": None, "__abs__": "abs",
        "__eq__": "equal", "__ne__": "not_equal", "__lt__": "less", "__le__": "less_equal",
        "__gt__": "greater", "__ge__": "greater_equal",
        "__and__": "logical_and", "__or__": "logical_or", "__xor__": "logical_xor",
        "__invert__": "logical_not",
    }
    for dunder, name in optional.items():
        if name in OPS:
            operators[dunder] = OPS[name]
    if "pow" in OPS:
        operators["__rpow__"] = reflected(OPS["pow"])
    for dunder, name in (("__rand__", "logical_and"), ("__ror__", "logical_or"), ("__rxor__", "logical_xor")):
        operators[dunder] = reflected(OPS[name])

    def comparing(fn):
        # x == None or x == "relu" is plain False (Python falls back to identity), not an error.
        def compare(self, other):
            if other is None or isinstance(other, (str, bytes, dict)):
                return NotImplemented
            return fn(self, other)
        return compare

    operators["__eq__"] = comparing(OPS["equal"])
    operators["__ne__"] = comparing(OPS["not_equal"])
    for dunder, fn in operators.items():
        setattr(Tensor, dunder, fn)
    Tensor.__hash__ = object.__hash__  # defining __eq__ must not make tensors unhashable


_attach_methods()
