"""What `fit(verbose=1 | 2)` prints: TF.js's tfjs-node ProgbarLogger, with a tqdm bar.

verbose=1 on a terminal: one tqdm bar per epoch ("Epoch 1 / 5"), advanced after every
batch and showing that batch's loss and metrics, then a line with the epoch's time and the
epoch logs. verbose=2, or verbose=1 when the output is not a terminal (a log file, a CI
job, a notebook capturing output): one line per epoch and nothing else, so no carriage
returns end up in logs:

    Epoch 1 / 5 - 41ms 13ms/step - acc=0.53 loss=0.690

Numbers are shown as TF.js shows them (`format_number`), keys sorted alphabetically. The
times are Keras's rather than TF.js's (which prints the epoch in whole ms and the time per
*sample* as "us/step", so a fast epoch read "0ms 0us/step"): a step is one batch in both
fit and fit_dataset, and each time is scaled to s, ms or us (`format_duration`).

>>> import io, lamina as lm
>>> from lamina.engine.progress import ProgressLogger
>>> out = io.StringIO()
>>> logger = ProgressLogger(verbose=2, stream=out)
>>> logger.set_params({"epochs": 2, "samples": 4, "batch_size": 2, "steps": None})
>>> logger.on_train_begin({})
>>> logger.on_epoch_begin(0, {})
>>> logger.on_batch_end(0, {"batch": 0, "size": 2, "loss": 0.75})
>>> logger.on_batch_end(1, {"batch": 1, "size": 2, "loss": 0.25})
>>> logger.on_epoch_end(0, {"loss": 0.5, "acc": 0.012345})
>>> print(out.getvalue(), end="")
Epoch 1 / 2 - ...s ...s/step - acc=0.0123 loss=0.500
"""

import io
import math
import os
import sys
import time
from decimal import ROUND_HALF_UP, Decimal

from tqdm import tqdm

from lamina.callbacks import Callback

__all__ = ["ProgressLogger", "format_number", "format_logs", "format_duration"]

BASE_NUM_DIGITS = 2  # TF.js getSuccinctNumberDisplay's constants
MAX_NUM_DECIMAL_PLACES = 4


def _js_to_fixed(x, digits):
    """JavaScript's Number.prototype.toFixed: round half away from zero on the exact binary
    value (Python's format rounds exact ties to even), '-0' shown as '0'."""
    if x == 0:
        x = 0.0
    if abs(x) >= 1e21:  # toFixed falls back to toString there
        return repr(x)
    return str(Decimal(x).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def _js_to_exponential(x, digits):
    """JavaScript's Number.prototype.toExponential: '1.23e-5', '-4.00e+7'."""
    exact = Decimal(x)
    exponent = exact.adjusted()
    mantissa = exact.scaleb(-exponent).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    if abs(mantissa) >= 10:  # 9.996e-5 rounds to 10.00e-5 = 1.00e-4
        exponent += 1
        mantissa = exact.scaleb(-exponent).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent)}"


def format_number(x):
    """A number as TF.js's progress logger shows it (getSuccinctNumberDisplay): 2 decimals
    when |x| > 1, x is 0 or not finite; else enough decimals for 3 significant digits, and
    exponent form (2 decimals) when that would need more than 4 decimals.

    >>> from lamina.engine.progress import format_number
    >>> [format_number(x) for x in (12.3456, 0.5, 0.012345, 0.00012345, 0.0, float("nan"))]
    ['12.35', '0.500', '0.0123', '1.23e-4', '0.00', 'NaN']
    """
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0 or abs(x) > 1:
        decimals = BASE_NUM_DIGITS
    else:
        decimals = BASE_NUM_DIGITS - math.floor(math.log10(abs(x)))
    if decimals > MAX_NUM_DECIMAL_PLACES:
        return _js_to_exponential(x, BASE_NUM_DIGITS)
    return _js_to_fixed(x, decimals)


def format_logs(logs):
    """`key=value` for each log key but batch and size, keys sorted (TF.js's order).

    >>> from lamina.engine.progress import format_logs
    >>> format_logs({"batch": 3, "size": 32, "loss": 2.5, "acc": 0.25})
    'acc=0.250 loss=2.50'
    """
    return " ".join(f"{key}={format_number(logs[key])}" for key in sorted(logs)
                    if key not in ("batch", "size"))


