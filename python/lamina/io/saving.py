"""Saving a model as tfjs-node's `file://` handler does: a folder with `model.json` and
`weights.bin`, atomically.

`save(model, path, include_optimizer=False)` builds everything in memory first (so a model
that cannot be saved leaves nothing behind), writes the two files into a new hidden folder
beside the target, flushes them to disk, and then puts that folder in the target's place in
one step: a rename when the target does not exist, an atomic exchange of the two folders
(Linux renameat2 RENAME_EXCHANGE) when it does. So a save interrupted at any point leaves
either the previous model or the new one, never a mix, and no half-written target folder.
(Where the exchange is not available the old folder is first renamed aside, then the new
one into place: a crash between those two renames leaves the target missing and the old
model in a hidden `.<name>.lamina-old-*` folder beside it.)

>>> import os, tempfile
>>> import lamina as lm
>>> model = lm.sequential(layers=[lm.layers.dense(units=1, input_shape=[2], name="doc_save")])
>>> folder = os.path.join(tempfile.mkdtemp(), "my-model")
>>> info = lm.save(model, folder)
>>> sorted(os.listdir(folder)), info["weight_data_bytes"]
(['model.json', 'weights.bin'], 12)
"""

import ctypes
import errno
import os
import secrets
import shutil
import sys
import warnings

from lamina import losses as _losses
from lamina import metrics as _metrics
from lamina._serialization import to_snake_case
from lamina._version import __version__
from lamina.io import model_json, weights
from lamina.io.paths import file_system_path

__all__ = ["GENERATED_BY", "FORMAT", "model_json_document", "training_config", "check_user_defined_metadata",
           "save", "save_weights"]

FORMAT = "layers-model"
# TF.js writes 'TensorFlow.js tfjs-layers v4.22.0'; its loader never reads this field, so
# lamina says honestly who wrote the file.
GENERATED_BY = f"lamina v{__version__}"
MODEL_JSON = "model.json"
WEIGHTS_BIN = "weights.bin"
WEIGHTS_MANIFEST = "weights_manifest.json"  # save_weights: the weightsManifest alone
MAX_USER_DEFINED_METADATA_LENGTH = 1024 * 1024  # TF.js warns above this serialized length


# ---------------------------------------------------------------- what is written

def _loss_name(loss):
    """The snake_case TF.js name of a compiled loss (TF.js getLossIdentifiers).

    A string is written under its TF.js name, so an alias lamina accepts ('mse') is saved as
    'mean_squared_error', which TF.js's loader can read (TF.js would write 'mse' and then
    fail to load it). A function is written only if it is one of the Layers losses.
    """
    function = _losses.get(loss)
    for name, known in _losses.LOSSES.items():
        if known is function:
            return to_snake_case(name)
    raise ValueError("Serialization of non-string loss is not supported. (lamina saves the loss of the "
                     "trainingConfig by name: compile with a Layers loss name such as 'meanSquaredError', or "
                     "save with include_optimizer=False)")


def _metric_name(metric):
    return to_snake_case(_metrics.get_loss_or_metric_name(metric))


def _metric_identifiers(metrics):
    """TF.js getMetricIdentifiers: a list of snake_case names, or {output: name(s)}; no
    metrics at all are written as {} (TF.js's quirk, kept so the files match)."""
    if isinstance(metrics, str) or callable(metrics):
        return [_metric_name(metrics)]
    if isinstance(metrics, (list, tuple)):
        return [_metric_name(metric) for metric in metrics]
    out = {}
    for key, value in (metrics or {}).items():
        out[key] = ([_metric_name(m) for m in value] if isinstance(value, (list, tuple)) else _metric_name(value))
    return out


def training_config(model):
    """The `trainingConfig` TF.js saves with includeOptimizer (tfjs_semantics.md §3.4).

    >>> import lamina as lm
    >>> from lamina.io.saving import training_config
    >>> model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[3])])
    >>> model.compile(optimizer="adam", loss="categoricalCrossentropy", metrics=["accuracy"])
    >>> training_config(model)
    {'loss': 'categorical_crossentropy', 'metrics': ['accuracy'], 'optimizer_config': {'class_name': 'Adam', 'config': {'learningRate': 0.001, 'beta1': 0.9, 'beta2': 0.999, 'epsilon': 1e-07}}}
    """
    loss = model.loss
    names = [_loss_name(item) for item in loss] if isinstance(loss, (list, tuple)) else _loss_name(loss)
    optimizer = model.optimizer
    return {"loss": names, "metrics": _metric_identifiers(getattr(model, "_compile_metrics", None)),
            "optimizer_config": {"class_name": optimizer.get_class_name(), "config": optimizer.get_config()}}


