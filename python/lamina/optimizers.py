"""lm.train: TF.js's optimizers (tf.train.sgd, momentum, adam, adamax, rmsprop, adagrad, adadelta).

One `Optimizer` base class holds everything the family shares: the lazily created slots
(per-variable state such as Adam's `m` and `v`, float32 numpy arrays this optimizer owns),
the iteration count, `minimize` / `compute_gradients` / `apply_gradients`, the state as named
weights in TF.js's order, and the config. Each optimizer is a small subclass that declares its
hyperparameters, its slot kinds and the one C++ kernel call (`lamina._core.<name>_update`)
that updates a variable's buffer and its slots in place with TF.js's float32 formulas. Like
TensorFlow's runtime, the updates flush denormal floats (below 1.2e-38) to zero: a slot that
decays into them (Adam's moments of a weight whose gradient stops) would otherwise make every
later update of it about a hundred times slower.

>>> import lamina as lm
>>> w = lm.variable(lm.tensor([3.0]), name="w_module_doc")
>>> opt = lm.train.sgd(0.1)
>>> for _ in range(2):
...     opt.minimize(lambda: w.square().sum())
>>> round(w.item(), 4), opt.iterations
(1.92, 2)
"""

import math
import numbers

import numpy as np

from lamina import _core
from lamina.ops.tape import variable_grads
from lamina.tensor import Tensor, live_variables

__all__ = [
    "Optimizer", "SGD", "Momentum", "Adam", "Adamax", "RMSProp", "Adagrad", "Adadelta",
    "sgd", "momentum", "adam", "adamax", "rmsprop", "adagrad", "adadelta", "optimizer_from_config",
]

EPSILON = 1e-7  # TF.js's ENGINE.backend.epsilon(), the default epsilon of every optimizer

# How each kind of hyperparameter is checked: (test, what the error message says is expected).
_RANGES = {
    "finite": (lambda v: True, "a finite number"),
    "non_negative": (lambda v: v >= 0, "a finite number >= 0"),
    "fraction": (lambda v: 0 <= v < 1, "a number in [0, 1)"),
    "unit": (lambda v: 0 <= v <= 1, "a number in [0, 1]"),
}


def _hyperparameter(value, argument, owner, kind):
    """`value` as a float, checked against _RANGES[kind]; errors name the optimizer and argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {argument} must be a number, got {value!r}")
    value = float(value)
    test, expected = _RANGES[kind]
    if not math.isfinite(value) or not test(value):
        raise ValueError(f"{owner}: {argument} must be {expected}, got {value}")
    return value


def _flag(value, argument, owner):
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: {argument} must be True or False, got {value!r}")
    return value


def _epsilon(value, owner):
    return EPSILON if value is None else _hyperparameter(value, "epsilon", owner, "non_negative")


def _camel_case(name):
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def _named_tensor(item, where):
    """(name, tensor) from TF.js's NamedTensor form {"name": ..., "tensor": ...}."""
    if not isinstance(item, dict) or "name" not in item or "tensor" not in item:
        raise TypeError(f"{where}: each list item must be a dict with 'name' and 'tensor', got {item!r}")
    return item["name"], item["tensor"]


class _Slots:
    """One variable's optimizer state: an array per slot kind and its TF.js name."""

    __slots__ = ("variable_name", "shape", "names", "arrays", "loaded")

    def __init__(self, variable_name, shape, names, arrays, loaded=False):
        self.variable_name = variable_name
        self.shape = shape  # the variable's shape, as a tuple
        self.names = names  # kind -> weight name, "<variable name>/<kind>"
        self.arrays = arrays  # kind -> float32 array of that shape
        self.loaded = loaded  # came from set_weights and no variable has used it yet


