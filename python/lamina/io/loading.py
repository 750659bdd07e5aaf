"""Loading a TF.js LayersModel: `load_layers_model(path, strict=True, compile=True)`.

Reads what tfjs-node, the browser, TF.js's Python converter and lamina write (see
`lamina.io.model_json` for the topology forms, `lamina.io.weights` for the weight files).
Loading never executes anything from the files: JSON is parsed, layer classes are looked up
by name in lamina's registry (`lm.layers.register_class` adds custom ones) and weights are
read as plain numbers. Every problem with a file is a ValueError that starts with the file's
path and names the weight or layer concerned.

>>> import os, tempfile
>>> import lamina as lm
>>> model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[3], name="doc_load")])
>>> folder = os.path.join(tempfile.mkdtemp(), "m")
>>> _ = model.save(folder)
>>> loaded = lm.load_layers_model(folder)
>>> [w.original_name for w in loaded.weights], loaded.predict(lm.ones([1, 3])).array() == model.predict(lm.ones([1, 3])).array()
(['doc_load/kernel', 'doc_load/bias'], True)
"""

import os

import numpy as np

from lamina import optimizers
from lamina._serialization import to_camel_case
from lamina.io import model_json, weights
from lamina.io.paths import file_system_path
from lamina.io.saving import FORMAT, MODEL_JSON, WEIGHTS_MANIFEST, check_user_defined_metadata
from lamina.tensor import Tensor

__all__ = ["load_layers_model", "load_weights", "model_from_json"]


def _model_json_path(path):
    """The model.json file for a folder, a JSON file path or a file:// URL."""
    path = file_system_path(path, "loads from")
    if os.path.isdir(path):
        path = os.path.join(path, MODEL_JSON)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Path {path} does not exist: loading failed")
    return path


def _read_document(path):
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: malformed JSON: the file is not UTF-8 text ({error})") from None
    document = model_json.parse_json(text, path)
    if not isinstance(document, dict):
        raise ValueError(f"{path}: a model.json must hold a JSON object, got {type(document).__name__}")
    if document.get("modelTopology") is None:
        raise ValueError(f"{path}: no modelTopology: this is not a LayersModel's model.json "
                         f"(keys: {', '.join(map(str, document)) or 'none'})")
    fmt = document.get("format")
    if fmt not in (None, FORMAT):
        raise ValueError(f"{path}: format is {fmt!r}; lamina loads LayersModels (format {FORMAT!r})")
    return document


# ---------------------------------------------------------------- model weights (TF.js loadWeights)

def _targets(model, where):
    by_name = {}
    for weight in model.weights:
        if weight.original_name in by_name:
            raise ValueError(f"{where}: Duplicate weight name: {weight.original_name}")
        by_name[weight.original_name] = weight
    return by_name


def _set_model_weights(model, pairs, where, strict):
    """Matches weights by name as TF.js does, checks all, then writes all (no constraint
    applied: the saved values are restored exactly)."""
    targets = _targets(model, where)
    total = len(targets)
    assignments = []
    for spec, array in pairs:
        name = spec["name"]
        target_name = name
        if name not in targets:
            # TF 2.2 writes layer/cell/weight: TF.js retries without the second-to-last part.
            tokens = name.split("/")
            target_name = "/".join(tokens[:-2] + tokens[-1:])
        weight = targets.pop(target_name, None)
        if weight is None:
            if strict:
                raise ValueError(f"{where}: Provided weight data has no target variable: {name} (the model's weights: "
                                 f"{', '.join(w.original_name for w in model.weights) or 'none'})")
            continue
        if spec["dtype"] != weight.dtype:
            raise ValueError(f"{where}: weight '{name}' has dtype {spec['dtype']} in the file, but the model's "
                             f"weight {weight.original_name} is {weight.dtype}")
        if list(array.shape) != weight.shape:
            raise ValueError(f"{where}: weight '{name}': Shape mismatch: the model's weight has shape {weight.shape}, "
                             f"the file gives {list(array.shape)}")
        assignments.append((weight, array))
    if strict and targets:
        raise ValueError(f"{where}: {len(targets)} of {total} weights are not set: {','.join(targets)}")
    for weight, array in assignments:
        # np.asarray: np.ascontiguousarray would make a 0-d weight 1-d.
        weight.val.assign(np.asarray(array, weight.val._data.dtype))


