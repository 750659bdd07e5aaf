"""The model topology in TF.js's LayersModel JSON: writing it as TF.js writes it, reading
what TF.js, its Python converter and Keras write.

Writing: `topology(model)` is TF.js's `model.toJSON()` object — class name, config
(model name and each layer's {class_name, config}, snake_case keys), `keras_version` and
`backend` — and `dumps` is JavaScript's `JSON.stringify` (compact, keys in insertion order,
numbers as JavaScript prints them: 1 not 1.0, 1e-7 not 1e-07), so lamina's files match
tfjs-node's byte for byte.

Reading: `model_from_topology(topology, where)` rebuilds a Sequential model from a
topology in any of the forms TF.js's loader accepts: camelCase or snake_case keys, wrapped
in `model_config`, a legacy list of layers, an explicit InputLayer or a first layer with
`input_shape`, and a functional model (`Model`/`Functional`) that is a single chain of
layers. Nothing is executed: classes are looked up in lamina's layer registry by name.

>>> import lamina as lm
>>> from lamina.io import model_json
>>> model_json.dumps({"rate": 0.5, "scale": 1.0, "epsilon": 1e-7, "seed": None})
'{"rate":0.5,"scale":1,"epsilon":1e-7,"seed":null}'
"""

import decimal
import json
import math
import numbers

import numpy as np

from lamina._serialization import to_snake_case

__all__ = ["TFJS_LAYERS_VERSION", "KERAS_VERSION", "BACKEND", "dumps", "parse_json", "topology",
           "model_config", "model_from_topology", "model_from_config"]

# The tfjs-layers release whose format lamina writes (tfjs_semantics.md §6).
TFJS_LAYERS_VERSION = "4.22.0"
KERAS_VERSION = f"tfjs-layers {TFJS_LAYERS_VERSION}"
BACKEND = "tensor_flow.js"  # TF.js snake-cases its backend name 'TensorFlow.js' [quirk]

# Keras writes `ragged: false` on InputLayer; it means what lamina does, so it is accepted.
_HARMLESS_KERAS_KEYS = {("InputLayer", "ragged"): False}


# ---------------------------------------------------------------- JSON as JavaScript writes it

