"""Weight initialisers with TF.js's names, defaults and maths (tf.initializers).

An initialiser is called with a shape and returns a new Tensor: `glorot_normal()([784, 32])`.
Random ones draw from `lamina.random.generator(seed)`, so `lm.set_seed` makes them
reproducible and an explicit `seed=` gives the same values on every call.

Layers take an initialiser as an object or by name (`get`): TF.js's camelCase names
('glorotNormal'), their snake_case ('glorot_normal'), Keras's ('lecun_normal'), class names
('GlorotNormal'), or a saved dict {"class_name": "VarianceScaling", "config": {...}}.

The variance-scaling family follows TF.js exactly: a 'normal' distribution is a normal
truncated at 2σ (values beyond are drawn again) with σ = sqrt(scale / fan) and no 0.8796
correction (Keras divides σ by it, TF.js does not), and glorot/he/leCun helpers save as
class "VarianceScaling".
"""

import math

import numpy as np

from lamina._public import public_dir
from lamina import creation, random as _random
from lamina._suggest import did_you_mean
from lamina._serialization import Serializable, resolve, to_camel_case, to_snake_case
from lamina.tensor import Tensor

__all__ = [
    "Initializer", "Zeros", "Ones", "Constant", "RandomUniform", "RandomNormal", "TruncatedNormal",
    "Identity", "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform",
    "LeCunNormal", "LeCunUniform", "Orthogonal",
    "zeros", "ones", "constant", "random_uniform", "random_normal", "truncated_normal", "identity",
    "variance_scaling", "glorot_uniform", "glorot_normal", "he_normal", "he_uniform",
    "le_cun_normal", "le_cun_uniform", "orthogonal", "get", "serialize",
]
__dir__ = public_dir(__all__)  # dir() lists the public names only

_RANDOM_DTYPES = ("float32", "int32")


def _check_shape(shape):
    """shape as a list of non-negative ints, or a clear error."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = [shape]
    if not isinstance(shape, (list, tuple)) or not all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise ValueError(f"shape must be a list of non-negative ints, got {shape!r}")
    return [int(d) for d in shape]


def _check_number(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value):
        raise ValueError(f"{argument} must be a finite number, got {value!r}")
    return value


def _check_seed(seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                             or seed < 0):
        raise ValueError(f"seed must be None or an int >= 0, got {seed!r}")
    return seed


def _check_random_dtype(dtype, class_name):
    if dtype not in _RANDOM_DTYPES:
        raise ValueError(f"{class_name} does not support dtype {dtype!r}; use float32 or int32")


class Initializer(Serializable):
    """Base class: `init(shape, dtype="float32")` returns a new Tensor of that shape.

    Subclass it and define `__call__` for a custom initialiser.
    """

    def __call__(self, shape, dtype="float32"):
        raise NotImplementedError


class Zeros(Initializer):
    """All zeros.

    >>> import lamina as lm
    >>> lm.initializers.zeros()([2]).array()
    [0.0, 0.0]
    """

    class_name = "Zeros"

    def __call__(self, shape, dtype="float32"):
        return creation.zeros(_check_shape(shape), dtype)


class Ones(Initializer):
    """All ones.

    >>> import lamina as lm
    >>> lm.initializers.ones()([2], "int32").array()
    [1, 1]
    """

    class_name = "Ones"

    def __call__(self, shape, dtype="float32"):
        return creation.ones(_check_shape(shape), dtype)


class Constant(Initializer):
    """Every element `value`.

    >>> import lamina as lm
    >>> lm.initializers.constant(0.5)([3]).array()
    [0.5, 0.5, 0.5]
    """

    class_name = "Constant"

    def __init__(self, value):
        self.value = _check_number(value, "value")

    def __call__(self, shape, dtype="float32"):
        return creation.fill(_check_shape(shape), self.value, dtype)

    def get_config(self):
        return {"value": self.value}


class RandomUniform(Initializer):
    """Uniform values in [minval, maxval).

    >>> import lamina as lm
    >>> x = lm.initializers.random_uniform(minval=2, maxval=3, seed=0)([100]).numpy()
    >>> bool(((x >= 2) & (x < 3)).all())
    True
    """

    class_name = "RandomUniform"

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = _check_number(minval, "minval")
        self.maxval = _check_number(maxval, "maxval")
        self.seed = _check_seed(seed)

    def __call__(self, shape, dtype="float32"):
        _check_random_dtype(dtype, self.class_name)
        return creation.random_uniform(_check_shape(shape), self.minval, self.maxval, dtype, self.seed)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(Initializer):
    """Normal values with mean `mean` and standard deviation `stddev`.

    >>> import lamina as lm
    >>> x = lm.initializers.random_normal(mean=1, stddev=0.01, seed=0)([1000]).numpy()
    >>> bool(abs(x.mean() - 1) < 0.01)
    True
    """

    class_name = "RandomNormal"
    _draw = staticmethod(creation.random_normal)

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = _check_number(mean, "mean")
        self.stddev = _check_number(stddev, "stddev")
        self.seed = _check_seed(seed)

    def __call__(self, shape, dtype="float32"):
        _check_random_dtype(dtype, self.class_name)
        return self._draw(_check_shape(shape), self.mean, self.stddev, dtype, self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Normal values, any beyond 2 standard deviations drawn again (no variance correction).

    >>> import lamina as lm
    >>> x = lm.initializers.truncated_normal(stddev=1, seed=0)([1000]).numpy()
    >>> bool(abs(x).max() <= 2)
    True
    """

    class_name = "TruncatedNormal"
    _draw = staticmethod(creation.truncated_normal)


