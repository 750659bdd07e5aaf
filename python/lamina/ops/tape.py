"""The gradient tape: ops record themselves while a gradient is being taken, and only then.

An op computes its value with numpy or a C++ kernel and calls `result(value, inputs,
backward)`. When no gradient is being taken that is all it costs; inside `grad`, `grads`,
`value_and_grad(s)` or `variable_grads`, an op whose inputs lead back to a watched tensor
(or, for `variable_grads`, a trainable Variable) is appended to the tape with its backward
closure. Taking the gradient walks the tape once, backwards, and each input's gradient is
summed back to its shape where numpy broadcasting widened it.

Higher-order gradients (`grad(grad(f))`, as TF.js): an op may also give `backward_ops`, its
gradient written with lamina ops on Tensors. When a gradient is taken while an outer gradient
is being recorded, the walk uses those, so the outer tape records the backward pass itself.
"""

import numpy as np

from lamina.tensor import Tensor, Variable, as_tensor

__all__ = [
    "result", "unbroadcast", "input_needed", "grad", "grads", "value_and_grad", "value_and_grads",
    "variable_grads", "custom_grad", "no_grad", "sum_to", "broadcast_to",
]


class _Tape:
    def __init__(self, watch_trainable_variables=False, var_list=None):
        self.nodes = []  # (output, inputs, backward), in the order the ops ran
        self.tracked = set()  # ids of tensors that lead back to a watched one
        self.keep = []  # keeps tracked tensors alive so their ids stay unique
        self.watch_trainable_variables = watch_trainable_variables
        self.var_ids = None if var_list is None else {id(v) for v in var_list}

    def watch(self, t):
        self.tracked.add(id(t))
        self.keep.append(t)

    def leads_back(self, x):
        if id(x) in self.tracked:
            return True
        if isinstance(x, Variable) and x.trainable and self._watches_variable(x):
            self.watch(x)
            return True
        return False

    def _watches_variable(self, v):
        if self.var_ids is not None:
            return id(v) in self.var_ids
        return self.watch_trainable_variables

    def gradients(self, y, dy, sources):
        """Gradients of y (seeded with dy) for each source; None where y does not depend on it."""
        if id(y) not in self.tracked:
            return [None] * len(sources)
        grads = {id(y): dy}
        for output, inputs, backward, _ in reversed(self.nodes):
            g = grads.pop(id(output), None)
            if g is None:
                continue
            _needed[0] = [id(x) in self.tracked for x in inputs]
            for x, gx in zip(inputs, backward(g)):
                if gx is None or id(x) not in self.tracked:
                    continue
                gx = unbroadcast(np.asarray(gx), x._data.shape).astype(x._data.dtype, copy=False)
                previous = grads.get(id(x))
                grads[id(x)] = gx if previous is None else previous + gx
        return [grads.get(id(s)) for s in sources]

    def recorded_gradients(self, y, dy, sources):
        """As gradients, but computed with lamina ops (each node's backward_ops) on Tensors, so
        that an outer tape records them: the gradients can be differentiated again."""
        if id(y) not in self.tracked:
            return [None] * len(sources)
        grads = {id(y): Tensor._wrap(dy)}
        for output, inputs, backward, backward_ops in reversed(self.nodes):
            g = grads.pop(id(output), None)
            if g is None:
                continue
            if backward_ops is None:
                raise NotImplementedError(
                    f"Higher-order gradients (a gradient taken inside another) are not supported yet through "
                    f"an op whose gradient is numpy-only ({backward.__qualname__}); they are through {_TWICE}")
            _needed[0] = [id(x) in self.tracked for x in inputs]
            for x, gx in zip(inputs, backward_ops(g, output)):
                if gx is None or id(x) not in self.tracked:
                    continue
                if gx.shape != x.shape:
                    gx = sum_to(gx, x._data.shape)
                previous = grads.get(id(x))
                grads[id(x)] = gx if previous is None else _add(previous, gx)
        return [grads.get(id(s)) for s in sources]