class Optimizer:
    """The shared machinery of lamina's optimizers (TF.js's tf.Optimizer).

    Subclasses set `class_name`, `hyperparameters` (constructor argument names, in config
    order), `slot_kinds`, and implement `_update(w, g, slots)` with one in-place kernel call.
    """

    class_name = "Optimizer"
    hyperparameters = ("learning_rate",)
    slot_kinds = ()

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate
        # [iterations, beta1^t, beta2^t]: one array, which the fused trainer advances in place
        # in the same call as the weights, so an interrupt never leaves the count behind them.
        self._step_state = np.array([0.0, 1.0, 1.0])
        self._slots = []  # _Slots in the order variables were first updated (TF.js's order)
        self._slots_by_variable = {}

    # --- hyperparameters -------------------------------------------------------------

    @property
    def learning_rate(self):
        """The learning rate; it may be changed between steps.

        >>> import lamina as lm
        >>> opt = lm.train.sgd(0.1)
        >>> opt.learning_rate = 0.01
        >>> opt.get_config()
        {'learningRate': 0.01}
        """
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = _hyperparameter(value, "learning_rate", self.class_name, "finite")

    @property
    def iterations(self):
        """How many times apply_gradients (so minimize) has run.

        >>> import lamina as lm
        >>> lm.train.adam().iterations
        0
        """
        return self._iterations

    @property
    def _iterations(self):
        return int(self._step_state[0])

    @_iterations.setter
    def _iterations(self, value):
        self._step_state[0] = value

    @property
    def _acc_beta1(self):
        """beta1^t as TF.js keeps it, a float32 (Adam, Adamax)."""
        return np.float32(self._step_state[1])

    @_acc_beta1.setter
    def _acc_beta1(self, value):
        self._step_state[1] = np.float32(value)

    @property
    def _acc_beta2(self):
        """beta2^t as TF.js keeps it, a float32 (Adam)."""
        return np.float32(self._step_state[2])

    @_acc_beta2.setter
    def _acc_beta2(self, value):
        self._step_state[2] = np.float32(value)

    def get_class_name(self):
        """The TF.js class name, used when the optimizer is serialized.

        >>> import lamina as lm
        >>> lm.train.rmsprop(0.01).get_class_name()
        'RMSProp'
        """
        return self.class_name

    def get_config(self):
        """The hyperparameters under TF.js's camelCase keys.

        >>> import lamina as lm
        >>> lm.train.adam().get_config()
        {'learningRate': 0.001, 'beta1': 0.9, 'beta2': 0.999, 'epsilon': 1e-07}
        """
        return {_camel_case(name): getattr(self, name) for name in self.hyperparameters}

    @classmethod
    def from_config(cls, config):
        """A new optimizer of this class from a get_config() dict; missing keys take defaults.

        >>> import lamina as lm
        >>> lm.train.Momentum.from_config({"learningRate": 0.1, "momentum": 0.9})
        Momentum(learning_rate=0.1, momentum=0.9, use_nesterov=False)
        """
        if not isinstance(config, dict):
            raise TypeError(f"{cls.class_name}.from_config: config must be a dict, got {type(config).__name__}")
        keys = {_camel_case(name): name for name in cls.hyperparameters}
        unknown = [key for key in config if key not in keys]
        if unknown:
            raise ValueError(f"{cls.class_name}.from_config: unknown config key(s) {', '.join(map(repr, unknown))}; "
                             f"expected some of {', '.join(map(repr, keys))}")
        return cls(**{keys[key]: value for key, value in config.items()})

    def __repr__(self):
        arguments = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.hyperparameters)
        return f"{self.class_name}({arguments})"

    # --- training ------------------------------------------------------------------

    def minimize(self, f, return_cost=False, var_list=None):
        """Runs f(), takes the gradients of its scalar result and updates the variables.

        Without var_list, every trainable Variable that f touches is updated (and only
        those). Returns the cost (f's result) if return_cost, else None.

        >>> import lamina as lm
        >>> w = lm.variable(lm.tensor([1.0]), name="w_minimize_doc")
        >>> cost = lm.train.adam(0.1).minimize(lambda: w.square().sum(), return_cost=True)
        >>> cost.item(), round(w.item(), 7)
        (1.0, 0.9000007)
        """
        if var_list is not None:
            var_list = list(var_list)
        result = self.compute_gradients(f, var_list)
        grads = result["grads"]
        if var_list is None:
            self.apply_gradients(grads)
        else:
            # The Variables are known here: update them directly rather than by name.
            self._apply([(v, grads.get(v.name)) for v in var_list])
        return result["value"] if return_cost else None

    def compute_gradients(self, f, var_list=None):
        """{"value": f()'s scalar result, "grads": {variable name: gradient}} (lm.variable_grads).

        >>> import lamina as lm
        >>> w = lm.variable(lm.tensor([2.0]), name="w_compute_doc")
        >>> out = lm.train.sgd(0.1).compute_gradients(lambda: w.square().sum())
        >>> out["value"].item(), out["grads"]["w_compute_doc"].array()
        (4.0, [4.0])
        """
        return variable_grads(f, var_list)

    def apply_gradients(self, grads):
        """Updates variables, found by name, from their gradients; adds one to iterations.

        grads is a dict {variable name: gradient} or a list of {"name", "tensor"} dicts, as
        in TF.js. A None gradient leaves its variable unchanged (its slots are still made).

        >>> import lamina as lm
        >>> w = lm.variable(lm.tensor([1.0, 2.0]), name="w_apply_doc")
        >>> opt = lm.train.sgd(0.5)
        >>> opt.apply_gradients({"w_apply_doc": lm.tensor([1.0, 1.0])})
        >>> opt.apply_gradients([{"name": "w_apply_doc", "tensor": lm.tensor([1.0, 0.0])}])
        >>> w.array(), opt.iterations
        ([0.0, 1.5], 2)
        """
        if isinstance(grads, dict):
            pairs = list(grads.items())
        elif isinstance(grads, (list, tuple)):
            pairs = [_named_tensor(item, "apply_gradients") for item in grads]
        else:
            raise TypeError("apply_gradients: grads must be a dict {variable name: gradient} or a list of "
                            f"{{'name', 'tensor'}} dicts, got {type(grads).__name__}")
        self._apply([(self._find_variable(name), gradient) for name, gradient in pairs])

    def _apply(self, pairs):
        # Check everything before writing anything: an error never leaves half a step applied.
        names = {variable.name for variable, _ in pairs}
        steps = []
        for position, (variable, gradient) in enumerate(pairs):
            if variable.dtype != "float32":
                raise TypeError(f"apply_gradients: optimizers update float32 variables; "
                                f"{variable.name!r} is {variable.dtype}")
            slots = self._slots_for(variable, position, names)
            if gradient is not None:
                steps.append((variable._data, self._gradient_array(gradient, variable), slots))
        for w, g, slots in steps:
            self._update(w, g, slots)
        self._finish_step()
        self._iterations += 1

    @staticmethod
    def _find_variable(name):
        variable = live_variables.get(name) if isinstance(name, str) else None
        if variable is None:
            raise ValueError(f"apply_gradients: no live Variable is named {name!r}")
        return variable

    @staticmethod
    def _gradient_array(gradient, variable):
        # np.asarray, not np.ascontiguousarray: the latter makes a 0-d gradient 1-d.
        g = np.asarray(gradient, np.float32)
        if not g.flags.c_contiguous:
            g = np.ascontiguousarray(g)
        if g.shape != variable._data.shape:
            raise ValueError(f"apply_gradients: the gradient for {variable.name!r} has shape {list(g.shape)}, "
                             f"the variable has shape {variable.shape}")
        if np.shares_memory(g, variable._data):  # the kernel reads g while it writes w
            g = g.copy()
        return g

    def _slots_for(self, variable, position, names_in_step):
        """The variable's slot arrays, made on first use (TF.js creates them lazily)."""
        slots = self._slots_by_variable.get(variable.name)
        if slots is None:
            slots = self._adopt_loaded(variable, position, names_in_step) or self._new_slots(variable)
        slots.loaded = False
        if slots.shape != variable._data.shape:
            raise ValueError(f"apply_gradients: optimizer state {', '.join(slots.names.values())} has shape "
                             f"{list(slots.shape)} but variable {variable.name!r} has shape {variable.shape}")
        return slots.arrays

    def _adopt_loaded(self, variable, position, names_in_step):
        # TF.js matches slots to variables by position, so state saved under one name (say
        # dense_Dense1/kernel) still reaches a reloaded variable renamed dense_Dense1/kernel_1.
        # lamina matches by name first and falls back to position for set_weights state only.
        if position >= len(self._slots):
            return None
        slots = self._slots[position]
        if not slots.loaded or slots.variable_name in names_in_step:
            return None
        del self._slots_by_variable[slots.variable_name]
        slots.variable_name = variable.name
        self._slots_by_variable[variable.name] = slots
        return slots

    def _new_slots(self, variable):
        shape = variable._data.shape
        slots = _Slots(variable.name, shape, {kind: f"{variable.name}/{kind}" for kind in self.slot_kinds},
                       {kind: np.full(shape, self._initial_slot_value(kind), np.float32) for kind in self.slot_kinds})
        self._slots.append(slots)
        self._slots_by_variable[variable.name] = slots
        return slots

    def _initial_slot_value(self, kind):
        return 0.0

    def _update(self, w, g, slots):
        raise NotImplementedError

    def _finish_step(self):
        """Runs after every variable of a step is updated (Adam advances beta^t here)."""

    def _restore_step_state(self):
        """Recomputes state derived from iterations after set_weights."""

    # --- state as weights ----------------------------------------------------------

    def get_weights(self):
        """The state as TF.js names and orders it: "iter" (int32), then each slot kind for
        every variable in turn (Adam: all `<var>/m`, then all `<var>/v`). Values are copies.

        >>> import lamina as lm
        >>> w = lm.variable(lm.tensor([1.0, 2.0]), name="w_weights_doc")
        >>> opt = lm.train.adam(0.1)
        >>> opt.minimize(lambda: w.square().sum())
        >>> [(x["name"], x["tensor"].shape, x["tensor"].dtype) for x in opt.get_weights()]
        [('iter', [], 'int32'), ('w_weights_doc/m', [2], 'float32'), ('w_weights_doc/v', [2], 'float32')]
        """
        weights = [{"name": "iter", "tensor": Tensor._wrap(np.array(self._iterations, np.int32))}]
        for kind in self.slot_kinds:
            weights += [{"name": slots.names[kind], "tensor": Tensor._wrap(slots.arrays[kind].copy())}
                        for slots in self._slots]
        return weights

    def set_weights(self, weights):
        """Restores state from get_weights()'s list (for instance read from a saved model).

        The first weight gives iterations; the rest are split by slot kind in order.

        >>> import lamina as lm
        >>> w = lm.variable(lm.tensor([1.0]), name="w_set_doc")
        >>> opt = lm.train.momentum(0.1, 0.9)
        >>> opt.set_weights([{"name": "iter", "tensor": lm.scalar(5, "int32")},
        ...                  {"name": "w_set_doc/momentum", "tensor": lm.tensor([2.0])}])
        >>> opt.minimize(lambda: w.square().sum())
        >>> opt.iterations, round(w.item(), 4)
        (6, 0.62)
        """
        where = f"{self.class_name}.set_weights"
        named = [_named_tensor(item, where) for item in weights]
        if not named:
            raise ValueError(f"{where}: expected at least the 'iter' weight, got an empty list")
        iterations = np.asarray(named[0][1]).reshape(-1)
        if iterations.size != 1 or iterations[0] < 0 or iterations[0] != int(iterations[0]):
            raise ValueError(f"{where}: the first weight must be 'iter', one integer >= 0, got {named[0][1]!r}")
        kinds, rest = self.slot_kinds, named[1:]
        if not kinds and rest:
            raise ValueError(f"{self.class_name} optimizer does not have settable weights.")
        if kinds and len(rest) % len(kinds):
            raise ValueError(f"{where}: {self.class_name} keeps {len(kinds)} slot kind(s) ({', '.join(kinds)}), so "
                             f"'iter' must be followed by a multiple of {len(kinds)} weights; got {len(rest)}")
        count = len(rest) // len(kinds) if kinds else 0
        all_slots = [self._loaded_slots([rest[k * count + i] for k in range(len(kinds))], where)
                     for i in range(count)]
        self._iterations = int(iterations[0])
        self._slots = all_slots
        self._slots_by_variable = {slots.variable_name: slots for slots in all_slots}
        self._restore_step_state()

    def _loaded_slots(self, group, where):
        """One variable's _Slots from its weights, one per slot kind, checked for names and shapes."""
        names, arrays = {}, {}
        for kind, (name, value) in zip(self.slot_kinds, group):
            if not isinstance(name, str) or not name.endswith(f"/{kind}"):
                raise ValueError(f"{where}: expected a '{kind}' slot named '<variable name>/{kind}' here, got {name!r}")
            names[kind] = name
            arrays[kind] = np.array(np.asarray(value), np.float32, copy=True, order="C")
        shapes = {array.shape for array in arrays.values()}
        if len(shapes) > 1:
            raise ValueError(f"{where}: the slots of one variable must have one shape, got "
                             f"{ {name: list(arrays[kind].shape) for kind, name in names.items()} }")
        first = names[self.slot_kinds[0]]
        return _Slots(first[:-len(self.slot_kinds[0]) - 1], shapes.pop(), names, arrays, loaded=True)