# ---------------------------------------------------------------- training config (TF.js loadTrainingConfig)

def _optimizer(config, where):
    if not isinstance(config, dict):
        raise ValueError(f"{where}: trainingConfig.optimizer_config must be an object, got {config!r}")
    class_name = config.get("class_name", config.get("className"))
    settings = config.get("config", {})
    if not isinstance(class_name, str) or not isinstance(settings, dict):
        raise ValueError(f"{where}: trainingConfig.optimizer_config needs a class_name and a config object, "
                         f"got {config!r}")
    cls = optimizers._CLASSES.get(class_name)
    if cls is None:
        raise ValueError(f"{where}: trainingConfig: Unknown optimizer class {class_name!r}; lamina knows "
                         f"{', '.join(optimizers._CLASSES)}")
    # As TF.js: keys camel-cased, keys the optimizer does not take (Keras's name, amsgrad) ignored.
    known = {to_camel_case(name) for name in cls.hyperparameters} | {"learningRate"}
    arguments = {to_camel_case(key): value for key, value in settings.items() if isinstance(key, str)}
    arguments = {key: value for key, value in arguments.items() if key in known}
    try:
        return cls.from_config(arguments)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: trainingConfig: optimizer {class_name} cannot be rebuilt: {error}") from None


def _camel_names(value):
    if isinstance(value, str):
        return to_camel_case(value)
    if isinstance(value, list):
        return [_camel_names(item) for item in value]
    if isinstance(value, dict):
        return {key: _camel_names(item) for key, item in value.items()}
    return value


def _compile(model, config, where):
    if not isinstance(config, dict):
        raise ValueError(f"{where}: trainingConfig must be an object, got {type(config).__name__}")
    for key in ("weighted_metrics", "loss_weights", "sample_weight_mode"):
        if config.get(key) is not None:
            raise ValueError(f"{where}: trainingConfig: Loading {key} is not supported yet.")
    optimizer = _optimizer(config.get("optimizer_config"), where)
    metrics = _camel_names(config.get("metrics"))
    try:
        model.compile(optimizer=optimizer, loss=_camel_names(config.get("loss")), metrics=metrics or None)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: trainingConfig cannot compile the model: {error}") from None
    model._compile_metrics = metrics  # saved again as it was read ({} stays {})


def _restore_optimizer(model, pairs, where):
    """Gives the compiled model's optimizer the saved state: `iter`, then the slots."""
    optimizer = model.optimizer
    first_spec, first = pairs[0]
    if first.shape != () or first_spec["dtype"] not in ("int32", "float32"):
        raise ValueError(f"{where}: optimizer weight '{first_spec['name']}' must be the iteration count, a scalar "
                         f"int32, got shape {list(first.shape)} {first_spec['dtype']}")
    for spec, array in pairs[1:]:
        if spec["dtype"] != "float32":
            raise ValueError(f"{where}: optimizer weight '{spec['name']}' must be float32, got {spec['dtype']}")
    kinds = optimizer.slot_kinds
    rest = pairs[1:]
    trainable = model._collected_trainable_weights()
    if kinds and len(rest) % len(kinds) == 0:
        count = len(rest) // len(kinds)
        if count > len(trainable):
            raise ValueError(f"{where}: the optimizer state has slots for {count} weights, the model trains "
                             f"{len(trainable)}")
        for k in range(len(kinds)):
            for i in range(count):
                spec, array = rest[k * count + i]
                if list(array.shape) != trainable[i].shape:
                    raise ValueError(f"{where}: optimizer weight '{spec['name']}' has shape {list(array.shape)}, but "
                                     f"the model weight it belongs to ({trainable[i].original_name}) has shape "
                                     f"{trainable[i].shape}")
    try:
        optimizer.set_weights([{"name": spec["name"], "tensor": Tensor._wrap(np.asarray(array))}
                               for spec, array in pairs])
    except (TypeError, ValueError, NotImplementedError) as error:
        raise ValueError(f"{where}: the optimizer state cannot be restored: {error}") from None


