"""lm.data.csv: a dataset of the rows of a delimited text file (TF.js's CSVDataset).

The file is read line by line on every pass (never held whole), so it may be larger than
memory. Each row becomes a dict `{column: value}`: numbers as float, other text as str,
empty fields as the column's `default` or None. When a column is configured with
`is_label`, elements are `{"xs": {features}, "ys": {labels}}`, ready for `batch()` and
`model.fit_dataset`.
"""

import math
import os
import re

from lamina.data.dataset import Dataset

__all__ = ["csv", "CSVDataset"]

_QUOTE = '"'
_CONFIG_KEYS = ("required", "dtype", "default", "is_label")
_CONFIG_ALIASES = {"isLabel": "is_label"}  # TF.js's spelling
_DTYPES = ("float32", "int32", "bool", "string")
# What JS's Number() reads as a number, in the decimal forms csv files use.
_BLANKS = re.compile(r"[ \t]+")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|Infinity)")


def csv(path, has_header=True, column_names=None, column_configs=None, configured_columns_only=False,
        delimiter=",", delim_whitespace=False):
    """A dataset of the rows of a CSV file (TF.js's tf.data.csv).

    Args:
      path: the file (a str or path; a `file://` prefix is accepted).
      has_header: the first line holds the column names (and is not data).
      column_names: the column names, in order; required without a header, and replacing
        the header's names when there is one (then the counts must agree).
      column_configs: `{column: {"required": bool, "dtype": "float32" | "int32" | "bool" |
        "string", "default": value, "is_label": bool}}`. An empty field takes `default`;
        without one it is an error in a `required` or label column, and None elsewhere.
        `int32` floors numbers; `bool` reads "1" or "true" (any case) as 1, else 0. Label
        columns make elements `{"xs": {...}, "ys": {...}}`.
      configured_columns_only: emit only the columns named in `column_configs`.
      delimiter: the one-character field separator.
      delim_whitespace: fields are separated by runs of spaces or tabs instead.

    A record ends at a line break, `\\n` or `\\r\\n`; a lone `\\r` is kept in its field, as in
    TF.js. Fields may be quoted (`"a, b"`), with `""` for a quote inside, and may then span
    lines (the line breaks kept as written). This follows RFC 4180 where TF.js does not:
    TF.js keeps `""` doubled and refuses a quoted field spanning lines. Blank lines are skipped.
    A row with the wrong number of fields, or an empty required field, raises ValueError
    naming the file and line.

    >>> import lamina as lm, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "points.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write('x,name,label\\n1.5,"Smith, J",0\\n2,,1\\n')
    >>> ds = lm.data.csv(path, column_configs={"label": {"is_label": True}})
    >>> ds.to_array()
    [{'xs': {'x': 1.5, 'name': 'Smith, J'}, 'ys': {'label': 0.0}}, {'xs': {'x': 2.0, 'name': None}, 'ys': {'label': 1.0}}]
    >>> ds.column_names()
    ['x', 'name', 'label']
    """
    return CSVDataset(path, has_header=has_header, column_names=column_names, column_configs=column_configs,
                      configured_columns_only=configured_columns_only, delimiter=delimiter,
                      delim_whitespace=delim_whitespace)