def format_duration(seconds):
    """A time scaled to s, ms or us as Keras's progress bar does, with two significant
    digits below 10 so that short times do not show as 0.

    >>> from lamina.engine.progress import format_duration
    >>> [format_duration(s) for s in (12.3, 1.25, 0.041, 0.00085, 4.2e-7, 0.0)]
    ['12s', '1.2s', '41ms', '850us', '0.42us', '0us']
    """
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            break
    value = seconds / scale
    return f"{value:.0f}{unit}" if value >= 10 else f"{value:.2g}{unit}"


def _is_terminal(stream):
    """Whether a bar can be drawn on stream: it is a terminal."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _bar_columns(stream):
    """The width to give tqdm: 80 for a terminal that reports zero columns (some
    pseudo-terminals and CI runners do, and tqdm would then draw nothing), else None
    (tqdm reads the width itself)."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
        return None  # a size that cannot be read: tqdm uses its default width
    return 80 if columns == 0 else None


class _EpochBar(tqdm):
    monitor_interval = 0  # no background monitor thread: the bar lives one epoch


class ProgressLogger(Callback):
    """Prints training progress; configure_callbacks adds it for fit's verbose 1 and 2.

    verbose: 1 (a bar per epoch on a terminal, else one line per epoch) or 2 (one line
    per epoch). stream: where to print; sys.stdout (looked up when training begins) by
    default.
    """

    def __init__(self, verbose=1, stream=None):
        super().__init__()
        if isinstance(verbose, bool) or verbose not in (1, 2):
            raise ValueError(f"ProgressLogger: verbose must be 1 (progress bar) or 2 (one line "
                             f"per epoch), got {verbose!r}")
        self.verbose = verbose
        self.stream = stream
        self._bar = None

    def _batches_per_epoch(self):
        """ceil(samples / batch_size) for fit, steps for fit_dataset, None if unknown."""
        samples, batch_size = self.params.get("samples"), self.params.get("batch_size")
        if samples is not None and batch_size:
            return math.ceil(samples / batch_size)
        return self.params.get("steps")

    def on_train_begin(self, logs=None):
        self._out = self.stream if self.stream is not None else sys.stdout
        self._use_bar = self.verbose == 1 and _is_terminal(self._out)
        self._columns = _bar_columns(self._out) if self._use_bar else None
        self._batches_expected = self._batches_per_epoch()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._train_seconds = None
        self._batches_done = 0
        self._heading = f"Epoch {epoch + 1} / {self.params.get('epochs')}"
        if self._use_bar:
            self._bar = _EpochBar(total=self._batches_expected, desc=self._heading, file=self._out,
                                  unit="batch", leave=True, ncols=self._columns)

    def on_batch_end(self, batch, logs=None):
        self.on_batches_end(1, logs)

    def on_batches_end(self, count, logs=None):
        """`count` batches ended at once (the fused trainer runs several per call); logs are
        the last one's.

        >>> import io
        >>> logger = ProgressLogger(verbose=2, stream=io.StringIO())
        >>> logger.set_params({"epochs": 1, "samples": 96, "batch_size": 32, "steps": None})
        >>> logger.on_train_begin({}); logger.on_epoch_begin(0, {})
        >>> logger.on_batches_end(3, {"batch": 2, "size": 32, "loss": 0.5})
        >>> logger._batches_done
        3
        """
        self._batches_done += count
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs or {}), refresh=False)
            self._bar.update(count)
        if self._batches_done == self._batches_expected:
            # TF.js times the epoch at its last batch (validation, done inside it, included).
            self._train_seconds = time.perf_counter() - self._epoch_start

    def on_epoch_end(self, epoch, logs=None):
        seconds = self._train_seconds
        if seconds is None:  # stopped early, or the number of batches was unknown
            seconds = time.perf_counter() - self._epoch_start
        summary = f"{format_duration(seconds)} {format_duration(seconds / max(1, self._batches_done))}/step"
        metrics = format_logs(logs or {})
        if metrics:
            summary += " - " + metrics
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            print(summary, file=self._out, flush=True)
        else:
            print(f"{self._heading} - {summary}", file=self._out, flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:  # an epoch that never ended
            self._bar.close()
            self._bar = None