def check_user_defined_metadata(metadata, model_name="model"):
    """Checks metadata as TF.js's checkUserDefinedMetadata: a JSON object (a dict of JSON
    values); a serialized length over 1 MiB gives a warning, as in TF.js."""
    if not isinstance(metadata, dict):
        raise ValueError("User-defined metadata is expected to be a JSON object, but is not. "
                         f"(got {type(metadata).__name__})")
    try:
        length = len(model_json.dumps(metadata))
    except TypeError as error:
        raise ValueError(f"User-defined metadata is expected to be a JSON object, but is not: {error}") from None
    if length > MAX_USER_DEFINED_METADATA_LENGTH:
        warnings.warn(f'User-defined metadata of model "{model_name}" is too large in size (length={length} when '
                      "serialized). It is not recommended to store such large objects in user-defined metadata. "
                      f"Please make sure its serialized length is <= {MAX_USER_DEFINED_METADATA_LENGTH}.",
                      stacklevel=3)
    return metadata


def model_json_document(model, include_optimizer=False, weights_file=WEIGHTS_BIN):
    """(the model.json object, the weights.bin bytes) as tfjs-node's file:// handler writes them.

    Keys in its order: modelTopology, weightsManifest, format, generatedBy, convertedBy, then
    trainingConfig (include_optimizer and a compiled model) and userDefinedMetadata (if set).
    Weights: `model.weights` under their original names, then — with the optimizer — its
    state (`iter` int32, then the slots in TF.js's order), each tagged group "optimizer".
    """
    named = [(weight.original_name, weight.val._data, None) for weight in model.weights]
    config = None
    if include_optimizer and getattr(model, "optimizer", None) is not None:  # as TF.js: no optimizer, no state
        config = training_config(model)
        named += [(item["name"], item["tensor"]._data, "optimizer") for item in model.optimizer.get_weights()]
    specs, data = weights.encode(named)
    document = {"modelTopology": model_json.topology(model),
                "weightsManifest": [{"paths": [weights_file], "weights": specs}],
                "format": FORMAT, "generatedBy": GENERATED_BY, "convertedBy": None}
    if config is not None:
        document["trainingConfig"] = config
    metadata = getattr(model, "_user_defined_metadata", None)
    if metadata is not None:
        document["userDefinedMetadata"] = check_user_defined_metadata(metadata, model.name)
    return document, data


# ---------------------------------------------------------------- where it is written

def _target(path):
    """(folder, model.json file name) for a folder, a `*.json` path or a file:// URL."""
    path = file_system_path(path, "saves to")
    if path.lower().endswith(".json") and not os.path.isdir(path):
        return os.path.dirname(path), os.path.basename(path)
    return path, MODEL_JSON


def _previous_files(folder, json_name):
    """The names a previous save in `folder` owns: its model json and the weight files it lists."""
    owned = {json_name, WEIGHTS_BIN}
    try:
        with open(os.path.join(folder, json_name), "rb") as handle:
            document = model_json.parse_json(handle.read().decode("utf-8"), json_name)
        # A model.json holds the manifest under weightsManifest; weights_manifest.json is one.
        groups = document if isinstance(document, list) else document.get("weightsManifest")
        for group in groups or []:
            owned.update(p for p in group.get("paths", []) if isinstance(p, str) and "/" not in p.lstrip("./"))
        owned.update(p[2:] for p in list(owned) if p.startswith("./"))
    except (OSError, ValueError, AttributeError, TypeError):
        pass  # no readable previous model: only the two default names count as its files
    return owned


def _check_folder(folder, json_name):
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise ValueError(f"Path {folder} exists as a file. The path must be nonexistent or point to a directory.")
    if os.path.abspath(folder) == os.getcwd():
        raise ValueError(f"path: {folder} is the current folder; lamina replaces the model's folder as a whole, "
                         "so save into a folder of its own (e.g. 'my-model/')")
    if os.path.isdir(folder):
        others = sorted(set(os.listdir(folder)) - _previous_files(folder, json_name))
        if others:
            raise ValueError(f"path: {folder} holds files that are not a saved model ({', '.join(others[:5])}"
                             f"{', ...' if len(others) > 5 else ''}); lamina replaces the model's folder as a whole "
                             "to save atomically, so save into a new folder or one holding only a saved model")