_TWICE = ("add, sub, mul, div, neg, square, sqrt, exp, log, pow (its base), relu, sigmoid, tanh, sum, "
          "mean, reshape and matmul")


_tapes = []  # the active tapes, innermost last
_needed = [()]  # while a backward closure runs: which of its op's inputs need a gradient
_paused = [0]  # > 0 while backward closures run or inside no_grad


def result(value, inputs, backward, backward_ops=None):
    """Wraps an op's value as a Tensor and records the op when a gradient is being taken.

    `backward(dy)` receives the output's gradient as a numpy array and returns one numpy
    array (or None) per input, in the output's broadcast shape or the input's own.
    `backward_ops(dy, out)`, if given, does the same with lamina ops on Tensors (dy and the
    op's output), which makes the op differentiable twice.

    >>> import numpy as np
    >>> from lamina.ops.tape import result
    >>> from lamina import tensor
    >>> x = tensor([1.0, 2.0])
    >>> result(x._data * 3, (x,), lambda dy: (dy * 3,)).array()
    [3.0, 6.0]
    """
    out = Tensor._wrap(value)
    if _tapes and not _paused[0]:
        for tape in _tapes:
            if any([tape.leads_back(x) for x in inputs]):
                tape.nodes.append((out, inputs, backward, backward_ops))
                tape.watch(out)
    return out


def input_needed(i):
    """Inside a backward closure: whether the op's i-th input needs its gradient at all. An
    expensive op (a matrix product) may return None for an input that does not.

    >>> input_needed(0)
    True
    """
    needed = _needed[0]
    return i >= len(needed) or needed[i]


def unbroadcast(g, shape):
    """Sums a gradient over the axes numpy broadcasting added or stretched to reach `shape`.

    >>> unbroadcast(np.ones((4, 3)), (3,)).tolist()
    [4.0, 4.0, 4.0]
    """
    shape = tuple(shape)
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g.reshape(shape)


def sum_to(g, shape):
    """The Tensor g summed over the axes broadcasting added or stretched to reach `shape`
    (unbroadcast as an op, so higher-order gradients can pass through it).

    >>> from lamina import tensor
    >>> sum_to(tensor([[1.0, 2.0], [3.0, 4.0]]), (2,)).array()
    [4.0, 6.0]
    """
    source = tuple(g._data.shape)
    return result(unbroadcast(g._data, shape), (g,), lambda dy: (np.broadcast_to(dy, source),),
                  lambda dy, out: (broadcast_to(dy, source),))


def broadcast_to(g, shape):
    """The Tensor g broadcast to `shape` (sum_to's gradient, and the other way round).

    >>> from lamina import tensor
    >>> broadcast_to(tensor([1.0, 2.0]), (2, 2)).array()
    [[1.0, 2.0], [1.0, 2.0]]
    """
    source = tuple(g._data.shape)
    return result(np.broadcast_to(g._data, shape), (g,), lambda dy: (unbroadcast(dy, source),),
                  lambda dy, out: (sum_to(dy, source),))


def _add(a, b):
    """a + b for two float32 Tensors of one shape (gradients add up where a tensor is used twice)."""
    return result(a._data + b._data, (a, b), lambda dy: (dy, dy), lambda dy, out: (dy, dy))


class no_grad:
    """A context in which ops are not recorded (TF.js records only inside gradient functions,
    so this is rarely needed; custom gradients and optimizers use it).

    >>> import lamina as lm
    >>> with lm.no_grad():
    ...     y = lm.tensor([1.0]).mul(2)
    """

    def __enter__(self):
        _paused[0] += 1
        return self

    def __exit__(self, *exc):
        _paused[0] -= 1
        return False


def _run_taped(tape, f, args):
    _tapes.append(tape)
    try:
        return f(*args)
    finally:
        _tapes.remove(tape)