class SGD(Optimizer):
    """Stochastic gradient descent: w ← w − lr·g. Make one with `lm.train.sgd`."""

    class_name = "SGD"

    def _update(self, w, g, slots):
        _core.sgd_update(w, g, lr=self.learning_rate)


class Momentum(Optimizer):
    """SGD with momentum: a ← m·a + g; w ← w − lr·a (Nesterov: w ← w − lr·(g + m·a)).
    Make one with `lm.train.momentum`."""

    class_name = "Momentum"
    hyperparameters = ("learning_rate", "momentum", "use_nesterov")
    slot_kinds = ("momentum",)

    def __init__(self, learning_rate, momentum, use_nesterov=False):
        super().__init__(learning_rate)
        self.momentum = _hyperparameter(momentum, "momentum", self.class_name, "non_negative")
        self.use_nesterov = _flag(use_nesterov, "use_nesterov", self.class_name)

    def _update(self, w, g, slots):
        _core.momentum_update(w, g, slots["momentum"], lr=self.learning_rate, momentum=self.momentum,
                              use_nesterov=self.use_nesterov)


class Adam(Optimizer):
    """Adam, with TF.js's epsilon added to sqrt(v̂). Make one with `lm.train.adam`."""

    class_name = "Adam"
    hyperparameters = ("learning_rate", "beta1", "beta2", "epsilon")
    slot_kinds = ("m", "v")

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=None):
        super().__init__(learning_rate)
        self.beta1 = _hyperparameter(beta1, "beta1", self.class_name, "fraction")
        self.beta2 = _hyperparameter(beta2, "beta2", self.class_name, "fraction")
        self.epsilon = _epsilon(epsilon, self.class_name)
        self._restore_step_state()

    def _update(self, w, g, slots):
        _core.adam_update(w, g, slots["m"], slots["v"], lr=self.learning_rate, beta1=self.beta1,
                          beta2=self.beta2, epsilon=self.epsilon,
                          beta1_power=self._acc_beta1, beta2_power=self._acc_beta2)

    def _finish_step(self):
        # TF.js keeps beta^t as float32 variables multiplied by beta after every step.
        self._acc_beta1 = np.float32(self._acc_beta1 * np.float32(self.beta1))
        self._acc_beta2 = np.float32(self._acc_beta2 * np.float32(self.beta2))

    def _restore_step_state(self):
        # As TF.js's setWeights: accBeta = beta^(iterations + 1), one float32 pow.
        self._acc_beta1 = _float32_power(self.beta1, self._iterations + 1)
        self._acc_beta2 = _float32_power(self.beta2, self._iterations + 1)