class CSVDataset(Dataset):
    """The dataset `lm.data.csv` returns; its arguments are checked (and the header read) at once.

    >>> import lamina as lm, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("a b\\n1 2\\n")
    >>> lm.data.csv(path, delim_whitespace=True).to_array()
    [{'a': 1.0, 'b': 2.0}]
    """

    def __init__(self, path, has_header=True, column_names=None, column_configs=None,
                 configured_columns_only=False, delimiter=",", delim_whitespace=False):
        super().__init__(self._elements, None)
        self._path = _check_path(path)
        for name, value in (("has_header", has_header), ("configured_columns_only", configured_columns_only),
                            ("delim_whitespace", delim_whitespace)):
            if not isinstance(value, bool):
                raise TypeError(f"csv: {name} must be True or False, got {value!r}")
        self._has_header = has_header
        self._configured_only = configured_columns_only
        self._delimiter = _check_delimiter(delimiter, delim_whitespace)
        self._configs = _check_configs(column_configs)
        if configured_columns_only and not self._configs:
            raise ValueError("csv: configured_columns_only=True needs column_configs naming the columns to keep")
        self._names = self._resolve_column_names(column_names)

    def column_names(self):
        """The columns elements hold: the configured ones with configured_columns_only, else all."""
        return list(self._configs) if self._configured_only else list(self._names)

    def _resolve_column_names(self, given):
        if given is not None:
            if not isinstance(given, (list, tuple)) or not all(isinstance(n, str) for n in given):
                raise TypeError(f"csv: column_names must be a list of str, got {given!r:.80}")
            given = list(given)
        from_file = self._read_header() if self._has_header else None
        if given is None and from_file is None:
            raise ValueError("Column names must be provided if there is no header line.")
        if given is not None and from_file is not None and len(given) != len(from_file):
            raise ValueError(f"The length of provided column_names ({len(given)}) does not match the length of "
                             f"the header line read from file ({len(from_file)}).")
        names = given if given is not None else from_file
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"Duplicate column names found: {','.join(duplicates)}")
        for key in self._configs:
            if key not in names:
                raise ValueError(f'The key "{key}" provided in column_configs does not match any of the column '
                                 f"names ({','.join(names)}).")
        return names

    def _read_header(self):
        with _open(self._path) as file:
            for _, fields in _records(file, self._path, self._delimiter):
                return fields
        raise ValueError(f"No data was found for CSV parsing. ({self._path} is empty)")

    def _elements(self):
        with _open(self._path) as file:
            records = _records(file, self._path, self._delimiter)
            if self._has_header:
                next(records, None)
            labelled = any(config.get("is_label") for config in self._configs.values())
            for line_number, fields in records:
                yield self._element(fields, f"{self._path}:{line_number}", labelled)

    def _element(self, fields, where, labelled):
        if len(fields) != len(self._names):
            raise ValueError(f"{where}: Invalid row in csv file. Should have {len(self._names)} elements in a "
                             f"row, but got {','.join(fields)}")
        features, labels = {}, {}
        for key, raw in zip(self._names, fields):
            config = self._configs.get(key)
            if config is None and self._configured_only:
                continue
            value = _parse_value(raw, key, config or {}, where, fields)
            (labels if config and config.get("is_label") else features)[key] = value
        return {"xs": features, "ys": labels} if labelled else features


def _parse_value(raw, key, config, where, fields):
    if raw.strip() == "":
        if config.get("default") is not None:
            return config["default"]
        if config.get("required") or config.get("is_label"):
            raise ValueError(f"{where}: Required column {key} is empty in this line: {','.join(fields)}")
        return None
    dtype = config.get("dtype")
    if dtype == "string":
        return raw
    if dtype == "bool":
        return 1 if raw == "1" or raw.lower() == "true" else 0
    text = raw.strip()
    if not _NUMBER.fullmatch(text):
        return raw
    number = float(text.replace("Infinity", "inf"))
    if dtype == "int32" and math.isfinite(number):
        return math.floor(number)
    return number


def _open(path):
    # newline="\n": a line ends at "\n" only, and nothing is translated, so a lone "\r" stays
    # in its field as in TF.js (universal newlines would end the record there)
    return open(path, encoding="utf-8", newline="\n")


def _line_break(line):
    """How a line read from _open ends: "\r\n", "\n", or "" (the file's last line)."""
    if line.endswith("\r\n"):
        return "\r\n"
    return "\n" if line.endswith("\n") else ""