# ---------------------------------------------------------------- public

def load_layers_model(path, strict=True, compile=True):  # noqa: A002 - TF.js's option name
    """Loads a model saved in TF.js's LayersModel format (TF.js tf.loadLayersModel).

    path: the model's folder, its model.json, or a file:// URL of either.
    strict: every weight in the files must belong to the model, every model weight must be
      in the files (TF.js's strict) and the weight files must hold no bytes beyond the
      weights (TF.js ignores extra bytes; strict=False does too).
    compile: when the file has a trainingConfig (saved with include_optimizer=True), compile
      the model with its loss, metrics and optimizer, and restore the optimizer state, so
      the next training step is the one the saved model would have taken.

    Errors: FileNotFoundError when `path` does not exist; ValueError naming the file and
    the weight or layer for malformed JSON, an unknown layer class (register custom layers
    with lm.layers.register_class), a missing, extra, misshaped or wrongly typed weight, and
    a weight file too short or (strict) too long.

    >>> import os, tempfile
    >>> import lamina as lm
    >>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[2], name="doc_llm")])
    >>> model.compile(optimizer="adam", loss="meanSquaredError", metrics=["mae"])
    >>> _ = model.fit([[1.0, 2.0]], [[1.0]], verbose=0)
    >>> folder = os.path.join(tempfile.mkdtemp(), "m")
    >>> _ = model.save(folder, include_optimizer=True)
    >>> loaded = lm.load_layers_model("file://" + folder)
    >>> loaded.metrics_names, loaded.optimizer.iterations
    (['loss', 'mae'], 1)
    """
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be True or False, got {strict!r}")
    if not isinstance(compile, bool):
        raise TypeError(f"compile must be True or False, got {compile!r}")
    json_path = _model_json_path(path)
    document = _read_document(json_path)
    manifest = document.get("weightsManifest")
    pairs = [] if manifest is None else weights.read_manifest(manifest, os.path.dirname(json_path), json_path, strict)
    model_pairs = [(spec, array) for spec, array in pairs if spec.get("group") != "optimizer"]
    optimizer_pairs = [(spec, array) for spec, array in pairs if spec.get("group") == "optimizer"]
    # A bound on the layers' sizes (see model_json._check_units); without a manifest TF.js's
    # "weights are not set" error, which needs the built model, is the one to give.
    available = sum(array.size for _, array in model_pairs) if strict and manifest is not None else None
    model = model_json.model_from_topology(document["modelTopology"], json_path, strict, available)
    _set_model_weights(model, model_pairs, json_path, strict)
    training = document.get("trainingConfig")
    if compile and training is not None:
        _compile(model, training, json_path)
        if optimizer_pairs:
            _restore_optimizer(model, optimizer_pairs, json_path)
    elif training is not None:
        model._uncompiled_reason = (f"It was loaded from {json_path} with compile=False: compile it with "
                                    "model.compile(optimizer=..., loss=...), or load it with compile=True.")
    else:
        model._uncompiled_reason = (f"It was loaded from {json_path}, which has no training configuration (it was "
                                    "saved with include_optimizer=False, the default): compile it with "
                                    "model.compile(optimizer=..., loss=...), or save it with "
                                    "model.save(path, include_optimizer=True) to keep its optimizer and loss.")
    metadata = document.get("userDefinedMetadata")
    if metadata is not None:
        try:
            model._user_defined_metadata = check_user_defined_metadata(metadata, model.name)
        except ValueError as error:
            raise ValueError(f"{json_path}: userDefinedMetadata: {error}") from None
    return model