def _seed(y, dy, where):
    if not isinstance(y, Tensor):
        raise TypeError(f"The result y returned by f() in {where} must be a tensor, got {type(y).__name__}")
    if y.dtype != "float32":
        raise ValueError(f"{where}: f() must return a float32 tensor to differentiate, got {y.dtype}")
    if dy is None:
        return np.ones(y._data.shape, np.float32)
    dy = as_tensor(dy, "dy")
    if dy.shape != y.shape:
        raise ValueError(f"The shape of dy passed in {where} must match the shape returned by f(): "
                         f"dy has shape {dy.shape}, f() returned shape {y.shape}")
    return dy._data.astype(np.float32)


def _value_and_grads(f, xs, dy, where):
    if not callable(f):
        raise TypeError(f"The f passed in {where} must be a function, got {type(f).__name__}")
    xs = [as_tensor(x, "args") for x in xs]
    for x in xs:
        if x.dtype != "float32":
            raise ValueError(f"{where}: gradients are defined for float32 inputs only, got a {x.dtype} input")
    tape = _Tape()
    for x in xs:
        tape.watch(x)
    y = _run_taped(tape, f, xs)
    seed = _seed(y, dy, where)
    raw = _walk(tape, y, seed, xs)
    if any(g is None for g in raw):
        raise ValueError("Cannot compute gradient of y=f(x) with respect to x. Make sure that the f "
                         "you passed encloses all operations that lead from x to y.")
    return y, [g if isinstance(g, Tensor) else Tensor._wrap(g) for g in raw]


def _walk(tape, y, seed, sources):
    """The tape's gradients: recorded with lamina ops when an outer gradient is being taken
    (grad inside grad), else with numpy and nothing recorded."""
    if _tapes and not _paused[0]:
        return tape.recorded_gradients(y, seed, sources)
    _paused[0] += 1
    try:
        return tape.gradients(y, seed, sources)
    finally:
        _paused[0] -= 1


def grad(f):
    """Returns g(x, dy=None): the gradient of f at x (TF.js tf.grad).

    >>> import lamina as lm
    >>> g = lm.grad(lambda x: x.square())
    >>> g(lm.tensor([3.0])).array()
    [6.0]
    """
    def gradient(x, dy=None):
        return _value_and_grads(f, [x], dy, "grad(f)(x)")[1][0]
    return gradient


def grads(f):
    """Returns g(args, dy=None): the gradients of f at each of args (TF.js tf.grads).

    >>> import lamina as lm
    >>> g = lm.grads(lambda a, b: a.mul(b))
    >>> [t.array() for t in g([lm.tensor([2.0]), lm.tensor([5.0])])]
    [[5.0], [2.0]]
    """
    def gradients(args, dy=None):
        if not isinstance(args, (list, tuple)):
            raise TypeError(f"The args passed in grads(f)(args) must be a list of tensors, got {type(args).__name__}")
        return _value_and_grads(f, list(args), dy, "grads(f)(args)")[1]
    return gradients


def value_and_grad(f):
    """Like grad, but returns {"value": f(x), "grad": gradient} (TF.js tf.valueAndGrad).

    >>> import lamina as lm
    >>> out = lm.value_and_grad(lambda x: x.square())(lm.tensor([3.0]))
    >>> out["value"].array(), out["grad"].array()
    ([9.0], [6.0])
    """
    def value_and_gradient(x, dy=None):
        y, (g,) = _value_and_grads(f, [x], dy, "value_and_grad(f)(x)")
        return {"value": y, "grad": g}
    return value_and_gradient


def value_and_grads(f):
    """Like grads, but returns {"value": f(*args), "grads": [...]} (TF.js tf.valueAndGrads).

    >>> import lamina as lm
    >>> out = lm.value_and_grads(lambda a, b: a.mul(b))([lm.tensor([2.0]), lm.tensor([5.0])])
    >>> out["value"].array(), [g.array() for g in out["grads"]]
    ([10.0], [[5.0], [2.0]])
    """
    def value_and_gradients(args, dy=None):
        if not isinstance(args, (list, tuple)):
            raise TypeError(f"The args passed in value_and_grads(f)(args) must be a list of tensors, got {type(args).__name__}")
        y, gs = _value_and_grads(f, list(args), dy, "value_and_grads(f)(args)")
        return {"value": y, "grads": gs}
    return value_and_gradients