def _records(file, path, delimiter):
    """(line number, fields) for each non-blank record; a quoted field may span lines.

    A record ends at "\n" or "\r\n" (TF.js drops one "\r" before the "\n"); any other "\r"
    is part of its field. A line break inside a quoted field is kept as written (RFC 4180).
    """
    line_number = 0
    for line in file:
        line_number += 1
        start = line_number
        line_break = _line_break(line)
        text = line[:len(line) - len(line_break)]
        if not text.strip():
            continue
        fields, closed = _split(text, delimiter)
        while not closed:
            more = file.readline()
            if not more:
                raise ValueError(f"{path}:{start}: a quoted field opened on this line is not closed by the end "
                                 "of the file")
            line_number += 1
            text += line_break
            line_break = _line_break(more)
            text += more[:len(more) - len(line_break)]
            fields, closed = _split(text, delimiter)
        yield start, fields


def _split(text, delimiter):
    """The fields of one record, and whether every quoted field was closed.

    `delimiter` None means runs of spaces and tabs. A field starting with `"` is quoted: it
    runs to the next lone `"`, and `""` inside it stands for one `"`.
    """
    if _QUOTE not in text:  # the common case, without a Python loop per character
        return (_split_on_blanks(text) if delimiter is None else text.split(delimiter)), True
    if delimiter is None:
        text = text.strip(" \t")
    fields, field, i, n = [], [], 0, len(text)
    while True:
        if i < n and text[i] == _QUOTE:
            i += 1
            while True:
                if i >= n:
                    return fields, False
                if text[i] == _QUOTE:
                    if i + 1 < n and text[i + 1] == _QUOTE:
                        field.append(_QUOTE)
                        i += 2
                        continue
                    i += 1
                    break
                field.append(text[i])
                i += 1
        # up to the delimiter (text after a closing quote is kept, as lenient readers do)
        end = _next_delimiter(text, i, delimiter)
        field.append(text[i:end])
        fields.append("".join(field))
        field = []
        if end >= n:
            return fields, True
        i = _skip_delimiter(text, end, delimiter)


def _split_on_blanks(text):
    # runs of spaces and tabs only: str.split() would also split at "\r" and other whitespace
    return _BLANKS.split(text.strip(" \t"))


def _next_delimiter(text, start, delimiter):
    if delimiter is not None:
        end = text.find(delimiter, start)
        return len(text) if end < 0 else end
    end = start
    while end < len(text) and text[end] not in " \t":
        end += 1
    return end


def _skip_delimiter(text, at, delimiter):
    if delimiter is not None:
        return at + len(delimiter)
    while at < len(text) and text[at] in " \t":
        at += 1
    return at


def _check_path(path):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"csv: path must be a str or a path, got {type(path).__name__}")
    path = os.fspath(path)
    if path.startswith("file://"):
        path = path[len("file://"):]
    if not os.path.isfile(path):
        raise FileNotFoundError(f"csv: no such file: {path}")
    return path


def _check_delimiter(delimiter, delim_whitespace):
    if delim_whitespace:
        if delimiter != ",":
            raise ValueError("Delimiter should not be provided when delim_whitespace is true.")
        return None
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in ('"', "\n", "\r"):
        raise ValueError(f"csv: delimiter must be one character other than a quote or a newline, got {delimiter!r}")
    return delimiter


def _check_configs(configs):
    if configs is None:
        return {}
    if not isinstance(configs, dict):
        raise TypeError(f"csv: column_configs must be a dict of column name -> config dict, got "
                        f"{type(configs).__name__}")
    checked = {}
    for column, config in configs.items():
        if not isinstance(config, dict):
            raise TypeError(f"csv: column_configs[{column!r}] must be a dict with keys among "
                            f"{', '.join(_CONFIG_KEYS)}, got {type(config).__name__}")
        config = {_CONFIG_ALIASES.get(key, key): value for key, value in config.items()}
        unknown = [key for key in config if key not in _CONFIG_KEYS]
        if unknown:
            raise ValueError(f"csv: column_configs[{column!r}] has unknown key(s) {', '.join(map(repr, unknown))}; "
                             f"the keys are {', '.join(_CONFIG_KEYS)}")
        if config.get("dtype") is not None and config["dtype"] not in _DTYPES:
            raise ValueError(f"csv: column_configs[{column!r}]['dtype'] must be one of {', '.join(_DTYPES)}, "
                             f"got {config['dtype']!r}")
        checked[column] = config
    return checked
