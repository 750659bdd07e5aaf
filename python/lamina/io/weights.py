"""Weights in TF.js's binary format: a manifest of {name, shape, dtype[, group]} entries and
the values concatenated, little-endian, without padding (tfjs-core io_utils encodeWeights /
decodeWeights).

`encode(named)` gives the specs and the bytes; `read_manifest(manifest, folder, where,
strict)` reads the files a manifest names — several groups, several shard files per group,
'./' paths — and returns (spec, numpy array) pairs, after checking every spec and every file
size before a byte of values is read. Quantized weights (uint8/uint16/float16, as TF.js's
Python converter writes them) are dequantized as TF.js does.

>>> import numpy as np
>>> from lamina.io import weights
>>> specs, data = weights.encode([("w", np.array([1.0, 2.0], np.float32), None),
...                               ("iter", np.array(3, np.int32), "optimizer")])
>>> specs, len(data)
([{'name': 'w', 'shape': [2], 'dtype': 'float32'}, {'name': 'iter', 'shape': [], 'dtype': 'int32', 'group': 'optimizer'}], 12)
"""

import numbers
import os
import posixpath
import stat

import numpy as np

__all__ = ["DTYPES", "encode", "read_manifest"]

# TF.js dtype -> little-endian numpy dtype of its stored values (DTYPE_VALUE_SIZE_MAP).
DTYPES = {"float32": np.dtype("<f4"), "int32": np.dtype("<i4"), "bool": np.dtype("u1")}
_QUANTIZED = {"uint8": np.dtype("u1"), "uint16": np.dtype("<u2"), "float16": np.dtype("<f2")}
# Understood by TF.js but never a LayersModel weight; named in the error.
_OTHER_TFJS_DTYPES = ("string", "complex64")


def encode(named):
    """(specs, bytes) for [(name, array, group or None)], in the given order.

    Arrays are stored as their TF.js dtype (float32, int32 or bool), little-endian.
    """
    specs, chunks = [], []
    for name, array, group in named:
        array = np.asarray(array)
        dtype = {"f": "float32", "i": "int32", "u": "int32", "b": "bool"}.get(array.dtype.kind)
        if dtype is None:
            raise ValueError(f"Unsupported dtype in weight '{name}': {array.dtype}")
        spec = {"name": name, "shape": [int(d) for d in array.shape], "dtype": dtype}
        if group is not None:
            spec["group"] = group
        specs.append(spec)
        chunks.append(np.ascontiguousarray(array, DTYPES[dtype]).tobytes())
    return specs, b"".join(chunks)


# ---------------------------------------------------------------- reading

def _check_spec(spec, where, index):
    """The spec's name, shape, dtype, stored numpy dtype and quantization, checked."""
    if not isinstance(spec, dict):
        raise ValueError(f"{where}: weightsManifest entry {index} must be an object "
                         f"{{name, shape, dtype}}, got {type(spec).__name__}")
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}: weightsManifest entry {index} has no name (got {name!r})")
    shape = spec.get("shape")
    if (not isinstance(shape, list)
            or not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 0 for d in shape)):
        raise ValueError(f"{where}: weight '{name}': shape must be a list of integers >= 0, got {shape!r}")
    dtype = spec.get("dtype")
    if not isinstance(dtype, str) or dtype not in DTYPES:
        shown = "undefined" if dtype is None else dtype
        extra = (" (TF.js knows it, but no LayersModel weight has it)" if dtype in _OTHER_TFJS_DTYPES else "")
        raise ValueError(f"{where}: Unsupported dtype in weight '{name}': {shown}{extra}; "
                         f"expected one of {', '.join(DTYPES)}")
    quantization = spec.get("quantization")
    stored = DTYPES[dtype]
    if quantization is not None:
        stored = _check_quantization(quantization, name, dtype, where)
    return name, [int(d) for d in shape], dtype, stored, quantization


def _check_quantization(quantization, name, dtype, where):
    kind = quantization.get("dtype") if isinstance(quantization, dict) else None
    if not isinstance(kind, str) or kind not in _QUANTIZED:
        raise ValueError(f"{where}: weight '{name}': quantization must be {{dtype: uint8|uint16|float16, "
                         f"scale, min}}, got {quantization!r}")
    if kind == "float16":
        if dtype != "float32":
            raise ValueError(f"{where}: weight '{name}': float16 quantization needs dtype float32, got {dtype}")
    else:
        for key in ("scale", "min"):
            value = quantization.get(key)
            if not isinstance(value, numbers.Real) or isinstance(value, bool) or not np.isfinite(value):
                raise ValueError(f"{where}: weight '{name}': {kind} quantization needs a finite number "
                                 f"'{key}', got {value!r}")
        if dtype not in ("float32", "int32"):
            raise ValueError(f"{where}: weight '{name}': {kind} quantization needs dtype float32 or int32, "
                             f"got {dtype}")
    return _QUANTIZED[kind]


