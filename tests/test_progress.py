"""lamina.engine.progress: TF.js's number display, and what verbose 1/2 print to a terminal
and to a log (captured with streams that say whether they are terminals)."""

import io
import math
import re

import pytest

from lamina import callbacks as cb
from lamina.engine import progress
from lamina.engine.progress import ProgressLogger, format_duration, format_logs, format_number


@pytest.mark.parametrize("x, shown", [
    # getSuccinctNumberDisplay (tfjs-node callbacks.ts): 2 decimals for |x| > 1, 0, non-finite;
    # else 2 - floor(log10|x|) decimals; more than 4 -> toExponential(2).
    (12.3456, "12.35"), (1234567.891, "1234567.89"), (1, "1.00"), (-1, "-1.00"),
    (0.5, "0.500"), (0.1, "0.100"), (0.05, "0.0500"), (0.012345, "0.0123"), (-0.25, "-0.250"),
    (0.005, "5.00e-3"), (0.001, "1.00e-3"), (0.00999, "9.99e-3"), (1.5e-7, "1.50e-7"),
    (-0.0004, "-4.00e-4"),
    (0.009996, "1.00e-2"),  # the mantissa rounds up to 10: JS gives 1.00e-2
    (0.0, "0.00"), (-0.0, "0.00"), (math.nan, "NaN"), (math.inf, "Infinity"), (-math.inf, "-Infinity"),
    # JS toFixed rounds exact ties away from zero (Python's format would give 1.12).
    (1.125, "1.13"), (-1.125, "-1.13"), (1.005, "1.00"),  # 1.005 is 1.00499999... in binary
    (1e21, "1e+21"),  # toFixed gives up on huge numbers
])
def test_format_number_is_tfjs_succinct_display(x, shown):
    assert format_number(x) == shown


def test_format_logs_sorted_without_batch_and_size():
    assert format_logs({"size": 32, "val_loss": 0.5, "loss": 2.0, "batch": 3, "acc": 0.125}) == \
        "acc=0.125 loss=2.00 val_loss=0.500"
    assert format_logs({}) == ""


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


class FakeClock:
    """Stands in for time.perf_counter: advances only when told to."""

    def __init__(self):
        self.now = 100.0

    def perf_counter(self):
        return self.now


def drive(logger, epochs=2, sizes=(32, 32, 6), samples=70, batch_size=32, stop_after_batch=None,
          clock=None, seconds_per_batch=0.0, steps=None):
    """Sends one training run's events to the logger (BaseLogger fills the epoch logs)."""
    params = {"epochs": epochs, "initial_epoch": 0, "samples": samples, "steps": steps,
              "batch_size": batch_size, "verbose": logger.verbose, "do_validation": False,
              "metrics": ["loss", "acc"]}
    callback_list = cb.CallbackList([cb.BaseLogger(), logger])
    callback_list.set_params(params)
    callback_list.on_train_begin({})
    for epoch in range(epochs):
        callback_list.on_epoch_begin(epoch, {})
        for index, size in enumerate(sizes):
            callback_list.on_batch_begin(index, {})
            if clock is not None:
                clock.now += seconds_per_batch
            callback_list.on_batch_end(index, {"batch": index, "size": size, "loss": 0.5 + index, "acc": 0.25})
            if index == stop_after_batch:
                break
        if clock is not None:
            clock.now += 1.0  # time after the last batch (validation, other callbacks) is not counted
        callback_list.on_epoch_end(epoch, {})
    callback_list.on_train_end({})


@pytest.mark.parametrize("seconds, shown", [
    # Keras's scaling (s, ms, us), whole units from 10 up, two significant digits below.
    (125.0, "125s"), (12.3, "12s"), (1.0, "1s"), (1.25, "1.2s"), (0.999, "999ms"), (0.041, "41ms"),
    (0.0015, "1.5ms"), (0.00085, "850us"), (2.5e-6, "2.5us"), (4.2e-7, "0.42us"), (0.0, "0us"),
])
def test_format_duration_scales_the_unit(seconds, shown):
    assert format_duration(seconds) == shown


DURATION = r"\d+(?:\.\d+)?(?:s|ms|us)"
LINE = re.compile(rf"^Epoch (\d) / 2 - {DURATION} {DURATION}/step - acc=0\.250 loss=([\d.]+)$")


@pytest.mark.parametrize("verbose, stream", [(1, io.StringIO()), (2, io.StringIO()), (2, FakeTerminal())])
def test_one_line_per_epoch_when_not_a_bar(verbose, stream):
    drive(ProgressLogger(verbose, stream=stream))
    text = stream.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert len(lines) == 2
    for epoch, line in enumerate(lines, start=1):
        match = LINE.match(line)
        assert match, line
        assert int(match.group(1)) == epoch
        # The epoch loss is BaseLogger's size-weighted mean of 0.5, 1.5, 2.5.
        assert match.group(2) == format_number((32 * 0.5 + 32 * 1.5 + 6 * 2.5) / 70) == "1.13"