class Identity(Initializer):
    """gain × the identity matrix; only for 2-D square shapes.

    >>> import lamina as lm
    >>> lm.initializers.identity(gain=2)([2, 2]).array()
    [[2.0, 0.0], [0.0, 2.0]]
    """

    class_name = "Identity"

    def __init__(self, gain=1.0):
        self.gain = _check_number(gain, "gain")

    def __call__(self, shape, dtype="float32"):
        shape = _check_shape(shape)
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError("Identity matrix initializer can only be used for 2D square matrices, "
                             f"got shape {shape}")
        return creation.eye(shape[0], dtype=dtype) * self.gain

    def get_config(self):
        return {"gain": self.gain}


def compute_fans(shape):
    """(fan_in, fan_out) of a weight shape, as TF.js's computeFans (channels-last kernels).

    2-D [in, out]: (in, out). 3- to 5-D convolution kernels [..., in, out]: each times the
    receptive field size prod(shape[:-2]). Any other rank: both sqrt(prod(shape)).

    >>> from lamina.initializers import compute_fans
    >>> compute_fans([784, 32]), compute_fans([3, 3, 16, 8])
    ((784, 32), (144, 72))
    """
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) in (3, 4, 5):
        receptive_field = math.prod(shape[:-2])
        return shape[-2] * receptive_field, shape[-1] * receptive_field
    side = math.sqrt(math.prod(shape))
    return side, side


_FAN_MODES = ("fanIn", "fanOut", "fanAvg")
_DISTRIBUTIONS = ("normal", "uniform", "truncatedNormal")


def _one_of(value, valid, argument):
    """value in TF.js's camelCase spelling; the snake_case spelling is accepted too."""
    camel = to_camel_case(value) if isinstance(value, str) else value
    if camel not in valid:
        raise ValueError(f"{argument} must be one of {', '.join(valid)} (or in snake_case, e.g. "
                         f"{to_snake_case(valid[0])}), got {value!r}.{did_you_mean(value, [*valid, *map(to_snake_case, valid)])}")
    return camel


class VarianceScaling(Initializer):
    """Values with variance scale / n, n by `mode`: fan_in, fan_out or their average.

    distribution 'normal' (or 'truncated_normal', the same here): a normal truncated at 2σ,
    σ = sqrt(scale / n), as TF.js (no 0.8796 correction). 'uniform': U(-limit, limit),
    limit = sqrt(3·scale / n).

    >>> import lamina as lm
    >>> init = lm.initializers.variance_scaling(scale=2, mode="fan_in", distribution="uniform")
    >>> x = init([50, 10]).numpy()
    >>> bool(abs(x).max() <= (3 * 2 / 50) ** 0.5)
    True
    >>> init.get_config()
    {'scale': 2, 'mode': 'fanIn', 'distribution': 'uniform', 'seed': None}
    """

    class_name = "VarianceScaling"

    def __init__(self, scale=1.0, mode="fanIn", distribution="normal", seed=None):
        scale = _check_number(scale, "scale")
        if scale < 0:
            raise ValueError(f"scale must be a positive float. Got: {scale}")
        self.scale = scale
        self.mode = _one_of(mode, _FAN_MODES, "mode")
        self.distribution = _one_of(distribution, _DISTRIBUTIONS, "distribution")
        self.seed = _check_seed(seed)

    def _variance(self, shape):
        fan_in, fan_out = compute_fans(shape)
        fan = {"fanIn": fan_in, "fanOut": fan_out, "fanAvg": (fan_in + fan_out) / 2}[self.mode]
        return self.scale / max(1, fan)

    def __call__(self, shape, dtype="float32"):
        shape = _check_shape(shape)
        _check_random_dtype(dtype, self.get_class_name())
        variance = self._variance(shape)
        if self.distribution == "uniform":
            limit = math.sqrt(3 * variance)
            return creation.random_uniform(shape, -limit, limit, dtype, self.seed)
        # TF.js treats 'truncatedNormal' like 'uniform' (anything but 'normal'); lamina gives
        # it the truncated normal its name says, the same as 'normal'.
        return creation.truncated_normal(shape, 0, math.sqrt(variance), dtype, self.seed)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


