"""Where a model lives: the path forms save and load both accept."""

import os

__all__ = ["KERAS_SUFFIXES", "file_system_path"]

# Files Keras writes; lamina neither writes nor reads them.
KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


def file_system_path(path, verb):
    """An absolute file-system path from a folder, a model.json path or a file:// URL.

    `verb` ('loads from' or 'saves to') only words the error for other URL schemes.

    >>> file_system_path("file:///tmp/model", "saves to")
    '/tmp/model'
    >>> file_system_path("model.keras", "saves to")
    Traceback (most recent call last):
    ...
    ValueError: path: 'model.keras' names a Keras file; lamina saves to TensorFlow.js's format, ...
    """
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str) or not path:
        raise TypeError(f"path must be a folder, a model.json path or a file:// URL (str or os.PathLike), "
                        f"got {path!r}")
    if path.startswith("file://"):
        path = path[len("file://"):]
    elif "://" in path:
        raise ValueError(f"path: lamina {verb} the file system (a folder, a model.json path or a file:// URL), "
                         f"got {path!r}")
    if path.lower().endswith(KERAS_SUFFIXES) and not os.path.isdir(path):
        hint = ("tensorflowjs_converter --input_format=keras converts a Keras file to it"
                if verb.startswith("load") else "name a folder instead, e.g. 'my-model'")
        raise ValueError(f"path: {path!r} names a Keras file; lamina {verb} TensorFlow.js's format, a folder "
                         f"holding model.json (or weights_manifest.json) and weights.bin, which "
                         f"tf.loadLayersModel('<folder>/model.json') reads in the browser ({hint})")
    return os.path.abspath(path)