class Adamax(Optimizer):
    """Adamax (Adam with the infinity norm) with TF.js's learning-rate decay. Make one with
    `lm.train.adamax`. As in TF.js, its state cannot be read or set as weights."""

    class_name = "Adamax"
    hyperparameters = ("learning_rate", "beta1", "beta2", "epsilon", "decay")
    slot_kinds = ("m", "v")

    def __init__(self, learning_rate=0.002, beta1=0.9, beta2=0.999, epsilon=None, decay=0.0):
        super().__init__(learning_rate)
        self.beta1 = _hyperparameter(beta1, "beta1", self.class_name, "fraction")
        self.beta2 = _hyperparameter(beta2, "beta2", self.class_name, "fraction")
        self.epsilon = _epsilon(epsilon, self.class_name)
        self.decay = _hyperparameter(decay, "decay", self.class_name, "non_negative")
        self._acc_beta1 = np.float32(self.beta1)

    def _update(self, w, g, slots):
        _core.adamax_update(w, g, slots["m"], slots["v"], lr=self.learning_rate, beta1=self.beta1,
                            beta2=self.beta2, epsilon=self.epsilon, step=self._iterations + 1,
                            beta1_power=self._acc_beta1, decay=self.decay)

    def _finish_step(self):
        self._acc_beta1 = np.float32(self._acc_beta1 * np.float32(self.beta1))

    def get_weights(self):
        """Not available, as in TF.js (a saved model with Adamax state would not load there).

        >>> import lamina as lm
        >>> lm.train.adamax().get_weights()
        Traceback (most recent call last):
        ...
        NotImplementedError: get_weights() is not implemented for Adamax yet.
        """
        raise NotImplementedError("get_weights() is not implemented for Adamax yet.")

    def set_weights(self, weights):
        """Not available, as in TF.js."""
        raise NotImplementedError("set_weights() is not implemented for Adamax yet.")