class _VarianceScalingPreset(VarianceScaling):
    """A named VarianceScaling preset (glorot, he, leCun): takes only a seed and saves as
    class 'VarianceScaling', as TF.js (Keras has these as functions, not classes)."""

    preset = None  # (scale, mode, distribution)

    def __init__(self, seed=None):
        scale, mode, distribution = self.preset
        super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed)

    def get_class_name(self):
        return VarianceScaling.class_name

    @classmethod
    def from_config(cls, config):
        """From get_config()'s dict, which also holds the preset's scale, mode and
        distribution: those must be the preset's own; only the seed is taken.

        >>> import lamina as lm
        >>> init = lm.initializers.glorot_uniform(seed=3)
        >>> type(init).from_config(init.get_config()) == init
        True
        """
        config = {to_snake_case(key): value for key, value in config.items()}
        for key, own in zip(("scale", "mode", "distribution"), cls.preset):
            if key in config:
                given = config.pop(key)
                if (to_camel_case(given) if isinstance(given, str) else given) != own:
                    raise ValueError(f"{cls.__name__} has {key} {own!r}, got {given!r} (use VarianceScaling "
                                     "for other values)")
        return super().from_config(config)


class GlorotUniform(_VarianceScalingPreset):
    """U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)).

    >>> import lamina as lm
    >>> lm.initializers.glorot_uniform().serialize()["config"]["distribution"]
    'uniform'
    """

    class_name = "GlorotUniform"
    preset = (1, "fanAvg", "uniform")


class GlorotNormal(_VarianceScalingPreset):
    """Truncated normal (±2σ), σ = sqrt(2 / (fan_in + fan_out)): the Dense kernel's default.

    >>> import lamina as lm
    >>> lm.initializers.glorot_normal().serialize()
    {'class_name': 'VarianceScaling', 'config': {'scale': 1, 'mode': 'fan_avg', 'distribution': 'normal', 'seed': None}}
    """

    class_name = "GlorotNormal"
    preset = (1, "fanAvg", "normal")


class HeNormal(_VarianceScalingPreset):
    """Truncated normal (±2σ), σ = sqrt(2 / fan_in).

    >>> import lamina as lm
    >>> lm.initializers.he_normal().get_config()["scale"]
    2
    """

    class_name = "HeNormal"
    preset = (2, "fanIn", "normal")


class HeUniform(_VarianceScalingPreset):
    """U(-limit, limit), limit = sqrt(6 / fan_in).

    >>> import lamina as lm
    >>> lm.initializers.he_uniform().get_config()["mode"]
    'fanIn'
    """

    class_name = "HeUniform"
    preset = (2, "fanIn", "uniform")


class LeCunNormal(_VarianceScalingPreset):
    """Truncated normal (±2σ), σ = sqrt(1 / fan_in).

    >>> import lamina as lm
    >>> lm.initializers.le_cun_normal().get_class_name()
    'VarianceScaling'
    """

    class_name = "LeCunNormal"
    preset = (1, "fanIn", "normal")


class LeCunUniform(_VarianceScalingPreset):
    """U(-limit, limit), limit = sqrt(3 / fan_in).

    >>> import lamina as lm
    >>> lm.initializers.le_cun_uniform().get_config()["distribution"]
    'uniform'
    """

    class_name = "LeCunUniform"
    preset = (1, "fanIn", "uniform")


class Orthogonal(Initializer):
    """gain × a random orthogonal matrix (orthonormal rows or columns, whichever are fewer).

    The matrix is TF.js's: Gram–Schmidt on standard normal values (here as a QR
    decomposition with the signs Gram–Schmidt gives). Shapes of rank > 2 are flattened to
    [prod(shape[:-1]), shape[-1]] as Keras does (TF.js returns a wrongly shaped matrix);
    unlike TF.js, `seed` is supported.

    >>> import lamina as lm
    >>> q = lm.initializers.orthogonal(seed=0)([3, 3]).numpy()
    >>> bool(abs(q @ q.T - lm.eye(3).numpy()).max() < 1e-5)
    True
    """

    class_name = "Orthogonal"

    def __init__(self, gain=1.0, seed=None):
        self.gain = _check_number(gain, "gain")
        self.seed = _check_seed(seed)

    def __call__(self, shape, dtype="float32"):
        shape = _check_shape(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer needs a shape of rank >= 2, got {shape}")
        if dtype != "float32":
            raise ValueError(f"Orthogonal does not support dtype {dtype!r}; use float32")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        # QR of a tall matrix gives orthonormal columns; transpose for a wide one.
        tall = _random.generator(self.seed).standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(tall)
        # Gram–Schmidt's R has a positive diagonal: flip the columns whose sign differs.
        q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
        matrix = q if rows >= cols else q.T
        return Tensor._wrap((self.gain * matrix).reshape(shape).astype(np.float32))

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


# User-facing factories, TF.js's tf.initializers.* in snake_case.

def zeros():
    """An initialiser of zeros (TF.js tf.initializers.zeros).

    >>> import lamina as lm
    >>> lm.initializers.zeros()([1, 2]).array()
    [[0.0, 0.0]]
    """
    return Zeros()


def ones():
    """An initialiser of ones.

    >>> import lamina as lm
    >>> lm.initializers.ones()([2]).array()
    [1.0, 1.0]
    """
    return Ones()


def constant(value):
    """An initialiser filling every element with `value`.

    >>> import lamina as lm
    >>> lm.initializers.constant(3)([2]).array()
    [3.0, 3.0]
    """
    return Constant(value)


def random_uniform(minval=-0.05, maxval=0.05, seed=None):
    """Uniform values in [minval, maxval) (TF.js's defaults ±0.05).

    >>> import lamina as lm
    >>> lm.initializers.random_uniform().get_config()
    {'minval': -0.05, 'maxval': 0.05, 'seed': None}
    """
    return RandomUniform(minval, maxval, seed)


def random_normal(mean=0.0, stddev=0.05, seed=None):
    """Normal values (TF.js's defaults mean 0, stddev 0.05).

    >>> import lamina as lm
    >>> lm.initializers.random_normal(seed=1)([4]).shape
    [4]
    """
    return RandomNormal(mean, stddev, seed)


def truncated_normal(mean=0.0, stddev=0.05, seed=None):
    """Normal values truncated at 2 standard deviations (defaults mean 0, stddev 0.05).

    >>> import lamina as lm
    >>> bool(abs(lm.initializers.truncated_normal(seed=1)([100]).numpy()).max() <= 0.1)
    True
    """
    return TruncatedNormal(mean, stddev, seed)


def identity(gain=1.0):
    """gain × the identity matrix (2-D square shapes only).

    >>> import lamina as lm
    >>> lm.initializers.identity()([2, 2]).array()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    return Identity(gain)


def variance_scaling(scale=1.0, mode="fan_in", distribution="normal", seed=None):
    """Values with variance scale / fan (see VarianceScaling); mode fan_in, fan_out or fan_avg.

    >>> import lamina as lm
    >>> lm.initializers.variance_scaling(mode="fan_avg").get_config()["mode"]
    'fanAvg'
    """
    return VarianceScaling(scale, mode, distribution, seed)


def glorot_uniform(seed=None):
    """Glorot (Xavier) uniform: U(±sqrt(6 / (fan_in + fan_out))).

    >>> import lamina as lm
    >>> x = lm.initializers.glorot_uniform(seed=0)([10, 14]).numpy()  # limit sqrt(6 / 24)
    >>> bool(abs(x).max() <= 0.5 + 1e-7)
    True
    """
    return GlorotUniform(seed)


def glorot_normal(seed=None):
    """Glorot (Xavier) normal, truncated at 2σ, σ = sqrt(2 / (fan_in + fan_out)).

    >>> import lamina as lm
    >>> x = lm.initializers.glorot_normal(seed=0)([784, 32]).numpy()
    >>> round(float(abs(x).max()), 3)
    0.099
    """
    return GlorotNormal(seed)


def he_normal(seed=None):
    """He normal, truncated at 2σ, σ = sqrt(2 / fan_in).

    >>> import lamina as lm
    >>> bool(abs(lm.initializers.he_normal(seed=0)([8, 4]).numpy()).max() <= 1)
    True
    """
    return HeNormal(seed)


def he_uniform(seed=None):
    """He uniform: U(±sqrt(6 / fan_in)).

    >>> import lamina as lm
    >>> bool(abs(lm.initializers.he_uniform(seed=0)([6, 4]).numpy()).max() <= 1)
    True
    """
    return HeUniform(seed)


def le_cun_normal(seed=None):
    """LeCun normal, truncated at 2σ, σ = sqrt(1 / fan_in) (Keras: lecun_normal).

    >>> import lamina as lm
    >>> bool(abs(lm.initializers.le_cun_normal(seed=0)([4, 4]).numpy()).max() <= 1)
    True
    """
    return LeCunNormal(seed)


def le_cun_uniform(seed=None):
    """LeCun uniform: U(±sqrt(3 / fan_in)) (Keras: lecun_uniform).

    >>> import lamina as lm
    >>> bool(abs(lm.initializers.le_cun_uniform(seed=0)([3, 4]).numpy()).max() <= 1)
    True
    """
    return LeCunUniform(seed)


def orthogonal(gain=1.0, seed=None):
    """gain × a random orthogonal matrix.

    >>> import lamina as lm
    >>> q = lm.initializers.orthogonal(seed=0)([4, 2]).numpy()
    >>> bool(abs(q.T @ q - lm.eye(2).numpy()).max() < 1e-5)
    True
    """
    return Orthogonal(gain, seed)


_CLASSES = [Zeros, Ones, Constant, RandomUniform, RandomNormal, TruncatedNormal, Identity,
            VarianceScaling, GlorotUniform, GlorotNormal, HeNormal, HeUniform, LeCunNormal,
            LeCunUniform, Orthogonal]
_BY_CLASS_NAME = {cls.class_name: cls for cls in _CLASSES}

# TF.js's string identifiers (INITIALIZER_IDENTIFIER_REGISTRY_SYMBOL_MAP).
IDENTIFIERS = {
    "constant": Constant, "glorotNormal": GlorotNormal, "glorotUniform": GlorotUniform,
    "heNormal": HeNormal, "heUniform": HeUniform, "identity": Identity,
    "leCunNormal": LeCunNormal, "leCunUniform": LeCunUniform, "ones": Ones,
    "orthogonal": Orthogonal, "randomNormal": RandomNormal, "randomUniform": RandomUniform,
    "truncatedNormal": TruncatedNormal, "varianceScaling": VarianceScaling, "zeros": Zeros,
}


def _name_table():
    names = dict(IDENTIFIERS)
    names.update({to_snake_case(name): cls for name, cls in IDENTIFIERS.items()})
    names.update({"lecun_normal": LeCunNormal, "lecun_uniform": LeCunUniform})  # Keras's spelling
    names.update(_BY_CLASS_NAME)  # TF.js also takes class names ('GlorotNormal')
    # 'constant' has no default value: by name it is an error that says so (as in TF.js).
    names["constant"] = names["Constant"] = _constant_needs_value
    return names


def _constant_needs_value():
    raise ValueError("The 'constant' initializer needs a value: use "
                     "lm.initializers.constant(value) or {'class_name': 'Constant', "
                     "'config': {'value': ...}}")


_BY_NAME = _name_table()


def get(identifier):
    """The Initializer an identifier names, or None for None.

    identifier: an Initializer; a name — TF.js camelCase ('glorotNormal'), snake_case
    ('glorot_normal'), a class name ('GlorotNormal'); or a saved dict
    {"class_name": "VarianceScaling", "config": {...}} (snake_case or camelCase keys).

    >>> import lamina as lm
    >>> lm.initializers.get("heNormal") == lm.initializers.get("he_normal")
    True
    >>> init = lm.initializers.get({"class_name": "VarianceScaling", "config": {"scale": 1,
    ...     "mode": "fan_avg", "distribution": "uniform", "seed": None}})
    >>> init.get_config()
    {'scale': 1, 'mode': 'fanAvg', 'distribution': 'uniform', 'seed': None}
    """
    if identifier is None:
        return None
    return resolve(identifier, "initializer", Initializer, _BY_NAME, _BY_CLASS_NAME,
                   ", ".join(IDENTIFIERS) + " (or in snake_case, e.g. glorot_normal)")


def serialize(initializer):
    """The saved form of an initializer (None for None).

    >>> import lamina as lm
    >>> lm.initializers.serialize(lm.initializers.zeros())
    {'class_name': 'Zeros', 'config': {}}
    """
    return None if initializer is None else initializer.serialize()
