"""Where a model lives: the path forms save and load both accept."""

import os

__all__ = ["file_system_path"]


def file_system_path(path, verb):
    """An absolute file-system path from a folder, a model.json path or a file:// URL.

    `verb` ('loads from' or 'saves to') only words the error for other URL schemes.

    >>> file_system_path("file:///tmp/model", "saves to")
    '/tmp/model'
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
    return os.path.abspath(path)