def _write_file(path, data):
    """Writes bytes and flushes them to disk (tests replace this to simulate a failure)."""
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_folder(folder):
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not possible on every platform; the data files themselves are flushed
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _exchange(first, second):
    """Swaps two paths atomically (Linux renameat2 RENAME_EXCHANGE); False if unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, getattr(errno, "ENOTSUP", errno.EINVAL)):
        return False
    raise OSError(code, os.strerror(code), second)


def _replace_folder(new, target):
    """Puts folder `new` at `target`; afterwards `new` holds the previous contents, if any."""
    if not os.path.exists(target):
        os.rename(new, target)
        return None
    if _exchange(new, target):
        return new
    aside = _new_folder(os.path.dirname(target), f".{os.path.basename(target)}.lamina-old-")
    os.rmdir(aside)
    os.rename(target, aside)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(aside, target)
        raise
    return aside


def save(model, path, include_optimizer=False):
    """Saves `model` in TF.js's LayersModel format, as tfjs-node's model.save('file://...').

    path: a folder (created if missing, with its parents), a path ending in `.json` (the
    folder is its parent; the JSON file gets that name) or a `file://` URL of either. The
    folder gets the JSON file and `weights.bin`; it is replaced as a whole and atomically
    (see the module docstring), so it must be new, empty or hold only a saved model.
    include_optimizer: also save the trainingConfig and the optimizer state, so that
    `lm.load_layers_model` returns a compiled model whose next step is the one the original
    would take.

    Returns {"model_json": path, "weights": [path], "model_topology_bytes": n,
    "weight_specs_bytes": n, "weight_data_bytes": n} (TF.js's ModelArtifactsInfo sizes).

    >>> import os, tempfile
    >>> import lamina as lm
    >>> model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[3], name="doc_lm_save")])
    >>> model.compile(optimizer="sgd", loss="meanSquaredError")
    >>> url = "file://" + os.path.join(tempfile.mkdtemp(), "m", "model.json")
    >>> info = lm.save(model, url, include_optimizer=True)
    >>> os.path.basename(info["model_json"]), info["weight_data_bytes"]  # 8 weights, iter
    ('model.json', 36)
    """
    if not isinstance(include_optimizer, bool):
        raise TypeError(f"include_optimizer must be True or False, got {include_optimizer!r}")
    folder, json_name = _target(path)
    document, data = model_json_document(model, include_optimizer)
    text = model_json.dumps(document).encode("utf-8")
    _write_folder(folder, json_name, text, data)
    specs = document["weightsManifest"][0]["weights"]
    return {"model_json": os.path.join(folder, json_name), "weights": [os.path.join(folder, WEIGHTS_BIN)],
            "model_topology_bytes": len(model_json.dumps(document["modelTopology"]).encode("utf-8")),
            "weight_specs_bytes": len(model_json.dumps(specs).encode("utf-8")),
            "weight_data_bytes": len(data)}


def save_weights(model, path):
    """Saves `model.weights` alone, atomically, to the folder `path` (created if missing):
    `weights_manifest.json`, TF.js's weightsManifest (the list a model.json holds under
    that key: [{"paths": ["weights.bin"], "weights": [{name, shape, dtype}, ...]}]), and
    `weights.bin`, the values in TF.js's binary format. No topology, no optimizer state.
    The folder is replaced as `save` replaces a model's. Read it back with
    `lm.io.load_weights` / `model.load_weights`, which match the weights by name.

    Returns {"weights_manifest": path, "weights": [path], "weight_specs_bytes": n,
    "weight_data_bytes": n}.

    >>> import os, tempfile
    >>> import lamina as lm
    >>> model = lm.sequential(layers=[lm.layers.dense(units=2, input_shape=[3], name="doc_io_sw")])
    >>> info = lm.io.save_weights(model, os.path.join(tempfile.mkdtemp(), "w"))
    >>> info["weight_data_bytes"]  # 6 + 2 float32 values
    32
    """
    folder = file_system_path(path, "saves to")
    specs, data = weights.encode([(weight.original_name, weight.val._data, None) for weight in model.weights])
    text = model_json.dumps([{"paths": [WEIGHTS_BIN], "weights": specs}]).encode("utf-8")
    _write_folder(folder, WEIGHTS_MANIFEST, text, data)
    return {"weights_manifest": os.path.join(folder, WEIGHTS_MANIFEST),
            "weights": [os.path.join(folder, WEIGHTS_BIN)],
            "weight_specs_bytes": len(model_json.dumps(specs).encode("utf-8")), "weight_data_bytes": len(data)}


def _write_folder(folder, json_name, text, data):
    """Puts a folder holding `json_name` (text) and weights.bin (data) at `folder`,
    atomically (see the module docstring)."""
    _check_folder(folder, json_name)
    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    staging = _new_folder(parent, f".{os.path.basename(folder)}.lamina-tmp-")
    old = None
    try:
        if os.path.isdir(folder):  # the replaced folder keeps its permissions
            os.chmod(staging, os.stat(folder).st_mode & 0o7777)
        _write_file(os.path.join(staging, WEIGHTS_BIN), data)
        _write_file(os.path.join(staging, json_name), text)
        _fsync_folder(staging)
        old = _replace_folder(staging, folder)
        _fsync_folder(parent)
    finally:
        leftover = old if old is not None else staging
        if os.path.exists(leftover):
            shutil.rmtree(leftover, ignore_errors=True)


def _new_folder(parent, prefix):
    """A new empty folder in `parent` with the default permissions (mkdir honours the umask)."""
    while True:
        path = os.path.join(parent, prefix + secrets.token_hex(6))
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue
