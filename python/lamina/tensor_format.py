"""TF.js's text form of a tensor (`tensor.print()`, `tensor.toString()`), reproduced exactly.

The layout follows tfjs-core's tensor_format.ts: a 'Tensor' line, values indented by four
spaces, columns of rank >= 2 tensors padded to a common width, at most 20 values or rows
per dimension before '...' with the first and last 3, and one more blank line between
blocks for each rank above 2. Each number is printed as JavaScript prints
`parseFloat(value.toFixed(7))`; a rank-0 tensor prints its float32 value in full, as
TF.js does (`lm.scalar(0.1)` prints 0.10000000149011612).
"""

import decimal

import numpy as np

__all__ = ["tensor_to_string", "js_number_to_string"]

_LIMIT = 20  # more values than this along a dimension are elided
_EDGE = 3  # values shown on each side of the '...'
_DIGITS = 7  # toFixed(7)

_FIXED = decimal.Context(prec=60)  # enough for every float below 1e21 with 7 decimals
_SEVENTH = decimal.Decimal(1).scaleb(-_DIGITS)


def js_number_to_string(x):
    """A float as JavaScript's Number.prototype.toString writes it: the shortest digits that
    round-trip, plain notation from 1e-6 up to (not including) 1e21, exponent form outside.

    >>> js_number_to_string(1.0), js_number_to_string(0.5), js_number_to_string(1e-7)
    ('1', '0.5', '1e-7')
    >>> js_number_to_string(1.5e21), js_number_to_string(-0.0)
    ('1.5e+21', '0')
    """
    x = float(x)
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"  # also for -0
    sign = "-" if x < 0 else ""
    # Python's repr gives the same shortest round-trip digits as JS; only the layout differs.
    mantissa, _, exponent = repr(abs(x)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    power = (int(exponent) if exponent else 0) - len(fraction)  # value = int(digits) * 10**power
    stripped = digits.rstrip("0")
    power += len(digits) - len(stripped)
    digits = stripped
    k = len(digits)
    n = k + power  # the decimal point sits n digits from the left of `digits`
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        text = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return sign + text


def _js_to_fixed_7(x):
    """`parseFloat(x.toFixed(7))`: x rounded to 7 decimals, ties away from zero (toFixed
    rounds the exact binary value, picking the larger magnitude on a tie)."""
    if x != x or x in (float("inf"), float("-inf")) or abs(x) >= 1e21:
        return x  # toFixed returns String(x) for these, which parses back to x
    rounded = decimal.Decimal(x).quantize(_SEVENTH, rounding=decimal.ROUND_HALF_UP, context=_FIXED)
    return float(rounded)


def _value_to_string(value, dtype):
    if dtype == "bool":
        return "true" if value else "false"
    return js_number_to_string(_js_to_fixed_7(float(value)))


def _formatter(dtype):
    """A value -> string function that remembers its answers (tensors repeat values)."""
    cache = {}

    def to_string(value):
        text = cache.get(value)
        if text is None:
            text = cache[value] = _value_to_string(value, dtype)
        return text

    return to_string


def _column_widths(flat, shape, to_string):
    """The widest string in each column of the last dimension, over every row (hidden rows
    included, as in TF.js); rank 1 tensors are not padded. `flat` is a list of values."""
    columns = shape[-1]
    if len(shape) < 2 or columns == 0:
        return [0] * max(columns, 1)
    return [max((len(to_string(v)) for v in flat[j::columns]), default=0) for j in range(columns)]


def _row_to_string(values, widths, to_string):
    """A rank-1 block: '[a, b, c]', or '[a, b, c, ..., x, y, z]' beyond 20 values."""
    size = len(values)
    if size > _LIMIT:
        first = [to_string(v).ljust(widths[i]) for i, v in enumerate(values[:_EDGE])]
        last = [to_string(v).ljust(widths[size - _EDGE + i]) for i, v in enumerate(values[size - _EDGE:])]
        return "[" + ", ".join(first) + ", ..., " + ", ".join(last) + "]"
    return "[" + ", ".join(to_string(v).ljust(widths[i]) for i, v in enumerate(values)) + "]"


def _block_lines(flat, shape, widths, to_string, is_last=True):
    """The lines of one sub-tensor (flat values of `shape`), as tensor_format.ts builds them."""
    rank = len(shape)
    if rank == 1:
        return [_row_to_string(flat, widths, to_string)]
    size = shape[0]
    if size == 0:
        return ["[]"]  # TF.js prints '[undefined,]' here; an empty block reads better
    stride = len(flat) // size
    if size > _LIMIT:
        shown = list(range(_EDGE)) + [None] + list(range(size - _EDGE, size))
    else:
        shown = list(range(size))
    lines = []
    for i in shown:
        if i is None:
            lines.append("...")
            continue
        lines.extend(_block_lines(flat[i * stride:(i + 1) * stride], shape[1:], widths, to_string,
                                  is_last=(i == size - 1)))
    separator = "," if rank == 2 else ""
    lines[0] = "[" + lines[0] + separator
    for i in range(1, len(lines) - 1):
        lines[i] = " " + lines[i] + separator
    between_blocks = ",\n" + "\n" * (rank - 2)
    lines[-1] = " " + lines[-1] + "]" + ("" if is_last else between_blocks)
    return lines


def tensor_to_string(array, dtype, verbose=False):
    """The text TF.js's `tensor.toString(verbose)` gives (`print()` prints it).

    >>> import numpy as np
    >>> print(tensor_to_string(np.array([[1, 22], [333, 4]], np.int32), "int32"))
    Tensor
        [[1  , 22],
         [333, 4 ]]
    >>> print(tensor_to_string(np.array([True, False]), "bool", verbose=True))
    Tensor
      dtype: bool
      rank: 1
      shape: [2]
      values:
        [true, false]
    """
    array = np.asarray(array)
    shape = list(array.shape)
    lines = ["Tensor"]
    if verbose:
        lines += [f"  dtype: {dtype}", f"  rank: {len(shape)}",
                  "  shape: [" + ",".join(str(d) for d in shape) + "]", "  values:"]
    if not shape:
        value = array.item()
        # A scalar is printed with toString() on the stored value, without toFixed.
        text = ("true" if value else "false") if dtype == "bool" else js_number_to_string(value)
        lines.append("    " + text)
        return "\n".join(lines)
    to_string = _formatter(dtype)
    flat = array.reshape(-1)
    if dtype != "bool":
        flat = flat.astype(np.float64)  # the values JS reads from dataSync() are doubles
    flat = flat.tolist()
    widths = _column_widths(flat, shape, to_string)
    value_lines = _block_lines(flat, shape, widths, to_string)
    lines.append("\n".join("    " + line for line in value_lines))
    return "\n".join(lines)
