"""TF.js's config conventions, shared by initializers, regularizers, constraints and activations.

TF.js objects report `get_config()` with camelCase keys and values ({"mode": "fanAvg"}); the
saved (Keras, "pythonic") form snake-cases every key and every string value except names
({"mode": "fan_avg"}). `Serializable` gives each building block both forms, and `resolve`
turns a user's identifier (a name in either spelling, a saved dict, an instance) into an
object the way TF.js's get functions do.
"""

import inspect
import functools
import re

from lamina._suggest import did_you_mean

__all__ = ["to_snake_case", "to_camel_case", "pythonic", "from_pythonic", "Serializable", "resolve",
           "unknown_message"]

# Keys whose string values are names, never re-cased (TF.js convertTsToPythonic).
_NAME_KEYS = ("name", "class_name", "className")


@functools.lru_cache(maxsize=1024)  # a pure function on the hot path of every eligibility check
def to_snake_case(name):
    """TF.js's toSnakeCase: 'fanAvg' -> 'fan_avg', 'L1L2' -> 'l1_l2', 'Dense' -> 'dense'.

    >>> from lamina._serialization import to_snake_case
    >>> to_snake_case("hardSigmoid"), to_snake_case("leCunNormal")
    ('hard_sigmoid', 'le_cun_normal')
    """
    intermediate = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    snake = re.sub(r"([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    # A leading underscore would make an unsafe scope name; TF.js prefixes 'private'.
    return "private" + snake if snake.startswith("_") else snake


@functools.lru_cache(maxsize=1024)
def to_camel_case(name):
    """TF.js's toCamelCase: 'fan_avg' -> 'fanAvg'; names without '_' are returned as they are.

    >>> from lamina._serialization import to_camel_case
    >>> to_camel_case("hard_sigmoid"), to_camel_case("relu")
    ('hardSigmoid', 'relu')
    """
    if len(name) <= 1 or "_" not in name:
        return name
    return re.sub(r"_+(\w|$)", lambda m: m.group(1).upper(), name)


def _convert(value, convert_name, key=None):
    if isinstance(value, dict):
        return {convert_name(k): _convert(v, convert_name, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_convert(v, convert_name) for v in value]
    if isinstance(value, str) and key not in _NAME_KEYS:
        return convert_name(value)
    return value


def pythonic(config):
    """A TF.js config in its saved form: keys and string values snake-cased, names kept.

    >>> from lamina._serialization import pythonic
    >>> pythonic({"maxValue": 2, "mode": "fanAvg", "name": "myLayer"})
    {'max_value': 2, 'mode': 'fan_avg', 'name': 'myLayer'}
    """
    return _convert(config, to_snake_case)


def from_pythonic(config):
    """The inverse of `pythonic` (TF.js convertPythonicToTs): keys and string values camel-cased.

    >>> from lamina._serialization import from_pythonic
    >>> from_pythonic({"max_value": 2, "mode": "fan_avg"})
    {'maxValue': 2, 'mode': 'fanAvg'}
    """
    return _convert(config, to_camel_case)


class Serializable:
    """Base of the building blocks: a TF.js class name, a camelCase config, a saved form.

    Subclasses set `class_name` and return their constructor arguments from `get_config()`
    under TF.js's camelCase keys; `from_config` calls the constructor with them snake-cased.
    """

    class_name = None

    def get_class_name(self):
        """The class name TF.js saves (e.g. 'VarianceScaling' for glorotNormal)."""
        return self.class_name

    def get_config(self):
        """The constructor arguments under TF.js's camelCase keys."""
        return {}

    def serialize(self):
        """The saved form: {"class_name": ..., "config": {snake_case keys and values}}."""
        return {"class_name": self.get_class_name(), "config": pythonic(self.get_config())}

    @classmethod
    def from_config(cls, config):
        """A new object from a config with camelCase or snake_case keys."""
        kwargs = {to_snake_case(key): value for key, value in config.items()}
        accepted = inspect.signature(cls.__init__).parameters
        unknown = [key for key in kwargs if key not in accepted]
        if unknown:
            raise ValueError(f"{cls.__name__} config has unknown key(s) {', '.join(unknown)}; "
                             f"it takes {', '.join(p for p in accepted if p != 'self') or 'none'}")
        return cls(**kwargs)

    def __eq__(self, other):
        return (type(self) is type(other) and self.get_config() == other.get_config())

    def __hash__(self):
        return hash((type(self), repr(sorted(self.get_config().items()))))

    def __repr__(self):
        args = ", ".join(f"{to_snake_case(k)}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def unknown_message(kind, identifier, valid, known=()):
    """TF.js's deserializeKerasObject error text, plus the nearest of the `known` names and
    the names lamina accepts (`valid`, a list or a text).

    >>> print(unknown_message("activation", "sofmax", ["relu", "softmax"]).splitlines()[0])
    Unknown activation: sofmax. Did you mean 'softmax'? This may be due to one of the following reasons:
    """
    hint = did_you_mean(identifier, known or ([] if isinstance(valid, str) else valid))
    return (f"Unknown {kind}: {identifier}.{hint} This may be due to one of the following reasons:\n"
            f"1. The {kind} is defined in Python, in which case it needs to be ported to "
            f"TensorFlow.js or your JavaScript code.\n"
            f"2. The custom {kind} is defined in JavaScript, but is not registered properly with "
            f"tf.serialization.registerClass().\n"
            f"Valid {kind}s: {valid if isinstance(valid, str) else ', '.join(valid)}")


def resolve(identifier, kind, base, by_name, by_class_name, valid_names=None):
    """The object an identifier names, as TF.js's get<Kind>(identifier) resolves it.

    identifier: an instance of `base` (returned as is); a string looked up in `by_name`
    (name -> zero-argument factory); or a saved dict {"class_name"/"className": ...,
    "config": {...}} whose class is looked up in `by_class_name` (class name -> class).
    None is handled by the caller (its meaning differs by kind). `valid_names` is the list
    an unknown-name error shows (default: every key of `by_name`).
    """
    if isinstance(identifier, base):
        return identifier
    if isinstance(identifier, str):
        if identifier not in by_name:
            raise ValueError(unknown_message(kind, identifier, valid_names or list(by_name), list(by_name)))
        return by_name[identifier]()
    if isinstance(identifier, dict):
        class_name = identifier.get("class_name", identifier.get("className"))
        config = identifier.get("config")
        if class_name is None or not isinstance(config, dict):
            raise ValueError(f"{kind}: Improper config format: {identifier!r}. "
                             f"'class_name' and 'config' must be set.")
        if class_name not in by_class_name:
            raise ValueError(unknown_message(kind, class_name, valid_names or list(by_class_name),
                                             list(by_class_name)))
        return by_class_name[class_name].from_config(from_pythonic(config))
    raise TypeError(f"{kind} must be a name, a saved config dict or a {base.__name__}, "
                    f"got {type(identifier).__name__} {identifier!r}")