def _js_number(value):
    """A number as JavaScript's Number#toString prints it (JSON.stringify's form)."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral) and abs(int(value)) < 10 ** 21:
        return str(int(value))
    value = float(value)
    if not math.isfinite(value):
        return "null"  # JSON.stringify(NaN) is null
    if value == 0:
        return "0"  # also -0
    sign, digits, exponent = decimal.Decimal(repr(value)).normalize().as_tuple()
    digits = "".join(map(str, digits))
    k, n = len(digits), exponent + len(digits)  # value = 0.<digits> * 10**n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
        text = f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return ("-" if sign else "") + text


def dumps(value):
    """JSON text exactly as JavaScript's JSON.stringify(value) writes it.

    >>> from lamina.io.model_json import dumps
    >>> dumps({"shape": [None, 3], "lr": 0.01, "big": 1e21, "on": True, "name": "ä"})
    '{"shape":[null,3],"lr":0.01,"big":1e+21,"on":true,"name":"ä"}'
    """
    parts = []
    _write(value, parts)
    return "".join(parts)


def _write(value, parts):
    if value is None:
        parts.append("null")
    elif isinstance(value, str):
        parts.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, (bool, np.bool_, numbers.Number)) and not isinstance(value, complex):
        parts.append(_js_number(value))
    elif isinstance(value, dict):
        parts.append("{")
        for i, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be str, got {key!r}")
            parts.append(("," if i else "") + json.dumps(key, ensure_ascii=False) + ":")
            _write(item, parts)
        parts.append("}")
    elif isinstance(value, (list, tuple, np.ndarray)):
        parts.append("[")
        for i, item in enumerate(value.tolist() if isinstance(value, np.ndarray) else value):
            if i:
                parts.append(",")
            _write(item, parts)
        parts.append("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} {value!r} as JSON")


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def parse_json(text, where):
    """Parses JSON text strictly (no NaN/Infinity, as JavaScript's JSON.parse); any error is
    a ValueError that starts with `where` (the file)."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError(f"{where}: malformed JSON: nested too deeply") from None
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        raise ValueError(f"{where}: malformed JSON: {error}") from None


# ---------------------------------------------------------------- writing

def _layer_entry(layer):
    return {"class_name": layer.class_name, "config": layer.get_config()}


def model_config(model):
    """TF.js's Sequential.getConfig in its saved form: {"name", "layers": [{class_name, config}]}.

    An explicit InputLayer the model was built with comes first, as in TF.js's
    `sequential.layers`.
    """
    layers = [_layer_entry(layer) for layer in model.layers]
    input_layer = getattr(model, "_input_layer", None)
    if input_layer is not None:
        layers.insert(0, _layer_entry(input_layer))
    return {"name": model.name, "layers": layers}


def topology(model):
    """The `modelTopology` object TF.js's model.toJSON() gives for a Sequential model.

    >>> import lamina as lm
    >>> from lamina.io.model_json import topology
    >>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[2], name="doc_top")],
    ...                       name="doc_model")
    >>> t = topology(model)
    >>> t["class_name"], t["config"]["name"], t["keras_version"], t["backend"]
    ('Sequential', 'doc_model', 'tfjs-layers 4.22.0', 'tensor_flow.js')
    """
    return {"class_name": model.class_name, "config": model_config(model),
            "keras_version": KERAS_VERSION, "backend": BACKEND}


# ---------------------------------------------------------------- reading

def _get(mapping, snake_key, default=None):
    """mapping[snake_key] or its camelCase spelling ('class_name' or 'className')."""
    if snake_key in mapping:
        return mapping[snake_key]
    head, *rest = snake_key.split("_")
    camel = head + "".join(part.capitalize() for part in rest)
    return mapping.get(camel, default)


def _require_dict(value, what, where):
    if not isinstance(value, dict):
        raise ValueError(f"{where}: {what} must be a JSON object, got {type(value).__name__} "
                         f"{_short(value)}")
    return value


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _layer_config(class_name, config, cls, where, label, strict):
    """The layer's constructor arguments: keys in snake_case (TF.js files have camelCase
    ones), values as written (lamina's layers take either spelling of a string value)."""
    kwargs = {}
    for key, value in config.items():
        if not isinstance(key, str):
            raise ValueError(f"{where}: {label}: config keys must be strings, got {key!r}")
        kwargs[to_snake_case(key)] = value
    for (owner, key), harmless in _HARMLESS_KERAS_KEYS.items():
        if class_name == owner and kwargs.get(key, harmless) == harmless:
            kwargs.pop(key, None)
    if "batch_shape" in kwargs:
        raise ValueError(f"{where}: {label}: 'batch_shape' is Keras 3's spelling, which TF.js does not read "
                         "either; the LayersModel format says 'batch_input_shape'")
    return kwargs


def _check_units(kwargs, label, where, max_values):
    """A Dense layer of `units` has at least `units` weight values (its bias, or its kernel's
    columns); when every weight must come from the files, a larger `units` than the files
    hold values is refused before its weights are allocated (a malformed file could
    otherwise ask for terabytes)."""
    units = kwargs.get("units")
    if (max_values is not None and isinstance(units, numbers.Integral) and not isinstance(units, bool)
            and units > max_values):
        raise ValueError(f"{where}: {label}: units={units}, but the weight files hold only {max_values} values "
                         "for the model's weights")


def _build_layer(entry, index, where, strict, max_values=None):
    from lamina.layers import get_class

    entry = _require_dict(entry, f"layer {index}", where)
    class_name = _get(entry, "class_name")
    config = _get(entry, "config", {})
    if not isinstance(class_name, str):
        raise ValueError(f"{where}: layer {index} has no class_name (got {_short(entry)})")
    config = _require_dict(config, f"the config of layer {index} ({class_name})", where)
    name = config.get("name")
    label = f"layer {index} ({class_name} {name!r})" if isinstance(name, str) else f"layer {index} ({class_name})"
    try:
        cls = get_class(class_name)
    except ValueError as error:
        raise ValueError(f"{where}: {label}: {error}") from None
    kwargs = _layer_config(class_name, config, cls, where, label, strict)
    _check_units(kwargs, label, where, max_values)
    try:
        return cls.from_config(kwargs)
    except (TypeError, ValueError, OverflowError, MemoryError) as error:
        raise ValueError(f"{where}: {label} cannot be rebuilt from its config: {error}") from None


def _chain_layers(config, where):
    """The layers of a functional model's config when they form one chain input -> ... -> output."""
    layers = config.get("layers")
    if not isinstance(layers, list) or not layers:
        raise ValueError(f"{where}: a functional model's config needs a non-empty 'layers' list")
    names = []
    for index, entry in enumerate(layers):
        entry = _require_dict(entry, f"layer {index}", where)
        layer_config = _require_dict(_get(entry, "config", {}), f"the config of layer {index}", where)
        name = entry.get("name", layer_config.get("name"))
        nodes = _get(entry, "inbound_nodes", [])
        inbound = _inbound_layer_names(nodes, where, name)
        expected = [] if index == 0 else [names[-1]]
        if inbound != expected:
            raise ValueError(f"{where}: lamina loads functional models only when they are a single chain of layers "
                             f"(each layer fed by the one before); layer {name!r} is fed by {inbound or 'nothing'}, "
                             f"expected {expected or 'nothing'}")
        names.append(name)
    for key, expected in (("input_layers", names[0]), ("output_layers", names[-1])):
        ends = _get(config, key)
        if (not isinstance(ends, list) or len(ends) != 1 or not isinstance(ends[0], list) or not ends
                or ends[0][:1] != [expected]):
            raise ValueError(f"{where}: lamina loads functional models only with one input and one output at the "
                             f"ends of their chain; {key} is {_short(ends)}, expected [[{expected!r}, 0, 0]]")
    return layers


def _inbound_layer_names(nodes, where, name):
    if not isinstance(nodes, list):
        raise ValueError(f"{where}: layer {name!r}: inbound_nodes must be a list, got {_short(nodes)}")
    inbound = []
    for node in nodes:
        if not isinstance(node, list):
            raise ValueError(f"{where}: layer {name!r}: each inbound node must be a list, got {_short(node)}")
        for connection in node:
            if not isinstance(connection, list) or not connection or not isinstance(connection[0], str):
                raise ValueError(f"{where}: layer {name!r}: an inbound connection must be [layer name, node, "
                                 f"tensor, kwargs], got {_short(connection)}")
            inbound.append(connection[0])
    return inbound


def model_from_config(class_name, config, where="model config", strict=True, max_values=None):
    """A Sequential model from a saved model class name and config (no weights loaded).

    class_name 'Sequential' takes {"name", "layers"} or a bare list of layers (the legacy
    form); 'Model' or 'Functional' a functional config that is a single chain of layers.
    max_values: when given, the number of weight values the files hold (a layer asking for
    more units is refused before it allocates them).
    """
    from lamina.models import Sequential

    if class_name == "Sequential":
        if isinstance(config, list):  # legacy Keras form: the list of layers itself
            config = {"layers": config}
        config = _require_dict(config, "the Sequential config", where)
        layers = _get(config, "layers")
        if not isinstance(layers, list):
            raise ValueError(f"{where}: the Sequential config needs a 'layers' list, got {_short(layers)}")
    elif class_name in ("Model", "Functional"):
        config = _require_dict(config, f"the {class_name} config", where)
        layers = _chain_layers(config, where)
    else:
        raise ValueError(f"{where}: lamina loads Sequential models (and functional ones that are a single "
                         f"chain of layers); got class_name {class_name!r}")
    name = config.get("name")
    if name is not None and (not isinstance(name, str) or not name):
        raise ValueError(f"{where}: the model name must be a non-empty string, got {_short(name)}")
    model = Sequential(name=name)
    if not layers:
        raise ValueError(f"{where}: the model has no layers")
    for index, entry in enumerate(layers):
        layer = _build_layer(entry, index, where, strict, max_values)
        try:
            model.add(layer)
        except (TypeError, ValueError, OverflowError, MemoryError) as error:
            raise ValueError(f"{where}: layer {index} ({layer.class_name} {layer.name!r}): {error}") from None
    return model


def model_from_topology(topology_json, where="modelTopology", strict=True, max_values=None):
    """A Sequential model from a `modelTopology` object (no weights loaded); a topology
    wrapped as {"model_config": ..., "training_config": ...} is unwrapped, as TF.js does."""
    topology_json = _require_dict(topology_json, "modelTopology", where)
    wrapped = _get(topology_json, "model_config")
    if wrapped is not None:
        topology_json = _require_dict(wrapped, "modelTopology.model_config", where)
    class_name = _get(topology_json, "class_name")
    if not isinstance(class_name, str):
        raise ValueError(f"{where}: modelTopology has no class_name (keys: {', '.join(map(str, topology_json))})")
    return model_from_config(class_name, _get(topology_json, "config"), where, strict, max_values)