def load_weights(model, path, strict=True):
    """Sets `model`'s weights from the files at `path`: a `save_weights` folder (or its
    weights_manifest.json), or a saved model's folder (or its model.json), whose optimizer
    state, if any, is left aside. Weights are matched by name (TF.js's loadWeights); when
    the names differ but the numbers of weights agree, as for the same layers built again
    in one process (their automatic names count on: dense_Dense3 for dense_Dense1), they
    are matched by position, as Keras does, with every shape checked.

    strict: every weight in the files must belong to the model and every model weight must
    be in them, and the weight files must hold no extra bytes. All weights are checked
    before any is set, so a failed load leaves the model as it was.

    >>> import os, tempfile
    >>> import lamina as lm
    >>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[2], name="doc_io_lw")])
    >>> folder = os.path.join(tempfile.mkdtemp(), "w")
    >>> _ = lm.io.save_weights(model, folder)
    >>> saved = model.get_weights()
    >>> model.set_weights([[[5.0], [5.0]], [5.0]])
    >>> lm.io.load_weights(model, folder)
    >>> all((a == b).all() for a, b in zip(model.get_weights(), saved))
    True
    """
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be True or False, got {strict!r}")
    where = file_system_path(path, "loads from")
    if os.path.isdir(where):
        names = [name for name in (WEIGHTS_MANIFEST, MODEL_JSON) if os.path.isfile(os.path.join(where, name))]
        if not names:
            raise FileNotFoundError(f"Path {where} holds neither {WEIGHTS_MANIFEST} (model.save_weights) nor "
                                    f"{MODEL_JSON} (model.save): loading failed")
        where = os.path.join(where, names[0])
    elif not os.path.isfile(where):
        raise FileNotFoundError(f"Path {where} does not exist: loading failed")
    with open(where, "rb") as handle:
        try:
            text = handle.read().decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"{where}: malformed JSON: the file is not UTF-8 text ({error})") from None
    document = model_json.parse_json(text, where)
    manifest = document.get("weightsManifest") if isinstance(document, dict) else document
    if manifest is None:
        raise ValueError(f"{where}: no weightsManifest: this file lists no weights")
    pairs = weights.read_manifest(manifest, os.path.dirname(where), where, strict)
    pairs = [(spec, array) for spec, array in pairs if spec.get("group") != "optimizer"]
    targets = model.weights
    if sorted(spec["name"] for spec, _ in pairs) != sorted(w.original_name for w in targets) \
            and len(pairs) == len(targets):
        # The same layers built again in this process get new automatic names (dense_Dense3
        # for dense_Dense1): then by position, as Keras's load_weights, shapes still checked.
        pairs = [(dict(spec, name=target.original_name), array) for (spec, array), target in zip(pairs, targets)]
    _set_model_weights(model, pairs, where, strict)


def model_from_json(json_text):
    """A model (new weights, not compiled) from `model.to_json()`'s text, a model.json's text
    or the parsed object of either (TF.js tf.models.modelFromJSON without weights).

    >>> import lamina as lm
    >>> model = lm.sequential(layers=[lm.layers.dense(units=3, input_shape=[2], name="doc_mfj")])
    >>> copy = lm.models.model_from_json(model.to_json())
    >>> copy.to_json() == model.to_json(), copy.layers[0].name
    (True, 'doc_mfj')
    """
    where = "model_from_json"
    if isinstance(json_text, (bytes, bytearray)):
        json_text = json_text.decode("utf-8")
    if isinstance(json_text, str):
        json_text = model_json.parse_json(json_text, where)
    if not isinstance(json_text, dict):
        raise TypeError(f"json_text must be a JSON string or a dict, got {type(json_text).__name__}")
    topology = json_text.get("modelTopology", json_text)
    return model_json.model_from_topology(topology, where)