class RMSProp(Optimizer):
    """RMSProp, plain or centered, with optional momentum. Make one with `lm.train.rmsprop`."""

    class_name = "RMSProp"
    hyperparameters = ("learning_rate", "decay", "momentum", "epsilon", "centered")

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=None, centered=False):
        if learning_rate is None:
            raise ValueError("learning_rate for RMSPropOptimizer must be defined.")
        super().__init__(learning_rate)
        self.decay = _hyperparameter(decay, "decay", self.class_name, "unit")
        self.momentum = _hyperparameter(momentum, "momentum", self.class_name, "non_negative")
        self.epsilon = _epsilon(epsilon, self.class_name)
        self.centered = _flag(centered, "centered", self.class_name)

    @property
    def slot_kinds(self):
        return ("rms", "momentum", "mg") if self.centered else ("rms", "momentum")

    def _update(self, w, g, slots):
        _core.rmsprop_update(w, g, slots["rms"], slots["momentum"], lr=self.learning_rate, decay=self.decay,
                             momentum=self.momentum, epsilon=self.epsilon, centered=self.centered,
                             mg=slots.get("mg"))


class Adagrad(Optimizer):
    """Adagrad: acc ← acc + g²; w ← w − lr·g/sqrt(acc + 1e-7). Make one with `lm.train.adagrad`."""

    class_name = "Adagrad"
    hyperparameters = ("learning_rate", "initial_accumulator_value")
    slot_kinds = ("accumulator",)

    def __init__(self, learning_rate, initial_accumulator_value=0.1):
        super().__init__(learning_rate)
        self.initial_accumulator_value = _hyperparameter(
            initial_accumulator_value, "initial_accumulator_value", self.class_name, "non_negative")

    def _initial_slot_value(self, kind):
        return self.initial_accumulator_value

    def _update(self, w, g, slots):
        _core.adagrad_update(w, g, slots["accumulator"], lr=self.learning_rate, epsilon=EPSILON)


class Adadelta(Optimizer):
    """Adadelta, with TF.js's order of updates. Make one with `lm.train.adadelta`."""

    class_name = "Adadelta"
    hyperparameters = ("learning_rate", "rho", "epsilon")
    slot_kinds = ("accum_grad", "accum_var")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=None):
        super().__init__(learning_rate)
        self.rho = _hyperparameter(rho, "rho", self.class_name, "unit")
        self.epsilon = _epsilon(epsilon, self.class_name)

    def _update(self, w, g, slots):
        _core.adadelta_update(w, g, slots["accum_grad"], slots["accum_var"], lr=self.learning_rate,
                              rho=self.rho, epsilon=self.epsilon)


def _float32_power(beta, exponent):
    """f32(beta^exponent) with beta first rounded to float32, as TF.js's pow op gives it."""
    return np.float32(float(np.float32(beta)) ** exponent)


_CLASSES = {cls.class_name: cls for cls in (SGD, Momentum, Adam, Adamax, RMSProp, Adagrad, Adadelta)}


def optimizer_from_config(class_name, config):
    """An optimizer from a TF.js class name and get_config() dict (a saved trainingConfig's
    optimizer_config).

    >>> import lamina as lm
    >>> lm.train.optimizer_from_config("Adam", {"learningRate": 0.01})
    Adam(learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-07)
    """
    if class_name not in _CLASSES:
        raise ValueError(f"Unknown optimizer class {class_name!r}; expected one of {', '.join(_CLASSES)}")
    return _CLASSES[class_name].from_config(config)