def test_timing_is_per_batch_at_the_last_batch(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(progress, "time", clock)
    stream = io.StringIO()
    drive(ProgressLogger(2, stream=stream), epochs=1, clock=clock, seconds_per_batch=0.25)
    # 3 batches x 0.25 s = 750 ms (the 1 s after the last batch is not counted): 250 ms a step.
    assert stream.getvalue() == "Epoch 1 / 1 - 750ms 250ms/step - acc=0.250 loss=1.13\n"


def test_a_tiny_epoch_shows_its_time_not_zero(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(progress, "time", clock)
    stream = io.StringIO()
    # 3 batches of 2 us each: TF.js's format would print "0ms 0us/step".
    drive(ProgressLogger(2, stream=stream), epochs=1, clock=clock, seconds_per_batch=2e-6)
    assert stream.getvalue().startswith("Epoch 1 / 1 - 6us 2us/step - ")


def test_fit_and_fit_dataset_time_the_same_step(monkeypatch):
    # fit knows its samples, fit_dataset often does not: either way a step is one batch.
    lines = []
    for samples, batch_size, steps in ((70, 32, None), (None, None, 3)):
        clock = FakeClock()
        monkeypatch.setattr(progress, "time", clock)
        stream = io.StringIO()
        drive(ProgressLogger(2, stream=stream), epochs=1, clock=clock, seconds_per_batch=0.02,
              samples=samples, batch_size=batch_size, steps=steps)
        lines.append(stream.getvalue())
    assert lines[0] == lines[1] == "Epoch 1 / 1 - 60ms 20ms/step - acc=0.250 loss=1.13\n"


def test_timing_when_stopped_mid_epoch_or_batches_unknown(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(progress, "time", clock)
    stream = io.StringIO()
    # Stopped after the first batch: timed at epoch end (0.25 + 1 s), over the one batch run.
    drive(ProgressLogger(2, stream=stream), epochs=1, clock=clock, seconds_per_batch=0.25, stop_after_batch=0)
    assert stream.getvalue().startswith("Epoch 1 / 1 - 1.2s 1.2s/step - ")
    # Number of batches unknown (fit_dataset without a size): timed at epoch end (3 x 0.25 + 1 s).
    stream = io.StringIO()
    drive(ProgressLogger(2, stream=stream), epochs=1, clock=clock, seconds_per_batch=0.25, samples=None,
          batch_size=None)
    assert stream.getvalue().startswith(f"Epoch 1 / 1 - 1.8s {format_duration(1.75 / 3)}/step - ")


def test_bar_on_a_terminal(monkeypatch):
    stream = FakeTerminal()
    drive(ProgressLogger(1, stream=stream))
    text = stream.getvalue()
    assert "\r" in text  # a bar redrawn in place
    # Each epoch: a bar headed "Epoch k / 2" that reaches 3/3 (ceil(70 / 32) batches) with the last
    # batch's values, then TF.js's summary line with the epoch averages.
    for epoch in (1, 2):
        assert re.search(rf"Epoch {epoch} / 2: 100%.*3/3 .*acc=0\.250 loss=2\.50", text)
    summaries = [line for line in text.replace("\r", "\n").splitlines() if "s/step" in line]
    assert len(summaries) == 2
    assert all(re.fullmatch(rf"{DURATION} {DURATION}/step - acc=0\.250 loss=1\.13", line) for line in summaries)


def test_default_stream_is_stdout_at_train_begin(capsys):
    drive(ProgressLogger(2), epochs=2)
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_verbose_zero_prints_nothing(capsys):
    params = {"epochs": 1, "initial_epoch": 0, "samples": 2, "steps": None, "batch_size": 2, "verbose": 0,
              "do_validation": False, "metrics": ["loss"]}
    callback_list, _ = cb.configure_callbacks(None, None, 0, params)
    callback_list.on_train_begin({})
    callback_list.on_epoch_begin(0, {})
    callback_list.on_batch_end(0, {"batch": 0, "size": 2, "loss": 1.0})
    callback_list.on_epoch_end(0, {})
    callback_list.on_train_end({})
    assert capsys.readouterr().out == ""


def test_configure_callbacks_verbose_one_prints_through_the_logger(capsys):
    params = {"epochs": 1, "initial_epoch": 0, "samples": 2, "steps": None, "batch_size": 2, "verbose": 1,
              "do_validation": False, "metrics": ["loss"]}
    callback_list, _ = cb.configure_callbacks(None, None, 1, params)
    callback_list.on_train_begin({})
    callback_list.on_epoch_begin(0, {})
    callback_list.on_batch_end(0, {"batch": 0, "size": 2, "loss": 1.0})
    callback_list.on_epoch_end(0, {})
    callback_list.on_train_end({})
    # pytest's captured stdout is not a terminal: one line, no bar.
    assert re.fullmatch(rf"Epoch 1 / 1 - {DURATION} {DURATION}/step - loss=1\.00\n", capsys.readouterr().out)


@pytest.mark.parametrize("verbose", [0, 3, True, "1"])
def test_progress_logger_verbose_must_be_one_or_two(verbose):
    with pytest.raises(ValueError, match="verbose must be 1 .* or 2 .*got"):
        ProgressLogger(verbose)


def test_a_terminal_reporting_zero_columns_gets_an_80_column_bar():
    # A fresh pseudo-terminal reports 0x0 (as some CI runners' do): left to itself tqdm draws nothing.
    pty = pytest.importorskip("pty")
    import os

    leader, follower = pty.openpty()
    try:
        with open(follower, "w", closefd=False) as terminal:
            assert terminal.isatty() and os.get_terminal_size(follower).columns == 0
            drive(ProgressLogger(1, stream=terminal))
        os.set_blocking(leader, False)
        chunks = []
        while True:  # a pty hands its output over in pieces
            try:
                chunks.append(os.read(leader, 1 << 16))
            except BlockingIOError:
                break
        text = b"".join(chunks).decode()
    finally:
        os.close(leader)
        os.close(follower)
    drawn = [line for line in text.replace("\r\n", "\n").split("\r") if "Epoch 2 / 2: 100%" in line]
    assert drawn, text
    bar = drawn[-1].split("\n")[0]
    assert len(bar) <= 80 and "3/3" in bar and "\u2588" in bar  # the bar itself, full
    assert re.search(rf"\n{DURATION} {DURATION}/step - acc=0\.250 loss=1\.13", text.replace("\r\n", "\n"))