def _dequantize(raw, dtype, quantization):
    if quantization is None:
        return raw
    if quantization["dtype"] == "float16":
        return raw.astype(np.float32)
    values = raw.astype(np.float64) * quantization["scale"] + quantization["min"]
    return np.round(values).astype(np.int32) if dtype == "int32" else values.astype(np.float32)


def _weight_file(folder, relative, where):
    """The path of a manifest's weight file: relative to the model.json folder and inside it."""
    if not isinstance(relative, str) or not relative:
        raise ValueError(f"{where}: a weightsManifest path must be a non-empty string, got {relative!r}")
    normalized = posixpath.normpath(relative.replace("\\", "/"))
    if (posixpath.isabs(normalized) or normalized == ".." or normalized.startswith("../")
            or "://" in relative or (len(relative) > 1 and relative[1] == ":")):
        raise ValueError(f"{where}: weight file path {relative!r} must be relative to the model.json folder and "
                         "stay inside it")
    path = os.path.join(folder, *normalized.split("/"))
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ValueError(f"{where}: Weight file {path} does not exist: loading failed") from None
    except (OSError, ValueError) as error:  # a name too long, a NUL byte, characters the OS cannot encode
        raise ValueError(f"{where}: weight file path {relative[:100]!r} cannot be opened: "
                         f"{type(error).__name__}: {str(error)[:200]}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{where}: weight file {path} is not a regular file")
    return path, info.st_size


def _group_files(group, index, folder, where):
    if not isinstance(group, dict):
        raise ValueError(f"{where}: weightsManifest group {index} must be an object {{paths, weights}}, "
                         f"got {type(group).__name__}")
    paths, specs = group.get("paths"), group.get("weights")
    if not isinstance(paths, list) or not isinstance(specs, list):
        raise ValueError(f"{where}: weightsManifest group {index} needs a 'paths' list and a 'weights' list")
    return [_weight_file(folder, path, where) for path in paths], specs


def _read_bytes(files, start, count):
    """`count` bytes from offset `start` of the files' concatenation (sizes checked before)."""
    out = bytearray()
    offset = 0
    for path, size in files:
        if count <= 0:
            break
        if start < offset + size:
            skip = max(0, start - offset)
            take = min(size - skip, count)
            with open(path, "rb") as handle:
                handle.seek(skip)
                chunk = handle.read(take)
            if len(chunk) != take:
                raise ValueError(f"{path}: the file shrank while it was read")
            out += chunk
            start += take
            count -= take
        offset += size
    return bytes(out)


def read_manifest(manifest, folder, where, strict=True):
    """[(spec, array)] for every weight of a weightsManifest, in manifest order.

    Each group's files are concatenated and must hold exactly the bytes its specs need: fewer
    is an error naming the file and the first weight that does not fit; more is an error too
    when `strict` (TF.js ignores extra bytes; lamina takes them as a sign the manifest does not
    describe the file). A weight name listed twice is an error.
    """
    if not isinstance(manifest, list):
        raise ValueError(f"{where}: weightsManifest must be a list of groups, got {type(manifest).__name__}")
    out, seen = [], set()
    for group_index, group in enumerate(manifest):
        files, specs = _group_files(group, group_index, folder, where)
        available = sum(size for _, size in files)
        checked, offset = [], 0
        for index, spec in enumerate(specs):
            name, shape, dtype, stored, quantization = _check_spec(spec, where, index)
            if name in seen:
                raise ValueError(f"{where}: weight '{name}' is listed twice in the weightsManifest")
            seen.add(name)
            count = int(np.prod(shape, dtype=object))
            nbytes = count * stored.itemsize
            if offset + nbytes > available:
                shown = files[-1][0] if files else "(no files)"
                raise ValueError(f"{shown}: weights file too short: weight '{name}' (shape {shape}, {dtype}) needs "
                                 f"bytes {offset}..{offset + nbytes} of group {group_index + 1}, but its file(s) "
                                 f"hold {available} bytes (Based on the provided shape, {shape}, the tensor should "
                                 f"have {count} values but has {max(0, available - offset) // stored.itemsize})")
            checked.append((spec, name, shape, dtype, stored, quantization, offset, nbytes, count))
            offset += nbytes
        if strict and available > offset:
            last = f"after the last weight '{checked[-1][1]}'" if checked else "and the group lists no weights"
            raise ValueError(f"{files[-1][0]}: weights file too long: group {group_index + 1}'s file(s) hold "
                             f"{available} bytes but its weights need {offset} ({available - offset} extra bytes "
                             f"{last}); load with strict=False to ignore them, as TF.js does")
        data = _read_bytes(files, 0, offset)  # only the bytes the specs describe
        for spec, name, shape, dtype, stored, quantization, start, nbytes, count in checked:
            raw = np.frombuffer(data, stored, count, start)
            values = _dequantize(raw, dtype, quantization).reshape(shape)
            if dtype == "bool" and quantization is None:
                values = values.astype(bool)
            out.append((spec, np.array(values, copy=True)))
    return out