def sgd(learning_rate):
    """Stochastic gradient descent (tf.train.sgd): w ← w − learning_rate·g.

    >>> import lamina as lm
    >>> w = lm.variable(lm.tensor([1.0, -2.0]), name="w_sgd_doc")
    >>> lm.train.sgd(0.25).minimize(lambda: w.square().sum())
    >>> w.array()
    [0.5, -1.0]
    """
    return SGD(learning_rate)


def momentum(learning_rate, momentum, use_nesterov=False):
    """SGD with momentum (tf.train.momentum): a ← momentum·a + g; w ← w − learning_rate·a,
    or with use_nesterov w ← w − learning_rate·(g + momentum·a).

    >>> import lamina as lm
    >>> w = lm.variable(lm.tensor([1.0]), name="w_momentum_doc")
    >>> opt = lm.train.momentum(0.1, 0.5)
    >>> for _ in range(2):
    ...     opt.minimize(lambda: w.square().sum())
    >>> round(w.item(), 4)
    0.54
    """
    return Momentum(learning_rate, momentum, use_nesterov)


def adam(learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=None):
    """Adam (tf.train.adam); epsilon None means 1e-7 and is added to sqrt(v̂), as in TF.js.

    >>> import lamina as lm
    >>> w = lm.variable(lm.tensor([1.0]), name="w_adam_doc")
    >>> lm.train.adam(0.1).minimize(lambda: w.square().sum())
    >>> round(w.item(), 7)
    0.9000007
    """
    return Adam(learning_rate, beta1, beta2, epsilon)


def adamax(learning_rate=0.002, beta1=0.9, beta2=0.999, epsilon=None, decay=0.0):
    """Adamax (tf.train.adamax): step t uses learning_rate/(1 + decay·(t−1)).

    >>> import lamina as lm
    >>> w = lm.variable(lm.tensor([1.0]), name="w_adamax_doc")
    >>> lm.train.adamax(0.1).minimize(lambda: w.square().sum())
    >>> round(w.item(), 6)
    0.9
    """
    return Adamax(learning_rate, beta1, beta2, epsilon, decay)


def rmsprop(learning_rate, decay=0.9, momentum=0.0, epsilon=None, centered=False):
    """RMSProp (tf.train.rmsprop); centered subtracts the squared mean gradient (and, as TF.js
    does, epsilon) inside the square root.

    >>> import lamina as lm
    >>> w = lm.variable(lm.tensor([1.0]), name="w_rmsprop_doc")
    >>> lm.train.rmsprop(0.01).minimize(lambda: w.square().sum())
    >>> round(w.item(), 5)
    0.96838
    """
    return RMSProp(learning_rate, decay, momentum, epsilon, centered)


def adagrad(learning_rate, initial_accumulator_value=0.1):
    """Adagrad (tf.train.adagrad): the accumulator starts at initial_accumulator_value.

    >>> import lamina as lm
    >>> w = lm.variable(lm.tensor([1.0]), name="w_adagrad_doc")
    >>> lm.train.adagrad(0.1).minimize(lambda: w.square().sum())
    >>> round(w.item(), 5)
    0.90123
    """
    return Adagrad(learning_rate, initial_accumulator_value)


def adadelta(learning_rate=0.001, rho=0.95, epsilon=None):
    """Adadelta (tf.train.adadelta); note TF.js's default learning rate here is 0.001.

    The first step moves by learning_rate·g: both accumulators start at 0.

    >>> import lamina as lm
    >>> w = lm.variable(lm.tensor([1.0]), name="w_adadelta_doc")
    >>> lm.train.adadelta(0.1).minimize(lambda: w.square().sum())
    >>> round(w.item(), 6)
    0.8
    """
    return Adadelta(learning_rate, rho, epsilon)