def variable_grads(f, var_list=None):
    """Runs f() and returns {"value": its scalar result, "grads": {variable name: gradient}}.

    Without var_list, every trainable Variable that f touches (TF.js tf.variableGrads);
    variables f does not touch get no gradient.

    >>> import lamina as lm
    >>> w = lm.variable(lm.tensor([2.0]), name="w_doc")
    >>> out = lm.variable_grads(lambda: w.square().sum())
    >>> out["value"].item(), out["grads"]["w_doc"].array()
    (4.0, [4.0])
    """
    if not callable(f):
        raise TypeError(f"The f passed in variable_grads(f) must be a function, got {type(f).__name__}")
    if var_list is not None:
        var_list = list(var_list)
        for v in var_list:
            if not isinstance(v, Variable):
                raise TypeError(f"var_list must hold Variables, got {type(v).__name__}")
        trainable = [v for v in var_list if v.trainable]
        if not trainable:
            raise ValueError("variable_grads() expects at least one of the input variables to be "
                             f"trainable, but none of the {len(var_list)} variables is trainable.")
        tape = _Tape(var_list=trainable)
    else:
        tape = _Tape(watch_trainable_variables=True)
    y = _run_taped(tape, f, [])
    if not isinstance(y, Tensor):
        raise TypeError(f"The result y returned by f() in variable_grads(f) must be a tensor, got {type(y).__name__}")
    if y.rank != 0:
        raise ValueError(f"The f passed in variable_grads(f) must return a scalar, but it returned a rank-{y.rank} tensor")
    touched = [t for t in tape.keep if isinstance(t, Variable)]
    raw = _walk(tape, y, np.ones((), np.float32), touched)
    named = {v.name: g if isinstance(g, Tensor) else Tensor._wrap(g) for v, g in zip(touched, raw) if g is not None}
    if not named:
        raise ValueError("Cannot find a connection between any variable and the result of the loss "
                         "function y=f(x). Please make sure the operations that use variables are "
                         "inside the function f passed to minimize().")
    return {"value": y, "grads": named}


def custom_grad(f):
    """Makes an op with your own gradient (TF.js tf.customGrad).

    f(*inputs, save) returns {"value": y, "grad_func": fn}; fn(dy, saved) returns one
    gradient per input. `save(list_of_tensors)` keeps tensors for fn.

    >>> import lamina as lm
    >>> def f(x, save):
    ...     save([x])
    ...     return {"value": x.square(), "grad_func": lambda dy, saved: [dy.mul(saved[0].abs())]}
    >>> custom = lm.custom_grad(f)
    >>> lm.grad(lambda x: custom(x))(lm.tensor([-2.0])).array()
    [2.0]
    """
    if not callable(f):
        raise TypeError(f"custom_grad(f) needs a function, got {type(f).__name__}")

    def op(*inputs):
        inputs = tuple(as_tensor(x, "inputs") for x in inputs)
        saved = []
        with no_grad():
            out = f(*inputs, saved.extend)
        if not isinstance(out, dict) or "value" not in out or "grad_func" not in out:
            raise TypeError('custom_grad: f must return a dict {"value": tensor, "grad_func": function}')
        value = as_tensor(out["value"], "value")
        grad_func = out["grad_func"]

        def backward(dy):
            with no_grad():
                gs = grad_func(Tensor._wrap(dy), list(saved))
            if isinstance(gs, Tensor):
                gs = [gs]
            if len(gs) != len(inputs):
                raise ValueError(f"custom_grad: grad_func must return {len(inputs)} gradient(s) "
                                 f"(one per input), got {len(gs)}")
            return [None if g is None else as_tensor(g, "gradient")._data for g in gs]

        return result(value._data, inputs, backward)

    return op
